/* plan_memory: the one memory plan, which `vitc ir --stats` reports and the
 * backend compiles to. Graph inputs and values known at compile time
 * (constants, values shape inference computed) are not in the arena; graph
 * outputs live in the caller's buffers. The output of a layout op that is not
 * a graph output is its input's storage (a view). An elementwise node writes
 * its output over an input whose storage dies there and has the output's
 * element count and byte size (in place). A node with scratch gets a block
 * live while it runs. Buffers are placed at the lowest 64-byte aligned offset
 * that overlaps no buffer live at the same time, in two greedy orders; the
 * smaller arena wins. Changes no node. */
#include "passes.h"
#include <stdlib.h>
#include <string.h>

#define PLAN_ALIGN 64
#define PLAN_ATTN_NR 32 /* attention packs k^T in panels of this many tokens (the widest GEMM panel) */

typedef struct Buf {
  int id;              /* value id of the group's root, or -1 - node index for scratch */
  int start, end;      /* node indices, inclusive */
  int64_t size, offset;
} Buf;

/* Per-value facts: producer index, last index the storage is needed, storage group, arena flag. */
typedef struct Live {
  int *def, *end, *root;
  unsigned char *arena;
} Live;

static int64_t align_up(int64_t n) { return (n + PLAN_ALIGN - 1) / PLAN_ALIGN * PLAN_ALIGN; }

int plan_value_known(const Value *v) { return v->kind == VK_CONST || (v->kind == VK_NODE && v->data_inferred); }

int plan_node_runs(const Node *n) {
  if (n->removed) return 0;
  for (int j = 0; j < n->n_out; j++)
    if (n->out[j] && !plan_value_known(n->out[j])) return 1;
  return 0;
}

/* The quantised activations of a bf16 or int8 product of x (input 0) with w [K, N] (input 1):
 * ir_quant_layout's bytes, 0 for fp32. */
static int64_t quant_bytes(const Node *n) {
  if (n->n_in < 2 || !n->in[0] || !n->in[1] || n->in[1]->t.rank != 2) return 0;
  int64_t k = n->in[1]->t.dims[0], rows = k ? tensor_numel(&n->in[0]->t) / k : 0;
  return ir_quant_layout(ir_node_precision(n), rows, k).bytes;
}

uint64_t plan_scratch_bytes(const Node *n) {
  if (n->op == OP_LINEAR) return (uint64_t)quant_bytes(n);
  if (n->op == OP_TOP_K) /* the indices the compiled TopK sorts with when the node has no Indices output */
    return n->n_out > 1 && n->out[1] ? 0 : (uint64_t)tensor_numel(&n->out[0]->t) * sizeof(int64_t);
  AttnShape a;
  if (n->op != OP_ATTENTION || ir_attention_shape(n, &a)) return 0;
  int64_t qkv = (a.b * a.n * a.wcols + 15) / 16 * 16; /* x @ w_qkv: q | k | v, or k | v */
  int64_t pack = (a.n + PLAN_ATTN_NR - 1) / PLAN_ATTN_NR * PLAN_ATTN_NR * a.hd;
  return (uint64_t)(qkv + a.b * a.heads * pack) * sizeof(float) + (uint64_t)quant_bytes(n); /* x's quantised rows last */
}

/* The root of v's storage group (path halving). */
static int find(int *root, int v) {
  while (root[v] != v) v = root[v] = root[root[v]];
  return v;
}

/* Whether running node n's output 0 is a view of its input 0. */
static int is_view(const Node *n, const Live *l) {
  return (ir_ops[n->op].flags & OPF_LAYOUT) && n->n_in > 0 && n->in[0] && n->out[0] && l->arena[n->out[0]->id];
}

/* The input of elementwise node k (running) whose storage o may take over, or -1: one whose whole
 * group dies at k, with o's element count and bytes; the oldest buffer wins (a residual stream
 * stays one buffer). */
static int in_place_root(const Node *n, int k, const Live *l) {
  const Value *o = n->out[0];
  int pick = -1;
  if ((ir_ops[n->op].flags & (OPF_ELEMWISE | OPF_LAYOUT)) != OPF_ELEMWISE || n->n_out != 1 || !o || !l->arena[o->id])
    return -1;
  for (int i = 0; i < n->n_in; i++) {
    const Value *x = n->in[i];
    if (!x || tensor_numel(&x->t) != tensor_numel(&o->t) || tensor_bytes(&x->t) != tensor_bytes(&o->t)) continue;
    int r = find(l->root, x->id);
    if (l->arena[r] && l->end[r] == k && (pick < 0 || l->def[r] < l->def[pick])) pick = r;
  }
  return pick;
}

/* Marks arena values, computes def and end, then views and in-place groups (alias[] gets the views). */
static void liveness(const Graph *g, Live *l, int *alias) {
  for (int i = 0; i < g->n_values; i++) {
    const Value *v = g->values[i];
    l->arena[i] = v->kind == VK_NODE && !plan_value_known(v);
    l->def[i] = l->end[i] = -1;
    l->root[i] = i;
  }
  for (int i = 0; i < g->n_outputs; i++) l->arena[g->outputs[i]->id] = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    const Node *n = g->nodes[k];
    if (!plan_node_runs(n)) continue;
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i]) l->end[n->in[i]->id] = k;
    for (int j = 0; j < n->n_out; j++)
      if (n->out[j]) l->def[n->out[j]->id] = l->end[n->out[j]->id] = k;
  }
  for (int i = 0; i < g->n_values; i++)
    if (l->def[i] < 0) l->arena[i] = 0; /* made by no node that runs */
  for (int k = 0; k < g->n_nodes; k++) { /* views: the storage of the chain's first value */
    const Node *n = g->nodes[k];
    if (!plan_node_runs(n) || !is_view(n, l)) continue;
    int r = l->root[n->out[0]->id] = find(l->root, n->in[0]->id);
    l->arena[n->out[0]->id] = l->arena[r];
  }
  for (int i = 0; i < g->n_values; i++) {
    int r = alias[i] = find(l->root, i);
    if (l->end[i] > l->end[r]) l->end[r] = l->end[i];
  }
  for (int k = 0; k < g->n_nodes; k++) { /* in place: o's group joins the group it overwrites */
    const Node *n = g->nodes[k];
    int r = plan_node_runs(n) ? in_place_root(n, k, l) : -1;
    if (r < 0) continue;
    l->root[n->out[0]->id] = r;
    l->end[r] = l->end[n->out[0]->id];
  }
}

/* Largest first, then longest-lived, then earliest, then by id: a deterministic order. */
static int buf_cmp(const void *a, const void *b) {
  const Buf *p = a, *q = b;
  if (p->size != q->size) return p->size > q->size ? -1 : 1;
  if (p->end - p->start != q->end - q->start) return p->end - p->start > q->end - q->start ? -1 : 1;
  if (p->start != q->start) return p->start < q->start ? -1 : 1;
  return (p->id > q->id) - (p->id < q->id);
}

/* Most bytes x node-steps first (long-lived big buffers), then as buf_cmp. */
static int area_cmp(const void *a, const void *b) {
  const Buf *p = a, *q = b;
  int64_t lp = (p->end - p->start + 1) * p->size, lq = (q->end - q->start + 1) * q->size;
  if (lp != lq) return lp > lq ? -1 : 1;
  return buf_cmp(a, b);
}

/* Orders placed conflicting buffers by offset. */
static int off_cmp(const void *a, const void *b) {
  const Buf *p = *(Buf *const *)a, *q = *(Buf *const *)b;
  return (p->offset > q->offset) - (p->offset < q->offset);
}

/* The placed buffers, for finding those that overlap one in time without looking at every one: the
 * buffers in order of start (pos[i] is b[i]'s place in it, by_start the reverse) and a max-tree over that
 * order holding each placed buffer's end (-1 while not placed), leaves from `leaves` on. */
typedef struct Placed {
  int *pos, *by_start, *tree, leaves;
  int64_t *key; /* start << 32 | index, sorted into by_start */
} Placed;

static int key_cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Appends to tmp the placed buffers among positions [lo, hi) of subtree t (covering [tl, tr)) that end at
 * or after `from`; returns the new count. */
static int overlapping(const Placed *pl, Buf *b, int t, int tl, int tr, int hi, int from, Buf **tmp, int n) {
  if (tl >= hi || pl->tree[t] < from) return n;
  if (tr - tl == 1) {
    tmp[n++] = &b[pl->by_start[tl]];
    return n;
  }
  int mid = (tl + tr) / 2;
  n = overlapping(pl, b, 2 * t, tl, mid, hi, from, tmp, n);
  return overlapping(pl, b, 2 * t + 1, mid, tr, hi, from, tmp, n);
}

/* Places b[i] at the lowest offset clear of the earlier-placed buffers it
 * overlaps in time (those starting by its end and ending at or after its start); returns the end of b[i]. */
static int64_t place(Buf *b, int nb, int i, Placed *pl, Buf **tmp) {
  int lo = 0, hi = nb; /* the positions whose buffers start at or before b[i].end: [0, lo) */
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (b[pl->by_start[mid]].start <= b[i].end) lo = mid + 1;
    else hi = mid;
  }
  int n = overlapping(pl, b, 1, 0, pl->leaves, lo, b[i].start, tmp, 0);
  qsort(tmp, (size_t)n, sizeof *tmp, off_cmp); /* (equal offsets in any order give the same result) */
  int64_t off = 0;
  for (int j = 0; j < n && off + b[i].size > tmp[j]->offset; j++)
    if (tmp[j]->offset + tmp[j]->size > off) off = tmp[j]->offset + tmp[j]->size;
  b[i].offset = off;
  for (int t = pl->leaves + pl->pos[i]; t >= 1; t /= 2) /* now placed: its end goes up the tree */
    if (pl->tree[t] < b[i].end) pl->tree[t] = b[i].end;
  return off + b[i].size;
}

/* Sorts by cmp and places every buffer; returns the arena size. */
static int64_t place_all(Buf *b, int nb, Placed *pl, Buf **tmp, int (*cmp)(const void *, const void *)) {
  qsort(b, (size_t)nb, sizeof *b, cmp);
  for (int i = 0; i < nb; i++) pl->key[i] = (int64_t)b[i].start << 32 | i;
  qsort(pl->key, (size_t)nb, sizeof *pl->key, key_cmp);
  for (int k = 0; k < nb; k++) pl->by_start[k] = (int)(pl->key[k] & 0xffffffff), pl->pos[pl->by_start[k]] = k;
  for (int t = 0; t < 2 * pl->leaves; t++) pl->tree[t] = -1;
  int64_t top = 0;
  for (int i = 0; i < nb; i++) {
    int64_t end = place(b, nb, i, pl, tmp);
    if (end > top) top = end;
  }
  return top;
}

/* Most bytes live at one node index. */
static int64_t peak(const Buf *b, int nb, int n_nodes, int64_t *delta) {
  memset(delta, 0, sizeof *delta * (size_t)(n_nodes + 1));
  for (int i = 0; i < nb; i++) {
    delta[b[i].start] += b[i].size;
    delta[b[i].end + 1] -= b[i].size;
  }
  int64_t live = 0, best = 0;
  for (int k = 0; k < n_nodes; k++) {
    live += delta[k];
    if (live > best) best = live;
  }
  return best;
}

/* Groups, places and fills out (offset[] and scratch[] already allocated and set to -1). */
static void plan(const Graph *g, PlanScratchFn scratch, Live *l, Buf *b, Placed *pl, Buf **tmp, int64_t *delta,
                 MemoryPlan *out) {
  liveness(g, l, out->alias);
  int nb = 0;
  for (int i = 0; i < g->n_values; i++) {
    if (!l->arena[i]) continue;
    int64_t bytes = (int64_t)tensor_bytes(&g->values[i]->t);
    out->naive_bytes += bytes;
    if (find(l->root, i) == i) b[nb++] = (Buf){i, l->def[i], l->end[i], align_up(bytes ? bytes : 1), 0};
  }
  for (int k = 0; scratch && k < g->n_nodes; k++) {
    int64_t bytes = plan_node_runs(g->nodes[k]) ? (int64_t)scratch(g->nodes[k]) : 0;
    out->naive_bytes += bytes;
    if (bytes) b[nb++] = (Buf){-1 - k, k, k, align_up(bytes), 0};
  }
  int64_t by_size = place_all(b, nb, pl, tmp, buf_cmp), by_area = place_all(b, nb, pl, tmp, area_cmp);
  out->arena_bytes = by_area < by_size ? by_area : place_all(b, nb, pl, tmp, buf_cmp); /* the first on a tie */
  out->lower_bound_bytes = peak(b, nb, g->n_nodes, delta);
  int *slot = l->def; /* def is no longer needed: it now maps a group root to its buffer */
  for (int j = 0; j < nb; j++) {
    if (b[j].id >= 0) slot[b[j].id] = j;
    else out->scratch[-1 - b[j].id] = b[j].offset;
  }
  for (int i = 0; i < g->n_values; i++)
    if (l->arena[i]) out->offset[i] = b[slot[find(l->root, i)]].offset;
}

/* Computes the plan into out; its arrays are malloc'd (plan_memory_free). */
int plan_memory_compute(const Graph *g, PlanScratchFn scratch, MemoryPlan *out, Diag *d) {
  memset(out, 0, sizeof *out);
  size_t nv = (size_t)g->n_values + 1, nn = (size_t)g->n_nodes + 1;
  Live l = {malloc(nv * sizeof(int)), malloc(nv * sizeof(int)), malloc(nv * sizeof(int)), malloc(nv)};
  Buf *b = malloc((nv + nn) * sizeof *b);
  Buf **tmp = malloc((nv + nn) * sizeof *tmp);
  Placed pl = {malloc((nv + nn) * sizeof(int)), malloc((nv + nn) * sizeof(int)), NULL, 1, malloc((nv + nn) * sizeof(int64_t))};
  while ((size_t)pl.leaves < nv + nn) pl.leaves *= 2;
  pl.tree = malloc(2 * (size_t)pl.leaves * sizeof *pl.tree);
  int64_t *delta = malloc((nn + 1) * sizeof *delta);
  out->offset = malloc(nv * sizeof *out->offset);
  out->alias = malloc(nv * sizeof *out->alias);
  out->scratch = malloc(nn * sizeof *out->scratch);
  int rc = 0;
  if (!l.def || !l.end || !l.root || !l.arena || !b || !tmp || !delta || !out->offset || !out->alias || !out->scratch ||
      !pl.pos || !pl.by_start || !pl.key || !pl.tree) {
    rc = ir_error(d, g->file, NULL, "out of memory");
    plan_memory_free(out);
  } else {
    out->n_values = g->n_values;
    out->n_nodes = g->n_nodes;
    for (int i = 0; i < g->n_values; i++) out->offset[i] = -1;
    for (int k = 0; k < g->n_nodes; k++) out->scratch[k] = -1;
    plan(g, scratch, &l, b, &pl, tmp, delta, out);
  }
  free(pl.pos);
  free(pl.by_start);
  free(pl.key);
  free(pl.tree);
  free(l.def);
  free(l.end);
  free(l.root);
  free(l.arena);
  free(b);
  free(tmp);
  free(delta);
  return rc;
}

/* Frees a plan's arrays and zeroes it. */
void plan_memory_free(MemoryPlan *p) {
  free(p->offset);
  free(p->alias);
  free(p->scratch);
  memset(p, 0, sizeof *p);
}

/* The pass: replaces ctx->plan with the plan of the final graph, with the backend's scratch rule. */
int pass_plan_memory(Graph *g, PassCtx *ctx, Diag *d) {
  plan_memory_free(&ctx->plan);
  return plan_memory_compute(g, plan_scratch_bytes, &ctx->plan, d);
}
