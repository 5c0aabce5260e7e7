/* Floating-point operations of a node, for `vitc inspect` and --profile's GFLOP/s: the matrix products
 * (2 per multiply-add); elementwise work and data movement count 0. */
#include "ir.h"

double ir_node_flops(const Node *n) {
  if (!n->n_out || !n->out[0]) return 0;
  const Tensor *y = &n->out[0]->t;
  switch (n->op) {
  case OP_LINEAR: return 2.0 * (double)tensor_numel(y) * (double)n->in[1]->t.dims[0];
  case OP_MATMUL: {
    const Tensor *a = &n->in[0]->t;
    return a->rank ? 2.0 * (double)tensor_numel(y) * (double)a->dims[a->rank - 1] : 0;
  }
  case OP_GEMM: return 2.0 * (double)tensor_numel(y) * (double)n->in[1]->t.dims[ir_attr_i(n, "transB", 0) ? 1 : 0];
  case OP_CONV: {
    const Tensor *w = &n->in[1]->t;
    return 2.0 * (double)tensor_numel(y) * (double)(tensor_numel(w) / (w->dims[0] ? w->dims[0] : 1));
  }
  case OP_ATTENTION: { /* projection (q, k, v or k, v), scores, probabilities times values */
    AttnShape a;
    if (ir_attention_shape(n, &a)) return 0;
    return 2.0 * (double)(a.b * a.n) * (double)a.c * (double)a.wcols + 4.0 * (double)(a.b * a.m * a.n) * (double)a.e;
  }
  default: return 0;
  }
}
