/* canonicalize, layout rules. Reshape, Flatten, Squeeze and Unsqueeze keep
 * the row-major element order, so a chain of them is the identity exactly
 * when the shape comes back, and any chain ending in Reshape is one Reshape
 * to the final static shape. Transposes compose by their permutations. */
#include "canon.h"
#include <stdio.h>

/* The ops that only reinterpret the shape (element order unchanged). */
static int reshape_like(OpKind op) {
  return op == OP_RESHAPE || op == OP_FLATTEN || op == OP_SQUEEZE || op == OP_UNSQUEEZE;
}

/* The live node producing v, or NULL (inputs, constants). */
static Node *producer(const Value *v) {
  return v && v->kind == VK_NODE && v->def && !v->def->removed ? v->def : NULL;
}

/* Reshape(x, static shape of the result): replaces n's operands. */
static int reshape_from(Graph *g, Node *n, Value *x, Diag *d) {
  const Tensor *z = &n->out[0]->t;
  for (int i = 0; i < z->rank; i++)
    if (z->dims[i] == 0) return 0; /* a 0 entry would mean "copy" without allowzero */
  char base[512];
  snprintf(base, sizeof base, "%.480s_shape", n->out[0]->name);
  int64_t len = z->rank;
  Value *s = ir_const_new(g, base, DT_I64, 1, &len, z->dims, d);
  if (!s) return -1;
  n->in[0] = x;
  n->in[1] = s;
  return 1;
}

/* No-op reshapes, pairs that cancel, Reshape of a reshape-like op. */
static int canon_reshape(Graph *g, Node *n, Diag *d) {
  Value *y = n->in[0], *z = n->out[0];
  if (tensor_same_type(&y->t, &z->t)) return pass_bypass(g, n, z, y);
  Node *m = producer(y);
  if (!m || !reshape_like(m->op)) return 0;
  Value *x = m->in[0];
  if (tensor_same_type(&x->t, &z->t)) return pass_bypass(g, n, z, x);
  return n->op == OP_RESHAPE ? reshape_from(g, n, x, d) : 0;
}

/* The permutation of Transpose n on rank r (default: reversed); -1 if malformed. */
static int get_perm(const Node *n, int r, int64_t *p) {
  int np = ir_attr_ints(n, "perm", p, IR_MAX_RANK);
  if (np < 0) {
    for (int i = 0; i < r; i++) p[i] = r - 1 - i;
    np = r;
  }
  return np == r ? 0 : -1;
}

/* Whether p is 0, 1, ..., r-1. */
static int is_identity(const int64_t *p, int r) {
  for (int i = 0; i < r; i++)
    if (p[i] != i) return 0;
  return 1;
}

/* Identity Transpose removed; Transpose(Transpose(x, p1), p2) = Transpose(x, p1[p2[i]]). */
static int canon_transpose(Graph *g, Node *n, Diag *d) {
  Value *y = n->in[0], *z = n->out[0];
  int r = y->t.rank;
  int64_t p2[IR_MAX_RANK], p1[IR_MAX_RANK], q[IR_MAX_RANK];
  if (get_perm(n, r, p2)) return 0;
  if (is_identity(p2, r)) return pass_bypass(g, n, z, y);
  Node *m = producer(y);
  if (!m || m->op != OP_TRANSPOSE || get_perm(m, r, p1)) return 0;
  for (int i = 0; i < r; i++) q[i] = p1[p2[i]];
  Value *x = m->in[0];
  if (is_identity(q, r)) return pass_bypass(g, n, z, x);
  if (pass_set_ints(g, n, "perm", q, r, d)) return -1;
  n->in[0] = x;
  return 1;
}

/* Layout rules for node n. */
/* A Pad whose pads are all zero (any mode, any constant) copies its input: it goes. */
static int canon_pad(Graph *g, Node *n) {
  if (n->n_in < 2 || !pass_is_const(n->in[1]) || !pass_const_all(n->in[1], 0)) return 0;
  if (!tensor_same_type(&n->in[0]->t, &n->out[0]->t)) return 0;
  return pass_bypass(g, n, n->out[0], n->in[0]);
}

int canon_layout(Graph *g, Node *n, const FuseUsers *u, Diag *d) {
  (void)u;
  if (n->op == OP_PAD) return canon_pad(g, n);
  if (n->op == OP_TRANSPOSE) return canon_transpose(g, n, d);
  if (reshape_like(n->op)) return canon_reshape(g, n, d);
  return 0;
}
