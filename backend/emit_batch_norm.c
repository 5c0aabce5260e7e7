/* batch_norm (inference): x [N, C, D...] in planes of D elements, one plane per work item. Each plane's
 * channel c gives s = scale[c] / sqrt(var[c] + epsilon) (f32), and y = (x - mean[c]) * s + B[c] in vectors
 * of 16 with a masked tail. The parameters are read at run time, so the same kernel runs a BatchNorm
 * whose parameters are computed; canonicalize folds the usual Conv + BatchNorm into the Conv first. */
#include "cg_rows.h"
#include <stdio.h>
#include <string.h>

/* What a vector step of one plane needs. */
typedef struct BnPlane {
  LLVMValueRef x, y, s, mean, bias; /* plane input and output; splatted scale, mean and bias */
} BnPlane;

/* y[i..] = (x[i..] - mean) * s + bias. */
static LLVMValueRef bn_step(CgCtx *c, void *env, LLVMValueRef i, LLVMValueRef mask, LLVMValueRef acc) {
  BnPlane *p = env;
  LLVMTypeRef vt = cg_vec_type(c, DT_F32);
  LLVMValueRef v = LLVMBuildFSub(c->b, cg_load_vec(c, DT_F32, cg_gep(c, DT_F32, p->x, i), mask), p->mean, "");
  LLVMValueRef args[3] = {v, p->s, p->bias};
  cg_store_vec(c, DT_F32, cg_gep(c, DT_F32, p->y, i), cg_intrinsic(c, "llvm.fmuladd", &vt, 1, args, 3), mask);
  return acc;
}

/* The kernel body (arguments x, scale, B, mean, var, y). */
static void bn_kernel(CgCtx *c, int64_t planes, int64_t ch, int64_t inner, float eps) {
  LLVMValueRef begin, end;
  cg_kernel_parallel(c, planes, inner, &begin, &end);
  CgLoop l = cg_loop_begin(c, begin, end, 1);
  LLVMValueRef k = LLVMBuildURem(c->b, l.iv, cg_i64(c, ch), "channel");
  LLVMValueRef prm[4];
  for (int i = 0; i < 4; i++) prm[i] = LLVMBuildLoad2(c->b, c->t_f32, cg_gep(c, DT_F32, c->args[1 + i], k), "");
  LLVMValueRef sd = LLVMBuildFAdd(c->b, prm[3], LLVMConstReal(c->t_f32, eps), "");
  sd = cg_intrinsic(c, "llvm.sqrt", &c->t_f32, 1, &sd, 1);
  BnPlane p;
  LLVMValueRef off = LLVMBuildMul(c->b, l.iv, cg_i64(c, inner), "");
  p.x = cg_gep(c, DT_F32, c->args[0], off);
  p.y = cg_gep(c, DT_F32, c->args[5], off);
  p.s = cg_splat(c, LLVMBuildFDiv(c->b, prm[0], sd, ""));
  p.bias = cg_splat(c, prm[1]);
  p.mean = cg_splat(c, prm[2]);
  cg_run(c, inner, NULL, bn_step, &p);
  cg_loop_end(c, &l);
}

int cg_emit_batch_norm(CgCtx *c, const Node *n, Diag *d) {
  const Tensor *x = &n->in[0]->t;
  for (int k = 0; k < n->n_in; k++)
    if (!n->in[k] || n->in[k]->t.dtype != DT_F32) return ir_error(d, NULL, n, "operands must be f32 for the backend");
  for (int j = 1; j < n->n_out; j++)
    if (n->out[j]) return ir_error(d, NULL, n, "output %d (training) is not supported", j);
  int64_t ch = x->dims[1], planes = x->dims[0] * ch, inner = 1;
  for (int a = 2; a < x->rank; a++) inner *= x->dims[a];
  if (planes * inner == 0) return 0;
  float eps = ir_attr_f(n, "epsilon", 1e-5f);
  uint32_t eps_bits;
  memcpy(&eps_bits, &eps, sizeof eps_bits);
  char key[160];
  snprintf(key, sizeof key, "batch_norm.%lldx%lldx%lld.e%08x", (long long)x->dims[0], (long long)ch, (long long)inner,
           (unsigned)eps_bits);
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (!fn) {
    if (!(fn = cg_kernel_begin(c, key, 6, d))) return -1;
    bn_kernel(c, planes, ch, inner, eps);
    cg_kernel_end(c);
  }
  LLVMValueRef args[6];
  for (int i = 0; i < 5; i++)
    if (!(args[i] = cg_value_ptr(c, n->in[i], d))) return -1;
  if (!(args[5] = cg_value_ptr(c, n->out[0], d))) return -1;
  cg_kernel_call_args(c, fn, args, 6);
  return 0;
}
