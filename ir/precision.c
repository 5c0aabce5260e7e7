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

/* int8 weights: per output column j, symmetric, scale max|w[:, j]| / 127, values in [-127, 127]. */
static void quant_weights_int8(const float *w, int64_t k, int64_t n, float *out) {
  for (int64_t j = 0; j < n; j++) {
    double amax = 0;
    for (int64_t p = 0; p < k; p++) amax = fmax(amax, fabs((double)w[p * n + j]));
    double scale = amax > 0 ? amax / IR_INT8_WEIGHT_MAX : 1.0;
    for (int64_t p = 0; p < k; p++)
      out[p * n + j] = (float)(nearbyint((double)w[p * n + j] / scale) * scale);
  }
}

void ir_fake_quant_weights(const float *w, int64_t k, int64_t n, Precision p, float *out) {
  if (p == PREC_INT8) {
    quant_weights_int8(w, k, n, out);
    return;
  }
  for (int64_t i = 0; i < k * n; i++) out[i] = p == PREC_BF16 ? ir_bf16_round(w[i]) : w[i];
}

/* int8 activations: per row, asymmetric over [min(x, 0), max(x, 0)] onto 0..127 (7 bits, so that AVX2's
 * pairwise u8 x s8 products cannot saturate their int16 sums: 2 * 127 * 127 < 32768). */
static void quant_row_int8(const float *x, int64_t k, float *out) {
  double lo = 0, hi = 0;
  for (int64_t p = 0; p < k; p++) lo = fmin(lo, (double)x[p]), hi = fmax(hi, (double)x[p]);
  double scale = hi > lo ? (hi - lo) / IR_INT8_ACT_MAX : 1.0;
  double zero = nearbyint(-lo / scale); /* the integer that stands for 0.0 */
  for (int64_t p = 0; p < k; p++) {
    double q = nearbyint((double)x[p] / scale) + zero;
    q = q < 0 ? 0 : q > IR_INT8_ACT_MAX ? IR_INT8_ACT_MAX : q;
    out[p] = (float)((q - zero) * scale);
  }
}

void ir_fake_quant_row(const float *x, int64_t k, Precision p, float *out) {
  if (p == PREC_INT8) {
    quant_row_int8(x, k, out);
    return;
  }
  for (int64_t i = 0; i < k; i++) out[i] = p == PREC_BF16 ? ir_bf16_round(x[i]) : x[i];
}
