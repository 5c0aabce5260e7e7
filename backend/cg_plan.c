/* Where each value lives, from the one memory plan (plan_memory_compute in
 * passes/plan_memory.c, with the kernels' scratch sizes): graph inputs and
 * outputs in the caller's buffers, values known at compile time in the weights
 * blob, layout ops' outputs as views of their input, every other value and
 * each node's scratch at the plan's offset in the workspace. */
#include "cg_ctx.h"
#include <stdlib.h>
#include <string.h>

uint64_t cg_scratch_bytes(const Node *n) {
  switch (n->op) {
  case OP_ATTENTION: return cg_scratch_attention(n);
  case OP_LINEAR: return cg_scratch_linear(n);
  case OP_TOP_K: return plan_scratch_bytes(n); /* emit_select.c: the indices when there is no Indices output */
  default: return 0;
  }
}

/* Gives every value its place from plan m. */
static void plan_places(const Graph *g, const MemoryPlan *m, CgPlan *p) {
  for (int i = 0; i < g->n_values; i++) {
    const Value *v = g->values[i];
    p->loc[i] = (CgLoc){CG_LOC_NONE, 0, v};
    if (plan_value_known(v)) p->loc[i] = (CgLoc){CG_LOC_WEIGHTS, -1, v};
    else if (m->offset[i] >= 0 && m->alias[i] == i) p->loc[i] = (CgLoc){CG_LOC_WORKSPACE, m->offset[i], v};
  }
  for (int i = 0; i < g->n_inputs; i++) p->loc[g->inputs[i]->id] = (CgLoc){CG_LOC_INPUT, i, g->inputs[i]};
  for (int k = g->n_outputs - 1; k >= 0; k--) { /* the first index of a repeated output gets the value */
    const Value *v = g->outputs[k];
    if (v->kind == VK_NODE && !plan_value_known(v)) p->loc[v->id] = (CgLoc){CG_LOC_OUTPUT, k, v};
  }
  for (int i = 0; i < g->n_values; i++) /* views share their first value's place (placed above) */
    if (m->alias[i] != i) p->loc[i] = p->loc[m->alias[i]];
  for (int i = 0; i < g->n_nodes; i++) p->skip[i] = (unsigned char)!plan_node_runs(g->nodes[i]);
}

int cg_plan(const Graph *g, CgPlan *p, Diag *d) {
  MemoryPlan m;
  memset(p, 0, sizeof *p);
  if (plan_memory_compute(g, cg_scratch_bytes, &m, d)) return -1;
  p->loc = calloc((size_t)g->n_values + 1, sizeof *p->loc);
  p->skip = calloc((size_t)g->n_nodes + 1, 1);
  if (!p->loc || !p->skip) {
    plan_memory_free(&m);
    cg_plan_free(p);
    return ir_error(d, g->file, NULL, "out of memory");
  }
  plan_places(g, &m, p);
  p->scratch = m.scratch; /* taken over: freed by cg_plan_free */
  m.scratch = NULL;
  p->workspace_bytes = (uint64_t)m.arena_bytes;
  plan_memory_free(&m);
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
