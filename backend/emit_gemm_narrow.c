/* The bf16 and int8 forms of the GEMM generator (docs/precision.md): the product of one step (cg_gemm.h's
 * CgGemmKind) with the current target's instructions, int8's dequantisation, the kernel that quantises
 * activation rows before a product, and the compile-time packing of narrow weights. The arithmetic is
 * ir/precision.c's, so the reference interpreter checks these kernels. */
#include "cg_gemm.h"
#include <stdlib.h>
#include <string.h>

/* Whether the current target has instruction set `name` (runtime/cpu_features.def's spelling). */
static int has(CgCtx *c, const char *name) {
  size_t n = strlen(name);
  for (const char *p = c->cpu_features; p && (p = strstr(p, name)); p += n)
    if ((p == c->cpu_features || p[-1] == ',') && (p[n] == ',' || p[n] == 0)) return 1;
  return 0;
}

/* Whether the target's GEMM tiles are 512 bits wide (AVX-512). */
static int wide(CgCtx *c) { return cg_gemm_shape(c).nv == 2; }

/* Whether bf16 products use AVX512-BF16's vdpbf16ps. */
static int bf16_dot(CgCtx *c) { return wide(c) && has(c, "avx512bf16"); }

CgGemmKind cg_gemm_kind_for(CgCtx *c, Precision p) {
  return p == PREC_INT8 ? CG_GEMM_INT8 : p != PREC_BF16 ? CG_GEMM_F32 : bf16_dot(c) ? CG_GEMM_BF16 : CG_GEMM_F32_BF16B;
}

CgGemmKind cg_gemm_kind_of(CgCtx *c, const Node *n) { return cg_gemm_kind_for(c, ir_node_precision(n)); }

int64_t cg_gemm_narrow_k(CgGemmKind kind, const QuantLayout *q) { return kind == CG_GEMM_F32_BF16B ? 2 * q->steps : q->steps; }

static Precision kind_precision(CgGemmKind k) {
  return k == CG_GEMM_INT8 ? PREC_INT8 : k == CG_GEMM_F32 ? PREC_FP32 : PREC_BF16;
}

LLVMTypeRef cg_gemm_acc_type(CgCtx *c, CgGemmKind kind) { return cg_vec_type(c, kind == CG_GEMM_INT8 ? DT_I32 : DT_F32); }

/* <n x ty> */
static LLVMTypeRef vec(LLVMTypeRef ty, unsigned n) { return LLVMVectorType(ty, n); }

/* Lanes [first, first + n) of x. */
static LLVMValueRef lanes(CgCtx *c, LLVMValueRef x, int first, int n) {
  LLVMValueRef idx[64];
  for (int i = 0; i < n; i++) idx[i] = LLVMConstInt(c->t_i32, (unsigned long long)(first + i), 0);
  return LLVMBuildShuffleVector(c->b, x, LLVMGetUndef(LLVMTypeOf(x)), LLVMConstVector(idx, (unsigned)n), "");
}

/* x and y (equal types) side by side. */
static LLVMValueRef join(CgCtx *c, LLVMValueRef x, LLVMValueRef y) {
  unsigned n = LLVMGetVectorSize(LLVMTypeOf(x));
  LLVMValueRef idx[64];
  for (unsigned i = 0; i < 2 * n; i++) idx[i] = LLVMConstInt(c->t_i32, i, 0);
  return LLVMBuildShuffleVector(c->b, x, y, LLVMConstVector(idx, 2 * n), "");
}

/* Sum of every group of 4 consecutive products of u8 a and s8 b (<64 x i8> each) as <16 x i32>, in plain
 * IR (no assumption on the instruction set). */
static LLVMValueRef dot4_plain(CgCtx *c, LLVMValueRef a, LLVMValueRef b) {
  LLVMTypeRef v64 = vec(c->t_i32, 64);
  LLVMValueRef p = LLVMBuildMul(c->b, LLVMBuildZExt(c->b, a, v64, ""), LLVMBuildSExt(c->b, b, v64, ""), "");
  LLVMValueRef sum = NULL;
  for (int t = 0; t < 4; t++) {
    LLVMValueRef idx[16];
    for (int i = 0; i < 16; i++) idx[i] = LLVMConstInt(c->t_i32, (unsigned long long)(4 * i + t), 0);
    LLVMValueRef part = LLVMBuildShuffleVector(c->b, p, LLVMGetUndef(v64), LLVMConstVector(idx, 16), "");
    sum = sum ? LLVMBuildAdd(c->b, sum, part, "") : part;
  }
  return sum;
}

/* <n x i16> of ones: vpmaddwd by them sums pairs of int16 into int32. */
static LLVMValueRef i16_ones(CgCtx *c, unsigned n) {
  LLVMValueRef one[32];
  for (unsigned i = 0; i < n; i++) one[i] = LLVMConstInt(LLVMInt16TypeInContext(c->ctx), 1, 0);
  return LLVMConstVector(one, n);
}

/* The int8 step: acc + dot4(a, b). a's 4 bytes (one row, 4 k) are multiplied with each column's 4 bytes.
 * VNNI does it in one instruction; AVX2 and AVX-512BW with vpmaddubsw (u8 x s8, pairs summed in int16:
 * cannot saturate, activations stop at 127) then vpmaddwd by 1 (pairs of int16 summed in int32). */
static LLVMValueRef step_int8(CgCtx *c, LLVMValueRef acc, LLVMValueRef a, LLVMValueRef b) {
  LLVMTypeRef v64i8 = vec(c->t_i8, 64);
  LLVMValueRef as = cg_splat(c, LLVMBuildLoad2(c->b, c->t_i32, a, "")); /* <16 x i32>: the row's 4 bytes in every lane */
  if (wide(c) && has(c, "avx512vnni")) {
    LLVMValueRef args[3] = {acc, as, b};
    return cg_intrinsic(c, "llvm.x86.avx512.vpdpbusd.512", NULL, 0, args, 3);
  }
  if (has(c, "avxvnni") || (has(c, "avx512vnni") && has(c, "avx512vl"))) {
    LLVMValueRef half[2];
    for (int h = 0; h < 2; h++) {
      LLVMValueRef args[3] = {lanes(c, acc, 8 * h, 8), lanes(c, as, 8 * h, 8), lanes(c, b, 8 * h, 8)};
      half[h] = cg_intrinsic(c, "llvm.x86.avx512.vpdpbusd.256", NULL, 0, args, 3);
    }
    return join(c, half[0], half[1]);
  }
  LLVMValueRef ab = LLVMBuildBitCast(c->b, as, v64i8, ""), bb = LLVMBuildBitCast(c->b, b, v64i8, "");
  if (wide(c) && has(c, "avx512bw")) {
    LLVMValueRef pa[2] = {ab, bb};
    LLVMValueRef p16 = cg_intrinsic(c, "llvm.x86.avx512.pmaddubs.w.512", NULL, 0, pa, 2);
    LLVMValueRef pw[2] = {p16, i16_ones(c, 32)};
    return LLVMBuildAdd(c->b, acc, cg_intrinsic(c, "llvm.x86.avx512.pmaddw.d.512", NULL, 0, pw, 2), "");
  }
  if (has(c, "avx2")) {
    LLVMValueRef ones = i16_ones(c, 16);
    LLVMValueRef half[2];
    for (int h = 0; h < 2; h++) {
      LLVMValueRef pa[2] = {lanes(c, ab, 32 * h, 32), lanes(c, bb, 32 * h, 32)};
      LLVMValueRef pw[2] = {cg_intrinsic(c, "llvm.x86.avx2.pmadd.ub.sw", NULL, 0, pa, 2), ones};
      half[h] = cg_intrinsic(c, "llvm.x86.avx2.pmadd.wd", NULL, 0, pw, 2);
    }
    return LLVMBuildAdd(c->b, acc, join(c, half[0], half[1]), "");
  }
  return LLVMBuildAdd(c->b, acc, dot4_plain(c, ab, bb), "");
}

/* The bf16 in the low (hi = 0) or high half of each lane of <16 x i32> x, as floats. */
static LLVMValueRef bf16_half(CgCtx *c, LLVMValueRef x, int hi) {
  LLVMValueRef k = LLVMConstInt(c->t_i32, hi ? 0xffff0000u : 16, 0);
  k = LLVMConstVector((LLVMValueRef[CG_VW]){k, k, k, k, k, k, k, k, k, k, k, k, k, k, k, k}, CG_VW);
  LLVMValueRef bits = hi ? LLVMBuildAnd(c->b, x, k, "") : LLVMBuildShl(c->b, x, k, "");
  return LLVMBuildBitCast(c->b, bits, cg_vec_type(c, DT_F32), "");
}

/* The bf16 step with AVX512-BF16: acc + a.lo b.lo + a.hi b.hi per column in one vdpbf16ps. */
static LLVMValueRef step_bf16(CgCtx *c, LLVMValueRef acc, LLVMValueRef a, LLVMValueRef b) {
  LLVMTypeRef v32bf = vec(LLVMBFloatTypeInContext(c->ctx), 32);
  LLVMValueRef pair = LLVMBuildLoad2(c->b, c->t_i32, a, "");
  LLVMValueRef args[3] = {acc, LLVMBuildBitCast(c->b, cg_splat(c, pair), v32bf, ""), LLVMBuildBitCast(c->b, b, v32bf, "")};
  return cg_intrinsic(c, "llvm.x86.avx512bf16.dpbf16ps.512", NULL, 0, args, 3);
}

LLVMValueRef cg_gemm_narrow_step(CgCtx *c, CgGemmKind kind, LLVMValueRef acc, LLVMValueRef a, LLVMValueRef b) {
  return kind == CG_GEMM_INT8 ? step_int8(c, acc, a, b) : step_bf16(c, acc, a, b);
}

LLVMValueRef cg_gemm_widen_bf16(CgCtx *c, LLVMValueRef pairs, int hi) { return bf16_half(c, pairs, hi); }

LLVMValueRef cg_gemm_dequant(CgCtx *c, LLVMValueRef acc, LLVMValueRef row_scale, LLVMValueRef zero,
                             LLVMValueRef col_scale, LLVMValueRef colsum) {
  LLVMValueRef sum = LLVMBuildSub(c->b, acc, LLVMBuildMul(c->b, cg_splat(c, zero), colsum, ""), "");
  LLVMValueRef scale = LLVMBuildFMul(c->b, cg_splat(c, row_scale), col_scale, "");
  return LLVMBuildFMul(c->b, LLVMBuildSIToFP(c->b, sum, cg_vec_type(c, DT_F32), ""), scale, "");
}

/* ---- quantising activation rows ---- */

/* A splat of float constant v like x. */
static LLVMValueRef fconst(CgCtx *c, double v) { return cg_splat(c, LLVMConstReal(c->t_f32, v)); }

/* Rounds integer-range floats to the nearest integer, ties to even, as nearbyintf does: adding and
 * subtracting 1.5 * 2^23 leaves no fraction bits for |x| < 2^22 (every value here is within +-2^8), in
 * two instructions on any SSE level (llvm.roundeven needs SSE4.1 or a libm call). */
static LLVMValueRef round_even(CgCtx *c, LLVMValueRef x) {
  LLVMValueRef m = fconst(c, 12582912.0);
  return LLVMBuildFSub(c->b, LLVMBuildFAdd(c->b, x, m, ""), m, "");
}

/* x clamped to [lo, hi] with NaN giving lo, as ir/precision.c's clamp_q. */
static LLVMValueRef clamp_q(CgCtx *c, LLVMValueRef x, double lo, double hi) {
  LLVMValueRef l = fconst(c, lo), h = fconst(c, hi);
  x = LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealOGE, x, l, ""), x, l, "");
  return LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealOLE, x, h, ""), x, h, "");
}

/* The 16 floats of the row at p from column j (lanes past k are 0). */
static LLVMValueRef load_row(CgCtx *c, LLVMValueRef p, LLVMValueRef j, int64_t k) {
  LLVMValueRef mask = cg_tail_mask(c, LLVMBuildSub(c->b, cg_i64(c, k), j, ""));
  LLVMTypeRef vt = cg_vec_type(c, DT_F32), tys[2] = {vt, c->t_ptr};
  LLVMValueRef args[4] = {cg_gep(c, DT_F32, p, j), LLVMConstInt(c->t_i32, 4, 0), mask, LLVMConstNull(vt)};
  return cg_intrinsic(c, "llvm.masked.load", tys, 2, args, 4);
}

/* Reduces vector x with the intrinsic `name` (llvm.vector.reduce.fmin/fmax). */
static LLVMValueRef reduce(CgCtx *c, const char *name, LLVMValueRef x) {
  LLVMTypeRef vt = LLVMTypeOf(x);
  return cg_intrinsic(c, name, &vt, 1, &x, 1);
}

/* One int8 row: its scale and zero point (ir_quant_row_int8), then the bytes. */
static void quant_row_int8(CgCtx *c, LLVMValueRef x, LLVMValueRef q, LLVMValueRef rowq, int64_t k, int64_t steps) {
  LLVMTypeRef vt = cg_vec_type(c, DT_F32);
  LLVMValueRef zero = LLVMConstNull(vt);
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(c->b);
  CgLoop l = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, k), CG_VW);
  LLVMBasicBlockRef body = LLVMGetInsertBlock(c->b);
  LLVMPositionBuilderBefore(c->b, LLVMGetNextInstruction(l.iv)); /* the running min, max and poison: header phis */
  LLVMValueRef lo = LLVMBuildPhi(c->b, vt, "lo"), hi = LLVMBuildPhi(c->b, vt, "hi"), po = LLVMBuildPhi(c->b, vt, "poison");
  LLVMPositionBuilderAtEnd(c->b, body);
  LLVMValueRef xv = load_row(c, x, l.iv, k);
  LLVMValueRef lo2 = LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealOLT, xv, lo, ""), xv, lo, "");
  LLVMValueRef hi2 = LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealOGT, xv, hi, ""), xv, hi, "");
  LLVMValueRef po2 = LLVMBuildFAdd(c->b, po, LLVMBuildFMul(c->b, xv, zero, ""), "");
  body = LLVMGetInsertBlock(c->b);
  LLVMValueRef phis[3] = {lo, hi, po}, in0[3] = {zero, zero, zero}, in1[3] = {lo2, hi2, po2};
  for (int i = 0; i < 3; i++) {
    LLVMAddIncoming(phis[i], &in0[i], &pre, 1);
    LLVMAddIncoming(phis[i], &in1[i], &body, 1);
  }
  cg_loop_end(c, &l);
  /* the loop exits from its header, where the phis hold the final values */
  LLVMValueRef slo = reduce(c, "llvm.vector.reduce.fmin", lo), shi = reduce(c, "llvm.vector.reduce.fmax", hi);
  /* an ordered sum keeps a NaN lane (reduce.fmin/fmax would skip it): NaN when x has a NaN or an infinity */
  LLVMTypeRef vt1 = LLVMTypeOf(po);
  LLVMValueRef sum_args[2] = {LLVMConstReal(c->t_f32, -0.0), po};
  LLVMValueRef spo = cg_intrinsic(c, "llvm.vector.reduce.fadd", &vt1, 1, sum_args, 2);
  LLVMValueRef range = LLVMBuildFDiv(c->b, LLVMBuildFSub(c->b, shi, slo, ""), LLVMConstReal(c->t_f32, IR_INT8_ACT_MAX), "");
  LLVMValueRef s = LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealOGT, shi, slo, ""), range, LLVMConstReal(c->t_f32, 1), "");
  s = LLVMBuildFAdd(c->b, s, spo, "scale");
  LLVMValueRef sv = cg_splat(c, s);
  LLVMValueRef zv = clamp_q(c, round_even(c, LLVMBuildFDiv(c->b, LLVMBuildFNeg(c->b, cg_splat(c, slo), ""), sv, "")), 0,
                            IR_INT8_ACT_MAX);
  LLVMValueRef z = LLVMBuildExtractElement(c->b, zv, LLVMConstInt(c->t_i32, 0, 0), "zero");
  LLVMBuildStore(c->b, s, rowq);
  LLVMBuildStore(c->b, LLVMBuildFPToSI(c->b, z, c->t_i32, ""), cg_gep(c, DT_F32, rowq, cg_i64(c, 1)));
  LLVMTypeRef v16i8 = vec(c->t_i8, 16), tys[2] = {v16i8, c->t_ptr};
  CgLoop w = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, 4 * steps), CG_VW);
  LLVMValueRef xq = clamp_q(c, LLVMBuildFAdd(c->b, round_even(c, LLVMBuildFDiv(c->b, load_row(c, x, w.iv, k), sv, "")), zv, ""),
                            0, IR_INT8_ACT_MAX);
  LLVMValueRef inside = cg_tail_mask(c, LLVMBuildSub(c->b, cg_i64(c, k), w.iv, "")); /* past k: 0 */
  LLVMValueRef bytes = LLVMBuildSelect(c->b, inside, LLVMBuildFPToUI(c->b, xq, v16i8, ""), LLVMConstNull(v16i8), "");
  LLVMValueRef args[4] = {bytes, LLVMBuildGEP2(c->b, c->t_i8, q, &w.iv, 1, ""), LLVMConstInt(c->t_i32, 1, 0),
                          cg_tail_mask(c, LLVMBuildSub(c->b, cg_i64(c, 4 * steps), w.iv, ""))};
  cg_intrinsic(c, "llvm.masked.store", tys, 2, args, 4);
  cg_loop_end(c, &w);
}

/* One bf16 row: each value rounded to nearest even bf16 (ir_bf16_round), two per word (pairs) or as floats. */
static void quant_row_bf16(CgCtx *c, LLVMValueRef x, LLVMValueRef q, int64_t k, int64_t steps, int pairs) {
  LLVMTypeRef vi = cg_vec_type(c, DT_I32), v16i16 = vec(LLVMInt16TypeInContext(c->ctx), 16), tys[2] = {v16i16, c->t_ptr};
  CgLoop w = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, 2 * steps), CG_VW);
  LLVMValueRef u = LLVMBuildBitCast(c->b, load_row(c, x, w.iv, k), vi, "");
  LLVMValueRef expo = cg_splat(c, LLVMConstInt(c->t_i32, 0x7f800000u, 0)), top = cg_splat(c, LLVMConstInt(c->t_i32, 0xffff0000u, 0));
  LLVMValueRef special = LLVMBuildICmp(c->b, LLVMIntEQ, LLVMBuildAnd(c->b, u, expo, ""), expo, ""); /* inf or NaN */
  LLVMValueRef nan = LLVMBuildICmp(c->b, LLVMIntNE, LLVMBuildAnd(c->b, u, cg_splat(c, LLVMConstInt(c->t_i32, 0x007fffff, 0)), ""),
                                   LLVMConstNull(vi), "");
  LLVMValueRef quiet = LLVMBuildOr(c->b, u, cg_splat(c, LLVMConstInt(c->t_i32, 0x00400000, 0)), "");
  LLVMValueRef odd = LLVMBuildAnd(c->b, LLVMBuildLShr(c->b, u, cg_splat(c, LLVMConstInt(c->t_i32, 16, 0)), ""),
                                  cg_splat(c, LLVMConstInt(c->t_i32, 1, 0)), "");
  LLVMValueRef rounded = LLVMBuildAdd(c->b, u, LLVMBuildAdd(c->b, cg_splat(c, LLVMConstInt(c->t_i32, 0x7fff, 0)), odd, ""), "");
  LLVMValueRef r = LLVMBuildSelect(c->b, special, LLVMBuildSelect(c->b, nan, quiet, u, ""), rounded, "");
  r = LLVMBuildAnd(c->b, r, top, "");
  LLVMValueRef mask = cg_tail_mask(c, LLVMBuildSub(c->b, cg_i64(c, 2 * steps), w.iv, "")); /* lanes past k are 0 */
  if (pairs) {
    LLVMValueRef h = LLVMBuildTrunc(c->b, LLVMBuildLShr(c->b, r, cg_splat(c, LLVMConstInt(c->t_i32, 16, 0)), ""), v16i16, "");
    LLVMValueRef args[4] = {h, LLVMBuildGEP2(c->b, LLVMInt16TypeInContext(c->ctx), q, &w.iv, 1, ""),
                            LLVMConstInt(c->t_i32, 2, 0), mask};
    cg_intrinsic(c, "llvm.masked.store", tys, 2, args, 4);
  } else {
    cg_store_vec(c, DT_F32, cg_gep(c, DT_F32, q, w.iv), LLVMBuildBitCast(c->b, r, cg_vec_type(c, DT_F32), ""), mask);
  }
  cg_loop_end(c, &w);
}

LLVMValueRef cg_quant_rows_kernel(CgCtx *c, CgGemmKind kind, int64_t rows, int64_t k, Diag *d) {
  char key[128];
  snprintf(key, sizeof key, "quant_rows.kind%d.%lldx%lld", (int)kind, (long long)rows, (long long)k);
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (fn || !(fn = cg_kernel_begin(c, key, 2, d))) return fn;
  QuantLayout q = ir_quant_layout(kind_precision(kind), rows, k);
  LLVMValueRef begin, end;
  cg_kernel_parallel(c, rows, 4 * k, &begin, &end);
  CgLoop l = cg_loop_begin(c, begin, end, 1);
  LLVMValueRef x = cg_gep(c, DT_F32, c->args[0], LLVMBuildMul(c->b, l.iv, cg_i64(c, k), ""));
  LLVMValueRef dst = cg_gep(c, DT_F32, c->args[1], LLVMBuildMul(c->b, l.iv, cg_i64(c, q.row_words), ""));
  if (kind == CG_GEMM_INT8) {
    LLVMValueRef rowq = cg_gep(c, DT_F32, c->args[1], LLVMBuildAdd(c->b, cg_i64(c, q.rowq_off), LLVMBuildMul(c->b, l.iv, cg_i64(c, 2), ""), ""));
    quant_row_int8(c, x, dst, rowq, k, q.steps);
  } else {
    quant_row_bf16(c, x, dst, k, q.steps, kind == CG_GEMM_BF16);
  }
  cg_loop_end(c, &l);
  cg_kernel_end(c);
  return fn;
}

/* ---- packing weights ---- */

/* The 32-bit word of step s, column j of w [k, n] for kind (0 past k). */
static uint32_t pack_word(CgGemmKind kind, const float *w, const int8_t *q, int64_t k, int64_t n, int64_t s, int64_t j) {
  uint32_t word = 0;
  if (kind == CG_GEMM_INT8) {
    for (int t = 0; t < 4 && 4 * s + t < k; t++) word |= (uint32_t)(uint8_t)q[(4 * s + t) * n + j] << (8 * t);
    return word;
  }
  for (int t = 0; t < 2 && 2 * s + t < k; t++) {
    float r = ir_bf16_round(w[(2 * s + t) * n + j]);
    uint32_t bits;
    memcpy(&bits, &r, sizeof bits);
    word |= (bits >> 16) << (16 * t);
  }
  return word;
}

int64_t cg_quant_pack_b(CgCtx *c, CgGemmKind kind, const float *w, int64_t k, int64_t n, int64_t *colq, Diag *d) {
  int64_t nr = cg_gemm_shape(c).nr, npad = (n + nr - 1) / nr * nr, steps = ir_quant_layout(kind_precision(kind), 1, k).steps;
  uint32_t *dst = calloc((size_t)(npad * steps > 0 ? npad * steps : 1), sizeof *dst);
  int8_t *q = kind == CG_GEMM_INT8 ? malloc((size_t)(k * n > 0 ? k * n : 1)) : NULL;
  uint32_t *cols = kind == CG_GEMM_INT8 ? calloc((size_t)(2 * npad), sizeof *cols) : NULL; /* scales, then sums */
  if (!dst || (kind == CG_GEMM_INT8 && (!q || !cols))) {
    free(dst), free(q), free(cols);
    return ir_error(d, c->g->file, NULL, "out of memory packing weights");
  }
  if (q) {
    float *scale = (float *)cols; /* the first npad words */
    ir_quant_weights_int8(w, k, n, q, scale);
    for (int64_t j = 0; j < n; j++) {
      int32_t sum = 0;
      for (int64_t p = 0; p < k; p++) sum += q[p * n + j];
      memcpy(&cols[npad + j], &sum, sizeof sum);
    }
  }
  for (int64_t j = 0; j < n; j++)
    for (int64_t s = 0; s < steps; s++) dst[j / nr * nr * steps + s * nr + j % nr] = pack_word(kind, w, q, k, n, s, j);
  free(q);
  int64_t off = cg_weights_add(c, dst, (uint64_t)(npad * steps > 0 ? npad * steps : 1) * sizeof *dst, d);
  if (off < 0 || !cols) {
    free(cols);
    return off;
  }
  return (*colq = cg_weights_add(c, cols, (uint64_t)(2 * npad) * sizeof *cols, d)) < 0 ? -1 : off;
}
