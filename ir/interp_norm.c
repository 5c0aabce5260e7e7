/* Reference kernels: Softmax, LayerNormalization and the reductions (f32
 * computed in double). */
#include "interp.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Normalizes an axis attribute against rank; -1 (after an error) when out of range. */
static int norm_axis(const Node *n, int64_t axis, int rank, Diag *d) {
  if (axis < -rank || axis >= rank)
    return ir_error(d, NULL, n, "axis %lld is out of range for rank %d", (long long)axis, rank);
  return (int)(axis < 0 ? axis + rank : axis);
}

/* ---- Softmax ---- */

/* Softmax of `len` elements spaced `stride` apart, in double. */
static void softmax_run(const float *x, float *y, int64_t len, int64_t stride) {
  double mx = -INFINITY, sum = 0;
  for (int64_t i = 0; i < len; i++)
    if (x[i * stride] > mx) mx = x[i * stride];
  for (int64_t i = 0; i < len; i++) sum += exp(x[i * stride] - mx);
  for (int64_t i = 0; i < len; i++) y[i * stride] = (float)(exp(x[i * stride] - mx) / sum);
}

/* Softmax along `axis` (default -1). With coerce_2d=1 (opset < 13 semantics)
 * the input is seen as 2-D [prod(dims[:axis]), prod(dims[axis:])] and each row
 * is normalized as a whole (the importer then always writes `axis`). */
int interp_softmax(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  if (in[0].dtype != DT_F32) return interp_bad_dtype(d, n, "input", &in[0]);
  if (interp_check_numel(d, n, &in[0], out)) return -1;
  int coerce = ir_attr_i(n, "coerce_2d", 0) != 0;
  int rank = in[0].rank;
  if (rank == 0) {
    ((float *)out->data)[0] = 1.0f;
    return 0;
  }
  int axis = norm_axis(n, ir_attr_i(n, "axis", -1), rank, d);
  if (axis < 0) return -1;
  int64_t outer = interp_dims_prod(&in[0], 0, axis);
  int64_t len = coerce ? interp_dims_prod(&in[0], axis, rank) : in[0].dims[axis];
  int64_t inner = coerce ? 1 : interp_dims_prod(&in[0], axis + 1, rank);
  const float *x = in[0].data;
  float *y = out->data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) softmax_run(x + o * len * inner + j, y + o * len * inner + j, len, inner);
  return 0;
}

/* ---- LayerNormalization ---- */

/* Scale or bias broadcast to the normalized shape x.dims[axis:], as a new
 * array of `len` doubles (NULL after an error). */
static double *affine_expand(const Node *n, const Tensor *x, int axis, const Tensor *t, const char *what, Diag *d) {
  if (t->dtype != DT_F32) {
    interp_bad_dtype(d, n, what, t);
    return NULL;
  }
  Tensor norm = {.dtype = DT_F32, .rank = x->rank - axis};
  memcpy(norm.dims, x->dims + axis, sizeof(int64_t) * (size_t)norm.rank);
  InterpIter it;
  interp_iter_init(&it, &norm, 1);
  if (interp_iter_broadcast(&it, 0, t, n, d)) return NULL;
  int64_t len = tensor_numel(&norm);
  double *v = malloc((size_t)(len ? len : 1) * sizeof *v);
  if (!v) {
    ir_error(d, NULL, n, "out of memory");
    return NULL;
  }
  for (int64_t i = 0; i < len; i++, interp_iter_next(&it)) v[i] = ((const float *)t->data)[it.off[0]];
  return v;
}

/* Normalizes rows of len elements: y = (x - mean) / sqrt(var + eps) * scale + bias;
 * mean and inv (1 / std) receive one value per row when not NULL. */
static void layer_norm_rows(const float *x, float *y, int64_t rows, int64_t len, double eps, const double *scale,
                            const double *bias, float *mean_out, float *inv_out) {
  for (int64_t o = 0; o < rows; o++, x += len, y += len) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < len; i++) mean += x[i];
    mean /= (double)len;
    for (int64_t i = 0; i < len; i++) var += (x[i] - mean) * (x[i] - mean);
    var /= (double)len;
    double inv = 1.0 / sqrt(var + eps);
    for (int64_t i = 0; i < len; i++) y[i] = (float)((x[i] - mean) * inv * scale[i] + (bias ? bias[i] : 0.0));
    if (mean_out) mean_out[o] = (float)mean;
    if (inv_out) inv_out[o] = (float)inv;
  }
}

/* LayerNormalization over axes [axis, rank), scale and optional bias
 * broadcast to the normalized shape. Optional outputs Mean and InvStdDev hold
 * one value per normalized group. */
int interp_layer_norm(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  const Tensor *x = &in[0];
  if (x->dtype != DT_F32) return interp_bad_dtype(d, n, "input", x);
  if (interp_check_numel(d, n, x, &out[0])) return -1;
  int axis = norm_axis(n, ir_attr_i(n, "axis", -1), x->rank, d);
  if (axis < 0) return -1;
  int64_t rows = interp_dims_prod(x, 0, axis), len = interp_dims_prod(x, axis, x->rank);
  float *stats[3] = {NULL, NULL, NULL};
  for (int j = 1; j < 3; j++) {
    if (!interp_has_out(n, out, j)) continue;
    if (out[j].dtype != DT_F32 || tensor_numel(&out[j]) != rows)
      return interp_bad_dtype(d, n, j == 1 ? "Mean output" : "InvStdDev output", &out[j]);
    stats[j] = out[j].data;
  }
  double *scale = affine_expand(n, x, axis, &in[1], "scale", d), *bias = NULL;
  int rc = scale ? 0 : -1;
  if (!rc && interp_has_in(n, in, 2) && !(bias = affine_expand(n, x, axis, &in[2], "bias", d))) rc = -1;
  double eps = ir_attr_f(n, "epsilon", 1e-5f);
  if (!rc) layer_norm_rows(x->data, out[0].data, rows, len, eps, scale, bias, stats[1], stats[2]);
  free(scale);
  free(bias);
  return rc;
}

/* ---- ReduceMean, ReduceSum, ReduceMax ---- */

typedef enum Reduce { RD_SUM, RD_MEAN, RD_MAX } Reduce;

/* Marks the reduced axes from input 1 (all axes when absent or empty, none with
 * noop_with_empty_axes). Returns the number of reduced axes, -1 on error. */
static int reduced_axes(const Node *n, const Tensor *in, int *mask, Diag *d) {
  int rank = in[0].rank, count = 0;
  int64_t na = interp_has_in(n, in, 1) ? tensor_numel(&in[1]) : 0;
  memset(mask, 0, sizeof(int) * IR_MAX_RANK);
  if (na == 0) {
    if (ir_attr_i(n, "noop_with_empty_axes", 0)) return 0;
    for (int a = 0; a < rank; a++) mask[a] = 1;
    return rank;
  }
  if (in[1].dtype != DT_I64 && in[1].dtype != DT_I32) return interp_bad_dtype(d, n, "axes", &in[1]);
  for (int64_t i = 0; i < na; i++) {
    int a = norm_axis(n, tensor_get_i64(&in[1], i), rank, d);
    if (a < 0) return -1;
    count += !mask[a];
    mask[a] = 1;
  }
  return count;
}

/* Output element strides as seen from the input: 0 along reduced axes. Also
 * checks the output has the reduced shape (with or without kept unit dims). */
static int reduce_strides(const Node *n, const Tensor *x, const Tensor *y, const int *mask, int64_t *st, Diag *d) {
  Tensor kept = {.dtype = y->dtype, .rank = x->rank};
  for (int a = 0; a < x->rank; a++) kept.dims[a] = mask[a] ? 1 : x->dims[a];
  if (tensor_numel(&kept) != tensor_numel(y)) return ir_error(d, NULL, n, "output shape does not match the reduction");
  interp_strides(&kept, st);
  for (int a = 0; a < x->rank; a++)
    if (mask[a]) st[a] = 0;
  return 0;
}

/* Reduces x over the axes set in mask into out (out's type fixes keepdims). */
static int reduce_masked(const Node *n, const Tensor *x, Tensor *out, const int *mask, Diag *d, Reduce kind) {
  int64_t st[IR_MAX_RANK];
  if (x->dtype != DT_F32 && x->dtype != DT_I64 && x->dtype != DT_I32) return interp_bad_dtype(d, n, "input", x);
  if (out->dtype != x->dtype) return interp_bad_dtype(d, n, "output", out);
  if (reduce_strides(n, x, out, mask, st, d)) return -1;
  int64_t total = tensor_numel(x), nout = tensor_numel(out), per = nout ? total / nout : 0;
  double *acc = malloc((size_t)(nout ? nout : 1) * sizeof *acc); /* exact for ints below 2^53 */
  if (!acc) return ir_error(d, NULL, n, "out of memory");
  for (int64_t i = 0; i < nout; i++) acc[i] = kind == RD_MAX ? -INFINITY : 0.0;
  InterpIter it;
  interp_iter_init(&it, x, 1);
  for (int a = 0; a < x->rank; a++) it.strides[0][a] = st[a];
  for (int64_t i = 0; i < total; i++, interp_iter_next(&it)) {
    double v = x->dtype == DT_F32 ? ((const float *)x->data)[i] : (double)tensor_get_i64(x, i);
    double *s = &acc[it.off[0]];
    if (kind != RD_MAX) *s += v;
    else if (v > *s || v != v) *s = v; /* NaN propagates */
  }
  /* Over no elements (per == 0): a sum is 0, a max -inf or, for an integer type, the type's minimum (ONNX),
   * an f32 mean NaN (an integer one is refused by shape inference). */
  for (int64_t i = 0; i < nout; i++) {
    double v = kind == RD_MEAN ? acc[i] / (double)per : acc[i];
    if (x->dtype == DT_F32) ((float *)out->data)[i] = (float)v;
    else if (x->dtype == DT_I64) ((int64_t *)out->data)[i] = isfinite(v) ? (int64_t)v : INT64_MIN;
    else if (x->dtype == DT_I32) ((int32_t *)out->data)[i] = isfinite(v) ? (int32_t)v : INT32_MIN;
  }
  free(acc);
  return 0;
}

/* Reduces in[0] over the axes of input 1 into out. */
static int reduce(const Node *n, const Tensor *in, Tensor *out, Diag *d, Reduce kind) {
  int mask[IR_MAX_RANK];
  if (reduced_axes(n, in, mask, d) < 0) return -1;
  return reduce_masked(n, &in[0], out, mask, d, kind);
}

int interp_reduce_mean(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return reduce(n, in, out, d, RD_MEAN); }
int interp_reduce_sum(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return reduce(n, in, out, d, RD_SUM); }
int interp_reduce_max(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return reduce(n, in, out, d, RD_MAX); }

/* GlobalAveragePool: the mean over every axis after the first two (NaN over none). */
int interp_global_average_pool(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  int mask[IR_MAX_RANK] = {0};
  if (in[0].dtype != DT_F32 || in[0].rank < 3) return interp_bad_dtype(d, n, "input", &in[0]);
  for (int a = 2; a < in[0].rank; a++) mask[a] = 1;
  return reduce_masked(n, &in[0], out, mask, d, RD_MEAN);
}
