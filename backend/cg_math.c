/* Vector math as inline polynomials (see cg_math.h for the accuracy contract). */
#include "cg_math.h"

/* Lane count of x's type (0 for a scalar). */
static unsigned lanes(LLVMValueRef x) {
  LLVMTypeRef t = LLVMTypeOf(x);
  return LLVMGetTypeKind(t) == LLVMVectorTypeKind ? LLVMGetVectorSize(t) : 0;
}

/* Builds a constant of element type et shaped like x. */
static LLVMValueRef shaped_const(LLVMValueRef like, LLVMValueRef scalar) {
  unsigned n = lanes(like);
  if (!n) return scalar;
  LLVMValueRef elems[64];
  for (unsigned i = 0; i < n && i < 64; i++) elems[i] = scalar;
  return LLVMConstVector(elems, n);
}

LLVMValueRef cg_math_const(CgCtx *c, LLVMValueRef like, double v) {
  return shaped_const(like, LLVMConstReal(c->t_f32, v));
}

static LLVMValueRef int_const(CgCtx *c, LLVMValueRef like, int64_t v) {
  return shaped_const(like, LLVMConstInt(c->t_i32, (unsigned long long)v, 1));
}

static LLVMTypeRef int_type_like(CgCtx *c, LLVMValueRef x) {
  unsigned n = lanes(x);
  return n ? LLVMVectorType(c->t_i32, n) : c->t_i32;
}

/* One-type intrinsic call on x's type. */
static LLVMValueRef call1(CgCtx *c, const char *name, LLVMValueRef a) {
  LLVMTypeRef t = LLVMTypeOf(a);
  return cg_intrinsic(c, name, &t, 1, &a, 1);
}

static LLVMValueRef fma3(CgCtx *c, LLVMValueRef a, LLVMValueRef b, LLVMValueRef d) {
  LLVMTypeRef t = LLVMTypeOf(a);
  LLVMValueRef args[3] = {a, b, d};
  return cg_intrinsic(c, "llvm.fmuladd", &t, 1, args, 3); /* fused where the CPU has FMA, else mul + add (never a libm call) */
}

/* Horner evaluation of coef[0] + coef[1] x + ... + coef[n-1] x^(n-1). */
static LLVMValueRef horner(CgCtx *c, LLVMValueRef x, const double *coef, int n) {
  LLVMValueRef acc = cg_math_const(c, x, coef[n - 1]);
  for (int i = n - 2; i >= 0; i--) acc = fma3(c, acc, x, cg_math_const(c, x, coef[i]));
  return acc;
}

static LLVMValueRef fmin_(CgCtx *c, LLVMValueRef a, LLVMValueRef b) {
  LLVMTypeRef t = LLVMTypeOf(a);
  LLVMValueRef args[2] = {a, b};
  return cg_intrinsic(c, "llvm.minnum", &t, 1, args, 2);
}

static LLVMValueRef fmax_(CgCtx *c, LLVMValueRef a, LLVMValueRef b) {
  LLVMTypeRef t = LLVMTypeOf(a);
  LLVMValueRef args[2] = {a, b};
  return cg_intrinsic(c, "llvm.maxnum", &t, 1, args, 2);
}

#define LOG2E 1.4426950408889634

/* r = x - n ln2 with ln2 in two parts (the first has 15 significant bits: n times it is exact for |n| < 2^9). */
static LLVMValueRef exp_reduce(CgCtx *c, LLVMValueRef x, LLVMValueRef n) {
  LLVMValueRef r = fma3(c, n, cg_math_const(c, x, -0.693145751953125), x);
  return fma3(c, n, cg_math_const(c, x, -1.428606765330187e-06), r);
}

/* exp(x) = 2^n * e^r with n = round(x / ln2), r = x - n ln2 (in two parts),
 * e^r by a degree-6 Taylor polynomial on |r| <= ln2/2 (truncation < 2e-8). */
LLVMValueRef cg_math_exp(CgCtx *c, LLVMValueRef x) {
  LLVMBuilderRef b = c->b;
  /* Clamp to where the result is a normal float; the ends are fixed below. */
  const double hi = 88.72283935546875, lo = -87.33654475;
  LLVMValueRef xc = fmax_(c, fmin_(c, x, cg_math_const(c, x, hi)), cg_math_const(c, x, lo));
  LLVMValueRef n = call1(c, "llvm.rint", LLVMBuildFMul(b, xc, cg_math_const(c, x, LOG2E), ""));
  LLVMValueRef r = exp_reduce(c, xc, n);
  static const double taylor[] = {1.0, 1.0, 0.5, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040};
  LLVMValueRef p = horner(c, r, taylor, 8);
  /* 2^n as 2^(n/2) * 2^(n - n/2): both factors stay normal for n in [-126, 128]. */
  LLVMTypeRef it = int_type_like(c, x);
  LLVMValueRef ni = LLVMBuildFPToSI(b, n, it, "");
  LLVMValueRef n1 = LLVMBuildAShr(b, ni, int_const(c, x, 1), "");
  LLVMValueRef n2 = LLVMBuildSub(b, ni, n1, "");
  LLVMValueRef s1 = LLVMBuildBitCast(b, LLVMBuildShl(b, LLVMBuildAdd(b, n1, int_const(c, x, 127), ""), int_const(c, x, 23), ""), LLVMTypeOf(x), "");
  LLVMValueRef s2 = LLVMBuildBitCast(b, LLVMBuildShl(b, LLVMBuildAdd(b, n2, int_const(c, x, 127), ""), int_const(c, x, 23), ""), LLVMTypeOf(x), "");
  LLVMValueRef y = LLVMBuildFMul(b, LLVMBuildFMul(b, p, s1, ""), s2, "");
  /* Past the range: +inf above, 0 below (the true result there is a denormal, < 1.2e-38). */
  LLVMValueRef big = LLVMBuildFCmp(b, LLVMRealOGT, x, cg_math_const(c, x, hi), "");
  LLVMValueRef tiny = LLVMBuildFCmp(b, LLVMRealOLT, x, cg_math_const(c, x, lo), "");
  y = LLVMBuildSelect(b, big, cg_math_const(c, x, __builtin_inf()), y, "");
  y = LLVMBuildSelect(b, tiny, cg_math_const(c, x, 0.0), y, "");
  LLVMValueRef isnan = LLVMBuildFCmp(b, LLVMRealUNO, x, x, "");
  return LLVMBuildSelect(b, isnan, x, y, "");
}

/* exp(x) for x <= 0 (softmax's x - max): the reduction of cg_math_exp, but n = round(x / ln2) lies in
 * [-127, 0], so 2^n is one float built from n's bits: x log2(e) + 1.5 * 2^23 + 127 rounds to an integer
 * whose low mantissa bits are n + 127, and shifted left by 23 they are 2^n's exponent field (0, that is
 * +0.0, for n = -127, where x is clamped: results below 2^-126.5 flush to 0). e^r by a degree-6 fit of
 * relative error 2e-9 on |r| <= ln2/2. Half of cg_math_exp's instructions; NaN gives NaN. */
LLVMValueRef cg_math_exp_nonpos(CgCtx *c, LLVMValueRef x) {
  LLVMBuilderRef b = c->b;
  LLVMValueRef lo = cg_math_const(c, x, -88.0);
  LLVMValueRef xc = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, x, lo, ""), lo, x, ""); /* NaN stays */
  LLVMValueRef magic = cg_math_const(c, x, 12582912.0 + 127.0); /* 1.5 * 2^23 + 127 */
  LLVMValueRef k = fma3(c, xc, cg_math_const(c, x, LOG2E), magic);
  LLVMValueRef n = LLVMBuildFSub(b, k, magic, "");
  LLVMValueRef r = exp_reduce(c, xc, n);
  static const double fit[] = {1.0, 1.0000000321686513, 0.49999994208357795, 0.16666431249674976,
                               0.041668002127454, 0.008374156233819145, 0.0013843651426724106};
  LLVMValueRef p = horner(c, r, fit, 7);
  LLVMTypeRef it = int_type_like(c, x);
  LLVMValueRef bits = LLVMBuildShl(b, LLVMBuildBitCast(b, k, it, ""), int_const(c, x, 23), "");
  return LLVMBuildFMul(b, p, LLVMBuildBitCast(b, bits, LLVMTypeOf(x), ""), "");
}

/* sigmoid(x) = 1 / (1 + exp(-x)); exp(-x) = inf for x < -88.7 gives 0. */
LLVMValueRef cg_math_sigmoid(CgCtx *c, LLVMValueRef x) {
  LLVMValueRef one = cg_math_const(c, x, 1.0);
  LLVMValueRef e = cg_math_exp(c, LLVMBuildFNeg(c->b, x, ""));
  return LLVMBuildFDiv(c->b, one, LLVMBuildFAdd(c->b, one, e, ""), "");
}

/* Shared tail of the odd functions tanh and erf: `big` (computed from |x|)
 * gets x's sign; below `limit` the odd series x * P(x^2) replaces it; NaN passes through. */
static LLVMValueRef odd_blend(CgCtx *c, LLVMValueRef x, LLVMValueRef ax, LLVMValueRef big, const double *coef, int n,
                              double limit) {
  LLVMBuilderRef b = c->b;
  LLVMTypeRef t = LLVMTypeOf(x);
  LLVMValueRef args[2] = {big, x};
  big = cg_intrinsic(c, "llvm.copysign", &t, 1, args, 2);
  LLVMValueRef small = LLVMBuildFMul(b, x, horner(c, LLVMBuildFMul(b, x, x, ""), coef, n), "");
  LLVMValueRef is_small = LLVMBuildFCmp(b, LLVMRealOLT, ax, cg_math_const(c, x, limit), "");
  LLVMValueRef y = LLVMBuildSelect(b, is_small, small, big, "");
  LLVMValueRef isnan = LLVMBuildFCmp(b, LLVMRealUNO, x, x, "");
  return LLVMBuildSelect(b, isnan, x, y, "");
}

/* tanh(x): an odd Taylor polynomial for |x| < 0.125 (keeps the relative
 * accuracy near 0), else sign(x) (1 - 2 / (exp(2|x|) + 1)). */
LLVMValueRef cg_math_tanh(CgCtx *c, LLVMValueRef x) {
  LLVMBuilderRef b = c->b;
  LLVMValueRef ax = call1(c, "llvm.fabs", x);
  LLVMValueRef one = cg_math_const(c, x, 1.0);
  LLVMValueRef e = cg_math_exp(c, LLVMBuildFMul(b, ax, cg_math_const(c, x, 2.0), ""));
  LLVMValueRef big = LLVMBuildFSub(b, one, LLVMBuildFDiv(b, cg_math_const(c, x, 2.0), LLVMBuildFAdd(b, e, one, ""), ""), "");
  /* x - x^3/3 + 2x^5/15 - 17x^7/315: error < 1e-9 for |x| < 0.125. */
  static const double odd[] = {1.0, -1.0 / 3, 2.0 / 15, -17.0 / 315};
  return odd_blend(c, x, ax, big, odd, 4, 0.125);
}

/* erf(x): for |x| < 1 the Maclaurin series (odd, 12 terms, error < 1e-9);
 * else 1 - t P(t) exp(-x^2) with t = 1 / (1 + 0.3275911 |x|)
 * (Abramowitz & Stegun 7.1.26 coefficients, error < 1.5e-7), sign restored. */
LLVMValueRef cg_math_erf(CgCtx *c, LLVMValueRef x) {
  LLVMBuilderRef b = c->b;
  LLVMValueRef ax = call1(c, "llvm.fabs", x);
  LLVMValueRef one = cg_math_const(c, x, 1.0);
  LLVMValueRef axc = fmin_(c, ax, cg_math_const(c, x, 10.0));
  LLVMValueRef t = LLVMBuildFDiv(b, one, fma3(c, axc, cg_math_const(c, x, 0.3275911), one), "");
  static const double as[] = {0.0, 0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429};
  LLVMValueRef poly = horner(c, t, as, 6);
  LLVMValueRef e = cg_math_exp(c, LLVMBuildFNeg(b, LLVMBuildFMul(b, axc, axc, ""), ""));
  LLVMValueRef big = LLVMBuildFSub(b, one, LLVMBuildFMul(b, poly, e, ""), "");
  /* Maclaurin series 2/sqrt(pi) sum (-1)^k x^(2k+1) / (k! (2k+1)), k < 12: error < 1e-9 for |x| < 1. */
  static const double series[] = {1.1283791670955126, -0.37612638903183754, 0.11283791670955126, -0.026866170645131252, 0.0052239776254421879, -0.00085483270234508522, 0.00012055332981789664, -1.492565035840625e-05, 1.6462114365889246e-06, -1.6365844691234924e-07, 1.4807192815879218e-08, -1.2290555301717926e-09};
  return odd_blend(c, x, ax, big, series, 12, 1.0);
}

/* 1 / sqrt(x) with the sqrt instruction and a true division. */
LLVMValueRef cg_math_rsqrt(CgCtx *c, LLVMValueRef x) {
  return LLVMBuildFDiv(c->b, cg_math_const(c, x, 1.0), call1(c, "llvm.sqrt", x), "");
}

/* log(x): x = 2^k m with m in [sqrt(1/2), sqrt(2)) (denormals scaled by 2^23
 * first), f = m - 1, s = f / (2 + f), log(m) = f - hf + s (hf + R(s^2)) with
 * hf = f^2 / 2 and R the minimax polynomial of the classic fdlibm logf. */
LLVMValueRef cg_math_log(CgCtx *c, LLVMValueRef x) {
  LLVMBuilderRef b = c->b;
  LLVMTypeRef it = int_type_like(c, x), ft = LLVMTypeOf(x);
  LLVMValueRef tiny = LLVMBuildFCmp(b, LLVMRealOLT, x, cg_math_const(c, x, 0x1p-126), "");
  LLVMValueRef xs = LLVMBuildSelect(b, tiny, LLVMBuildFMul(b, x, cg_math_const(c, x, 0x1p23), ""), x, "");
  LLVMValueRef k0 = LLVMBuildSelect(b, tiny, int_const(c, x, -23), int_const(c, x, 0), "");
  /* Offsetting the bits by 1 - sqrt(1/2) makes the exponent field round m into [sqrt(1/2), sqrt(2)). */
  LLVMValueRef ix = LLVMBuildAdd(b, LLVMBuildBitCast(b, xs, it, ""), int_const(c, x, 0x3f800000 - 0x3f3504f3), "");
  LLVMValueRef e = LLVMBuildSub(b, LLVMBuildLShr(b, ix, int_const(c, x, 23), ""), int_const(c, x, 0x7f), "");
  LLVMValueRef k = LLVMBuildAdd(b, k0, e, "");
  ix = LLVMBuildAdd(b, LLVMBuildAnd(b, ix, int_const(c, x, 0x007fffff), ""), int_const(c, x, 0x3f3504f3), "");
  LLVMValueRef f = LLVMBuildFSub(b, LLVMBuildBitCast(b, ix, ft, ""), cg_math_const(c, x, 1.0), "");
  LLVMValueRef s = LLVMBuildFDiv(b, f, LLVMBuildFAdd(b, f, cg_math_const(c, x, 2.0), ""), "");
  LLVMValueRef z = LLVMBuildFMul(b, s, s, "");
  static const double lg[] = {0.0, 0.66666662693, 0.40000972152, 0.28498786688, 0.24279078841};
  LLVMValueRef r = horner(c, z, lg, 5); /* z (Lg1 + z (Lg2 + ...)) */
  LLVMValueRef hf = LLVMBuildFMul(b, LLVMBuildFMul(b, f, f, ""), cg_math_const(c, x, 0.5), "");
  LLVMValueRef dk = LLVMBuildSIToFP(b, k, ft, "");
  LLVMValueRef lo = LLVMBuildFMul(b, dk, cg_math_const(c, x, 9.0580006145e-06), ""); /* ln2, low part */
  LLVMValueRef y = fma3(c, s, LLVMBuildFAdd(b, hf, r, ""), lo);
  y = LLVMBuildFAdd(b, LLVMBuildFSub(b, y, hf, ""), f, "");
  y = fma3(c, dk, cg_math_const(c, x, 6.9313812256e-01), y);
  /* The ends: log(0) = -inf, log(+inf) = +inf, negative or NaN inputs give NaN. */
  LLVMValueRef zero = LLVMBuildFCmp(b, LLVMRealOEQ, x, cg_math_const(c, x, 0.0), "");
  y = LLVMBuildSelect(b, zero, cg_math_const(c, x, -__builtin_inf()), y, "");
  y = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOEQ, x, cg_math_const(c, x, __builtin_inf()), ""), x, y, "");
  LLVMValueRef bad = LLVMBuildFCmp(b, LLVMRealULT, x, cg_math_const(c, x, 0.0), "");
  return LLVMBuildSelect(b, bad, cg_math_const(c, x, __builtin_nan("")), y, "");
}

/* x P(x^2) / Q(x^2) with x clamped to [-lim, lim] and the result to [-1, 1]:
 * the shape of the rational fits of erf and tanh below. */
static LLVMValueRef odd_rational(CgCtx *c, LLVMValueRef x, double lim, const double *p, int np, const double *q,
                                 int nq) {
  LLVMBuilderRef b = c->b;
  LLVMValueRef xc = fmax_(c, fmin_(c, x, cg_math_const(c, x, lim)), cg_math_const(c, x, -lim));
  LLVMValueRef z = LLVMBuildFMul(b, xc, xc, "");
  LLVMValueRef y = LLVMBuildFDiv(b, LLVMBuildFMul(b, xc, horner(c, z, p, np), ""), horner(c, z, q, nq), "");
  return fmax_(c, fmin_(c, y, cg_math_const(c, x, 1.0)), cg_math_const(c, x, -1.0));
}

/* Minimax fits (Lawson-weighted least squares, absolute error before
 * rounding: erf 5.5e-8 on [0, 4], tanh 5.3e-8 on [0, 9]; beyond, both round
 * to +-1). In float they are off by up to 6 ulp of 1 (3.6e-7) near the ends,
 * against 2-3 for cg_math_erf / cg_math_tanh, at a third of the cost: no exp,
 * no second branch. GELU only needs them to absolute accuracy. */
static const double erf_p[] = {1.1283786779139027, 0.21393662680968437, 0.052432388907867396, 0.004292643054013325,
                               0.00015552191778508861, -1.9901678970563573e-06, 1.9215811654783703e-08};
static const double erf_q[] = {1.0, 0.5229240621677528, 0.12079626122451442, 0.015550352681058002,
                               0.0010979206745655769};
static const double tanh_p[] = {0.9999997373216741, 0.12910694307576567, 0.002912004190620174,
                                9.195145112345342e-06, -1.2591337482382284e-08, 1.7838485205175347e-11};
static const double tanh_q[] = {1.0, 0.4624392755670891, 0.02372621397021051, 0.00022694214214950421};

/* GELU: 0.5 x (1 + erf(x / sqrt 2)), or with tanh_form
 * 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), with the fits above. */
LLVMValueRef cg_math_gelu(CgCtx *c, LLVMValueRef x, int tanh_form) {
  LLVMBuilderRef b = c->b;
  LLVMValueRef t;
  if (tanh_form) {
    LLVMValueRef x3 = LLVMBuildFMul(b, LLVMBuildFMul(b, x, x, ""), x, "");
    LLVMValueRef u = fma3(c, x3, cg_math_const(c, x, 0.044715), x);
    u = LLVMBuildFMul(b, u, cg_math_const(c, x, 0.79788456080286536), ""); /* sqrt(2 / pi) */
    t = odd_rational(c, u, 9.0, tanh_p, 6, tanh_q, 4);
  } else {
    t = odd_rational(c, LLVMBuildFMul(b, x, cg_math_const(c, x, 0.70710678118654752), ""), 4.0, erf_p, 7, erf_q, 5);
  }
  LLVMValueRef hx = LLVMBuildFMul(b, x, cg_math_const(c, x, 0.5), "");
  LLVMValueRef y = fma3(c, hx, t, hx);
  return LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealUNO, x, x, ""), x, y, "");
}
