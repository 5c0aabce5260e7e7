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

/* The n lanes lane[0..n) of the four CG_VW-wide vectors x[0..4) laid end to end: x[0] x[1] and x[2] x[3]
 * joined into two vectors of 2 CG_VW, then one shuffle of those (shufflevector takes two sources). */
static LLVMValueRef cols_pick(CgCtx *c, LLVMValueRef *x, const int *lane, int n) {
  LLVMValueRef idx[4 * CG_VW], wide[2];
  for (int h = 0; h < 2; h++) {
    for (int i = 0; i < 2 * CG_VW; i++) idx[i] = LLVMConstInt(c->t_i32, (unsigned)i, 0);
    wide[h] = LLVMBuildShuffleVector(c->b, x[2 * h], x[2 * h + 1], LLVMConstVector(idx, 2 * CG_VW), "");
  }
  for (int i = 0; i < n; i++) idx[i] = LLVMConstInt(c->t_i32, (unsigned)lane[i], 0);
  return LLVMBuildShuffleVector(c->b, wide[0], wide[1], LLVMConstVector(idx, (unsigned)n), "");
}

LLVMValueRef cg_load_cols(CgCtx *c, LLVMValueRef row, LLVMValueRef first, LLVMValueRef idx, int64_t stride,
                          LLVMValueRef mask, LLVMValueRef fill) {
  LLVMTypeRef vt = cg_vec_type(c, DT_F32), pt = c->t_ptr;
  if (stride >= 2 && stride <= CG_MAX_LOAD_STRIDE) {
    /* A 16-lane gather is a load per lane (on a Zen 4 MaxViT's depthwise 3x3 conv of stride 2 ran 20 times
     * slower per FLOP than the one of stride 1); `stride` masked loads of consecutive columns and shuffles
     * are not. Column first + e (load e / CG_VW) is read only when e is a multiple of stride and lane
     * e / stride is on, so no column is touched that the gather would not touch. */
    LLVMValueRef part[4], off = LLVMConstNull(LLVMVectorType(c->t_i1, CG_VW)), pick[CG_VW];
    for (int k = 0; k < 4; k++) {
      if (k >= stride) {
        part[k] = fill; /* never picked */
        continue;
      }
      for (int j = 0; j < CG_VW; j++) {
        int e = k * CG_VW + j; /* CG_VW selects a lane of `off` */
        pick[j] = LLVMConstInt(c->t_i32, (unsigned)(e % stride ? CG_VW : e / stride), 0);
      }
      LLVMValueRef m = LLVMBuildShuffleVector(c->b, mask, off, LLVMConstVector(pick, CG_VW), "");
      LLVMValueRef at = LLVMBuildAdd(c->b, first, cg_i64(c, k * CG_VW), "");
      LLVMTypeRef tys[2] = {vt, pt};
      LLVMValueRef args[4] = {LLVMBuildGEP2(c->b, c->t_f32, row, &at, 1, ""), LLVMConstInt(c->t_i32, 4, 0), m, fill};
      part[k] = cg_intrinsic(c, "llvm.masked.load", tys, 2, args, 4);
    }
    int lane[CG_VW];
    for (int l = 0; l < CG_VW; l++) lane[l] = (int)(l * stride);
    return cols_pick(c, part, lane, CG_VW);
  }
  int unit = stride == 1;
  LLVMTypeRef tys[2] = {vt, unit ? pt : LLVMVectorType(pt, CG_VW)};
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
