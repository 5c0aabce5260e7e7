/* Differential test of the backend against the reference interpreter, op by
 * op (ggml's test-backend-ops idea): for every op of ir/ops.def, its seeded
 * random cases and its zero-size cases (backend_ops_cases.c) are compiled with
 * cg_compile, run through the loader and compared with ir_interpret under the
 * op family's tolerance. Every node computes at run time: values shape
 * inference worked out are dropped first, so the plan skips nothing. An op
 * without cases fails with "no differential case for op X", one without
 * zero-size cases with "no zero-size case for op X", unless a skip list below
 * names it. A zero-size case states its output types, which inference must
 * give; its empty inputs and outputs are handed to the compiled code as a
 * pointer into an inaccessible page, so touching one crashes the case.
 *
 *   test_backend_ops [-v] [--random | --zero] [--target-cpu CPU] [OP...]
 *     -v: print the IR of a failing case; --random: only the seeded random
 *     cases; --zero: only the zero-size cases (ctest runs the two as
 *     backend_ops and backend_ops_zero); --target-cpu: compile for that CPU
 *     (as vitc compile's option) instead of this one, so a wider CPU also
 *     tests the narrower kernels (another tile and K block); "skipped: CPU
 *     lacks ..." where the runtime refuses that CPU's code here
 *
 * Prints `PASS op (N cases, Z zero-size)` or `FAIL op case K: why` (`zero-size
 * case K`) per op, then `N passed, M failed`; exits 1 when an op failed. Each op
 * runs in a child process, so a crash in generated code fails that op only. */
#include "backend_ops.h"
#include "cg.h"
#include "vitrt.h"
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_IO 16

/* Ops that have no differential case, each with the reason; NULL-terminated.
 * Empty today: every op in ops.def has cases. */
static const char *const skip_list[][2] = {
  /* {"op_name", "why it cannot be tested this way"}, */
  {NULL, NULL},
};

/* Ops that have no zero-size case, each with the reason; NULL-terminated.
 * Empty today: every op in ops.def has them. */
static const char *const zero_skip_list[][2] = {
  /* {"op_name", "why it cannot take a zero-size operand"}, */
  {NULL, NULL},
};

/* Allowed error per family: |got - want| <= atol + rtol * |want|. */
static const struct {
  double atol, rtol;
} tolerance[] = {
  [TOL_EXACT] = {0, 0},
  [TOL_MATH] = {1e-6, 1e-5},
  [TOL_REDUCE] = {1e-5, 1e-5},
  [TOL_LINALG] = {1e-4, 1e-4},
};

static char tmpdir[] = "/tmp/vitc_backend_ops.XXXXXX";

/* An inaccessible page: the data of every empty tensor handed to the compiled code. */
static void *guard;

/* Fills t's data (allocated, at least one byte) with the case's random values. */
static int fill(Tensor *t, Rng *r, const Case *cs) {
  if (!(t->data = malloc(tensor_bytes(t) + 1))) return -1;
  for (int64_t i = 0; i < tensor_numel(t); i++) {
    int64_t v = rng_int(r, cs->int_lo, cs->int_hi);
    while (cs->int_nonzero && v == 0) v = rng_int(r, cs->int_lo, cs->int_hi);
    switch (t->dtype) {
    case DT_F32: ((float *)t->data)[i] = (float)rng_int(r, -128, 128) / 64.0f; break;
    case DT_BOOL: ((uint8_t *)t->data)[i] = (uint8_t)rng_int(r, 0, 1); break;
    case DT_I32: ((int32_t *)t->data)[i] = (int32_t)v; break;
    default: ((int64_t *)t->data)[i] = v; break;
    }
  }
  return 0;
}

/* Parses the case, turns c_ inputs into random constants, infers, verifies
 * (typed: the types the text states against inference), and drops inferred
 * data so that every node runs. NULL with why filled. */
static Graph *load_case(const Case *cs, const char *name, int typed, Rng *r, char *why, size_t n) {
  char *text = NULL;
  Diag d = {0};
  Graph *g = asprintf(&text, "graph \"%s\" opset 18\n%s", name, cs->text) < 0 ? NULL : ir_parse(text, name, &d);
  free(text);
  int kept = 0;
  for (int i = 0; g && i < g->n_inputs; i++) {
    Value *v = g->inputs[i];
    if (strncmp(v->name, "c_", 2) != 0) {
      g->inputs[kept++] = v;
      continue;
    }
    Tensor t = v->t;
    void *data = fill(&t, r, cs) ? NULL : arena_alloc(&g->arena, tensor_bytes(&t) + 1);
    if (data) memcpy(data, t.data, tensor_bytes(&t));
    free(t.data);
    v->kind = VK_CONST;
    v->t.data = data;
  }
  if (g) g->n_inputs = kept;
  if (g && ((!typed && ir_infer_shapes(g, &d)) || ir_verify(g, &d))) ir_graph_free(g), g = NULL;
  for (int i = 0; g && i < g->n_values; i++)
    if (g->values[i]->kind == VK_NODE && g->values[i]->data_inferred) {
      g->values[i]->data_inferred = 0;
      g->values[i]->t.data = NULL;
    }
  if (!g) snprintf(why, n, "%s: %s", typed ? "inference" : "bad case", d.msg);
  return g;
}

/* 0 when got matches want within tol, else why is filled. */
static int compare(const Tensor *got, const Tensor *want, TolFamily tol, int out, char *why, size_t n) {
  for (int64_t i = 0; i < tensor_numel(want); i++) {
    if (want->dtype != DT_F32) {
      if (tensor_get_i64(got, i) == tensor_get_i64(want, i)) continue;
      snprintf(why, n, "output %d element %lld is %lld, expected %lld", out, (long long)i,
               (long long)tensor_get_i64(got, i), (long long)tensor_get_i64(want, i));
      return -1;
    }
    double x = ((const float *)got->data)[i], y = ((const float *)want->data)[i];
    if (x == y || (isnan(x) && isnan(y)) || fabs(x - y) <= tolerance[tol].atol + tolerance[tol].rtol * fabs(y))
      continue;
    snprintf(why, n, "output %d element %lld is %.9g, expected %.9g", out, (long long)i, x, y);
    return -1;
  }
  return 0;
}

/* --target-cpu: the CPU the cases are compiled for (NULL: this one). */
static const char *target_cpu;

/* Compiles g for target_cpu to the library so and opens it; NULL with err filled ("compile: ..." when the
 * compiler failed). */
static VitrtModel *compile_open(const Graph *g, const char *so, char *err, size_t n) {
  CompileOptions o = {.output = so, .opt_level = 2, .emit = CG_EMIT_SO, .runtime_lib = VITC_RT_LIB, .target_cpu = target_cpu};
  Diag d = {0};
  if (cg_compile(g, &o, &d)) return snprintf(err, n, "compile: %s", d.msg), NULL;
  return vitrt_open(so, err, n);
}

/* Compiles g to DIR/name.so and runs it with 3 threads on in; compares every output with want. */
static int run_compiled(const Graph *g, const char *name, Tensor *in, const Tensor *want, TolFamily tol, char *why,
                        size_t n) {
  char so[512], hdr[512], err[1100]; /* room for "compile: " and a Diag message */
  snprintf(so, sizeof so, "%s/%s.so", tmpdir, name);
  snprintf(hdr, sizeof hdr, "%s/%s.h", tmpdir, name);
  VitrtModel *m = compile_open(g, so, err, sizeof err);
  if (!m && strncmp(err, "compile: ", 9) == 0) return snprintf(why, n, "%s", err), -1;
  VitrtSession *s = m ? vitrt_session_create(m, 3, NULL) : NULL;
  VitrtTensor vin[MAX_IO], vout[MAX_IO];
  Tensor got[MAX_IO] = {{0}};
  int rc = s ? 0 : (snprintf(why, n, "load: %s", m ? "no session" : err), -1);
  for (int i = 0; !rc && i < g->n_inputs; i++)
    vin[i] = (VitrtTensor){dt_to_onnx(in[i].dtype), in[i].rank, in[i].dims, in[i].data};
  for (int j = 0; !rc && j < g->n_outputs; j++) {
    got[j] = want[j];
    got[j].data = tensor_bytes(&got[j]) ? calloc(1, tensor_bytes(&got[j])) : guard;
    if (!got[j].data) rc = -1;
    else vout[j] = (VitrtTensor){dt_to_onnx(got[j].dtype), got[j].rank, got[j].dims, got[j].data};
  }
  if (!rc && vitrt_run_checked(s, g->n_inputs, vin, g->n_outputs, vout, err, sizeof err))
    rc = (snprintf(why, n, "run: %s", err), -1);
  for (int j = 0; !rc && j < g->n_outputs; j++) rc = compare(&got[j], &want[j], tol, j, why, n);
  for (int j = 0; j < MAX_IO; j++)
    if (got[j].data != guard) free(got[j].data);
  vitrt_session_destroy(s);
  vitrt_close(m);
  unlink(so), unlink(hdr);
  return rc;
}

/* Builds, interprets and compiles case k of oc (zero: of its zero-size cases);
 * 0 when the outputs agree. */
static int run_case(const OpCases *oc, int k, int zero, int verbose, char *why, size_t n) {
  Case cs = {.int_lo = -9, .int_hi = 9, .int_nonzero = 1};
  uint64_t seed = 1469598103934665603ull;
  for (const char *p = oc->op; *p; p++) seed = (seed ^ (unsigned char)*p) * 1099511628211ull;
  Rng r = {seed ^ (uint64_t)k};
  char name[96];
  snprintf(name, sizeof name, "%s_%s%d", oc->op, zero ? "zero_" : "", k);
  oc->gen(&cs, &r, k);
  Graph *g = load_case(&cs, name, zero, &r, why, n);
  if (!g) return -1;
  Tensor in[MAX_IO] = {{0}}, want[MAX_IO] = {{0}};
  Diag d = {0};
  int rc = g->n_inputs > MAX_IO || g->n_outputs > MAX_IO ? (snprintf(why, n, "too many inputs or outputs"), -1) : 0;
  for (int i = 0; !rc && i < g->n_inputs; i++) {
    in[i] = g->inputs[i]->t, rc = fill(&in[i], &r, &cs);
    if (!rc && !tensor_bytes(&in[i])) free(in[i].data), in[i].data = guard;
  }
  if (!rc && ir_interpret(g, in, want, &d)) rc = (snprintf(why, n, "interpreter: %s", d.msg), -1);
  for (int j = 0; !rc && j < g->n_outputs; j++)
    if (!tensor_same_type(&want[j], &g->outputs[j]->t)) {
      char a[128], b[128];
      rc = (snprintf(why, n, "interpreter output %d is %s, inference gives %s", j, tensor_type_str(&want[j], a, 128),
                     tensor_type_str(&g->outputs[j]->t, b, 128)), -1);
    }
  if (!rc) rc = run_compiled(g, name, in, want, oc->tol, why, n);
  if (rc && verbose) printf("---- %s:\n%s----\n", name, cs.text);
  for (int i = 0; i < MAX_IO; i++) {
    if (in[i].data != guard) free(in[i].data);
    free(want[i].data);
  }
  ir_graph_free(g);
  return rc;
}

/* The row of op in table (n rows), or NULL. */
static const OpCases *find_cases(const OpCases *table, int n, const char *op) {
  for (int i = 0; i < n; i++)
    if (strcmp(table[i].op, op) == 0) return &table[i];
  return NULL;
}

/* The reason list names op for, or NULL. */
static const char *skipped(const char *const list[][2], const char *op) {
  for (int s = 0; list[s][0]; s++)
    if (strcmp(list[s][0], op) == 0) return list[s][1];
  return NULL;
}

/* Runs the cases of op in a child process (random, zero: which kinds);
 * prints its line; 0 when all pass, 1 when one fails, -1 when the op is
 * skipped. */
static int run_op(const char *op, int random, int zero, int verbose) {
  const char *skip = random ? skipped(skip_list, op) : NULL, *zero_skip = zero ? skipped(zero_skip_list, op) : NULL;
  random = random && !skip, zero = zero && !zero_skip;
  const char *why = zero_skip ? zero_skip : skip ? skip : "";
  if (!random && !zero) return printf("SKIP %s: %s\n", op, why), -1;
  const OpCases *oc = random ? find_cases(backend_op_cases, backend_n_op_cases, op) : NULL;
  const OpCases *zc = zero ? find_cases(backend_zero_cases, backend_n_zero_cases, op) : NULL;
  if (random && !oc) return printf("FAIL %s: no differential case for op %s\n", op, op), 1;
  if (zero && !zc) return printf("FAIL %s: no zero-size case for op %s\n", op, op), 1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    char why[1400] = "";
    for (int k = 0; oc && k < oc->n_cases; k++)
      if (run_case(oc, k, 0, verbose, why, sizeof why))
        printf("FAIL %s case %d: %s\n", op, k, why), fflush(stdout), _exit(1);
    for (int k = 0; zc && k < zc->n_cases; k++)
      if (run_case(zc, k, 1, verbose, why, sizeof why))
        printf("FAIL %s zero-size case %d: %s\n", op, k, why), fflush(stdout), _exit(1);
    if (oc && zc) printf("PASS %s (%d cases, %d zero-size)\n", op, oc->n_cases, zc->n_cases);
    else printf("PASS %s (%d %s)\n", op, oc ? oc->n_cases : zc->n_cases, oc ? "cases" : "zero-size cases");
    fflush(stdout);
    _exit(0);
  }
  int st = 0;
  if (pid < 0 || waitpid(pid, &st, 0) < 0) return printf("FAIL %s: cannot fork\n", op), 1;
  if (WIFSIGNALED(st)) return printf("FAIL %s: crashed with signal %d\n", op, WTERMSIG(st)), 1;
  return WEXITSTATUS(st) != 0;
}

/* Removes tmpdir and what a crashed case left in it. */
static void remove_tmpdir(void) {
  DIR *dir = opendir(tmpdir);
  struct dirent *e;
  char path[512];
  while (dir && (e = readdir(dir)))
    if (e->d_name[0] != '.' && snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name) > 0) unlink(path);
  if (dir) closedir(dir);
  rmdir(tmpdir);
}

/* Whether this CPU runs what target_cpu's code needs, by the runtime's own check on a one-node model
 * compiled for it; 0 with why filled when it does not (or it cannot be compiled: -1). */
static int target_runs_here(char *why, size_t n) {
  char so[512];
  Diag d = {0};
  snprintf(so, sizeof so, "%s/probe.so", tmpdir);
  Graph *g = ir_parse("graph \"probe\" opset 18\ninput %x: f32[4]\n%y: f32[4] = relu(%x) @\"t\"\noutput %y\n", "probe", &d);
  VitrtModel *m = g ? compile_open(g, so, why, n) : NULL;
  int rc = !g ? (snprintf(why, n, "probe: %s", d.msg), -1) : !m ? -1 : vitrt_cpu_check(m, why, n) == VITC_OK;
  vitrt_close(m);
  ir_graph_free(g);
  unlink(so);
  snprintf(so, sizeof so, "%s/probe.h", tmpdir);
  unlink(so);
  return rc;
}

int main(int argc, char **argv) {
  int verbose = 0, random = 1, zero = 1, failed = 0, passed = 0, first = 1;
  for (; first < argc && argv[first][0] == '-'; first++) {
    if (strcmp(argv[first], "-v") == 0) verbose = 1;
    else if (strcmp(argv[first], "--random") == 0) zero = 0;
    else if (strcmp(argv[first], "--zero") == 0) random = 0;
    else if (strcmp(argv[first], "--target-cpu") == 0 && first + 1 < argc) target_cpu = argv[++first];
    else return fprintf(stderr, "usage: test_backend_ops [-v] [--random | --zero] [--target-cpu CPU] [OP...]\n"), 2;
  }

  if (!random && !zero) return fprintf(stderr, "test_backend_ops: --random and --zero exclude each other\n"), 2;
  if (!mkdtemp(tmpdir)) return fprintf(stderr, "test_backend_ops: cannot create %s\n", tmpdir), 1;
  guard = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (guard == MAP_FAILED) return fprintf(stderr, "test_backend_ops: cannot map a guard page\n"), 1;
  char why[1100];
  int runs = target_cpu ? target_runs_here(why, sizeof why) : 1;
  if (runs <= 0) {
    printf(runs < 0 ? "FAIL --target-cpu %s: %s\n" : "skipped: CPU lacks what --target-cpu %s needs: %s\n", target_cpu, why);
    remove_tmpdir();
    return runs < 0;
  }
  for (int op = 0; op < OP_COUNT; op++) {
    int wanted = argc == first;
    for (int i = first; i < argc; i++) wanted |= strcmp(argv[i], ir_ops[op].name) == 0;
    if (!wanted) continue;
    int rc = run_op(ir_ops[op].name, random, zero, verbose);
    failed += rc > 0;
    passed += rc == 0;
  }
  /* Cases for an op the table no longer has are stale. */
  for (int i = 0; random && i < backend_n_op_cases; i++)
    if (ir_op_from_name(backend_op_cases[i].op) < 0)
      printf("FAIL %s: cases for an unknown op\n", backend_op_cases[i].op), failed++;
  for (int i = 0; zero && i < backend_n_zero_cases; i++)
    if (ir_op_from_name(backend_zero_cases[i].op) < 0)
      printf("FAIL %s: zero-size cases for an unknown op\n", backend_zero_cases[i].op), failed++;
  printf("%d passed, %d failed\n", passed, failed);
  remove_tmpdir();
  return failed != 0;
}
