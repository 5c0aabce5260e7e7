/* Reference kernels of the fused ops: gelu, linear, attention (f32 data,
 * everything computed in double). Plain loops, written to be obviously
 * right: the passes that produce these ops are checked against them. */
#include "interp.h"
#include "shape_fused.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* GELU of one value: x * Phi(x) with the exact normal CDF (erf), or the tanh
 * approximation 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
static double gelu_d(double x, int tanh_form) {
  if (tanh_form) return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
}

/* linear's activation of one value. */
static double linear_act_d(double x, LinearAct act) {
  switch (act) {
  case LINEAR_ACT_GELU: return gelu_d(x, 0);
  case LINEAR_ACT_GELU_TANH: return gelu_d(x, 1);
  case LINEAR_ACT_QUICK_GELU: return x / (1.0 + exp(-(double)LINEAR_QUICK_GELU_ALPHA * x));
  case LINEAR_ACT_SILU: return x / (1.0 + exp(-x));
  case LINEAR_ACT_RELU: return x <= 0 ? 0.0 : x; /* NaN stays NaN, as the relu kernel */
  default: return x;
  }
}

/* Checks the operands that are present and the output are f32. */
static int check_f32(const Node *n, const Tensor *in, const Tensor *out, Diag *d) {
  for (int i = 0; i < n->n_in; i++)
    if (interp_has_in(n, in, i) && in[i].dtype != DT_F32) return interp_bad_dtype(d, n, "operand", &in[i]);
  if (out->dtype != DT_F32) return interp_bad_dtype(d, n, "output", out);
  return 0;
}

/* The operands of a node's matrix product at its precision (ir/precision.c): the weights w [k, n] quantised
 * once (NULL for fp32: used as they are) and a buffer for one quantised row of activations. */
typedef struct QuantOperands {
  Precision p;
  float *w, *row;
} QuantOperands;

static int quant_begin(const Node *n, const Tensor *w, int64_t k, QuantOperands *q, Diag *d) {
  *q = (QuantOperands){ir_node_precision(n), NULL, NULL};
  if (q->p == PREC_INVALID)
    return ir_error(d, NULL, n, "unknown precision \"%s\" (fp32, bf16 or int8)", ir_attr_s(n, "precision", ""));
  if (q->p == PREC_FP32) return 0;
  q->w = malloc(tensor_bytes(w) ? tensor_bytes(w) : 1);
  q->row = malloc((size_t)(k > 0 ? k : 1) * sizeof *q->row);
  if (!q->w || !q->row) {
    free(q->w), free(q->row);
    return ir_error(d, NULL, n, "out of memory");
  }
  ir_fake_quant_weights(w->data, w->dims[0], w->dims[1], q->p, q->w);
  return 0;
}

/* Row x [k] as the product reads it. */
static const float *quant_row(QuantOperands *q, const float *x, int64_t k) {
  if (q->p == PREC_FP32) return x;
  ir_fake_quant_row(x, k, q->p, q->row);
  return q->row;
}

static void quant_end(QuantOperands *q) { free(q->w), free(q->row); }

/* gelu(x) {approximate = "none" | "tanh"}. */
int interp_gelu(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  if (check_f32(n, in, out, d) || interp_check_numel(d, n, &in[0], out)) return -1;
  int form = gelu_is_tanh(n);
  if (form < 0) return ir_error(d, NULL, n, "unknown approximate \"%s\"", ir_attr_s(n, "approximate", ""));
  const float *x = in[0].data;
  float *y = out->data;
  for (int64_t i = 0; i < tensor_numel(out); i++) y[i] = (float)gelu_d(x[i], form);
  return 0;
}

/* y = act(x @ w + bias) + residual over the rows of x [..., K]; w [K, N];
 * bias [N] optional; residual optional, broadcast to y. */
int interp_linear(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  if (check_f32(n, in, out, d)) return -1;
  const Tensor *x = &in[0], *w = &in[1];
  LinearAct act = linear_act_of(n);
  if (act == LINEAR_ACT_INVALID) return ir_error(d, NULL, n, "unknown act \"%s\"", ir_attr_s(n, "act", ""));
  if (x->rank < 1 || w->rank != 2 || w->dims[0] != x->dims[x->rank - 1] || out->dims[out->rank - 1] != w->dims[1])
    return ir_error(d, NULL, n, "operand shapes do not match the output");
  int64_t k = w->dims[0], nc = w->dims[1], rows = nc ? tensor_numel(out) / nc : 0;
  int has_b = interp_has_in(n, in, 2), has_r = interp_has_in(n, in, 3);
  if (has_b && tensor_numel(&in[2]) != nc) return ir_error(d, NULL, n, "bias must have N elements");
  InterpIter it;
  interp_iter_init(&it, out, 1);
  if (has_r && interp_iter_broadcast(&it, 0, &in[3], n, d)) return -1;
  QuantOperands q;
  if (quant_begin(n, w, k, &q, d)) return -1;
  double *acc = malloc((size_t)(nc ? nc : 1) * sizeof *acc);
  if (!acc) {
    quant_end(&q);
    return ir_error(d, NULL, n, "out of memory");
  }
  const float *xv = x->data, *wv = q.w ? q.w : w->data, *bv = has_b ? in[2].data : NULL;
  const float *rv = has_r ? in[3].data : NULL;
  float *y = out->data;
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = quant_row(&q, xv + r * k, k);
    for (int64_t j = 0; j < nc; j++) acc[j] = bv ? bv[j] : 0.0;
    for (int64_t p = 0; p < k; p++) {
      double a = xr[p];
      for (int64_t j = 0; j < nc; j++) acc[j] += a * wv[p * nc + j];
    }
    for (int64_t j = 0; j < nc; j++, interp_iter_next(&it)) {
      double v = linear_act_d(acc[j], act);
      y[r * nc + j] = (float)(v + (rv ? rv[it.off[0]] : 0.0));
    }
  }
  free(acc);
  quant_end(&q);
  return 0;
}

/* Row-wise softmax of s[0..len) in place (max subtracted first). */
static void softmax_d(double *s, int64_t len) {
  double mx = -INFINITY, sum = 0;
  for (int64_t j = 0; j < len; j++) mx = s[j] > mx ? s[j] : mx;
  for (int64_t j = 0; j < len; j++) sum += (s[j] = exp(s[j] - mx));
  for (int64_t j = 0; j < len; j++) s[j] /= sum;
}

/* One (batch, head) of attention: out[i, hD:(h+1)D] = softmax(scale q_i k^T + bias_i) v over M queries
 * (q: row i at q + i * qs) and N keys (k, v: row j at k + j * kvs, v + j * kvs); bias: this batch and
 * head's [M, N] score bias, or NULL; out rows e apart. */
static void attention_head(const double *q, int64_t qs, const double *k, const double *v, int64_t kvs, float *out,
                           int64_t m, int64_t nt, int64_t e, int64_t hd, double scale, const float *bias, double *s,
                           float *probs) {
  for (int64_t i = 0; i < m; i++) {
    for (int64_t j = 0; j < nt; j++) {
      double dot = 0;
      for (int64_t c = 0; c < hd; c++) dot += q[i * qs + c] * k[j * kvs + c];
      s[j] = scale * dot + (bias ? bias[i * nt + j] : 0.0);
    }
    softmax_d(s, nt);
    if (probs)
      for (int64_t j = 0; j < nt; j++) probs[i * nt + j] = (float)s[j];
    for (int64_t c = 0; c < hd; c++) {
      double o = 0;
      for (int64_t j = 0; j < nt; j++) o += s[j] * v[j * kvs + c];
      out[i * e + c] = (float)o;
    }
  }
}

/* attention(x [B, N, C], w_qkv [C, 3E] or [C, 2E], b_qkv?, bias [G, H', M, N]?, q [Bq, M, E]?) {heads,
 * scale}: the projection x @ w_qkv + b_qkv split into q | k | v (k | v when the query q is given), per
 * batch b and head h softmax(scale q k^T + bias[b % G, H' > 1 ? h : 0]) v, heads merged back into
 * [B, M, E]. probs, when not NULL, receives the softmax rows [B, heads, M, N]. */
static int attention_run(const Node *n, const Tensor *in, Tensor *out, float *probs, Diag *d) {
  if (check_f32(n, in, out, d)) return -1;
  AttnShape a;
  const char *why = ir_attention_shape(n, &a);
  if (why) return ir_error(d, NULL, n, "%s", why);
  const Tensor *x = &in[0], *w = &in[1], *bias = a.bias_g ? &in[3] : NULL;
  int has_b = interp_has_in(n, in, 2);
  int64_t nt = a.n, c = a.c, ew = a.wcols, e = a.e, hd = a.hd, m = a.m;
  double scale = ir_attr_f(n, "scale", (float)(1.0 / sqrt((double)hd)));
  QuantOperands q; /* the projection x @ w_qkv at the node's precision; the rest stays fp32 */
  if (quant_begin(n, w, c, &q, d)) return -1;
  double *qkv = malloc((size_t)(nt * ew > 0 ? nt * ew : 1) * sizeof *qkv);
  double *qq = a.cross ? malloc((size_t)(m * e > 0 ? m * e : 1) * sizeof *qq) : NULL;
  double *s = malloc((size_t)(nt > 0 ? nt : 1) * sizeof *s);
  if (!qkv || !s || (a.cross && !qq)) {
    free(qkv);
    free(qq);
    free(s);
    quant_end(&q);
    return ir_error(d, NULL, n, "out of memory");
  }
  const float *xv = x->data, *wv = q.w ? q.w : w->data, *bv = has_b ? in[2].data : NULL;
  for (int64_t b = 0; b < a.b; b++) {
    for (int64_t i = 0; i < nt; i++) {
      double *row = qkv + i * ew;
      const float *xr = quant_row(&q, xv + (b * nt + i) * c, c);
      for (int64_t j = 0; j < ew; j++) row[j] = bv ? bv[j] : 0.0;
      for (int64_t p = 0; p < c; p++) {
        double av = xr[p];
        for (int64_t j = 0; j < ew; j++) row[j] += av * wv[p * ew + j];
      }
    }
    const double *k = qkv + ew - 2 * e, *v = qkv + ew - e, *qp = qkv;
    int64_t qs = ew;
    if (a.cross) { /* this batch's queries, widened to double */
      const float *qv = (const float *)in[4].data + (b % a.bq) * m * e;
      for (int64_t i = 0; i < m * e; i++) qq[i] = qv[i];
      qp = qq, qs = e;
    }
    for (int64_t h = 0; h < a.heads; h++)
      attention_head(qp + h * hd, qs, k + h * hd, v + h * hd, ew, (float *)out->data + b * m * e + h * hd, m, nt, e, hd,
                     scale,
                     bias ? (const float *)bias->data + ((b % a.bias_g) * a.bias_h + (a.bias_h > 1 ? h : 0)) * m * nt
                          : NULL,
                     s, probs ? probs + (b * a.heads + h) * m * nt : NULL);
  }
  free(qkv);
  free(qq);
  free(s);
  quant_end(&q);
  return 0;
}

int interp_attention(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  return attention_run(n, in, out, NULL, d);
}

int ir_attention_probs(const Node *n, const Tensor *in, const Tensor *out, float *probs, Diag *d) {
  if (n->op != OP_ATTENTION) return ir_error(d, NULL, n, "not an attention node");
  Tensor scratch = *out;
  size_t bytes = tensor_bytes(out);
  if (!(scratch.data = malloc(bytes ? bytes : 1))) return ir_error(d, NULL, n, "out of memory");
  int rc = attention_run(n, in, &scratch, probs, d);
  free(scratch.data);
  return rc;
}
