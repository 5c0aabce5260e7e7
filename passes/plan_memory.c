/* plan_memory: one arena for every intermediate value. Each value computed
 * by a node (not a graph output: the caller owns those; not an input or a
 * constant) lives from its producer to its last reader in the final node
 * order. An elementwise or reshape-like node writes over an input that dies
 * there and has the output's byte size (in place: one buffer). Buffers are
 * placed largest first at the lowest 64-byte aligned offset that overlaps no
 * buffer live at the same time. Changes no node. */
#include "passes.h"
#include <stdlib.h>
#include <string.h>

#define PLAN_ALIGN 64

typedef struct Buf {
  int root;            /* value id of the group's first value */
  int start, end;      /* node indices, inclusive */
  int64_t size, offset;
} Buf;

/* Per-value facts: producer index, last reader index, alias group root. */
typedef struct Live {
  int *def, *last, *root;
  unsigned char *arena;
} Live;

static int64_t align_up(int64_t n) { return (n + PLAN_ALIGN - 1) / PLAN_ALIGN * PLAN_ALIGN; }

/* Whether node n may write its output over one of its inputs (same index in, same index out). */
static int may_alias(const Node *n) {
  return (ir_ops[n->op].flags & (OPF_ELEMWISE | OPF_LAYOUT)) && n->n_out == 1;
}

/* Marks arena values and computes def, last and the in-place groups. */
static void liveness(const Graph *g, Live *l) {
  for (int i = 0; i < g->n_values; i++) {
    const Value *v = g->values[i];
    l->arena[i] = v->kind == VK_NODE && !v->data_inferred;
    l->def[i] = l->last[i] = -1;
    l->root[i] = i;
  }
  for (int i = 0; i < g->n_outputs; i++) l->arena[g->outputs[i]->id] = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    const Node *n = g->nodes[k];
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i]) l->last[n->in[i]->id] = k;
    for (int j = 0; j < n->n_out; j++)
      if (n->out[j]) l->def[n->out[j]->id] = l->last[n->out[j]->id] = k;
  }
  for (int k = 0; k < g->n_nodes; k++) {
    const Node *n = g->nodes[k];
    const Value *o = n->out[0];
    if (!may_alias(n) || !o || !l->arena[o->id]) continue;
    int n_cand = ir_ops[n->op].flags & OPF_ELEMWISE ? n->n_in : 1, pick = -1;
    for (int i = 0; i < n_cand; i++) { /* the input whose buffer is oldest: a residual stream stays one buffer */
      const Value *x = n->in[i];
      if (x && l->arena[x->id] && l->last[x->id] == k && tensor_bytes(&x->t) == tensor_bytes(&o->t) &&
          (pick < 0 || l->def[l->root[x->id]] < l->def[pick]))
        pick = l->root[x->id];
    }
    if (pick >= 0) l->root[o->id] = pick;
  }
}

/* Largest first, then earliest, then by id: a deterministic order. */
static int buf_cmp(const void *a, const void *b) {
  const Buf *p = a, *q = b;
  if (p->size != q->size) return p->size > q->size ? -1 : 1;
  if (p->end - p->start != q->end - q->start) return p->end - p->start > q->end - q->start ? -1 : 1;
  if (p->start != q->start) return p->start < q->start ? -1 : 1;
  return (p->root > q->root) - (p->root < q->root);
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

/* Places b[i] at the lowest offset clear of the earlier-placed buffers it
 * overlaps in time; returns the end of b[i]. */
static int64_t place(Buf *b, int i, Buf **tmp) {
  int n = 0;
  for (int j = 0; j < i; j++)
    if (b[j].start <= b[i].end && b[i].start <= b[j].end) tmp[n++] = &b[j];
  qsort(tmp, (size_t)n, sizeof *tmp, off_cmp);
  int64_t off = 0;
  for (int j = 0; j < n && off + b[i].size > tmp[j]->offset; j++)
    if (tmp[j]->offset + tmp[j]->size > off) off = tmp[j]->offset + tmp[j]->size;
  b[i].offset = off;
  return off + b[i].size;
}

/* Sorts by cmp and places every buffer; returns the arena size. */
static int64_t place_all(Buf *b, int nb, Buf **tmp, int (*cmp)(const void *, const void *)) {
  qsort(b, (size_t)nb, sizeof *b, cmp);
  int64_t top = 0;
  for (int i = 0; i < nb; i++) {
    int64_t end = place(b, i, tmp);
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

/* Groups, places and fills out (offset[] already allocated and set to -1). */
static void plan(const Graph *g, Live *l, Buf *b, Buf **tmp, int64_t *delta, MemoryPlan *out) {
  liveness(g, l);
  for (int i = 0; i < g->n_values; i++) /* a group lives until its last member's last reader */
    if (l->arena[i] && l->last[i] > l->last[l->root[i]]) l->last[l->root[i]] = l->last[i];
  int nb = 0;
  for (int i = 0; i < g->n_values; i++) {
    if (!l->arena[i]) continue;
    out->naive_bytes += (int64_t)tensor_bytes(&g->values[i]->t);
    if (l->root[i] != i) continue;
    int64_t bytes = (int64_t)tensor_bytes(&g->values[i]->t);
    b[nb++] = (Buf){i, l->def[i], l->last[i], align_up(bytes ? bytes : 1), 0};
  }
  /* Two greedy orders; the smaller arena wins (the first on a tie). */
  int64_t by_size = place_all(b, nb, tmp, buf_cmp), by_area = place_all(b, nb, tmp, area_cmp);
  out->arena_bytes = by_area < by_size ? by_area : place_all(b, nb, tmp, buf_cmp);
  out->lower_bound_bytes = peak(b, nb, g->n_nodes, delta);
  int *slot = l->def; /* def is no longer needed: it now maps a group root to its buffer */
  for (int j = 0; j < nb; j++) slot[b[j].root] = j;
  for (int i = 0; i < g->n_values; i++)
    if (l->arena[i]) out->offset[i] = b[slot[l->root[i]]].offset;
}

/* Computes the plan into out; its offset array is malloc'd (plan_memory_free). */
int plan_memory_compute(const Graph *g, MemoryPlan *out, Diag *d) {
  memset(out, 0, sizeof *out);
  size_t nv = (size_t)g->n_values + 1;
  Live l = {malloc(nv * sizeof(int)), malloc(nv * sizeof(int)), malloc(nv * sizeof(int)), malloc(nv)};
  Buf *b = malloc(nv * sizeof *b);
  Buf **tmp = malloc(nv * sizeof *tmp);
  int64_t *delta = malloc(((size_t)g->n_nodes + 2) * sizeof *delta);
  out->offset = malloc(nv * sizeof *out->offset);
  int rc = 0;
  if (!l.def || !l.last || !l.root || !l.arena || !b || !tmp || !delta || !out->offset) {
    rc = ir_error(d, g->file, NULL, "out of memory");
    free(out->offset);
    out->offset = NULL;
  } else {
    out->n_values = g->n_values;
    for (int i = 0; i < g->n_values; i++) out->offset[i] = -1;
    plan(g, &l, b, tmp, delta, out);
  }
  free(l.def);
  free(l.last);
  free(l.root);
  free(l.arena);
  free(b);
  free(tmp);
  free(delta);
  return rc;
}

/* Frees a plan's offsets and zeroes it. */
void plan_memory_free(MemoryPlan *p) {
  free(p->offset);
  memset(p, 0, sizeof *p);
}

/* The pass: replaces ctx->plan with the plan of the final graph. */
int pass_plan_memory(Graph *g, PassCtx *ctx, Diag *d) {
  plan_memory_free(&ctx->plan);
  return plan_memory_compute(g, &ctx->plan, d);
}
