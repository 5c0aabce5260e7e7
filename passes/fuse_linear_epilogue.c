/* The epilogues of fuse_linear: a gelu reading a linear's result becomes its
 * act ("gelu" / "gelu_tanh"), so does a relu (nn.TransformerEncoderLayer's
 * default) and y * sigmoid(a * y) with a = 1.702 ("quick_gelu", CLIP) or 1
 * ("silu"); then a Mul by a per-column constant
 * (timm's LayerScale gamma) is folded into the weight and bias; then an Add of
 * another value r (the residual connection) becomes its residual input,
 * y = act(x @ w + b) + r. A Reshape between the linear and the Add is moved
 * after it (r is reshaped instead). */
#include "fuse_util.h"
#include <string.h>

/* Sets linear n's act attribute. */
static int set_act(Graph *g, Node *n, const char *act, Diag *d) {
  Attr *a = (Attr *)ir_attr_find(n, "act");
  if (!a) return fuse_attr_s(g, n, "act", act, d);
  if (!(a->s = arena_strdup(&g->arena, act))) return ir_error(d, g->file, n, "out of memory");
  return 0;
}

/* Whether linear n already has a residual input. */
static int has_residual(const Node *n) { return n->n_in > 3 && n->in[3]; }

/* Linear n rebuilt with residual r and result out (n removed). */
static Node *with_residual(Graph *g, Node *n, Value *r, Value *out, Diag *d) {
  Value *in[4] = {n->in[0], n->in[1], n->n_in > 2 ? n->in[2] : NULL, r};
  Node *m = fuse_emit(g, OP_LINEAR, n->name, in, 4, out, d);
  if (!m) return NULL;
  m->attrs = n->attrs;
  m->n_attrs = n->n_attrs;
  ir_node_remove(n);
  return m;
}

/* Folds the gelu or relu that alone reads linear n into n's act; 1 when done. */
static int absorb_gelu(Graph *g, const FuseUsers *u, Node *n, Diag *d) {
  Node *gl = fuse_sole_user(u, n->out[0]);
  if (!gl || (gl->op != OP_GELU && gl->op != OP_RELU) || has_residual(n) || strcmp(ir_attr_s(n, "act", "none"), "none"))
    return 0;
  if (gl->out[0]->t.dtype != DT_F32) return 0;
  int tanh_form = gl->op == OP_GELU && strcmp(ir_attr_s(gl, "approximate", "none"), "tanh") == 0;
  if (set_act(g, n, gl->op == OP_RELU ? "relu" : tanh_form ? "gelu_tanh" : "gelu", d)) return -1;
  n->out[0] = gl->out[0];
  gl->out[0]->def = n;
  ir_node_remove(gl);
  return 1;
}

/* y * sigmoid(a * y) (either operand order; a * y as a Mul by a known scalar a,
 * or y itself for a = 1) where y is linear n's result, read only by the
 * pattern: its act, "quick_gelu" (a = 1.702) or "silu" (a = 1); 1 when done. */
static int absorb_sigmoid_gate(Graph *g, PassCtx *ctx, const FuseUsers *u, Node *n, Diag *d) {
  Value *y = n->out[0];
  if (has_residual(n) || strcmp(ir_attr_s(n, "act", "none"), "none") || fuse_uses(u, y) != 2 ||
      u->count[y->id] != 2)
    return 0;
  Node *rd[2] = {u->list[u->start[y->id]], u->list[u->start[y->id] + 1]};
  for (int i = 0; i < 2; i++) {
    /* mul = y * sigmoid(..); the other reader of y starts the gate. */
    Node *mul = rd[i], *first = rd[1 - i], *scale = NULL;
    Value *s = mul->op == OP_MUL ? fuse_other(mul, y) : NULL;
    if (!s || s == y || !s->def || s->def->op != OP_SIGMOID || fuse_sole_user(u, s) != mul) continue;
    Node *sig = s->def;
    double alpha = 1;
    if (first != sig) {
      Value *c = first->op == OP_MUL ? fuse_other(first, y) : NULL;
      if (!c || c == y || !fuse_scalar(c, &alpha) || sig->in[0] != first->out[0] ||
          fuse_sole_user(u, first->out[0]) != sig)
        continue;
      scale = first;
    }
    const char *act = fuse_near(alpha, 1.702) ? "quick_gelu" : fuse_near(alpha, 1.0) ? "silu" : NULL;
    if (!act) {
      pass_explain(ctx, "linear", sig, "sigmoid gate: scale %g is neither 1.702 (quick_gelu) nor 1 (silu)", alpha);
      return 0;
    }
    if (!tensor_same_type(&mul->out[0]->t, &y->t) || (scale && !tensor_same_type(&scale->out[0]->t, &y->t))) {
      pass_explain(ctx, "linear", mul, "sigmoid gate: a constant broadcasts y");
      return 0;
    }
    if (set_act(g, n, act, d)) return -1;
    n->out[0] = mul->out[0];
    mul->out[0]->def = n;
    if (scale) ir_node_remove(scale);
    ir_node_remove(sig);
    ir_node_remove(mul);
    return 1;
  }
  return 0;
}

/* Whether constant c scales the columns of an [..., N] result y: one element,
 * or N elements along its last dim (every other dim 1, rank at most y's). */
static int column_scale(const Value *c, int64_t n, const Value *y) {
  const Tensor *t = fuse_data(c);
  if (!t || t->dtype != DT_F32 || t->rank > y->t.rank) return 0;
  if (tensor_numel(t) == 1) return 1;
  for (int i = 0; i + 1 < t->rank; i++)
    if (t->dims[i] != 1) return 0;
  return t->rank > 0 && t->dims[t->rank - 1] == n;
}

/* Folds a Mul by a per-column constant c that alone reads linear n's result
 * (act none, no residual; timm's LayerScale) into the weight and bias:
 * (x w + b) * c = x (w c) + b c, new constants. 1 when done. */
static int absorb_scale(Graph *g, PassCtx *ctx, const FuseUsers *u, Node *n, Diag *d) {
  Value *y = n->out[0], *w = n->in[1], *b = n->n_in > 2 ? n->in[2] : NULL;
  Node *mul = fuse_sole_user(u, y);
  if (!mul || mul->op != OP_MUL || has_residual(n) || strcmp(ir_attr_s(n, "act", "none"), "none")) return 0;
  Value *c = fuse_other(mul, y);
  const Tensor *wt = fuse_data(w);
  int64_t k = wt ? wt->dims[0] : 0, nc = wt ? wt->dims[1] : 0;
  if (!c || c == y || !column_scale(c, nc, y)) return 0;
  if (w->kind != VK_CONST || !wt || wt->dtype != DT_F32 || wt->rank != 2 || (b && (!fuse_data(b) || b->kind != VK_CONST))) {
    pass_explain(ctx, "linear", mul, "scale not folded: the weight or bias is not a constant");
    return 0;
  }
  if (!tensor_same_type(&mul->out[0]->t, &y->t)) {
    pass_explain(ctx, "linear", mul, "scale not folded: the Mul broadcasts y");
    return 0;
  }
  const float *cs = fuse_data(c)->data;
  int one = tensor_numel(fuse_data(c)) == 1;
  int64_t wd[2] = {k, nc};
  Value *w2 = fuse_const_alloc(g, w->name, DT_F32, 2, wd, d), *b2 = NULL;
  if (!w2) return -1;
  const float *ws = wt->data;
  float *wo = w2->t.data;
  for (int64_t p = 0; p < k; p++)
    for (int64_t j = 0; j < nc; j++) wo[p * nc + j] = ws[p * nc + j] * cs[one ? 0 : j];
  if (b) {
    if (!(b2 = fuse_const_alloc(g, b->name, DT_F32, 1, &nc, d))) return -1;
    const float *bs = fuse_data(b)->data;
    float *bo = b2->t.data;
    for (int64_t j = 0; j < nc; j++) bo[j] = bs[j] * cs[one ? 0 : j];
  }
  Value *in[3] = {n->in[0], w2, b2};
  Node *m = fuse_emit(g, OP_LINEAR, n->name, in, b2 ? 3 : 2, mul->out[0], d);
  if (!m) return -1;
  m->attrs = n->attrs;
  m->n_attrs = n->n_attrs;
  ir_node_remove(n);
  ir_node_remove(mul);
  return 1;
}

/* y + r where the Add alone reads y: r, or NULL (why in *why). As y has no
 * other reader, r cannot be computed from y, so the linear may read it. */
static Value *residual_of(Node *add, const Value *y, const char **why) {
  Value *r = fuse_other(add, y);
  if (!r || r == y) return *why = "the Add adds y to itself", NULL;
  if (r->t.dtype != DT_F32 || !tensor_same_type(&add->out[0]->t, &y->t))
    return *why = "the other operand does not broadcast to y", NULL;
  return r;
}

/* Folds the residual Add reading linear n (directly or through a Reshape); 1 when done. */
static int absorb_residual(Graph *g, PassCtx *ctx, const FuseUsers *u, Node *n, Diag *d) {
  Value *y = n->out[0];
  Node *user = fuse_sole_user(u, y), *reshape = NULL;
  if (!user || has_residual(n)) return 0;
  if (user->op == OP_RESHAPE) {
    reshape = user;
    user = fuse_sole_user(u, reshape->out[0]);
    if (!user || user->op != OP_ADD) return 0;
  }
  if (user->op != OP_ADD) return 0;
  const Value *z = reshape ? reshape->out[0] : y;
  const char *why = NULL;
  Value *r = residual_of(user, z, &why);
  if (r && reshape && !tensor_same_type(&r->t, &z->t)) r = NULL, why = "the Add after the Reshape broadcasts";
  if (!r) {
    pass_explain(ctx, "linear", user, "residual not folded: %s", why);
    return 0;
  }
  ir_node_remove(user);
  if (!reshape) return with_residual(g, n, r, user->out[0], d) ? 1 : -1;
  ir_node_remove(reshape);
  const char *name = fuse_name(g, reshape->name, "residual_reshape", d);
  Value *r2 = name ? fuse_reshape(g, name, r, y->t.rank, y->t.dims, NULL, d) : NULL;
  Value *y2 = r2 ? fuse_value(g, y->name, y->t.rank, y->t.dims, d) : NULL;
  if (!y2 || !with_residual(g, n, r2, y2, d)) return -1;
  return fuse_reshape(g, reshape->name, y2, z->t.rank, z->t.dims, user->out[0], d) ? 1 : -1;
}

/* One sweep of one epilogue over every linear; the number of changes or -1. */
enum { EPI_ACT, EPI_SCALE, EPI_RESIDUAL };
static int sweep(Graph *g, PassCtx *ctx, int which, Diag *d) {
  int changed = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    Node *n = g->nodes[k];
    if (n->removed || n->op != OP_LINEAR) continue;
    FuseUsers u;
    if (fuse_users_build(g, &u, d)) return -1;
    int rc = which == EPI_RESIDUAL ? absorb_residual(g, ctx, &u, n, d)
             : which == EPI_SCALE  ? absorb_scale(g, ctx, &u, n, d)
                                   : absorb_gelu(g, &u, n, d);
    if (rc == 0 && which == EPI_ACT) rc = absorb_sigmoid_gate(g, ctx, &u, n, d);
    fuse_users_free(&u);
    if (rc < 0) return -1;
    changed += rc;
  }
  return changed;
}

/* All activations first, then the column scales, then the residual adds. */
int fuse_linear_epilogues(Graph *g, PassCtx *ctx, Diag *d) {
  int a = sweep(g, ctx, EPI_ACT, d);
  if (a < 0 || fuse_finish(g, a, d)) return -1;
  int s = sweep(g, ctx, EPI_SCALE, d);
  if (s < 0 || fuse_finish(g, s, d)) return -1;
  int r = sweep(g, ctx, EPI_RESIDUAL, d);
  return r < 0 ? -1 : fuse_finish(g, r, d);
}
