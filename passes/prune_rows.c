/* prune_rows: when every reader of a tensor takes only some of its rows along one axis (a Gather or a
 * one-axis Slice with known indices), its producer computes only those rows, provided it works row by
 * row along that axis: layer_norm, linear, unary and broadcasting binary elementwise ops, and
 * attention's queries. The selection moves to the producer's inputs and the search goes on from there.
 *
 * A ViT classifier reads only the class token of its last block (`x[:, 0]` before the head), so the last
 * block's out-projection, MLP and final norm run on 1 row instead of N, and its attention computes one
 * query (a q linear on that row, then attention with the query input over all N keys and values). Each
 * selected row is computed as before; only the interpreter rounds q to float now (its self-attention
 * kept q in double), as compiled code always did, so interpreted results may move by an ulp. */
#include "fuse_util.h"
#include "pass_util.h"
#include <stdlib.h>
#include <string.h>

/* The rows a value's readers take: the sorted distinct indices along one axis. */
typedef struct RowSet {
  int axis;
  int64_t dim;   /* the axis's size in the value */
  int64_t *rows; /* malloc'd, ascending, distinct */
  int64_t n;
} RowSet;

/* The known integer data of v, or NULL. */
static const Tensor *known_ints(const Value *v) {
  const Tensor *t = v ? fuse_data(v) : NULL;
  return t && (t->dtype == DT_I64 || t->dtype == DT_I32) ? t : NULL;
}

/* The axis and the indices (appended to *idx, grown as needed) that selector node s takes from x, s's
 * input 0: a Gather with known in-range indices, or a Slice of one axis with known starts/ends/steps.
 * -1 when s is not such a selector. */
static int selector_rows(const Node *s, const Value *x, int *axis, int64_t **idx, int64_t *n, int64_t *cap) {
  if (s->in[0] != x || x->t.rank < 1) return -1;
  int rank = x->t.rank;
  int64_t first = 0, step = 1, count = 0;
  const Tensor *it = NULL;
  int64_t a;
  if (s->op == OP_GATHER) {
    if (!(it = known_ints(s->in[1])) || s->in[1] == x) return -1;
    a = ir_attr_i(s, "axis", 0);
    count = tensor_numel(it);
  } else if (s->op == OP_SLICE) {
    const Tensor *st = known_ints(s->in[1]), *en = known_ints(s->in[2]);
    const Tensor *ax = s->n_in > 3 && s->in[3] ? known_ints(s->in[3]) : NULL;
    const Tensor *sp = s->n_in > 4 && s->in[4] ? known_ints(s->in[4]) : NULL;
    if (!st || !en || tensor_numel(st) != 1 || tensor_numel(en) != 1) return -1;
    if ((s->n_in > 3 && s->in[3] && !ax) || (s->n_in > 4 && s->in[4] && !sp)) return -1;
    a = ax ? tensor_get_i64(ax, 0) : 0;
    step = sp ? tensor_get_i64(sp, 0) : 1;
    if (step == 0) return -1;
    if (a < -rank || a >= rank) return -1;
    first = tensor_get_i64(st, 0);
    count = ir_slice_axis(x->t.dims[a < 0 ? a + rank : a], &first, tensor_get_i64(en, 0), step);
  } else {
    return -1;
  }
  if (a < 0) a += rank;
  if (a < 0 || a >= rank || (*axis >= 0 && *axis != a)) return -1;
  *axis = (int)a;
  int64_t dim = x->t.dims[a];
  if (*n + count > *cap) {
    int64_t grow = (*n + count) * 2 + 8;
    int64_t *p = realloc(*idx, (size_t)grow * sizeof *p);
    if (!p) return -2;
    *idx = p, *cap = grow;
  }
  for (int64_t i = 0; i < count; i++) {
    int64_t r = it ? tensor_get_i64(it, i) : first + i * step;
    if (r < 0 && it) r += dim;
    if (r < 0 || r >= dim) return -1; /* out of range: left for the run-time check to report */
    (*idx)[(*n)++] = r;
  }
  return 0;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* The rows the readers of x take, when every reader is a selector on one axis and x is not a graph
 * output: 1 with *rs filled (fewer rows than the axis has), 0 when not, -1 out of memory. */
static int rows_read(const FuseUsers *u, const Value *x, RowSet *rs) {
  memset(rs, 0, sizeof *rs);
  rs->axis = -1;
  if (x->id >= u->n_values || u->output[x->id] || u->count[x->id] == 0) return 0;
  int64_t cap = 0;
  for (int k = 0; k < u->count[x->id]; k++) {
    int rc = selector_rows(u->list[u->start[x->id] + k], x, &rs->axis, &rs->rows, &rs->n, &cap);
    if (rc < 0) {
      free(rs->rows);
      rs->rows = NULL;
      return rc == -2 ? -1 : 0;
    }
  }
  qsort(rs->rows, (size_t)rs->n, sizeof *rs->rows, cmp_i64);
  int64_t w = 0;
  for (int64_t i = 0; i < rs->n; i++)
    if (w == 0 || rs->rows[w - 1] != rs->rows[i]) rs->rows[w++] = rs->rows[i];
  rs->n = w;
  rs->dim = x->t.dims[rs->axis];
  if (rs->n == 0 || rs->n >= rs->dim) {
    free(rs->rows);
    rs->rows = NULL;
    return 0;
  }
  return 1;
}

/* Whether the known i64 indices t hold exactly idx[0..n). */
static int same_indices(const Tensor *t, const int64_t *idx, int64_t n) {
  return t && t->dtype == DT_I64 && tensor_numel(t) == n && memcmp(t->data, idx, (size_t)n * sizeof *idx) == 0;
}

/* Where row r of the full axis sits among the selected rows. */
static int64_t row_pos(const RowSet *rs, int64_t r) {
  const int64_t *p = bsearch(&r, rs->rows, (size_t)rs->n, sizeof r, cmp_i64);
  return p ? p - rs->rows : -1;
}

/* The rows this pass took of each value that existed when it began (by value id; the nodes it visits read
 * only those), the last take per value: nodes reading the same rows of one value share one Gather, so a
 * value read by many pruned nodes (CSE merges a model's repeated subexpressions into one) gets one reader,
 * not one per node to bypass later. Out of memory it stays empty: it only saves work. */
typedef struct TakeCache {
  struct Take {
    int axis;
    int64_t n, *rows; /* malloc'd copy; NULL: nothing taken yet */
    Value *out;
  } *by_id;
  int n_values;
} TakeCache;

static void take_cache_free(TakeCache *tc) {
  for (int i = 0; i < tc->n_values; i++) free(tc->by_id[i].rows);
  free(tc->by_id);
}

/* v with only the selected rows along `axis` (an axis of v): a new constant when v is one, else a
 * Gather node (the same as an earlier take of those rows of v). NULL on OOM. */
static Value *take_rows(Graph *g, TakeCache *tc, Value *v, int axis, const RowSet *rs, Diag *d) {
  struct Take *t = v->id < tc->n_values ? &tc->by_id[v->id] : NULL;
  if (t && t->rows && t->axis == axis && t->n == rs->n && memcmp(t->rows, rs->rows, (size_t)rs->n * sizeof *t->rows) == 0)
    return t->out;
  Value *out = NULL;
  char base[512];
  int64_t dims[IR_MAX_RANK];
  memcpy(dims, v->t.dims, sizeof dims);
  dims[axis] = rs->n;
  snprintf(base, sizeof base, "%.480s/rows", v->name);
  if (v->kind == VK_CONST && v->t.data) { /* (a parsed `blob` has no data: it gets a Gather like the rest) */
    Value *c = ir_const_new(g, base, v->t.dtype, v->t.rank, dims, NULL, d);
    if (!c) return NULL;
    int64_t outer = 1, inner = (int64_t)dt_size(v->t.dtype);
    for (int i = 0; i < axis; i++) outer *= v->t.dims[i];
    for (int i = axis + 1; i < v->t.rank; i++) inner *= v->t.dims[i];
    const char *s = v->t.data;
    char *o = c->t.data;
    for (int64_t p = 0; p < outer; p++)
      for (int64_t r = 0; r < rs->n; r++)
        memcpy(o + (p * rs->n + r) * inner, s + (p * v->t.dims[axis] + rs->rows[r]) * inner, (size_t)inner);
    out = c;
  } else {
    char ibase[520];
    snprintf(ibase, sizeof ibase, "%s.idx", base);
    Value *idx = ir_const_new(g, ibase, DT_I64, 1, &rs->n, rs->rows, d);
    if (!idx || !(out = fuse_value(g, base, v->t.rank, dims, d))) return NULL;
    out->t.dtype = v->t.dtype;
    Value *in[2] = {v, idx};
    Node *n = fuse_emit(g, OP_GATHER, out->name, in, 2, out, d);
    if (!n || fuse_attr_i(g, n, "axis", axis, d)) return NULL;
  }
  int64_t *rows = t ? malloc((size_t)rs->n * sizeof *rows) : NULL;
  if (rows) { /* remembered for the next node taking these rows of v */
    memcpy(rows, rs->rows, (size_t)rs->n * sizeof *rows);
    free(t->rows);
    *t = (struct Take){axis, rs->n, rows, out};
  }
  return out;
}

/* Operand v of an elementwise node whose output has rank `rank`, with its rows taken along the output's
 * `axis` when it varies along it (a broadcast operand is read as it is). */
static Value *take_broadcast(Graph *g, TakeCache *tc, Value *v, int rank, int axis, const RowSet *rs, Diag *d) {
  int a = axis - (rank - v->t.rank);
  if (a < 0 || v->t.dims[a] == 1) return v;
  return take_rows(g, tc, v, a, rs, d);
}

/* Whether v is a constant whose f32 data is here (a parsed `blob` has none). */
static int known_f32(const Value *v) { return v->kind == VK_CONST && v->t.data && v->t.dtype == DT_F32; }

/* Whether node p computes row r of its output along `axis` from row r of its row-wise inputs only (and
 * whole other inputs); NULL when it does, else why not. */
static const char *row_wise(const Node *p, int axis) {
  int rank = p->out[0]->t.rank;
  for (int i = 1; i < p->n_out; i++)
    if (p->out[i]) return "it has more than one output";
  switch (p->op) {
  case OP_LAYER_NORM: {
    int64_t la = ir_attr_i(p, "axis", -1);
    if (la < 0) la += rank;
    return axis < la ? NULL : "the axis is normalised over";
  }
  case OP_LINEAR:
    return axis < rank - 1 ? NULL : "the axis is the one the product runs over";
  case OP_ATTENTION: {
    AttnShape as;
    if (ir_attention_shape(p, &as)) return "its operand shapes are unknown";
    if (as.cross) return "its queries are an input already";
    if (axis != 1) return "only the token axis selects queries";
    if (!known_f32(p->in[1]) || (p->in[2] && !known_f32(p->in[2]))) return "its projection weights are not known";
    if (p->n_in > 3 && p->in[3] && !known_f32(p->in[3])) return "its score bias is not known";
    return NULL;
  }
  default:
    if ((ir_ops[p->op].flags & (OPF_UNARY | OPF_BINARY)) && ir_ops[p->op].flags & OPF_ELEMWISE) return NULL;
    return "it is not computed row by row";
  }
}

/* Columns [from, from + count) of the last axis of constant v (rank 1 or 2) as a new constant. */
static Value *const_cols(Graph *g, Value *v, int64_t from, int64_t count, const char *suffix, Diag *d) {
  char base[512];
  snprintf(base, sizeof base, "%.480s%s", v->name, suffix);
  int rank = v->t.rank;
  int64_t rows = rank == 2 ? v->t.dims[0] : 1, width = v->t.dims[rank - 1], dims[2] = {rows, count};
  Value *c = ir_const_new(g, base, DT_F32, rank, rank == 2 ? dims : &count, NULL, d);
  if (!c) return NULL;
  const float *s = v->t.data;
  float *o = c->t.data;
  for (int64_t r = 0; r < rows; r++) memcpy(o + r * count, s + r * width + from, (size_t)count * sizeof *o);
  return c;
}

/* Self-attention p computing only the selected queries: q = linear(x's rows, w_q, b_q), then attention
 * over all of x with k|v weights and the query input. Its output is out. */
static int attention_rows(Graph *g, TakeCache *tc, Node *p, const RowSet *rs, Value *out, Diag *d) {
  AttnShape as;
  ir_attention_shape(p, &as);
  Value *x = p->in[0], *w = p->in[1], *b = p->n_in > 2 ? p->in[2] : NULL, *bias = p->n_in > 3 ? p->in[3] : NULL;
  Value *xs = take_rows(g, tc, x, 1, rs, d);
  Value *wq = xs ? const_cols(g, w, 0, as.e, ".q", d) : NULL, *wkv = wq ? const_cols(g, w, as.e, 2 * as.e, ".kv", d) : NULL;
  Value *bq = NULL, *bkv = NULL;
  if (!wkv || (b && (!(bq = const_cols(g, b, 0, as.e, ".q", d)) || !(bkv = const_cols(g, b, as.e, 2 * as.e, ".kv", d)))))
    return -1;
  if (bias && !(bias = take_rows(g, tc, bias, 2, rs, d))) return -1;
  int64_t qd[3] = {as.b, rs->n, as.e};
  char base[512];
  snprintf(base, sizeof base, "%.480s" PASS_QUERY_SUFFIX, p->name);
  Value *q = fuse_value(g, base, 3, qd, d);
  Value *lin_in[3] = {xs, wq, bq};
  Node *lin = q ? fuse_emit(g, OP_LINEAR, base, lin_in, bq ? 3 : 2, q, d) : NULL;
  const char *prec = ir_attr_s(p, "precision", NULL);
  if (!lin || (prec && fuse_attr_s(g, lin, "precision", prec, d))) return -1;
  Value *att_in[5] = {x, wkv, bkv, bias, q};
  Node *att = fuse_emit(g, OP_ATTENTION, p->name, att_in, 5, out, d);
  if (!att) return -1;
  att->attrs = p->attrs; /* p goes: its attributes (heads, scale, precision) move over */
  att->n_attrs = p->n_attrs;
  ir_node_remove(p);
  p->out[0]->def = NULL; /* read by nothing once its readers move to out */
  return 0;
}

/* Reader s of x as it will read the selected rows rs: its indices counted within them (*idx, malloc'd,
 * *n_idx of them; *it its old indices when s is a Gather) and whether that is every selected row in order
 * with the axis kept (then s reads the pruned value as it is). 0, or -1 with d filled. */
static int reader_rows(Graph *g, const Node *s, const Value *x, const RowSet *rs, int64_t **idx, int64_t *n_idx,
                       const Tensor **it, int *identity, Diag *d) {
  int64_t cap = 0;
  int axis = rs->axis;
  *idx = NULL, *n_idx = 0;
  *it = s->op == OP_GATHER ? known_ints(s->in[1]) : NULL;
  int rc = selector_rows(s, x, &axis, idx, n_idx, &cap);
  if (rc) {
    free(*idx);
    *idx = NULL;
    return ir_error(d, g->file, s, rc == -2 ? "out of memory" : "internal error: prune_rows: a reader changed while rewriting");
  }
  *identity = !*it || (*it)->rank == 1;
  for (int64_t i = 0; i < *n_idx; i++) *identity &= ((*idx)[i] = row_pos(rs, (*idx)[i])) == i;
  *identity &= *n_idx == rs->n;
  return 0;
}

/* p (whose output's readers take rs) computing only those rows; its readers then read that. When a
 * reader takes every selected row in order, p computes that reader's output directly (the reader goes,
 * and the value keeps its name and readers: no search for them); else a new value "X/rows". 1 done, -1
 * error. */
static int prune(Graph *g, TakeCache *tc, const FuseUsers *u, Node *p, const RowSet *rs, Diag *d) {
  Value *x = p->out[0], *y = NULL;
  Node *const *readers = u->list + u->start[x->id];
  int n_readers = u->count[x->id], whole = -1; /* the reader whose output p computes */
  for (int k = 0; k < n_readers && whole < 0; k++) {
    int64_t *idx, n_idx;
    const Tensor *it;
    int identity;
    if (reader_rows(g, readers[k], x, rs, &idx, &n_idx, &it, &identity, d)) return -1;
    free(idx);
    if (identity) whole = k, y = readers[k]->out[0];
  }
  if (!y) {
    int64_t dims[IR_MAX_RANK];
    memcpy(dims, x->t.dims, sizeof dims);
    dims[rs->axis] = rs->n;
    char base[512];
    snprintf(base, sizeof base, "%.480s/rows", x->name);
    if (!(y = fuse_value(g, base, x->t.rank, dims, d))) return -1;
    y->t.dtype = x->t.dtype;
  } else {
    ir_node_remove(readers[whole]);
  }
  if (p->op == OP_ATTENTION) {
    if (attention_rows(g, tc, p, rs, y, d)) return -1;
  } else {
    /* In place: row-wise inputs take the rows (layer_norm's and linear's x, linear's residual, the
     * operands of an elementwise op); weights, biases and scales stay whole. */
    int n_rowwise = p->op == OP_LAYER_NORM ? 1 : p->n_in;
    for (int i = 0; i < n_rowwise; i++) {
      if (!p->in[i] || (p->op == OP_LINEAR && (i == 1 || i == 2))) continue;
      Value *v = take_broadcast(g, tc, p->in[i], x->t.rank, rs->axis, rs, d);
      if (!v) return -1;
      p->in[i] = v;
    }
    p->out[0] = y;
    y->kind = VK_NODE;
    y->def = p;
    y->data_inferred = 0;
    x->def = NULL; /* read by nothing once its readers move to y; compaction drops it */
  }
  /* The other readers: a Gather's indices (a Slice becomes a Gather) now count within the selected rows. */
  for (int k = 0; k < n_readers; k++) {
    Node *s = readers[k];
    if (k == whole || s->removed) continue;
    int64_t *idx, n_idx;
    const Tensor *it;
    int identity;
    if (reader_rows(g, s, x, rs, &idx, &n_idx, &it, &identity, d)) return -1;
    if (identity && pass_bypass(g, s, s->out[0], y)) { /* a second reader of every row (CSE merges most) */
      free(idx);
      continue;
    }
    int irank = it ? it->rank : 1;
    const int64_t *idims = it ? it->dims : &n_idx;
    Value *nv = s->in[1];
    if (!same_indices(it, idx, n_idx)) { /* (a Gather whose indices did not move keeps them: up a chain of
                                            row-wise nodes the same reader is rewritten once per node) */
      char base[512];
      snprintf(base, sizeof base, "%.480s.idx", s->out[0]->name);
      nv = ir_const_new(g, base, DT_I64, irank, idims, idx, d);
    }
    free(idx);
    if (!nv) return -1;
    if (s->op == OP_GATHER) {
      s->in[0] = y;
      s->in[1] = nv;
    } else {
      Value *in[2] = {y, nv};
      Node *gn = fuse_emit(g, OP_GATHER, s->name, in, 2, s->out[0], d);
      if (!gn || fuse_attr_i(g, gn, "axis", rs->axis, d)) return -1;
      ir_node_remove(s);
    }
  }
  return 1;
}

/* Tries node p: 1 pruned, 0 not, -1 error. */
static int try_node(Graph *g, PassCtx *ctx, TakeCache *tc, const FuseUsers *u, Node *p, Diag *d) {
  if (p->n_out < 1 || !p->out[0] || p->out[0]->t.dtype == DT_UNDEF) return 0;
  RowSet rs;
  int rc = rows_read(u, p->out[0], &rs);
  if (rc <= 0) return rc < 0 ? ir_error(d, g->file, p, "out of memory") : 0;
  const char *why = row_wise(p, rs.axis);
  if (why) {
    pass_explain(ctx, "prune_rows", p, "its readers take %lld of %lld rows along axis %d, but %s",
                 (long long)rs.n, (long long)rs.dim, rs.axis, why);
    free(rs.rows);
    return 0;
  }
  rc = prune(g, tc, u, p, &rs, d);
  free(rs.rows);
  return rc;
}

#define PRUNE_PATCH_INPUTS 16 /* inputs of a rewritten node whose readers are patched in the index */

/* After row-wise node p was pruned in place (its inputs were `before`), its inputs' entries in the
 * readers index drop p and list the Gather that now reads each instead (none when p now reads a cut
 * constant). Only earlier nodes are visited after p, so these are the only entries that the
 * rest of the sweep reads; patching them instead of indexing the graph again keeps a long chain linear. */
static void users_patch(FuseUsers *u, const Node *p, Value *const *before) {
  for (int i = 0; i < p->n_in; i++) {
    Value *v = before[i];
    if (!v || v == p->in[i] || v->id >= u->n_values) continue;
    Node *reader = p->in[i]->def && p->in[i]->def->op == OP_GATHER && p->in[i]->def->in[0] == v ? p->in[i]->def : NULL;
    Node **list = u->list + u->start[v->id];
    int n = u->count[v->id], j = n - 1;
    while (j >= 0 && list[j] != p) j--; /* from the end: the sweep meets readers in reverse order */
    if (j < 0) continue;
    /* The Gather is the newest node: it goes last, as indexing the graph again would list it. */
    memmove(list + j, list + j + 1, (size_t)(n - j - 1) * sizeof *list);
    int listed = 0; /* a Gather shared with an earlier rewrite is listed already */
    for (int k = n - 2; reader && k >= 0 && !listed; k--) listed = list[k] == reader;
    if (reader && !listed) list[n - 1] = reader;
    else u->count[v->id]--;
  }
}

/* Visits the nodes from the last to the first, so one sweep moves a selection up a whole chain: the
 * Gathers a rewrite puts on a node's inputs are read by earlier nodes. */
int pass_prune_rows(Graph *g, PassCtx *ctx, Diag *d) {
  int changed = 0, rc = 0;
  FuseUsers u;
  TakeCache tc = {calloc((size_t)g->n_values + 1, sizeof *tc.by_id), g->n_values};
  if (!tc.by_id) tc.n_values = 0;
  if (fuse_users_build(g, &u, d)) {
    take_cache_free(&tc);
    return -1;
  }
  for (int k = g->n_nodes - 1; k >= 0 && rc >= 0; k--) {
    Node *p = g->nodes[k];
    Value *before[PRUNE_PATCH_INPUTS];
    int patch = p->op != OP_ATTENTION && p->n_in <= PRUNE_PATCH_INPUTS;
    if (patch) memcpy(before, p->in, (size_t)p->n_in * sizeof *before);
    if (p->removed || (rc = try_node(g, ctx, &tc, &u, p, d)) <= 0) continue;
    changed = 1;
    if (patch) {
      users_patch(&u, p, before);
      continue;
    }
    fuse_users_free(&u); /* attention's rewrite adds nodes of its own: index the readers again */
    if (fuse_users_build(g, &u, d)) {
      take_cache_free(&tc);
      return -1;
    }
  }
  fuse_users_free(&u);
  take_cache_free(&tc);
  return rc < 0 ? -1 : fuse_finish(g, changed, d);
}
