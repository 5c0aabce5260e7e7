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

const char *ir_attention_shape(const Node *n, AttnShape *a) {
  const Tensor *x = in_t(n, 0), *w = in_t(n, 1), *b = in_t(n, 2), *bias = in_t(n, 3), *q = in_t(n, 4);
  memset(a, 0, sizeof *a);
  if (!x || !w) return "x and w_qkv are required";
  if (x->rank != 3) return "x must be [B, N, C]";
  a->cross = q != NULL;
  int parts = a->cross ? 2 : 3;
  if (w->rank != 2 || w->dims[0] != x->dims[2] || w->dims[1] % parts || w->dims[1] == 0)
    return a->cross ? "w_qkv must be [C, 2*E] (k | v; the query is input 4) with C the last dim of x"
                    : "w_qkv must be [C, 3*E] with C the last dim of x";
  a->b = x->dims[0], a->n = x->dims[1], a->c = x->dims[2], a->wcols = w->dims[1], a->e = w->dims[1] / parts;
  a->heads = ir_attr_i(n, "heads", 0);
  if (a->heads < 1 || a->e % a->heads) return "heads must be >= 1 and divide E (the width of q, k and v)";
  a->hd = a->e / a->heads;
  a->m = a->n, a->bq = a->b;
  if (q && (q->rank != 3 || (q->dims[0] != 1 && q->dims[0] != a->b) || q->dims[2] != a->e))
    return "the query q must be [1 or B, M, E]";
  if (q) a->bq = q->dims[0], a->m = q->dims[1];
  if (b && (b->rank != 1 || b->dims[0] != a->wcols)) return "b_qkv must be 1-D, as wide as w_qkv";
  if (bias && (bias->rank != 4 || bias->dims[0] < 1 || a->b % bias->dims[0] ||
               (bias->dims[1] != 1 && bias->dims[1] != a->heads) || bias->dims[2] != a->m || bias->dims[3] != a->n))
    return "the score bias must be [G, heads or 1, M, N] with G dividing B (M = N without a query input)";
  if (bias) a->bias_g = bias->dims[0], a->bias_h = bias->dims[1];
  return NULL;
}

/* attention(x [B, N, C], w_qkv [C, 3E] or [C, 2E], b_qkv?, bias [G, H or 1, M, N]?, q [1 or B, M, E]?)
 * {heads, scale}: [B, M, E] (M = N without q). */
int shape_fused_attention(Node *n, Diag *d) {
  for (int i = 0; i < 5; i++) {
    static const char *const what[] = {"input x", "weight w_qkv", "bias b_qkv", "score bias", "query q"};
    const Tensor *t = in_t(n, i);
    if (t && need_f32(n, t, what[i], d)) return -1;
  }
  AttnShape a;
  const char *why = ir_attention_shape(n, &a);
  if (why && strncmp(why, "heads", 5) == 0)
    return ir_error(d, NULL, n, "heads (%lld) must be >= 1 and divide E = %lld", (long long)a.heads, (long long)a.e);
  if (why) return ir_error(d, NULL, n, "%s", why);
  int64_t dims[3] = {a.b, a.m, a.e};
  set_out(n, 3, dims);
  return 0;
}
