/* Row helpers: loop-carried values, folds, runs over contiguous elements (see cg_rows.h). */
#include "cg_rows.h"
#include <math.h>

LLVMValueRef cg_carry(CgCtx *c, CgLoop *l, LLVMValueRef init) {
  LLVMValueRef at = LLVMGetFirstInstruction(l->header);
  while (at && LLVMIsAPHINode(at)) at = LLVMGetNextInstruction(at);
  LLVMBuilderRef tb = LLVMCreateBuilderInContext(c->ctx);
  LLVMPositionBuilderBefore(tb, at);
  LLVMValueRef phi = LLVMBuildPhi(tb, LLVMTypeOf(init), "carry");
  LLVMDisposeBuilder(tb);
  LLVMBasicBlockRef pre = LLVMGetIncomingBlock(l->iv, 0);
  LLVMAddIncoming(phi, &init, &pre, 1);
  return phi;
}

void cg_carry_next(CgCtx *c, LLVMValueRef phi, LLVMValueRef next) {
  LLVMBasicBlockRef latch = LLVMGetInsertBlock(c->b);
  LLVMAddIncoming(phi, &next, &latch, 1);
}

LLVMValueRef cg_fold_identity(CgCtx *c, CgFold op, DType t) {
  LLVMTypeRef et = cg_elem_type(c, t);
  if (op == CG_FOLD_SUM) return LLVMConstNull(cg_vec_type(c, t));
  if (t == DT_F32) return cg_splat(c, LLVMConstReal(et, -INFINITY));
  unsigned bits = LLVMGetIntTypeWidth(et);
  return cg_splat(c, LLVMConstInt(et, 1ull << (bits - 1), 0)); /* the minimum: only the sign bit */
}

LLVMValueRef cg_fold(CgCtx *c, CgFold op, DType t, LLVMValueRef acc, LLVMValueRef v, LLVMValueRef mask) {
  if (mask) v = LLVMBuildSelect(c->b, mask, v, cg_fold_identity(c, op, t), "");
  if (op == CG_FOLD_SUM) return t == DT_F32 ? LLVMBuildFAdd(c->b, acc, v, "") : LLVMBuildAdd(c->b, acc, v, "");
  LLVMTypeRef vt = LLVMTypeOf(acc);
  LLVMValueRef args[2] = {acc, v};
  return cg_intrinsic(c, t == DT_F32 ? "llvm.maximum" : "llvm.smax", &vt, 1, args, 2);
}

LLVMValueRef cg_fold_lanes(CgCtx *c, CgFold op, DType t, LLVMValueRef v) {
  LLVMTypeRef vt = LLVMTypeOf(v);
  if (t != DT_F32) {
    const char *name = op == CG_FOLD_SUM ? "llvm.vector.reduce.add" : "llvm.vector.reduce.smax";
    return cg_intrinsic(c, name, &vt, 1, &v, 1);
  }
  if (op == CG_FOLD_MAX) return cg_intrinsic(c, "llvm.vector.reduce.fmaximum", &vt, 1, &v, 1);
  /* A tree of adds (reassoc), not 16 in a row. */
  LLVMValueRef args[2] = {LLVMConstReal(c->t_f32, -0.0), v};
  LLVMValueRef s = cg_intrinsic(c, "llvm.vector.reduce.fadd", &vt, 1, args, 2);
  LLVMSetFastMathFlags(s, LLVMFastMathAllowReassoc);
  return s;
}

int cg_axis(const Node *n, int rank, Diag *d) {
  int64_t a = ir_attr_i(n, "axis", -1);
  if (a < -rank || a >= rank) return ir_error(d, NULL, n, "axis %lld is out of range for rank %d", (long long)a, rank);
  return (int)(a < 0 ? a + rank : a);
}

void cg_fill_kernel(CgCtx *c, int64_t count, DType t, LLVMValueRef v, const int *args, int n) {
  LLVMValueRef begin, end;
  cg_kernel_parallel(c, count, n, &begin, &end);
  CgLoop l = cg_loop_begin(c, begin, end, 1);
  for (int k = 0; k < n; k++) LLVMBuildStore(c->b, v, cg_gep(c, t, c->args[args[k]], l.iv));
  cg_loop_end(c, &l);
}

LLVMValueRef cg_run(CgCtx *c, int64_t count, LLVMValueRef acc, CgRunFn f, void *env) {
  int64_t full = count & -(int64_t)CG_VW, rem = count - full;
  if (full == CG_VW) {
    acc = f(c, env, cg_i64(c, 0), NULL, acc);
  } else if (full > 0) {
    CgLoop l = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, full), CG_VW);
    LLVMValueRef phi = acc ? cg_carry(c, &l, acc) : NULL;
    LLVMValueRef next = f(c, env, l.iv, NULL, phi);
    if (phi) cg_carry_next(c, phi, next);
    cg_loop_end(c, &l);
    acc = phi;
  }
  if (rem) acc = f(c, env, cg_i64(c, full), cg_tail_mask(c, cg_i64(c, rem)), acc);
  return acc;
}
