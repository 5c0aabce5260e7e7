/* canonicalize: BatchNormalization folded into the Conv or Gemm that produces its input. With
 * s = scale / sqrt(var + epsilon) per channel (computed in double), a Conv's weight rows become w[m] * s[m]
 * and its bias (b[m] - mean[m]) * s[m] + B[m]; a Gemm's weight columns (rows with transB) are scaled the
 * same way and its C becomes that bias over N with beta = 1. Only when the producer's result is read by the
 * BatchNorm alone (and is no graph output), and weight, bias and the four BatchNorm parameters are
 * constants; the new weight and bias are new constants, so a weight read elsewhere is not changed. */
#include "canon.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Whether v is read once, by n, and is no graph output. */
static int read_only_by(const Graph *g, const Value *v, const Node *n) {
  int uses = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    const Node *m = g->nodes[k];
    if (m->removed) continue;
    for (int i = 0; i < m->n_in; i++)
      if (m->in[i] == v) uses += m == n ? 1 : 2;
  }
  return uses == 1 && !pass_is_graph_output(g, v);
}

/* The per-channel factor s and the bias the folded node gets, for a BatchNorm of C channels over a
 * producer whose own bias (before the BatchNorm) is bias0[m] (NULL: 0) times beta. */
static void bn_factors(const Node *bn, int64_t ch, const float *bias0, int64_t bias_n, double beta, double *s,
                       float *bias) {
  const float *scale = bn->in[1]->t.data, *b = bn->in[2]->t.data, *mean = bn->in[3]->t.data,
              *var = bn->in[4]->t.data;
  double eps = ir_attr_f(bn, "epsilon", 1e-5f);
  for (int64_t m = 0; m < ch; m++) {
    s[m] = scale[m] / sqrt((double)var[m] + eps);
    double b0 = bias0 ? beta * bias0[bias_n == 1 ? 0 : m] : 0.0;
    bias[m] = (float)((b0 - mean[m]) * s[m] + b[m]);
  }
}

/* Sets float attribute name of n to v (adding it when absent). */
static int set_float(Graph *g, Node *n, const char *name, float v, Diag *d) {
  Attr *a = (Attr *)ir_attr_find(n, name);
  if (!a && !(a = ir_attr_add(g, n, name, AT_FLOAT, d))) return -1;
  a->f = v;
  return 0;
}

/* The constants w' (the producer's weight with the factors applied along axis `axis` of w, a 2-D or 4-D
 * f32 weight whose channels are its dimension `axis`) and b' as the producer's inputs 1 and 2. */
static int bn_rewrite(Graph *g, Node *p, const double *s, const float *bias, int axis, Diag *d) {
  const Tensor *w = &p->in[1]->t;
  int64_t ch = w->dims[axis], inner = 1, numel = tensor_numel(w);
  for (int a = axis + 1; a < w->rank; a++) inner *= w->dims[a];
  float *nw = malloc(sizeof *nw * (size_t)(numel ? numel : 1));
  if (!nw) return ir_error(d, g->file, p, "out of memory");
  const float *ow = w->data;
  for (int64_t i = 0; i < numel; i++) nw[i] = (float)(ow[i] * s[(i / inner) % ch]);
  char base[512];
  snprintf(base, sizeof base, "%.480s_bn", p->in[1]->name);
  Value *wv = ir_const_new(g, base, DT_F32, w->rank, w->dims, nw, d);
  free(nw);
  if (!wv) return -1;
  snprintf(base, sizeof base, "%.480s_bn_bias", p->name);
  Value *bv = ir_const_new(g, base, DT_F32, 1, &ch, bias, d);
  if (!bv) return -1;
  p->in[1] = wv;
  if (p->n_in < 3) p->n_in = 3;
  p->in[2] = bv;
  return 0;
}

/* Folds BatchNorm n into its producer when the rules above allow; 1 when it did. */
int canon_batch_norm(Graph *g, Node *n, const FuseUsers *u, Diag *d) {
  (void)u;
  if (n->op != OP_BATCH_NORM || n->n_in != 5) return 0;
  for (int j = 1; j < n->n_out; j++)
    if (n->out[j]) return 0;
  for (int i = 1; i < 5; i++)
    if (!pass_is_const(n->in[i]) || n->in[i]->t.dtype != DT_F32) return 0;
  Value *x = n->in[0];
  Node *p = x->kind == VK_NODE ? x->def : NULL;
  if (!p || (p->op != OP_CONV && p->op != OP_GEMM) || p->n_out != 1 || !read_only_by(g, x, n)) return 0;
  if (!pass_is_const(p->in[1]) || p->in[1]->t.dtype != DT_F32) return 0;
  const Value *b0 = p->n_in > 2 ? p->in[2] : NULL;
  if (b0 && (!pass_is_const(b0) || b0->t.dtype != DT_F32)) return 0;
  int64_t ch = n->in[1]->t.dims[0];
  int axis = 0;
  double beta = 1.0;
  if (p->op == OP_GEMM) { /* [M, N] = A' B' (+ C): the channels are B's columns, or its rows with transB */
    if (x->t.rank != 2) return 0;
    axis = ir_attr_i(p, "transB", 0) ? 0 : 1;
    beta = ir_attr_f(p, "beta", 1.0f);
    if (b0 && tensor_numel(&b0->t) != 1 && !(tensor_numel(&b0->t) == ch && b0->t.dims[b0->t.rank - 1] == ch))
      return 0; /* a C that varies along M does not fold into a bias over N */
  }
  if (p->in[1]->t.dims[axis] != ch) return 0;
  double *s = malloc(sizeof *s * (size_t)(ch ? ch : 1));
  float *bias = malloc(sizeof *bias * (size_t)(ch ? ch : 1));
  int rc = -1;
  if (!s || !bias) {
    ir_error(d, g->file, n, "out of memory");
  } else {
    bn_factors(n, ch, b0 ? b0->t.data : NULL, b0 ? tensor_numel(&b0->t) : 0, beta, s, bias);
    rc = bn_rewrite(g, p, s, bias, axis, d);
    if (rc == 0 && p->op == OP_GEMM) rc = set_float(g, p, "beta", 1.0f, d);
  }
  free(s);
  free(bias);
  if (rc) return -1;
  /* The producer now computes the BatchNorm's result: it defines n's output, x goes unused. */
  p->out[0] = n->out[0];
  n->out[0]->def = p;
  ir_node_remove(n);
  return 1;
}
