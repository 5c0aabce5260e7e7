/* dce: dead code elimination. Removes every node none of whose outputs is
 * read or a graph output (chains at once, sweeping backwards), then drops the
 * values nothing refers to (unused constants included). */
#include "pass_util.h"

/* Removes dead nodes and compacts. */
int pass_dce(Graph *g, PassCtx *ctx, Diag *d) {
  (void)ctx;
  if (pass_remove_dead(g, d) < 0) return -1;
  return ir_graph_compact(g, d);
}
