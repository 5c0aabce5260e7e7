/* attention(x [B, N, C], w_qkv [C, 3E], b_qkv?, bias?, q?) {heads, scale} in three kernels over one
 * scratch block (qkv [B, N, 3E] — k | v [B, N, 2E] when the query q is an input — then k packed per
 * batch and head into GEMM panels):
 *   1. qkv = x @ w_qkv + b_qkv, the GEMM kernel with w_qkv packed at compile time;
 *   2. k^T of every (batch, head) packed into panels of NR tokens;
 *   3. per (batch, head, block of MR query rows): s = scale q k^T (+ the
 *      score bias, added in the GEMM's epilogue) into a stack buffer (GEMM
 *      block), p = exp(s - row max) in place (the softmax emitter's first two
 *      passes), and out = (p v) / row sum (GEMM block, the division in its
 *      epilogue). The queries are qkv's q columns, or rows of q. */
#include "cg_gemm.h"
#include "cg_rows.h"
#include <assert.h>
#include <math.h>
#include <stdio.h>

#define ATTN_MAX_NR 32 /* the widest GEMM panel of any target, for the scratch size */

/* The dims of an attention node (ir_attention_shape) and its scratch layout. */
typedef struct AttnDims {
  AttnShape s;
  int64_t koff, voff;     /* k's and v's first column in a row of the projection (wcols floats wide) */
  int64_t qkv_floats;     /* the projection's part of the scratch, rounded to 16 floats */
  int64_t pack_floats;    /* one packed k^T of a (batch, head) */
} AttnDims;

/* Reads and checks the dims of n (the packed size for panels of nr tokens); -1 with d filled. */
static int attn_dims(const Node *n, int64_t nr, AttnDims *a, Diag *d) {
  const char *why = ir_attention_shape(n, &a->s);
  if (why) return d ? ir_error(d, NULL, n, "%s", why) : -1;
  a->koff = a->s.wcols - 2 * a->s.e;
  a->voff = a->s.wcols - a->s.e;
  a->qkv_floats = (a->s.b * a->s.n * a->s.wcols + 15) / 16 * 16;
  a->pack_floats = (a->s.n + nr - 1) / nr * nr * a->s.hd;
  return 0;
}

uint64_t cg_scratch_attention(const Node *n) {
  AttnDims a;
  if (attn_dims(n, ATTN_MAX_NR, &a, NULL)) return 0;
  uint64_t bytes = (uint64_t)(a.qkv_floats + a.s.b * a.s.heads * a.pack_floats) * sizeof(float) +
                   (uint64_t)ir_quant_layout(ir_node_precision(n), a.s.b * a.s.n, a.s.c).bytes; /* bf16/int8: x's rows */
  assert(bytes == plan_scratch_bytes(n)); /* the planner's copy of this layout, for `vitc ir --stats` */
  return bytes;
}

/* Splits i64 x into x / den and x % den. */
static LLVMValueRef attn_divmod(CgCtx *c, LLVMValueRef x, int64_t den, LLVMValueRef *rem) {
  *rem = LLVMBuildURem(c->b, x, cg_i64(c, den), "");
  return LLVMBuildUDiv(c->b, x, cg_i64(c, den), "");
}

/* Transposes the 16 x 16 block whose row i is x[i], in place: four rounds of swapping the off-diagonal
 * halves of 2 x 2 blocks of 8, 4, 2 and 1 lanes (16 two-source shuffles each). */
static void attn_transpose16(CgCtx *c, LLVMValueRef *x) {
  for (int half = CG_VW / 2; half >= 1; half /= 2) {
    LLVMValueRef lo[CG_VW], hi[CG_VW]; /* shuffle indices: < 16 from the first row, >= 16 from the second */
    for (int l = 0; l < CG_VW; l++) {
      lo[l] = LLVMConstInt(c->t_i32, (unsigned)(l & half ? CG_VW + l - half : l), 0);
      hi[l] = LLVMConstInt(c->t_i32, (unsigned)(l & half ? CG_VW + l : l + half), 0);
    }
    LLVMValueRef lo_mask = LLVMConstVector(lo, CG_VW), hi_mask = LLVMConstVector(hi, CG_VW);
    for (int i = 0; i < CG_VW; i++) {
      if (i & half) continue;
      LLVMValueRef a = x[i], b = x[i + half];
      x[i] = LLVMBuildShuffleVector(c->b, a, b, lo_mask, "");
      x[i + half] = LLVMBuildShuffleVector(c->b, a, b, hi_mask, "");
    }
  }
}

/* Kernel 2 (args: scratch): for each (batch, head, panel of NR tokens), the
 * panel's k^T: for each of the head's hd columns, NR tokens' k values, zero
 * past the last token. Blocks of 16 tokens x 16 columns are read as rows and
 * transposed in registers (a 16-lane gather per column took a fifth longer). */
static LLVMValueRef attn_pack_kernel(CgCtx *c, const AttnDims *a, Diag *d) {
  const AttnShape *as = &a->s;
  CgGemmShape s = cg_gemm_shape(c);
  int64_t panels = (as->n + s.nr - 1) / s.nr, ew = as->wcols;
  char key[160];
  snprintf(key, sizeof key, "attn_pack_k.%lldx%lldx%lld.w%lld.h%lld.nr%d", (long long)as->b, (long long)as->n,
           (long long)as->e, (long long)ew, (long long)as->heads, s.nr);
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (fn || !(fn = cg_kernel_begin(c, key, 1, d))) return fn;
  LLVMValueRef begin, end, h, jp;
  cg_kernel_parallel(c, as->b * as->heads * panels, as->hd * s.nr, &begin, &end);
  CgLoop l = cg_loop_begin(c, begin, end, 1);
  LLVMValueRef bh = attn_divmod(c, l.iv, panels, &jp), b = attn_divmod(c, bh, as->heads, &h);
  LLVMValueRef tok0 = LLVMBuildMul(c->b, jp, cg_i64(c, s.nr), "");
  LLVMValueRef row = LLVMBuildMul(c->b, LLVMBuildAdd(c->b, LLVMBuildMul(c->b, b, cg_i64(c, as->n), ""), tok0, ""),
                                  cg_i64(c, ew), "");
  LLVMValueRef k0 = cg_gep(c, DT_F32, c->args[0], LLVMBuildAdd(c->b, row, LLVMBuildAdd(c->b, cg_i64(c, a->koff),
                                                                      LLVMBuildMul(c->b, h, cg_i64(c, as->hd), ""), ""), ""));
  LLVMValueRef dst = cg_gep(c, DT_F32, c->args[0],
                            LLVMBuildAdd(c->b, cg_i64(c, a->qkv_floats),
                                         LLVMBuildAdd(c->b, LLVMBuildMul(c->b, bh, cg_i64(c, a->pack_floats), ""),
                                                      LLVMBuildMul(c->b, jp, cg_i64(c, s.nr * as->hd), ""), ""), ""));
  LLVMValueRef left = LLVMBuildSub(c->b, cg_i64(c, as->n), tok0, ""); /* tokens in this panel, from tok0 */
  LLVMTypeRef vt = cg_vec_type(c, DT_F32), tys[2] = {vt, c->t_ptr};
  for (int v = 0; v < s.nv; v++)
    for (int64_t d0 = 0; d0 < as->hd; d0 += CG_VW) {
      int64_t cols = as->hd - d0 < CG_VW ? as->hd - d0 : CG_VW;
      LLVMValueRef cmask = cg_tail_mask(c, cg_i64(c, cols)), x[CG_VW];
      for (int i = 0; i < CG_VW; i++) { /* token 16 v + i's columns [d0, d0 + cols); none past the last token */
        LLVMValueRef in = LLVMBuildICmp(c->b, LLVMIntSLT, cg_i64(c, 16 * v + i), left, "");
        LLVMValueRef mask = LLVMBuildAnd(c->b, cmask, cg_splat(c, in), "");
        LLVMValueRef args[4] = {cg_gep(c, DT_F32, k0, cg_i64(c, (16 * v + i) * ew + d0)), LLVMConstInt(c->t_i32, 4, 0),
                                mask, LLVMConstNull(vt)};
        x[i] = cg_intrinsic(c, "llvm.masked.load", tys, 2, args, 4);
      }
      attn_transpose16(c, x);
      for (int i = 0; i < cols; i++) /* column d0 + i of 16 tokens */
        cg_store_vec(c, DT_F32, cg_gep(c, DT_F32, dst, cg_i64(c, (d0 + i) * s.nr + 16 * v)), x[i], NULL);
    }
  cg_loop_end(c, &l);
  cg_kernel_end(c);
  return fn;
}

/* i64 a * x + y. */
static LLVMValueRef attn_madd(CgCtx *c, LLVMValueRef x, int64_t a, LLVMValueRef y) {
  return LLVMBuildAdd(c->b, LLVMBuildMul(c->b, x, cg_i64(c, a), ""), y, "");
}

/* Query rows [i0, i0 + rows) of (batch b, head h): s, softmax, p v. The kernel's arguments: scratch, out,
 * then the score bias and the query when the node has them (bias_arg, q_arg; -1 when absent). */
static void attn_rows(CgCtx *c, const AttnDims *a, double scale, int bias_arg, int q_arg, LLVMValueRef sbuf,
                      LLVMValueRef inv, LLVMValueRef b, LLVMValueRef h, LLVMValueRef i0, int64_t rows) {
  const AttnShape *as = &a->s;
  int64_t ew = as->wcols, npad = (as->n + CG_VW - 1) / CG_VW * CG_VW;
  LLVMValueRef qkv = c->args[0], out = c->args[1], zero = cg_i64(c, 0);
  LLVMValueRef tok0 = LLVMBuildMul(c->b, b, cg_i64(c, as->n), ""), hcol = LLVMBuildMul(c->b, h, cg_i64(c, as->hd), "");
  LLVMValueRef qrow0 = attn_madd(c, b, as->m, i0); /* this block's first output row (b * M + i0) */
  CgMat qm; /* self-attention: the q columns of qkv; cross-attention: rows of q [Bq, M, E] */
  if (q_arg < 0) {
    qm = (CgMat){cg_gep(c, DT_F32, qkv, attn_madd(c, qrow0, ew, hcol)), ew, 1};
  } else {
    LLVMValueRef qb = as->bq == 1 ? zero : b;
    qm = (CgMat){cg_gep(c, DT_F32, c->args[q_arg], attn_madd(c, attn_madd(c, qb, as->m, i0), as->e, hcol)), as->e, 1};
  }
  LLVMValueRef bh = attn_madd(c, b, as->heads, h);
  LLVMValueRef kp = cg_gep(c, DT_F32, qkv, attn_madd(c, bh, a->pack_floats, cg_i64(c, a->qkv_floats)));
  LLVMValueRef v = cg_gep(c, DT_F32, qkv, attn_madd(c, tok0, ew, LLVMBuildAdd(c->b, cg_i64(c, a->voff), hcol, "")));
  LLVMValueRef o = cg_gep(c, DT_F32, out, attn_madd(c, qrow0, as->e, hcol));
  CgMat none = {NULL, 0, 0}, bias = none;
  if (bias_arg >= 0) { /* rows [i0, i0 + rows) of bias[b % G, h or 0] */
    LLVMValueRef bg = LLVMBuildURem(c->b, b, cg_i64(c, as->bias_g), "");
    LLVMValueRef bh2 = attn_madd(c, bg, as->bias_h, as->bias_h > 1 ? h : zero);
    LLVMValueRef at = attn_madd(c, bh2, as->m * as->n, LLVMBuildMul(c->b, i0, cg_i64(c, as->n), ""));
    bias = (CgMat){cg_gep(c, DT_F32, c->args[bias_arg], at), as->n, 1};
  }
  CgGemmBlock s = {rows, as->n, as->hd, qm, {kp, 0, 0}, {sbuf, npad, 1}, none, bias, 1, scale, 1, CG_ACT_NONE, CG_GEMM_F32, none, NULL, NULL};
  cg_gemm_block(c, &s, zero, cg_i64(c, rows), zero, cg_i64(c, as->n));
  /* exp(s - max) in place; 1 / sum scales the row of p v. The rows' passes share loops, 8 rows with
   * AVX-512's 32 registers (4 with 16): on a Zen 4 the softmax took 1.0 ms of an attention-only model's
   * 16 instead of 1.6 one row at a time. */
  cg_softmax_block_exp(c, sbuf, npad, (int)rows, as->n, cg_gemm_shape(c).nv > 1 ? 8 : 4, inv);
  CgGemmBlock pv = {rows, as->hd, as->n, {sbuf, npad, 1}, {v, ew, 1}, {o, as->e, 1}, none, none, 0, 1, 1, CG_ACT_NONE, CG_GEMM_F32, none, NULL, inv};
  cg_gemm_block(c, &pv, zero, cg_i64(c, rows), zero, cg_i64(c, as->hd));
}

/* Kernel 3 (args: scratch, out, then the score bias and the query when there are): one block of MR query
 * rows of one (batch, head) per work item. */
static LLVMValueRef attn_core_kernel(CgCtx *c, const AttnDims *a, double scale, Diag *d) {
  const AttnShape *as = &a->s;
  CgGemmShape s = cg_gemm_shape(c);
  int64_t blocks = (as->m + s.mr - 1) / s.mr, edge = as->m % s.mr, npad = (as->n + CG_VW - 1) / CG_VW * CG_VW;
  int bias_arg = as->bias_g ? 2 : -1, q_arg = as->cross ? 2 + (as->bias_g > 0) : -1;
  char key[240];
  snprintf(key, sizeof key, "attn_core.%lldx%lldx%lld.w%lld.h%lld.s%.9g.nr%d.bias%lldx%lld.q%lldx%lld",
           (long long)as->b, (long long)as->n, (long long)as->e, (long long)as->wcols, (long long)as->heads, scale, s.nr,
           (long long)as->bias_g, (long long)as->bias_h, (long long)(as->cross ? as->bq : 0), (long long)as->m);
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (fn || !(fn = cg_kernel_begin(c, key, 2 + (bias_arg >= 0) + (q_arg >= 0), d))) return fn;
  LLVMValueRef begin, end, ib, h;
  cg_kernel_parallel(c, as->b * as->heads * blocks, s.mr * as->n * as->hd * 4, &begin, &end);
  LLVMValueRef sbuf = LLVMBuildAlloca(c->b, LLVMArrayType2(c->t_f32, (uint64_t)(s.mr * npad)), "s");
  LLVMSetAlignment(sbuf, CG_ALIGN);
  LLVMValueRef inv = LLVMBuildAlloca(c->b, LLVMArrayType2(c->t_f32, (uint64_t)s.mr), "inv_sum");
  CgLoop l = cg_loop_begin(c, begin, end, 1);
  LLVMValueRef bh = attn_divmod(c, l.iv, blocks, &ib), b = attn_divmod(c, bh, as->heads, &h);
  LLVMValueRef i0 = LLVMBuildMul(c->b, ib, cg_i64(c, s.mr), "i0");
  if (!edge) {
    attn_rows(c, a, scale, bias_arg, q_arg, sbuf, inv, b, h, i0, s.mr);
  } else {
    LLVMBasicBlockRef cont = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "rows_done");
    LLVMBasicBlockRef fullb = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "rows_full");
    LLVMBasicBlockRef edgeb = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "rows_edge");
    LLVMBuildCondBr(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, ib, cg_i64(c, blocks - 1), ""), fullb, edgeb);
    LLVMPositionBuilderAtEnd(c->b, fullb);
    attn_rows(c, a, scale, bias_arg, q_arg, sbuf, inv, b, h, i0, s.mr);
    LLVMBuildBr(c->b, cont);
    LLVMPositionBuilderAtEnd(c->b, edgeb);
    attn_rows(c, a, scale, bias_arg, q_arg, sbuf, inv, b, h, i0, edge);
    LLVMBuildBr(c->b, cont);
    LLVMPositionBuilderAtEnd(c->b, cont);
  }
  cg_loop_end(c, &l);
  cg_kernel_end(c);
  return fn;
}

/* Cross-attention over no keys: every output is 0 (the interpreter's empty sums). */
static int attn_zero(CgCtx *c, const Node *n, Diag *d) {
  uint64_t bytes = tensor_bytes(&n->out[0]->t);
  char key[64];
  snprintf(key, sizeof key, "attn_zero.%llu", (unsigned long long)bytes);
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (!fn) {
    if (!(fn = cg_kernel_begin(c, key, 1, d))) return -1;
    LLVMBuildMemSet(c->b, c->args[0], LLVMConstInt(c->t_i8, 0, 0), cg_i64(c, (int64_t)bytes), 4);
    cg_kernel_end(c);
  }
  LLVMValueRef out = cg_value_ptr(c, n->out[0], d);
  if (!out) return -1;
  cg_kernel_call_args(c, fn, &out, 1);
  return 0;
}

/* Calls the pack and core kernels after the projection (args: scratch, out, score bias?, query?). */
static int attn_call_core(CgCtx *c, const Node *n, const AttnDims *a, LLVMValueRef pack, LLVMValueRef core,
                          LLVMValueRef scratch, LLVMValueRef out, Diag *d) {
  LLVMValueRef cargs[4] = {scratch, out, NULL, NULL};
  int k = 2;
  if (a->s.bias_g && !(cargs[k++] = cg_value_ptr(c, n->in[3], d))) return -1;
  if (a->s.cross && !(cargs[k++] = cg_value_ptr(c, n->in[4], d))) return -1;
  cg_kernel_call_args(c, pack, &scratch, 1);
  cg_kernel_call_args(c, core, cargs, k);
  return 0;
}

/* A bf16 or int8 attention (docs/precision.md): only the projection x @ w_qkv is narrow. x's rows are
 * quantised into the end of the scratch (after qkv and the packed k), then the GEMM of that kind (args:
 * quantised x, w, bias, scratch, int8's column data and row data) and kernels 2 and 3 as in fp32. */
static int attn_narrow(CgCtx *c, const Node *n, const AttnDims *a, CgGemm *g, double scale, Diag *d) {
  const AttnShape *as = &a->s;
  const Value *w = n->in[1];
  if (!cg_value_is_const(c, w))
    return ir_error(d, NULL, n, "precision \"%s\" needs constant weights", ir_attr_s(n, "precision", ""));
  if (g->kind == CG_GEMM_INT8 && as->c > IR_INT8_MAX_K)
    return ir_error(d, NULL, n, "int8 dot products of %lld terms could overflow their int32 sums (at most %d)",
                    (long long)as->c, IR_INT8_MAX_K);
  QuantLayout q = ir_quant_layout(ir_node_precision(n), as->b * as->n, as->c);
  int64_t colq = -1, packed = cg_quant_pack_b(c, g->kind, w->t.data, as->c, as->wcols, &colq, d);
  if (packed < 0) return -1;
  g->k = cg_gemm_narrow_k(g->kind, &q);
  g->b_packed = 1;
  g->a = (CgGemmOperand){0, q.row_words, 1, {0}};
  g->rowq = (CgGemmOperand){5, 2, 0, {0}};
  g->colq_arg = 4;
  g->n_args = 6;
  LLVMValueRef quant = cg_quant_rows_kernel(c, g->kind, as->b * as->n, as->c, d);
  LLVMValueRef proj = quant ? cg_gemm_kernel(c, g, d) : NULL, pack = proj ? attn_pack_kernel(c, a, d) : NULL;
  LLVMValueRef core = pack ? attn_core_kernel(c, a, scale, d) : NULL;
  LLVMValueRef scratch = core ? cg_scratch_ptr(c, n, d) : NULL, x = scratch ? cg_value_ptr(c, n->in[0], d) : NULL;
  LLVMValueRef bias = !x ? NULL : n->n_in > 2 && n->in[2] ? cg_value_ptr(c, n->in[2], d) : LLVMConstNull(c->t_ptr);
  LLVMValueRef out = bias ? cg_value_ptr(c, n->out[0], d) : NULL;
  if (!out) return -1;
  LLVMValueRef off = cg_i64(c, (a->qkv_floats + as->b * as->heads * a->pack_floats) * 4);
  LLVMValueRef xq = LLVMBuildInBoundsGEP2(c->rb, c->t_i8, scratch, &off, 1, "xq");
  off = cg_i64(c, q.rowq_off * 4);
  LLVMValueRef rowq = LLVMBuildInBoundsGEP2(c->rb, c->t_i8, xq, &off, 1, "rowq");
  LLVMValueRef qargs[2] = {x, xq}, pargs[6] = {xq, cg_weights_ptr(c, packed), bias, scratch,
                                               colq >= 0 ? cg_weights_ptr(c, colq) : LLVMConstNull(c->t_ptr), rowq};
  cg_kernel_call_args(c, quant, qargs, 2);
  cg_kernel_call_args(c, proj, pargs, 6);
  return attn_call_core(c, n, a, pack, core, scratch, out, d);
}

int cg_emit_attention(CgCtx *c, const Node *n, Diag *d) {
  AttnDims a;
  for (int i = 0; i < n->n_in; i++)
    if (n->in[i] && n->in[i]->t.dtype != DT_F32) return ir_error(d, NULL, n, "operands must be f32");
  if (attn_dims(n, cg_gemm_shape(c).nr, &a, d)) return -1;
  if (tensor_numel(&n->out[0]->t) == 0) return 0;
  if (a.s.n == 0) return attn_zero(c, n, d);
  double scale = ir_attr_f(n, "scale", (float)(1.0 / sqrt((double)a.s.hd)));
  int has_bias = n->n_in > 2 && n->in[2];
  int64_t ew = a.s.wcols;
  const Value *w = n->in[1];
  CgGemm g = {.m = a.s.b * a.s.n, .n = ew, .k = a.s.c, .alpha = 1, .beta = 1, .n_args = 4};
  g.a = (CgGemmOperand){0, a.s.c, 1, {0}};
  g.b = (CgGemmOperand){1, ew, 1, {0}};
  g.y = (CgGemmOperand){3, ew, 1, {0}};
  g.pre = (CgGemmOperand){has_bias ? 2 : -1, 0, 1, {0}};
  g.post.arg = -1;
  if ((g.kind = cg_gemm_kind_of(c, n)) != CG_GEMM_F32) return attn_narrow(c, n, &a, &g, scale, d);
  int64_t packed = -1;
  if (cg_value_is_const(c, w)) {
    g.b_packed = 1;
    if ((packed = cg_gemm_pack_b(c, w->t.data, 1, a.s.c, ew, 0, d)) < 0) return -1;
  }
  LLVMValueRef proj = cg_gemm_kernel(c, &g, d), pack = proj ? attn_pack_kernel(c, &a, d) : NULL;
  LLVMValueRef core = pack ? attn_core_kernel(c, &a, scale, d) : NULL;
  LLVMValueRef scratch = core ? cg_scratch_ptr(c, n, d) : NULL, x = scratch ? cg_value_ptr(c, n->in[0], d) : NULL;
  LLVMValueRef wp = !x ? NULL : packed >= 0 ? cg_weights_ptr(c, packed) : cg_value_ptr(c, w, d);
  LLVMValueRef bias = !wp ? NULL : has_bias ? cg_value_ptr(c, n->in[2], d) : LLVMConstNull(c->t_ptr);
  LLVMValueRef out = bias ? cg_value_ptr(c, n->out[0], d) : NULL;
  if (!out) return -1;
  LLVMValueRef pargs[4] = {x, wp, bias, scratch};
  cg_kernel_call_args(c, proj, pargs, 4);
  return attn_call_core(c, n, &a, pack, core, scratch, out, d);
}
