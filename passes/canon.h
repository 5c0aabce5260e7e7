/* The rewrite rules of canonicalize, one file per family. Each rule looks at
 * one live node and returns 1 when it changed the graph, 0 when it did not
 * apply, -1 on error (d filled). u indexes the readers as the round began
 * (canon_slices looks up sibling Slices there; the other rules do not need it). */
#ifndef VITC_CANON_H
#define VITC_CANON_H
#include "fuse_util.h"
#include "pass_util.h"

/* canonicalize.c: operand order, Div by a constant, x+0 / x-0 / x*1, Cast to the same type. */
int canon_arith(Graph *g, Node *n, const FuseUsers *u, Diag *d);
/* canon_layout.c: no-op Reshape/Flatten/Squeeze/Unsqueeze, Reshape of a reshape,
 * layout pairs that cancel, identity Transpose, Transpose of Transpose, Pad with all pads zero. */
int canon_layout(Graph *g, Node *n, const FuseUsers *u, Diag *d);
/* canon_split.c: Slices that tile one axis of a tensor into one Split (the other Slices of a value made
 * since the round began are searched for in the whole graph). */
int canon_slices(Graph *g, Node *n, const FuseUsers *u, Diag *d);
/* canon_bn.c: BatchNormalization folded into the Conv or Gemm before it (constant weights and parameters). */
int canon_batch_norm(Graph *g, Node *n, const FuseUsers *u, Diag *d);

#endif
