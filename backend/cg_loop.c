/* Builder helpers that kernels are written with: counted loops, branches,
 * element and vector types, vector loads and stores with masked tails, and
 * intrinsic calls. All build at c->b. */
#include "cg_ctx.h"
#include <string.h>

CgLoop cg_loop_begin(CgCtx *c, LLVMValueRef begin, LLVMValueRef end, int64_t step) {
  CgLoop l = {0};
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(c->b);
  l.header = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "loop");
  LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "body");
  l.exit = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "done");
  l.step = step;
  LLVMBuildBr(c->b, l.header);
  LLVMPositionBuilderAtEnd(c->b, l.header);
  l.iv = LLVMBuildPhi(c->b, c->t_i64, "i");
  LLVMAddIncoming(l.iv, &begin, &pre, 1);
  LLVMBuildCondBr(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, l.iv, end, ""), body, l.exit);
  LLVMPositionBuilderAtEnd(c->b, body);
  return l;
}

void cg_loop_end(CgCtx *c, CgLoop *l) {
  LLVMValueRef next = LLVMBuildNSWAdd(c->b, l->iv, cg_i64(c, l->step), "");
  LLVMBasicBlockRef latch = LLVMGetInsertBlock(c->b);
  LLVMAddIncoming(l->iv, &next, &latch, 1);
  LLVMBuildBr(c->b, l->header);
  LLVMPositionBuilderAtEnd(c->b, l->exit);
}

LLVMBasicBlockRef cg_if_begin(CgCtx *c, LLVMValueRef cond) {
  LLVMBasicBlockRef then = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "then");
  LLVMBasicBlockRef cont = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "endif");
  LLVMBuildCondBr(c->b, cond, then, cont);
  LLVMPositionBuilderAtEnd(c->b, then);
  return cont;
}

void cg_if_end(CgCtx *c, LLVMBasicBlockRef cont) {
  LLVMBuildBr(c->b, cont);
  LLVMPositionBuilderAtEnd(c->b, cont);
}

LLVMValueRef cg_i64(CgCtx *c, int64_t v) { return LLVMConstInt(c->t_i64, (unsigned long long)v, 1); }

LLVMValueRef cg_ptr_slot(CgCtx *c, LLVMBuilderRef b, LLVMValueRef array, int64_t i) {
  LLVMValueRef idx = cg_i64(c, i);
  return LLVMBuildInBoundsGEP2(b, c->t_ptr, array, &idx, 1, "");
}

LLVMTypeRef cg_elem_type(CgCtx *c, DType t) {
  switch (t) {
  case DT_F32: return c->t_f32;
  case DT_I64: return c->t_i64;
  case DT_I32: return c->t_i32;
  default: return c->t_i8;
  }
}

LLVMTypeRef cg_vec_type(CgCtx *c, DType t) { return LLVMVectorType(cg_elem_type(c, t), CG_VW); }

LLVMValueRef cg_gep(CgCtx *c, DType t, LLVMValueRef base, LLVMValueRef idx) {
  return LLVMBuildInBoundsGEP2(c->b, cg_elem_type(c, t), base, &idx, 1, "");
}

/* The alignment the data of dtype t is known to have at an arbitrary element. */
static unsigned cg_elem_align(DType t) { return (unsigned)dt_size(t); }

LLVMValueRef cg_load_vec(CgCtx *c, DType t, LLVMValueRef p, LLVMValueRef mask) {
  LLVMTypeRef vt = cg_vec_type(c, t);
  if (!mask) {
    LLVMValueRef v = LLVMBuildLoad2(c->b, vt, p, "");
    LLVMSetAlignment(v, cg_elem_align(t));
    return v;
  }
  LLVMTypeRef tys[2] = {vt, c->t_ptr};
  LLVMValueRef args[4] = {p, LLVMConstInt(c->t_i32, cg_elem_align(t), 0), mask, LLVMGetUndef(vt)};
  return cg_intrinsic(c, "llvm.masked.load", tys, 2, args, 4);
}

void cg_store_vec(CgCtx *c, DType t, LLVMValueRef p, LLVMValueRef v, LLVMValueRef mask) {
  if (!mask) {
    LLVMSetAlignment(LLVMBuildStore(c->b, v, p), cg_elem_align(t));
    return;
  }
  LLVMTypeRef tys[2] = {cg_vec_type(c, t), c->t_ptr};
  LLVMValueRef args[4] = {v, p, LLVMConstInt(c->t_i32, cg_elem_align(t), 0), mask};
  cg_intrinsic(c, "llvm.masked.store", tys, 2, args, 4);
}

LLVMValueRef cg_tail_mask(CgCtx *c, LLVMValueRef remaining) {
  LLVMValueRef lanes[CG_VW];
  for (int i = 0; i < CG_VW; i++) lanes[i] = cg_i64(c, i);
  return LLVMBuildICmp(c->b, LLVMIntSLT, LLVMConstVector(lanes, CG_VW), cg_splat(c, remaining), "tail");
}

LLVMValueRef cg_splat(CgCtx *c, LLVMValueRef s) {
  LLVMTypeRef vt = LLVMVectorType(LLVMTypeOf(s), CG_VW);
  LLVMValueRef one = LLVMBuildInsertElement(c->b, LLVMGetUndef(vt), s, LLVMConstInt(c->t_i32, 0, 0), "");
  return LLVMBuildShuffleVector(c->b, one, LLVMGetUndef(vt), LLVMConstNull(LLVMVectorType(c->t_i32, CG_VW)), "");
}

LLVMValueRef cg_load_cols(CgCtx *c, LLVMValueRef row, LLVMValueRef first, LLVMValueRef idx, int unit, LLVMValueRef mask,
                          LLVMValueRef fill) {
  LLVMTypeRef vt = cg_vec_type(c, DT_F32), tys[2] = {vt, unit ? c->t_ptr : LLVMVectorType(c->t_ptr, CG_VW)};
  LLVMValueRef args[4] = {LLVMBuildGEP2(c->b, c->t_f32, row, unit ? &first : &idx, 1, ""), LLVMConstInt(c->t_i32, 4, 0),
                          mask, fill};
  return cg_intrinsic(c, unit ? "llvm.masked.load" : "llvm.masked.gather", tys, 2, args, 4);
}

LLVMValueRef cg_intrinsic(CgCtx *c, const char *name, LLVMTypeRef *tys, int n_tys, LLVMValueRef *args, int n_args) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMValueRef fn = LLVMGetIntrinsicDeclaration(c->mod, id, tys, (size_t)n_tys);
  LLVMTypeRef fty = LLVMIntrinsicGetType(c->ctx, id, tys, (size_t)n_tys);
  return LLVMBuildCall2(c->b, fty, fn, args, (unsigned)n_args, "");
}
