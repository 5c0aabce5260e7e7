/* The epilogues of fuse_linear: a gelu reading a linear's result becomes its
 * act ("gelu" / "gelu_tanh"), then an Add of another value r (the residual
 * connection) becomes its residual input, y = act(x @ w + b) + r. A Reshape
 * between the linear and the Add is moved after it (r is reshaped instead). */
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

/* Folds the gelu that alone reads linear n into n's act; 1 when done. */
static int absorb_gelu(Graph *g, const FuseUsers *u, Node *n, Diag *d) {
  Node *gl = fuse_sole_user(u, n->out[0]);
  if (!gl || gl->op != OP_GELU || has_residual(n) || strcmp(ir_attr_s(n, "act", "none"), "none")) return 0;
  int tanh_form = strcmp(ir_attr_s(gl, "approximate", "none"), "tanh") == 0;
  if (set_act(g, n, tanh_form ? "gelu_tanh" : "gelu", d)) return -1;
  n->out[0] = gl->out[0];
  gl->out[0]->def = n;
  ir_node_remove(gl);
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

/* One sweep of `absorb` over every linear; the number of changes or -1. */
static int sweep(Graph *g, PassCtx *ctx, int residual, Diag *d) {
  int changed = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    Node *n = g->nodes[k];
    if (n->removed || n->op != OP_LINEAR) continue;
    FuseUsers u;
    if (fuse_users_build(g, &u, d)) return -1;
    int rc = residual ? absorb_residual(g, ctx, &u, n, d) : absorb_gelu(g, &u, n, d);
    fuse_users_free(&u);
    if (rc < 0) return -1;
    changed += rc;
  }
  return changed;
}

/* All gelus first, then the residual adds. */
int fuse_linear_epilogues(Graph *g, PassCtx *ctx, Diag *d) {
  int a = sweep(g, ctx, 0, d);
  if (a < 0 || fuse_finish(g, a, d)) return -1;
  int r = sweep(g, ctx, 1, d);
  return r < 0 ? -1 : fuse_finish(g, r, d);
}
