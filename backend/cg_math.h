/* Inline vector math for kernels: polynomial approximations emitted as LLVM IR,
 * no libm calls. Each takes and returns a float or a vector of floats.
 * Accuracy, measured by tests/test_cg_math.c against libm over the whole float range:
 *   exp      relative error <= 4e-7 (denormal results flush to 0; > 88.72 gives +inf)
 *   exp_nonpos  exp for x <= 0 only (softmax), relative error <= 4e-7, denormal results flush to 0
 *   sigmoid  relative error <= 6e-7
 *   tanh     absolute error <= 3e-7
 *   erf      absolute error <= 2.5e-7
 *   rsqrt    correctly rounded sqrt then division (<= 1 ulp)
 *   log      relative error <= 1.5e-7 (denormal inputs included)
 *   gelu     error <= 2.5e-7 * max(1, |x|), either form (rational erf / tanh, 3x cheaper than
 *            cg_math_erf and cg_math_tanh; see cg_math.c)
 * NaN inputs give NaN. */
#ifndef VITC_CG_MATH_H
#define VITC_CG_MATH_H
#include "cg_ctx.h"

LLVMValueRef cg_math_exp(CgCtx *c, LLVMValueRef x);
LLVMValueRef cg_math_exp_nonpos(CgCtx *c, LLVMValueRef x);
LLVMValueRef cg_math_sigmoid(CgCtx *c, LLVMValueRef x);
LLVMValueRef cg_math_tanh(CgCtx *c, LLVMValueRef x);
LLVMValueRef cg_math_erf(CgCtx *c, LLVMValueRef x);
LLVMValueRef cg_math_rsqrt(CgCtx *c, LLVMValueRef x);
LLVMValueRef cg_math_log(CgCtx *c, LLVMValueRef x);
/* GELU with the exact erf form, or the tanh approximation when tanh_form. */
LLVMValueRef cg_math_gelu(CgCtx *c, LLVMValueRef x, int tanh_form);
/* A float constant of x's type (scalar or splat vector). */
LLVMValueRef cg_math_const(CgCtx *c, LLVMValueRef like, double v);

#endif
