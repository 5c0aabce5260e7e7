/* The memory plan: graph inputs and outputs live in the caller's buffers,
 * constants in the weights blob, layout ops alias their input, and every other
 * value gets a 64-byte aligned offset in one workspace, first-fit by liveness. */
#include "cg_ctx.h"
#include <stdlib.h>
#include <string.h>

/* A live workspace block, kept sorted by offset. */
typedef struct PlanBlock {
  uint64_t offset, size;
  int root;
} PlanBlock;

typedef struct PlanState {
  PlanBlock *live;
  int n_live;
  uint64_t peak;
} PlanState;

/* Whether v's data is known at compile time (an initializer or a value shape inference computed). */
static int plan_is_const(const Value *v) { return v->kind == VK_CONST || (v->kind == VK_NODE && v->data_inferred); }

/* Whether n needs no code: removed by a pass, or every output is known at compile time (or absent). */
static int plan_node_known(const Node *n) {
  if (n->removed) return 1;
  for (int j = 0; j < n->n_out; j++)
    if (n->out[j] && !plan_is_const(n->out[j])) return 0;
  return 1;
}

/* Index of the first graph output that is v, or -1. */
static int plan_output_index(const Graph *g, const Value *v) {
  for (int k = 0; k < g->n_outputs; k++)
    if (g->outputs[k] == v) return k;
  return -1;
}

/* Takes `size` bytes at the lowest offset that fits between live blocks; returns the offset. */
static uint64_t plan_alloc(PlanState *s, uint64_t size, int root) {
  size = (size + CG_ALIGN - 1) & ~(uint64_t)(CG_ALIGN - 1);
  uint64_t at = 0;
  int pos = 0;
  for (; pos < s->n_live; pos++) {
    if (s->live[pos].offset >= at + size) break;
    uint64_t end = s->live[pos].offset + s->live[pos].size;
    if (end > at) at = end;
  }
  memmove(&s->live[pos + 1], &s->live[pos], (size_t)(s->n_live - pos) * sizeof *s->live);
  s->live[pos] = (PlanBlock){at, size, root};
  s->n_live++;
  if (at + size > s->peak) s->peak = at + size;
  return at;
}

/* Releases the block owned by value id root. */
static void plan_release(PlanState *s, int root) {
  for (int i = 0; i < s->n_live; i++) {
    if (s->live[i].root != root) continue;
    memmove(&s->live[i], &s->live[i + 1], (size_t)(s->n_live - i - 1) * sizeof *s->live);
    s->n_live--;
    return;
  }
}

/* Decides each value's kind of place and root (no workspace offsets yet). */
static void plan_places(const Graph *g, CgPlan *p) {
  for (int i = 0; i < g->n_values; i++) p->loc[i].root = g->values[i];
  for (int i = 0; i < g->n_inputs; i++) p->loc[g->inputs[i]->id] = (CgLoc){CG_LOC_INPUT, i, g->inputs[i]};
  for (int i = 0; i < g->n_values; i++)
    if (plan_is_const(g->values[i])) p->loc[i] = (CgLoc){CG_LOC_WEIGHTS, -1, g->values[i]};
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = g->nodes[i];
    p->skip[i] = (unsigned char)plan_node_known(n);
    if (p->skip[i]) continue;
    for (int j = 0; j < n->n_out; j++) {
      const Value *v = n->out[j];
      if (!v) continue;
      int k = plan_output_index(g, v);
      const Value *src = n->n_in > 0 ? n->in[0] : NULL;
      if (k >= 0) p->loc[v->id] = (CgLoc){CG_LOC_OUTPUT, k, v};
      else if ((ir_ops[n->op].flags & OPF_LAYOUT) && j == 0 && src && p->loc[src->id].kind != CG_LOC_NONE)
        p->loc[v->id] = p->loc[src->id]; /* same place, same root */
      else p->loc[v->id] = (CgLoc){CG_LOC_WORKSPACE, 0, v};
    }
  }
}

/* Index of the last node that reads each workspace root (its producer when unread). */
static void plan_last_use(const Graph *g, const CgPlan *p, int *last) {
  for (int i = 0; i < g->n_nodes; i++) {
    if (p->skip[i]) continue;
    const Node *n = g->nodes[i];
    for (int j = 0; j < n->n_out; j++)
      if (n->out[j]) last[n->out[j]->id] = i;
  }
  for (int i = 0; i < g->n_nodes; i++) {
    if (p->skip[i]) continue;
    const Node *n = g->nodes[i];
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k]) last[p->loc[n->in[k]->id].root->id] = i;
  }
}

uint64_t cg_scratch_bytes(const Node *n) {
  switch (n->op) {
  case OP_ATTENTION: return cg_scratch_attention(n);
  default: return 0;
  }
}

/* Gives workspace roots offsets: allocate a node's outputs and its scratch,
 * free the scratch, then free what it read last. */
static int plan_workspace(const Graph *g, CgPlan *p, Diag *d) {
  int *last = calloc((size_t)g->n_values + 1, sizeof *last);
  PlanState s = {calloc((size_t)g->n_values + 2, sizeof *s.live), 0, 0};
  if (!last || !s.live) {
    free(last);
    free(s.live);
    return ir_error(d, g->file, NULL, "out of memory");
  }
  plan_last_use(g, p, last);
  for (int i = 0; i < g->n_nodes; i++) {
    if (p->skip[i]) continue;
    const Node *n = g->nodes[i];
    for (int j = 0; j < n->n_out; j++) {
      if (!n->out[j]) continue;
      CgLoc *l = &p->loc[n->out[j]->id];
      if (l->kind != CG_LOC_WORKSPACE || l->root != n->out[j]) continue;
      l->index = (int64_t)plan_alloc(&s, tensor_bytes(&n->out[j]->t), n->out[j]->id);
    }
    uint64_t scratch = cg_scratch_bytes(n);
    if (scratch) { /* live while n runs: its own root id, past every value id */
      p->scratch[i] = (int64_t)plan_alloc(&s, scratch, g->n_values);
      plan_release(&s, g->n_values);
    }
    for (int b = s.n_live - 1; b >= 0; b--)
      if (last[s.live[b].root] <= i) plan_release(&s, s.live[b].root);
  }
  /* Aliases copied their root's place before it had an offset. */
  for (int i = 0; i < g->n_values; i++)
    if (p->loc[i].kind == CG_LOC_WORKSPACE) p->loc[i].index = p->loc[p->loc[i].root->id].index;
  p->workspace_bytes = s.peak;
  free(last);
  free(s.live);
  return 0;
}

int cg_plan(const Graph *g, CgPlan *p, Diag *d) {
  memset(p, 0, sizeof *p);
  p->loc = calloc((size_t)g->n_values + 1, sizeof *p->loc);
  p->skip = calloc((size_t)g->n_nodes + 1, 1);
  p->scratch = malloc(((size_t)g->n_nodes + 1) * sizeof *p->scratch);
  if (!p->loc || !p->skip || !p->scratch) {
    cg_plan_free(p);
    return ir_error(d, g->file, NULL, "out of memory");
  }
  for (int i = 0; i < g->n_nodes; i++) p->scratch[i] = -1;
  plan_places(g, p);
  if (plan_workspace(g, p, d)) {
    cg_plan_free(p);
    return -1;
  }
  return 0;
}

void cg_plan_free(CgPlan *p) {
  free(p->loc);
  free(p->skip);
  free(p->scratch);
  p->loc = NULL;
  p->skip = NULL;
  p->scratch = NULL;
}

int cg_plan_is_alias(const CgPlan *p, const Value *v) { return p->loc[v->id].root != v; }
