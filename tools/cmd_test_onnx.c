/* `vitc test-onnx DIR...`: runs ONNX backend test cases (DIR/model.onnx with
 * DIR/test_data_set_N/{input,output}_K.pb) through the reference interpreter;
 * with --compiled also through the backend (compiled into a temporary
 * directory, loaded with vitrt, run in a child process so that a crash fails
 * only its case), both compared with the same tolerance. --select drops the
 * cases whose ops are outside vitc's op table (reported as UNSUPPORTED);
 * --expect FILE compares every result with FILE (tools/test_onnx_expect.c). */
#include "cli.h"
#include "onnx_optypes.h"
#include "test_onnx.h"
#include <glob.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CASE_MAX_IO 16
/* Tolerance for float outputs: |got - want| <= ATOL + RTOL * |want|. */
#define RTOL 1e-4
#define ATOL 1e-5

/* How cases run. */
typedef struct TestOptions {
  int compiled;        /* also compile and run through the backend */
  int opt_level;       /* for the backend */
  const char *tmpdir;  /* where compiled models go */
  int select;          /* drop the cases whose ops vitc lacks (--select) */
  const char *expect;  /* the expectations file (--expect), or NULL */
} TestOptions;

typedef struct DataSet {
  Tensor in[CASE_MAX_IO], out[CASE_MAX_IO];
  char *in_names[CASE_MAX_IO];
  int n_in, n_out;
} DataSet;

static void dataset_free(DataSet *s) {
  for (int i = 0; i < CASE_MAX_IO; i++) {
    free(s->in[i].data);
    free(s->out[i].data);
    free(s->in_names[i]);
  }
  memset(s, 0, sizeof *s);
}

/* Reads DIR/{prefix}_K.pb for K = 0.. until one is missing. 0, -1 error, -2 unsupported dtype. */
static int read_pb_list(const char *dir, const char *prefix, Tensor *t, char **names, int *n, Diag *d) {
  for (*n = 0; *n < CASE_MAX_IO; (*n)++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s_%d.pb", dir, prefix, *n);
    if (access(path, F_OK) != 0) return 0;
    char *name = NULL;
    int rc = onnx_read_tensor_file(path, &t[*n], &name, d);
    if (names) names[*n] = name;
    else free(name);
    if (rc) return rc;
  }
  return 0;
}

/* Turns inputs into constants holding the test's data: the non-float ones
 * (vitc compiles for static shapes, and integer inputs of node tests are
 * shape-like), or all of them when `all` (for float operands such as Range's
 * that shapes depend on). */
static int bind_inputs(Graph *g, const DataSet *s, int all, Diag *d) {
  int kept = 0;
  for (int i = 0; i < g->n_inputs; i++) {
    Value *v = g->inputs[i];
    if (v->t.dtype == DT_F32 && !all) {
      g->inputs[kept++] = v;
      continue;
    }
    size_t bytes = tensor_bytes(&s->in[i]);
    void *data = arena_alloc(&g->arena, bytes);
    if (!data) return ir_error(d, g->file, NULL, "out of memory");
    memcpy(data, s->in[i].data, bytes);
    v->kind = VK_CONST;
    v->t = s->in[i];
    v->t.data = data;
  }
  g->n_inputs = kept;
  return 0;
}

/* Compares one output; 0 when it matches, else fills why. */
static int compare(const Tensor *got, const Tensor *want, char *why, size_t n) {
  char a[128], b[128];
  if (!tensor_same_type(got, want)) {
    snprintf(why, n, "output is %s, expected %s", tensor_type_str(got, a, sizeof a), tensor_type_str(want, b, sizeof b));
    return -1;
  }
  int64_t count = tensor_numel(got);
  for (int64_t i = 0; i < count; i++) {
    if (got->dtype == DT_F32) {
      double x = ((float *)got->data)[i], y = ((float *)want->data)[i];
      if (isnan(y) ? !isnan(x) : !(fabs(x - y) <= ATOL + RTOL * fabs(y)) && x != y) {
        snprintf(why, n, "element %lld is %.9g, expected %.9g", (long long)i, x, y);
        return -1;
      }
    } else if (tensor_get_i64(got, i) != tensor_get_i64(want, i)) {
      snprintf(why, n, "element %lld is %lld, expected %lld", (long long)i, (long long)tensor_get_i64(got, i),
               (long long)tensor_get_i64(want, i));
      return -1;
    }
  }
  return 0;
}

/* Imports the model pinned to the data set's input shapes and binds inputs
 * as constants (see bind_inputs); NULL with d filled on error. */
static Graph *load_case(const char *model, const DataSet *s, int bind_all, Diag *d) {
  InputShape shapes[CASE_MAX_IO];
  int ns = 0;
  for (int i = 0; i < s->n_in; i++) {
    if (!s->in_names[i] || !*s->in_names[i]) continue;
    shapes[ns].name = s->in_names[i];
    shapes[ns].rank = s->in[i].rank;
    memcpy(shapes[ns].dims, s->in[i].dims, sizeof shapes[ns].dims);
    ns++;
  }
  ImportOptions io = {.shapes = shapes, .n_shapes = ns};
  Graph *g = onnx_import(model, &io, d);
  int rc = g ? 0 : -1;
  if (!rc && (g->n_inputs != s->n_in || g->n_outputs != s->n_out))
    rc = ir_error(d, model, NULL, "model has %d inputs and %d outputs, test data %d and %d", g->n_inputs,
                  g->n_outputs, s->n_in, s->n_out);
  if (!rc) rc = bind_inputs(g, s, bind_all, d);
  if (!rc) rc = ir_infer_shapes(g, d);
  if (!rc) rc = ir_verify(g, d);
  if (rc) {
    ir_graph_free(g);
    return NULL;
  }
  return g;
}

/* Compares the n_out outputs in got with s's expected ones; prefix starts the reason. */
static CaseResult compare_all(const Tensor *got, const DataSet *s, const char *prefix, char *why, size_t n) {
  char detail[1024];
  for (int i = 0; i < s->n_out; i++)
    if (compare(&got[i], &s->out[i], detail, sizeof detail)) {
      snprintf(why, n, "%s%s", prefix, detail);
      return CASE_FAIL;
    }
  return CASE_PASS;
}

/* The compiled run in the child: compile, load, run, compare; never returns. */
static void compiled_child(const Graph *g, const Tensor *in, const DataSet *s, const TestOptions *t, int fd) {
  char why[2048] = "";
  Tensor out[CASE_MAX_IO] = {0};
  Diag d = {0};
  CaseResult r = CASE_FAIL;
  if (g->n_outputs > CASE_MAX_IO) snprintf(why, sizeof why, "compiled: too many outputs");
  else if (cli_run_compiled(g, t->tmpdir, t->opt_level, in, out, &d)) snprintf(why, sizeof why, "compiled: %s", d.msg);
  else r = compare_all(out, s, "compiled: ", why, sizeof why);
  if (write(fd, why, strlen(why)) < 0) r = CASE_FAIL;
  _exit((int)r);
}

/* Runs g through the backend in a child process and compares with s's outputs. */
static CaseResult run_compiled(const Graph *g, const Tensor *in, const DataSet *s, const TestOptions *t, char *why,
                               size_t n) {
  int fds[2];
  fflush(stdout);
  pid_t pid = pipe(fds) == 0 ? fork() : -1;
  if (pid == 0) {
    close(fds[0]);
    compiled_child(g, in, s, t, fds[1]);
  }
  if (pid < 0) return snprintf(why, n, "compiled: cannot start a child process"), CASE_FAIL;
  close(fds[1]);
  size_t len = 0;
  ssize_t got;
  while (len + 1 < n && (got = read(fds[0], why + len, n - 1 - len)) > 0) len += (size_t)got;
  why[len] = 0;
  close(fds[0]);
  int st = 0;
  if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st)) {
    snprintf(why, n, "compiled: the model crashed (signal %d)", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return CASE_FAIL;
  }
  return WEXITSTATUS(st) == CASE_PASS ? CASE_PASS : CASE_FAIL;
}

/* Loads the case (binding only non-float inputs, or if shapes need it, all),
 * runs it through the interpreter (and the backend) and compares. */
static CaseResult run_dataset(const char *model, const DataSet *s, const TestOptions *t, char *why, size_t n) {
  Diag d = {0}, retry = {0};
  int bind_all = 0;
  Graph *g = load_case(model, s, 0, &d);
  if (!g && !d.unsupported_dtype) g = load_case(model, s, bind_all = 1, &retry);
  if (!g) {
    snprintf(why, n, "%s%s%s", d.msg, retry.has_error ? "; with every input bound: " : "", retry.msg);
    return d.unsupported_dtype ? CASE_SKIP : CASE_FAIL;
  }
  Tensor out[CASE_MAX_IO] = {0}, in[CASE_MAX_IO];
  int k = 0; /* the inputs left unbound are the float ones, in order */
  for (int i = 0; i < s->n_in && !bind_all; i++)
    if (s->in[i].dtype == DT_F32) in[k++] = s->in[i];
  CaseResult r = CASE_PASS;
  if (ir_interpret(g, in, out, &d)) {
    snprintf(why, n, "%s", d.msg);
    r = CASE_FAIL;
  }
  if (r == CASE_PASS) r = compare_all(out, s, "", why, n);
  if (r == CASE_PASS && t->compiled) r = run_compiled(g, in, s, t, why, n);
  for (int i = 0; i < g->n_outputs && i < CASE_MAX_IO; i++) free(out[i].data);
  ir_graph_free(g);
  return r;
}

/* Runs every data set of one case directory (need: what its model asks for). */
static CaseResult run_case(const char *dir, const OnnxModelNeeds *need, const TestOptions *t, char *why, size_t n) {
  char model[4096], pattern[4096];
  if (need->not_tensor[0]) {
    snprintf(why, n, "%s (vitc computes tensors only)", need->not_tensor);
    return CASE_SKIP;
  }
  snprintf(model, sizeof model, "%s/model.onnx", dir);
  snprintf(pattern, sizeof pattern, "%s/test_data_set_*", dir);
  glob_t gl;
  if (glob(pattern, 0, NULL, &gl) != 0) {
    snprintf(why, n, "no test_data_set_* folders");
    return CASE_FAIL;
  }
  CaseResult r = CASE_PASS;
  for (size_t i = 0; i < gl.gl_pathc && r == CASE_PASS; i++) {
    DataSet s = {0};
    Diag d = {0};
    int rc = read_pb_list(gl.gl_pathv[i], "input", s.in, s.in_names, &s.n_in, &d);
    if (rc == 0) rc = read_pb_list(gl.gl_pathv[i], "output", s.out, NULL, &s.n_out, &d);
    if (rc) {
      snprintf(why, n, "%s", d.msg);
      r = rc == -2 ? CASE_SKIP : CASE_FAIL;
    } else {
      r = run_dataset(model, &s, t, why, n);
    }
    dataset_free(&s);
  }
  globfree(&gl);
  return r;
}

static int op_known(const char *op_type) { return ir_op_from_onnx(op_type) >= 0; }

/* Whether dir is an `_expanded` case whose non-expanded case has every op in vitc's op table. */
static int expands_known_op(const char *dir) {
  char base[4096], model[4200];
  snprintf(base, sizeof base, "%s", dir);
  size_t len = strlen(base), sl = strlen("_expanded");
  while (len > 1 && base[len - 1] == '/') base[--len] = 0;
  if (len <= sl || strcmp(base + len - sl, "_expanded") != 0) return 0;
  base[len - sl] = 0;
  snprintf(model, sizeof model, "%s/model.onnx", base);
  Diag d = {0};
  return access(model, F_OK) == 0 && onnx_all_ops_known(model, op_known, &d) == 1;
}

/* Reads what dir's model asks for into *need (nothing when it cannot be read:
 * running the case reports that). With --select, a case whose model has an op
 * outside vitc's op table is dropped, with "missing op(s) ..." in why, unless
 * it is the `_expanded` form of a case whose ops vitc has (so a supported op's
 * expansion is tested even where it needs ops vitc lacks). */
static int dropped(const char *dir, const TestOptions *t, OnnxModelNeeds *need, char *why, size_t n) {
  char model[4200];
  snprintf(model, sizeof model, "%s/model.onnx", dir);
  Diag d = {0};
  if (onnx_model_needs(model, op_known, need, &d)) memset(need, 0, sizeof *need);
  if (!t->select || need->n_unknown == 0 || expands_known_op(dir)) return 0;
  snprintf(why, n, "missing op%s %s", need->n_unknown > 1 ? "s" : "", need->unknown_ops);
  return 1;
}

/* Whether option a takes no value. */
static int is_flag(const char *a) { return strcmp(a, "--select") == 0 || strcmp(a, "--compiled") == 0; }

/* Parses the options (the case directories are the other arguments); 0 or an exit status. */
static int test_onnx_args(int argc, char **argv, TestOptions *t) {
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    int has_val = i + 1 < argc;
    if (strcmp(a, "--select") == 0) {
      t->select = 1;
    } else if (strcmp(a, "--compiled") == 0) {
      t->compiled = 1;
    } else if (strcmp(a, "--expect") == 0 && has_val) {
      t->expect = argv[++i];
    } else if (strcmp(a, "--opt-level") == 0 && has_val) {
      const char *v = argv[++i];
      if (v[0] < '0' || v[0] > '3' || v[1])
        return fprintf(stderr, "vitc: error: test-onnx: --opt-level takes 0..3\n"), 2;
      t->opt_level = v[0] - '0';
    } else if (a[0] == '-') {
      return fprintf(stderr, "vitc: error: test-onnx: unexpected argument '%s'\n", a), 2;
    }
  }
  return 0;
}

/* Lines to print after the cases (the differences from the expectations file). */
typedef struct Report {
  char *text;
  size_t len, cap;
  int lines;
} Report;

/* Appends "  NAME: WHY\n" to r (dropped when out of memory: the count still fails the run). */
static void report_add(Report *r, const char *name, const char *why) {
  size_t need = strlen(name) + strlen(why) + 6;
  r->lines++;
  if (r->len + need > r->cap) {
    size_t cap = (r->cap + need) * 2;
    char *p = realloc(r->text, cap);
    if (!p) return;
    r->text = p;
    r->cap = cap;
  }
  r->len += (size_t)snprintf(r->text + r->len, r->cap - r->len, "  %s: %s\n", name, why);
}

/* The listed cases that were not given. */
static void report_not_given(Report *r, const Expectations *x) {
  char why[1200];
  for (int from = 0, i; (i = expect_next_not_given(x, &from)) >= 0;) {
    snprintf(why, sizeof why, "listed in %s (line %d) but not among the cases given", x->path, x->e[i].line);
    report_add(r, x->e[i].name, why);
  }
}

/* Prints the summary; the exit status: the differences from the expectations
 * file with --expect, else any failure. */
static int test_onnx_summary(const int *counts, const TestOptions *t, const Report *r) {
  printf("%d passed, %d failed, %d skipped", counts[CASE_PASS], counts[CASE_FAIL], counts[CASE_SKIP]);
  if (t->select) printf(", %d unsupported", counts[CASE_UNSUPPORTED]);
  printf("\n");
  const char *run = t->compiled ? "compiled" : "interpreted";
  if (counts[CASE_PASS] + counts[CASE_FAIL] + counts[CASE_SKIP] == 0)
    return fprintf(stderr, "vitc: error: test-onnx: no test cases ran\n"), 1;
  if (t->expect && r->lines) {
    printf("%d difference%s from %s (%s run):\n%s", r->lines, r->lines > 1 ? "s" : "", t->expect, run,
           r->text ? r->text : "");
    fflush(stdout);
    fprintf(stderr, "vitc: error: test-onnx: %d case%s differ%s from %s (%s run)\n", r->lines,
            r->lines > 1 ? "s" : "", r->lines > 1 ? "" : "s", t->expect, run);
    return 1;
  }
  if (t->expect) return printf("every case as %s expects (%s run)\n", t->expect, run), 0;
  int ran = counts[CASE_PASS] + counts[CASE_FAIL];
  if (counts[CASE_FAIL])
    return fprintf(stderr, "vitc: error: test-onnx: %d of %d cases failed\n", counts[CASE_FAIL], ran), 1;
  return 0;
}

int cmd_test_onnx(int argc, char **argv) {
  int counts[CASE_RESULTS] = {0};
  TestOptions t = {.opt_level = 2};
  char tmpdir[] = "/tmp/vitc_test_onnx.XXXXXX";
  int rc = test_onnx_args(argc, argv, &t);
  if (rc) return rc;
  Expectations x = {0};
  Diag d = {0};
  if (t.expect && expect_load(t.expect, &x, &d)) return cli_fail(&d);
  if (t.compiled && !(t.tmpdir = mkdtemp(tmpdir))) {
    expect_free(&x);
    return fprintf(stderr, "vitc: error: test-onnx: cannot create a temporary directory\n"), 1;
  }
  Report report = {0};
  int mode = t.compiled ? EXPECT_COMPILED : EXPECT_INTERPRETED;
  for (int i = 0; i < argc; i++) {
    if (argv[i][0] == '-') {
      i += !is_flag(argv[i]);
      continue;
    }
    char why[2200] = "", copy[4096], differs[3000];
    OnnxModelNeeds need;
    snprintf(copy, sizeof copy, "%s", argv[i]);
    const char *name = basename(copy);
    CaseResult r = dropped(argv[i], &t, &need, why, sizeof why) ? CASE_UNSUPPORTED
                                                                 : run_case(argv[i], &need, &t, why, sizeof why);
    counts[r]++;
    printf("%s %s%s%s\n", case_result_name(r), name, *why && r != CASE_PASS ? ": " : "", r == CASE_PASS ? "" : why);
    if (t.expect && expect_check(&x, name, mode, r, why, differs, sizeof differs)) report_add(&report, name, differs);
  }
  if (t.tmpdir) cli_remove_dir(t.tmpdir);
  if (t.expect) report_not_given(&report, &x);
  rc = test_onnx_summary(counts, &t, &report);
  free(report.text);
  expect_free(&x);
  return rc;
}
