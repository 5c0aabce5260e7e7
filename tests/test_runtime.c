/* Runtime, loader and backend tests: the thread pool covers [0, n) exactly
 * once; the loader refuses other ABI versions and non-models and checks
 * buffers; a compiled graph matches the reference interpreter bit for bit,
 * its header compiles, a failed compile leaves no files behind, and two
 * sessions of one model run at once on two threads give the interpreter's
 * results. Helper models are C files compiled at test time with `cc`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cg.h"
#include "rt.h"
#include "vitrt.h"
#include <dirent.h>
#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEST_TMPDIR "/tmp/vitc_test_runtime.XXXXXX"
#include "test_shell.h"

/* Writes text to tmpdir/name; returns the full path in buf. */
static const char *write_file(const char *name, const char *text, char *buf, size_t n) {
  snprintf(buf, n, "%s/%s", tmpdir, name);
  FILE *f = fopen(buf, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return buf;
}

/* ---- thread pool ---- */

typedef struct Marks {
  _Atomic int *count;
  int64_t n;
  VitcRunCtx *nested; /* when set, each slice runs a nested parallel_for */
} Marks;

/* Counts every index of the slice once. */
static void mark(void *arg, int64_t begin, int64_t end) {
  Marks *m = arg;
  assert_true(begin >= 0 && begin < end && end <= m->n);
  for (int64_t i = begin; i < end; i++) atomic_fetch_add(&m->count[i], 1);
}

/* Runs an inner loop over the slice from inside a task (it must run inline). */
static void mark_nested(void *arg, int64_t begin, int64_t end) {
  Marks *m = arg;
  Marks inner = {m->count + begin, end - begin, NULL};
  rt_parallel_for(m->nested, end - begin, mark, &inner);
}

static void test_pool_covers_once(void **state) {
  (void)state;
  static const int threads[] = {1, 2, 3, 4, 8};
  static const int64_t sizes[] = {0, 1, 2, 3, 5, 16, 17, 31, 100, 1000, 4099};
  _Atomic int *count = calloc(4099, sizeof *count);
  assert_non_null(count);
  for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
    VitcRunCtx ctx = {.pool = rt_pool_create(threads[t])};
    assert_non_null(ctx.pool);
    assert_int_equal(rt_pool_threads(ctx.pool), threads[t]);
    for (int rep = 0; rep < 20; rep++) {
      for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int64_t n = sizes[s];
        for (int64_t i = 0; i < n; i++) atomic_store(&count[i], 0);
        Marks m = {count, n, rep % 2 ? &ctx : NULL};
        rt_parallel_for(&ctx, n, rep % 2 ? mark_nested : mark, &m);
        for (int64_t i = 0; i < n; i++) assert_int_equal(atomic_load(&count[i]), 1);
      }
    }
    rt_pool_destroy(ctx.pool);
  }
  free(count);
}

static void test_pool_without_ctx_runs_inline(void **state) {
  (void)state;
  _Atomic int count[10] = {0};
  Marks m = {count, 10, NULL};
  rt_parallel_for(NULL, 10, mark, &m);
  for (int i = 0; i < 10; i++) assert_int_equal(atomic_load(&count[i]), 1);
  rt_pool_destroy(NULL);
}

/* ---- loader ---- */

/* A model as loaders see it: the entry-point descriptor (ABI 3 and later; ABI 3 is refused) or, with -DOLD, only the
 * vitc_model_info of ABI 1 and 2. */
static const char fake_model_c[] =
  "#include \"vitc_abi.h\"\n"
  "static const VitcModelInfo info = {ABI, 0, 0, 0, 0, 0, 0, 0, 0, \"fake\", \"x86-64\", \"\", 0, 0};\n"
  "static const VitcModelInfo *mi(void) { return &info; }\n"
  "#ifdef OLD\n"
  "const VitcModelInfo *vitc_model_info(void) { return &info; }\n"
  "#else\n"
  "static VitcSession *create(int n, int *s) { (void)n; if (s) *s = VITC_ERR_NOMEM; return 0; }\n"
  "static int run(VitcSession *s, const void *const *i, void *const *o) { (void)s; (void)i; (void)o; return 0; }\n"
  "static void destroy(VitcSession *s) { (void)s; }\n"
  "static int cpu(char *m, size_t n) { (void)m; (void)n; return VITC_OK; }\n"
  "const VitcEntryPoints vitc_entry_points = {ABI, \"fake\", mi, create, 0, run, 0, destroy, 0, 0, cpu, 0, 0};\n"
  "#endif\n";

/* A model as the backend would generate it, written in C: y = 2 * x over f32[4,5]. */
static const char twice_model_c[] =
  "#include \"rt.h\"\n"
  "static const VitcTensorInfo ins[1] = {{\"x\", VITC_DTYPE_F32, 2, {4, 5}}};\n"
  "static const VitcTensorInfo outs[1] = {{\"y\", VITC_DTYPE_F32, 2, {4, 5}}};\n"
  "static const VitcMetadata meta[2] = {{\"vitc.image_size\", \"4\"}, {\"note\", \"two\\nlines\"}};\n"
  "const VitcModelInfo vitc_generated_info = {VITC_ABI_VERSION, 1, 1, ins, outs, 64, 64, 2, meta, \"vitc\", \"x86-64\", \"\", 0, 0};\n"
  "const char vitc_generated_prefix[] = \"vitc\";\n"
  "const uint8_t vitc_weights[64] = {0};\n"
  "typedef struct { const float *x; float *y; } Args;\n"
  "static void twice(void *arg, int64_t b, int64_t e) {\n"
  "  Args *a = arg;\n"
  "  for (int64_t i = b; i < e; i++) a->y[i] = 2 * a->x[i];\n"
  "}\n"
  "static void run(VitcRunCtx *ctx, const void *const *in, void *const *out, uint8_t *ws, const uint8_t *w) {\n"
  "  (void)ws; (void)w;\n"
  "  Args a = {in[0], out[0]};\n"
  "  rt_parallel_for(ctx, 20, twice, &a);\n"
  "}\n"
  "const RtVariant vitc_generated_variants[1] = {{4, run, 0}};\n"
  "const int32_t vitc_generated_n_variants = 1;\n"
  "const char *const vitc_generated_targets[1] = {\"\"};\n"
  "const int32_t vitc_generated_n_targets = 1;\n"
  "const VitcProfileNode vitc_generated_profile[1];\n"
  "const int32_t vitc_generated_n_profile = 0;\n";

/* Compiles tmpdir/src into tmpdir/so with extra flags (the runtime headers are on the path). */
static void build_so(const char *src, const char *so, const char *flags) {
  assert_int_equal(sh("cc -shared -fPIC -I%s -o %s/%s %s/%s %s", VITC_RT_INCLUDE, tmpdir, so, tmpdir, src, flags), 0);
}

static void test_loader_refuses_other_abi(void **state) {
  (void)state;
  char path[512], err[512];
  write_file("fake.c", fake_model_c, path, sizeof path);
  build_so("fake.c", "abi2.so", "-DABI=2 -DOLD");
  snprintf(path, sizeof path, "%s/abi2.so", tmpdir);
  assert_null(vitrt_open(path, err, sizeof err));
  assert_non_null(strstr(err, "ABI version 2, this runtime supports version 4"));
  build_so("fake.c", "abi3.so", "-DABI=3");
  snprintf(path, sizeof path, "%s/abi3.so", tmpdir);
  assert_null(vitrt_open(path, err, sizeof err));
  assert_non_null(strstr(err, "ABI version 3, this runtime supports version 4"));
  build_so("fake.c", "abi4.so", "-DABI=4");
  snprintf(path, sizeof path, "%s/abi4.so", tmpdir);
  VitrtModel *m = vitrt_open(path, err, sizeof err);
  assert_non_null(m);
  int st = VITC_OK;
  assert_null(vitrt_session_create(m, 1, &st));
  assert_int_equal(st, VITC_ERR_NOMEM);
  vitrt_close(m);
}

static void test_loader_refuses_non_models(void **state) {
  (void)state;
  char path[512], err[512];
  write_file("other.c", "int vitc_unrelated(void) { return 1; }\n", path, sizeof path);
  build_so("other.c", "other.so", "");
  snprintf(path, sizeof path, "%s/other.so", tmpdir);
  assert_null(vitrt_open(path, err, sizeof err));
  assert_non_null(strstr(err, "not a vitc model"));
  snprintf(path, sizeof path, "%s/missing.so", tmpdir);
  assert_null(vitrt_open(path, err, sizeof err));
  char want[600]; /* the file first, once: "PATH: cannot load model: REASON" */
  snprintf(want, sizeof want, "%s: cannot load model: ", path);
  assert_int_equal(strncmp(err, want, strlen(want)), 0);
  assert_null(strstr(err + strlen(want), path));
  assert_null(vitrt_open(NULL, NULL, 0));
}

static void test_session_checks_buffers(void **state) {
  (void)state;
  char path[512], err[512];
  write_file("twice.c", twice_model_c, path, sizeof path);
  build_so("twice.c", "twice.so", "-Wl,--whole-archive " VITC_RT_LIB " -Wl,--no-whole-archive -lpthread");
  snprintf(path, sizeof path, "%s/twice.so", tmpdir);
  VitrtModel *m = vitrt_open(path, err, sizeof err);
  assert_non_null(m);
  assert_int_equal(vitrt_info(m)->workspace_bytes, 64);
  assert_string_equal(vitrt_meta(m, "vitc.image_size"), "4");
  assert_string_equal(vitrt_meta(m, "note"), "two\nlines");
  assert_null(vitrt_meta(m, "absent"));
  assert_null(vitrt_meta(NULL, "note"));
  int st;
  VitrtSession *s = vitrt_session_create(m, 3, &st);
  assert_non_null(s);
  float x[20], y[20] = {0};
  for (int i = 0; i < 20; i++) x[i] = (float)i;
  int64_t good[2] = {4, 5}, bad[2] = {5, 4};
  VitrtTensor in = {VITC_DTYPE_F32, 2, good, x}, out = {VITC_DTYPE_F32, 2, good, y};
  VitrtTensor in_shape = {VITC_DTYPE_F32, 2, bad, x}, in_type = {VITC_DTYPE_I32, 2, good, x};
  VitrtTensor in_rank = {VITC_DTYPE_F32, 1, good, x}, in_null = {VITC_DTYPE_F32, 2, good, NULL};
  assert_int_equal(vitrt_run_checked(s, 1, &in_shape, 1, &out, err, sizeof err), VITC_ERR_ARG);
  assert_non_null(strstr(err, "f32[5,4], the model expects f32[4,5]"));
  assert_int_equal(vitrt_run_checked(s, 1, &in_type, 1, &out, err, sizeof err), VITC_ERR_ARG);
  assert_int_equal(vitrt_run_checked(s, 1, &in_rank, 1, &out, err, sizeof err), VITC_ERR_ARG);
  assert_int_equal(vitrt_run_checked(s, 1, &in_null, 1, &out, err, sizeof err), VITC_ERR_ARG);
  assert_int_equal(vitrt_run_checked(s, 2, &in, 1, &out, err, sizeof err), VITC_ERR_ARG);
  assert_int_equal(vitrt_run_checked(NULL, 1, &in, 1, &out, NULL, 0), VITC_ERR_ARG);
  const void *ins[1] = {x};
  void *outs[1] = {y};
  assert_int_equal(vitrt_run(s, 1, ins, 2, outs), VITC_ERR_ARG);
  for (int i = 0; i < 20; i++) assert_true(y[i] == 0.0f);
  assert_int_equal(vitrt_run_checked(s, 1, &in, 1, &out, err, sizeof err), VITC_OK);
  for (int i = 0; i < 20; i++) assert_true(y[i] == 2.0f * (float)i);
  assert_string_equal(vitrt_status_string(VITC_ERR_ABI), "ABI version mismatch");
  assert_string_equal(vitrt_entry_points(m)->prefix, "vitc");
  vitrt_session_destroy(s);
  vitrt_close(m);
}

/* ---- backend ---- */

static const char diff_vir[] =
  "graph \"diff\" opset 17\n"
  "input %x: f32[3,1,37]\n"
  "input %y: f32[4,37]\n"
  "const %s: f32[] = [0.75]\n"
  "%a: f32[3,4,37] = add(%x, %y) @\"a\"\n"
  "%m: f32[3,4,37] = mul(%a, %s) @\"m\"\n"
  "%d: f32[3,4,37] = div(%m, %y) @\"d\"\n"
  "%r: f32[3,4,37] = relu(%d) @\"r\"\n"
  "output %r\n";

/* Parses and verifies IR text. */
static Graph *load_ir(const char *text) {
  Diag d = {0};
  Graph *g = ir_parse(text, "test.vir", &d);
  if (g && ir_verify(g, &d)) {
    ir_graph_free(g);
    g = NULL;
  }
  if (!g) fprintf(stderr, "%s\n", d.msg);
  assert_non_null(g);
  return g;
}

/* Fills t (allocated) with a deterministic pattern that has both signs. */
static void fill(Tensor *t, const Value *v, unsigned seed) {
  *t = v->t;
  t->data = malloc(tensor_bytes(t));
  assert_non_null(t->data);
  for (int64_t i = 0; i < tensor_numel(t); i++) ((float *)t->data)[i] = (float)((int)((i * 37 + seed) % 101) - 50) / 8.0f;
}

/* Whether tmpdir holds a file whose name starts with prefix. */
static int has_file_with_prefix(const char *prefix) {
  DIR *dir = opendir(tmpdir);
  struct dirent *e;
  int found = 0;
  while (dir && (e = readdir(dir)))
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) found = 1;
  if (dir) closedir(dir);
  return found;
}

/* Runs tmpdir/so on the diff graph's inputs and compares with the interpreter, bit for bit. */
static void check_diff_so(Graph *g, const char *so_name, int threads) {
  char so[512], err[512];
  snprintf(so, sizeof so, "%s/%s", tmpdir, so_name);
  Diag d = {0};
  Tensor in[2], want[1] = {{0}};
  fill(&in[0], g->inputs[0], 5);
  fill(&in[1], g->inputs[1], 7);
  assert_int_equal(ir_interpret(g, in, want, &d), 0);
  VitrtModel *m = vitrt_open(so, err, sizeof err);
  if (!m) fprintf(stderr, "%s\n", err);
  assert_non_null(m);
  VitrtSession *s = vitrt_session_create(m, threads, NULL);
  assert_non_null(s);
  float got[3 * 4 * 37];
  const void *ins[2] = {in[0].data, in[1].data};
  void *outs[1] = {got};
  assert_int_equal(vitrt_run(s, 2, ins, 1, outs), VITC_OK);
  assert_memory_equal(got, want[0].data, sizeof got);
  vitrt_session_destroy(s);
  vitrt_close(m);
  free(in[0].data), free(in[1].data), free(want[0].data);
}

static void test_backend_matches_interpreter(void **state) {
  (void)state;
  Graph *g = load_ir(diff_vir);
  char so[512];
  snprintf(so, sizeof so, "%s/diff.so", tmpdir);
  CompileOptions o = {.output = so, .opt_level = 3, .emit = CG_EMIT_SO, .runtime_lib = VITC_RT_LIB};
  Diag d = {0};
  if (cg_compile(g, &o, &d)) fprintf(stderr, "%s\n", d.msg);
  assert_false(d.has_error);
  check_diff_so(g, "diff.so", 1);
  check_diff_so(g, "diff.so", 3);
  ir_graph_free(g);
}

/* --emit asm keeps the weights next to the .s (by .incbin); it assembles and links by hand. */
static void test_backend_emit_asm_and_obj(void **state) {
  (void)state;
  Graph *g = load_ir(diff_vir);
  char out[512];
  Diag d = {0};
  snprintf(out, sizeof out, "%s/k.s", tmpdir);
  CompileOptions o = {.output = out, .opt_level = 2, .emit = CG_EMIT_ASM, .target_cpu = "x86-64-v2"};
  assert_int_equal(cg_compile(g, &o, &d), 0);
  snprintf(out, sizeof out, "%s/k.s.weights", tmpdir);
  assert_int_equal(access(out, R_OK), 0);
  assert_int_equal(sh("cc -c -x assembler -o %s/k_s.o %s/k.s && cc -shared -o %s/k_s.so %s/k_s.o -Wl,--whole-archive "
                      VITC_RT_LIB " -Wl,--no-whole-archive -lpthread", tmpdir, tmpdir, tmpdir, tmpdir), 0);
  check_diff_so(g, "k_s.so", 2);
  snprintf(out, sizeof out, "%s/k.o", tmpdir);
  o = (CompileOptions){.output = out, .opt_level = 0, .emit = CG_EMIT_OBJ};
  assert_int_equal(cg_compile(g, &o, &d), 0);
  assert_false(has_file_with_prefix("k.o."));
  snprintf(out, sizeof out, "%s/k.h", tmpdir);
  assert_int_equal(access(out, R_OK), 0);
  assert_int_equal(sh("cc -shared -o %s/k_o.so %s/k.o -Wl,--whole-archive " VITC_RT_LIB " -Wl,--no-whole-archive -lpthread",
                      tmpdir, tmpdir), 0);
  check_diff_so(g, "k_o.so", 2);
  ir_graph_free(g);
}

/* A program that includes the generated header and links the .so directly. */
static const char app_c[] =
  "#include \"vitc_abi.h\"\n"
  "#include \"diff.h\"\n"
  "static float x[DIFF_INPUT0_NUMEL], y[DIFF_INPUT1_NUMEL], r[DIFF_OUTPUT0_NUMEL];\n"
  "int main(void) {\n"
  "  const VitcModelInfo *info = vitc_model_info();\n"
  "  static const int64_t shape[] = DIFF_OUTPUT0_SHAPE;\n"
  "  if (info->abi_version != VITC_ABI_VERSION || info->n_inputs != DIFF_N_INPUTS) return 1;\n"
  "  if (info->outputs[0].dims[2] != shape[2] || info->workspace_bytes != DIFF_WORKSPACE_BYTES) return 2;\n"
  "  int st;\n"
  "  VitcSession *s = vitc_session_create(2, &st);\n"
  "  if (!s) return 3;\n"
  "  for (int i = 0; i < DIFF_INPUT1_NUMEL; i++) y[i] = 1;\n"
  "  const void *in[2] = {x, y};\n"
  "  void *out[1] = {r};\n"
  "  st = vitc_session_run(s, in, out);\n"
  "  vitc_session_destroy(s);\n"
  "  return st == VITC_OK && vitc_session_run(0, in, out) == VITC_ERR_ARG ? 0 : 4;\n"
  "}\n";

static void test_backend_header_compiles(void **state) {
  (void)state;
  char path[512];
  write_file("app.c", app_c, path, sizeof path);
  assert_int_equal(sh("cc -std=c11 -Wall -Werror -I%s -I%s -o %s/app %s/app.c %s/diff.so -Wl,-rpath,%s", VITC_RT_INCLUDE,
                      tmpdir, tmpdir, tmpdir, tmpdir, tmpdir),
                   0);
  assert_int_equal(sh("%s/app", tmpdir), 0);
}

static void test_backend_failure_leaves_nothing(void **state) {
  (void)state;
  /* A constant gather index out of range: the backend refuses it (generated code has no error channel). */
  Graph *g = load_ir("graph \"bad\" opset 17\ninput %x: f32[2,3]\nconst %i: i64[1] = [3]\n"
                     "%y: f32[2,1] = gather(%x, %i) {axis=1} @\"e\"\n%z: f32[2,1] = relu(%y) @\"r\"\noutput %z\n");
  char so[512];
  snprintf(so, sizeof so, "%s/bad.so", tmpdir);
  CompileOptions o = {.output = so, .opt_level = 3, .emit = CG_EMIT_SO, .runtime_lib = VITC_RT_LIB};
  Diag d = {0};
  assert_int_equal(cg_compile(g, &o, &d), -1);
  assert_non_null(strstr(d.msg, "index 3 is out of range for axis 1 of size 3"));
  assert_non_null(strstr(d.msg, "node 'e'"));
  assert_false(has_file_with_prefix("bad."));
  /* A runtime library that does not exist fails at link time, also cleanly. */
  Graph *g2 = load_ir("graph \"bad\" opset 17\ninput %x: f32[2,3]\n%z: f32[2,3] = relu(%x) @\"r\"\noutput %z\n");
  o.runtime_lib = "/nonexistent/libvitc_rt.a";
  Diag d2 = {0};
  assert_int_equal(cg_compile(g2, &o, &d2), -1);
  assert_non_null(strstr(d2.msg, "runtime library"));
  assert_false(has_file_with_prefix("bad."));
  ir_graph_free(g);
  ir_graph_free(g2);
}

/* ---- two sessions of one model on two threads ---- */

/* Transpose, concat, gather and broadcasting arithmetic; large enough that kernels split across each session's pool. */
static const char threads_vir[] =
  "graph \"mt\" opset 17\n"
  "input %x: f32[6,97,131]\n"
  "input %y: f32[131,1]\n"
  "const %i: i64[3] = [2,-1,0]\n"
  "%t: f32[6,131,97] = transpose(%x) {perm=[0,2,1]} @\"t\"\n"
  "%a: f32[6,131,97] = add(%t, %y) @\"a\"\n"
  "%c: f32[6,262,97] = concat(%a, %t) {axis=1} @\"c\"\n"
  "%g: f32[3,262,97] = gather(%c, %i) {axis=0} @\"g\"\n"
  "output %g\n";

/* One thread's work: its own session, its own inputs, the interpreter's answer. */
typedef struct Worker {
  VitrtModel *m;
  Tensor in[2], want;
  int runs_ok;
} Worker;

/* Runs the model 10 times on the worker's inputs; counts the runs that match bit for bit. */
static void *worker_main(void *arg) {
  Worker *w = arg;
  size_t bytes = tensor_bytes(&w->want);
  VitrtSession *s = vitrt_session_create(w->m, 2, NULL);
  float *got = malloc(bytes);
  const void *ins[2] = {w->in[0].data, w->in[1].data};
  void *outs[1] = {got};
  for (int r = 0; r < 10 && s && got; r++) {
    memset(got, 0, bytes);
    if (vitrt_run(s, 2, ins, 1, outs) == VITC_OK && memcmp(got, w->want.data, bytes) == 0) w->runs_ok++;
  }
  free(got);
  vitrt_session_destroy(s);
  return NULL;
}

static void test_two_sessions_two_threads(void **state) {
  (void)state;
  Graph *g = load_ir(threads_vir);
  char so[512], err[512];
  snprintf(so, sizeof so, "%s/mt.so", tmpdir);
  CompileOptions o = {.output = so, .opt_level = 2, .emit = CG_EMIT_SO, .runtime_lib = VITC_RT_LIB};
  Diag d = {0};
  if (cg_compile(g, &o, &d)) fprintf(stderr, "%s\n", d.msg);
  assert_false(d.has_error);
  VitrtModel *m = vitrt_open(so, err, sizeof err);
  assert_non_null(m);
  Worker w[2] = {{.m = m}, {.m = m}};
  pthread_t th[2];
  for (int k = 0; k < 2; k++) {
    fill(&w[k].in[0], g->inputs[0], 11 + 2 * k);
    fill(&w[k].in[1], g->inputs[1], 12 + 2 * k);
    assert_int_equal(ir_interpret(g, w[k].in, &w[k].want, &d), 0);
  }
  assert_memory_not_equal(w[0].want.data, w[1].want.data, tensor_bytes(&w[0].want));
  for (int k = 0; k < 2; k++) assert_int_equal(pthread_create(&th[k], NULL, worker_main, &w[k]), 0);
  for (int k = 0; k < 2; k++) assert_int_equal(pthread_join(th[k], NULL), 0);
  for (int k = 0; k < 2; k++) {
    assert_int_equal(w[k].runs_ok, 10);
    free(w[k].in[0].data), free(w[k].in[1].data), free(w[k].want.data);
  }
  vitrt_close(m);
  ir_graph_free(g);
}

/* ---- thread counts, CPU features, session options (ABI 4) ---- */

/* Threads of this process, from /proc/self/task. */
static int count_threads(void) {
  DIR *dir = opendir("/proc/self/task");
  struct dirent *e;
  int n = 0;
  while (dir && (e = readdir(dir)))
    if (e->d_name[0] != '.') n++;
  if (dir) closedir(dir);
  return n;
}

static void test_default_threads(void **state) {
  (void)state;
  assert_int_equal(rt_cpu_max_threads("max 100000\n"), 0);
  assert_int_equal(rt_cpu_max_threads("200000 100000\n"), 2);
  assert_int_equal(rt_cpu_max_threads("150000 100000"), 2); /* 1.5 CPUs: 2 threads */
  assert_int_equal(rt_cpu_max_threads("50000 100000"), 1);
  assert_int_equal(rt_cpu_max_threads("garbage"), 0);
  assert_int_equal(rt_cpu_max_threads("-1 100000"), 0);
  unsetenv("VITC_NUM_THREADS");
  cpu_set_t all, one;
  assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof all, &all), 0);
  int n = rt_default_threads();
  assert_true(n >= 1 && n <= CPU_COUNT(&all));
  /* Narrowing this thread's affinity (what taskset and cpusets do) narrows the default. */
  CPU_ZERO(&one);
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &all)) {
      CPU_SET(c, &one);
      break;
    }
  assert_int_equal(pthread_setaffinity_np(pthread_self(), sizeof one, &one), 0);
  assert_int_equal(rt_default_threads(), 1);
  RtPool *p = rt_pool_create(0);
  assert_int_equal(rt_pool_threads(p), 1);
  rt_pool_destroy(p);
  assert_int_equal(pthread_setaffinity_np(pthread_self(), sizeof all, &all), 0);
  setenv("VITC_NUM_THREADS", "3", 1); /* the override */
  assert_int_equal(rt_default_threads(), 3);
  setenv("VITC_NUM_THREADS", "zero", 1); /* ignored when not a positive number */
  assert_int_equal(rt_default_threads(), n);
  unsetenv("VITC_NUM_THREADS");
}

/* The /proc/cpuinfo spelling of an LLVM feature name ("sse4.2" -> "sse4_2", "avx512bf16" -> "avx512_bf16"). */
static void cpuinfo_name(const char *llvm, char *out, size_t n) {
  static const char *const map[][2] = {{"sse4.1", "sse4_1"}, {"sse4.2", "sse4_2"}, {"avx512bf16", "avx512_bf16"},
                                       {"avx512vnni", "avx512_vnni"}, {"amx-tile", "amx_tile"}, {"bmi", "bmi1"},
                                       {"lzcnt", "abm"}, {"avxvnni", "avx_vnni"}};
  snprintf(out, n, "%s", llvm);
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(llvm, map[i][0]) == 0) snprintf(out, n, "%s", map[i][1]);
}

/* Whether /proc/cpuinfo's flags line lists flag. */
static int cpuinfo_has(const char *flag) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  static char line[8192];
  int found = 0;
  while (f && fgets(line, sizeof line, f) && !found)
    if (strncmp(line, "flags", 5) == 0) {
      char want[64];
      snprintf(want, sizeof want, " %s", flag);
      for (char *p = line; (p = strstr(p, want)); p++)
        if (p[strlen(want)] == ' ' || p[strlen(want)] == '\n') found = 1;
      break;
    }
  if (f) fclose(f);
  return found;
}

/* The first of the CPUs vitc can target whose features this CPU lacks, and one such feature; NULL when none. */
static const char *cpu_this_machine_lacks(const char **feature) {
  static const char *const cand[][2] = {{"x86-64-v3", "avx2"}, {"x86-64-v4", "avx512f"}, {"cooperlake", "avx512bf16"},
                                        {"sapphirerapids", "amx-tile"}};
  for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++)
    if (rt_cpu_has(cand[i][1]) == 0) return *feature = cand[i][1], cand[i][0];
  return NULL;
}

static void test_cpu_features(void **state) {
  (void)state;
  static const char *const names[] = {"sse4.2", "avx", "fma", "avx2", "bmi2", "avx512f", "avx512bw", "avx512vl",
                                      "avx512vnni", "avx512bf16", "amx-tile"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) { /* cpuid agrees with the kernel's flags */
    char flag[64];
    cpuinfo_name(names[i], flag, sizeof flag);
    if (rt_cpu_has(names[i]) != cpuinfo_has(flag)) fail_msg("%s: cpuid %d, /proc/cpuinfo %d", names[i], rt_cpu_has(names[i]), cpuinfo_has(flag));
  }
  assert_int_equal(rt_cpu_has("no-such-feature"), -1);
  char msg[256];
  assert_int_equal(rt_cpu_check("", msg, sizeof msg), VITC_OK);
  assert_int_equal(rt_cpu_check("sse4.2", msg, sizeof msg), VITC_OK);
  assert_int_equal(rt_cpu_check("sse4.2,no-such-feature", msg, sizeof msg), VITC_ERR_CPU); /* unknown: refused */
  assert_non_null(strstr(msg, "model needs no-such-feature; this CPU has "));
  const char *lack, *cpu = cpu_this_machine_lacks(&lack);
  if (!cpu) {
    printf("skipped: this CPU has every feature vitc can target (no refusal to test)\n");
    return;
  }
  assert_int_equal(rt_cpu_check(lack, msg, sizeof msg), VITC_ERR_CPU);
  char want[64];
  snprintf(want, sizeof want, "model needs %s;", lack);
  assert_non_null(strstr(msg, want));
}

/* A model compiled for a CPU this machine lacks loads (its info can be read) but gets no session. */
static void test_model_for_other_cpu_refused(void **state) {
  (void)state;
  const char *lack, *cpu = cpu_this_machine_lacks(&lack);
  if (!cpu) {
    printf("skipped: this CPU has every feature vitc can target (no refusal to test)\n");
    return;
  }
  Graph *g = load_ir(diff_vir);
  char so[512], err[512];
  snprintf(so, sizeof so, "%s/other_cpu.so", tmpdir);
  CompileOptions o = {.output = so, .opt_level = 1, .emit = CG_EMIT_SO, .runtime_lib = VITC_RT_LIB, .target_cpu = cpu};
  Diag d = {0};
  if (cg_compile(g, &o, &d)) fail_msg("%s", d.msg);
  VitrtModel *m = vitrt_open(so, err, sizeof err);
  assert_non_null(m);
  assert_string_equal(vitrt_info(m)->target_cpu, cpu);
  assert_non_null(strstr(vitrt_info(m)->cpu_features, lack));
  int st = VITC_OK;
  assert_null(vitrt_session_create(m, 1, &st));
  assert_int_equal(st, VITC_ERR_CPU);
  assert_int_equal(vitrt_cpu_check(m, err, sizeof err), VITC_ERR_CPU);
  /* lack is among the missing features (a CPU may lack others the target has too, listed first) */
  const char *needs = strstr(err, "model needs "), *has = strstr(err, "; this CPU has ");
  assert_non_null(needs);
  assert_non_null(has);
  const char *at = strstr(needs, lack);
  assert_true(at && at < has);
  printf("refused as expected: %s built for %s: %s\n", so, cpu, err);
  vitrt_close(m);
  ir_graph_free(g);
}

/* Options: the caller's workspace (checked), n_threads = 1 starts no thread, a pool shared by sessions. */
static void test_session_options(void **state) {
  (void)state;
  Graph *g = load_ir(threads_vir);
  char so[512], err[512];
  snprintf(so, sizeof so, "%s/opts.so", tmpdir);
  CompileOptions o = {.output = so, .opt_level = 1, .emit = CG_EMIT_SO, .runtime_lib = VITC_RT_LIB};
  Diag d = {0};
  if (cg_compile(g, &o, &d)) fail_msg("%s", d.msg);
  VitrtModel *m = vitrt_open(so, err, sizeof err);
  assert_non_null(m);
  const VitcEntryPoints *ep = vitrt_entry_points(m);
  uint64_t ws = vitrt_info(m)->workspace_bytes;
  assert_true(ws > 0);
  void *buf = aligned_alloc(64, (size_t)((ws + 64 + 63) / 64 * 64));
  VitcSessionOptions so1 = VITC_SESSION_OPTIONS_INIT;
  int st, before = count_threads();
  so1.n_threads = 1;
  so1.workspace = buf;
  so1.workspace_bytes = ws - 1;
  assert_null(ep->session_create_with(&so1, &st)); /* too small */
  assert_int_equal(st, VITC_ERR_ARG);
  so1.workspace = (char *)buf + 8;
  so1.workspace_bytes = ws;
  assert_null(ep->session_create_with(&so1, &st)); /* misaligned */
  assert_int_equal(st, VITC_ERR_ARG);
  so1.workspace = buf;
  VitcSession *s1 = ep->session_create_with(&so1, &st);
  assert_non_null(s1);
  assert_int_equal(count_threads(), before); /* n_threads = 1: the caller's thread only */
  Tensor in[2], want = {0};
  fill(&in[0], g->inputs[0], 3);
  fill(&in[1], g->inputs[1], 4);
  assert_int_equal(ir_interpret(g, in, &want, &d), 0);
  float *got = malloc(tensor_bytes(&want));
  const void *ins[2] = {in[0].data, in[1].data};
  void *outs[1] = {got};
  assert_int_equal(ep->session_run(s1, ins, outs), VITC_OK);
  assert_memory_equal(got, want.data, tensor_bytes(&want));
  ep->session_destroy(s1);
  /* A shared pool of 3: two sessions in it add no threads of their own. */
  VitcPool *pool = ep->pool_create(3, &st);
  assert_non_null(pool);
  assert_int_equal(count_threads(), before + 2);
  VitcSessionOptions so2 = VITC_SESSION_OPTIONS_INIT;
  so2.pool = pool;
  VitcSession *a = ep->session_create_with(&so2, &st), *b = ep->session_create_with(&so2, &st);
  assert_non_null(a);
  assert_non_null(b);
  assert_int_equal(count_threads(), before + 2);
  memset(got, 0, tensor_bytes(&want));
  assert_int_equal(ep->session_run(b, ins, outs), VITC_OK);
  assert_memory_equal(got, want.data, tensor_bytes(&want));
  ep->session_destroy(a);
  ep->session_destroy(b);
  ep->pool_destroy(pool);
  assert_int_equal(count_threads(), before);
  VitcSessionOptions bad = VITC_SESSION_OPTIONS_INIT;
  bad.struct_size = 4; /* not even n_threads */
  assert_null(ep->session_create_with(&bad, &st));
  assert_int_equal(st, VITC_ERR_ARG);
  VitcSessionOptions old = VITC_SESSION_OPTIONS_INIT; /* an older, smaller struct: the rest is default */
  old.struct_size = 8;
  old.n_threads = 1;
  old.pool = (VitcPool *)1; /* past struct_size: never read */
  VitcSession *olds = ep->session_create_with(&old, &st);
  assert_non_null(olds);
  ep->session_destroy(olds);
  free(got), free(buf), free(in[0].data), free(in[1].data), free(want.data);
  vitrt_close(m);
  ir_graph_free(g);
}

/* Two models compiled with different prefixes link into one program, which runs each: y = x + 1 and y = 2 x. */
static const char two_app_c[] =
  "#include \"plus.h\"\n"
  "#include \"twice.h\"\n"
  "#include <stdio.h>\n"
  "int main(void) {\n"
  "  float x[4] = {1, 2, 3, 4}, a[4], b[4];\n"
  "  const void *in[1] = {x};\n"
  "  void *oa[1] = {a}, *ob[1] = {b};\n"
  "  int st;\n"
  "  VitcSession *s1 = plus_session_create(1, &st), *s2 = twice_session_create(1, &st);\n"
  "  if (!s1 || !s2 || plus_session_run(s1, in, oa) || twice_session_run(s2, in, ob)) return 1;\n"
  "  for (int i = 0; i < 4; i++) if (a[i] != x[i] + 1 || b[i] != 2 * x[i]) return 2;\n"
  "  if (strcmp(plus_model_info()->prefix, \"plus\") || strcmp(twice_model_info()->prefix, \"twice\")) return 3;\n"
  "  plus_session_destroy(s1);\n"
  "  twice_session_destroy(s2);\n"
  "  printf(\"plus %g %g %g %g, twice %g %g %g %g\\n\", a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]);\n"
  "  return 0;\n"
  "}\n";

static void test_prefixed_models_link_together(void **state) {
  (void)state;
  static const char *const vir[2] = {
    "graph \"plus\" opset 17\ninput %x: f32[4]\nconst %o: f32[] = [1]\n%y: f32[4] = add(%x, %o) @\"p\"\noutput %y\n",
    "graph \"twice\" opset 17\ninput %x: f32[4]\nconst %t: f32[] = [2]\n%y: f32[4] = mul(%x, %t) @\"t\"\noutput %y\n"};
  static const char *const name[2] = {"plus", "twice"};
  for (int k = 0; k < 2; k++) {
    Graph *g = load_ir(vir[k]);
    char so[512];
    snprintf(so, sizeof so, "%s/%s.so", tmpdir, name[k]);
    CompileOptions o = {.output = so, .opt_level = 1, .emit = CG_EMIT_SO, .runtime_lib = VITC_RT_LIB, .prefix = name[k]};
    Diag d = {0};
    if (cg_compile(g, &o, &d)) fail_msg("%s", d.msg);
    ir_graph_free(g);
  }
  char path[512], err[512];
  write_file("two.c", two_app_c, path, sizeof path);
  assert_int_equal(sh("cc -std=c11 -Wall -Werror -include string.h -I%s -o %s/two %s/two.c %s/plus.so %s/twice.so -Wl,-rpath,%s",
                      tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir), 0);
  assert_int_equal(sh("%s/two", tmpdir), 0);
  /* The same program as C++: the headers declare the entry points with C linkage. */
  if (sh("command -v g++ >/dev/null 2>&1") == 0) {
    assert_int_equal(sh("g++ -Wall -Werror -include string.h -I%s -x c++ -o %s/two_cpp %s/two.c -x none %s/plus.so "
                        "%s/twice.so -Wl,-rpath,%s", tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir), 0);
    assert_int_equal(sh("%s/two_cpp", tmpdir), 0);
  } else {
    printf("skipped: g++ is not installed (the C++ build of the two-model program)\n");
  }
  /* Two models whose output files have the same name in different folders: the guards come from the prefixes. */
  assert_int_equal(sh("grep -q '^#ifndef PLUS_MODEL_H' %s/plus.h && grep -q '^#define TWICE_N_INPUTS 1' %s/twice.h",
                      tmpdir, tmpdir), 0);
  /* Neither exports the default names; the loader finds each through its descriptor. */
  assert_int_equal(sh("nm -D --defined-only %s/plus.so | grep -q ' vitc_session_run$'", tmpdir) == 0, 0);
  snprintf(path, sizeof path, "%s/twice.so", tmpdir);
  VitrtModel *m = vitrt_open(path, err, sizeof err);
  assert_non_null(m);
  assert_string_equal(vitrt_info(m)->prefix, "twice");
  vitrt_close(m);
}

/* A Gather whose index is an input: out of range at run time is VITC_ERR_INDEX (and a message from the
 * checked run), in range is fine, also through run_batch of a dynamic-batch model. */
static void test_runtime_index_error(void **state) {
  (void)state;
  Graph *g = load_ir("graph \"gi\" opset 17\ninput %x: f32[4,3]\ninput %i: i64[2]\n"
                     "%y: f32[2,3] = gather(%x, %i) {axis=0} @\"g\"\noutput %y\n");
  char so[512], err[512];
  snprintf(so, sizeof so, "%s/gi.so", tmpdir);
  CompileOptions o = {.output = so, .opt_level = 2, .emit = CG_EMIT_SO, .runtime_lib = VITC_RT_LIB};
  Diag d = {0};
  if (cg_compile(g, &o, &d)) fail_msg("%s", d.msg);
  VitrtModel *m = vitrt_open(so, err, sizeof err);
  assert_non_null(m);
  VitrtSession *s = vitrt_session_create(m, 2, NULL);
  assert_non_null(s);
  float x[12], y[6];
  for (int i = 0; i < 12; i++) x[i] = (float)i;
  int64_t good[2] = {3, -4}, bad[2] = {1, 4}, xd[2] = {4, 3}, id[1] = {2}, yd[2] = {2, 3};
  VitrtTensor in[2] = {{VITC_DTYPE_F32, 2, xd, x}, {VITC_DTYPE_I64, 1, id, good}}, out = {VITC_DTYPE_F32, 2, yd, y};
  assert_int_equal(vitrt_run_checked(s, 2, in, 1, &out, err, sizeof err), VITC_OK);
  assert_true(y[0] == 9.0f && y[3] == 0.0f); /* rows 3 and -4 (= 0) */
  in[1].data = bad;
  assert_int_equal(vitrt_run_checked(s, 2, in, 1, &out, err, sizeof err), VITC_ERR_INDEX);
  assert_non_null(strstr(err, "run failed: an index input was out of range"));
  in[1].data = good; /* the flag is per run */
  assert_int_equal(vitrt_run_checked(s, 2, in, 1, &out, err, sizeof err), VITC_OK);
  vitrt_session_destroy(s);
  vitrt_close(m);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_pool_covers_once),
    cmocka_unit_test(test_pool_without_ctx_runs_inline),
    cmocka_unit_test(test_loader_refuses_other_abi),
    cmocka_unit_test(test_loader_refuses_non_models),
    cmocka_unit_test(test_session_checks_buffers),
    cmocka_unit_test(test_backend_matches_interpreter),
    cmocka_unit_test(test_backend_header_compiles),
    cmocka_unit_test(test_backend_emit_asm_and_obj),
    cmocka_unit_test(test_backend_failure_leaves_nothing),
    cmocka_unit_test(test_two_sessions_two_threads),
    cmocka_unit_test(test_default_threads),
    cmocka_unit_test(test_cpu_features),
    cmocka_unit_test(test_model_for_other_cpu_refused),
    cmocka_unit_test(test_session_options),
    cmocka_unit_test(test_prefixed_models_link_together),
    cmocka_unit_test(test_runtime_index_error),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
