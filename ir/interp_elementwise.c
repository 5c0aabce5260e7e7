/* Reference kernels: elementwise ops (unary, broadcasting binary, mod,
 * min/max, where, comparisons, logical ops, clip, hard sigmoid/swish, cast,
 * identity, dropout). */
#include "interp.h"
#include <math.h>
#include <string.h>

/* ---- scalar access ---- */

/* Element i of any tensor as a double. */
static double get_f(const Tensor *t, int64_t i) {
  return t->dtype == DT_F32 ? (double)((const float *)t->data)[i] : (double)tensor_get_i64(t, i);
}

/* Stores an integer into element i of an i64, i32 or bool tensor (i32 wraps). */
static void put_i(Tensor *t, int64_t i, int64_t v) {
  switch (t->dtype) {
  case DT_I64: ((int64_t *)t->data)[i] = v; break;
  case DT_I32: ((int32_t *)t->data)[i] = (int32_t)(uint32_t)(uint64_t)v; break;
  case DT_BOOL: ((uint8_t *)t->data)[i] = v != 0; break;
  default: break;
  }
}

static int is_int(DType t) { return t == DT_I64 || t == DT_I32; }

/* Checks a binary op's operands have one type among f32, i64, i32, like the output. */
static int check_same_numeric(const Node *n, const Tensor *in, const Tensor *out, Diag *d) {
  if (in[0].dtype != in[1].dtype)
    return ir_error(d, NULL, n, "operand types differ (%s vs %s)", dt_name(in[0].dtype), dt_name(in[1].dtype));
  if (in[0].dtype != DT_F32 && !is_int(in[0].dtype)) return interp_bad_dtype(d, n, "operand", &in[0]);
  if (out->dtype != in[0].dtype) return interp_bad_dtype(d, n, "output", out);
  return 0;
}

/* Sets up an iterator over out reading in[0..n_ops) with broadcasting. */
static int broadcast_iter(InterpIter *it, const Node *n, const Tensor *in, int n_ops, const Tensor *out,
                          Diag *d) {
  interp_iter_init(it, out, n_ops);
  for (int k = 0; k < n_ops; k++)
    if (interp_iter_broadcast(it, k, &in[k], n, d)) return -1;
  return 0;
}

/* ---- add sub mul div ---- */

typedef enum Arith { AR_ADD, AR_SUB, AR_MUL, AR_DIV } Arith;

/* One float operation; done in double, which rounds to the same float as
 * float arithmetic would for + - * /. */
static double arith_f(Arith op, double a, double b) {
  switch (op) {
  case AR_ADD: return a + b;
  case AR_SUB: return a - b;
  case AR_MUL: return a * b;
  default: return a / b;
  }
}

/* One integer operation with two's-complement wrap-around (unsigned math
 * avoids signed-overflow UB); division truncates toward zero. -1 on x/0. */
static int arith_i(Arith op, int64_t a, int64_t b, int64_t *r) {
  switch (op) {
  case AR_ADD: *r = (int64_t)((uint64_t)a + (uint64_t)b); return 0;
  case AR_SUB: *r = (int64_t)((uint64_t)a - (uint64_t)b); return 0;
  case AR_MUL: *r = (int64_t)((uint64_t)a * (uint64_t)b); return 0;
  default:
    if (b == 0) return -1;
    *r = b == -1 ? (int64_t)(0 - (uint64_t)a) : a / b; /* INT64_MIN / -1 overflows */
    return 0;
  }
}

/* A broadcasting arithmetic op on f32, i64 or i32. */
static int binary_arith(const Node *n, const Tensor *in, Tensor *out, Diag *d, Arith op) {
  InterpIter it;
  if (check_same_numeric(n, in, out, d) || broadcast_iter(&it, n, in, 2, out, d)) return -1;
  int64_t total = tensor_numel(out);
  if (out->dtype == DT_F32) {
    const float *a = in[0].data, *b = in[1].data;
    float *o = out->data;
    for (int64_t i = 0; i < total; i++, interp_iter_next(&it))
      o[i] = (float)arith_f(op, a[it.off[0]], b[it.off[1]]);
    return 0;
  }
  for (int64_t i = 0; i < total; i++, interp_iter_next(&it)) {
    int64_t r;
    if (arith_i(op, tensor_get_i64(&in[0], it.off[0]), tensor_get_i64(&in[1], it.off[1]), &r))
      return ir_error(d, NULL, n, "integer division by zero");
    put_i(out, i, r);
  }
  return 0;
}

int interp_add(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return binary_arith(n, in, out, d, AR_ADD); }
int interp_sub(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return binary_arith(n, in, out, d, AR_SUB); }
int interp_mul(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return binary_arith(n, in, out, d, AR_MUL); }
int interp_div(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return binary_arith(n, in, out, d, AR_DIV); }

/* ---- pow ---- */

/* Integer power by repeated squaring (wrapping); negative exponents give
 * 1/a^-e truncated, which is 0 except for a = 1 or -1. -1 for 0 to a negative power. */
static int ipow(int64_t a, int64_t e, int64_t *r) {
  if (e < 0) {
    if (a == 0) return -1;
    *r = a == 1 ? 1 : a == -1 ? ((e & 1) ? -1 : 1) : 0;
    return 0;
  }
  uint64_t result = 1, base = (uint64_t)a;
  for (; e; e >>= 1, base *= base)
    if (e & 1) result *= base;
  *r = (int64_t)result;
  return 0;
}

/* Pow: base f32, i64 or i32; exponent any numeric type; result has the base's type. */
int interp_pow(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  InterpIter it;
  if (in[0].dtype != DT_F32 && !is_int(in[0].dtype)) return interp_bad_dtype(d, n, "base", &in[0]);
  if (in[1].dtype != DT_F32 && !is_int(in[1].dtype)) return interp_bad_dtype(d, n, "exponent", &in[1]);
  if (out->dtype != in[0].dtype) return interp_bad_dtype(d, n, "output", out);
  if (broadcast_iter(&it, n, in, 2, out, d)) return -1;
  int64_t total = tensor_numel(out);
  for (int64_t i = 0; i < total; i++, interp_iter_next(&it)) {
    if (out->dtype == DT_F32) {
      ((float *)out->data)[i] = (float)pow(get_f(&in[0], it.off[0]), get_f(&in[1], it.off[1]));
    } else if (in[1].dtype == DT_F32) {
      put_i(out, i, (int64_t)pow(get_f(&in[0], it.off[0]), get_f(&in[1], it.off[1])));
    } else {
      int64_t r;
      if (ipow(tensor_get_i64(&in[0], it.off[0]), tensor_get_i64(&in[1], it.off[1]), &r))
        return ir_error(d, NULL, n, "integer division by zero (0 to a negative power)");
      put_i(out, i, r);
    }
  }
  return 0;
}

/* ---- mod ---- */

/* Integer a mod b: fmod = 1 takes the dividend's sign (C %), fmod = 0 the divisor's (Python %); -1 on b = 0. */
static int mod_i(int64_t a, int64_t b, int fmod, int64_t *r) {
  if (b == 0) return -1;
  *r = b == -1 ? 0 : a % b; /* INT64_MIN % -1 overflows */
  if (!fmod && *r != 0 && (*r < 0) != (b < 0)) *r += b;
  return 0;
}

/* Float a mod b: fmod = 1 is C fmodf; fmod = 0 is numpy's mod (the divisor's sign; a zero takes it too). */
static float mod_f(float a, float b, int fmod) {
  float r = fmodf(a, b);
  if (fmod) return r;
  if (r == 0) return copysignf(0.0f, b);
  return (r < 0) != (b < 0) ? r + b : r;
}

/* Mod {fmod}: a broadcasting remainder on f32, i64 or i32. */
int interp_mod(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  InterpIter it;
  int fmod = ir_attr_i(n, "fmod", 0) != 0;
  if (check_same_numeric(n, in, out, d) || broadcast_iter(&it, n, in, 2, out, d)) return -1;
  int64_t total = tensor_numel(out);
  if (out->dtype == DT_F32) {
    const float *a = in[0].data, *b = in[1].data;
    float *o = out->data;
    for (int64_t i = 0; i < total; i++, interp_iter_next(&it)) o[i] = mod_f(a[it.off[0]], b[it.off[1]], fmod);
    return 0;
  }
  for (int64_t i = 0; i < total; i++, interp_iter_next(&it)) {
    int64_t r;
    if (mod_i(tensor_get_i64(&in[0], it.off[0]), tensor_get_i64(&in[1], it.off[1]), fmod, &r))
      return ir_error(d, NULL, n, "integer division by zero");
    put_i(out, i, r);
  }
  return 0;
}

/* ---- min, max ---- */

/* max(a, b) / min(a, b) as the backend computes it: a when a wins or is NaN, else b (so a NaN anywhere gives
 * NaN). */
static float max_f(float a, float b) { return a > b || a != a ? a : b; }
static float min_f(float a, float b) { return a < b || a != a ? a : b; }

/* Min or Max over one or more same-typed numeric operands, all broadcast; folded left to right. */
static int min_max(const Node *n, const Tensor *in, Tensor *out, Diag *d, int is_max) {
  for (int k = 0; k < n->n_in; k++)
    if (in[k].dtype != in[0].dtype || (in[k].dtype != DT_F32 && !is_int(in[k].dtype)))
      return interp_bad_dtype(d, n, "operand", &in[k]);
  if (out->dtype != in[0].dtype) return interp_bad_dtype(d, n, "output", out);
  int64_t total = tensor_numel(out);
  size_t es = dt_size(out->dtype);
  for (int k = 0; k < n->n_in; k++) {
    InterpIter it;
    if (broadcast_iter(&it, n, &in[k], 1, out, d)) return -1;
    for (int64_t i = 0; i < total; i++, interp_iter_next(&it)) {
      if (k == 0) {
        interp_copy_elem(out->data, i, in[0].data, it.off[0], es);
      } else if (out->dtype == DT_F32) {
        float *o = out->data, b = ((const float *)in[k].data)[it.off[0]];
        o[i] = is_max ? max_f(o[i], b) : min_f(o[i], b);
      } else {
        int64_t a = tensor_get_i64(out, i), b = tensor_get_i64(&in[k], it.off[0]);
        put_i(out, i, is_max ? (a > b ? a : b) : (a < b ? a : b));
      }
    }
  }
  return 0;
}

int interp_min(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return min_max(n, in, out, d, 0); }
int interp_max(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return min_max(n, in, out, d, 1); }

/* ---- equal, where ---- */

/* Equal: operands of one type (f32 compares as float, others as integers) -> bool. */
int interp_equal(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  InterpIter it;
  if (in[0].dtype != in[1].dtype)
    return ir_error(d, NULL, n, "operand types differ (%s vs %s)", dt_name(in[0].dtype), dt_name(in[1].dtype));
  if (out->dtype != DT_BOOL) return interp_bad_dtype(d, n, "output", out);
  if (broadcast_iter(&it, n, in, 2, out, d)) return -1;
  int64_t total = tensor_numel(out);
  uint8_t *o = out->data;
  for (int64_t i = 0; i < total; i++, interp_iter_next(&it))
    o[i] = in[0].dtype == DT_F32
               ? ((const float *)in[0].data)[it.off[0]] == ((const float *)in[1].data)[it.off[1]]
               : tensor_get_i64(&in[0], it.off[0]) == tensor_get_i64(&in[1], it.off[1]);
  return 0;
}

/* ---- less, less_or_equal, greater, greater_or_equal ---- */

typedef enum Cmp { CMP_LT, CMP_LE, CMP_GT, CMP_GE } Cmp;

/* a OP b; any comparison with NaN is false. */
static int cmp_f(Cmp op, double a, double b) {
  switch (op) {
  case CMP_LT: return a < b;
  case CMP_LE: return a <= b;
  case CMP_GT: return a > b;
  default: return a >= b;
  }
}

static int cmp_i(Cmp op, int64_t a, int64_t b) {
  switch (op) {
  case CMP_LT: return a < b;
  case CMP_LE: return a <= b;
  case CMP_GT: return a > b;
  default: return a >= b;
  }
}

/* An order comparison of two same-typed numeric operands -> bool. */
static int compare(const Node *n, const Tensor *in, Tensor *out, Diag *d, Cmp op) {
  InterpIter it;
  if (in[0].dtype != in[1].dtype)
    return ir_error(d, NULL, n, "operand types differ (%s vs %s)", dt_name(in[0].dtype), dt_name(in[1].dtype));
  if (in[0].dtype != DT_F32 && !is_int(in[0].dtype)) return interp_bad_dtype(d, n, "operand", &in[0]);
  if (out->dtype != DT_BOOL) return interp_bad_dtype(d, n, "output", out);
  if (broadcast_iter(&it, n, in, 2, out, d)) return -1;
  int64_t total = tensor_numel(out);
  uint8_t *o = out->data;
  for (int64_t i = 0; i < total; i++, interp_iter_next(&it))
    o[i] = in[0].dtype == DT_F32
               ? cmp_f(op, ((const float *)in[0].data)[it.off[0]], ((const float *)in[1].data)[it.off[1]])
               : cmp_i(op, tensor_get_i64(&in[0], it.off[0]), tensor_get_i64(&in[1], it.off[1]));
  return 0;
}

int interp_less(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return compare(n, in, out, d, CMP_LT); }
int interp_less_or_equal(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return compare(n, in, out, d, CMP_LE); }
int interp_greater(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return compare(n, in, out, d, CMP_GT); }
int interp_greater_or_equal(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  return compare(n, in, out, d, CMP_GE);
}

/* ---- not, and, or, xor ---- */

typedef enum Logic { LG_AND, LG_OR, LG_XOR } Logic;

/* A logical op on bool operands (any non-zero byte is true) -> bool. */
static int logical(const Node *n, const Tensor *in, Tensor *out, Diag *d, Logic op) {
  InterpIter it;
  for (int k = 0; k < 2; k++)
    if (in[k].dtype != DT_BOOL) return interp_bad_dtype(d, n, "operand", &in[k]);
  if (out->dtype != DT_BOOL) return interp_bad_dtype(d, n, "output", out);
  if (broadcast_iter(&it, n, in, 2, out, d)) return -1;
  int64_t total = tensor_numel(out);
  const uint8_t *a = in[0].data, *b = in[1].data;
  uint8_t *o = out->data;
  for (int64_t i = 0; i < total; i++, interp_iter_next(&it)) {
    int x = a[it.off[0]] != 0, y = b[it.off[1]] != 0;
    o[i] = (uint8_t)(op == LG_AND ? x & y : op == LG_OR ? x | y : x ^ y);
  }
  return 0;
}

int interp_and(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return logical(n, in, out, d, LG_AND); }
int interp_or(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return logical(n, in, out, d, LG_OR); }
int interp_xor(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return logical(n, in, out, d, LG_XOR); }

/* Not: bool -> bool. */
int interp_not(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  if (in[0].dtype != DT_BOOL) return interp_bad_dtype(d, n, "input", &in[0]);
  if (out->dtype != DT_BOOL || tensor_numel(out) != tensor_numel(&in[0])) return interp_bad_dtype(d, n, "output", out);
  const uint8_t *x = in[0].data;
  uint8_t *y = out->data;
  for (int64_t i = 0; i < tensor_numel(out); i++) y[i] = x[i] == 0;
  return 0;
}

/* Where: out = cond ? x : y, all three broadcast. */
int interp_where(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  InterpIter it;
  if (in[0].dtype != DT_BOOL) return interp_bad_dtype(d, n, "condition", &in[0]);
  if (in[1].dtype != in[2].dtype || out->dtype != in[1].dtype)
    return ir_error(d, NULL, n, "x, y and output types differ (%s, %s, %s)", dt_name(in[1].dtype),
                    dt_name(in[2].dtype), dt_name(out->dtype));
  if (broadcast_iter(&it, n, in, 3, out, d)) return -1;
  int64_t total = tensor_numel(out);
  size_t es = dt_size(out->dtype);
  const uint8_t *cond = in[0].data;
  for (int64_t i = 0; i < total; i++, interp_iter_next(&it)) {
    if (cond[it.off[0]]) interp_copy_elem(out->data, i, in[1].data, it.off[1], es);
    else interp_copy_elem(out->data, i, in[2].data, it.off[2], es);
  }
  return 0;
}

/* ---- unary ---- */

typedef double (*UnaryF)(double);
typedef int64_t (*UnaryI)(int64_t);

/* Applies f to every element (f32 in double; i64/i32 with g when given). */
static int unary(const Node *n, const Tensor *in, Tensor *out, Diag *d, UnaryF f, UnaryI g) {
  if (interp_check_numel(d, n, &in[0], out)) return -1;
  int64_t total = tensor_numel(out);
  if (in[0].dtype == DT_F32) {
    const float *x = in[0].data;
    float *y = out->data;
    for (int64_t i = 0; i < total; i++) y[i] = (float)f(x[i]);
    return 0;
  }
  if (!g || !is_int(in[0].dtype)) return interp_bad_dtype(d, n, "input", &in[0]);
  for (int64_t i = 0; i < total; i++) put_i(out, i, g(tensor_get_i64(&in[0], i)));
  return 0;
}

static double neg_f(double x) { return -x; }
static int64_t neg_i(int64_t x) { return (int64_t)(0 - (uint64_t)x); }
static double abs_f(double x) { return fabs(x); }
static int64_t abs_i(int64_t x) { return x < 0 ? neg_i(x) : x; }
static double recip_f(double x) { return 1.0 / x; }
static double sigmoid_f(double x) { return 1.0 / (1.0 + exp(-x)); }
static double relu_f(double x) { return x > 0 ? x : (x == x ? 0.0 : x); } /* keeps NaN */
static int64_t relu_i(int64_t x) { return x > 0 ? x : 0; }

int interp_neg(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return unary(n, in, out, d, neg_f, neg_i); }
int interp_abs(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return unary(n, in, out, d, abs_f, abs_i); }
int interp_sqrt(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return unary(n, in, out, d, sqrt, NULL); }
int interp_reciprocal(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  return unary(n, in, out, d, recip_f, NULL);
}
int interp_exp(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return unary(n, in, out, d, exp, NULL); }
int interp_erf(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return unary(n, in, out, d, erf, NULL); }
int interp_tanh(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return unary(n, in, out, d, tanh, NULL); }
int interp_sigmoid(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  return unary(n, in, out, d, sigmoid_f, NULL);
}
int interp_relu(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return unary(n, in, out, d, relu_f, relu_i); }
int interp_ceil(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return unary(n, in, out, d, ceil, NULL); }

/* ---- clip, hard_sigmoid, hard_swish ---- */

/* Clip(x, min?, max?): max(x, min) then min(., max), so min > max gives max; NaN stays NaN. */
int interp_clip(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  if (in[0].dtype != DT_F32 && !is_int(in[0].dtype)) return interp_bad_dtype(d, n, "input", &in[0]);
  if (interp_check_numel(d, n, &in[0], out)) return -1;
  int has[3] = {0};
  for (int k = 1; k < 3; k++) {
    if (!(has[k] = interp_has_in(n, in, k))) continue;
    if (in[k].dtype != in[0].dtype || tensor_numel(&in[k]) != 1) return interp_bad_dtype(d, n, "bound", &in[k]);
  }
  int64_t total = tensor_numel(out);
  if (out->dtype == DT_F32) {
    float lo = has[1] ? *(const float *)in[1].data : 0, hi = has[2] ? *(const float *)in[2].data : 0;
    const float *x = in[0].data;
    float *y = out->data;
    for (int64_t i = 0; i < total; i++) {
      float v = x[i];
      if (has[1] && v < lo) v = lo;
      if (has[2] && v > hi) v = hi;
      y[i] = v;
    }
    return 0;
  }
  int64_t lo = has[1] ? tensor_get_i64(&in[1], 0) : 0, hi = has[2] ? tensor_get_i64(&in[2], 0) : 0;
  for (int64_t i = 0; i < total; i++) {
    int64_t v = tensor_get_i64(&in[0], i);
    if (has[1] && v < lo) v = lo;
    if (has[2] && v > hi) v = hi;
    put_i(out, i, v);
  }
  return 0;
}

/* max(0, min(1, alpha x + beta)) in float arithmetic, one rounding per step as the backend computes it (two
 * statements, so no compiler fuses them into an FMA); NaN stays NaN. */
static float hard_sigmoid_f(float x, float alpha, float beta) {
  float v = alpha * x;
  v = v + beta;
  if (v > 1) v = 1;
  if (v < 0) v = 0;
  return v;
}

/* The f32 input of a float-only unary op, checked; NULL with d filled. */
static const float *float_input(const Node *n, const Tensor *in, const Tensor *out, Diag *d) {
  if (in[0].dtype != DT_F32) return interp_bad_dtype(d, n, "input", &in[0]), NULL;
  if (interp_check_numel(d, n, &in[0], out)) return NULL;
  return in[0].data;
}

/* HardSigmoid {alpha = 0.2, beta = 0.5}. */
int interp_hard_sigmoid(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  const float *x = float_input(n, in, out, d);
  if (!x) return -1;
  float alpha = ir_attr_f(n, "alpha", 0.2f), beta = ir_attr_f(n, "beta", 0.5f), *y = out->data;
  for (int64_t i = 0; i < tensor_numel(out); i++) y[i] = hard_sigmoid_f(x[i], alpha, beta);
  return 0;
}

/* HardSwish: x * HardSigmoid(x) with alpha = 1/6 (as a float) and beta = 0.5. */
int interp_hard_swish(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  const float *x = float_input(n, in, out, d);
  if (!x) return -1;
  float *y = out->data;
  for (int64_t i = 0; i < tensor_numel(out); i++) y[i] = x[i] * hard_sigmoid_f(x[i], 1.0f / 6.0f, 0.5f);
  return 0;
}

/* ---- cast, identity, dropout ---- */

/* A float converted to an integer: truncated toward zero, NaN to 0, clamped to int64. */
static int64_t f_to_i(double x) {
  if (x != x) return 0;
  if (x >= 9223372036854775807.0) return INT64_MAX;
  if (x <= -9223372036854775808.0) return INT64_MIN;
  return (int64_t)x;
}

/* Converts element i of x into element i of y. */
static void cast_elem(const Tensor *x, Tensor *y, int64_t i) {
  if (y->dtype == DT_F32)
    ((float *)y->data)[i] = x->dtype == DT_F32 ? ((const float *)x->data)[i] : (float)tensor_get_i64(x, i);
  else if (y->dtype == DT_BOOL)
    ((uint8_t *)y->data)[i] = get_f(x, i) != 0;
  else
    put_i(y, i, x->dtype == DT_F32 ? f_to_i(((const float *)x->data)[i]) : tensor_get_i64(x, i));
}

/* Cast to the type in `to` (ONNX TensorProto number): float->int truncates, ->bool is x != 0. */
int interp_cast(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  int64_t to = ir_attr_i(n, "to", 0);
  if (dt_from_onnx((int)to) != out->dtype)
    return ir_error(d, NULL, n, "output type %s does not match to=%lld", dt_name(out->dtype), (long long)to);
  if (in[0].dtype == DT_UNDEF || in[0].dtype >= DT_COUNT) return interp_bad_dtype(d, n, "input", &in[0]);
  int64_t total = tensor_numel(out);
  if (tensor_numel(&in[0]) != total) return ir_error(d, NULL, n, "input and output sizes differ");
  for (int64_t i = 0; i < total; i++) cast_elem(&in[0], out, i);
  return 0;
}

/* Identity: copies its input. */
int interp_identity(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  if (interp_check_numel(d, n, &in[0], out)) return -1;
  memcpy(out->data, in[0].data, tensor_bytes(out));
  return 0;
}

/* Dropout that drops nothing: inference mode, or training mode with ratio 0
 * (shape inference rejects the random cases): output = input, mask all true. */
int interp_dropout(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  int training = interp_has_in(n, in, 2) && tensor_numel(&in[2]) == 1 && tensor_get_i64(&in[2], 0);
  if (training && !(interp_has_in(n, in, 1) && in[1].dtype == DT_F32 && ((const float *)in[1].data)[0] == 0.0f))
    return ir_error(d, NULL, n, "training_mode=1 with a non-zero ratio is not supported");
  if (interp_check_numel(d, n, &in[0], &out[0])) return -1;
  memcpy(out[0].data, in[0].data, tensor_bytes(&out[0]));
  if (interp_has_out(n, out, 1)) {
    if (out[1].dtype != DT_BOOL) return interp_bad_dtype(d, n, "mask", &out[1]);
    memset(out[1].data, 1, tensor_bytes(&out[1]));
  }
  return 0;
}
