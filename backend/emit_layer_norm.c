/* LayerNormalization over axes [axis, rank): rows of len contiguous elements,
 * one row per work item, three vector passes in f32: the mean, the variance
 * around it (two passes, no cancellation), then y = (x - mean) * inv * scale
 * + bias with inv = 1 / sqrt(var + epsilon). Optional outputs Mean and
 * InvStdDev get one value per row. Scale and bias are scalars or suffixes of
 * the normalized shape (the row is walked as [len / span, span] with span the
 * smallest suffix; an operand of m elements is read at (r % (m / span)) * span + j). */
#include "cg_rows.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* An affine operand (scale or bias): absent, a scalar, or m elements read as above. */
typedef struct LnAffine {
  int arg;       /* kernel argument, -1 when absent */
  int64_t m;     /* element count; 1 for a scalar */
  LLVMValueRef p; /* the first element of the current repetition, or the splat scalar */
} LnAffine;

/* What the passes of one row need. */
typedef struct LnRow {
  LLVMValueRef x, y, s; /* row input, row output; the splatted mean (variance and output passes) */
  LLVMValueRef inv;     /* splatted 1 / std (output pass) */
  LnAffine aff[2];      /* scale, bias */
  int64_t span;
} LnRow;

/* acc += x[i..]. */
static LLVMValueRef ln_sum(CgCtx *c, void *env, LLVMValueRef i, LLVMValueRef mask, LLVMValueRef acc) {
  LnRow *r = env;
  return cg_fold(c, CG_FOLD_SUM, DT_F32, acc, cg_load_vec(c, DT_F32, cg_gep(c, DT_F32, r->x, i), mask), mask);
}

/* acc += (x[i..] - mean)^2. */
static LLVMValueRef ln_var(CgCtx *c, void *env, LLVMValueRef i, LLVMValueRef mask, LLVMValueRef acc) {
  LnRow *r = env;
  LLVMValueRef v = LLVMBuildFSub(c->b, cg_load_vec(c, DT_F32, cg_gep(c, DT_F32, r->x, i), mask), r->s, "");
  return cg_fold(c, CG_FOLD_SUM, DT_F32, acc, LLVMBuildFMul(c->b, v, v, ""), mask);
}

/* The affine operand's vector at element j of the current repetition. */
static LLVMValueRef ln_affine_vec(CgCtx *c, const LnAffine *a, LLVMValueRef j, LLVMValueRef mask) {
  return a->m == 1 ? a->p : cg_load_vec(c, DT_F32, cg_gep(c, DT_F32, a->p, j), mask);
}

/* y[j..] = (x[j..] - mean) * inv * scale + bias, within the current repetition. */
static LLVMValueRef ln_out(CgCtx *c, void *env, LLVMValueRef j, LLVMValueRef mask, LLVMValueRef acc) {
  LnRow *r = env;
  LLVMTypeRef vt = cg_vec_type(c, DT_F32);
  LLVMValueRef v = LLVMBuildFSub(c->b, cg_load_vec(c, DT_F32, cg_gep(c, DT_F32, r->x, j), mask), r->s, "");
  v = LLVMBuildFMul(c->b, v, r->inv, "");
  LLVMValueRef scale = ln_affine_vec(c, &r->aff[0], j, mask);
  if (r->aff[1].arg < 0) {
    v = LLVMBuildFMul(c->b, v, scale, "");
  } else {
    LLVMValueRef args[3] = {v, scale, ln_affine_vec(c, &r->aff[1], j, mask)};
    v = cg_intrinsic(c, "llvm.fmuladd", &vt, 1, args, 3);
  }
  cg_store_vec(c, DT_F32, cg_gep(c, DT_F32, r->y, j), v, mask);
  return acc;
}

/* Points the affine operands at repetition rep (an i64) of the row. */
static void ln_affine_at(CgCtx *c, LnRow *r, LLVMValueRef rep) {
  for (int k = 0; k < 2; k++) {
    LnAffine *a = &r->aff[k];
    if (a->arg < 0) continue;
    if (a->m == 1) {
      a->p = cg_splat(c, LLVMBuildLoad2(c->b, c->t_f32, c->args[a->arg], ""));
      continue;
    }
    LLVMValueRef q = a->m == r->span ? cg_i64(c, 0) : LLVMBuildURem(c->b, rep, cg_i64(c, a->m / r->span), "");
    a->p = cg_gep(c, DT_F32, c->args[a->arg], LLVMBuildMul(c->b, q, cg_i64(c, r->span), ""));
  }
}

/* The output pass over the row's len / span repetitions. */
static void ln_output(CgCtx *c, LnRow *r, int64_t len) {
  LLVMValueRef x = r->x, y = r->y;
  int64_t reps = len / r->span;
  CgLoop l = {0};
  LLVMValueRef rep = cg_i64(c, 0);
  if (reps > 1) {
    l = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, reps), 1);
    rep = l.iv;
    LLVMValueRef off = LLVMBuildMul(c->b, rep, cg_i64(c, r->span), "");
    r->x = cg_gep(c, DT_F32, x, off);
    r->y = cg_gep(c, DT_F32, y, off);
  }
  ln_affine_at(c, r, rep);
  cg_run(c, r->span, NULL, ln_out, r);
  if (reps > 1) cg_loop_end(c, &l);
  r->x = x;
  r->y = y;
}

/* The kernel body: rows in parallel; out_arg is the first output's argument. */
static void ln_kernel(CgCtx *c, LnRow *r, int64_t rows, int64_t len, double eps, int out_arg, int has_mean,
                      int has_inv) {
  LLVMValueRef begin, end;
  cg_kernel_parallel(c, rows, len * 4, &begin, &end);
  CgLoop l = cg_loop_begin(c, begin, end, 1);
  LLVMValueRef off = LLVMBuildMul(c->b, l.iv, cg_i64(c, len), "");
  r->x = cg_gep(c, DT_F32, c->args[0], off);
  r->y = cg_gep(c, DT_F32, c->args[out_arg], off);
  LLVMValueRef count = LLVMConstReal(c->t_f32, (double)len);
  LLVMValueRef zero = cg_fold_identity(c, CG_FOLD_SUM, DT_F32);
  LLVMValueRef sum = cg_fold_lanes(c, CG_FOLD_SUM, DT_F32, cg_run(c, len, zero, ln_sum, r));
  LLVMValueRef mean = LLVMBuildFDiv(c->b, sum, count, "mean");
  r->s = cg_splat(c, mean);
  LLVMValueRef ss = cg_fold_lanes(c, CG_FOLD_SUM, DT_F32, cg_run(c, len, zero, ln_var, r));
  LLVMValueRef var = LLVMBuildFAdd(c->b, LLVMBuildFDiv(c->b, ss, count, ""), LLVMConstReal(c->t_f32, eps), "");
  LLVMValueRef sd = cg_intrinsic(c, "llvm.sqrt", &c->t_f32, 1, &var, 1);
  LLVMValueRef inv = LLVMBuildFDiv(c->b, LLVMConstReal(c->t_f32, 1.0), sd, "inv");
  r->inv = cg_splat(c, inv);
  ln_output(c, r, len);
  if (has_mean) LLVMBuildStore(c->b, mean, cg_gep(c, DT_F32, c->args[out_arg + 1], l.iv));
  if (has_inv) LLVMBuildStore(c->b, inv, cg_gep(c, DT_F32, c->args[out_arg + 2], l.iv));
  cg_loop_end(c, &l);
}

/* Element count of t if it is a scalar or a suffix of the normalized shape dims[axis:] (leading 1s
 * allowed); else -1. */
static int64_t ln_suffix(const Tensor *t, const Tensor *x, int axis) {
  int r = t->rank;
  while (r > 0 && t->dims[t->rank - r] == 1) r--;
  if (r > x->rank - axis) return -1;
  for (int i = 0; i < r; i++)
    if (t->dims[t->rank - 1 - i] != x->dims[x->rank - 1 - i]) return -1;
  return tensor_numel(t);
}

/* A layer norm with nothing to compute: y is empty; over an empty normalized axis, each of the rows has
 * a Mean and InvStdDev of NaN (0 / 0, as the interpreter's). */
static int ln_empty(CgCtx *c, const Node *n, int64_t rows, int has_mean, int has_inv, Diag *d) {
  if (rows == 0 || !(has_mean || has_inv)) return 0;
  char key[96];
  snprintf(key, sizeof key, "layer_norm.empty%lld.%d%d%d", (long long)rows, n->n_in, has_mean, has_inv);
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (!fn) {
    int outs[2], k = 0;
    if (has_mean) outs[k++] = n->n_in + 1;
    if (has_inv) outs[k++] = n->n_in + 2;
    if (!(fn = cg_kernel_begin(c, key, n->n_in + n->n_out, d))) return -1;
    cg_fill_kernel(c, rows, DT_F32, LLVMConstReal(c->t_f32, NAN), outs, k);
    cg_kernel_end(c);
  }
  return cg_kernel_call(c, fn, n, n->n_in, d);
}

int cg_emit_layer_norm(CgCtx *c, const Node *n, Diag *d) {
  const Tensor *x = &n->in[0]->t;
  int has_bias = n->n_in > 2 && n->in[2];
  for (int k = 0; k < n->n_in; k++)
    if (n->in[k] && n->in[k]->t.dtype != DT_F32) return ir_error(d, NULL, n, "operands must be f32 for the backend");
  int axis = cg_axis(n, x->rank, d);
  if (axis < 0) return -1;
  int64_t rows = 1, len = 1;
  for (int a = 0; a < x->rank; a++) *(a < axis ? &rows : &len) *= x->dims[a];
  int has_mean = n->n_out > 1 && n->out[1], has_inv = n->n_out > 2 && n->out[2];
  if (rows * len == 0) return ln_empty(c, n, rows, has_mean, has_inv, d);
  LnRow r = {.aff = {{1, 1, NULL}, {has_bias ? 2 : -1, 1, NULL}}, .span = len};
  for (int k = 0; k < 1 + has_bias; k++) {
    if ((r.aff[k].m = ln_suffix(&n->in[1 + k]->t, x, axis)) < 0)
      return ir_error(d, NULL, n, "%s must be a scalar or a suffix of the normalized shape for the backend",
                      k ? "bias" : "scale");
    if (r.aff[k].m > 1 && r.aff[k].m < r.span) r.span = r.aff[k].m;
  }
  float eps = ir_attr_f(n, "epsilon", 1e-5f);
  uint32_t eps_bits;
  memcpy(&eps_bits, &eps, sizeof eps_bits);
  char key[160];
  snprintf(key, sizeof key, "layer_norm.%lldx%lld.s%lld.b%lld.%d%d%d.e%08x", (long long)rows, (long long)len,
           (long long)r.aff[0].m, (long long)(has_bias ? r.aff[1].m : 0), n->n_in, has_mean, has_inv,
           (unsigned)eps_bits);
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (!fn) {
    if (!(fn = cg_kernel_begin(c, key, n->n_in + n->n_out, d))) return -1;
    ln_kernel(c, &r, rows, len, eps, n->n_in, has_mean, has_inv);
    cg_kernel_end(c);
  }
  return cg_kernel_call(c, fn, n, n->n_in, d);
}
