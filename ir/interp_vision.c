/* Reference kernels: BatchNormalization, ArgMax/ArgMin, TopK and Resize (f32 arithmetic in double). */
#include "interp.h"
#include <math.h>
#include <stdlib.h>

/* ---- batch_norm ---- */

/* y = (x - mean) / sqrt(var + epsilon) * scale + B per channel (axis 1), as ONNX's reference writes it. */
int interp_batch_norm(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  if (in[0].dtype != DT_F32 || in[0].rank < 2) return interp_bad_dtype(d, n, "input", &in[0]);
  for (int i = 1; i < 5; i++)
    if (in[i].dtype != DT_F32 || tensor_numel(&in[i]) != in[0].dims[1]) return interp_bad_dtype(d, n, "parameter", &in[i]);
  if (interp_check_numel(d, n, &in[0], out)) return -1;
  for (int j = 1; j < n->n_out; j++)
    if (interp_has_out(n, out, j)) return ir_error(d, NULL, n, "output %d (training) is not supported", j);
  double eps = ir_attr_f(n, "epsilon", 1e-5f);
  int64_t ch = in[0].dims[1], outer = in[0].dims[0], inner = interp_dims_prod(&in[0], 2, in[0].rank);
  const float *x = in[0].data, *scale = in[1].data, *bias = in[2].data, *mean = in[3].data, *var = in[4].data;
  float *y = out->data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t c = 0; c < ch; c++) {
      double inv = 1.0 / sqrt((double)var[c] + eps);
      int64_t base = (o * ch + c) * inner;
      for (int64_t i = 0; i < inner; i++)
        y[base + i] = (float)(((double)x[base + i] - mean[c]) * inv * scale[c] + bias[c]);
    }
  return 0;
}

/* ---- arg_max, arg_min, top_k ---- */

/* Element i of a numeric tensor as a double (i64 beyond 2^53 rounds, which only merges ties among such
 * huge values). */
static double num_at(const Tensor *t, int64_t i) {
  switch (t->dtype) {
  case DT_F32: return ((const float *)t->data)[i];
  case DT_I32: return ((const int32_t *)t->data)[i];
  default: return (double)((const int64_t *)t->data)[i];
  }
}

/* The normalized axis attribute (default def), or -1 with d filled. */
static int axis_of(const Node *n, const Tensor *x, int64_t def, Diag *d) {
  int64_t a = ir_attr_i(n, "axis", def);
  if (x->rank == 0 || a < -x->rank || a >= x->rank) return ir_error(d, NULL, n, "axis %lld is out of range", (long long)a);
  return (int)(a < 0 ? a + x->rank : a);
}

/* ArgMax (is_max) or ArgMin: the first index of the extreme along the axis, the last with select_last_index. */
static int arg(const Node *n, const Tensor *in, Tensor *out, Diag *d, int is_max) {
  const Tensor *x = &in[0];
  int axis = axis_of(n, x, 0, d);
  if (axis < 0) return -1;
  if (out->dtype != DT_I64) return interp_bad_dtype(d, n, "output", out);
  int last = ir_attr_i(n, "select_last_index", 0) != 0;
  int64_t outer = interp_dims_prod(x, 0, axis), len = x->dims[axis], inner = interp_dims_prod(x, axis + 1, x->rank);
  int64_t *y = out->data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      int64_t base = o * len * inner + i, best = 0;
      double bv = len ? num_at(x, base) : 0;
      for (int64_t j = 1; j < len; j++) {
        double v = num_at(x, base + j * inner);
        if (ir_arg_beats(v, bv, is_max) || (last && !ir_arg_beats(bv, v, is_max))) bv = v, best = j;
      }
      y[o * inner + i] = best;
    }
  return 0;
}
int interp_arg_max(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return arg(n, in, out, d, 1); }
int interp_arg_min(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return arg(n, in, out, d, 0); }

/* TopK: each row along the axis scanned in order, each element inserted into the sorted list of the k best
 * so far after the elements it does not beat (ir_beats), so ties keep the lower index first. */
int interp_top_k(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  const Tensor *x = &in[0];
  int axis = axis_of(n, x, -1, d);
  if (axis < 0) return -1;
  int64_t k = out[0].dims[axis], len = x->dims[axis];
  int64_t outer = interp_dims_prod(x, 0, axis), inner = interp_dims_prod(x, axis + 1, x->rank);
  int largest = ir_attr_i(n, "largest", 1) != 0, has_idx = interp_has_out(n, out, 1);
  if (out[0].dtype != x->dtype || (has_idx && out[1].dtype != DT_I64)) return interp_bad_dtype(d, n, "output", &out[0]);
  double *bv = malloc(sizeof *bv * (size_t)(k ? k : 1));
  int64_t *bi = malloc(sizeof *bi * (size_t)(k ? k : 1));
  if (!bv || !bi) {
    free(bv), free(bi);
    return ir_error(d, NULL, n, "out of memory");
  }
  size_t es = dt_size(x->dtype);
  for (int64_t o = 0; o < outer && k > 0; o++)
    for (int64_t i = 0; i < inner; i++) {
      int64_t base = o * len * inner + i, m = 0;
      for (int64_t j = 0; j < len; j++) {
        double v = num_at(x, base + j * inner);
        if (m == k && !ir_beats(v, bv[k - 1], largest)) continue;
        int64_t p = m < k ? m++ : k - 1;
        for (; p > 0 && ir_beats(v, bv[p - 1], largest); p--) bv[p] = bv[p - 1], bi[p] = bi[p - 1];
        bv[p] = v, bi[p] = j;
      }
      for (int64_t p = 0; p < k; p++) {
        int64_t at = (o * k + p) * inner + i;
        interp_copy_elem(out[0].data, at, x->data, base + bi[p] * inner, es);
        if (has_idx) ((int64_t *)out[1].data)[at] = bi[p];
      }
    }
  free(bv);
  free(bi);
  return 0;
}

/* ---- resize ---- */

/* y[o, h, w] = sum over the taps of the h and w tables of wh * ww * x[o, ih, iw] (ir_resize_geom). */
int interp_resize(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  ResizeGeom g;
  if (ir_resize_geom(n, &in[0], &g, 1, d)) return -1;
  const float *x = in[0].data;
  float *y = out->data;
  for (int64_t o = 0; o < g.outer; o++)
    for (int64_t h = 0; h < g.out[0]; h++)
      for (int64_t w = 0; w < g.out[1]; w++) {
        double acc = 0;
        for (int i = 0; i < g.taps[0]; i++) {
          const float *row = x + (o * g.in[0] + g.idx[0][h * g.taps[0] + i]) * g.in[1];
          double rw = 0;
          for (int j = 0; j < g.taps[1]; j++) rw += g.w[1][w * g.taps[1] + j] * row[g.idx[1][w * g.taps[1] + j]];
          acc += g.w[0][h * g.taps[0] + i] * rw;
        }
        y[(o * g.out[0] + h) * g.out[1] + w] = (float)acc;
      }
  ir_resize_free(&g);
  return 0;
}
