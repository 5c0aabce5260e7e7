/* fuse_linear: MatMul with a constant 2-D weight, or Gemm with a constant B,
 * plus a following per-column bias Add, becomes linear(x, w[K,N], bias[N]).
 * Gemm's transB and alpha are folded into a new weight, beta into the bias.
 * Then (fuse_linear_epilogue.c) a following gelu becomes act="gelu" /
 * "gelu_tanh" and a following residual Add the residual input. */
#include "fuse_util.h"
#include <stdlib.h>
#include <string.h>

/* Whether constant c is a per-column bias for width n: n elements, every dim
 * but the last 1, and no more dims than the result (rank_y). */
static int per_column(const Value *c, int64_t n, int rank_y) {
  const Tensor *t = fuse_data(c);
  if (!t || t->dtype != DT_F32 || tensor_numel(t) != n || t->rank > rank_y) return 0;
  for (int i = 0; i + 1 < t->rank; i++)
    if (t->dims[i] != 1) return 0;
  return t->rank == 0 ? n == 1 : t->dims[t->rank - 1] == n;
}

/* A MatMul/Gemm with a constant weight as a linear; NULL or why not. */
const char *fuse_linear_check(Node *mm, FuseLinear *f) {
  memset(f, 0, sizeof *f);
  f->mm = mm;
  f->x = mm->in[0];
  f->b_src = mm->in[1];
  f->alpha = f->beta = 1;
  const Tensor *w = fuse_data(f->b_src);
  if (!w || f->b_src->kind != VK_CONST) return "the weight (input 1) is not a constant";
  if (w->dtype != DT_F32 || w->rank != 2) return "the weight is not a 2-D f32 constant";
  if (mm->op == OP_MATMUL) {
    if (f->x->t.rank < 1) return "x is a scalar";
    f->k = w->dims[0];
    f->n = w->dims[1];
    return NULL;
  }
  if (ir_attr_i(mm, "transA", 0)) return "Gemm has transA=1";
  f->trans = ir_attr_i(mm, "transB", 0) != 0;
  f->alpha = ir_attr_f(mm, "alpha", 1.0f);
  f->beta = ir_attr_f(mm, "beta", 1.0f);
  f->k = w->dims[f->trans];
  f->n = w->dims[!f->trans];
  Value *c = mm->n_in > 2 ? mm->in[2] : NULL;
  if (!c) return NULL;
  const Tensor *ct = fuse_data(c);
  if (ct && (per_column(c, f->n, 2) || (ct->dtype == DT_F32 && tensor_numel(ct) == 1))) {
    f->c = c;
    return NULL;
  }
  if (f->beta != 1) return "Gemm's C is neither a per-column constant bias nor unscaled (beta != 1)";
  f->residual = c;
  return NULL;
}

/* Folds a per-column constant Add into f; NULL or why not. */
const char *fuse_linear_check_bias(Node *add, const Value *y, FuseLinear *f) {
  if (add->op != OP_ADD) return "not an Add";
  Value *b = fuse_other(add, y);
  if (!b || b == y) return "y is not one operand";
  if (!per_column(b, f->n, y->t.rank)) return "the other operand is not a per-column constant";
  if (!tensor_same_type(&add->out[0]->t, &y->t)) return "the Add broadcasts y";
  f->add = add;
  f->add_bias = b;
  return NULL;
}

/* Element j of a per-column bias c (or its single element). */
static double bias_at(const Value *c, int64_t j) {
  const Tensor *t = fuse_data(c);
  return ((const float *)t->data)[tensor_numel(t) == 1 ? 0 : j];
}

/* The weight (transposed, scaled when needed) and bias constants of f. */
int fuse_linear_build(Graph *g, const FuseLinear *f, Value **w, Value **b, Diag *d) {
  int64_t wd[2] = {f->k, f->n};
  *b = NULL;
  if (!f->trans && f->alpha == 1) {
    *w = f->b_src;
  } else {
    if (!(*w = fuse_const_alloc(g, f->b_src->name, DT_F32, 2, wd, d))) return -1;
    const float *s = fuse_data(f->b_src)->data;
    float *o = (*w)->t.data;
    for (int64_t p = 0; p < f->k; p++)
      for (int64_t j = 0; j < f->n; j++)
        o[p * f->n + j] = (float)(f->alpha * (f->trans ? s[j * f->k + p] : s[p * f->n + j]));
  }
  if (!f->c && !f->add_bias) return 0;
  Value *only = f->c && !f->add_bias && f->beta == 1 ? f->c : !f->c ? f->add_bias : NULL;
  if (only && only->kind == VK_CONST && only->t.rank == 1 && only->t.dims[0] == f->n) {
    *b = only; /* already a 1-D [N] constant: used as it is */
    return 0;
  }
  Value *src = f->c ? f->c : f->add_bias;
  if (!(*b = fuse_const_alloc(g, src->name, DT_F32, 1, &f->n, d))) return -1;
  float *o = (*b)->t.data;
  for (int64_t j = 0; j < f->n; j++)
    o[j] = (float)((f->c ? f->beta * bias_at(f->c, j) : 0.0) + (f->add_bias ? bias_at(f->add_bias, j) : 0.0));
  return 0;
}

/* Replaces one MatMul/Gemm (and its bias Add) by a linear; 1 when fused. */
static int fuse_one(Graph *g, PassCtx *ctx, const FuseUsers *u, Node *mm, Diag *d) {
  FuseLinear f;
  const char *why = fuse_linear_check(mm, &f);
  if (why) {
    pass_explain(ctx, "linear", mm, "%s", why);
    return 0;
  }
  Value *y = mm->out[0];
  Node *add = fuse_sole_user(u, y);
  if (add && !f.c && !f.residual && add->op == OP_ADD) {
    why = fuse_linear_check_bias(add, y, &f);
    if (why) f.add = NULL, f.add_bias = NULL;
  }
  Value *w, *b, *out = f.add ? f.add->out[0] : y;
  if (fuse_linear_build(g, &f, &w, &b, d)) return -1;
  Value *in[4] = {f.x, w, b, f.residual};
  const char *name = fuse_name(g, mm->name, "linear", d);
  ir_node_remove(mm);
  if (f.add) ir_node_remove(f.add);
  if (!name || !fuse_emit(g, OP_LINEAR, name, in, f.residual ? 4 : b ? 3 : 2, out, d)) return -1;
  return 1;
}

static int is_anchor(const Node *n) { return n->op == OP_MATMUL || n->op == OP_GEMM; }

/* Every MatMul/Gemm into a linear, then the epilogues. */
int pass_fuse_linear(Graph *g, PassCtx *ctx, Diag *d) {
  int changed = fuse_each(g, ctx, is_anchor, fuse_one, d);
  if (changed < 0 || fuse_finish(g, changed, d)) return -1;
  return fuse_linear_epilogues(g, ctx, d);
}
