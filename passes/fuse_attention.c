/* fuse_attention: multi-head self-attention becomes
 *   attention(x [B, N, C], w_qkv [C, 3E], b_qkv [3E], bias?) {heads, scale}
 * followed by the out-projection as a linear. Anchored at a Softmax over the
 * last axis whose input is (a scalar multiple of) MatMul(Q, K^T), plus known
 * tensors such as a relative-position bias or a window mask, and whose
 * result feeds MatMul(P, V); Q, K and V are followed back to projections of
 * one input (packed qkv, separate q/k/v linears, torchvision's in_proj)
 * through any layout ops; see fuse_attention.h for how that is checked.
 * When Q is a known tensor (an attention-pooling head's learned query,
 * projected and folded), K and V alone must be projections of x and the
 * attention takes Q as its query input (cross-attention). */
#include "fuse_attention.h"
#include <stdlib.h>
#include <string.h>

/* Keeps the first failed condition (for --explain-fusion). */
int attn_fail(Attn *a, const char *why) {
  if (!a->why) a->why = why;
  return 0;
}

/* Frees the analysis arrays of a match. */
void attn_free(Attn *a) {
  free(a->qrow);
  free(a->krow);
  free(a->bias);
  free(a->ghead);
  for (int p = 0; p < 3; p++) {
    free(a->gcol[p]);
    free(a->col[p]);
  }
}

/* Adds a chain's nodes to the match. */
static void add_steps(Attn *a, const FuseStep *s, int n) {
  for (int i = 0; i < n; i++) fuse_match_add(&a->m, s[i].n);
}

/* Softmax over the last axis of scale * MatMul(Q, K^T), read by MatMul(P, V). */
static int match_core(Attn *a, Node *sm) {
  const Tensor *st = &sm->in[0]->t;
  int64_t axis = ir_attr_i(sm, "axis", -1);
  if (axis < 0) axis += st->rank;
  if (axis != st->rank - 1) return attn_fail(a, "the softmax is not over the last axis");
  if (!attn_score_chain(a, sm->in[0])) return 0;
  a->pv = fuse_sole_user(a->u, sm->out[0]);
  if (!a->pv || a->pv->op != OP_MATMUL || a->pv->in[0] != sm->out[0])
    return attn_fail(a, "the softmax result is not multiplied by V (read once)");
  fuse_match_add(&a->m, a->qk);
  fuse_match_add(&a->m, a->pv);
  const Tensor *q = &a->qk->in[0]->t, *k = &a->qk->in[1]->t, *v = &a->pv->in[1]->t;
  int r = q->rank;
  if (r < 2 || k->rank != r || v->rank != r || st->rank != r) return attn_fail(a, "Q, K^T and V differ in rank");
  for (int i = 0; i + 2 < r; i++)
    if (k->dims[i] != q->dims[i] || v->dims[i] != q->dims[i]) return attn_fail(a, "Q, K^T and V differ in batch dims");
  a->nq = q->dims[r - 2];
  a->n = k->dims[r - 1];
  a->dh = q->dims[r - 1];
  if (fuse_data(a->qk->in[0]) && a->qk->in[0]->t.dtype == DT_F32) a->qknown = a->qk->in[0]; /* a learned query */
  if (k->dims[r - 2] != a->dh || v->dims[r - 2] != a->n || v->dims[r - 1] != a->dh || (!a->qknown && a->nq != a->n))
    return attn_fail(a, a->qknown ? "Q, K^T and V are not [.., M, D], [.., D, N], [.., N, D]"
                        : a->nq != a->n && k->dims[r - 2] == a->dh
                            ? "Q has M != N rows but is computed at run time (cross-attention needs a known query)"
                            : "Q, K^T and V are not [.., N, D], [.., D, N], [.., N, D] (self-attention)");
  a->g = a->nq > 0 && a->dh > 0 ? tensor_numel(q) / (a->nq * a->dh) : 0;
  return 1;
}

/* The projection producing src: (MatMul | Gemm)(x, W) with an optional bias Add. */
static int match_proj(Attn *a, Value *src, AttnProj *p) {
  Node *n = src->kind == VK_NODE ? src->def : NULL, *add = NULL;
  p->src = src;
  if (n && n->op == OP_ADD) {
    add = n;
    for (int i = 0; i < 2; i++) {
      Node *mm = n->in[i] && n->in[i]->kind == VK_NODE ? n->in[i]->def : NULL;
      if (mm && (mm->op == OP_MATMUL || mm->op == OP_GEMM)) n = mm;
    }
  }
  if (!n || (n->op != OP_MATMUL && n->op != OP_GEMM)) return attn_fail(a, "Q, K or V does not come from a MatMul/Gemm projection");
  const char *why = fuse_linear_check(n, &p->f);
  if (!why && p->f.residual) why = "a projection's Gemm adds a non-constant C";
  if (!why && add && !p->f.c) why = fuse_linear_check_bias(add, n->out[0], &p->f);
  else if (!why && add) why = "a projection adds a second bias";
  if (why) return attn_fail(a, why);
  fuse_match_add(&a->m, n);
  fuse_match_add(&a->m, add);
  return 1;
}

/* Q, K, V chains back to their projections, which must share one input x (K and V only when Q is known). */
static int match_inputs(Attn *a) {
  Value *ends[3] = {a->qk->in[0], a->qk->in[1], a->pv->in[1]};
  double s[3] = {1, 1, 1};
  for (int p = a->qknown ? ATTN_K : ATTN_Q; p < 3; p++) {
    Value *src = fuse_trace_back(ends[p], a->ch[p], &a->nch[p], &s[p]);
    add_steps(a, a->ch[p], a->nch[p]);
    if (!match_proj(a, src, &a->pr[p])) return 0;
  }
  a->scale *= s[ATTN_Q] * s[ATTN_K];
  a->vscale = s[ATTN_V];
  a->x = a->pr[ATTN_K].f.x;
  if ((!a->qknown && a->pr[ATTN_Q].f.x != a->x) || a->pr[ATTN_V].f.x != a->x)
    return attn_fail(a, a->qknown ? "K and V are not projections of one input"
                                  : "Q, K and V are not projections of one input");
  const Tensor *xt = &a->x->t;
  a->c = xt->rank ? xt->dims[xt->rank - 1] : 0;
  a->t = a->c ? tensor_numel(xt) / a->c : 0;
  if (xt->rank < 2 || xt->dtype != DT_F32) return attn_fail(a, "the projected input is not f32 rows [.., C]");
  if (a->n == 0 || a->t % a->n) return attn_fail(a, "the input rows are not a whole number of sequences");
  a->ty = a->t / a->n * a->nq;
  return 1;
}

/* Tries the pattern at Softmax sm; 1 when fused. */
static int fuse_at(Graph *g, PassCtx *ctx, const FuseUsers *u, Node *sm, Diag *d) {
  Attn *a = calloc(1, sizeof *a);
  if (!a) return ir_error(d, g->file, sm, "out of memory");
  a->u = u;
  a->softmax = sm;
  fuse_match_add(&a->m, sm);
  int rc = 0;
  if (match_core(a, sm) && match_inputs(a) && attn_columns(a)) {
    a->nout = fuse_trace_fwd(u, a->pv->out[0], a->out, a->outv, FUSE_MAX_STEPS);
    for (int k = a->nout; k >= 0 && rc == 0; k--)
      if (attn_merge(a, k)) {
        a->why = NULL;
        rc = attn_rewrite(g, a, d);
      }
  }
  if (rc == 0)
    pass_explain(ctx, "attention", sm, "%s%s%s", a->why ? a->why : "no layout of the output fits",
                 a->leak ? ": " : "", a->leak ? a->leak->name : "");
  attn_free(a);
  free(a);
  return rc;
}

static int is_anchor(const Node *n) { return n->op == OP_SOFTMAX; }

/* Tries every Softmax as the anchor of an attention. */
int pass_fuse_attention(Graph *g, PassCtx *ctx, Diag *d) {
  int changed = fuse_each(g, ctx, is_anchor, fuse_at, d);
  if (changed < 0 || fuse_finish(g, changed, d)) return -1;
  return attn_flip_layouts(g, ctx, d) < 0 ? -1 : 0;
}
