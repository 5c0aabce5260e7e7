/* cleanup: removes Identity and inference Dropout, then nodes nothing reads. Shape inference rejects
 * every Dropout that would drop something, so a verified graph's Dropouts all
 * forward their input; a used mask output becomes an all-true constant. */
#include "pass_util.h"
#include <stdlib.h>
#include <string.h>

/* Turns Dropout n's used mask output into an all-true constant (same name). */
static int const_mask(Graph *g, Node *n, const int *uses, Diag *d) {
  Value *m = n->n_out > 1 ? n->out[1] : NULL;
  if (!m || uses[m->id] == 0) return 0;
  size_t bytes = tensor_bytes(&m->t);
  void *ones = arena_alloc(&g->arena, bytes ? bytes : 1);
  if (!ones) return ir_error(d, g->file, n, "out of memory");
  memset(ones, 1, bytes);
  m->kind = VK_CONST;
  m->def = NULL;
  m->t.data = ones;
  m->data_inferred = 0;
  return 0;
}

/* Bypasses every Identity and Dropout, then removes dead nodes and compacts. */
int pass_cleanup(Graph *g, PassCtx *ctx, Diag *d) {
  (void)ctx;
  int *uses = ir_use_counts(g);
  if (!uses) return ir_error(d, g->file, NULL, "out of memory");
  int rc = 0;
  for (int k = 0; k < g->n_nodes && !rc; k++) {
    Node *n = g->nodes[k];
    if (n->removed || (n->op != OP_IDENTITY && n->op != OP_DROPOUT) || !n->out[0] || !n->in[0]) continue;
    if (!tensor_same_type(&n->out[0]->t, &n->in[0]->t)) continue;
    /* A Dropout whose data output must stay (a graph output fed by an input) keeps its mask too. */
    if (n->op == OP_DROPOUT && pass_is_graph_output(g, n->out[0]) &&
        (n->in[0]->kind != VK_NODE || pass_is_graph_output(g, n->in[0])))
      continue;
    if (n->op == OP_DROPOUT && (rc = const_mask(g, n, uses, d))) break;
    pass_bypass(g, n, n->out[0], n->in[0]);
  }
  free(uses);
  if (!rc && pass_remove_dead(g, d) < 0) rc = -1;
  return rc ? rc : ir_graph_compact(g, d);
}
