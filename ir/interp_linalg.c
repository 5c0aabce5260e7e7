/* Reference kernels: MatMul, Gemm and Conv (f32, sums accumulated in double). */
#include "interp.h"
#include <stdlib.h>
#include <string.h>

/* ---- the matrix product core ---- */

#define MM_ROWS 4   /* rows of A sharing one pass over a panel of B */
#define MM_COLS 256 /* columns per panel: the accumulators stay in L1 */

/* C[M,N] = A[M,K] * B[K,N], all row-major f32. i-k-j order over contiguous rows
 * of B with double accumulators; rows are blocked so each B row read from
 * memory serves MM_ROWS rows of A. */
static void mm_f32(const float *a, const float *b, float *c, int64_t m, int64_t k, int64_t nc) {
  double acc[MM_ROWS][MM_COLS];
  for (int64_t j0 = 0; j0 < nc; j0 += MM_COLS) {
    int64_t jn = nc - j0 < MM_COLS ? nc - j0 : MM_COLS;
    for (int64_t i0 = 0; i0 < m; i0 += MM_ROWS) {
      int64_t rows = m - i0 < MM_ROWS ? m - i0 : MM_ROWS;
      for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < jn; j++) acc[r][j] = 0;
      for (int64_t p = 0; p < k; p++) {
        const float *brow = b + p * nc + j0;
        for (int64_t r = 0; r < rows; r++) {
          double av = a[(i0 + r) * k + p];
          double *ar = acc[r];
          for (int64_t j = 0; j < jn; j++) ar[j] += av * brow[j];
        }
      }
      for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < jn; j++) c[(i0 + r) * nc + j0 + j] = (float)acc[r][j];
    }
  }
}

/* Checks every operand of a linear-algebra op is f32. */
static int check_f32(const Node *n, const Tensor *in, const Tensor *out, Diag *d) {
  for (int i = 0; i < n->n_in; i++)
    if (interp_has_in(n, in, i) && in[i].dtype != DT_F32) return interp_bad_dtype(d, n, "operand", &in[i]);
  if (out->dtype != DT_F32) return interp_bad_dtype(d, n, "output", out);
  return 0;
}

/* ---- MatMul ---- */

/* The batch part of a matmul operand: its dims before the last two. */
static Tensor batch_of(const Tensor *t) {
  Tensor b = {.dtype = t->dtype, .rank = t->rank > 2 ? t->rank - 2 : 0};
  for (int a = 0; a < b.rank; a++) b.dims[a] = t->dims[a];
  return b;
}

/* MatMul with numpy semantics: batch dims broadcast; a 1-D A is a row vector
 * and a 1-D B a column vector, whose unit dim is dropped from the result. */
int interp_matmul(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  const Tensor *A = &in[0], *B = &in[1];
  if (check_f32(n, in, out, d)) return -1;
  if (A->rank < 1 || B->rank < 1) return ir_error(d, NULL, n, "operands must have rank >= 1");
  int64_t m = A->rank == 1 ? 1 : A->dims[A->rank - 2], k = A->dims[A->rank - 1];
  int64_t kb = B->rank == 1 ? B->dims[0] : B->dims[B->rank - 2], nc = B->rank == 1 ? 1 : B->dims[B->rank - 1];
  int batch_rank = out->rank - (A->rank > 1) - (B->rank > 1);
  if (k != kb || batch_rank < 0 || (A->rank > 1 && out->dims[batch_rank] != m) ||
      (B->rank > 1 && out->dims[out->rank - 1] != nc))
    return ir_error(d, NULL, n, "operand shapes do not match the output");
  Tensor ob = {.dtype = DT_F32, .rank = batch_rank}, ab = batch_of(A), bb = batch_of(B);
  for (int a = 0; a < batch_rank; a++) ob.dims[a] = out->dims[a];
  InterpIter it;
  interp_iter_init(&it, &ob, 2);
  if (interp_iter_broadcast(&it, 0, &ab, n, d) || interp_iter_broadcast(&it, 1, &bb, n, d)) return -1;
  int64_t batches = tensor_numel(&ob);
  for (int64_t i = 0; i < batches; i++, interp_iter_next(&it))
    mm_f32((const float *)A->data + it.off[0] * m * k, (const float *)B->data + it.off[1] * k * nc,
           (float *)out->data + i * m * nc, m, k, nc);
  return 0;
}

/* ---- Gemm ---- */

/* A rows x cols matrix transposed into a new buffer (NULL when out of memory). */
static float *transposed(const float *x, int64_t rows, int64_t cols) {
  int64_t count = rows * cols;
  float *t = malloc((size_t)(count > 0 ? count : 1) * sizeof *t);
  if (!t) return NULL;
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++) t[c * rows + r] = x[r * cols + c];
  return t;
}

/* Gemm: Y = alpha * op(A) op(B) + beta * C, op = transpose when transA/transB,
 * C unidirectionally broadcast to [M, N]. */
int interp_gemm(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  if (check_f32(n, in, out, d)) return -1;
  if (in[0].rank != 2 || in[1].rank != 2 || out->rank != 2) return ir_error(d, NULL, n, "operands must be 2-D");
  int ta = ir_attr_i(n, "transA", 0) != 0, tb = ir_attr_i(n, "transB", 0) != 0;
  double alpha = ir_attr_f(n, "alpha", 1.0f), beta = ir_attr_f(n, "beta", 1.0f);
  int64_t m = in[0].dims[ta], k = in[0].dims[!ta], kb = in[1].dims[tb], nc = in[1].dims[!tb];
  if (k != kb || out->dims[0] != m || out->dims[1] != nc)
    return ir_error(d, NULL, n, "operand shapes do not match the output");
  float *at = ta ? transposed(in[0].data, k, m) : NULL, *bt = tb ? transposed(in[1].data, nc, k) : NULL;
  if ((ta && !at) || (tb && !bt)) {
    free(at);
    free(bt);
    return ir_error(d, NULL, n, "out of memory");
  }
  mm_f32(ta ? at : in[0].data, tb ? bt : in[1].data, out->data, m, k, nc);
  free(at);
  free(bt);
  float *y = out->data;
  if (!interp_has_in(n, in, 2)) {
    if (alpha != 1.0)
      for (int64_t i = 0; i < m * nc; i++) y[i] = (float)(alpha * y[i]);
    return 0;
  }
  InterpIter it;
  interp_iter_init(&it, out, 1);
  if (interp_iter_broadcast(&it, 0, &in[2], n, d)) return -1;
  const float *c = in[2].data;
  for (int64_t i = 0; i < m * nc; i++, interp_iter_next(&it)) y[i] = (float)(alpha * y[i] + beta * c[it.off[0]]);
  return 0;
}

/* ---- Conv ---- */

/* Geometry of a 2-D convolution (a 1-D one is a 2-D one with height 1). */
typedef struct ConvGeom {
  int64_t batch, cin, cout, group;
  int64_t in[2], k[2], out[2], stride[2], dil[2], pad[2]; /* pad: leading padding */
} ConvGeom;

/* Reads an ints attribute of `count` entries into v, or fills v with def. */
static int ints_or(const Node *n, const char *name, int64_t *v, int count, int64_t def, Diag *d) {
  int got = ir_attr_ints(n, name, v, count);
  if (got < 0)
    for (int i = 0; i < count; i++) v[i] = def;
  else if (got != count)
    return ir_error(d, NULL, n, "%s has %d values, expected %d", name, got, count);
  return 0;
}

/* Works out leading pads from pads/auto_pad and checks the output size. */
static int conv_pads(const Node *n, ConvGeom *g, int sp, Diag *d) {
  int64_t pads[4];
  if (ints_or(n, "pads", pads, 2 * sp, 0, d)) return -1;
  const char *autopad = ir_attr_s(n, "auto_pad", "NOTSET");
  int off = 2 - sp; /* index of the first real spatial axis in g's 2-entry arrays */
  for (int s = 0; s < sp; s++) {
    int a = off + s;
    int64_t span = (g->k[a] - 1) * g->dil[a] + 1, begin = pads[s], end = pads[sp + s];
    if (strcmp(autopad, "VALID") == 0) {
      begin = end = 0;
    } else if (strcmp(autopad, "SAME_UPPER") == 0 || strcmp(autopad, "SAME_LOWER") == 0) {
      int64_t want = (g->in[a] + g->stride[a] - 1) / g->stride[a];
      int64_t total = (want - 1) * g->stride[a] + span - g->in[a];
      if (total < 0) total = 0;
      begin = autopad[5] == 'U' ? total / 2 : total - total / 2; /* the odd pixel goes at the end for UPPER */
      end = total - begin;
    } else if (strcmp(autopad, "NOTSET") != 0) {
      return ir_error(d, NULL, n, "unknown auto_pad '%s'", autopad);
    }
    g->pad[a] = begin;
    int64_t padded = g->in[a] + begin + end;
    int64_t expect = padded < span ? 0 : (padded - span) / g->stride[a] + 1;
    if (expect != g->out[a])
      return ir_error(d, NULL, n, "output size %lld along spatial axis %d, expected %lld", (long long)g->out[a], s,
                      (long long)expect);
  }
  return 0;
}

/* Fills the geometry from the operands and attributes, checking them. */
static int conv_geom(const Node *n, const Tensor *x, const Tensor *w, const Tensor *y, ConvGeom *g, Diag *d) {
  int sp = x->rank - 2;
  if ((sp != 1 && sp != 2) || w->rank != x->rank || y->rank != x->rank)
    return ir_error(d, NULL, n, "only 1-D and 2-D convolutions are supported");
  memset(g, 0, sizeof *g);
  g->batch = x->dims[0];
  g->cin = x->dims[1];
  g->cout = w->dims[0];
  g->group = ir_attr_i(n, "group", 1);
  int64_t st[2], dil[2];
  if (ints_or(n, "strides", st, sp, 1, d) || ints_or(n, "dilations", dil, sp, 1, d)) return -1;
  for (int a = 0; a < 2; a++) {
    int s = a - (2 - sp); /* spatial axis, < 0 for the height of a 1-D conv */
    g->in[a] = s < 0 ? 1 : x->dims[2 + s];
    g->k[a] = s < 0 ? 1 : w->dims[2 + s];
    g->out[a] = s < 0 ? 1 : y->dims[2 + s];
    g->stride[a] = s < 0 ? 1 : st[s];
    g->dil[a] = s < 0 ? 1 : dil[s];
    if (g->stride[a] < 1 || g->dil[a] < 1) return ir_error(d, NULL, n, "strides and dilations must be >= 1");
  }
  if (g->group < 1 || g->cin % g->group || g->cout % g->group || w->dims[1] != g->cin / g->group ||
      y->dims[0] != g->batch || y->dims[1] != g->cout)
    return ir_error(d, NULL, n, "channel counts do not match group=%lld", (long long)g->group);
  return conv_pads(n, g, sp, d);
}

/* One output pixel: bias + the dot product of its receptive field (of the
 * channels of one group) with one filter. */
static double conv_pixel(const ConvGeom *g, const float *x, const float *w, int64_t oh, int64_t ow) {
  double s = 0;
  int64_t cg = g->cin / g->group;
  for (int64_t c = 0; c < cg; c++)
    for (int64_t kh = 0; kh < g->k[0]; kh++) {
      int64_t ih = oh * g->stride[0] - g->pad[0] + kh * g->dil[0];
      if (ih < 0 || ih >= g->in[0]) continue;
      const float *xrow = x + (c * g->in[0] + ih) * g->in[1];
      const float *wrow = w + (c * g->k[0] + kh) * g->k[1];
      for (int64_t kw = 0; kw < g->k[1]; kw++) {
        int64_t iw = ow * g->stride[1] - g->pad[1] + kw * g->dil[1];
        if (iw >= 0 && iw < g->in[1]) s += (double)xrow[iw] * wrow[kw];
      }
    }
  return s;
}

/* Conv, NCHW (or NCW), with groups, strides, dilations, pads and auto_pad. */
int interp_conv(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  ConvGeom g;
  if (check_f32(n, in, out, d) || conv_geom(n, &in[0], &in[1], out, &g, d)) return -1;
  int has_bias = interp_has_in(n, in, 2);
  if (has_bias && tensor_numel(&in[2]) != g.cout)
    return ir_error(d, NULL, n, "bias must have one value per output channel");
  const float *x = in[0].data, *w = in[1].data, *bias = has_bias ? in[2].data : NULL;
  float *y = out->data;
  int64_t cg = g.cin / g.group, mg = g.cout / g.group, plane = g.in[0] * g.in[1];
  int64_t wsize = cg * g.k[0] * g.k[1];
  for (int64_t b = 0; b < g.batch; b++)
    for (int64_t m = 0; m < g.cout; m++) {
      const float *xg = x + (b * g.cin + m / mg * cg) * plane; /* this filter's group of input channels */
      for (int64_t oh = 0; oh < g.out[0]; oh++)
        for (int64_t ow = 0; ow < g.out[1]; ow++)
          *y++ = (float)((bias ? bias[m] : 0.0) + conv_pixel(&g, xg, w + m * wsize, oh, ow));
    }
  return 0;
}
