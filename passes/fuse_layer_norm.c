/* fuse_layer_norm: layer normalization over the last axis becomes
 * layer_norm(x, gamma[C], beta[C]?) {axis=-1, epsilon}. Two sources:
 *  - the ONNX LayerNormalization op: kept, its axis written as -1 when it is
 *    the last axis, scale/bias made 1-D, unused Mean/InvStdDev outputs dropped;
 *  - the decomposed form, anchored at d = Sub(x, ReduceMean(x)):
 *    ReduceMean(d^2) (Pow(d, 2) or d * d) + eps, Sqrt, then d / sqrt or
 *    d * Reciprocal(sqrt) (or d * Pow(var + eps, -0.5)), then an optional
 *    Mul by gamma and Add of beta (either operand order).
 * Epsilon is read from the graph; both reductions must be over the last axis
 * only, with keepdims. */
#include "fuse_util.h"
#include <stdlib.h>
#include <string.h>

/* A decomposed layer norm being matched. */
typedef struct Ln {
  FuseMatch m;
  const FuseUsers *u;
  Value *x, *d, *gamma, *beta, *y;
  int64_t c;
  float eps;
  const char *why;
} Ln;

/* Records the first failed condition; returns 0. */
static int fail(Ln *l, const char *why) {
  if (!l->why) l->why = why;
  return 0;
}

/* Whether ReduceMean r reduces exactly the last axis of its input, keeping dims. */
static int last_axis_mean(const Node *r) {
  if (!r || r->op != OP_REDUCE_MEAN || !ir_attr_i(r, "keepdims", 1) || r->n_in < 2 || !r->in[1]) return 0;
  const Tensor *ax = fuse_data(r->in[1]);
  int rank = r->in[0]->t.rank;
  if (!ax || tensor_numel(ax) != 1) return 0;
  int64_t a = tensor_get_i64(ax, 0);
  return a == -1 || a == rank - 1;
}

/* The node defining v if v is read only by `reader`. */
static Node *private_def(const Ln *l, const Value *v, const Node *reader) {
  if (!v || v->kind != VK_NODE || !v->def || fuse_sole_user(l->u, v) != reader) return NULL;
  return v->def;
}

/* Whether v is a per-column f32 constant of width c (every other dim 1). */
static int per_column(const Value *v, int64_t c, int rank) {
  const Tensor *t = fuse_data(v);
  if (!t || t->dtype != DT_F32 || tensor_numel(t) != c || t->rank > rank || t->rank == 0) return 0;
  return t->dims[t->rank - 1] == c;
}

/* The readers of d: the square (Pow(d, 2) or d * d) and the normalization (d / s or d * r). */
static int find_square_and_norm(Ln *l, Node **sq, Node **nrm) {
  const FuseUsers *u = l->u;
  *sq = *nrm = NULL;
  if (l->d->id >= u->n_values || u->output[l->d->id]) return fail(l, "x - mean is a graph output");
  for (int k = 0; k < u->count[l->d->id]; k++) {
    Node *n = u->list[u->start[l->d->id] + k];
    if (n == *sq || n == *nrm) continue;
    if ((n->op == OP_POW && n->in[0] == l->d && fuse_is_scalar(n->in[1], 2.0)) ||
        (n->op == OP_MUL && n->in[0] == l->d && n->in[1] == l->d))
      *sq = n;
    else if ((n->op == OP_DIV && n->in[0] == l->d) || (n->op == OP_MUL && fuse_other(n, l->d)))
      *nrm = n;
    else
      return fail(l, "x - mean has a reader that is neither its square nor the normalization");
  }
  if (!*sq) return fail(l, "x - mean is not squared (Pow 2 or d * d)");
  if (!*nrm) return fail(l, "x - mean is not divided by the standard deviation");
  return 1;
}

/* var + eps from the square: ReduceMean over the last axis then Add(eps); returns the Add. */
static Node *variance_plus_eps(Ln *l, Node *sq) {
  Node *var = fuse_sole_user(l->u, sq->out[0]);
  if (!last_axis_mean(var)) return fail(l, "the square is not averaged over the last axis only"), NULL;
  Node *add = fuse_sole_user(l->u, var->out[0]);
  double eps;
  if (!add || add->op != OP_ADD || !fuse_scalar(fuse_other(add, var->out[0]), &eps) ||
      fuse_other(add, var->out[0])->t.dtype != DT_F32)
    return fail(l, "the variance is not followed by + epsilon (a constant)"), NULL;
  l->eps = (float)eps;
  fuse_match_add(&l->m, var);
  fuse_match_add(&l->m, add);
  return add;
}

/* Whether the normalization nrm divides d by sqrt(ve) or multiplies by its reciprocal. */
static int is_normalization(Ln *l, Node *nrm, const Node *ve) {
  Value *s = fuse_other(nrm, l->d), *vev = ve->out[0];
  Node *p = private_def(l, s, nrm);
  if (nrm->op == OP_DIV) {
    if (nrm->in[1] != s || !p || p->op != OP_SQRT || p->in[0] != vev) return fail(l, "d is not divided by sqrt(var + eps)");
    return fuse_match_add(&l->m, p), 1;
  }
  if (p && p->op == OP_POW && p->in[0] == vev && fuse_is_scalar(p->in[1], -0.5)) return fuse_match_add(&l->m, p), 1;
  int recip = p && (p->op == OP_RECIPROCAL || (p->op == OP_DIV && fuse_is_scalar(p->in[0], 1.0)));
  Value *sv = recip ? p->in[p->op == OP_DIV] : NULL;
  Node *sq = recip ? private_def(l, sv, p) : NULL;
  if (!sq || sq->op != OP_SQRT || sq->in[0] != vev) return fail(l, "d is not multiplied by 1 / sqrt(var + eps)");
  fuse_match_add(&l->m, p);
  fuse_match_add(&l->m, sq);
  return 1;
}

/* The optional Mul by gamma and Add of beta after the normalization; sets l->y. */
static void affine(Ln *l, Node *nrm) {
  l->y = nrm->out[0];
  Node *n = fuse_sole_user(l->u, l->y);
  if (n && n->op == OP_MUL && per_column(fuse_other(n, l->y), l->c, l->y->t.rank)) {
    l->gamma = fuse_other(n, l->y);
    fuse_match_add(&l->m, n);
    l->y = n->out[0];
    n = fuse_sole_user(l->u, l->y);
  }
  if (n && n->op == OP_ADD && per_column(fuse_other(n, l->y), l->c, l->y->t.rank)) {
    l->beta = fuse_other(n, l->y);
    fuse_match_add(&l->m, n);
    l->y = n->out[0];
  }
}

/* Matches the decomposed form at d = Sub(x, mean). */
static int match(Ln *l, Node *sub) {
  Node *mean = sub->in[1]->def, *sq, *nrm, *ve;
  l->x = sub->in[0];
  l->c = l->x->t.rank ? l->x->t.dims[l->x->t.rank - 1] : 0;
  fuse_match_add(&l->m, mean);
  fuse_match_add(&l->m, sub);
  if (!last_axis_mean(mean)) return fail(l, "the mean is not over the last axis only (with keepdims)");
  if (fuse_sole_user(l->u, mean->out[0]) != sub) return fail(l, "the mean has other readers");
  if (l->x->t.dtype != DT_F32 || !tensor_same_type(&l->d->t, &l->x->t)) return fail(l, "x - mean is not shaped like x");
  if (!find_square_and_norm(l, &sq, &nrm) || !(ve = variance_plus_eps(l, sq)) || !is_normalization(l, nrm, ve))
    return 0;
  fuse_match_add(&l->m, sq);
  fuse_match_add(&l->m, nrm);
  if (!tensor_same_type(&nrm->out[0]->t, &l->x->t)) return fail(l, "the normalization broadcasts x");
  affine(l, nrm);
  return 1;
}

/* A 1-D [c] f32 constant filled with `fill`. */
static Value *filled(Graph *g, const char *base, int64_t c, float fill, Diag *d) {
  Value *v = fuse_const_alloc(g, base, DT_F32, 1, &c, d);
  for (int64_t i = 0; v && i < c; i++) ((float *)v->t.data)[i] = fill;
  return v;
}

/* Tries the decomposed form at Sub node `sub`; 1 when fused. */
static int fuse_decomposed(Graph *g, PassCtx *ctx, const FuseUsers *u, Node *sub, Diag *d) {
  Value *mv = sub->in[1];
  if (!mv || mv->kind != VK_NODE || !mv->def || mv->def->op != OP_REDUCE_MEAN || mv->def->in[0] != sub->in[0])
    return 0; /* not x - mean(x): the pattern did not start */
  Ln l = {.u = u, .d = sub->out[0]};
  int ok = match(&l, sub);
  const Value *leak = ok ? fuse_match_leak(&l.m, u, l.y) : NULL;
  if (ok && (leak || l.m.overflow)) ok = fail(&l, "an intermediate value has other readers");
  if (!ok) {
    pass_explain(ctx, "layer_norm", sub, "%s%s%s", l.why, leak ? ": " : "", leak ? leak->name : "");
    return 0;
  }
  const char *name = fuse_name(g, sub->name, "layer_norm", d);
  Value *gamma = l.gamma ? fuse_const_as(g, l.gamma, 1, &l.c, d) : filled(g, "layer_norm_ones", l.c, 1.0f, d);
  Value *beta = l.beta ? fuse_const_as(g, l.beta, 1, &l.c, d) : NULL;
  if (!name || !gamma || (l.beta && !beta)) return -1;
  Value *in[3] = {l.x, gamma, beta};
  fuse_match_remove(&l.m);
  Node *n = fuse_emit(g, OP_LAYER_NORM, name, in, beta ? 3 : 2, l.y, d);
  if (!n || fuse_attr_i(g, n, "axis", -1, d) || fuse_attr_f(g, n, "epsilon", l.eps, d)) return -1;
  return 1;
}

/* Sets int attribute `name` of n to v (added when absent). */
static int set_i(Graph *g, Node *n, const char *name, int64_t v, Diag *d) {
  Attr *a = (Attr *)ir_attr_find(n, name);
  if (!a) return fuse_attr_i(g, n, name, v, d);
  a->kind = AT_INT;
  a->i = v;
  return 0;
}

/* Puts an ONNX LayerNormalization over the last axis in the fused form; 1 when changed. */
static int normalize_onnx(Graph *g, PassCtx *ctx, const FuseUsers *u, Node *n, Diag *d) {
  const Tensor *x = &n->in[0]->t;
  int64_t axis = ir_attr_i(n, "axis", -1), c = x->rank ? x->dims[x->rank - 1] : 0;
  if (axis < 0) axis += x->rank;
  if (axis != x->rank - 1) {
    pass_explain(ctx, "layer_norm", n, "normalizes over axes %lld.. of a rank-%d input, not the last axis only",
                 (long long)axis, x->rank);
    return 0;
  }
  for (int j = 1; j < n->n_out; j++)
    if (n->out[j] && fuse_uses(u, n->out[j])) {
      pass_explain(ctx, "layer_norm", n, "its Mean/InvStdDev output is read");
      return 0;
    }
  int changed = ir_attr_i(n, "axis", 0) != -1 || n->n_out > 1;
  n->n_out = 1;
  if (set_i(g, n, "axis", -1, d)) return -1;
  for (int i = 1; i < n->n_in; i++) {
    Value *p = n->in[i];
    if (!p || (p->t.rank == 1 && p->t.dims[0] == c) || !per_column(p, c, x->rank)) continue;
    if (!(n->in[i] = fuse_const_as(g, p, 1, &c, d))) return -1;
    changed = 1;
  }
  return changed;
}

static int is_anchor(const Node *n) { return n->op == OP_SUB || n->op == OP_LAYER_NORM; }

/* A Sub starts a decomposed form; a LayerNormalization is normalized. */
static int fuse_at(Graph *g, PassCtx *ctx, const FuseUsers *u, Node *n, Diag *d) {
  return n->op == OP_SUB ? fuse_decomposed(g, ctx, u, n, d) : normalize_onnx(g, ctx, u, n, d);
}

/* Tries every Sub (decomposed form) and LayerNormalization. */
int pass_fuse_layer_norm(Graph *g, PassCtx *ctx, Diag *d) {
  int changed = fuse_each(g, ctx, is_anchor, fuse_at, d);
  return changed < 0 ? -1 : fuse_finish(g, changed, d);
}
