/* Reference kernels: AveragePool and MaxPool over 1 or 2 spatial axes (ir_pool_geom: 1-D is 2-D with
 * H = 1). Each output element folds the taps of its window that lie inside the input: max (NaN wins; -inf
 * when no tap does) or a sum in double divided by ir_pool_count's taps. */
#include "interp.h"
#include <math.h>

/* One pooling kernel: max, or average. */
static int pool(const Node *n, const Tensor *in, Tensor *out, Diag *d, int is_max) {
  const Tensor *x = &in[0];
  PoolGeom g;
  if (ir_pool_geom(n, x, &g, d)) return -1;
  int64_t planes = x->dims[0] * x->dims[1];
  if (out->dtype != DT_F32 || tensor_numel(out) != planes * g.out[0] * g.out[1])
    return interp_bad_dtype(d, n, "output", out);
  const float *src = x->data;
  float *dst = out->data;
  for (int64_t p = 0; p < planes; p++)
    for (int64_t oh = 0; oh < g.out[0]; oh++)
      for (int64_t ow = 0; ow < g.out[1]; ow++) {
        double acc = is_max ? -INFINITY : 0.0;
        for (int64_t kh = 0; kh < g.k[0]; kh++) {
          int64_t ih = oh * g.st[0] - g.pb[0] + kh * g.dl[0];
          if (ih < 0 || ih >= g.in[0]) continue;
          for (int64_t kw = 0; kw < g.k[1]; kw++) {
            int64_t iw = ow * g.st[1] - g.pb[1] + kw * g.dl[1];
            if (iw < 0 || iw >= g.in[1]) continue;
            double v = src[(p * g.in[0] + ih) * g.in[1] + iw];
            if (!is_max) acc += v;
            else if (v > acc || v != v) acc = v;
          }
        }
        if (!is_max) acc /= (double)(ir_pool_count(&g, 0, oh) * ir_pool_count(&g, 1, ow));
        dst[(p * g.out[0] + oh) * g.out[1] + ow] = (float)acc;
      }
  return 0;
}

int interp_average_pool(const Node *n, const Tensor *in, Tensor *out, Diag *d) { return pool(n, in, out, d, 0); }

/* MaxPool's optional Indices output is refused by shape inference. */
int interp_max_pool(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  if (interp_has_out(n, out, 1)) return ir_error(d, NULL, n, "the Indices output is not supported");
  return pool(n, in, out, d, 1);
}
