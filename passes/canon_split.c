/* canonicalize, Slices into Split: the Slices of one tensor along one axis
 * (constant bounds, step 1) whose ranges tile the whole axis, in any order
 * and with repeats, become one Split (torchvision's in_proj chunk(3)). The
 * Slice results keep their names as the Split's outputs; the Split takes the
 * place of the first Slice. Slices with gaps, overlaps or other steps stay. */
#include "canon.h"
#include <stdio.h>
#include <stdlib.h>

typedef struct Piece {
  Node *n;
  int64_t start, end;
} Piece;

/* The range [start, end) a single-axis step-1 Slice with constant bounds takes; 0 if n is not one. */
static int slice_range(const Node *n, int *axis, int64_t *start, int64_t *end) {
  if (n->removed || n->op != OP_SLICE || !n->out[0]) return 0;
  const Value *x = n->in[0], *st = n->in[1], *en = n->in[2];
  const Value *ax = n->n_in > 3 ? n->in[3] : NULL, *sp = n->n_in > 4 ? n->in[4] : NULL;
  if (!pass_is_const(st) || !pass_is_const(en) || tensor_numel(&st->t) != 1 || tensor_numel(&en->t) != 1) return 0;
  if ((ax && (!pass_is_const(ax) || tensor_numel(&ax->t) != 1)) || (sp && !pass_const_all(sp, 1))) return 0;
  int r = x->t.rank;
  int64_t a = ax ? tensor_get_i64(&ax->t, 0) : 0;
  if (a < -r || a >= r) return 0;
  if (a < 0) a += r;
  int64_t dim = x->t.dims[a], s = tensor_get_i64(&st->t, 0), e = tensor_get_i64(&en->t, 0);
  if (s < 0) s += dim;
  if (e < 0) e += dim;
  s = s < 0 ? 0 : s > dim ? dim : s;
  e = e < 0 ? 0 : e > dim ? dim : e;
  if (e <= s) return 0;
  *axis = (int)a;
  *start = s;
  *end = e;
  return 1;
}

/* Orders pieces by start, then end. */
static int piece_cmp(const void *a, const void *b) {
  const Piece *p = a, *q = b;
  if (p->start != q->start) return p->start < q->start ? -1 : 1;
  return (p->end > q->end) - (p->end < q->end);
}

/* Collects the slices of x along axis from the candidates (x's readers when the round began, or every
 * node for a newer x; a reader since rewired is met in the next round); returns the count. */
static int collect(const Graph *g, const FuseUsers *u, const Value *x, int axis, Piece *out) {
  int indexed = x->id < u->n_values, count = indexed ? u->count[x->id] : g->n_nodes, n = 0;
  Node *const *cand = indexed ? u->list + u->start[x->id] : g->nodes;
  for (int k = 0; k < count; k++) {
    Piece p = {cand[k], 0, 0};
    int a;
    if (k && cand[k] == cand[k - 1]) continue; /* a node reading x twice is listed twice */
    if (cand[k]->in[0] == x && slice_range(cand[k], &a, &p.start, &p.end) && a == axis) out[n++] = p;
  }
  qsort(out, (size_t)n, sizeof *out, piece_cmp);
  return n;
}

/* Number of distinct pieces when the sorted pieces tile [0, dim), else 0. */
static int tiles(const Graph *g, const Piece *p, int n, int64_t dim) {
  int64_t cur = 0;
  int distinct = 0;
  for (int i = 0; i < n; i++) {
    if (i && p[i].start == p[i - 1].start && p[i].end == p[i - 1].end) {
      if (pass_is_graph_output(g, p[i].n->out[0])) return 0; /* a repeat is merged away */
      continue;
    }
    if (p[i].start != cur) return 0;
    cur = p[i].end;
    distinct++;
  }
  return cur == dim && distinct >= 2 && distinct <= IR_MAX_OUTPUTS ? distinct : 0;
}

/* The piece that comes first in node order: the Split takes its place and name. */
static Node *earliest(const Graph *g, const Piece *p, int n) {
  for (int k = 0; k < g->n_nodes; k++)
    for (int i = 0; i < n; i++)
      if (g->nodes[k] == p[i].n) return p[i].n;
  return p[0].n;
}

/* Builds the Split replacing the tiling pieces p[0..n). */
static int build_split(Graph *g, Value *x, int axis, Piece *p, int n, int distinct, Diag *d) {
  int64_t sizes[IR_MAX_OUTPUTS], len = distinct;
  Node *first = earliest(g, p, n);
  for (int i = 0, j = 0; i < n; i++)
    if (!i || p[i].start != p[i - 1].start) sizes[j++] = p[i].end - p[i].start;
  char base[512];
  snprintf(base, sizeof base, "%.480s_split_sizes", x->name);
  Value *sv = ir_const_new(g, base, DT_I64, 1, &len, sizes, d);
  snprintf(base, sizeof base, "%.480s_split", first->name);
  Node *s = sv ? ir_node_new(g, OP_SPLIT, base, 2, distinct, d) : NULL;
  Attr *a = s ? ir_attr_add(g, s, "axis", AT_INT, d) : NULL;
  if (!a) return -1;
  a->i = axis;
  s->in[0] = x;
  s->in[1] = sv;
  for (int i = 0, j = -1; i < n; i++) {
    Value *o = p[i].n->out[0];
    if (!i || p[i].start != p[i - 1].start) {
      s->out[++j] = o;
      o->def = s;
    } else {
      ir_replace_uses(g, o, s->out[j]);
    }
    ir_node_remove(p[i].n);
  }
  pass_take_place(g, s, first);
  return 1;
}

/* Slices-into-Split rule, triggered by any qualifying Slice n. */
int canon_slices(Graph *g, Node *n, const FuseUsers *u, Diag *d) {
  int axis;
  int64_t s, e;
  if (!slice_range(n, &axis, &s, &e)) return 0;
  Value *x = n->in[0];
  Piece *p = malloc(sizeof *p * (size_t)(x->id < u->n_values ? u->count[x->id] + 1 : g->n_nodes));
  if (!p) return ir_error(d, g->file, n, "out of memory");
  int count = collect(g, u, x, axis, p);
  int distinct = count >= 2 ? tiles(g, p, count, x->t.dims[axis]) : 0;
  int rc = distinct ? build_split(g, x, axis, p, count, distinct, d) : 0;
  free(p);
  return rc;
}
