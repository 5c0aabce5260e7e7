/* The rewrite of an analysed attention match (fuse_attention.h): choose
 * where the attention reads x from and in which row order, absorb the
 * out-projection when its rows line up, check nothing else reads the
 * matched values, then build reshape/transpose + attention + linear. */
#include "fuse_attention.h"
#include <stdlib.h>
#include <string.h>

/* The chosen input: attention reads xsrc as [B, N, C] (or [N, B, C] when
 * seq_first, transposed first); arow[r] is the attention row (b*N + n) of
 * row r of x; yrow[r] the attention's output row (b*M + i) of row r of the
 * merged output Y (for self-attention the same rows: yrow = arow). */
typedef struct Plan {
  Value *xsrc;
  int seq_first;
  int64_t b, *arow, *yrow;
  /* The out-projection, when absorbed: Y -> l1 -> mm (+ add) -> l2 -> z. */
  FuseLinear f;
  FuseStep l1[FUSE_MAX_STEPS], l2[FUSE_MAX_STEPS];
  Value *l2v[FUSE_MAX_STEPS];
  int n1, n2, tail, tail_sf;
  Value *z;
} Plan;

/* Whether rows (t of them) are the identity (0), the [N, B] <-> [B, N] swap (1), or neither (-1). */
static int row_order(const int64_t *rows, int64_t t, int64_t nb, int64_t n) {
  int id = 1, sf = 1;
  for (int64_t r = 0; r < t; r++) {
    id &= rows[r] == r;
    sf &= rows[r] == (r % nb) * n + r / nb;
  }
  return id ? 0 : sf ? 1 : -1;
}

/* Whether every group's queries (unless Q is known) and keys are N distinct rows of one
 * sequence of xsrc (rm: x row -> xsrc row), sequences being blocks
 * (batch-first) or strided (sequence-first). */
static int sequences(const Attn *a, const int64_t *rm, int seq_first, int64_t nb, int64_t *stamp) {
  for (int64_t r = 0; r < 2 * a->t; r++) stamp[r] = -1;
  for (int64_t g = 0; g < a->g; g++)
    for (int64_t kind = a->qknown ? 1 : 0, key = -1; kind < 2; kind++) {
      const int64_t *rows = (kind ? a->krow : a->qrow) + g * a->n;
      int64_t *st = stamp + kind * a->t;
      for (int64_t i = 0; i < a->n; i++) {
        int64_t xr = rm[rows[i]], k = seq_first ? xr % nb : xr / a->n;
        if ((key >= 0 && k != key) || st[xr] == g) return 0;
        key = k;
        st[xr] = g;
      }
    }
  return 1;
}

/* Row maps of the out-projection tail for z = the value after k2 steps of l2; the order (0, 1) or -1. */
static int tail_order(Attn *a, Plan *p, const Value *po, const int64_t *rows1, int k2, int64_t *rows2) {
  const Value *z = k2 ? p->l2v[k2 - 1] : po;
  if (z->t.rank < 1 || z->t.dims[z->t.rank - 1] != p->f.n || tensor_numel(&z->t) != a->ty * p->f.n) return -1;
  int32_t *map = fuse_index_map(po, p->l2, k2);
  int ok = map && fuse_rows_of(map, a->ty, p->f.n, rows2) == 0;
  free(map);
  if (!ok) return -1;
  for (int64_t r = 0; r < a->ty; r++) rows2[r] = p->yrow[rows1[rows2[r]]];
  p->z = (Value *)z;
  return row_order(rows2, a->ty, p->b, a->nq);
}

/* Absorbs Y -> layout -> MatMul/Gemm (+ bias) -> layout -> z when the rows of z
 * are the attention's rows (or their [N, B] swap); 1 when it does. */
static int find_tail(Attn *a, Plan *p, int64_t *rows1, int64_t *rows2) {
  Value *l1v[FUSE_MAX_STEPS];
  p->n1 = fuse_trace_fwd(a->u, a->y, p->l1, l1v, FUSE_MAX_STEPS);
  Value *pin = p->n1 ? l1v[p->n1 - 1] : a->y;
  Node *mm = fuse_sole_user(a->u, pin);
  if (!mm || (mm->op != OP_MATMUL && mm->op != OP_GEMM) || mm->in[0] != pin || fuse_linear_check(mm, &p->f) ||
      p->f.residual || p->f.k != a->e || tensor_numel(&pin->t) != a->ty * a->e)
    return 0;
  Value *po = mm->out[0];
  Node *add = fuse_sole_user(a->u, po);
  if (add && !p->f.c && add->op == OP_ADD && !fuse_linear_check_bias(add, po, &p->f)) po = add->out[0];
  int32_t *map = fuse_index_map(a->y, p->l1, p->n1);
  int ok = map && fuse_rows_of(map, a->ty, a->e, rows1) == 0;
  free(map);
  if (!ok) return 0;
  int n2 = fuse_trace_fwd(a->u, po, p->l2, p->l2v, FUSE_MAX_STEPS);
  for (int k2 = n2; k2 >= 0; k2--) {
    int order = tail_order(a, p, po, rows1, k2, rows2);
    if (order >= 0) {
      p->n2 = k2;
      p->tail = 1;
      p->tail_sf = order;
      return 1;
    }
  }
  return 0;
}

/* Fills p->yrow: a query's row of x (self-attention), or (cross-attention) query i of a group whose keys
 * are sequence b: b*M + i, the same for every head; 0 when Y's rows do not line up so. */
static int output_rows(Attn *a, Plan *p) {
  if (!a->qknown) {
    memcpy(p->yrow, p->arow, sizeof *p->yrow * (size_t)a->t);
    return 1;
  }
  for (int64_t r = 0; r < a->ty; r++) p->yrow[r] = -1;
  for (int64_t g = 0; g < a->g; g++) {
    int64_t b = p->arow[a->krow[g * a->n]] / a->n;
    for (int64_t i = 0; i < a->nq; i++) {
      int64_t r = a->qrow[g * a->nq + i];
      if (p->yrow[r] >= 0 && p->yrow[r] != b * a->nq + i)
        return attn_fail(a, "an output row mixes the queries or batches of its heads");
      p->yrow[r] = b * a->nq + i;
    }
  }
  return 1;
}

/* Tries xsrc (rm: x row -> xsrc row) as the attention input; 1 when a full plan results. */
static int try_input(Attn *a, Plan *p, Value *xsrc, const int64_t *rm, int64_t *scratch) {
  int64_t nb = a->t / a->n;
  p->xsrc = xsrc;
  p->b = nb;
  for (p->seq_first = 0; p->seq_first < 2; p->seq_first++)
    if (sequences(a, rm, p->seq_first, nb, scratch)) break;
  if (p->seq_first == 2) return attn_fail(a, "queries and keys do not form whole sequences");
  for (int64_t r = 0; r < a->t; r++)
    p->arow[r] = p->seq_first ? (rm[r] % nb) * a->n + rm[r] / nb : rm[r];
  if (!output_rows(a, p)) return 0;
  p->tail = 0;
  if (find_tail(a, p, scratch, scratch + a->ty)) return 1;
  if (row_order(p->yrow, a->ty, nb, a->nq) >= 0) return 1;
  return attn_fail(a, "the output rows are permuted");
}

/* Walks from x back through layout ops, trying the furthest source first. */
static int choose_input(Attn *a, Plan *p, int64_t *rm, int64_t *scratch) {
  FuseStep xs[FUSE_MAX_STEPS];
  int nx;
  Value *src = fuse_trace_back(a->x, xs, &nx, NULL);
  if (a->n == 0 || a->t % a->n) return attn_fail(a, "the input rows are not a whole number of sequences");
  for (int j = 0; j <= nx; j++) {
    Value *xj = j ? fuse_step_value(&xs[j - 1]) : src;
    const Tensor *t = &xj->t;
    if (t->rank < 1 || t->dims[t->rank - 1] != a->c || tensor_numel(t) != a->t * a->c) continue;
    int32_t *map = j < nx ? fuse_index_map(xj, xs + j, nx - j) : NULL;
    int ok = j == nx || (map && fuse_rows_of(map, a->t, a->c, rm) == 0);
    free(map);
    if (j == nx)
      for (int64_t r = 0; r < a->t; r++) rm[r] = r;
    if (ok && try_input(a, p, xj, rm, scratch)) return 1;
  }
  return 0;
}

/* Weight of projection f at input c, output column m (alpha, transB folded). */
static double lin_w(const FuseLinear *f, int64_t c, int64_t m) {
  const float *w = fuse_data(f->b_src)->data;
  return f->alpha * (f->trans ? w[m * f->k + c] : w[c * f->n + m]);
}

/* Bias of projection f at column m. */
static double lin_b(const FuseLinear *f, int64_t m) {
  double b = 0;
  if (f->c) b += f->beta * ((const float *)f->c->t.data)[tensor_numel(&f->c->t) == 1 ? 0 : m];
  if (f->add_bias) b += ((const float *)f->add_bias->t.data)[m];
  return b;
}

/* w_qkv [C, 3E] and b_qkv [3E] (NULL when no projection has a bias); [C, 2E] and [2E] (k | v) when Q is
 * known. */
static int qkv_consts(Graph *g, const Attn *a, const char *name, Value **w, Value **b, Diag *d) {
  int first = a->qknown ? ATTN_K : ATTN_Q;
  int64_t e3 = (3 - first) * a->e, dims[2] = {a->c, e3};
  char buf[512];
  snprintf(buf, sizeof buf, "%.480s.w_qkv", name);
  if (!(*w = fuse_const_alloc(g, buf, DT_F32, 2, dims, d))) return -1;
  int bias = 0;
  for (int p = first; p < 3; p++) bias |= a->pr[p].f.c || a->pr[p].f.add_bias;
  snprintf(buf, sizeof buf, "%.480s.b_qkv", name);
  *b = NULL;
  if (bias && !(*b = fuse_const_alloc(g, buf, DT_F32, 1, &e3, d))) return -1;
  float *wv = (*w)->t.data, *bv = bias ? (*b)->t.data : NULL;
  for (int p = first; p < 3; p++) {
    double s = p == ATTN_V ? a->vscale : 1.0;
    int64_t at = (p - first) * a->e;
    for (int64_t c = 0; c < a->c; c++)
      for (int64_t j = 0; j < a->e; j++) wv[c * e3 + at + j] = (float)(s * lin_w(&a->pr[p].f, c, a->col[p][j]));
    for (int64_t j = 0; bv && j < a->e; j++) bv[at + j] = (float)(s * lin_b(&a->pr[p].f, a->col[p][j]));
  }
  return 0;
}

/* A new constant NAME.SUFFIX of dims holding the first elements of data (malloc'd; freed here). */
static Value *const_of(Graph *g, const char *name, const char *suffix, int rank, const int64_t *dims, float *data,
                       Diag *d) {
  char buf[512];
  snprintf(buf, sizeof buf, "%.480s.%s", name, suffix);
  Value *v = fuse_const_alloc(g, buf, DT_F32, rank, dims, d);
  if (v) memcpy(v->t.data, data, (size_t)tensor_numel(&v->t) * sizeof *data);
  free(data);
  return v;
}

/* The query input [1 or B, M, E] from the known Q [G.., M, D]: head ghead[g] of the output rows of group
 * g's queries; one batch when every batch has the same queries (a learned probe expanded to the batch). */
static Value *query(Graph *g, const char *name, const Attn *a, const Plan *p, Diag *d) {
  int64_t per = a->nq * a->e, total = p->b * per;
  float *full = calloc((size_t)(total > 0 ? total : 1), sizeof *full);
  if (!full) return ir_error(d, g->file, a->softmax, "out of memory"), NULL;
  const float *qv = fuse_data(a->qknown)->data;
  for (int64_t gi = 0; gi < a->g; gi++)
    for (int64_t i = 0; i < a->nq; i++) {
      int64_t orow = p->yrow[a->qrow[gi * a->nq + i]]; /* b * M + i */
      for (int64_t dd = 0; dd < a->dh; dd++) full[orow * a->e + a->ghead[gi] * a->dh + dd] = qv[(gi * a->nq + i) * a->dh + dd];
    }
  int64_t dims[3] = {attn_period(full, p->b, per) == 1 ? 1 : p->b, a->nq, a->e};
  return const_of(g, name, "q", 3, dims, full, d);
}

/* The value a producer of [B, N, W] (batch-first) must define so that dst
 * ends up with it, in dst's row order (sf: dst rows are [N, B]). */
static Value *sink(Graph *g, const char *name, int sf, int64_t b, int64_t n, int64_t w, Value *dst, Diag *d) {
  int64_t bn[3] = {b, n, w}, nb[3] = {n, b, w}, perm[3] = {1, 0, 2};
  const int64_t *want = sf ? nb : bn;
  int exact = dst->t.rank == 3 && !memcmp(dst->t.dims, want, sizeof bn);
  if (!sf && exact) return dst;
  Value *v = fuse_value(g, name, 3, bn, d);
  if (!v) return NULL;
  Value *mid = !sf ? v : fuse_transpose(g, name, v, perm, exact ? dst : NULL, d);
  if (!mid || (sf && exact)) return mid ? v : NULL;
  return fuse_reshape(g, name, mid, dst->t.rank, dst->t.dims, dst, d) ? v : NULL;
}

/* The attention's input [B, N, C] from xsrc. */
static Value *source(Graph *g, const char *name, const Attn *a, const Plan *p, Diag *d) {
  int64_t bn[3] = {p->b, a->n, a->c}, nb[3] = {a->n, p->b, a->c}, perm[3] = {1, 0, 2};
  const int64_t *want = p->seq_first ? nb : bn;
  Value *x = p->xsrc;
  if ((x->t.rank != 3 || memcmp(x->t.dims, want, sizeof bn)) && !(x = fuse_reshape(g, name, x, 3, want, NULL, d)))
    return NULL;
  return p->seq_first ? fuse_transpose(g, name, x, perm, NULL, d) : x;
}

/* The attention's score bias [G, heads, N, N] (attn_score_bias), a new constant. */
static Value *score_bias(Graph *g, const char *name, const Attn *a, const Plan *p, Diag *d) {
  float *data;
  int64_t groups;
  if (attn_score_bias(a, p->arow, p->yrow, p->b, &data, &groups))
    return ir_error(d, g->file, a->softmax, "out of memory"), NULL;
  int64_t dims[4] = {groups, a->heads, a->nq, a->n};
  return const_of(g, name, "bias", 4, dims, data, d);
}

/* Removes the match and builds the replacement; 1, or -1 on OOM. */
static int emit(Graph *g, Attn *a, const Plan *p, FuseMatch *m, Diag *d) {
  const char *name = fuse_name(g, a->softmax->name, "attention", d);
  const char *xname = name ? fuse_name(g, a->softmax->name, "attention_in", d) : NULL;
  const char *pname = xname ? fuse_name(g, a->softmax->name, "out_proj", d) : NULL;
  if (!pname) return -1;
  fuse_match_remove(m);
  Value *w, *b, *x = source(g, xname, a, p, d);
  if (!x || qkv_consts(g, a, name, &w, &b, d)) return -1;
  int64_t e = p->tail ? p->f.n : a->e;
  Value *dst = p->tail ? p->z : a->y;
  Value *o = sink(g, p->tail ? pname : name, p->tail ? p->tail_sf : row_order(p->yrow, a->ty, p->b, a->nq), p->b,
                  a->nq, e, dst, d);
  if (!o) return -1;
  if (p->tail) {
    int64_t ad[3] = {p->b, a->nq, a->e};
    Value *lw, *lb, *att = fuse_value(g, name, 3, ad, d);
    if (!att || fuse_linear_build(g, &p->f, &lw, &lb, d)) return -1;
    Value *in[3] = {att, lw, lb};
    if (!fuse_emit(g, OP_LINEAR, pname, in, lb ? 3 : 2, o, d)) return -1;
    o = att;
  }
  Value *bias = NULL, *q = NULL;
  if (a->bias && !(bias = score_bias(g, name, a, p, d))) return -1;
  if (a->qknown && !(q = query(g, name, a, p, d))) return -1;
  Value *in[5] = {x, w, b, bias, q};
  Node *n = fuse_emit(g, OP_ATTENTION, name, in, q ? 5 : bias ? 4 : b ? 3 : 2, o, d);
  if (!n || fuse_attr_i(g, n, "heads", a->heads, d) || fuse_attr_f(g, n, "scale", (float)a->scale, d)) return -1;
  return 1;
}

/* Chooses the layouts, checks the match is closed, emits; 1 when fused, 0 when not, -1 on OOM. */
int attn_rewrite(Graph *g, Attn *a, Diag *d) {
  Plan *p = calloc(1, sizeof *p);
  int64_t rows = a->t > a->ty ? a->t : a->ty;
  int64_t *rm = malloc(sizeof *rm * (size_t)(a->t + 1)), *scratch = malloc(sizeof *scratch * (size_t)(2 * rows + 1));
  if (p) p->arow = malloc(sizeof *p->arow * (size_t)(a->t + 1)), p->yrow = malloc(sizeof *p->yrow * (size_t)(rows + 1));
  int rc = 0;
  if (!p || !rm || !scratch || !p->arow || !p->yrow) {
    rc = ir_error(d, g->file, a->softmax, "out of memory");
  } else if (choose_input(a, p, rm, scratch)) {
    FuseMatch m = a->m;
    for (int i = 0; i < a->ny; i++) fuse_match_add(&m, a->out[i].n);
    for (int i = 0; p->tail && i < p->n1; i++) fuse_match_add(&m, p->l1[i].n);
    for (int i = 0; p->tail && i < p->n2; i++) fuse_match_add(&m, p->l2[i].n);
    if (p->tail) fuse_match_add(&m, p->f.mm), fuse_match_add(&m, p->f.add);
    const Value *leak = fuse_match_leak(&m, a->u, p->tail ? p->z : a->y);
    if (leak && !a->why) a->leak = leak;
    if (leak || m.overflow) attn_fail(a, leak ? "an intermediate value has other readers" : "too many nodes");
    else rc = emit(g, a, p, &m, d);
  }
  if (p) free(p->arow), free(p->yrow);
  free(p);
  free(rm);
  free(scratch);
  return rc;
}
