/* Graph rewriting primitives shared by the passes. */
#include "ir.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ir_unique_name(Graph *g, const char *base, Diag *d) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", base);
  if (ir_name_taken(g, buf)) { /* the first free "base_K"; from where the last search for base ended */
    int *next = ir_name_next_suffix(g, buf), k = next ? *next : 1;
    do snprintf(buf, sizeof buf, "%.480s_%d", base, k++);
    while (ir_name_taken(g, buf));
    if (next) *next = k;
  }
  const char *s = arena_strdup(&g->arena, buf);
  if (!s) ir_error(d, g->file, NULL, "out of memory");
  return s;
}

Value *ir_const_new(Graph *g, const char *base_name, DType dt, int rank, const int64_t *dims,
                    const void *data, Diag *d) {
  const char *name = ir_unique_name(g, base_name, d);
  Value *v = name ? ir_value_new(g, name, VK_CONST, d) : NULL;
  if (!v) return NULL;
  v->t.dtype = dt;
  v->t.rank = rank;
  for (int i = 0; i < rank; i++) v->t.dims[i] = dims[i];
  size_t bytes = tensor_bytes(&v->t);
  v->t.data = arena_alloc(&g->arena, bytes ? bytes : 1);
  if (!v->t.data) {
    ir_error(d, g->file, NULL, "out of memory");
    return NULL;
  }
  if (bytes && data) memcpy(v->t.data, data, bytes);
  return v;
}

void ir_replace_uses(Graph *g, Value *from, Value *to) {
  for (int k = 0; k < g->n_nodes; k++) {
    Node *n = g->nodes[k];
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i] == from) n->in[i] = to;
  }
  for (int i = 0; i < g->n_outputs; i++)
    if (g->outputs[i] == from) g->outputs[i] = to;
}

int *ir_use_counts(const Graph *g) {
  int *uses = calloc((size_t)g->n_values + 1, sizeof *uses);
  if (!uses) return NULL;
  for (int k = 0; k < g->n_nodes; k++) {
    const Node *n = g->nodes[k];
    if (n->removed) continue;
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i]) uses[n->in[i]->id]++;
  }
  for (int i = 0; i < g->n_outputs; i++) uses[g->outputs[i]->id]++;
  return uses;
}

void ir_node_remove(Node *n) { n->removed = 1; }

/* Stable topological order of the live nodes: repeatedly takes the earliest
 * node whose inputs are all available. O(nodes * inputs) per sweep. */
static int toposort(Graph *g, Node **live, int n_live, Diag *d) {
  char *ready = calloc((size_t)g->n_values + 1, 1), *placed = calloc((size_t)n_live + 1, 1);
  if (!ready || !placed) {
    free(ready);
    free(placed);
    return ir_error(d, g->file, NULL, "out of memory");
  }
  for (int i = 0; i < g->n_values; i++)
    if (g->values[i]->kind != VK_NODE) ready[i] = 1;
  int done = 0, first = 0, rc = 0;
  while (done < n_live) {
    int progress = 0;
    for (int k = first; k < n_live; k++) {
      if (placed[k]) continue;
      Node *n = live[k];
      int ok = 1;
      for (int i = 0; i < n->n_in && ok; i++) ok = !n->in[i] || ready[n->in[i]->id];
      if (!ok) continue;
      placed[k] = 1;
      for (int j = 0; j < n->n_out; j++) ready[n->out[j]->id] = 1;
      g->nodes[done++] = n;
      progress = 1;
      while (first < n_live && placed[first]) first++;
      break; /* restart from the earliest unplaced node to keep the order stable */
    }
    if (!progress) {
      for (int k = 0; k < n_live; k++)
        if (!placed[k]) {
          rc = ir_error(d, g->file, live[k], "graph has a cycle through this node");
          break;
        }
      break;
    }
  }
  g->n_nodes = done;
  free(ready);
  free(placed);
  return rc;
}

static int cmp_ptr(const void *a, const void *b) {
  uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
  return (x > y) - (x < y);
}

/* Gives the arena back the big data blocks of the values about to be dropped (folded-away weights, the
 * importer's aligned copies of weights a fold replaced), unless a kept value points at the same data: a
 * model's weights would otherwise be held twice until the graph is freed. Best effort: without memory for
 * the check nothing is released. */
static void release_dropped_data(Graph *g, const char *keep) {
  const void **kept = malloc(sizeof *kept * (size_t)(g->n_values + 1));
  if (!kept) return;
  int n_kept = 0;
  for (int i = 0; i < g->n_values; i++)
    if (keep[i] && g->values[i]->t.data) kept[n_kept++] = g->values[i]->t.data;
  qsort(kept, (size_t)n_kept, sizeof *kept, cmp_ptr);
  for (int i = 0; i < g->n_values; i++) {
    const void *p = g->values[i]->t.data;
    if (keep[i] || !p || bsearch(&p, kept, (size_t)n_kept, sizeof *kept, cmp_ptr)) continue;
    if (arena_release(&g->arena, p)) g->values[i]->t.data = NULL;
  }
  free(kept);
}

/* Keeps the values something refers to and renumbers them. */
static int drop_unused_values(Graph *g, Diag *d) {
  int *uses = ir_use_counts(g);
  if (!uses) return ir_error(d, g->file, NULL, "out of memory");
  char *keep = calloc((size_t)g->n_values + 1, 1);
  if (!keep) {
    free(uses);
    return ir_error(d, g->file, NULL, "out of memory");
  }
  for (int i = 0; i < g->n_values; i++) keep[i] = uses[i] > 0 || g->values[i]->kind == VK_INPUT;
  for (int k = 0; k < g->n_nodes; k++)
    for (int j = 0; j < g->nodes[k]->n_out; j++) keep[g->nodes[k]->out[j]->id] = 1;
  release_dropped_data(g, keep);
  int n = 0;
  for (int i = 0; i < g->n_values; i++)
    if (keep[i]) {
      g->values[n] = g->values[i];
      g->values[n]->id = n;
      n++;
    }
  g->n_values = n;
  ir_names_forget(g);
  free(uses);
  free(keep);
  return 0;
}

int ir_graph_compact(Graph *g, Diag *d) {
  Node **live = malloc(sizeof *live * (size_t)(g->n_nodes + 1));
  if (!live) return ir_error(d, g->file, NULL, "out of memory");
  int n_live = 0;
  for (int k = 0; k < g->n_nodes; k++)
    if (!g->nodes[k]->removed) live[n_live++] = g->nodes[k];
  g->n_nodes = n_live;
  int rc = toposort(g, live, n_live, d);
  free(live);
  return rc ? rc : drop_unused_values(g, d);
}
