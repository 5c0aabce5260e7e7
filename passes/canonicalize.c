/* canonicalize: rewrites variants into one form so the fusion patterns see
 * one spelling: constants on the right of commutative ops, Div by an f32
 * constant into Mul by its reciprocal, x+0 / x-0 / x*1 / same-type Cast
 * removed, layout no-ops and chains simplified (canon_layout.c), Slices that
 * tile an axis into one Split (canon_split.c), BatchNormalization folded into the Conv or Gemm before it
 * (canon_bn.c). Rules run to a fixed point
 * (bounded); nodes left dead by a rewrite are removed each round. */
#include "canon.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Sweeps over the graph, at most this many. */
#define CANON_MAX_ROUNDS 16

/* Puts the constant operand of a commutative binary op on the right. */
static int const_right(Node *n) {
  if (!(ir_ops[n->op].flags & OPF_COMMUTATIVE) || n->n_in != 2 || !n->in[0] || !n->in[1]) return 0;
  if (n->in[0]->kind != VK_CONST || n->in[1]->kind == VK_CONST) return 0;
  Value *t = n->in[0];
  n->in[0] = n->in[1];
  n->in[1] = t;
  return 1;
}

/* Div(x, c) with an f32 constant c into Mul(x, 1/c). x * (1/c) can differ
 * from x / c by one rounding (at most ~1 ulp); exact when c is a power of two.
 * Only when every c and 1/c is a normal float (no overflow to inf, no
 * subnormal reciprocal losing precision). */
static int div_to_mul(Graph *g, Node *n, Diag *d) {
  Value *c = n->in[1];
  if (n->op != OP_DIV || !pass_is_const(c) || c->t.dtype != DT_F32) return 0;
  int64_t count = tensor_numel(&c->t);
  float *r = malloc(sizeof *r * (size_t)(count ? count : 1));
  if (!r) return ir_error(d, g->file, n, "out of memory");
  for (int64_t i = 0; i < count; i++) {
    float ci = ((const float *)c->t.data)[i];
    r[i] = 1.0f / ci;
    if (!isnormal(ci) || !isnormal(r[i])) {
      free(r);
      return 0;
    }
  }
  char base[512];
  snprintf(base, sizeof base, "%.480s_recip", c->name);
  Value *rv = ir_const_new(g, base, DT_F32, c->t.rank, c->t.dims, r, d);
  free(r);
  if (!rv) return -1;
  n->op = OP_MUL;
  n->in[1] = rv;
  return 1;
}

/* x+0, x-0, x*1, x/1 whose result has x's type: x. */
static int neutral_operand(Graph *g, Node *n) {
  double unit;
  switch (n->op) {
  case OP_ADD: case OP_SUB: unit = 0; break;
  case OP_MUL: case OP_DIV: unit = 1; break;
  default: return 0;
  }
  Value *x = n->in[0];
  if (!pass_const_all(n->in[1], unit) || !tensor_same_type(&x->t, &n->out[0]->t)) return 0;
  return pass_bypass(g, n, n->out[0], x);
}

/* Operand order, Div by a constant, neutral operands and same-type Casts. */
int canon_arith(Graph *g, Node *n, const FuseUsers *u, Diag *d) {
  (void)u;
  if (n->op == OP_CAST)
    return n->in[0]->t.dtype == n->out[0]->t.dtype ? pass_bypass(g, n, n->out[0], n->in[0]) : 0;
  if (!(ir_ops[n->op].flags & OPF_BINARY)) return 0;
  int changed = const_right(n);
  int r = div_to_mul(g, n, d);
  if (r < 0) return -1;
  return neutral_operand(g, n) | r | changed;
}

/* Applies every rule family to live node n; 1 when something changed. */
static int canon_node(Graph *g, Node *n, const FuseUsers *u, Diag *d) {
  int (*const rules[])(Graph *, Node *, const FuseUsers *, Diag *) = {canon_arith, canon_layout, canon_slices,
                                                                      canon_batch_norm};
  int changed = 0;
  for (size_t i = 0; i < sizeof rules / sizeof rules[0] && !n->removed; i++) {
    int r = rules[i](g, n, u, d);
    if (r < 0) return -1;
    changed |= r;
  }
  return changed;
}

/* Sweeps every rule over the graph until nothing changes (at most CANON_MAX_ROUNDS). */
int pass_canonicalize(Graph *g, PassCtx *ctx, Diag *d) {
  (void)ctx;
  for (int round = 0; round < CANON_MAX_ROUNDS; round++) {
    int changed = 0;
    FuseUsers u; /* readers as the round begins, for canon_slices (which checks what it finds there) */
    if (fuse_users_build(g, &u, d)) return -1;
    for (int k = 0; k < g->n_nodes; k++) {
      Node *n = g->nodes[k];
      if (n->removed || !n->out[0]) continue;
      int r = canon_node(g, n, &u, d);
      if (r < 0) {
        fuse_users_free(&u);
        return -1;
      }
      changed |= r;
    }
    fuse_users_free(&u);
    int dead = pass_remove_dead(g, d);
    if (dead < 0 || ir_graph_compact(g, d)) return -1;
    if (!changed && !dead) break;
  }
  return 0;
}
