/* The analysis of an attention match: every q, k, v and output element is
 * traced to its projection row and column by running the layout chains on
 * index tensors (fuse_index_map), so any spelling of the head split and
 * merge is checked exactly (see fuse_attention.h). */
#include "fuse_attention.h"
#include <stdlib.h>
#include <string.h>

/* Sets *slot to v the first time (marked by -1) and checks it after. */
static int same64(int64_t *slot, int64_t v) {
  if (*slot < 0) *slot = v;
  return *slot == v;
}
/* The same for a 32-bit slot. */
static int same32(int32_t *slot, int64_t v) {
  if (*slot < 0) *slot = (int32_t)v;
  return *slot == v;
}

/* The index map of chain p over its projection result, with its row width. */
static int32_t *chain_map(Attn *a, int p, int64_t *width) {
  const Value *src = a->pr[p].src;
  *width = src->t.rank ? src->t.dims[src->t.rank - 1] : 1;
  if (tensor_numel(&src->t) != a->t * *width) return attn_fail(a, "a projection's rows differ from its input's"), NULL;
  int32_t *map = fuse_index_map(src, a->ch[p], a->nch[p]);
  if (!map) attn_fail(a, "a Q/K/V layout chain cannot be evaluated");
  return map;
}

/* Element (g, pos, dd) of chain p: its flat index in the chain's result. q
 * is [G, M, D], v [G, N, D]; k arrives transposed, [G, D, N]. */
static int64_t elem(const Attn *a, int p, int64_t g, int64_t pos, int64_t dd) {
  if (p == ATTN_K) return (g * a->dh + dd) * a->n + pos;
  return (g * (p == ATTN_Q ? a->nq : a->n) + pos) * a->dh + dd;
}

/* Fills rows (per group and position) and columns (per group and dim) of chain p. */
static int chain_rows_cols(Attn *a, int p, int64_t *rows) {
  int64_t w, np = p == ATTN_Q ? a->nq : a->n;
  int32_t *map = chain_map(a, p, &w);
  if (!map) return 0;
  int ok = 1;
  for (int64_t i = 0; i < a->g * np; i++) rows[i] = -1;
  for (int64_t i = 0; i < a->g * a->dh; i++) a->gcol[p][i] = -1;
  for (int64_t g = 0; g < a->g && ok; g++)
    for (int64_t pos = 0; pos < np && ok; pos++)
      for (int64_t dd = 0; dd < a->dh && ok; dd++) {
        int64_t idx = map[elem(a, p, g, pos, dd)];
        ok = same64(&rows[g * np + pos], idx / w) && same32(&a->gcol[p][g * a->dh + dd], idx % w);
      }
  free(map);
  if (!ok) return attn_fail(a, "a head mixes projection rows or columns (not a head split)");
  return 1;
}

/* Rows and columns of every q (unless Q is known), k and v element; key j and value j must share a row. */
int attn_columns(Attn *a) {
  size_t gn = (size_t)(a->g * a->n) + 1, gm = (size_t)(a->g * a->nq) + 1, gd = (size_t)(a->g * a->dh) + 1;
  int64_t *vrow = malloc(gn * sizeof *vrow);
  a->qrow = malloc(gm * sizeof *a->qrow);
  a->krow = malloc(gn * sizeof *a->krow);
  for (int p = 0; p < 3; p++) a->gcol[p] = malloc(gd * sizeof *a->gcol[p]);
  int ok = vrow && a->qrow && a->krow && a->gcol[0] && a->gcol[1] && a->gcol[2];
  if (!ok) attn_fail(a, "out of memory");
  ok = ok && (a->qknown || chain_rows_cols(a, ATTN_Q, a->qrow)) && chain_rows_cols(a, ATTN_K, a->krow) &&
       chain_rows_cols(a, ATTN_V, vrow);
  if (ok && memcmp(vrow, a->krow, (gn - 1) * sizeof *vrow)) ok = attn_fail(a, "key j and value j come from different rows");
  free(vrow);
  return ok;
}

/* The heads of the output Y (the value after ny output steps): every Y row
 * is a query row (of x; with a known Q, a->qrow records it), and its columns h*D + dd read head h;
 * fills a->y, e, heads. */
static int out_heads(Attn *a, int ny, int32_t *ghead) {
  Value *o = a->pv->out[0];
  a->y = ny ? a->outv[ny - 1] : o;
  const Tensor *yt = &a->y->t;
  int64_t total = a->g * a->nq * a->dh;
  a->e = yt->rank ? yt->dims[yt->rank - 1] : 0;
  if (tensor_numel(yt) != total || a->e % a->dh || a->e == 0 || total / a->e != a->ty)
    return attn_fail(a, "the merged width is not a whole number of heads over the input's rows");
  a->heads = a->e / a->dh;
  int32_t *map = fuse_index_map(o, a->out, ny);
  unsigned char *seen = calloc((size_t)total + 1, 1);
  int ok = map && seen;
  for (int64_t i = 0; i < a->g; i++) ghead[i] = -1;
  for (int64_t i = 0; a->qknown && i < a->g * a->nq; i++) a->qrow[i] = -1;
  for (int64_t e = 0; e < total && ok; e++) {
    int64_t src = map[e], g = src / (a->nq * a->dh), i = (src / a->dh) % a->nq, dd = src % a->dh;
    int64_t row = e / a->e, hb = e % a->e - dd;
    ok = src >= 0 && src < total && !seen[src] && hb >= 0 && hb % a->dh == 0 &&
         (a->qknown ? same64(&a->qrow[g * a->nq + i], row) : a->qrow[g * a->nq + i] == row) &&
         same32(&ghead[g], hb / a->dh);
    if (ok) seen[src] = 1;
  }
  free(map);
  free(seen);
  if (!ok) return attn_fail(a, "the output does not put head h of query i at row i, columns h*D..");
  return 1;
}

/* Column of head h, dim dd in projection p, the same for every group of that head. */
static int head_columns(Attn *a, const int32_t *ghead) {
  for (int p = a->qknown ? ATTN_K : ATTN_Q; p < 3; p++) {
    free(a->col[p]);
    if (!(a->col[p] = malloc(sizeof *a->col[p] * (size_t)a->e))) return attn_fail(a, "out of memory");
    for (int64_t j = 0; j < a->e; j++) a->col[p][j] = -1;
    for (int64_t g = 0; g < a->g; g++)
      for (int64_t dd = 0; dd < a->dh; dd++)
        if (!same32(&a->col[p][ghead[g] * a->dh + dd], a->gcol[p][g * a->dh + dd]))
          return attn_fail(a, "one head reads different projection columns in different batches");
    for (int64_t j = 0; j < a->e; j++)
      if (a->col[p][j] < 0) return attn_fail(a, "a head is missing");
  }
  return 1;
}

/* Heads and per-head projection columns when Y is the value after ny output steps. */
int attn_merge(Attn *a, int ny) {
  int32_t *ghead = malloc(sizeof *ghead * (size_t)(a->g ? a->g : 1));
  if (!ghead) return attn_fail(a, "out of memory");
  int ok = out_heads(a, ny, ghead) && head_columns(a, ghead);
  free(a->ghead);
  a->ghead = ghead;
  a->ny = ny;
  return ok;
}
