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
