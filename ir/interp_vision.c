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
