/* matmul, gemm and linear: each describes its operands to the GEMM generator
 * (cg_gemm.h) as strided, batch-broadcast matrices; a constant b is packed
 * into panels at compile time. */
#include "cg_gemm.h"
#include "shape_fused.h"
#include <assert.h>

/* Fails unless every present operand and the output are f32. */
static int linalg_f32(const Node *n, Diag *d) {
  for (int i = 0; i < n->n_in; i++)
    if (n->in[i] && n->in[i]->t.dtype != DT_F32)
      return ir_error(d, NULL, n, "%s operands are not supported by the backend", dt_name(n->in[i]->t.dtype));
  return n->out[0]->t.dtype == DT_F32 ? 0 : ir_error(d, NULL, n, "the output must be f32");
}

/* Operand arg of dims t read with numpy broadcasting into the output
 * [batch..., m, n] (a broadcast axis gets stride 0). */
static CgGemmOperand linalg_bcast(int arg, const Tensor *t, const Tensor *out) {
  CgGemmOperand o = {arg, 0, 0, {0}};
  int64_t st[IR_MAX_RANK];
  cg_gemm_batch_strides(t->dims, t->rank, out->rank, out->dims, 1, st);
  int nb = out->rank - 2;
  for (int a = 0; a < nb; a++) o.bs[a] = st[a];
  o.rs = out->rank >= 2 ? st[out->rank - 2] : 0;
  o.cs = out->rank >= 1 ? st[out->rank - 1] : 0;
  return o;
}

/* Points g's b at a packed copy of constant w (k x n matrices, transposed
 * when trans) with w's own batch dims broadcast over g's; returns the blob
 * offset or -1. */
static int64_t linalg_pack(CgCtx *c, CgGemm *g, const Tensor *w, int w_batch_rank, int trans, Diag *d) {
  int64_t batches = 1;
  for (int a = 0; a < w_batch_rank; a++) batches *= w->dims[a];
  g->b_packed = 1;
  cg_gemm_batch_strides(w->dims, w_batch_rank, g->n_batch, g->batch, cg_gemm_packed_size(c, g->k, g->n), g->b.bs);
  return cg_gemm_pack_b(c, w->data, batches, g->k, g->n, trans, d);
}

/* matmul(a, b) with numpy semantics: batch dims broadcast; a 1-D a is a row
 * and a 1-D b a column, whose unit dim is not in the output. */
int cg_emit_matmul(CgCtx *c, const Node *n, Diag *d) {
  if (linalg_f32(n, d)) return -1;
  const Tensor *A = &n->in[0]->t, *B = &n->in[1]->t, *Y = &n->out[0]->t;
  if (tensor_numel(Y) == 0) return 0;
  int a1 = A->rank == 1, b1 = B->rank == 1, ab = a1 ? 0 : A->rank - 2, bb = b1 ? 0 : B->rank - 2;
  CgGemm g = {.m = a1 ? 1 : A->dims[A->rank - 2], .k = A->dims[A->rank - 1], .n = b1 ? 1 : B->dims[B->rank - 1]};
  g.n_batch = Y->rank - !a1 - !b1;
  for (int a = 0; a < g.n_batch; a++) g.batch[a] = Y->dims[a];
  g.a = (CgGemmOperand){0, g.k, 1, {0}};
  cg_gemm_batch_strides(A->dims, ab, g.n_batch, g.batch, g.m * g.k, g.a.bs);
  g.y = (CgGemmOperand){2, b1 ? 1 : g.n, 1, {0}};
  cg_gemm_batch_strides(Y->dims, g.n_batch, g.n_batch, g.batch, g.m * g.n, g.y.bs);
  g.pre.arg = g.post.arg = -1;
  g.alpha = g.beta = 1;
  int64_t packed = -1;
  if (cg_value_is_const(c, n->in[1])) {
    if ((packed = linalg_pack(c, &g, B, bb, 0, d)) < 0) return -1;
  } else {
    g.b = (CgGemmOperand){1, b1 ? 1 : g.n, b1 ? 0 : 1, {0}};
    cg_gemm_batch_strides(B->dims, bb, g.n_batch, g.batch, g.k * g.n, g.b.bs);
  }
  g.b.arg = 1;
  return cg_gemm_call_node(c, n, &g, 2, packed, d);
}

/* gemm(a, b, c?) {alpha, beta, transA, transB}: alpha op(a) op(b) + beta c,
 * c broadcast to [M, N]. */
int cg_emit_gemm(CgCtx *c, const Node *n, Diag *d) {
  if (linalg_f32(n, d)) return -1;
  const Tensor *A = &n->in[0]->t, *B = &n->in[1]->t, *Y = &n->out[0]->t;
  if (A->rank != 2 || B->rank != 2 || Y->rank != 2) return ir_error(d, NULL, n, "operands must be 2-D");
  if (tensor_numel(Y) == 0) return 0;
  int ta = ir_attr_i(n, "transA", 0) != 0, tb = ir_attr_i(n, "transB", 0) != 0;
  CgGemm g = {.m = Y->dims[0], .n = Y->dims[1], .k = A->dims[!ta]};
  g.alpha = ir_attr_f(n, "alpha", 1.0f);
  g.beta = ir_attr_f(n, "beta", 1.0f);
  g.a = (CgGemmOperand){0, ta ? 1 : g.k, ta ? g.m : 1, {0}};
  g.y = (CgGemmOperand){3, g.n, 1, {0}};
  g.post.arg = -1;
  g.pre = n->n_in > 2 && n->in[2] ? linalg_bcast(2, &n->in[2]->t, Y) : (CgGemmOperand){-1, 0, 0, {0}};
  int64_t packed = -1;
  if (cg_value_is_const(c, n->in[1])) {
    if ((packed = linalg_pack(c, &g, B, 0, tb, d)) < 0) return -1;
  } else {
    g.b = (CgGemmOperand){1, tb ? 1 : g.n, tb ? g.k : 1, {0}};
  }
  g.b.arg = 1;
  return cg_gemm_call_node(c, n, &g, 3, packed, d);
}

uint64_t cg_scratch_linear(const Node *n) {
  if (n->n_in < 2 || !n->in[0] || !n->in[1] || n->in[1]->t.rank != 2) return 0;
  int64_t k = n->in[1]->t.dims[0], rows = k ? tensor_numel(&n->in[0]->t) / k : 0;
  uint64_t bytes = (uint64_t)ir_quant_layout(ir_node_precision(n), rows, k).bytes;
  assert(bytes == plan_scratch_bytes(n));
  return bytes;
}

/* A bf16 or int8 linear (docs/precision.md): x's rows quantised into the node's scratch, then the GEMM of
 * that kind on the packed narrow weights (args: quantised x, w, bias, residual, y, int8's column data and
 * row data). */
static int linear_narrow(CgCtx *c, const Node *n, CgGemm *g, int64_t rows, Diag *d) {
  if (!cg_value_is_const(c, n->in[1]))
    return ir_error(d, NULL, n, "precision \"%s\" needs constant weights", ir_attr_s(n, "precision", ""));
  if (g->kind == CG_GEMM_INT8 && g->k > IR_INT8_MAX_K)
    return ir_error(d, NULL, n, "int8 dot products of %lld terms could overflow their int32 sums (at most %d)",
                    (long long)g->k, IR_INT8_MAX_K);
  int64_t k = g->k, colq = -1;
  QuantLayout q = ir_quant_layout(ir_node_precision(n), rows, k);
  int64_t packed = cg_quant_pack_b(c, g->kind, n->in[1]->t.data, k, g->n, &colq, d);
  if (packed < 0) return -1;
  g->k = cg_gemm_narrow_k(g->kind, &q);
  g->b_packed = 1;
  g->a = (CgGemmOperand){0, q.row_words, 1, {0}};
  cg_gemm_batch_strides(g->batch, g->n_batch, g->n_batch, g->batch, g->m * q.row_words, g->a.bs);
  g->rowq = (CgGemmOperand){6, 2, 0, {0}};
  cg_gemm_batch_strides(g->batch, g->n_batch, g->n_batch, g->batch, g->m * 2, g->rowq.bs);
  g->colq_arg = 5;
  g->b.arg = 1;
  cg_gemm_fold_batch(g);
  g->n_args = 7;
  LLVMValueRef quant = cg_quant_rows_kernel(c, g->kind, rows, k, d), fn = quant ? cg_gemm_kernel(c, g, d) : NULL;
  LLVMValueRef scratch = fn ? cg_scratch_ptr(c, n, d) : NULL, x = scratch ? cg_value_ptr(c, n->in[0], d) : NULL;
  LLVMValueRef args[7] = {scratch, cg_weights_ptr(c, packed), LLVMConstNull(c->t_ptr), LLVMConstNull(c->t_ptr), NULL,
                          colq >= 0 ? cg_weights_ptr(c, colq) : LLVMConstNull(c->t_ptr), NULL};
  if (!x) return -1;
  for (int i = 2; i < 4; i++)
    if (n->n_in > i && n->in[i] && !(args[i] = cg_value_ptr(c, n->in[i], d))) return -1;
  if (!(args[4] = cg_value_ptr(c, n->out[0], d))) return -1;
  LLVMValueRef off = cg_i64(c, q.rowq_off * 4);
  args[6] = LLVMBuildInBoundsGEP2(c->rb, c->t_i8, scratch, &off, 1, "rowq");
  LLVMValueRef qargs[2] = {x, scratch};
  cg_kernel_call_args(c, quant, qargs, 2);
  cg_kernel_call_args(c, fn, args, 7);
  return 0;
}

/* linear(x [..., K], w [K, N], bias [N]?, residual?) {act}:
 * act(x @ w + bias) + residual, the epilogue applied in the GEMM's store. */
int cg_emit_linear(CgCtx *c, const Node *n, Diag *d) {
  if (linalg_f32(n, d)) return -1;
  const Tensor *X = &n->in[0]->t, *W = &n->in[1]->t, *Y = &n->out[0]->t;
  LinearAct act = linear_act_of(n);
  if (act == LINEAR_ACT_INVALID || W->rank != 2 || X->rank < 1)
    return ir_error(d, NULL, n, "unsupported act or operand ranks");
  if (tensor_numel(Y) == 0) return 0;
  /* The output as [batch..., M, N]: a 1-D x is one row. */
  Tensor y2 = *Y;
  if (Y->rank == 1) y2 = (Tensor){DT_F32, 2, {1, Y->dims[0]}, NULL};
  CgGemm g = {.m = y2.dims[y2.rank - 2], .n = W->dims[1], .k = W->dims[0]};
  g.n_batch = y2.rank - 2;
  for (int a = 0; a < g.n_batch; a++) g.batch[a] = y2.dims[a];
  g.act = act == LINEAR_ACT_GELU         ? CG_ACT_GELU
          : act == LINEAR_ACT_GELU_TANH  ? CG_ACT_GELU_TANH
          : act == LINEAR_ACT_QUICK_GELU ? CG_ACT_QUICK_GELU
          : act == LINEAR_ACT_SILU       ? CG_ACT_SILU
          : act == LINEAR_ACT_RELU       ? CG_ACT_RELU
                                         : CG_ACT_NONE;
  g.alpha = g.beta = 1;
  g.a = (CgGemmOperand){0, g.k, 1, {0}};
  cg_gemm_batch_strides(y2.dims, g.n_batch, g.n_batch, g.batch, g.m * g.k, g.a.bs);
  g.y = (CgGemmOperand){4, g.n, 1, {0}};
  cg_gemm_batch_strides(y2.dims, g.n_batch, g.n_batch, g.batch, g.m * g.n, g.y.bs);
  g.pre = n->n_in > 2 && n->in[2] ? (CgGemmOperand){2, 0, 1, {0}} : (CgGemmOperand){-1, 0, 0, {0}};
  g.post = n->n_in > 3 && n->in[3] ? linalg_bcast(3, &n->in[3]->t, &y2) : (CgGemmOperand){-1, 0, 0, {0}};
  if ((g.kind = cg_gemm_kind_of(c, n)) != CG_GEMM_F32) return linear_narrow(c, n, &g, tensor_numel(X) / g.k, d);
  int64_t packed = -1;
  if (cg_value_is_const(c, n->in[1])) {
    if ((packed = linalg_pack(c, &g, W, 0, 0, d)) < 0) return -1;
  } else {
    g.b = (CgGemmOperand){1, g.n, 1, {0}};
  }
  g.b.arg = 1;
  return cg_gemm_call_node(c, n, &g, 4, packed, d);
}
