/* Reduced precision (docs/precision.md): what a linear or attention node marked bf16 or int8 computes,
 * written as "fake quantisation": the operands of its matrix product are rounded to what the narrow
 * format can hold and turned back into floats, then multiplied and summed as in fp32 (in double). For int8
 * that is the integer kernels' arithmetic (exact int32 sums of small products, scaled once) up to the float
 * rounding of each dequantised operand (2^-24 relative), so the reference interpreter is the specification
 * the compiled paths are checked against. */
#include "ir.h"
#include <math.h>
#include <string.h>

static const char *const precision_names[] = {[PREC_FP32] = "fp32", [PREC_BF16] = "bf16", [PREC_INT8] = "int8"};

Precision ir_precision_parse(const char *s) {
  for (int p = 0; p < PREC_INVALID; p++)
    if (s && strcmp(s, precision_names[p]) == 0) return (Precision)p;
  return PREC_INVALID;
}

const char *ir_precision_name(Precision p) { return p >= 0 && p < PREC_INVALID ? precision_names[p] : "?"; }

Precision ir_node_precision(const Node *n) { return ir_precision_parse(ir_attr_s(n, "precision", "fp32")); }

float ir_bf16_round(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  if ((u & 0x7f800000u) == 0x7f800000u) { /* infinity stays, NaN stays NaN (quiet) */
    u = (u & 0x007fffffu) ? (u | 0x00400000u) & 0xffff0000u : u;
  } else {
    u += 0x7fffu + ((u >> 16) & 1u); /* round to nearest, ties to even */
    u &= 0xffff0000u;
  }
  memcpy(&x, &u, sizeof x);
  return x;
}

/* Clamps an integer-valued float to [lo, hi]; NaN gives lo (an int conversion of NaN is undefined). */
static float clamp_q(float q, float lo, float hi) {
  q = q >= lo ? q : lo;
  return q <= hi ? q : hi;
}

/* The scale of weight column w[0], w[stride], ... (k values): max |w| / 127, 1 for an all-zero column. */
static float weight_scale(const float *w, int64_t k, int64_t stride) {
  float amax = 0;
  for (int64_t p = 0; p < k; p++) amax = fmaxf(amax, fabsf(w[p * stride]));
  return amax > 0 ? amax / (float)IR_INT8_WEIGHT_MAX : 1.0f;
}

static float weight_q(float w, float scale) {
  return clamp_q(nearbyintf(w / scale), -(float)IR_INT8_WEIGHT_MAX, (float)IR_INT8_WEIGHT_MAX);
}

/* A row's scale and zero point: [min(x, 0), max(x, 0)] onto 0..127. A NaN or infinity makes the scale NaN
 * (x * 0 is NaN only for those), so the row's outputs are NaN as fp32's would be. */
static void row_params(const float *x, int64_t k, float *scale, float *zero) {
  float lo = 0, hi = 0, poison = 0;
  for (int64_t p = 0; p < k; p++) {
    lo = x[p] < lo ? x[p] : lo, hi = x[p] > hi ? x[p] : hi;
    poison += x[p] * 0.0f;
  }
  *scale = (hi > lo ? (hi - lo) / (float)IR_INT8_ACT_MAX : 1.0f) + poison;
  *zero = clamp_q(nearbyintf(-lo / *scale), 0, (float)IR_INT8_ACT_MAX);
}

static float act_q(float x, float scale, float zero) {
  return clamp_q(nearbyintf(x / scale) + zero, 0, (float)IR_INT8_ACT_MAX);
}

void ir_quant_weights_int8(const float *w, int64_t k, int64_t n, int8_t *q, float *scale) {
  for (int64_t j = 0; j < n; j++) {
    scale[j] = weight_scale(w + j, k, n);
    for (int64_t p = 0; p < k; p++) q[p * n + j] = (int8_t)weight_q(w[p * n + j], scale[j]);
  }
}

void ir_quant_row_int8(const float *x, int64_t k, uint8_t *q, float *scale, int32_t *zero) {
  float z;
  row_params(x, k, scale, &z);
  *zero = (int32_t)z;
  for (int64_t p = 0; p < k; p++) q[p] = (uint8_t)act_q(x[p], *scale, z);
}

void ir_fake_quant_weights(const float *w, int64_t k, int64_t n, Precision p, float *out) {
  for (int64_t j = 0; p == PREC_INT8 && j < n; j++) {
    float s = weight_scale(w + j, k, n);
    for (int64_t i = 0; i < k; i++) out[i * n + j] = weight_q(w[i * n + j], s) * s;
  }
  for (int64_t i = 0; p != PREC_INT8 && i < k * n; i++) out[i] = p == PREC_BF16 ? ir_bf16_round(w[i]) : w[i];
}

void ir_fake_quant_row(const float *x, int64_t k, Precision p, float *out) {
  if (p == PREC_INT8) {
    float s, z;
    row_params(x, k, &s, &z);
    for (int64_t i = 0; i < k; i++) out[i] = (act_q(x[i], s, z) - z) * s;
  }
  for (int64_t i = 0; p != PREC_INT8 && i < k; i++) out[i] = p == PREC_BF16 ? ir_bf16_round(x[i]) : x[i];
}

QuantLayout ir_quant_layout(Precision p, int64_t rows, int64_t k) {
  if (p != PREC_BF16 && p != PREC_INT8) return (QuantLayout){0, 0, 0, 0};
  int64_t per = p == PREC_INT8 ? 4 : 2, steps = (k + per - 1) / per, row_words = p == PREC_INT8 ? steps : 2 * steps;
  int64_t words = (rows * row_words + 15) / 16 * 16, total = words + (p == PREC_INT8 ? 2 * rows : 0);
  return (QuantLayout){steps, row_words, words, (total + 15) / 16 * 16 * 4};
}
