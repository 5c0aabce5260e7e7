/* Emitters for the arithmetic, comparison and logical elementwise ops: the
 * vector operation of each, handed to cg_emit_elementwise. Results match the
 * reference interpreter: integers wrap, integer x/0 and x mod 0 give 0 (the
 * interpreter reports an error). */
#include "cg_ctx.h"
#include <stdio.h>
#include <string.h>

/* Fails unless t is one of the dtypes in mask (bit per DType). */
static int arith_need(const Node *n, const Tensor *t, unsigned mask, Diag *d) {
  if (mask & (1u << t->dtype)) return 0;
  return ir_error(d, NULL, n, "%s operands are not supported by the backend yet", dt_name(t->dtype));
}

#define NUMERIC ((1u << DT_F32) | (1u << DT_I64) | (1u << DT_I32))
#define FLOAT (1u << DT_F32)
#define BOOL (1u << DT_BOOL)

/* Whether node n computes in f32 (else in its integer type). */
static int is_f32(const Node *n) { return n->in[0]->t.dtype == DT_F32; }

/* + - * in the operands' type (integers wrap). */
static LLVMValueRef v_add(CgCtx *c, const Node *n, LLVMValueRef *x) {
  return is_f32(n) ? LLVMBuildFAdd(c->b, x[0], x[1], "") : LLVMBuildAdd(c->b, x[0], x[1], "");
}
static LLVMValueRef v_sub(CgCtx *c, const Node *n, LLVMValueRef *x) {
  return is_f32(n) ? LLVMBuildFSub(c->b, x[0], x[1], "") : LLVMBuildSub(c->b, x[0], x[1], "");
}
static LLVMValueRef v_mul(CgCtx *c, const Node *n, LLVMValueRef *x) {
  return is_f32(n) ? LLVMBuildFMul(c->b, x[0], x[1], "") : LLVMBuildMul(c->b, x[0], x[1], "");
}

/* Division; integers truncate, x/0 is 0 and x/-1 is -x (no trap, no UB). */
static LLVMValueRef v_div(CgCtx *c, const Node *n, LLVMValueRef *x) {
  if (is_f32(n)) return LLVMBuildFDiv(c->b, x[0], x[1], "");
  LLVMTypeRef vt = LLVMTypeOf(x[1]);
  LLVMValueRef zero = LLVMConstNull(vt), one = LLVMConstInt(LLVMGetElementType(vt), 1, 0);
  LLVMValueRef m1 = LLVMConstAllOnes(vt);
  LLVMValueRef is0 = LLVMBuildICmp(c->b, LLVMIntEQ, x[1], zero, "");
  LLVMValueRef ism1 = LLVMBuildICmp(c->b, LLVMIntEQ, x[1], m1, "");
  LLVMValueRef safe = LLVMBuildSelect(c->b, LLVMBuildOr(c->b, is0, ism1, ""), cg_splat(c, one), x[1], "");
  LLVMValueRef q = LLVMBuildSDiv(c->b, x[0], safe, "");
  q = LLVMBuildSelect(c->b, ism1, LLVMBuildSub(c->b, zero, x[0], ""), q, "");
  return LLVMBuildSelect(c->b, is0, zero, q, "");
}

/* Mod {fmod}: integers as the interpreter computes them (x mod 0 is 0 here, no trap; x mod -1 is 0); floats
 * with frem (C fmodf), fmod = 0 moving a non-zero result to the divisor's sign and giving a zero its sign. */
static LLVMValueRef v_mod(CgCtx *c, const Node *n, LLVMValueRef *x) {
  int fmod = ir_attr_i(n, "fmod", 0) != 0;
  LLVMTypeRef vt = LLVMTypeOf(x[1]);
  LLVMValueRef zero = LLVMConstNull(vt);
  if (is_f32(n)) {
    LLVMValueRef r = LLVMBuildFRem(c->b, x[0], x[1], "");
    if (fmod) return r;
    LLVMValueRef differ = LLVMBuildXor(c->b, LLVMBuildFCmp(c->b, LLVMRealOLT, r, zero, ""),
                                       LLVMBuildFCmp(c->b, LLVMRealOLT, x[1], zero, ""), "");
    LLVMValueRef move = LLVMBuildAnd(c->b, LLVMBuildFCmp(c->b, LLVMRealONE, r, zero, ""), differ, "");
    LLVMValueRef args[2] = {zero, x[1]};
    LLVMValueRef signed0 = cg_intrinsic(c, "llvm.copysign", &vt, 1, args, 2);
    r = LLVMBuildSelect(c->b, move, LLVMBuildFAdd(c->b, r, x[1], ""), r, "");
    return LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealOEQ, r, zero, ""), signed0, r, "");
  }
  LLVMValueRef one = cg_splat(c, LLVMConstInt(LLVMGetElementType(vt), 1, 0));
  LLVMValueRef no_div = LLVMBuildOr(c->b, LLVMBuildICmp(c->b, LLVMIntEQ, x[1], zero, ""),
                                    LLVMBuildICmp(c->b, LLVMIntEQ, x[1], LLVMConstAllOnes(vt), ""), "");
  LLVMValueRef r = LLVMBuildSRem(c->b, x[0], LLVMBuildSelect(c->b, no_div, one, x[1], ""), "");
  r = LLVMBuildSelect(c->b, no_div, zero, r, "");
  if (fmod) return r;
  LLVMValueRef differ = LLVMBuildXor(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, r, zero, ""),
                                     LLVMBuildICmp(c->b, LLVMIntSLT, x[1], zero, ""), "");
  LLVMValueRef move = LLVMBuildAnd(c->b, LLVMBuildICmp(c->b, LLVMIntNE, r, zero, ""), differ, "");
  return LLVMBuildSelect(c->b, move, LLVMBuildAdd(c->b, r, x[1], ""), r, "");
}

/* Min / Max folded left to right over every operand: the accumulator stays when it wins or is NaN (a NaN
 * anywhere gives NaN), as in the interpreter. */
static LLVMValueRef min_max(CgCtx *c, const Node *n, LLVMValueRef *x, int is_max) {
  LLVMValueRef acc = x[0];
  for (int k = 1; k < n->n_in; k++) {
    LLVMValueRef wins;
    if (is_f32(n))
      wins = LLVMBuildOr(c->b, LLVMBuildFCmp(c->b, is_max ? LLVMRealOGT : LLVMRealOLT, acc, x[k], ""),
                         LLVMBuildFCmp(c->b, LLVMRealUNO, acc, acc, ""), "");
    else
      wins = LLVMBuildICmp(c->b, is_max ? LLVMIntSGT : LLVMIntSLT, acc, x[k], "");
    acc = LLVMBuildSelect(c->b, wins, acc, x[k], "");
  }
  return acc;
}
static LLVMValueRef v_min(CgCtx *c, const Node *n, LLVMValueRef *x) { return min_max(c, n, x, 0); }
static LLVMValueRef v_max(CgCtx *c, const Node *n, LLVMValueRef *x) { return min_max(c, n, x, 1); }

/* -x; integers wrap (-INT_MIN is INT_MIN). */
static LLVMValueRef v_neg(CgCtx *c, const Node *n, LLVMValueRef *x) {
  return is_f32(n) ? LLVMBuildFNeg(c->b, x[0], "") : LLVMBuildSub(c->b, LLVMConstNull(LLVMTypeOf(x[0])), x[0], "");
}

/* |x|; integers wrap (|INT_MIN| is INT_MIN). */
static LLVMValueRef v_abs(CgCtx *c, const Node *n, LLVMValueRef *x) {
  LLVMTypeRef t = LLVMTypeOf(x[0]);
  if (is_f32(n)) return cg_intrinsic(c, "llvm.fabs", &t, 1, x, 1);
  LLVMValueRef args[2] = {x[0], LLVMConstInt(c->t_i1, 0, 0)};
  return cg_intrinsic(c, "llvm.abs", &t, 1, args, 2);
}

/* max(x, 0) that keeps NaN: x <= 0 (ordered) gives 0, anything else x. */
static LLVMValueRef v_relu(CgCtx *c, const Node *n, LLVMValueRef *x) {
  LLVMValueRef zero = LLVMConstNull(LLVMTypeOf(x[0]));
  if (is_f32(n)) return LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealOLE, x[0], zero, ""), zero, x[0], "");
  return LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntSGT, x[0], zero, ""), x[0], zero, "");
}

/* sqrt, ceil, 1/x: f32 only, correctly rounded like the interpreter's double math. */
static LLVMValueRef v_sqrt(CgCtx *c, const Node *n, LLVMValueRef *x) {
  (void)n;
  LLVMTypeRef t = LLVMTypeOf(x[0]);
  return cg_intrinsic(c, "llvm.sqrt", &t, 1, x, 1);
}

static LLVMValueRef v_ceil(CgCtx *c, const Node *n, LLVMValueRef *x) {
  (void)n;
  LLVMTypeRef t = LLVMTypeOf(x[0]);
  return cg_intrinsic(c, "llvm.ceil", &t, 1, x, 1);
}

static LLVMValueRef v_reciprocal(CgCtx *c, const Node *n, LLVMValueRef *x) {
  (void)n;
  return LLVMBuildFDiv(c->b, cg_splat(c, LLVMConstReal(c->t_f32, 1.0)), x[0], "");
}

/* Clip(x, min?, max?): x below min (ordered) becomes min, then above max becomes max; NaN stays NaN. */
static LLVMValueRef v_clip(CgCtx *c, const Node *n, LLVMValueRef *x) {
  LLVMValueRef v = x[0];
  for (int k = 1; k < n->n_in; k++) {
    if (!x[k]) continue;
    LLVMValueRef out = is_f32(n) ? LLVMBuildFCmp(c->b, k == 1 ? LLVMRealOLT : LLVMRealOGT, v, x[k], "")
                                 : LLVMBuildICmp(c->b, k == 1 ? LLVMIntSLT : LLVMIntSGT, v, x[k], "");
    v = LLVMBuildSelect(c->b, out, x[k], v, "");
  }
  return v;
}

/* max(0, min(1, alpha x + beta)) with one rounding per step, as in the interpreter; NaN stays NaN. */
static LLVMValueRef hard_sigmoid(CgCtx *c, LLVMValueRef x, float alpha, float beta) {
  LLVMValueRef one = cg_splat(c, LLVMConstReal(c->t_f32, 1.0)), zero = LLVMConstNull(LLVMTypeOf(x));
  LLVMValueRef v = LLVMBuildFMul(c->b, cg_splat(c, LLVMConstReal(c->t_f32, alpha)), x, "");
  v = LLVMBuildFAdd(c->b, v, cg_splat(c, LLVMConstReal(c->t_f32, beta)), "");
  v = LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealOGT, v, one, ""), one, v, "");
  return LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealOLT, v, zero, ""), zero, v, "");
}
static LLVMValueRef v_hard_sigmoid(CgCtx *c, const Node *n, LLVMValueRef *x) {
  return hard_sigmoid(c, x[0], ir_attr_f(n, "alpha", 0.2f), ir_attr_f(n, "beta", 0.5f));
}
static LLVMValueRef v_hard_swish(CgCtx *c, const Node *n, LLVMValueRef *x) {
  (void)n;
  return LLVMBuildFMul(c->b, x[0], hard_sigmoid(c, x[0], 1.0f / 6.0f, 0.5f), "");
}

/* Equal -> bool (one byte): floats compare ordered, so NaN != NaN. */
static LLVMValueRef v_equal(CgCtx *c, const Node *n, LLVMValueRef *x) {
  LLVMValueRef eq = is_f32(n) ? LLVMBuildFCmp(c->b, LLVMRealOEQ, x[0], x[1], "")
                              : LLVMBuildICmp(c->b, LLVMIntEQ, x[0], x[1], "");
  return LLVMBuildZExt(c->b, eq, cg_vec_type(c, DT_BOOL), "");
}

/* Order comparisons -> bool: floats compare ordered (NaN gives false), integers signed. */
static LLVMValueRef v_compare(CgCtx *c, const Node *n, LLVMValueRef *x, LLVMRealPredicate fp, LLVMIntPredicate ip) {
  LLVMValueRef r = is_f32(n) ? LLVMBuildFCmp(c->b, fp, x[0], x[1], "") : LLVMBuildICmp(c->b, ip, x[0], x[1], "");
  return LLVMBuildZExt(c->b, r, cg_vec_type(c, DT_BOOL), "");
}
static LLVMValueRef v_less(CgCtx *c, const Node *n, LLVMValueRef *x) { return v_compare(c, n, x, LLVMRealOLT, LLVMIntSLT); }
static LLVMValueRef v_less_or_equal(CgCtx *c, const Node *n, LLVMValueRef *x) {
  return v_compare(c, n, x, LLVMRealOLE, LLVMIntSLE);
}
static LLVMValueRef v_greater(CgCtx *c, const Node *n, LLVMValueRef *x) {
  return v_compare(c, n, x, LLVMRealOGT, LLVMIntSGT);
}
static LLVMValueRef v_greater_or_equal(CgCtx *c, const Node *n, LLVMValueRef *x) {
  return v_compare(c, n, x, LLVMRealOGE, LLVMIntSGE);
}

/* A bool vector (bytes) as i1 lanes: any non-zero byte is true, as in the interpreter. */
static LLVMValueRef truth(CgCtx *c, LLVMValueRef v) {
  return LLVMBuildICmp(c->b, LLVMIntNE, v, LLVMConstNull(LLVMTypeOf(v)), "");
}
static LLVMValueRef to_bool(CgCtx *c, LLVMValueRef v) { return LLVMBuildZExt(c->b, v, cg_vec_type(c, DT_BOOL), ""); }

/* Logical ops on bools. */
static LLVMValueRef v_not(CgCtx *c, const Node *n, LLVMValueRef *x) {
  (void)n;
  return to_bool(c, LLVMBuildICmp(c->b, LLVMIntEQ, x[0], LLVMConstNull(LLVMTypeOf(x[0])), ""));
}
static LLVMValueRef v_and(CgCtx *c, const Node *n, LLVMValueRef *x) {
  (void)n;
  return to_bool(c, LLVMBuildAnd(c->b, truth(c, x[0]), truth(c, x[1]), ""));
}
static LLVMValueRef v_or(CgCtx *c, const Node *n, LLVMValueRef *x) {
  (void)n;
  return to_bool(c, LLVMBuildOr(c->b, truth(c, x[0]), truth(c, x[1]), ""));
}
static LLVMValueRef v_xor(CgCtx *c, const Node *n, LLVMValueRef *x) {
  (void)n;
  return to_bool(c, LLVMBuildXor(c->b, truth(c, x[0]), truth(c, x[1]), ""));
}

/* Where: cond (bytes) ? x : y. */
static LLVMValueRef v_where(CgCtx *c, const Node *n, LLVMValueRef *x) {
  (void)n;
  LLVMValueRef cond = LLVMBuildICmp(c->b, LLVMIntNE, x[0], LLVMConstNull(LLVMTypeOf(x[0])), "");
  return LLVMBuildSelect(c->b, cond, x[1], x[2], "");
}

/* An elementwise op whose input 0 must have a dtype in mask. */
static int arith(CgCtx *c, const Node *n, const char *op, unsigned mask, CgElemFn f, Diag *d) {
  if (arith_need(n, &n->in[0]->t, mask, d)) return -1;
  return cg_emit_elementwise(c, n, op, f, d);
}

/* The emitters (declared from ops.def in cg_ctx.h). */
int cg_emit_add(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "add", NUMERIC, v_add, d); }
int cg_emit_sub(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "sub", NUMERIC, v_sub, d); }
int cg_emit_mul(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "mul", NUMERIC, v_mul, d); }
int cg_emit_div(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "div", NUMERIC, v_div, d); }
int cg_emit_mod(CgCtx *c, const Node *n, Diag *d) {
  return arith(c, n, ir_attr_i(n, "fmod", 0) ? "mod.fmod" : "mod", NUMERIC, v_mod, d);
}
int cg_emit_min(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "min", NUMERIC, v_min, d); }
int cg_emit_max(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "max", NUMERIC, v_max, d); }
int cg_emit_neg(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "neg", NUMERIC, v_neg, d); }
int cg_emit_abs(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "abs", NUMERIC, v_abs, d); }
int cg_emit_relu(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "relu", NUMERIC, v_relu, d); }
int cg_emit_clip(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "clip", NUMERIC, v_clip, d); }
int cg_emit_hard_sigmoid(CgCtx *c, const Node *n, Diag *d) {
  float alpha = ir_attr_f(n, "alpha", 0.2f), beta = ir_attr_f(n, "beta", 0.5f);
  uint32_t a, b;
  char op[64];
  memcpy(&a, &alpha, 4), memcpy(&b, &beta, 4);
  snprintf(op, sizeof op, "hard_sigmoid.%08x.%08x", (unsigned)a, (unsigned)b); /* the bits: nodes differ by them */
  return arith(c, n, op, FLOAT, v_hard_sigmoid, d);
}
int cg_emit_hard_swish(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "hard_swish", FLOAT, v_hard_swish, d); }
int cg_emit_sqrt(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "sqrt", FLOAT, v_sqrt, d); }
int cg_emit_ceil(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "ceil", FLOAT, v_ceil, d); }
int cg_emit_reciprocal(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "reciprocal", FLOAT, v_reciprocal, d); }
int cg_emit_equal(CgCtx *c, const Node *n, Diag *d) {
  return arith(c, n, "equal", NUMERIC | (1u << DT_BOOL), v_equal, d);
}
int cg_emit_less(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "less", NUMERIC, v_less, d); }
int cg_emit_less_or_equal(CgCtx *c, const Node *n, Diag *d) {
  return arith(c, n, "less_or_equal", NUMERIC, v_less_or_equal, d);
}
int cg_emit_greater(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "greater", NUMERIC, v_greater, d); }
int cg_emit_greater_or_equal(CgCtx *c, const Node *n, Diag *d) {
  return arith(c, n, "greater_or_equal", NUMERIC, v_greater_or_equal, d);
}
int cg_emit_not(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "not", BOOL, v_not, d); }
int cg_emit_and(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "and", BOOL, v_and, d); }
int cg_emit_or(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "or", BOOL, v_or, d); }
int cg_emit_xor(CgCtx *c, const Node *n, Diag *d) { return arith(c, n, "xor", BOOL, v_xor, d); }
int cg_emit_where(CgCtx *c, const Node *n, Diag *d) {
  if (arith_need(n, &n->in[1]->t, NUMERIC | (1u << DT_BOOL), d)) return -1;
  return cg_emit_elementwise(c, n, "where", v_where, d);
}
