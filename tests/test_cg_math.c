/* Accuracy of the backend's inline vector math (backend/cg_math.c) against
 * libm in double, over a sweep of the whole float range: the functions are
 * built as LLVM IR, JIT-compiled for the host and run on 16 lanes at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/ExecutionEngine.h>
#include <llvm-c/Target.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cg_math.h"

typedef LLVMValueRef (*MathFn)(CgCtx *, LLVMValueRef);
typedef void (*Kernel)(float *);

static double sigmoid_ref(double x) { return 1.0 / (1.0 + exp(-x)); }
static double rsqrt_ref(double x) { return 1.0 / sqrt(x); }
static double gelu_ref(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }
static double gelu_tanh_ref(double x) { return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x))); }
static LLVMValueRef gelu_emit(CgCtx *c, LLVMValueRef x) { return cg_math_gelu(c, x, 0); }
/* exp_nonpos on -|x|: its domain, every float of it once. */
static double exp_neg_abs(double x) { return exp(-fabs(x)); }
static LLVMValueRef exp_nonpos_emit(CgCtx *c, LLVMValueRef x) {
  LLVMTypeRef t = LLVMTypeOf(x);
  return cg_math_exp_nonpos(c, LLVMBuildFNeg(c->b, cg_intrinsic(c, "llvm.fabs", &t, 1, &x, 1), ""));
}
static LLVMValueRef gelu_tanh_emit(CgCtx *c, LLVMValueRef x) { return cg_math_gelu(c, x, 1); }

/* How an error is measured: |got - want|, relative to |want|, or relative to max(1, |x|). */
typedef enum ErrKind { ERR_ABS, ERR_REL, ERR_SCALED } ErrKind;
static const char *const err_names[] = {"absolute", "relative", "scaled"};

/* One row per function: its emitter, the reference, and the contract from cg_math.h. */
static const struct {
  const char *name;
  MathFn emit;
  double (*ref)(double);
  ErrKind kind;
  double bound;
} cases[] = {
  {"exp", cg_math_exp, exp, ERR_REL, 4e-7},
  {"exp_nonpos", exp_nonpos_emit, exp_neg_abs, ERR_REL, 4e-7},
  {"sigmoid", cg_math_sigmoid, sigmoid_ref, ERR_REL, 6e-7},
  {"tanh", cg_math_tanh, tanh, ERR_ABS, 3e-7},
  {"erf", cg_math_erf, erf, ERR_ABS, 2.5e-7},
  {"rsqrt", cg_math_rsqrt, rsqrt_ref, ERR_REL, 1.2e-7},
  {"log", cg_math_log, log, ERR_REL, 1.5e-7},
  {"gelu", gelu_emit, gelu_ref, ERR_SCALED, 2.5e-7},
  {"gelu_tanh", gelu_tanh_emit, gelu_tanh_ref, ERR_SCALED, 2.5e-7},
};

/* Builds `void NAME(float *p)` applying the emitter to 16 floats in place. */
static void build_kernel(CgCtx *c, const char *name, MathFn emit) {
  LLVMTypeRef vt = LLVMVectorType(c->t_f32, CG_VW);
  LLVMTypeRef fty = LLVMFunctionType(c->t_void, &c->t_ptr, 1, 0);
  LLVMValueRef fn = LLVMAddFunction(c->mod, name, fty);
  LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->ctx, fn, "entry"));
  LLVMValueRef p = LLVMGetParam(fn, 0);
  LLVMValueRef x = LLVMBuildLoad2(c->b, vt, p, "");
  LLVMSetAlignment(x, 4);
  LLVMSetAlignment(LLVMBuildStore(c->b, emit(c, x), p), 4);
  LLVMBuildRetVoid(c->b);
}

/* Largest error of one function over every 251st float bit pattern (and a few specials). */
static double sweep(Kernel k, int fi, double *worst_x) {
  double worst = 0;
  float buf[CG_VW], in[CG_VW];
  int lane = 0;
  for (uint64_t bits = 0; bits <= 0xffffffffull; bits += 251) {
    uint32_t u = (uint32_t)bits;
    float x;
    memcpy(&x, &u, 4);
    if (isnan(x)) continue;
    in[lane] = buf[lane] = x;
    if (++lane < CG_VW) continue;
    lane = 0;
    k(buf);
    for (int i = 0; i < CG_VW; i++) {
      double want = (float)cases[fi].ref(in[i]), got = buf[i];
      if (isinf(want) || want == 0 || isnan(want)) {
        /* Exact at the ends, except denormal-range results flushed to zero. */
        if (!(got == want || (isnan(want) && isnan(got)) || (want == 0 && fabs(got) < 1.2e-38))) {
          *worst_x = in[i];
          return INFINITY;
        }
        continue;
      }
      if (fabs(want) < 1.2e-38) continue; /* denormal results may flush to 0 */
      ErrKind kind = cases[fi].kind;
      double scale = kind == ERR_REL ? fabs(want) : kind == ERR_SCALED ? fmax(1.0, fabs(in[i])) : 1.0;
      double err = fabs(got - want) / scale;
      if (err > worst) {
        worst = err;
        *worst_x = in[i];
      }
    }
  }
  return worst;
}

static void test_accuracy(void **state) {
  (void)state;
  LLVMLinkInMCJIT();
  LLVMInitializeNativeTarget();
  LLVMInitializeNativeAsmPrinter();
  CgCtx c = {0};
  c.ctx = LLVMContextCreate();
  c.mod = LLVMModuleCreateWithNameInContext("math", c.ctx);
  c.b = LLVMCreateBuilderInContext(c.ctx);
  c.t_void = LLVMVoidTypeInContext(c.ctx);
  c.t_f32 = LLVMFloatTypeInContext(c.ctx);
  c.t_i32 = LLVMInt32TypeInContext(c.ctx);
  c.t_i64 = LLVMInt64TypeInContext(c.ctx);
  c.t_ptr = LLVMPointerTypeInContext(c.ctx, 0);
  int n = (int)(sizeof cases / sizeof cases[0]);
  for (int i = 0; i < n; i++) build_kernel(&c, cases[i].name, cases[i].emit);
  char *err = NULL;
  assert_int_equal(LLVMVerifyModule(c.mod, LLVMReturnStatusAction, &err), 0);
  LLVMDisposeMessage(err);
  LLVMExecutionEngineRef ee;
  struct LLVMMCJITCompilerOptions opts;
  LLVMInitializeMCJITCompilerOptions(&opts, sizeof opts);
  opts.OptLevel = 2;
  assert_int_equal(LLVMCreateMCJITCompilerForModule(&ee, c.mod, &opts, sizeof opts, &err), 0);
  int ok = 1;
  for (int i = 0; i < n; i++) {
    Kernel k = (Kernel)(uintptr_t)LLVMGetFunctionAddress(ee, cases[i].name);
    assert_non_null(k);
    double x = 0, e = sweep(k, i, &x);
    printf("%-9s max %s error %.3g (at x = %.9g), bound %.3g\n", cases[i].name,
           err_names[cases[i].kind], e, x, cases[i].bound);
    ok &= e <= cases[i].bound;
    float nan_in[CG_VW]; /* the sweep skips NaN: cg_math.h says it gives NaN */
    for (int l = 0; l < CG_VW; l++) nan_in[l] = l % 2 ? NAN : -0.5f * (float)l;
    k(nan_in);
    for (int l = 1; l < CG_VW; l += 2) ok &= isnan(nan_in[l]) ? 1 : (printf("%s(NaN) is %g\n", cases[i].name, nan_in[l]), 0);
  }
  LLVMDisposeBuilder(c.b);
  LLVMDisposeExecutionEngine(ee); /* owns the module */
  LLVMContextDispose(c.ctx);
  assert_true(ok);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_accuracy)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
