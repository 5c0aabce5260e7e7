/* Shape inference for BatchNormalization, ArgMax/ArgMin, TopK and Resize, and Resize's geometry (the
 * per-axis index and weight tables the interpreter and the backend both read, ONNX's reference
 * interpolation written out). */
#include "shape_vision.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const Tensor *in_t(const Node *n, int i) { return i < n->n_in && n->in[i] ? &n->in[i]->t : NULL; }

static void set_out(Node *n, int i, DType dt, int rank, const int64_t *dims) {
  Tensor *o = &n->out[i]->t;
  o->dtype = dt;
  o->rank = rank;
  for (int k = 0; k < rank; k++) o->dims[k] = dims[k];
}

/* ---- batch_norm ---- */

/* BatchNormalization in inference form: x f32 [N, C, D1, ...], scale, B, mean and var f32 [C]. */
int shape_vision_batch_norm(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0);
  char ty[128];
  if (ir_attr_i(n, "training_mode", 0) != 0)
    return ir_error(d, NULL, n, "training_mode=1 is not supported: vitc compiles inference (export the model in "
                    "eval mode)");
  for (int j = 1; j < n->n_out; j++)
    if (n->out[j])
      return ir_error(d, NULL, n, "output %d (a running statistic of training) is not supported: vitc compiles "
                      "inference, which has output 0 only", j);
  if (ir_attr_i(n, "spatial", 1) != 1)
    return ir_error(d, NULL, n, "spatial=0 (statistics per element, before opset 9) is not supported");
  if (x->dtype != DT_F32) return ir_error(d, NULL, n, "input X must be f32, got %s", dt_name(x->dtype));
  if (x->rank < 2)
    return ir_error(d, NULL, n, "input X must be [N, C, ...] (rank >= 2), got %s", tensor_type_str(x, ty, sizeof ty));
  static const char *const what[] = {"", "scale", "B", "input_mean", "input_var"};
  for (int i = 1; i < 5; i++) {
    const Tensor *p = in_t(n, i);
    if (!p) return ir_error(d, NULL, n, "input %d (%s) is missing", i, what[i]);
    if (p->dtype != DT_F32 || p->rank != 1 || p->dims[0] != x->dims[1])
      return ir_error(d, NULL, n, "%s must be f32[%lld] (one per channel), got %s", what[i], (long long)x->dims[1],
                      tensor_type_str(p, ty, sizeof ty));
  }
  set_out(n, 0, DT_F32, x->rank, x->dims);
  return 0;
}

/* ---- arg_max, arg_min, top_k ---- */

/* The normalized `axis` (default def) of n against x's rank, or -1 with d filled; x must be numeric. */
static int select_axis(Node *n, const Tensor *x, int64_t def, Diag *d) {
  if (x->dtype != DT_F32 && x->dtype != DT_I64 && x->dtype != DT_I32)
    return ir_error(d, NULL, n, "input must be f32, i64 or i32, got %s", dt_name(x->dtype));
  int64_t axis = ir_attr_i(n, "axis", def);
  if (x->rank == 0) return ir_error(d, NULL, n, "input must have rank >= 1");
  if (axis < -x->rank || axis >= x->rank)
    return ir_error(d, NULL, n, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
  return (int)(axis < 0 ? axis + x->rank : axis);
}

/* ArgMax / ArgMin: i64 indices along `axis` (default 0), the axis kept as 1 (keepdims, default) or dropped. */
int shape_vision_arg(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0);
  int axis = select_axis(n, x, 0, d);
  if (axis < 0) return -1;
  int keep = ir_attr_i(n, "keepdims", 1) != 0;
  int64_t dims[IR_MAX_RANK], numel = 1;
  int r = 0;
  for (int a = 0; a < x->rank; a++) {
    if (a != axis) dims[r++] = x->dims[a], numel *= x->dims[a];
    else if (keep) dims[r++] = 1;
  }
  if (x->dims[axis] == 0 && numel > 0)
    return ir_error(d, NULL, n, "axis %d is empty: the index of the extreme of no elements is undefined", axis);
  set_out(n, 0, DT_I64, r, dims);
  return 0;
}

/* TopK: k (input 1, a known i64 [1] or scalar, 0 <= k <= the axis) largest or smallest elements along `axis`
 * (default -1): values of x's type and i64 indices, the axis of size k. */
int shape_vision_top_k(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0), *k = in_t(n, 1);
  int axis = select_axis(n, x, -1, d);
  if (axis < 0) return -1;
  if (!k->data)
    return ir_error(d, NULL, n, "k (input 1, '%s') must be known at compile time", n->in[1]->name);
  if (k->dtype != DT_I64 || tensor_numel(k) != 1 || k->rank > 1)
    return ir_error(d, NULL, n, "k must be an i64 tensor of one element, got %s", dt_name(k->dtype));
  int64_t kv = tensor_get_i64(k, 0);
  if (kv < 0 || kv > x->dims[axis])
    return ir_error(d, NULL, n, "k = %lld is outside [0, %lld] (the size of axis %d)", (long long)kv,
                    (long long)x->dims[axis], axis);
  int64_t dims[IR_MAX_RANK];
  for (int a = 0; a < x->rank; a++) dims[a] = a == axis ? kv : x->dims[a];
  set_out(n, 0, x->dtype, x->rank, dims);
  if (n->n_out > 1 && n->out[1]) set_out(n, 1, DT_I64, x->rank, dims);
  return 0;
}
