/* Reference kernels: ops that move or generate data by shape (reshape family,
 * transpose, expand, slice, gather, concat, split, shape, size,
 * constant_of_shape, range). Work for every dtype unless noted. */
#include "interp.h"
#include <math.h>
#include <string.h>

/* Normalizes an axis against rank; -1 (after an error) when out of range. */
static int norm_axis(const Node *n, int64_t axis, int rank, Diag *d) {
  if (axis < -rank || axis >= rank)
    return ir_error(d, NULL, n, "axis %lld is out of range for rank %d", (long long)axis, rank);
  return (int)(axis < 0 ? axis + rank : axis);
}

/* Errors unless out has dims[a] == want[a] for all its axes. */
static int check_dims(const Node *n, const Tensor *out, const int64_t *want, int rank, Diag *d) {
  int same = out->rank == rank;
  for (int a = 0; same && a < rank; a++) same = out->dims[a] == want[a];
  if (same) return 0;
  char buf[128];
  return ir_error(d, NULL, n, "output %s does not match the shape the op computes",
                  tensor_type_str(out, buf, sizeof buf));
}

/* Copies the whole input: the reshape family only relabels dims. */
static int copy_all(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  if (interp_check_numel(d, n, in, out)) return -1;
  memcpy(out->data, in->data, tensor_bytes(out));
  return 0;
}

/* ---- reshape family ---- */

/* Reshape: checks the output against the shape input (0 copies the input dim
 * unless allowzero, -1 is inferred), then copies. */
int interp_reshape(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  int64_t want[IR_MAX_RANK], known = 1;
  int rank = (int)tensor_numel(&in[1]), infer = -1;
  if (in[1].dtype != DT_I64 || in[1].rank != 1 || rank > IR_MAX_RANK) return interp_bad_dtype(d, n, "shape", &in[1]);
  int allowzero = ir_attr_i(n, "allowzero", 0) != 0;
  for (int a = 0; a < rank; a++) {
    want[a] = tensor_get_i64(&in[1], a);
    if (want[a] == 0 && !allowzero) want[a] = a < in[0].rank ? in[0].dims[a] : 0;
    if (want[a] == -1 && infer < 0) infer = a;
    else if (__builtin_mul_overflow(known, want[a], &known)) return ir_error(d, NULL, n, "shape entries overflow");
  }
  if (infer >= 0) want[infer] = known ? tensor_numel(&in[0]) / known : 0;
  return check_dims(n, out, want, rank, d) || copy_all(n, &in[0], out, d) ? -1 : 0;
}

int interp_flatten(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return copy_all(n, &in[0], out, d); }
int interp_squeeze(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return copy_all(n, &in[0], out, d); }
int interp_unsqueeze(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return copy_all(n, &in[0], out, d); }

/* ---- transpose, expand ---- */

/* Transpose by `perm` (default: reverse the axes). */
int interp_transpose(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  int rank = in[0].rank;
  int64_t perm[IR_MAX_RANK], st[IR_MAX_RANK], want[IR_MAX_RANK];
  int got = ir_attr_ints(n, "perm", perm, IR_MAX_RANK);
  if (got < 0)
    for (int a = 0; a < rank; a++) perm[a] = rank - 1 - a;
  else if (got != rank)
    return ir_error(d, NULL, n, "perm has %d entries for rank %d", got, rank);
  int seen[IR_MAX_RANK] = {0};
  for (int a = 0; a < rank; a++) {
    if (perm[a] < 0 || perm[a] >= rank || seen[perm[a]]++) return ir_error(d, NULL, n, "perm is not a permutation");
    want[a] = in[0].dims[perm[a]];
  }
  if (check_dims(n, out, want, rank, d)) return -1;
  if (out->dtype != in[0].dtype) return interp_bad_dtype(d, n, "output", out);
  interp_strides(&in[0], st);
  InterpIter it;
  interp_iter_init(&it, out, 1);
  for (int a = 0; a < rank; a++) it.strides[0][a] = st[perm[a]];
  int64_t total = tensor_numel(out);
  size_t es = dt_size(out->dtype);
  for (int64_t i = 0; i < total; i++, interp_iter_next(&it)) interp_copy_elem(out->data, i, in[0].data, it.off[0], es);
  return 0;
}

/* Expand: broadcasts the input to the output shape (which shape inference
 * computed from the shape input). */
int interp_expand(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  if (out->dtype != in[0].dtype) return interp_bad_dtype(d, n, "output", out);
  InterpIter it;
  interp_iter_init(&it, out, 1);
  if (interp_iter_broadcast(&it, 0, &in[0], n, d)) return -1;
  int64_t total = tensor_numel(out);
  size_t es = dt_size(out->dtype);
  for (int64_t i = 0; i < total; i++, interp_iter_next(&it)) interp_copy_elem(out->data, i, in[0].data, it.off[0], es);
  return 0;
}

/* ---- slice ---- */

/* Clamps v into [lo, hi]. */
static int64_t clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Slice with starts, ends and optional axes and steps inputs. */
int interp_slice(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  const Tensor *x = &in[0];
  int rank = x->rank;
  int64_t start[IR_MAX_RANK] = {0}, step[IR_MAX_RANK], want[IR_MAX_RANK], st[IR_MAX_RANK];
  for (int a = 0; a < rank; a++) step[a] = 1, want[a] = x->dims[a];
  int64_t count = tensor_numel(&in[1]);
  int has_axes = interp_has_in(n, in, 3), has_steps = interp_has_in(n, in, 4);
  if (tensor_numel(&in[2]) != count || (has_axes && tensor_numel(&in[3]) != count) ||
      (has_steps && tensor_numel(&in[4]) != count))
    return ir_error(d, NULL, n, "starts, ends, axes and steps differ in length");
  for (int64_t i = 0; i < count; i++) {
    int a = norm_axis(n, has_axes ? tensor_get_i64(&in[3], i) : i, rank, d);
    if (a < 0) return -1;
    int64_t s = tensor_get_i64(&in[1], i), e = tensor_get_i64(&in[2], i);
    step[a] = has_steps ? tensor_get_i64(&in[4], i) : 1;
    if (step[a] == 0) return ir_error(d, NULL, n, "step must not be 0");
    want[a] = ir_slice_axis(x->dims[a], &s, e, step[a]);
    start[a] = s;
    if (want[a] <= 1) step[a] = 1; /* never taken, and st[a] * a step past the axis could overflow */
  }
  if (check_dims(n, out, want, rank, d)) return -1;
  if (out->dtype != x->dtype) return interp_bad_dtype(d, n, "output", out);
  interp_strides(x, st);
  InterpIter it;
  interp_iter_init(&it, out, 1);
  for (int a = 0; a < rank; a++) {
    it.strides[0][a] = st[a] * step[a];
    it.off[0] += st[a] * start[a];
  }
  int64_t total = tensor_numel(out);
  size_t es = dt_size(out->dtype);
  for (int64_t i = 0; i < total; i++, interp_iter_next(&it)) interp_copy_elem(out->data, i, x->data, it.off[0], es);
  return 0;
}

/* ---- gather, concat, split ---- */

/* Gather along `axis` with int32/int64 indices (negative ones count from the end). */
int interp_gather(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  const Tensor *x = &in[0], *idx = &in[1];
  int axis = norm_axis(n, ir_attr_i(n, "axis", 0), x->rank, d);
  if (axis < 0) return -1;
  if (idx->dtype != DT_I64 && idx->dtype != DT_I32) return interp_bad_dtype(d, n, "indices", idx);
  int64_t want[IR_MAX_RANK];
  int rank = x->rank - 1 + idx->rank;
  if (rank > IR_MAX_RANK) return ir_error(d, NULL, n, "output rank %d is too large", rank);
  for (int a = 0; a < rank; a++)
    want[a] = a < axis ? x->dims[a] : a < axis + idx->rank ? idx->dims[a - axis] : x->dims[a - idx->rank + 1];
  if (check_dims(n, out, want, rank, d)) return -1;
  if (out->dtype != x->dtype) return interp_bad_dtype(d, n, "output", out);
  int64_t outer = interp_dims_prod(x, 0, axis), dim = x->dims[axis], inner = interp_dims_prod(x, axis + 1, x->rank);
  int64_t ni = tensor_numel(idx);
  size_t es = dt_size(x->dtype), row = (size_t)inner * es;
  for (int64_t q = 0; q < ni; q++) {
    int64_t k = tensor_get_i64(idx, q);
    if (k < -dim || k >= dim)
      return ir_error(d, NULL, n, "index %lld is out of range for axis %d of size %lld", (long long)k, axis,
                      (long long)dim);
    if (k < 0) k += dim;
    for (int64_t o = 0; o < outer; o++)
      memcpy((char *)out->data + (size_t)(o * ni + q) * row, (const char *)x->data + (size_t)(o * dim + k) * row, row);
  }
  return 0;
}

/* Concat along `axis`: each outer slab of the output is the inputs' slabs in order. */
int interp_concat(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  int axis = norm_axis(n, ir_attr_i(n, "axis", 0), out->rank, d);
  if (axis < 0) return -1;
  int64_t outer = interp_dims_prod(out, 0, axis), inner = interp_dims_prod(out, axis + 1, out->rank), total = 0;
  size_t es = dt_size(out->dtype);
  for (int i = 0; i < n->n_in; i++) {
    if (in[i].dtype != out->dtype || in[i].rank != out->rank) return interp_bad_dtype(d, n, "operand", &in[i]);
    total += in[i].dims[axis];
  }
  if (total != out->dims[axis]) return ir_error(d, NULL, n, "input sizes along axis %d do not add up", axis);
  char *dst = out->data;
  for (int64_t o = 0; o < outer; o++)
    for (int i = 0; i < n->n_in; i++) {
      size_t chunk = (size_t)(in[i].dims[axis] * inner) * es;
      memcpy(dst, (const char *)in[i].data + (size_t)o * chunk, chunk);
      dst += chunk;
    }
  return 0;
}

/* Split sizes: from input 1, else chunks of ceil(dim / parts) with a smaller
 * last one (parts = num_outputs, else the output count). */
static int split_sizes(const Node *n, const Tensor *in, int64_t dim, int64_t *sizes, Diag *d) {
  int parts = n->n_out;
  if (interp_has_in(n, in, 1) && tensor_numel(&in[1]) > 0) {
    if (tensor_numel(&in[1]) != parts)
      return ir_error(d, NULL, n, "split has %lld sizes for %d outputs", (long long)tensor_numel(&in[1]), parts);
    int64_t sum = 0;
    for (int j = 0; j < parts; j++) {
      sizes[j] = tensor_get_i64(&in[1], j);
      if (sizes[j] < 0) return ir_error(d, NULL, n, "split size %lld is negative", (long long)sizes[j]);
      sum += sizes[j];
    }
    if (sum != dim)
      return ir_error(d, NULL, n, "split sizes add up to %lld, not %lld", (long long)sum, (long long)dim);
    return 0;
  }
  int64_t num = ir_attr_i(n, "num_outputs", parts);
  if (num != parts) return ir_error(d, NULL, n, "num_outputs=%lld but %d outputs", (long long)num, parts);
  int64_t chunk = (dim + parts - 1) / parts;
  for (int j = 0; j < parts; j++) sizes[j] = clamp(dim - chunk * j, 0, chunk);
  return 0;
}

/* Split along `axis` into the outputs. */
int interp_split(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  const Tensor *x = &in[0];
  int axis = norm_axis(n, ir_attr_i(n, "axis", 0), x->rank, d);
  int64_t sizes[IR_MAX_OUTPUTS];
  if (axis < 0 || split_sizes(n, in, x->dims[axis], sizes, d)) return -1;
  int64_t outer = interp_dims_prod(x, 0, axis), inner = interp_dims_prod(x, axis + 1, x->rank), at = 0;
  size_t es = dt_size(x->dtype);
  for (int j = 0; j < n->n_out; at += sizes[j], j++) {
    if (!interp_has_out(n, out, j)) continue;
    int64_t want[IR_MAX_RANK];
    memcpy(want, x->dims, sizeof want);
    want[axis] = sizes[j];
    if (out[j].dtype != x->dtype) return interp_bad_dtype(d, n, "output", &out[j]);
    if (check_dims(n, &out[j], want, x->rank, d)) return -1;
    size_t chunk = (size_t)(sizes[j] * inner) * es;
    for (int64_t o = 0; o < outer; o++) {
      const char *src = (const char *)x->data + (size_t)((o * x->dims[axis] + at) * inner) * es;
      memcpy((char *)out[j].data + (size_t)o * chunk, src, chunk);
    }
  }
  return 0;
}

/* ---- shape, size, constant_of_shape, range ---- */

/* Shape: the input's dims[start:end] as i64 (negative bounds count from the end, then clamp). */
int interp_shape(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  int rank = in[0].rank;
  int64_t start = ir_attr_i(n, "start", 0), end = ir_attr_i(n, "end", rank);
  start = clamp(start < 0 ? start + rank : start, 0, rank);
  end = clamp(end < 0 ? end + rank : end, 0, rank);
  int64_t len = end > start ? end - start : 0;
  if (out->dtype != DT_I64 || tensor_numel(out) != len) return interp_bad_dtype(d, n, "output", out);
  for (int64_t i = 0; i < len; i++) ((int64_t *)out->data)[i] = in[0].dims[start + i];
  return 0;
}

/* Size: the input's element count as an i64 scalar. */
int interp_size(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  if (out->dtype != DT_I64 || tensor_numel(out) != 1) return interp_bad_dtype(d, n, "output", out);
  ((int64_t *)out->data)[0] = tensor_numel(&in[0]);
  return 0;
}

/* ConstantOfShape: the output filled with the one-element `value` tensor (default f32 0). */
int interp_constant_of_shape(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  int64_t want[IR_MAX_RANK];
  int rank = (int)tensor_numel(&in[0]);
  if (in[0].dtype != DT_I64 || rank > IR_MAX_RANK) return interp_bad_dtype(d, n, "shape", &in[0]);
  for (int a = 0; a < rank; a++) want[a] = tensor_get_i64(&in[0], a);
  if (check_dims(n, out, want, rank, d)) return -1;
  const Attr *v = ir_attr_find(n, "value");
  Tensor zero = {.dtype = DT_F32, .rank = 1, .dims = {1}, .data = &(float){0}};
  const Tensor *val = v && v->kind == AT_TENSOR && v->t ? v->t : &zero;
  if (val->dtype != out->dtype || tensor_numel(val) != 1 || !val->data)
    return interp_bad_dtype(d, n, "value", val);
  int64_t total = tensor_numel(out);
  size_t es = dt_size(out->dtype);
  for (int64_t i = 0; i < total; i++) interp_copy_elem(out->data, i, val->data, 0, es);
  return 0;
}

/* Range: start + i * delta for i in [0, max(ceil((limit - start) / delta), 0)). */
int interp_range(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  DType t = out->dtype;
  for (int i = 0; i < 3; i++)
    if (in[i].dtype != t || tensor_numel(&in[i]) != 1) return interp_bad_dtype(d, n, "operand", &in[i]);
  int64_t count, total = tensor_numel(out);
  if (t == DT_F32) {
    double s = ((const float *)in[0].data)[0], l = ((const float *)in[1].data)[0], dl = ((const float *)in[2].data)[0];
    count = dl == 0 ? -1 : (int64_t)fmax(ceil((l - s) / dl), 0);
    for (int64_t i = 0; i < total && count == total; i++) ((float *)out->data)[i] = (float)(s + (double)i * dl);
  } else if (t == DT_I64 || t == DT_I32) {
    int64_t s = tensor_get_i64(&in[0], 0), dl = tensor_get_i64(&in[2], 0);
    count = ir_range_count_i64(s, tensor_get_i64(&in[1], 0), dl);
    for (int64_t i = 0; i < total && count == total; i++) { /* each element lies between start and limit */
      __int128 x = (__int128)s + (__int128)i * dl; /* (with operands at the ends of int64, i * dl overflows) */
      if (t == DT_I64) ((int64_t *)out->data)[i] = (int64_t)x;
      else ((int32_t *)out->data)[i] = (int32_t)x;
    }
  } else {
    return interp_bad_dtype(d, n, "output", out);
  }
  if (count != total)
    return ir_error(d, NULL, n, "range has %lld elements, output holds %lld", (long long)count, (long long)total);
  return 0;
}

/* ---- pad, scatter_nd ---- */

/* Pad: each output element reads the input through ir_pad_source on every axis, or is the constant
 * (constant_value, default 0) when one axis is outside the input in constant mode. */
int interp_pad(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  const Tensor *x = &in[0];
  int64_t begin[IR_MAX_RANK], end[IR_MAX_RANK], want[IR_MAX_RANK], st[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
  int mode = ir_pad_mode(n, d);
  if (mode < 0 || ir_pad_amounts(n, x, &in[1], interp_has_in(n, in, 3) ? &in[3] : NULL, begin, end, d)) return -1;
  for (int a = 0; a < x->rank; a++) want[a] = x->dims[a] + begin[a] + end[a];
  if (check_dims(n, out, want, x->rank, d)) return -1;
  if (out->dtype != x->dtype) return interp_bad_dtype(d, n, "output", out);
  uint64_t fill = 0;
  size_t es = dt_size(x->dtype);
  if (interp_has_in(n, in, 2)) {
    if (in[2].dtype != x->dtype || tensor_numel(&in[2]) != 1) return interp_bad_dtype(d, n, "constant_value", &in[2]);
    memcpy(&fill, in[2].data, es);
  }
  for (int a = 0; a < x->rank; a++)
    if (mode != PAD_CONSTANT && x->dims[a] == 0 && want[a] > 0)
      return ir_error(d, NULL, n, "cannot pad axis %d, which is empty, in this mode", a);
  interp_strides(x, st);
  int64_t total = tensor_numel(out);
  for (int64_t i = 0; i < total; i++) {
    int64_t off = 0;
    for (int a = 0; a < x->rank && off >= 0; a++) {
      int64_t s = ir_pad_source(idx[a], begin[a], x->dims[a], (PadMode)mode);
      off = s < 0 ? -1 : off + s * st[a];
    }
    if (off < 0) interp_copy_elem(out->data, i, &fill, 0, es);
    else interp_copy_elem(out->data, i, x->data, off, es);
    for (int a = x->rank - 1; a >= 0 && ++idx[a] == want[a]; a--) idx[a] = 0;
  }
  return 0;
}

/* One ScatterND reduction of v into *dst. */
static void scatter_apply(void *dst, int64_t i, const void *src, int64_t j, DType t, int red) {
  if (red == 0) {
    interp_copy_elem(dst, i, src, j, dt_size(t));
  } else if (t == DT_F32) {
    float *p = &((float *)dst)[i], v = ((const float *)src)[j];
    *p = red == 1 ? *p + v : red == 2 ? *p * v : red == 3 ? (v > *p || v != v ? v : *p) : (v < *p || v != v ? v : *p);
  } else if (t == DT_I64) {
    int64_t *p = &((int64_t *)dst)[i], v = ((const int64_t *)src)[j];
    *p = red == 1 ? (int64_t)((uint64_t)*p + (uint64_t)v) : red == 2 ? (int64_t)((uint64_t)*p * (uint64_t)v)
         : red == 3 ? (v > *p ? v : *p) : (v < *p ? v : *p);
  } else {
    int32_t *p = &((int32_t *)dst)[i], v = ((const int32_t *)src)[j];
    *p = red == 1 ? (int32_t)((uint32_t)*p + (uint32_t)v) : red == 2 ? (int32_t)((uint32_t)*p * (uint32_t)v)
         : red == 3 ? (v > *p ? v : *p) : (v < *p ? v : *p);
  }
}

/* The reduction of a scatter node: 0 none, 1 add, 2 mul, 3 max, 4 min; -1 with d filled. */
static int scatter_reduction(const Node *n, Diag *d) {
  static const char *const names[] = {"none", "add", "mul", "max", "min"};
  const char *r = ir_attr_s(n, "reduction", "none");
  for (int i = 0; i < 5; i++)
    if (strcmp(r, names[i]) == 0) return i;
  return ir_error(d, NULL, n, "reduction '%s' is not supported", r);
}

/* ScatterND: out = data, then for each index tuple in order (negative entries count from the end) its
 * slice of out is replaced by (or reduced with) the tuple's slice of updates. */
int interp_scatter_nd(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  const Tensor *x = &in[0], *idx = &in[1], *upd = &in[2];
  int red = scatter_reduction(n, d);
  if (red < 0) return -1;
  if (check_dims(n, out, x->dims, x->rank, d)) return -1;
  if (out->dtype != x->dtype || upd->dtype != x->dtype) return interp_bad_dtype(d, n, "updates", upd);
  if (idx->dtype != DT_I64 || idx->rank < 1) return interp_bad_dtype(d, n, "indices", idx);
  if (red && x->dtype == DT_BOOL) return interp_bad_dtype(d, n, "data", x);
  int k = (int)idx->dims[idx->rank - 1];
  if (k > x->rank) return ir_error(d, NULL, n, "indices address %d axes of rank-%d data", k, x->rank);
  int64_t st[IR_MAX_RANK], slice = interp_dims_prod(x, k, x->rank), tuples = k ? tensor_numel(idx) / k : 0;
  if (k == 0) tuples = interp_dims_prod(idx, 0, idx->rank - 1);
  if (tensor_numel(upd) != tuples * slice) return interp_bad_dtype(d, n, "updates", upd);
  interp_strides(x, st);
  memcpy(out->data, x->data, tensor_bytes(x));
  for (int64_t t = 0; t < tuples; t++) {
    int64_t off = 0;
    for (int j = 0; j < k; j++) {
      int64_t v = ((const int64_t *)idx->data)[t * k + j], dim = x->dims[j];
      if (v < -dim || v >= dim)
        return ir_error(d, NULL, n, "index %lld is out of range for axis %d of size %lld", (long long)v, j,
                        (long long)dim);
      off += (v < 0 ? v + dim : v) * st[j];
    }
    for (int64_t s = 0; s < slice; s++) scatter_apply(out->data, off + s, upd->data, t * slice + s, x->dtype, red);
  }
  return 0;
}
