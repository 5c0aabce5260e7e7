/* Shape inference for the fused ops gelu, linear and attention (docs/ir.md,
 * "Fused ops"). */
#include "shape_fused.h"
#include <string.h>

/* Whether input i is present. */
static const Tensor *in_t(const Node *n, int i) { return i < n->n_in && n->in[i] ? &n->in[i]->t : NULL; }

/* Sets output 0 to f32 with the given dims. */
static void set_out(Node *n, int rank, const int64_t *dims) {
  Tensor *o = &n->out[0]->t;
  o->dtype = DT_F32;
  o->rank = rank;
  for (int k = 0; k < rank; k++) o->dims[k] = dims[k];
}

/* Errors unless t is f32. */
static int need_f32(Node *n, const Tensor *t, const char *what, Diag *d) {
  if (t->dtype == DT_F32) return 0;
  return ir_error(d, NULL, n, "%s must be f32, got %s", what, dt_name(t->dtype));
}

/* Whether p broadcasts (numpy rules, trailing-aligned) to exactly o's shape. */
static int broadcasts_to(const Tensor *p, int rank, const int64_t *dims) {
  if (p->rank > rank) return 0;
  for (int i = 0; i < p->rank; i++) {
    int64_t pd = p->dims[p->rank - 1 - i], od = dims[rank - 1 - i];
    if (pd != od && pd != 1) return 0;
  }
  return 1;
}

/* Maps linear's act attribute to its enum. */
LinearAct linear_act_of(const Node *n) {
  const char *a = ir_attr_s(n, "act", "none");
  if (strcmp(a, "none") == 0) return LINEAR_ACT_NONE;
  if (strcmp(a, "gelu") == 0) return LINEAR_ACT_GELU;
  if (strcmp(a, "gelu_tanh") == 0) return LINEAR_ACT_GELU_TANH;
  if (strcmp(a, "quick_gelu") == 0) return LINEAR_ACT_QUICK_GELU;
  if (strcmp(a, "silu") == 0) return LINEAR_ACT_SILU;
  if (strcmp(a, "relu") == 0) return LINEAR_ACT_RELU;
  return LINEAR_ACT_INVALID;
}

/* Maps gelu's approximate attribute to 0 (erf), 1 (tanh) or -1. */
int gelu_is_tanh(const Node *n) {
  const char *a = ir_attr_s(n, "approximate", "none");
  if (strcmp(a, "none") == 0) return 0;
  if (strcmp(a, "tanh") == 0) return 1;
  return -1;
}

/* gelu(x) {approximate}: same type as x. */
int shape_fused_gelu(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0);
  if (need_f32(n, x, "input", d)) return -1;
  if (gelu_is_tanh(n) < 0)
    return ir_error(d, NULL, n, "approximate must be \"none\" or \"tanh\", got \"%s\"", ir_attr_s(n, "approximate", ""));
  set_out(n, x->rank, x->dims);
  return 0;
}

/* linear(x [..., K], w [K, N], bias [N]?, residual?) {act}: [..., N]. */
int shape_fused_linear(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0), *w = in_t(n, 1), *b = in_t(n, 2), *r = in_t(n, 3);
  if (need_f32(n, x, "input x", d) || need_f32(n, w, "weight w", d)) return -1;
  if (x->rank < 1) return ir_error(d, NULL, n, "x must have rank >= 1");
  if (w->rank != 2 || w->dims[0] != x->dims[x->rank - 1])
    return ir_error(d, NULL, n, "weight must be [K, N] with K = %lld (the last dim of x)", (long long)x->dims[x->rank - 1]);
  if (linear_act_of(n) == LINEAR_ACT_INVALID)
    return ir_error(d, NULL, n, "act must be \"none\", \"gelu\", \"gelu_tanh\", \"quick_gelu\", \"silu\" or \"relu\", got \"%s\"", ir_attr_s(n, "act", ""));
  int64_t dims[IR_MAX_RANK];
  memcpy(dims, x->dims, sizeof dims);
  dims[x->rank - 1] = w->dims[1];
  if (b && (need_f32(n, b, "bias", d) || b->rank != 1 || b->dims[0] != w->dims[1]))
    return d->has_error ? -1 : ir_error(d, NULL, n, "bias must be 1-D of size %lld", (long long)w->dims[1]);
  if (r && (need_f32(n, r, "residual", d) || !broadcasts_to(r, x->rank, dims)))
    return d->has_error ? -1 : ir_error(d, NULL, n, "residual does not broadcast to the output shape");
  set_out(n, x->rank, dims);
  return 0;
}

/* attention(x [B, N, C], w_qkv [C, 3E], b_qkv [3E]?, bias [G, H or 1, N, N]?) {heads, scale}: [B, N, E]. */
int shape_fused_attention(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0), *w = in_t(n, 1), *b = in_t(n, 2), *bias = in_t(n, 3);
  if (need_f32(n, x, "input x", d) || need_f32(n, w, "weight w_qkv", d)) return -1;
  if (x->rank != 3) return ir_error(d, NULL, n, "x must be [B, N, C]");
  if (w->rank != 2 || w->dims[0] != x->dims[2] || w->dims[1] % 3 || w->dims[1] == 0)
    return ir_error(d, NULL, n, "w_qkv must be [C, 3*E] with C = %lld", (long long)x->dims[2]);
  int64_t e = w->dims[1] / 3, heads = ir_attr_i(n, "heads", 0);
  if (heads < 1 || e % heads) return ir_error(d, NULL, n, "heads (%lld) must be >= 1 and divide E = %lld", (long long)heads, (long long)e);
  if (b && (need_f32(n, b, "bias b_qkv", d) || b->rank != 1 || b->dims[0] != 3 * e))
    return d->has_error ? -1 : ir_error(d, NULL, n, "b_qkv must be 1-D of size %lld", (long long)(3 * e));
  if (bias && need_f32(n, bias, "score bias", d)) return -1;
  if (bias && (bias->rank != 4 || bias->dims[0] < 1 || x->dims[0] % bias->dims[0] ||
               (bias->dims[1] != 1 && bias->dims[1] != heads) || bias->dims[2] != x->dims[1] || bias->dims[3] != x->dims[1]))
    return ir_error(d, NULL, n, "the score bias must be [G, %lld or 1, %lld, %lld] with G dividing B = %lld", (long long)heads,
                    (long long)x->dims[1], (long long)x->dims[1], (long long)x->dims[0]);
  int64_t dims[3] = {x->dims[0], x->dims[1], e};
  set_out(n, 3, dims);
  return 0;
}
