/* Inline vector math for kernels: polynomial approximations emitted as LLVM IR,
 * no libm calls. Each takes and returns a float or a vector of floats.
 * Accuracy, measured by tests/test_cg_math.c against libm over the whole float range:
 *   exp      relative error <= 4e-7 (denormal results flush to 0; > 88.72 gives +inf)
 *   sigmoid  relative error <= 6e-7
 *   tanh     absolute error <= 3e-7
 *   erf      absolute error <= 2.5e-7
 *   rsqrt    correctly rounded sqrt then division (<= 1 ulp)
 * NaN inputs give NaN. */
#ifndef VITC_CG_MATH_H
#define VITC_CG_MATH_H
#include "cg_ctx.h"

LLVMValueRef cg_math_exp(CgCtx *c, LLVMValueRef x);
LLVMValueRef cg_math_sigmoid(CgCtx *c, LLVMValueRef x);
LLVMValueRef cg_math_tanh(CgCtx *c, LLVMValueRef x);
LLVMValueRef cg_math_erf(CgCtx *c, LLVMValueRef x);
LLVMValueRef cg_math_rsqrt(CgCtx *c, LLVMValueRef x);
/* A float constant of x's type (scalar or splat vector). */
LLVMValueRef cg_math_const(CgCtx *c, LLVMValueRef like, double v);

#endif
