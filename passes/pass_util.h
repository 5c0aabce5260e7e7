/* Helpers the cleanup, fold, canonicalize, cse and dce passes share: constant
 * tests, removing a node that forwards its input, attribute and order edits. */
#ifndef VITC_PASS_UTIL_H
#define VITC_PASS_UTIL_H
#include "passes.h"

/* Whether v is a constant whose data is present (a parsed `blob` has none). */
int pass_is_const(const Value *v);
/* Whether every element of constant v (f32, i64, i32 or bool) equals x. */
int pass_const_all(const Value *v, double x);
/* Whether v is one of the graph's outputs. */
int pass_is_graph_output(const Graph *g, const Value *v);

/* Removes node n whose output y carries the same data as x (same type):
 * every use of y reads x. When y is a graph output, x's producer is made to
 * define y instead, so the output keeps its name; when that is impossible
 * (x is an input or a constant, or an output too) n stays. 1 when removed. */
int pass_bypass(Graph *g, Node *n, Value *y, Value *x);

/* Sets (or adds) an ints attribute; the values are copied into the arena. */
int pass_set_ints(Graph *g, Node *n, const char *name, const int64_t *v, int count, Diag *d);

/* Puts `fresh` (just appended by ir_node_new) where `at` is in the node list
 * and `at` at the end, so a replacement keeps the original's place. */
void pass_take_place(Graph *g, Node *fresh, const Node *at);

/* Marks every node whose outputs are all unused (and not graph outputs) as
 * removed, sweeping backwards so chains go at once. Returns how many, -1 on OOM. */
int pass_remove_dead(Graph *g, Diag *d);

#endif
