/* fold: constant folding. A node becomes constants when shape inference
 * already computed its outputs (data_inferred: Shape/Gather/Concat chains on
 * static shapes, Size, Range, ConstantOfShape ...), when it only reads its
 * inputs' shapes (Shape, Size), or when all its inputs are constants; the
 * values come from the reference interpreter (ir_interp_node). One walk in
 * topological order folds whole chains. Large results are folded only when
 * they replace constants that die with the node (Transpose of a weight used
 * once) or grow from small constants (up to FOLD_DERIVED_ELEMS), so folding
 * never duplicates big weights. */
#include "pass_util.h"
#include <stdlib.h>
#include <string.h>

/* Results with at most this many elements are always folded. */
#define FOLD_SMALL_ELEMS 65536

/* Whether every present input of n is a constant with data (shape-only ops need only types). */
static int inputs_known(const Node *n) {
  int shape_only = (ir_ops[n->op].flags & OPF_SHAPE_ONLY) != 0;
  for (int i = 0; i < n->n_in; i++)
    if (n->in[i] && !shape_only && !pass_is_const(n->in[i])) return 0;
  return 1;
}

/* Whether shape inference left the data of every output. */
static int outputs_inferred(const Node *n) {
  for (int j = 0; j < n->n_out; j++)
    if (n->out[j] && !(n->out[j]->data_inferred && n->out[j]->t.data)) return 0;
  return 1;
}

/* Results grown from small constants ("derived": each input small, or itself derived) are folded up to this
 * many elements even when a large input outlives the node, since what gets duplicated is no model weight
 * but a tensor computed from a few small ones: Swin's shifted-window mask, [windows, N, N], built from an
 * image mask through sub/equal/where, must become a known tensor to fuse into its attention. */
#define FOLD_DERIVED_ELEMS (1 << 22)

/* Whether input v of a node is small or derived (folding it loses no weight). */
static int light(const Value *v, const unsigned char *derived) {
  return tensor_numel(&v->t) <= FOLD_SMALL_ELEMS || derived[v->id];
}

/* Small results; no more bytes than the single-use constant inputs that die with n; or results of at most
 * FOLD_DERIVED_ELEMS elements whose every large input dies with n or is derived. */
static int worth_folding(const Node *n, const int *uses, const unsigned char *derived) {
  int64_t elems = 0, out_bytes = 0, freed = 0;
  int big_kept = 0; /* a large model constant that outlives n (folding would duplicate it) */
  for (int j = 0; j < n->n_out; j++)
    if (n->out[j]) {
      elems += tensor_numel(&n->out[j]->t);
      out_bytes += (int64_t)tensor_bytes(&n->out[j]->t);
    }
  if (elems <= FOLD_SMALL_ELEMS) return 1;
  for (int i = 0; i < n->n_in; i++) {
    const Value *v = n->in[i];
    int first = 1;
    for (int k = 0; k < i && first; k++) first = n->in[k] != v;
    if (v && first && v->kind == VK_CONST && uses[v->id] == 1) freed += (int64_t)tensor_bytes(&v->t);
    else if (v && !light(v, derived)) big_kept = 1;
  }
  return out_bytes <= freed || (!big_kept && elems <= FOLD_DERIVED_ELEMS);
}

/* Runs n's kernel on its constant inputs; outputs get arena data. */
static int evaluate(Graph *g, Node *n, Diag *d) {
  Tensor in[IR_MAX_INPUTS], out[IR_MAX_OUTPUTS];
  for (int i = 0; i < n->n_in; i++) {
    memset(&in[i], 0, sizeof in[i]);
    if (n->in[i]) in[i] = n->in[i]->t;
  }
  for (int j = 0; j < n->n_out; j++) {
    memset(&out[j], 0, sizeof out[j]);
    if (!n->out[j]) continue;
    out[j] = n->out[j]->t;
    size_t bytes = tensor_bytes(&out[j]);
    if (!(out[j].data = arena_alloc(&g->arena, bytes ? bytes : 1))) return ir_error(d, g->file, n, "out of memory");
  }
  if (ir_interp_node(n, in, out, d)) return -1;
  for (int j = 0; j < n->n_out; j++)
    if (n->out[j]) n->out[j]->t.data = out[j].data;
  return 0;
}

/* Folds node n if it can and should be; its outputs become constants in place (same names), derived when
 * every input is light. */
static int fold_node(Graph *g, Node *n, const int *uses, unsigned char *derived, Diag *d) {
  for (int j = 0; j < n->n_out; j++)
    if (n->out[j] && pass_is_graph_output(g, n->out[j])) return 0; /* outputs stay computed */
  if (!outputs_inferred(n)) {
    if (!inputs_known(n) || !worth_folding(n, uses, derived)) return 0;
    if (evaluate(g, n, d)) return -1;
  }
  int from_light = 1;
  for (int i = 0; i < n->n_in; i++) from_light &= !n->in[i] || light(n->in[i], derived);
  for (int j = 0; j < n->n_out; j++) {
    Value *v = n->out[j];
    if (!v) continue;
    derived[v->id] = (unsigned char)from_light;
    v->kind = VK_CONST;
    v->def = NULL;
    v->data_inferred = 0;
  }
  ir_node_remove(n);
  return 0;
}

/* Folds every foldable node in one walk in order, then compacts. */
int pass_fold(Graph *g, PassCtx *ctx, Diag *d) {
  (void)ctx;
  int *uses = ir_use_counts(g);
  unsigned char *derived = calloc((size_t)g->n_values + 1, 1);
  if (!uses || !derived) {
    free(uses), free(derived);
    return ir_error(d, g->file, NULL, "out of memory");
  }
  int rc = 0;
  for (int k = 0; k < g->n_nodes && !rc; k++)
    if (!g->nodes[k]->removed) rc = fold_node(g, g->nodes[k], uses, derived, d);
  free(uses);
  free(derived);
  return rc ? rc : ir_graph_compact(g, d);
}
