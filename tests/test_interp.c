/* Unit tests of the reference interpreter: single kernels on hand-built nodes
 * checked against hand-computed values, and ir_interpret on a small graph. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

#define DIMS(...) ((const int64_t[]){__VA_ARGS__})
#define F32(...) ((float[]){__VA_ARGS__})
#define I64(...) ((int64_t[]){__VA_ARGS__})
#define I32(...) ((int32_t[]){__VA_ARGS__})
#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- fixtures ---- */

/* A graph holding one node under test; values named uniquely per node. */
typedef struct Fix {
  Graph *g;
  Node *n;
  Diag d;
  Tensor in[8], out[8];
} Fix;

/* A tensor view over data (not owned). */
static Tensor tensor(DType t, int rank, const int64_t *dims, void *data) {
  Tensor x = {.dtype = t, .rank = rank, .data = data};
  for (int a = 0; a < rank; a++) x.dims[a] = dims[a];
  return x;
}

/* Starts a fixture with node `op` of n_in inputs and n_out outputs. */
static void fix_init(Fix *f, OpKind op, int n_in, int n_out) {
  memset(f, 0, sizeof *f);
  f->g = ir_graph_new("test");
  assert_non_null(f->g);
  f->n = ir_node_new(f->g, op, "n0", n_in, n_out, &f->d);
  assert_non_null(f->n);
  for (int i = 0; i < n_in + n_out; i++) {
    char name[32];
    snprintf(name, sizeof name, "v%d", i);
    Value *v = ir_value_new(f->g, name, i < n_in ? VK_INPUT : VK_NODE, &f->d);
    assert_non_null(v);
    if (i < n_in) f->n->in[i] = v;
    else f->n->out[i - n_in] = v, v->def = f->n;
  }
}

/* Sets input i to a view over data. */
static void fix_in(Fix *f, int i, DType t, int rank, const int64_t *dims, void *data) {
  f->in[i] = tensor(t, rank, dims, data);
}

/* Marks optional input i absent. */
static void fix_absent(Fix *f, int i) {
  f->n->in[i] = NULL;
  memset(&f->in[i], 0, sizeof f->in[i]);
}

/* Gives output j a type and zeroed data, as the interpreter's driver does. */
static void fix_out(Fix *f, int j, DType t, int rank, const int64_t *dims) {
  f->out[j] = tensor(t, rank, dims, NULL);
  size_t bytes = tensor_bytes(&f->out[j]);
  f->out[j].data = calloc(1, bytes ? bytes : 1);
  assert_non_null(f->out[j].data);
}

static void set_i(Fix *f, const char *name, int64_t v) {
  Attr *a = ir_attr_add(f->g, f->n, name, AT_INT, &f->d);
  assert_non_null(a);
  a->i = v;
}

static void set_f(Fix *f, const char *name, float v) {
  Attr *a = ir_attr_add(f->g, f->n, name, AT_FLOAT, &f->d);
  assert_non_null(a);
  a->f = v;
}

static void set_s(Fix *f, const char *name, const char *s) {
  Attr *a = ir_attr_add(f->g, f->n, name, AT_STRING, &f->d);
  assert_non_null(a);
  a->s = arena_strdup(&f->g->arena, s);
}

static void set_ints(Fix *f, const char *name, const int64_t *v, int count) {
  Attr *a = ir_attr_add(f->g, f->n, name, AT_INTS, &f->d);
  assert_non_null(a);
  a->n = count;
  a->ints = arena_alloc(&f->g->arena, sizeof(int64_t) * (size_t)count);
  memcpy(a->ints, v, sizeof(int64_t) * (size_t)count);
}

/* Runs the node's kernel; returns its status. */
static int fix_run(Fix *f) { return ir_interp_node(f->n, f->in, f->out, &f->d); }

/* Runs the node and fails the test with the diagnostic on error. */
static void fix_run_ok(Fix *f) {
  int rc = fix_run(f);
  if (rc) fail_msg("%s", f->d.msg);
}

static void fix_free(Fix *f) {
  for (int j = 0; j < 8; j++) free(f->out[j].data);
  ir_graph_free(f->g);
}

/* Output j's data as floats equals want within 1e-6 (relative to 1). */
static void expect_f32(const Fix *f, int j, const float *want, int count) {
  assert_int_equal(tensor_numel(&f->out[j]), count);
  const float *got = f->out[j].data;
  for (int i = 0; i < count; i++)
    if (fabsf(got[i] - want[i]) > 1e-6f * fmaxf(1.0f, fabsf(want[i])))
      fail_msg("element %d: got %.9g, want %.9g", i, got[i], want[i]);
}

static void expect_i64(const Fix *f, int j, const int64_t *want, int count) {
  assert_int_equal(tensor_numel(&f->out[j]), count);
  for (int i = 0; i < count; i++) assert_int_equal(((int64_t *)f->out[j].data)[i], want[i]);
}

static void expect_i32(const Fix *f, int j, const int32_t *want, int count) {
  assert_int_equal(tensor_numel(&f->out[j]), count);
  for (int i = 0; i < count; i++) assert_int_equal(((int32_t *)f->out[j].data)[i], want[i]);
}

/* Runs expecting failure with `needle` in the message. */
static void expect_error(Fix *f, const char *needle) {
  assert_int_equal(fix_run(f), -1);
  assert_true(f->d.has_error);
  if (!strstr(f->d.msg, needle)) fail_msg("message '%s' lacks '%s'", f->d.msg, needle);
}

/* ---- reduced precision (ir/precision.c) ---- */

/* bf16: nearest, ties to even; infinities and NaN kept. */
static void test_bf16_round(void **state) {
  (void)state;
  assert_true(ir_bf16_round(1.0f) == 1.0f);
  assert_true(ir_bf16_round(1.00390625f) == 1.0f);       /* 1 + 2^-8: a tie, to the even 1.0 */
  assert_true(ir_bf16_round(1.01171875f) == 1.015625f);  /* 1 + 3 * 2^-8: a tie, to the even 1 + 2^-6 */
  assert_true(ir_bf16_round(1.0043f) == 1.0078125f);     /* above the tie: up */
  assert_true(ir_bf16_round(-3.14159265f) == -3.140625f);
  assert_true(isinf(ir_bf16_round(INFINITY)) && isnan(ir_bf16_round(NAN)));
  assert_true(isinf(ir_bf16_round(3.4e38f))); /* past the largest bf16: rounds to infinity */
}

/* int8 weights per column (symmetric, /127) and activations per row (asymmetric, 0..127: 0.0 exact). */
static void test_int8_fake_quant(void **state) {
  (void)state;
  float w[6] = {1.27f, 2.0f, -0.635f, -1.0f, 0.01f, 0.0f}, wq[6]; /* [3, 2]: columns {1.27,-0.635,0.01}, {2,-1,0} */
  ir_fake_quant_weights(w, 3, 2, PREC_INT8, wq);
  float want_w[6] = {1.27f, 2.0f, -0.64f /* -63.5: ties to even, -64 */, (float)(-64 * 2.0 / 127), 0.01f, 0.0f};
  for (int i = 0; i < 6; i++) assert_true(fabsf(wq[i] - want_w[i]) < 1e-6f);
  float x[4] = {-1.0f, 0.0f, 0.25f, 0.5f}, xq[4];
  ir_fake_quant_row(x, 4, PREC_INT8, xq);
  double scale = 1.5 / 127; /* [min, max] = [-1, 0.5]; 0.0 is the integer 85 */
  float want_x[4] = {(float)(-85 * scale), 0.0f, (float)(21 * scale), (float)(42 * scale)};
  for (int i = 0; i < 4; i++) assert_true(fabsf(xq[i] - want_x[i]) < 1e-7f);
}

/* A linear node marked int8 multiplies the quantised operands: x = [1, -1] (scale 2/127, zero 64: 1.0 maps
 * to 127 -> 63 * 2/127, -1.0 to 0 -> -64 * 2/127) with w = [1, 1]^T gives -2/127, not fp32's 0; bf16 keeps
 * 1 - 1.00390625 at 1 - 1 = 0 (the tie rounds to 1); the bias stays fp32. */
static void test_linear_precision(void **state) {
  (void)state;
  const char *modes[3] = {"fp32", "int8", "bf16"};
  float xs[3][2] = {{1, -1}, {1, -1}, {1, -1.00390625f}}, want[3] = {0.5f, 0.5f - 2.0f / 127, 0.5f};
  for (int m = 0; m < 3; m++) {
    Fix f;
    fix_init(&f, OP_LINEAR, 3, 1);
    fix_in(&f, 0, DT_F32, 2, DIMS(1, 2), xs[m]);
    fix_in(&f, 1, DT_F32, 2, DIMS(2, 1), F32(1, 1));
    fix_in(&f, 2, DT_F32, 1, DIMS(1), F32(0.5f));
    fix_out(&f, 0, DT_F32, 2, DIMS(1, 1));
    set_s(&f, "precision", modes[m]);
    fix_run_ok(&f);
    expect_f32(&f, 0, &want[m], 1);
    fix_free(&f);
  }
  Fix f;
  fix_init(&f, OP_LINEAR, 2, 1);
  fix_in(&f, 0, DT_F32, 2, DIMS(1, 2), F32(1, 2));
  fix_in(&f, 1, DT_F32, 2, DIMS(2, 1), F32(1, 1));
  fix_out(&f, 0, DT_F32, 2, DIMS(1, 1));
  set_s(&f, "precision", "int4");
  expect_error(&f, "unknown precision \"int4\"");
  fix_free(&f);
}

/* ---- elementwise ---- */

static void test_add_broadcast_row(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_ADD, 2, 1);
  fix_in(&f, 0, DT_F32, 2, DIMS(2, 3), F32(1, 2, 3, 4, 5, 6));
  fix_in(&f, 1, DT_F32, 1, DIMS(3), F32(10, 20, 30));
  fix_out(&f, 0, DT_F32, 2, DIMS(2, 3));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(11, 22, 33, 14, 25, 36), 6);
  fix_free(&f);
}

static void test_add_broadcast_both(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_ADD, 2, 1);
  fix_in(&f, 0, DT_F32, 2, DIMS(2, 1), F32(1, 2));
  fix_in(&f, 1, DT_F32, 2, DIMS(1, 3), F32(10, 20, 30));
  fix_out(&f, 0, DT_F32, 2, DIMS(2, 3));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(11, 21, 31, 12, 22, 32), 6);
  fix_free(&f);
}

static void test_sub_mul_i64(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_MUL, 2, 1);
  fix_in(&f, 0, DT_I64, 1, DIMS(3), I64(2, -3, 4));
  fix_in(&f, 1, DT_I64, 0, NULL, I64(5));
  fix_out(&f, 0, DT_I64, 1, DIMS(3));
  fix_run_ok(&f);
  expect_i64(&f, 0, I64(10, -15, 20), 3);
  fix_free(&f);
  fix_init(&f, OP_SUB, 2, 1);
  fix_in(&f, 0, DT_I32, 1, DIMS(2), I32(1, 2));
  fix_in(&f, 1, DT_I32, 1, DIMS(2), I32(5, -5));
  fix_out(&f, 0, DT_I32, 1, DIMS(2));
  fix_run_ok(&f);
  expect_i32(&f, 0, I32(-4, 7), 2);
  fix_free(&f);
}

static void test_div_int_truncates(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_DIV, 2, 1);
  fix_in(&f, 0, DT_I32, 1, DIMS(4), I32(7, -7, 7, -7));
  fix_in(&f, 1, DT_I32, 1, DIMS(4), I32(2, 2, -2, -2));
  fix_out(&f, 0, DT_I32, 1, DIMS(4));
  fix_run_ok(&f);
  expect_i32(&f, 0, I32(3, -3, -3, 3), 4);
  fix_free(&f);
}

static void test_div_int_by_zero(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_DIV, 2, 1);
  fix_in(&f, 0, DT_I64, 1, DIMS(2), I64(1, 2));
  fix_in(&f, 1, DT_I64, 1, DIMS(2), I64(1, 0));
  fix_out(&f, 0, DT_I64, 1, DIMS(2));
  expect_error(&f, "integer division by zero");
  assert_non_null(strstr(f.d.msg, "node 'n0' (Div)"));
  fix_free(&f);
}

static void test_pow_mixed(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_POW, 2, 1);
  fix_in(&f, 0, DT_F32, 1, DIMS(3), F32(2, -3, 4));
  fix_in(&f, 1, DT_I64, 0, NULL, I64(2));
  fix_out(&f, 0, DT_F32, 1, DIMS(3));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(4, 9, 16), 3);
  fix_free(&f);
  fix_init(&f, OP_POW, 2, 1);
  fix_in(&f, 0, DT_I64, 1, DIMS(3), I64(2, -3, 5));
  fix_in(&f, 1, DT_I64, 1, DIMS(3), I64(10, 3, 0));
  fix_out(&f, 0, DT_I64, 1, DIMS(3));
  fix_run_ok(&f);
  expect_i64(&f, 0, I64(1024, -27, 1), 3);
  fix_free(&f);
}

static void test_equal_where(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_EQUAL, 2, 1);
  fix_in(&f, 0, DT_I64, 1, DIMS(3), I64(1, 2, 3));
  fix_in(&f, 1, DT_I64, 0, NULL, I64(2));
  fix_out(&f, 0, DT_BOOL, 1, DIMS(3));
  fix_run_ok(&f);
  const uint8_t *eq = f.out[0].data;
  assert_true(eq[0] == 0 && eq[1] == 1 && eq[2] == 0);
  fix_free(&f);
  fix_init(&f, OP_WHERE, 3, 1);
  fix_in(&f, 0, DT_BOOL, 2, DIMS(2, 1), (uint8_t[]){1, 0});
  fix_in(&f, 1, DT_F32, 1, DIMS(2), F32(1, 2));
  fix_in(&f, 2, DT_F32, 0, NULL, F32(-1));
  fix_out(&f, 0, DT_F32, 2, DIMS(2, 2));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(1, 2, -1, -1), 4);
  fix_free(&f);
}

/* ---- issue 12's elementwise ops ---- */

/* Output j's bytes (a bool tensor) equal want. */
static void expect_bool(const Fix *f, int j, const uint8_t *want, int count) {
  assert_int_equal(tensor_numel(&f->out[j]), count);
  assert_int_equal(f->out[j].dtype, DT_BOOL);
  for (int i = 0; i < count; i++)
    if (((const uint8_t *)f->out[j].data)[i] != want[i])
      fail_msg("element %d: got %d, want %d", i, ((const uint8_t *)f->out[j].data)[i], want[i]);
}
#define BOOLS(...) ((uint8_t[]){__VA_ARGS__})

/* Less, LessOrEqual, Greater, GreaterOrEqual broadcast to bool; NaN compares false; integers signed. */
static void test_compare(void **state) {
  (void)state;
  static const OpKind ops[4] = {OP_LESS, OP_LESS_OR_EQUAL, OP_GREATER, OP_GREATER_OR_EQUAL};
  static const uint8_t want[4][6] = {{1, 0, 0, 0, 0, 0}, {1, 1, 0, 0, 1, 0}, {0, 0, 1, 0, 0, 1}, {0, 1, 1, 0, 1, 1}};
  for (int k = 0; k < 4; k++) {
    Fix f;
    fix_init(&f, ops[k], 2, 1);
    fix_in(&f, 0, DT_F32, 2, DIMS(2, 3), F32(1, 2, 3, NAN, 2, 3));
    fix_in(&f, 1, DT_F32, 1, DIMS(3), F32(2, 2, 2));
    fix_out(&f, 0, DT_BOOL, 2, DIMS(2, 3));
    fix_run_ok(&f);
    expect_bool(&f, 0, want[k], 6);
    fix_free(&f);
  }
  Fix f;
  fix_init(&f, OP_LESS, 2, 1);
  fix_in(&f, 0, DT_I64, 1, DIMS(3), I64(-5, 0, INT64_MAX));
  fix_in(&f, 1, DT_I64, 0, NULL, I64(0));
  fix_out(&f, 0, DT_BOOL, 1, DIMS(3));
  fix_run_ok(&f);
  expect_bool(&f, 0, BOOLS(1, 0, 0), 3);
  fix_free(&f);
  fix_init(&f, OP_GREATER, 2, 1);
  fix_in(&f, 0, DT_I32, 1, DIMS(2), I32(1, 2));
  fix_in(&f, 1, DT_I64, 1, DIMS(2), I64(1, 2));
  fix_out(&f, 0, DT_BOOL, 1, DIMS(2));
  expect_error(&f, "operand types differ (i32 vs i64)");
  fix_free(&f);
}

/* Not, And, Or, Xor on bools, with broadcasting; other types are refused. */
static void test_logical(void **state) {
  (void)state;
  static const OpKind ops[3] = {OP_AND, OP_OR, OP_XOR};
  static const uint8_t want[3][4] = {{0, 0, 0, 1}, {0, 1, 1, 1}, {0, 1, 1, 0}};
  for (int k = 0; k < 3; k++) {
    Fix f;
    fix_init(&f, ops[k], 2, 1);
    fix_in(&f, 0, DT_BOOL, 2, DIMS(2, 1), BOOLS(0, 1));
    fix_in(&f, 1, DT_BOOL, 1, DIMS(2), BOOLS(0, 1));
    fix_out(&f, 0, DT_BOOL, 2, DIMS(2, 2));
    fix_run_ok(&f);
    expect_bool(&f, 0, want[k], 4);
    fix_free(&f);
  }
  Fix f;
  fix_init(&f, OP_NOT, 1, 1);
  fix_in(&f, 0, DT_BOOL, 1, DIMS(3), BOOLS(0, 1, 0));
  fix_out(&f, 0, DT_BOOL, 1, DIMS(3));
  fix_run_ok(&f);
  expect_bool(&f, 0, BOOLS(1, 0, 1), 3);
  fix_free(&f);
  fix_init(&f, OP_AND, 2, 1);
  fix_in(&f, 0, DT_F32, 1, DIMS(1), F32(1));
  fix_in(&f, 1, DT_BOOL, 1, DIMS(1), BOOLS(1));
  fix_out(&f, 0, DT_BOOL, 1, DIMS(1));
  expect_error(&f, "operand has unsupported type f32[1]");
  fix_free(&f);
}

/* Mod: fmod = 0 takes the divisor's sign (Python, numpy), fmod = 1 the dividend's (C); x mod -1 is 0 even for
 * INT64_MIN; an integer x mod 0 is an error. */
static void test_mod(void **state) {
  (void)state;
  static const int64_t want_i[2][6] = {{2, 1, -1, -2, 0, 0}, {2, -2, 2, -2, 0, 0}};
  static const float want_f[2][5] = {{1.5f, 0.5f, -0.5f, 0, -0.0f}, {1.5f, -1.5f, 1.5f, 0, 0}};
  for (int fmod = 0; fmod < 2; fmod++) {
    Fix f;
    fix_init(&f, OP_MOD, 2, 1);
    fix_in(&f, 0, DT_I64, 1, DIMS(6), I64(5, -5, 5, -5, 7, INT64_MIN));
    fix_in(&f, 1, DT_I64, 1, DIMS(6), I64(3, 3, -3, -3, -1, -1));
    fix_out(&f, 0, DT_I64, 1, DIMS(6));
    set_i(&f, "fmod", fmod);
    fix_run_ok(&f);
    expect_i64(&f, 0, want_i[fmod], 6);
    fix_free(&f);
    fix_init(&f, OP_MOD, 2, 1);
    fix_in(&f, 0, DT_F32, 1, DIMS(5), F32(5.5f, -5.5f, 5.5f, 6, 6));
    fix_in(&f, 1, DT_F32, 1, DIMS(5), F32(2, 2, -2, 3, -3));
    fix_out(&f, 0, DT_F32, 1, DIMS(5));
    set_i(&f, "fmod", fmod);
    fix_run_ok(&f);
    expect_f32(&f, 0, want_f[fmod], 5);
    assert_int_equal(!!signbit(((float *)f.out[0].data)[4]), !fmod); /* -0 for fmod = 0: the divisor's sign */
    fix_free(&f);
  }
  Fix f;
  fix_init(&f, OP_MOD, 2, 1);
  fix_in(&f, 0, DT_I32, 1, DIMS(2), I32(1, 2));
  fix_in(&f, 1, DT_I32, 0, NULL, I32(0));
  fix_out(&f, 0, DT_I32, 1, DIMS(2));
  expect_error(&f, "integer division by zero");
  fix_free(&f);
}

/* Min and Max over three broadcast operands (a NaN anywhere gives NaN), and over one (a copy). */
static void test_min_max(void **state) {
  (void)state;
  for (int is_max = 0; is_max < 2; is_max++) {
    Fix f;
    fix_init(&f, is_max ? OP_MAX : OP_MIN, 3, 1);
    fix_in(&f, 0, DT_F32, 2, DIMS(2, 2), F32(1, 5, NAN, 2.5f));
    fix_in(&f, 1, DT_F32, 1, DIMS(2), F32(3, NAN));
    fix_in(&f, 2, DT_F32, 0, NULL, F32(2));
    fix_out(&f, 0, DT_F32, 2, DIMS(2, 2));
    fix_run_ok(&f);
    const float *y = f.out[0].data;
    assert_true(y[0] == (is_max ? 3 : 1) && isnan(y[1]) && isnan(y[2]) && isnan(y[3]));
    fix_free(&f);
    fix_init(&f, is_max ? OP_MAX : OP_MIN, 2, 1);
    fix_in(&f, 0, DT_I32, 1, DIMS(3), I32(-7, 0, 9));
    fix_in(&f, 1, DT_I32, 2, DIMS(2, 1), I32(1, -8));
    fix_out(&f, 0, DT_I32, 2, DIMS(2, 3));
    fix_run_ok(&f);
    expect_i32(&f, 0, is_max ? I32(1, 1, 9, -7, 0, 9) : I32(-7, 0, 1, -8, -8, -8), 6);
    fix_free(&f);
  }
  Fix f;
  fix_init(&f, OP_MAX, 1, 1);
  fix_in(&f, 0, DT_I64, 1, DIMS(2), I64(4, -4));
  fix_out(&f, 0, DT_I64, 1, DIMS(2));
  fix_run_ok(&f);
  expect_i64(&f, 0, I64(4, -4), 2);
  fix_free(&f);
}

/* Clip with both bounds, one, none, crossing bounds (max wins) and NaN; integers. */
static void test_clip(void **state) {
  (void)state;
  float lo = -1, hi = 2, x[5] = {-3, 0.5f, 7, NAN, -1};
  static const float want[4][5] = {{-1, 0.5f, 2, NAN, -1}, {-1, 0.5f, 7, NAN, -1}, {-3, 0.5f, 2, NAN, -1},
                                   {-3, 0.5f, 7, NAN, -1}};
  for (int m = 0; m < 4; m++) { /* bounds: both, min only, max only, none */
    Fix f;
    fix_init(&f, OP_CLIP, 3, 1);
    fix_in(&f, 0, DT_F32, 1, DIMS(5), x);
    fix_in(&f, 1, DT_F32, 0, NULL, &lo);
    fix_in(&f, 2, DT_F32, 0, NULL, &hi);
    if (m == 2 || m == 3) fix_absent(&f, 1);
    if (m == 1 || m == 3) fix_absent(&f, 2);
    fix_out(&f, 0, DT_F32, 1, DIMS(5));
    fix_run_ok(&f);
    const float *y = f.out[0].data;
    for (int i = 0; i < 5; i++) assert_true(y[i] == want[m][i] || (isnan(y[i]) && isnan(want[m][i])));
    fix_free(&f);
  }
  Fix f;
  fix_init(&f, OP_CLIP, 3, 1);
  fix_in(&f, 0, DT_I64, 1, DIMS(3), I64(-5, 3, 9));
  fix_in(&f, 1, DT_I64, 0, NULL, I64(4));
  fix_in(&f, 2, DT_I64, 1, DIMS(1), I64(2)); /* min > max: everything is max */
  fix_out(&f, 0, DT_I64, 1, DIMS(3));
  fix_run_ok(&f);
  expect_i64(&f, 0, I64(2, 2, 2), 3);
  fix_free(&f);
}

/* HardSigmoid (defaults and attributes) and HardSwish, clamped at both ends. */
static void test_hard_sigmoid_swish(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_HARD_SIGMOID, 1, 1);
  fix_in(&f, 0, DT_F32, 1, DIMS(4), F32(-5, 0, 1, 5));
  fix_out(&f, 0, DT_F32, 1, DIMS(4));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(0, 0.5f, 0.7f, 1), 4);
  fix_free(&f);
  fix_init(&f, OP_HARD_SIGMOID, 1, 1);
  fix_in(&f, 0, DT_F32, 1, DIMS(3), F32(-1, 0, 1));
  fix_out(&f, 0, DT_F32, 1, DIMS(3));
  set_f(&f, "alpha", 0.5f);
  set_f(&f, "beta", 0.25f);
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(0, 0.25f, 0.75f), 3);
  fix_free(&f);
  fix_init(&f, OP_HARD_SWISH, 1, 1);
  fix_in(&f, 0, DT_F32, 1, DIMS(4), F32(-4, -1.5f, 1.5f, 4));
  fix_out(&f, 0, DT_F32, 1, DIMS(4));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(0, -0.375f, 1.125f, 4), 4);
  fix_free(&f);
}

static void test_unary(void **state) {
  (void)state;
  static const struct { OpKind op; float x, y; } cases[] = {
      {OP_NEG, 2, -2},          {OP_ABS, -2, 2},     {OP_SQRT, 9, 3},       {OP_RECIPROCAL, 4, 0.25f},
      {OP_EXP, 0, 1},           {OP_ERF, 0, 0},      {OP_TANH, 0, 0},       {OP_SIGMOID, 0, 0.5f},
      {OP_RELU, -3, 0},         {OP_RELU, 3, 3},     {OP_CEIL, 1.25f, 2},   {OP_CEIL, -1.5f, -1},
      {OP_ERF, 1, 0.8427007929f}, {OP_TANH, 1, 0.7615941560f},
  };
  for (int c = 0; c < NELEM(cases); c++) {
    Fix f;
    float x = cases[c].x;
    fix_init(&f, cases[c].op, 1, 1);
    fix_in(&f, 0, DT_F32, 0, NULL, &x);
    fix_out(&f, 0, DT_F32, 0, NULL);
    fix_run_ok(&f);
    expect_f32(&f, 0, &cases[c].y, 1);
    fix_free(&f);
  }
  Fix f;
  fix_init(&f, OP_NEG, 1, 1);
  fix_in(&f, 0, DT_I64, 1, DIMS(2), I64(3, -4));
  fix_out(&f, 0, DT_I64, 1, DIMS(2));
  fix_run_ok(&f);
  expect_i64(&f, 0, I64(-3, 4), 2);
  fix_free(&f);
}

static void test_cast(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_CAST, 1, 1);
  set_i(&f, "to", 7);
  fix_in(&f, 0, DT_F32, 1, DIMS(4), F32(2.7f, -2.7f, 0, 1e3f));
  fix_out(&f, 0, DT_I64, 1, DIMS(4));
  fix_run_ok(&f);
  expect_i64(&f, 0, I64(2, -2, 0, 1000), 4);
  fix_free(&f);
  fix_init(&f, OP_CAST, 1, 1);
  set_i(&f, "to", 9);
  fix_in(&f, 0, DT_F32, 1, DIMS(3), F32(0.5f, 0, -1));
  fix_out(&f, 0, DT_BOOL, 1, DIMS(3));
  fix_run_ok(&f);
  const uint8_t *b = f.out[0].data;
  assert_true(b[0] == 1 && b[1] == 0 && b[2] == 1);
  fix_free(&f);
  fix_init(&f, OP_CAST, 1, 1);
  set_i(&f, "to", 1);
  fix_in(&f, 0, DT_I32, 1, DIMS(2), I32(-5, 7));
  fix_out(&f, 0, DT_F32, 1, DIMS(2));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(-5, 7), 2);
  fix_free(&f);
}

static void test_dropout_mask(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_DROPOUT, 1, 2);
  fix_in(&f, 0, DT_F32, 1, DIMS(2), F32(1, 2));
  fix_out(&f, 0, DT_F32, 1, DIMS(2));
  fix_out(&f, 1, DT_BOOL, 1, DIMS(2));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(1, 2), 2);
  assert_int_equal(((uint8_t *)f.out[1].data)[1], 1);
  fix_free(&f);
}

/* ---- linear algebra ---- */

static void test_matmul_batch_broadcast(void **state) {
  (void)state;
  Fix f;
  /* A [2,1,2,3] x B [3,3,2] -> [2,3,2,2]: batch dims (2,1) and (3) broadcast to (2,3). */
  float a[2 * 2 * 3], b[3 * 3 * 2], want[2 * 3 * 2 * 2];
  for (int i = 0; i < NELEM(a); i++) a[i] = (float)(i % 5) - 1;
  for (int i = 0; i < NELEM(b); i++) b[i] = (float)(i % 7) * 0.5f;
  for (int p = 0; p < 2; p++)
    for (int q = 0; q < 3; q++)
      for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
          float s = 0;
          for (int k = 0; k < 3; k++) s += a[p * 6 + i * 3 + k] * b[q * 6 + k * 2 + j];
          want[((p * 3 + q) * 2 + i) * 2 + j] = s;
        }
  fix_init(&f, OP_MATMUL, 2, 1);
  fix_in(&f, 0, DT_F32, 4, DIMS(2, 1, 2, 3), a);
  fix_in(&f, 1, DT_F32, 3, DIMS(3, 3, 2), b);
  fix_out(&f, 0, DT_F32, 4, DIMS(2, 3, 2, 2));
  fix_run_ok(&f);
  expect_f32(&f, 0, want, NELEM(want));
  fix_free(&f);
}

static void test_matmul_vectors(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_MATMUL, 2, 1); /* [3] x [3,2] -> [2] */
  fix_in(&f, 0, DT_F32, 1, DIMS(3), F32(1, 2, 3));
  fix_in(&f, 1, DT_F32, 2, DIMS(3, 2), F32(1, 0, 0, 1, 1, 1));
  fix_out(&f, 0, DT_F32, 1, DIMS(2));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(4, 5), 2);
  fix_free(&f);
  fix_init(&f, OP_MATMUL, 2, 1); /* [2,2,3] x [3] -> [2,2] */
  fix_in(&f, 0, DT_F32, 3, DIMS(2, 2, 3), F32(1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1));
  fix_in(&f, 1, DT_F32, 1, DIMS(3), F32(1, 2, 3));
  fix_out(&f, 0, DT_F32, 2, DIMS(2, 2));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(1, 2, 3, 6), 4);
  fix_free(&f);
}

static void test_matmul_large(void **state) {
  (void)state;
  /* Sizes that cross the kernel's row and column blocks. */
  enum { M = 7, K = 5, N = 300 };
  float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * K * N), *want = malloc(sizeof(float) * M * N);
  for (int i = 0; i < M * K; i++) a[i] = (float)((i * 7) % 11) - 5;
  for (int i = 0; i < K * N; i++) b[i] = (float)((i * 3) % 13) - 6;
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      float s = 0;
      for (int k = 0; k < K; k++) s += a[i * K + k] * b[k * N + j];
      want[i * N + j] = s;
    }
  Fix f;
  fix_init(&f, OP_MATMUL, 2, 1);
  fix_in(&f, 0, DT_F32, 2, DIMS(M, K), a);
  fix_in(&f, 1, DT_F32, 2, DIMS(K, N), b);
  fix_out(&f, 0, DT_F32, 2, DIMS(M, N));
  fix_run_ok(&f);
  expect_f32(&f, 0, want, M * N);
  fix_free(&f);
  free(a);
  free(b);
  free(want);
}

static void test_gemm_transb_bias(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_GEMM, 3, 1);
  set_i(&f, "transB", 1);
  set_f(&f, "alpha", 2.0f);
  set_f(&f, "beta", 0.5f);
  /* A [2,3], B [2,3] used as B^T [3,2], C [2] broadcast over rows. */
  fix_in(&f, 0, DT_F32, 2, DIMS(2, 3), F32(1, 2, 3, 4, 5, 6));
  fix_in(&f, 1, DT_F32, 2, DIMS(2, 3), F32(1, 0, 1, 0, 1, 0));
  fix_in(&f, 2, DT_F32, 1, DIMS(2), F32(10, 20));
  fix_out(&f, 0, DT_F32, 2, DIMS(2, 2));
  fix_run_ok(&f);
  /* A B^T = [[4, 2], [10, 5]] */
  expect_f32(&f, 0, F32(2 * 4 + 5, 2 * 2 + 10, 2 * 10 + 5, 2 * 5 + 10), 4);
  fix_free(&f);
}

static void test_gemm_transa_no_bias(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_GEMM, 2, 1);
  set_i(&f, "transA", 1);
  fix_in(&f, 0, DT_F32, 2, DIMS(2, 1), F32(1, 2)); /* A^T = [1, 2] */
  fix_in(&f, 1, DT_F32, 2, DIMS(2, 2), F32(1, 2, 3, 4));
  fix_out(&f, 0, DT_F32, 2, DIMS(1, 2));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(7, 10), 2);
  fix_free(&f);
}

static float x9[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

static void test_conv_stride_pad(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_CONV, 3, 1);
  set_ints(&f, "strides", I64(2, 2), 2);
  set_ints(&f, "pads", I64(1, 1, 1, 1), 4);
  fix_in(&f, 0, DT_F32, 4, DIMS(1, 1, 3, 3), x9);
  fix_in(&f, 1, DT_F32, 4, DIMS(1, 1, 2, 2), F32(1, 1, 1, 1));
  fix_in(&f, 2, DT_F32, 1, DIMS(1), F32(1));
  fix_out(&f, 0, DT_F32, 4, DIMS(1, 1, 2, 2));
  fix_run_ok(&f);
  /* windows of the zero-padded 5x5 at rows/cols {0,1} and {2,3}: 1, 2+3, 4+7, 5+6+8+9 */
  expect_f32(&f, 0, F32(2, 6, 12, 29), 4);
  fix_free(&f);
}

static void test_conv_auto_pad(void **state) {
  (void)state;
  static const struct { const char *mode; float first, last; } cases[] = {
      {"SAME_UPPER", 1 + 2 + 4 + 5, 9}, /* the extra padding row/col goes at the end */
      {"SAME_LOWER", 1, 5 + 6 + 8 + 9}, /* ... or at the start */
  };
  for (int c = 0; c < 2; c++) {
    Fix f;
    fix_init(&f, OP_CONV, 3, 1);
    set_s(&f, "auto_pad", cases[c].mode);
    fix_in(&f, 0, DT_F32, 4, DIMS(1, 1, 3, 3), x9);
    fix_in(&f, 1, DT_F32, 4, DIMS(1, 1, 2, 2), F32(1, 1, 1, 1));
    fix_absent(&f, 2);
    fix_out(&f, 0, DT_F32, 4, DIMS(1, 1, 3, 3));
    fix_run_ok(&f);
    const float *y = f.out[0].data;
    assert_float_equal(y[0], cases[c].first, 0);
    assert_float_equal(y[8], cases[c].last, 0);
    fix_free(&f);
  }
}

static void test_conv_groups_dilation(void **state) {
  (void)state;
  Fix f;
  /* Depthwise (group = 2) 2x2 kernel with dilation 2 on 3x3 planes: corners only. */
  float x[18], want[2] = {2 * (1 + 3 + 7 + 9), -1 * (10 + 12 + 16 + 18)};
  for (int i = 0; i < 18; i++) x[i] = (float)(i + 1);
  fix_init(&f, OP_CONV, 2, 1);
  set_i(&f, "group", 2);
  set_ints(&f, "dilations", I64(2, 2), 2);
  set_ints(&f, "kernel_shape", I64(2, 2), 2);
  fix_in(&f, 0, DT_F32, 4, DIMS(1, 2, 3, 3), x);
  fix_in(&f, 1, DT_F32, 4, DIMS(2, 1, 2, 2), F32(2, 2, 2, 2, -1, -1, -1, -1));
  fix_out(&f, 0, DT_F32, 4, DIMS(1, 2, 1, 1));
  fix_run_ok(&f);
  expect_f32(&f, 0, want, 2);
  fix_free(&f);
}

/* ---- normalization and reductions ---- */

static void test_softmax(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_SOFTMAX, 1, 1);
  fix_in(&f, 0, DT_F32, 2, DIMS(2, 3), F32(1, 2, 3, 0, 0, 1000));
  fix_out(&f, 0, DT_F32, 2, DIMS(2, 3));
  fix_run_ok(&f);
  double s = exp(1) + exp(2) + exp(3);
  expect_f32(&f, 0, F32((float)(exp(1) / s), (float)(exp(2) / s), (float)(exp(3) / s), 0, 0, 1), 6);
  fix_free(&f);
}

static void test_softmax_axis_and_coerce(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_SOFTMAX, 1, 1); /* axis 0 of [2,2]: columns */
  set_i(&f, "axis", 0);
  fix_in(&f, 0, DT_F32, 2, DIMS(2, 2), F32(0, 5, 0, 5));
  fix_out(&f, 0, DT_F32, 2, DIMS(2, 2));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(0.5f, 0.5f, 0.5f, 0.5f), 4);
  fix_free(&f);
  fix_init(&f, OP_SOFTMAX, 1, 1); /* coerce_2d, axis 1 of [1,2,2]: all four at once */
  set_i(&f, "axis", 1);
  set_i(&f, "coerce_2d", 1);
  fix_in(&f, 0, DT_F32, 3, DIMS(1, 2, 2), F32(1, 1, 1, 1));
  fix_out(&f, 0, DT_F32, 3, DIMS(1, 2, 2));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(0.25f, 0.25f, 0.25f, 0.25f), 4);
  fix_free(&f);
}

static void test_layer_norm(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_LAYER_NORM, 3, 3);
  set_f(&f, "epsilon", 0.0f);
  /* row 0: mean 2.5, var 1.25; row 1 is twice row 0: mean 5, var 5, same normalized values */
  fix_in(&f, 0, DT_F32, 2, DIMS(2, 4), F32(1, 2, 3, 4, 2, 4, 6, 8));
  fix_in(&f, 1, DT_F32, 1, DIMS(4), F32(1, 1, 2, 2));
  fix_in(&f, 2, DT_F32, 1, DIMS(4), F32(0, 1, 0, 1));
  fix_out(&f, 0, DT_F32, 2, DIMS(2, 4));
  fix_out(&f, 1, DT_F32, 2, DIMS(2, 1));
  fix_out(&f, 2, DT_F32, 2, DIMS(2, 1));
  fix_run_ok(&f);
  float z1 = (float)(1.5 / sqrt(1.25)), z2 = (float)(0.5 / sqrt(1.25));
  expect_f32(&f, 0, F32(-z1, -z2 + 1, 2 * z2, 2 * z1 + 1, -z1, -z2 + 1, 2 * z2, 2 * z1 + 1), 8);
  expect_f32(&f, 1, F32(2.5f, 5), 2);
  expect_f32(&f, 2, F32((float)(1 / sqrt(1.25)), (float)(1 / sqrt(5.0))), 2);
  fix_free(&f);
}

static void test_layer_norm_axis_no_bias(void **state) {
  (void)state;
  Fix f;
  /* axis 1 of [1,2,2]: normalize over 4 with default epsilon; scale [2] broadcasts to [2,2] */
  fix_init(&f, OP_LAYER_NORM, 2, 1);
  set_i(&f, "axis", 1);
  fix_in(&f, 0, DT_F32, 3, DIMS(1, 2, 2), F32(0, 0, 2, 2));
  fix_in(&f, 1, DT_F32, 1, DIMS(2), F32(1, 2));
  fix_out(&f, 0, DT_F32, 3, DIMS(1, 2, 2));
  fix_run_ok(&f);
  float z = (float)(1 / sqrt(1 + 1e-5));
  expect_f32(&f, 0, F32(-z, -2 * z, z, 2 * z), 4);
  fix_free(&f);
}

/* Pad (reflect past the axis, a constant with cropping), ScatterND (repeated indices add up in order; out of
 * range is an error), the pools (count_include_pad, NaN in a max) and GlobalAveragePool (issue 12). */
static void test_pad_scatter_pool(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_PAD, 2, 1);
  set_s(&f, "mode", "reflect");
  fix_in(&f, 0, DT_F32, 1, DIMS(3), F32(1, 2, 3));
  fix_in(&f, 1, DT_I64, 1, DIMS(2), I64(4, 5));
  fix_out(&f, 0, DT_F32, 1, DIMS(12));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2), 12);
  fix_free(&f);
  fix_init(&f, OP_PAD, 3, 1); /* pads [0,1 | 0,-1]: one 9 in front of row 0, its last element cropped */
  fix_in(&f, 0, DT_F32, 2, DIMS(1, 2), F32(1, 2));
  fix_in(&f, 1, DT_I64, 1, DIMS(4), I64(0, 1, 0, -1));
  fix_in(&f, 2, DT_F32, 0, NULL, F32(9));
  fix_out(&f, 0, DT_F32, 2, DIMS(1, 2));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(9, 1), 2);
  fix_free(&f);
  fix_init(&f, OP_SCATTER_ND, 3, 1);
  set_s(&f, "reduction", "add");
  fix_in(&f, 0, DT_I64, 1, DIMS(4), I64(0, 0, 0, 0));
  fix_in(&f, 1, DT_I64, 2, DIMS(3, 1), I64(1, -3, 3));
  fix_in(&f, 2, DT_I64, 1, DIMS(3), I64(1, 2, 5));
  fix_out(&f, 0, DT_I64, 1, DIMS(4));
  fix_run_ok(&f);
  expect_i64(&f, 0, I64(0, 3, 0, 5), 4);
  ((int64_t *)f.in[1].data)[2] = 4;
  expect_error(&f, "index 4 is out of range for axis 0 of size 4");
  fix_free(&f);
  static const int64_t k22[] = {2, 2}, pads1[] = {1, 1, 1, 1}, k12[] = {1, 2};
  for (int include = 0; include < 2; include++) {
    fix_init(&f, OP_AVERAGE_POOL, 1, 1);
    set_ints(&f, "kernel_shape", k22, 2);
    set_ints(&f, "pads", pads1, 4);
    set_ints(&f, "strides", k22, 2);
    set_i(&f, "count_include_pad", include);
    fix_in(&f, 0, DT_F32, 4, DIMS(1, 1, 2, 2), F32(1, 2, 3, 4));
    fix_out(&f, 0, DT_F32, 4, DIMS(1, 1, 2, 2));
    fix_run_ok(&f);
    if (include) expect_f32(&f, 0, F32(0.25f, 0.5f, 0.75f, 1), 4);
    else expect_f32(&f, 0, F32(1, 2, 3, 4), 4);
    fix_free(&f);
  }
  fix_init(&f, OP_MAX_POOL, 1, 1);
  set_ints(&f, "kernel_shape", k12, 2);
  fix_in(&f, 0, DT_F32, 4, DIMS(1, 1, 1, 3), F32(1, NAN, 2));
  fix_out(&f, 0, DT_F32, 4, DIMS(1, 1, 1, 2));
  fix_run_ok(&f);
  assert_true(isnan(((float *)f.out[0].data)[0]) && isnan(((float *)f.out[0].data)[1]));
  fix_free(&f);
  fix_init(&f, OP_GLOBAL_AVERAGE_POOL, 1, 1);
  fix_in(&f, 0, DT_F32, 3, DIMS(1, 2, 2), F32(1, 3, 2, 6));
  fix_out(&f, 0, DT_F32, 3, DIMS(1, 2, 1));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(2, 4), 2);
  fix_free(&f);
}

static void test_reduce(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_REDUCE_MEAN, 2, 1); /* axes [-1], keepdims default */
  fix_in(&f, 0, DT_F32, 2, DIMS(2, 3), F32(1, 2, 3, 4, 5, 9));
  fix_in(&f, 1, DT_I64, 1, DIMS(1), I64(-1));
  fix_out(&f, 0, DT_F32, 2, DIMS(2, 1));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(2, 6), 2);
  fix_free(&f);
  fix_init(&f, OP_REDUCE_SUM, 1, 1); /* no axes: everything, keepdims 0 */
  set_i(&f, "keepdims", 0);
  fix_in(&f, 0, DT_F32, 2, DIMS(2, 3), F32(1, 2, 3, 4, 5, 9));
  fix_out(&f, 0, DT_F32, 0, NULL);
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(24), 1);
  fix_free(&f);
  fix_init(&f, OP_REDUCE_MAX, 2, 1); /* axis 0 */
  set_i(&f, "keepdims", 0);
  fix_in(&f, 0, DT_I64, 2, DIMS(2, 3), I64(1, 8, 3, 4, 5, -9));
  fix_in(&f, 1, DT_I64, 1, DIMS(1), I64(0));
  fix_out(&f, 0, DT_I64, 1, DIMS(3));
  fix_run_ok(&f);
  expect_i64(&f, 0, I64(4, 8, 3), 3);
  fix_free(&f);
  fix_init(&f, OP_REDUCE_SUM, 2, 1); /* empty axes with noop_with_empty_axes: identity */
  set_i(&f, "noop_with_empty_axes", 1);
  fix_in(&f, 0, DT_F32, 1, DIMS(2), F32(1, 2));
  fix_in(&f, 1, DT_I64, 1, DIMS(0), I64(0));
  fix_out(&f, 0, DT_F32, 1, DIMS(2));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(1, 2), 2);
  fix_free(&f);
}

/* ---- shape ops ---- */

static void test_reshape_transpose(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_RESHAPE, 2, 1);
  fix_in(&f, 0, DT_F32, 2, DIMS(2, 3), x9);
  fix_in(&f, 1, DT_I64, 1, DIMS(2), I64(-1, 0));
  fix_out(&f, 0, DT_F32, 2, DIMS(2, 3));
  fix_run_ok(&f);
  expect_f32(&f, 0, x9, 6);
  fix_free(&f);
  fix_init(&f, OP_TRANSPOSE, 1, 1);
  set_ints(&f, "perm", I64(1, 0), 2);
  fix_in(&f, 0, DT_F32, 2, DIMS(2, 3), x9);
  fix_out(&f, 0, DT_F32, 2, DIMS(3, 2));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(1, 4, 2, 5, 3, 6), 6);
  fix_free(&f);
  fix_init(&f, OP_TRANSPOSE, 1, 1); /* rank 3, perm (2,0,1) */
  set_ints(&f, "perm", I64(2, 0, 1), 3);
  fix_in(&f, 0, DT_I64, 3, DIMS(1, 2, 3), I64(0, 1, 2, 3, 4, 5));
  fix_out(&f, 0, DT_I64, 3, DIMS(3, 1, 2));
  fix_run_ok(&f);
  expect_i64(&f, 0, I64(0, 3, 1, 4, 2, 5), 6);
  fix_free(&f);
}

static void test_expand(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_EXPAND, 2, 1);
  fix_in(&f, 0, DT_F32, 2, DIMS(3, 1), F32(1, 2, 3));
  fix_in(&f, 1, DT_I64, 1, DIMS(3), I64(2, 1, 2));
  fix_out(&f, 0, DT_F32, 3, DIMS(2, 3, 2));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3), 12);
  fix_free(&f);
}

static void test_slice_negative_steps(void **state) {
  (void)state;
  int64_t ten[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  Fix f;
  fix_init(&f, OP_SLICE, 5, 1); /* [-1 : very negative : -3] -> 9 6 3 0 */
  fix_in(&f, 0, DT_I64, 1, DIMS(10), ten);
  fix_in(&f, 1, DT_I64, 1, DIMS(1), I64(-1));
  fix_in(&f, 2, DT_I64, 1, DIMS(1), I64(INT64_MIN));
  fix_in(&f, 3, DT_I64, 1, DIMS(1), I64(0));
  fix_in(&f, 4, DT_I64, 1, DIMS(1), I64(-3));
  fix_out(&f, 0, DT_I64, 1, DIMS(4));
  fix_run_ok(&f);
  expect_i64(&f, 0, I64(9, 6, 3, 0), 4);
  fix_free(&f);
  fix_init(&f, OP_SLICE, 5, 1); /* [2,5] axis 1 (as -1): 100 : 0 : -2 -> cols 4, 2 */
  fix_in(&f, 0, DT_I64, 2, DIMS(2, 5), ten);
  fix_in(&f, 1, DT_I64, 1, DIMS(1), I64(100));
  fix_in(&f, 2, DT_I64, 1, DIMS(1), I64(0));
  fix_in(&f, 3, DT_I64, 1, DIMS(1), I64(-1));
  fix_in(&f, 4, DT_I64, 1, DIMS(1), I64(-2));
  fix_out(&f, 0, DT_I64, 2, DIMS(2, 2));
  fix_run_ok(&f);
  expect_i64(&f, 0, I64(4, 2, 9, 7), 4);
  fix_free(&f);
}

static void test_slice_positive_clamped(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_SLICE, 3, 1); /* no axes/steps: x[1:INT64_MAX] on axis 0 of [3,3] */
  fix_in(&f, 0, DT_F32, 2, DIMS(3, 3), x9);
  fix_in(&f, 1, DT_I64, 1, DIMS(1), I64(1));
  fix_in(&f, 2, DT_I64, 1, DIMS(1), I64(INT64_MAX));
  fix_out(&f, 0, DT_F32, 2, DIMS(2, 3));
  fix_run_ok(&f);
  expect_f32(&f, 0, x9 + 3, 6);
  fix_free(&f);
}

static void test_gather(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_GATHER, 2, 1); /* axis 0, negative index */
  fix_in(&f, 0, DT_F32, 2, DIMS(3, 2), F32(1, 2, 3, 4, 5, 6));
  fix_in(&f, 1, DT_I64, 1, DIMS(2), I64(-1, 0));
  fix_out(&f, 0, DT_F32, 2, DIMS(2, 2));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(5, 6, 1, 2), 4);
  fix_free(&f);
  fix_init(&f, OP_GATHER, 2, 1); /* axis 1, scalar int32 index: drops the axis */
  set_i(&f, "axis", 1);
  fix_in(&f, 0, DT_F32, 2, DIMS(3, 2), F32(1, 2, 3, 4, 5, 6));
  fix_in(&f, 1, DT_I32, 0, NULL, I32(-2));
  fix_out(&f, 0, DT_F32, 1, DIMS(3));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(1, 3, 5), 3);
  fix_free(&f);
}

static void test_gather_out_of_range(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_GATHER, 2, 1);
  fix_in(&f, 0, DT_F32, 1, DIMS(3), F32(1, 2, 3));
  fix_in(&f, 1, DT_I64, 1, DIMS(2), I64(0, 3));
  fix_out(&f, 0, DT_F32, 1, DIMS(2));
  expect_error(&f, "out of range");
  fix_free(&f);
  fix_init(&f, OP_GATHER, 2, 1);
  fix_in(&f, 0, DT_F32, 1, DIMS(3), F32(1, 2, 3));
  fix_in(&f, 1, DT_I64, 0, NULL, I64(-4));
  fix_out(&f, 0, DT_F32, 0, NULL);
  expect_error(&f, "index -4 is out of range");
  fix_free(&f);
}

static void test_concat(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_CONCAT, 2, 1);
  set_i(&f, "axis", -1);
  fix_in(&f, 0, DT_F32, 2, DIMS(2, 1), F32(1, 2));
  fix_in(&f, 1, DT_F32, 2, DIMS(2, 2), F32(3, 4, 5, 6));
  fix_out(&f, 0, DT_F32, 2, DIMS(2, 3));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(1, 3, 4, 2, 5, 6), 6);
  fix_free(&f);
}

static void test_split(void **state) {
  (void)state;
  float five[5] = {1, 2, 3, 4, 5};
  Fix f;
  fix_init(&f, OP_SPLIT, 2, 2); /* sizes input [2, 3] */
  fix_in(&f, 0, DT_F32, 1, DIMS(5), five);
  fix_in(&f, 1, DT_I64, 1, DIMS(2), I64(2, 3));
  fix_out(&f, 0, DT_F32, 1, DIMS(2));
  fix_out(&f, 1, DT_F32, 1, DIMS(3));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(1, 2), 2);
  expect_f32(&f, 1, F32(3, 4, 5), 3);
  fix_free(&f);
  fix_init(&f, OP_SPLIT, 1, 3); /* num_outputs 3 of 5: 2, 2, 1 */
  set_i(&f, "num_outputs", 3);
  fix_in(&f, 0, DT_F32, 1, DIMS(5), five);
  fix_out(&f, 0, DT_F32, 1, DIMS(2));
  fix_out(&f, 1, DT_F32, 1, DIMS(2));
  fix_out(&f, 2, DT_F32, 1, DIMS(1));
  fix_run_ok(&f);
  expect_f32(&f, 2, F32(5), 1);
  fix_free(&f);
  fix_init(&f, OP_SPLIT, 1, 2); /* equal split of axis 1 of [2,4] */
  set_i(&f, "axis", 1);
  fix_in(&f, 0, DT_F32, 2, DIMS(2, 4), x9);
  fix_out(&f, 0, DT_F32, 2, DIMS(2, 2));
  fix_out(&f, 1, DT_F32, 2, DIMS(2, 2));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(1, 2, 5, 6), 4);
  expect_f32(&f, 1, F32(3, 4, 7, 8), 4);
  fix_free(&f);
}

static void test_shape_size(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_SHAPE, 1, 1);
  set_i(&f, "start", -2);
  fix_in(&f, 0, DT_F32, 3, DIMS(1, 197, 768), NULL);
  fix_out(&f, 0, DT_I64, 1, DIMS(2));
  fix_run_ok(&f);
  expect_i64(&f, 0, I64(197, 768), 2);
  fix_free(&f);
  fix_init(&f, OP_SIZE, 1, 1);
  fix_in(&f, 0, DT_F32, 3, DIMS(1, 197, 768), NULL);
  fix_out(&f, 0, DT_I64, 0, NULL);
  fix_run_ok(&f);
  expect_i64(&f, 0, I64(197 * 768), 1);
  fix_free(&f);
}

static void test_constant_of_shape_range(void **state) {
  (void)state;
  Fix f;
  fix_init(&f, OP_CONSTANT_OF_SHAPE, 1, 1);
  Attr *a = ir_attr_add(f.g, f.n, "value", AT_TENSOR, &f.d);
  static int64_t seven = 7;
  static Tensor val = {.dtype = DT_I64, .rank = 1, .dims = {1}, .data = &seven};
  a->t = &val;
  fix_in(&f, 0, DT_I64, 1, DIMS(2), I64(2, 2));
  fix_out(&f, 0, DT_I64, 2, DIMS(2, 2));
  fix_run_ok(&f);
  expect_i64(&f, 0, I64(7, 7, 7, 7), 4);
  fix_free(&f);
  fix_init(&f, OP_RANGE, 3, 1);
  fix_in(&f, 0, DT_I64, 0, NULL, I64(10));
  fix_in(&f, 1, DT_I64, 0, NULL, I64(3));
  fix_in(&f, 2, DT_I64, 0, NULL, I64(-3));
  fix_out(&f, 0, DT_I64, 1, DIMS(3));
  fix_run_ok(&f);
  expect_i64(&f, 0, I64(10, 7, 4), 3);
  fix_free(&f);
  fix_init(&f, OP_RANGE, 3, 1);
  fix_in(&f, 0, DT_F32, 0, NULL, F32(0));
  fix_in(&f, 1, DT_F32, 0, NULL, F32(1));
  fix_in(&f, 2, DT_F32, 0, NULL, F32(0.25f));
  fix_out(&f, 0, DT_F32, 1, DIMS(4));
  fix_run_ok(&f);
  expect_f32(&f, 0, F32(0, 0.25f, 0.5f, 0.75f), 4);
  fix_free(&f);
}

/* ---- whole graph ---- */

/* x f32[2] -> t = x + c -> y = t * t, also output u = relu(t); c is a constant. */
static Graph *small_graph(void) {
  Diag d = {0};
  Graph *g = ir_graph_new("small");
  Value *x = ir_value_new(g, "x", VK_INPUT, &d), *c = ir_value_new(g, "c", VK_CONST, &d);
  Value *t = ir_value_new(g, "t", VK_NODE, &d), *y = ir_value_new(g, "y", VK_NODE, &d);
  Value *u = ir_value_new(g, "u", VK_NODE, &d);
  static float cdata[2] = {1, -5};
  x->t = tensor(DT_F32, 1, DIMS(2), NULL);
  c->t = tensor(DT_F32, 1, DIMS(2), cdata);
  t->t = y->t = u->t = x->t;
  Node *add = ir_node_new(g, OP_ADD, "add", 2, 1, &d), *mul = ir_node_new(g, OP_MUL, "mul", 2, 1, &d);
  Node *relu = ir_node_new(g, OP_RELU, "relu", 1, 1, &d);
  add->in[0] = x, add->in[1] = c, add->out[0] = t, t->def = add;
  mul->in[0] = t, mul->in[1] = t, mul->out[0] = y, y->def = mul;
  relu->in[0] = t, relu->out[0] = u, u->def = relu;
  ir_graph_add_input(g, x, &d);
  ir_graph_add_output(g, y, &d);
  ir_graph_add_output(g, u, &d);
  ir_graph_add_output(g, y, &d); /* the same value twice: the second is a copy */
  assert_false(d.has_error);
  return g;
}

static void test_interpret_graph(void **state) {
  (void)state;
  Graph *g = small_graph();
  Diag d = {0};
  Tensor in = tensor(DT_F32, 1, DIMS(2), F32(2, 3)), out[3];
  if (ir_interpret(g, &in, out, &d)) fail_msg("%s", d.msg);
  const float *y = out[0].data, *u = out[1].data, *y2 = out[2].data;
  assert_true(out[0].dtype == DT_F32 && out[0].rank == 1 && out[0].dims[0] == 2);
  assert_float_equal(y[0], 9, 0);
  assert_float_equal(y[1], 4, 0);
  assert_float_equal(u[0], 3, 0);
  assert_float_equal(u[1], 0, 0);
  assert_ptr_not_equal(y, y2);
  assert_float_equal(y2[1], 4, 0);
  for (int i = 0; i < 3; i++) free(out[i].data);
  ir_graph_free(g);
}

static void test_interpret_bad_input(void **state) {
  (void)state;
  Graph *g = small_graph();
  Diag d = {0};
  Tensor in = tensor(DT_F32, 2, DIMS(1, 2), F32(2, 3)), out[3];
  assert_int_equal(ir_interpret(g, &in, out, &d), -1);
  assert_non_null(strstr(d.msg, "input 'x' has shape f32[1,2], model expects f32[2]"));
  for (int i = 0; i < 3; i++) assert_null(out[i].data);
  ir_graph_free(g);
}

static void test_interpret_kernel_error(void **state) {
  (void)state;
  /* i64 x / 0 inside a graph: the error comes back and nothing leaks (run under valgrind/ASan). */
  Diag d = {0};
  Graph *g = ir_graph_new("div");
  Value *x = ir_value_new(g, "x", VK_INPUT, &d), *z = ir_value_new(g, "z", VK_CONST, &d);
  Value *t = ir_value_new(g, "t", VK_NODE, &d), *y = ir_value_new(g, "y", VK_NODE, &d);
  static int64_t zero = 0;
  x->t = tensor(DT_I64, 0, NULL, NULL);
  z->t = tensor(DT_I64, 0, NULL, &zero);
  t->t = y->t = x->t;
  Node *neg = ir_node_new(g, OP_NEG, "neg", 1, 1, &d), *div = ir_node_new(g, OP_DIV, "div", 2, 1, &d);
  neg->in[0] = x, neg->out[0] = t, t->def = neg;
  div->in[0] = t, div->in[1] = z, div->out[0] = y, y->def = div;
  ir_graph_add_input(g, x, &d);
  ir_graph_add_output(g, t, &d);
  ir_graph_add_output(g, y, &d);
  Tensor in = tensor(DT_I64, 0, NULL, I64(4)), out[2];
  assert_int_equal(ir_interpret(g, &in, out, &d), -1);
  assert_string_equal(d.msg, "vitc: error: div: node 'div' (Div): integer division by zero"); /* names the file */
  assert_null(d.file);
  assert_null(out[0].data);
  assert_null(out[1].data);
  ir_graph_free(g);
}

/* A `blob` constant parsed from IR text has no data: running says so. */
static void test_interpret_blob_constant(void **state) {
  (void)state;
  Diag d = {0};
  Graph *g = ir_parse("graph \"m\" opset 17\n"
                      "input %x: f32[17]\n"
                      "const %w: f32[17] = blob 0123456789abcdef\n"
                      "%y: f32[17] = add(%x, %w) @\"add\"\n"
                      "output %y\n",
                      "m.vir", &d);
  if (!g) fail_msg("%s", d.msg);
  float x[17] = {0};
  Tensor in = tensor(DT_F32, 1, DIMS(17), x), out[1];
  assert_int_equal(ir_interpret(g, &in, out, &d), -1);
  assert_non_null(strstr(d.msg, "vitc: error: m.vir: node 'add' (Add): input 'w' has no value (a `blob` constant"));
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_bf16_round),
    cmocka_unit_test(test_int8_fake_quant),
    cmocka_unit_test(test_linear_precision),
      cmocka_unit_test(test_add_broadcast_row),
      cmocka_unit_test(test_add_broadcast_both),
      cmocka_unit_test(test_sub_mul_i64),
      cmocka_unit_test(test_div_int_truncates),
      cmocka_unit_test(test_div_int_by_zero),
      cmocka_unit_test(test_pow_mixed),
      cmocka_unit_test(test_equal_where),
      cmocka_unit_test(test_compare),
      cmocka_unit_test(test_logical),
      cmocka_unit_test(test_mod),
      cmocka_unit_test(test_min_max),
      cmocka_unit_test(test_clip),
      cmocka_unit_test(test_hard_sigmoid_swish),
      cmocka_unit_test(test_unary),
      cmocka_unit_test(test_cast),
      cmocka_unit_test(test_dropout_mask),
      cmocka_unit_test(test_matmul_batch_broadcast),
      cmocka_unit_test(test_matmul_vectors),
      cmocka_unit_test(test_matmul_large),
      cmocka_unit_test(test_gemm_transb_bias),
      cmocka_unit_test(test_gemm_transa_no_bias),
      cmocka_unit_test(test_conv_stride_pad),
      cmocka_unit_test(test_conv_auto_pad),
      cmocka_unit_test(test_conv_groups_dilation),
      cmocka_unit_test(test_softmax),
      cmocka_unit_test(test_softmax_axis_and_coerce),
      cmocka_unit_test(test_layer_norm),
      cmocka_unit_test(test_layer_norm_axis_no_bias),
      cmocka_unit_test(test_reduce),
      cmocka_unit_test(test_pad_scatter_pool),
      cmocka_unit_test(test_reshape_transpose),
      cmocka_unit_test(test_expand),
      cmocka_unit_test(test_slice_negative_steps),
      cmocka_unit_test(test_slice_positive_clamped),
      cmocka_unit_test(test_gather),
      cmocka_unit_test(test_gather_out_of_range),
      cmocka_unit_test(test_concat),
      cmocka_unit_test(test_split),
      cmocka_unit_test(test_shape_size),
      cmocka_unit_test(test_constant_of_shape_range),
      cmocka_unit_test(test_interpret_graph),
      cmocka_unit_test(test_interpret_bad_input),
      cmocka_unit_test(test_interpret_kernel_error),
    cmocka_unit_test(test_interpret_blob_constant),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
