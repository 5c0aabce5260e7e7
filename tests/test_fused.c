/* Unit tests of the fused ops' reference kernels (gelu, linear, attention)
 * and a differential test of the fusion passes: every golden fusion case
 * (tests/golden/fuse_*.vir, prune_*.vir, and canon_*.vir: canonicalize rewrites that change arithmetic) is interpreted before and after the whole
 * pipeline on seeded random inputs, and every output must agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"

#ifndef GOLDEN_DIR
#define GOLDEN_DIR "tests/golden"
#endif

/* ---- helpers ---- */

/* Seeded uniform numbers in [-1, 1) (xorshift), the same on every run. */
static uint64_t rng = 88172645463325252ull;
static float urand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (float)((rng >> 11) * (1.0 / 9007199254740992.0) * 2 - 1);
}

/* Parses and verifies IR text; fails the test on error. */
static Graph *parse(const char *text) {
  Diag d = {0};
  Graph *g = ir_parse(text, "test.vir", &d);
  if (!g || ir_verify(g, &d)) fail_msg("%s", d.msg);
  return g;
}

/* Interprets g on inputs in[] (random when NULL, from seed); returns output 0 (malloc'd). */
static float *run(const Graph *g, float **in) {
  Tensor ti[8], to[8];
  assert_true(g->n_inputs <= 8 && g->n_outputs <= 8);
  for (int i = 0; i < g->n_inputs; i++) {
    ti[i] = g->inputs[i]->t;
    ti[i].data = in[i];
  }
  Diag d = {0};
  if (ir_interpret(g, ti, to, &d)) fail_msg("%s", d.msg);
  for (int j = 1; j < g->n_outputs; j++) free(to[j].data);
  return to[0].data;
}

/* Appends `n` random numbers as "[a,b,...]" to buf at *len. */
static void put_array(char *buf, size_t cap, size_t *len, int n, float *keep) {
  *len += (size_t)snprintf(buf + *len, cap - *len, "[");
  for (int i = 0; i < n; i++) {
    float v = urand();
    if (keep) keep[i] = v;
    *len += (size_t)snprintf(buf + *len, cap - *len, "%s%.9g", i ? "," : "", v);
  }
  *len += (size_t)snprintf(buf + *len, cap - *len, "]\n");
}

/* ---- gelu ---- */

static void test_gelu_values(void **state) {
  (void)state;
  Graph *g = parse("graph \"g\" opset 20\ninput %x: f32[4]\n"
                   "%a: f32[4] = gelu(%x) {approximate=\"none\"} @\"erf\"\n"
                   "%b: f32[4] = gelu(%x) @\"default\"\n"
                   "%c: f32[4] = gelu(%x) {approximate=\"tanh\"} @\"tanh\"\n"
                   "output %a\noutput %b\noutput %c\n");
  float x[4] = {1, -1, 2.5f, 0};
  Tensor ti = g->inputs[0]->t, to[3];
  ti.data = x;
  Diag d = {0};
  assert_int_equal(ir_interpret(g, &ti, to, &d), 0);
  const float *a = to[0].data, *b = to[1].data, *c = to[2].data;
  double erf_want[4] = {0.8413447460685429, -0.15865525393145707, 2.4844757734, 0};
  for (int i = 0; i < 4; i++) {
    assert_true(fabs(a[i] - erf_want[i]) < 1e-6);
    assert_true(a[i] == b[i]); /* approximate defaults to "none" */
    double t = 0.5 * x[i] * (1 + tanh(0.7978845608028654 * (x[i] + 0.044715 * x[i] * x[i] * x[i])));
    assert_true(fabs(c[i] - t) < 1e-6);
  }
  assert_true(fabs(c[0] - 0.8411919906082768) < 1e-6);
  for (int j = 0; j < 3; j++) free(to[j].data);
  ir_graph_free(g);
}

static void test_gelu_bad_attr(void **state) {
  (void)state;
  Diag d = {0};
  Graph *g = ir_parse("graph \"g\" opset 20\ninput %x: f32[2]\n%y: f32[2] = gelu(%x) {approximate=\"fast\"} @\"g\"\n"
                      "output %y\n", "t.vir", &d);
  assert_non_null(g);
  assert_int_not_equal(ir_verify(g, &d), 0);
  assert_non_null(strstr(d.msg, "approximate"));
  ir_graph_free(g);
}

/* ---- linear ---- */

/* linear(x [2,3,5], w [5,4], b [4], residual [3,4]) with act, against a plain double loop. */
static void check_linear(const char *act, int tanh_form) {
  float w[20], b[4], r[12], x[30];
  char text[8192];
  size_t n = (size_t)snprintf(text, sizeof text, "graph \"l\" opset 17\ninput %%x: f32[2,3,5]\nconst %%w: f32[5,4] = ");
  put_array(text, sizeof text, &n, 20, w);
  n += (size_t)snprintf(text + n, sizeof text - n, "const %%b: f32[4] = ");
  put_array(text, sizeof text, &n, 4, b);
  n += (size_t)snprintf(text + n, sizeof text - n, "const %%r: f32[3,4] = ");
  put_array(text, sizeof text, &n, 12, r);
  snprintf(text + n, sizeof text - n, "%%y: f32[2,3,4] = linear(%%x, %%w, %%b, %%r) {act=\"%s\"} @\"fc\"\noutput %%y\n", act);
  Graph *g = parse(text);
  for (int i = 0; i < 30; i++) x[i] = 2 * urand();
  float *in[1] = {x}, *y = run(g, in);
  for (int row = 0; row < 6; row++)
    for (int j = 0; j < 4; j++) {
      double s = b[j];
      for (int k = 0; k < 5; k++) s += (double)x[row * 5 + k] * w[k * 4 + j];
      if (strcmp(act, "quick_gelu") == 0)
        s = s / (1 + exp(-1.702 * s));
      else if (strcmp(act, "silu") == 0)
        s = s / (1 + exp(-s));
      else if (strcmp(act, "relu") == 0)
        s = s > 0 ? s : 0;
      else if (strcmp(act, "none"))
        s = tanh_form ? 0.5 * s * (1 + tanh(sqrt(2 / M_PI) * (s + 0.044715 * s * s * s))) : 0.5 * s * (1 + erf(s / sqrt(2)));
      s += r[(row % 3) * 4 + j];
      assert_true(fabs(y[row * 4 + j] - s) < 1e-5);
    }
  free(y);
  ir_graph_free(g);
}

static void test_linear_epilogues(void **state) {
  (void)state;
  check_linear("none", 0);
  check_linear("gelu", 0);
  check_linear("gelu_tanh", 1);
  check_linear("quick_gelu", 0);
  check_linear("silu", 0);
  check_linear("relu", 0);
}

/* ---- attention ---- */

/* An interpreter observer that keeps the probabilities of the attention nodes it sees. */
typedef struct ProbsSeen {
  int calls;
  float *probs;
} ProbsSeen;
static int keep_probs(void *ctx, const Node *n, const Tensor *in, const Tensor *out, Diag *d) {
  ProbsSeen *p = ctx;
  if (n->op != OP_ATTENTION) return 0;
  int64_t b = out->dims[0], nt = out->dims[1], h = ir_attr_i(n, "heads", 1);
  free(p->probs);
  p->probs = malloc((size_t)(b * h * nt * nt) * sizeof *p->probs);
  p->calls++;
  return ir_attention_probs(n, in, out, p->probs, d);
}

/* The attention op against the same computation spelled with primitive ops
 * (MatMul, Add, Reshape, Transpose, Mul, Softmax), on random weights and x. */
static void test_attention_vs_primitives(void **state) {
  (void)state;
  enum { B = 2, N = 5, C = 8, E = 8, H = 2, D = 4 };
  static char wtext[16384];
  size_t n = 0;
  n += (size_t)snprintf(wtext + n, sizeof wtext - n, "const %%w: f32[%d,%d] = ", C, 3 * E);
  put_array(wtext, sizeof wtext, &n, C * 3 * E, NULL);
  n += (size_t)snprintf(wtext + n, sizeof wtext - n, "const %%b: f32[%d] = ", 3 * E);
  put_array(wtext, sizeof wtext, &n, 3 * E, NULL);
  static char prim[32768], fused[32768];
  snprintf(fused, sizeof fused,
           "graph \"fused\" opset 17\ninput %%x: f32[%d,%d,%d]\n%s"
           "%%y: f32[%d,%d,%d] = attention(%%x, %%w, %%b) {heads=%d, scale=0.5} @\"attn\"\noutput %%y\n",
           B, N, C, wtext, B, N, E, H);
  snprintf(prim, sizeof prim,
           "graph \"prim\" opset 17\ninput %%x: f32[%d,%d,%d]\n%s"
           "const %%s5: i64[5] = [%d,%d,3,%d,%d]\nconst %%s3: i64[3] = [%d,%d,%d]\nconst %%half: f32[] = [0.5]\n"
           "const %%i0: i64[] = [0]\nconst %%i1: i64[] = [1]\nconst %%i2: i64[] = [2]\n"
           "%%m: f32[%d,%d,%d] = matmul(%%x, %%w) @\"mm\"\n%%p: f32[%d,%d,%d] = add(%%m, %%b) @\"add\"\n"
           "%%r: f32[%d,%d,3,%d,%d] = reshape(%%p, %%s5) @\"r\"\n"
           "%%t: f32[3,%d,%d,%d,%d] = transpose(%%r) {perm=[2,0,3,1,4]} @\"t\"\n"
           "%%q: f32[%d,%d,%d,%d] = gather(%%t, %%i0) {axis=0} @\"q\"\n"
           "%%k: f32[%d,%d,%d,%d] = gather(%%t, %%i1) {axis=0} @\"k\"\n"
           "%%v: f32[%d,%d,%d,%d] = gather(%%t, %%i2) {axis=0} @\"v\"\n"
           "%%kt: f32[%d,%d,%d,%d] = transpose(%%k) {perm=[0,1,3,2]} @\"kt\"\n"
           "%%s: f32[%d,%d,%d,%d] = matmul(%%q, %%kt) @\"qk\"\n%%ss: f32[%d,%d,%d,%d] = mul(%%s, %%half) @\"scale\"\n"
           "%%a: f32[%d,%d,%d,%d] = softmax(%%ss) {axis=-1} @\"sm\"\n%%o: f32[%d,%d,%d,%d] = matmul(%%a, %%v) @\"pv\"\n"
           "%%ot: f32[%d,%d,%d,%d] = transpose(%%o) {perm=[0,2,1,3]} @\"ot\"\n"
           "%%y: f32[%d,%d,%d] = reshape(%%ot, %%s3) @\"merge\"\noutput %%y\noutput %%a\n",
           B, N, C, wtext, B, N, H, D, B, N, E, B, N, 3 * E, B, N, 3 * E, B, N, H, D, B, H, N, D, B, H, N, D, B, H, N, D,
           B, H, N, D, B, H, D, N, B, H, N, N, B, H, N, N, B, H, N, N, B, H, N, D, B, N, H, D, B, N, E);
  Graph *gp = parse(prim), *gf = parse(fused);
  float x[B * N * C];
  for (int i = 0; i < B * N * C; i++) x[i] = 2 * urand();
  float *in[1] = {x}, *yf = run(gf, in);
  Tensor tx = gp->inputs[0]->t, to[2];
  tx.data = x;
  Diag d = {0};
  if (ir_interpret(gp, &tx, to, &d)) fail_msg("%s", d.msg);
  float *yp = to[0].data, *ap = to[1].data;
  for (int i = 0; i < B * N * E; i++) assert_true(fabs(yp[i] - yf[i]) < 1e-5);
  /* The probabilities an observer gets from the fused node are the primitive softmax. */
  ProbsSeen seen = {0};
  Tensor yo;
  if (ir_interpret_observed(gf, &tx, &yo, keep_probs, &seen, &d)) fail_msg("%s", d.msg);
  assert_int_equal(seen.calls, 1);
  for (int i = 0; i < B * H * N * N; i++) assert_true(fabs(seen.probs[i] - ap[i]) < 1e-6);
  free(seen.probs);
  free(yo.data);
  free(ap);
  free(yp);
  free(yf);
  ir_graph_free(gp);
  ir_graph_free(gf);
}

/* ---- the fusion passes, differentially, on the golden cases ---- */

/* Interprets g on inputs in[] into out[] (every output; free with free_outputs). */
static void run_all(const Graph *g, float **in, Tensor *out) {
  Tensor ti[8];
  assert_true(g->n_inputs <= 8 && g->n_outputs <= 8);
  for (int i = 0; i < g->n_inputs; i++) {
    ti[i] = g->inputs[i]->t;
    ti[i].data = in[i];
  }
  Diag d = {0};
  if (ir_interpret(g, ti, out, &d)) fail_msg("%s", d.msg);
}

static void free_outputs(Tensor *out, int n) {
  for (int j = 0; j < n; j++) free(out[j].data);
}

/* Compares the n outputs a[] and b[] of one case: the index of the first
 * output whose type differs or that has an element off by more than tol
 * (floats; other dtypes exactly), with that element in *at (-1 for the type),
 * or -1 when every output agrees. */
static int first_differing_output(const Tensor *a, const Tensor *b, int n, double tol, int64_t *at) {
  for (int j = 0; j < n; j++) {
    *at = -1;
    if (!tensor_same_type(&a[j], &b[j])) return j;
    for (int64_t k = 0; k < tensor_numel(&a[j]); k++) {
      *at = k;
      if (a[j].dtype == DT_F32 ? !(fabs(((float *)a[j].data)[k] - ((float *)b[j].data)[k]) <= tol)
                               : tensor_get_i64(&a[j], k) != tensor_get_i64(&b[j], k))
        return j;
    }
  }
  return -1;
}

/* The comparison looks past output 0: two graphs whose first outputs agree
 * and whose second output differs in its last element differ at output 1;
 * an extra output that differs in dtype is caught as well. */
static void test_diff_compares_every_output(void **state) {
  (void)state;
  Graph *a = parse("graph \"g\" opset 17\ninput %x: f32[3]\n"
                   "%y: f32[3] = relu(%x) @\"r\"\n%z: f32[3] = neg(%x) @\"n\"\n"
                   "output %y\noutput %z\n");
  Graph *b = parse("graph \"g\" opset 17\ninput %x: f32[3]\n"
                   "%y: f32[3] = relu(%x) @\"r\"\n%z: f32[3] = abs(%x) @\"n\"\n"
                   "output %y\noutput %z\n");
  float x[3] = {0, 0, 3}, *in[1] = {x}; /* -x and |x| agree but in the last element */
  Tensor ta[2], tb[2];
  run_all(a, in, ta);
  run_all(b, in, tb);
  int64_t at = 0;
  assert_int_equal(first_differing_output(ta, ta, 2, 1e-4, &at), -1);
  assert_int_equal(first_differing_output(ta, tb, 1, 1e-4, &at), -1); /* output 0 alone agrees */
  assert_int_equal(first_differing_output(ta, tb, 2, 1e-4, &at), 1);
  assert_int_equal(at, 2);
  tb[1].dtype = DT_I32;
  assert_int_equal(first_differing_output(ta, tb, 2, 1e-4, &at), 1);
  assert_int_equal(at, -1);
  free_outputs(ta, 2);
  free_outputs(tb, 2);
  ir_graph_free(a);
  ir_graph_free(b);
}

/* Interprets the case before and after the whole pipeline and compares every
 * output; 1 when it ran. */
static int diff_case(const char *text, const char *where) {
  Diag d = {0};
  Graph *g0 = ir_parse(text, where, &d), *g1 = ir_parse(text, where, &d);
  int ok = g0 && g1 && !ir_verify(g0, &d) && !ir_verify(g1, &d);
  for (int i = 0; ok && i < g0->n_values; i++) ok = g0->values[i]->kind != VK_CONST || g0->values[i]->t.data;
  if (!ok) {
    ir_graph_free(g0);
    ir_graph_free(g1);
    return 0;
  }
  PassOptions opt = {.verify_each = 1};
  PassCtx ctx = {.opt = &opt};
  if (passes_run(g1, &ctx, &d)) fail_msg("%s: %s", where, d.msg);
  pass_ctx_free(&ctx);
  assert_int_equal(g0->n_outputs, g1->n_outputs);
  float *in[8];
  for (int i = 0; i < g0->n_inputs; i++) {
    int64_t cnt = tensor_numel(&g0->inputs[i]->t);
    in[i] = malloc(sizeof(float) * (size_t)(cnt + 1));
    for (int64_t k = 0; k < cnt; k++) in[i][k] = 2 * urand();
  }
  Tensor y0[8], y1[8];
  run_all(g0, in, y0);
  run_all(g1, in, y1);
  int64_t at;
  int j = first_differing_output(y0, y1, g0->n_outputs, 1e-4, &at);
  if (j >= 0) fail_msg("%s: output %d differs after the passes at %lld", where, j, (long long)at);
  for (int i = 0; i < g0->n_inputs; i++) free(in[i]);
  free_outputs(y0, g0->n_outputs);
  free_outputs(y1, g1->n_outputs);
  ir_graph_free(g0);
  ir_graph_free(g1);
  return 1;
}

/* Splits a golden file into its cases (separated by `# -----`) and diffs each one that parses. */
static int diff_file(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", GOLDEN_DIR, name);
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  static char text[1 << 20];
  size_t len = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[len] = 0;
  int ran = 0, index = 1;
  for (char *p = text; p && *p; index++) {
    char *sep = strstr(p, "\n# -----");
    if (sep) *sep = 0;
    char where[600];
    snprintf(where, sizeof where, "%s case %d", name, index);
    if (!strstr(p, "# RUN: not ")) ran += diff_case(p, where);
    p = sep ? strchr(sep + 1, '\n') : NULL;
  }
  return ran;
}

static void test_golden_cases_keep_values(void **state) {
  (void)state;
  DIR *dir = opendir(GOLDEN_DIR);
  if (!dir) fail_msg("cannot open %s", GOLDEN_DIR);
  int files = 0;
  for (struct dirent *e; (e = readdir(dir));) {
    size_t len = strlen(e->d_name);
    if ((strncmp(e->d_name, "fuse_", 5) && strncmp(e->d_name, "canon_", 6) && strncmp(e->d_name, "prune_", 6)) || len < 4 ||
        strcmp(e->d_name + len - 4, ".vir"))
      continue;
    assert_true(diff_file(e->d_name) >= 2);
    files++;
  }
  closedir(dir);
  assert_true(files >= 5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gelu_values),
      cmocka_unit_test(test_gelu_bad_attr),
      cmocka_unit_test(test_linear_epilogues),
      cmocka_unit_test(test_attention_vs_primitives),
      cmocka_unit_test(test_diff_compares_every_output),
      cmocka_unit_test(test_golden_cases_keep_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
