/* Helpers shared by the simplification passes (see pass_util.h). */
#include "pass_util.h"
#include <stdlib.h>
#include <string.h>

/* Whether v is a constant with data. */
int pass_is_const(const Value *v) { return v && v->kind == VK_CONST && v->t.data; }

/* Whether every element of the constant equals x. */
int pass_const_all(const Value *v, double x) {
  if (!pass_is_const(v)) return 0;
  const Tensor *t = &v->t;
  int64_t n = tensor_numel(t);
  for (int64_t i = 0; i < n; i++) {
    double e;
    switch (t->dtype) {
    case DT_F32: e = ((const float *)t->data)[i]; break;
    case DT_I64: case DT_I32: case DT_BOOL: e = (double)tensor_get_i64(t, i); break;
    default: return 0;
    }
    if (e != x) return 0;
  }
  return 1;
}

/* Whether v is listed among the graph outputs. */
int pass_is_graph_output(const Graph *g, const Value *v) {
  for (int i = 0; i < g->n_outputs; i++)
    if (g->outputs[i] == v) return 1;
  return 0;
}

/* Removes n, reading x wherever y was read (see pass_util.h). */
int pass_bypass(Graph *g, Node *n, Value *y, Value *x) {
  if (!pass_is_graph_output(g, y)) {
    ir_replace_uses(g, y, x);
    ir_node_remove(n);
    return 1;
  }
  if (x->kind != VK_NODE || !x->def || x->def->removed || pass_is_graph_output(g, x)) return 0;
  Node *p = x->def;
  for (int j = 0; j < p->n_out; j++)
    if (p->out[j] == x) p->out[j] = y;
  y->def = p;
  y->data_inferred = x->data_inferred;
  ir_replace_uses(g, x, y);
  ir_node_remove(n);
  return 1;
}

/* Sets or adds the ints attribute `name`. */
int pass_set_ints(Graph *g, Node *n, const char *name, const int64_t *v, int count, Diag *d) {
  int64_t *copy = arena_alloc(&g->arena, sizeof *copy * (size_t)(count ? count : 1));
  if (!copy) return ir_error(d, g->file, n, "out of memory");
  memcpy(copy, v, sizeof *copy * (size_t)count);
  Attr *a = (Attr *)ir_attr_find(n, name);
  if (!a && !(a = ir_attr_add(g, n, name, AT_INTS, d))) return -1;
  a->kind = AT_INTS;
  a->ints = copy;
  a->n = count;
  return 0;
}

/* Swaps `fresh` into the slot of `at` in the node list. */
void pass_take_place(Graph *g, Node *fresh, const Node *at) {
  int fi = -1, ai = -1;
  for (int k = 0; k < g->n_nodes; k++) {
    if (g->nodes[k] == fresh) fi = k;
    if (g->nodes[k] == at) ai = k;
  }
  if (fi < 0 || ai < 0) return;
  Node *t = g->nodes[ai];
  g->nodes[ai] = g->nodes[fi];
  g->nodes[fi] = t;
}

/* Backward sweep removing nodes nothing reads. */
int pass_remove_dead(Graph *g, Diag *d) {
  int *uses = ir_use_counts(g);
  if (!uses) return ir_error(d, g->file, NULL, "out of memory");
  int removed = 0;
  for (int k = g->n_nodes - 1; k >= 0; k--) {
    Node *n = g->nodes[k];
    if (n->removed) continue;
    int used = 0;
    for (int j = 0; j < n->n_out && !used; j++) used = n->out[j] && uses[n->out[j]->id] > 0;
    if (used) continue;
    ir_node_remove(n);
    removed++;
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i]) uses[n->in[i]->id]--;
  }
  free(uses);
  return removed;
}
