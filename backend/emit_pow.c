/* Pow, elementwise with broadcasting. f32 base: a constant scalar integer
 * exponent becomes a chain of multiplications in double (x^2, x^3 exact to
 * the float rounding, like the interpreter's pow in double); any other
 * exponent is exp(y log|x|) with C pow's rules for signs, zeros, infinities
 * and NaN. Integer base: exponentiation by squaring in i64 (wrapping), with
 * the interpreter's rule for negative exponents. */
#include "cg_math.h"
#include "cg_rows.h"
#include <math.h>
#include <stdio.h>

#define POW_MAX_CHAIN 64 /* constant exponents up to this magnitude use multiplications */

/* Whether the exponent is a known scalar integer of magnitude <= POW_MAX_CHAIN (its value in *e). */
static int pow_const_exponent(const Node *n, int64_t *e) {
  const Tensor *t = &n->in[1]->t;
  if (!t->data || tensor_numel(t) != 1) return 0;
  double v = t->dtype == DT_F32 ? ((const float *)t->data)[0] : (double)tensor_get_i64(t, 0);
  if (v != floor(v) || fabs(v) > POW_MAX_CHAIN) return 0;
  *e = (int64_t)v;
  return 1;
}

/* x^e for a compile-time integer e: square-and-multiply in double, 1 / x^|e| when e < 0. */
static LLVMValueRef v_pow_chain(CgCtx *c, const Node *n, LLVMValueRef *x) {
  int64_t e = 0;
  pow_const_exponent(n, &e);
  LLVMTypeRef dt = LLVMVectorType(LLVMDoubleTypeInContext(c->ctx), CG_VW);
  LLVMValueRef one = cg_splat(c, LLVMConstReal(LLVMDoubleTypeInContext(c->ctx), 1.0));
  LLVMValueRef p = LLVMBuildFPExt(c->b, x[0], dt, ""), r = NULL;
  for (int64_t k = e < 0 ? -e : e; k; k >>= 1) {
    if (k & 1) r = r ? LLVMBuildFMul(c->b, r, p, "") : p;
    if (k > 1) p = LLVMBuildFMul(c->b, p, p, "");
  }
  if (!r) r = one;
  if (e < 0) r = LLVMBuildFDiv(c->b, one, r, "");
  return LLVMBuildFPTrunc(c->b, r, cg_vec_type(c, DT_F32), "");
}

/* Lanes where the f32 vector v is an integer (infinities count as even ones), and where it is odd. */
static void pow_parity(CgCtx *c, LLVMValueRef v, LLVMValueRef *is_int, LLVMValueRef *odd) {
  LLVMTypeRef t = LLVMTypeOf(v);
  LLVMValueRef r = cg_intrinsic(c, "llvm.rint", &t, 1, &v, 1);
  *is_int = LLVMBuildFCmp(c->b, LLVMRealOEQ, r, v, "");
  LLVMValueRef h = LLVMBuildFMul(c->b, v, cg_math_const(c, v, 0.5), "");
  LLVMValueRef rh = cg_intrinsic(c, "llvm.rint", &t, 1, &h, 1);
  *odd = LLVMBuildAnd(c->b, *is_int, LLVMBuildFCmp(c->b, LLVMRealONE, rh, h, ""), "");
}

/* x^y for f32 x and any y: exp(y log|x|), negated for a negative x (or -0)
 * and odd y, NaN for a finite negative x and non-integer y; x^0 = 1^y = 1
 * and (-1)^(+-inf) = 1. */
static LLVMValueRef v_pow_f32(CgCtx *c, const Node *n, LLVMValueRef *x) {
  LLVMBuilderRef b = c->b;
  LLVMValueRef a = x[0], y = x[1];
  if (n->in[1]->t.dtype != DT_F32) y = LLVMBuildSIToFP(b, y, cg_vec_type(c, DT_F32), "");
  LLVMTypeRef ft = LLVMTypeOf(a);
  LLVMValueRef ax = cg_intrinsic(c, "llvm.fabs", &ft, 1, &a, 1);
  LLVMValueRef r = cg_math_exp(c, LLVMBuildFMul(b, y, cg_math_log(c, ax), ""));
  LLVMValueRef is_int, odd;
  pow_parity(c, y, &is_int, &odd);
  LLVMValueRef sign = LLVMBuildICmp(b, LLVMIntSLT, LLVMBuildBitCast(b, a, cg_vec_type(c, DT_I32), ""),
                                    LLVMConstNull(cg_vec_type(c, DT_I32)), "");
  r = LLVMBuildSelect(b, LLVMBuildAnd(b, odd, sign, ""), LLVMBuildFNeg(b, r, ""), r, "");
  LLVMValueRef inf = cg_math_const(c, a, INFINITY), one = cg_math_const(c, a, 1.0);
  LLVMValueRef neg_finite = LLVMBuildAnd(b, LLVMBuildFCmp(b, LLVMRealOLT, a, cg_math_const(c, a, 0.0), ""),
                                         LLVMBuildFCmp(b, LLVMRealONE, ax, inf, ""), "");
  r = LLVMBuildSelect(b, LLVMBuildAnd(b, neg_finite, LLVMBuildNot(b, is_int, ""), ""), cg_math_const(c, a, NAN), r, "");
  LLVMValueRef ay = cg_intrinsic(c, "llvm.fabs", &ft, 1, &y, 1);
  LLVMValueRef ones = LLVMBuildOr(b, LLVMBuildFCmp(b, LLVMRealOEQ, y, cg_math_const(c, a, 0.0), ""),
                                  LLVMBuildFCmp(b, LLVMRealOEQ, a, one, ""), "");
  ones = LLVMBuildOr(b, ones, LLVMBuildAnd(b, LLVMBuildFCmp(b, LLVMRealOEQ, ax, one, ""),
                                           LLVMBuildFCmp(b, LLVMRealOEQ, ay, inf, ""), ""), "");
  return LLVMBuildSelect(b, ones, one, r, "");
}

/* a^e for integer a and e in i64, wrapping: squaring over the bits of e (a
 * loop as long as the largest exponent's bit length); e < 0 gives 1 for
 * a = 1, +-1 for a = -1 and 0 otherwise (the interpreter rejects 0^-k). */
static LLVMValueRef v_pow_int(CgCtx *c, const Node *n, LLVMValueRef *x) {
  LLVMBuilderRef b = c->b;
  LLVMTypeRef vt = cg_vec_type(c, DT_I64);
  LLVMValueRef a = LLVMBuildIntCast2(b, x[0], vt, 1, ""), e = LLVMBuildIntCast2(b, x[1], vt, 1, "");
  LLVMValueRef zero = LLVMConstNull(vt), one = cg_splat(c, cg_i64(c, 1)), m1 = LLVMConstAllOnes(vt);
  LLVMValueRef neg = LLVMBuildICmp(b, LLVMIntSLT, e, zero, "");
  LLVMValueRef e_odd = LLVMBuildICmp(b, LLVMIntNE, LLVMBuildAnd(b, e, one, ""), zero, "");
  LLVMValueRef inv = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntEQ, a, one, ""), one, zero, "");
  inv = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntEQ, a, m1, ""), LLVMBuildSelect(b, e_odd, m1, one, ""), inv, "");
  LLVMValueRef k = LLVMBuildSelect(b, neg, zero, e, "");
  LLVMValueRef any = cg_intrinsic(c, "llvm.vector.reduce.or", &vt, 1, &k, 1);
  LLVMValueRef ctlz_args[2] = {any, LLVMConstInt(c->t_i1, 0, 0)};
  LLVMValueRef bits = LLVMBuildSub(b, cg_i64(c, 64), cg_intrinsic(c, "llvm.ctlz", &c->t_i64, 1, ctlz_args, 2), "");
  CgLoop l = cg_loop_begin(c, cg_i64(c, 0), bits, 1);
  LLVMValueRef r = cg_carry(c, &l, one), p = cg_carry(c, &l, a), kk = cg_carry(c, &l, k);
  LLVMValueRef bit = LLVMBuildICmp(b, LLVMIntNE, LLVMBuildAnd(b, kk, one, ""), zero, "");
  cg_carry_next(c, r, LLVMBuildSelect(b, bit, LLVMBuildMul(b, r, p, ""), r, ""));
  cg_carry_next(c, p, LLVMBuildMul(b, p, p, ""));
  cg_carry_next(c, kk, LLVMBuildLShr(b, kk, one, ""));
  cg_loop_end(c, &l);
  r = LLVMBuildSelect(b, neg, inv, r, "");
  return LLVMBuildIntCast2(b, r, cg_vec_type(c, n->out[0]->t.dtype), 1, "");
}

int cg_emit_pow(CgCtx *c, const Node *n, Diag *d) {
  DType base = n->in[0]->t.dtype, ex = n->in[1]->t.dtype;
  int num_ex = ex == DT_F32 || ex == DT_I64 || ex == DT_I32;
  if (base == DT_F32 && num_ex) {
    int64_t e;
    char op[32];
    if (!pow_const_exponent(n, &e)) return cg_emit_elementwise(c, n, "pow", v_pow_f32, d);
    snprintf(op, sizeof op, "pow_k%lld", (long long)e);
    return cg_emit_elementwise(c, n, op, v_pow_chain, d);
  }
  if ((base == DT_I64 || base == DT_I32) && (ex == DT_I64 || ex == DT_I32))
    return cg_emit_elementwise(c, n, "pow", v_pow_int, d);
  return ir_error(d, NULL, n, "pow of %s to a %s exponent is not supported by the backend", dt_name(base), dt_name(ex));
}
