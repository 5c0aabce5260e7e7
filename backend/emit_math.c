/* Emitters for the transcendental elementwise ops (exp, erf, tanh, sigmoid,
 * gelu), through the inline vector math of cg_math.c, and for cast. */
#include "cg_math.h"
#include "shape_fused.h"

/* Fails unless node n's input 0 is f32. */
static int need_f32(const Node *n, Diag *d) {
  if (n->in[0]->t.dtype == DT_F32) return 0;
  return ir_error(d, NULL, n, "%s input is not supported by the backend (f32 only)", dt_name(n->in[0]->t.dtype));
}

static LLVMValueRef v_exp(CgCtx *c, const Node *n, LLVMValueRef *x) { (void)n; return cg_math_exp(c, x[0]); }
static LLVMValueRef v_erf(CgCtx *c, const Node *n, LLVMValueRef *x) { (void)n; return cg_math_erf(c, x[0]); }
static LLVMValueRef v_tanh(CgCtx *c, const Node *n, LLVMValueRef *x) { (void)n; return cg_math_tanh(c, x[0]); }
static LLVMValueRef v_sigmoid(CgCtx *c, const Node *n, LLVMValueRef *x) { (void)n; return cg_math_sigmoid(c, x[0]); }
static LLVMValueRef v_gelu(CgCtx *c, const Node *n, LLVMValueRef *x) {
  return cg_math_gelu(c, x[0], gelu_is_tanh(n) == 1);
}

/* An f32 elementwise op computed by f. */
static int unary_f32(CgCtx *c, const Node *n, const char *op, CgElemFn f, Diag *d) {
  return need_f32(n, d) ? -1 : cg_emit_elementwise(c, n, op, f, d);
}

int cg_emit_exp(CgCtx *c, const Node *n, Diag *d) { return unary_f32(c, n, "exp", v_exp, d); }
int cg_emit_erf(CgCtx *c, const Node *n, Diag *d) { return unary_f32(c, n, "erf", v_erf, d); }
int cg_emit_tanh(CgCtx *c, const Node *n, Diag *d) { return unary_f32(c, n, "tanh", v_tanh, d); }
int cg_emit_sigmoid(CgCtx *c, const Node *n, Diag *d) { return unary_f32(c, n, "sigmoid", v_sigmoid, d); }

int cg_emit_gelu(CgCtx *c, const Node *n, Diag *d) {
  int form = gelu_is_tanh(n);
  if (form < 0) return ir_error(d, NULL, n, "unknown approximate \"%s\"", ir_attr_s(n, "approximate", ""));
  return unary_f32(c, n, form ? "gelu_tanh" : "gelu", v_gelu, d);
}

/* ---- cast ---- */

/* Converts a vector of the input's dtype to the output's, like the
 * interpreter: float -> integer truncates and saturates to int64 (NaN is 0)
 * and then wraps to i32; anything -> bool is x != 0 (NaN is true); bool
 * reads as 0 / 1; i64 -> i32 wraps. */
static LLVMValueRef v_cast(CgCtx *c, const Node *n, LLVMValueRef *x) {
  DType from = n->in[0]->t.dtype, to = n->out[0]->t.dtype;
  LLVMTypeRef vt = cg_vec_type(c, to);
  if (from == to) return x[0];
  if (to == DT_BOOL) {
    LLVMValueRef zero = LLVMConstNull(LLVMTypeOf(x[0]));
    LLVMValueRef ne = from == DT_F32 ? LLVMBuildFCmp(c->b, LLVMRealUNE, x[0], zero, "")
                                     : LLVMBuildICmp(c->b, LLVMIntNE, x[0], zero, "");
    return LLVMBuildZExt(c->b, ne, vt, "");
  }
  if (to == DT_F32) {
    return from == DT_BOOL ? LLVMBuildUIToFP(c->b, x[0], vt, "") : LLVMBuildSIToFP(c->b, x[0], vt, "");
  }
  if (from == DT_F32) {
    LLVMTypeRef tys[2] = {cg_vec_type(c, DT_I64), LLVMTypeOf(x[0])};
    LLVMValueRef i = cg_intrinsic(c, "llvm.fptosi.sat", tys, 2, x, 1);
    return to == DT_I64 ? i : LLVMBuildTrunc(c->b, i, vt, "");
  }
  if (from == DT_BOOL) return LLVMBuildZExt(c->b, x[0], vt, "");
  return LLVMBuildIntCast2(c->b, x[0], vt, 1, ""); /* i64 <-> i32: truncate or sign-extend */
}

int cg_emit_cast(CgCtx *c, const Node *n, Diag *d) {
  DType from = n->in[0]->t.dtype, to = n->out[0]->t.dtype;
  if (from == DT_UNDEF || from >= DT_COUNT || to == DT_UNDEF || to >= DT_COUNT)
    return ir_error(d, NULL, n, "cast from %s to %s is not supported by the backend", dt_name(from), dt_name(to));
  return cg_emit_elementwise(c, n, "cast", v_cast, d);
}
