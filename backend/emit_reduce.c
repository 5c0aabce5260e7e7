/* ReduceSum, ReduceMean, ReduceMax over the axes of constant input 1 (all
 * axes when absent or empty, none with noop_with_empty_axes); GlobalAveragePool
 * is ReduceMean over the axes after N and C. Unit axes are
 * dropped and neighbouring axes of one kind merged into groups, alternately
 * kept and reduced. When the innermost group is reduced, each output element
 * is a work item that folds its elements in vectors along that group (then
 * across the lanes); when it is kept, a work item is a block of CG_VW
 * neighbouring outputs, one lane each. Accumulation is in the input type:
 * f32 (a NaN wins for max), or wrapping integers (mean truncates). */
#include "cg_rows.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct RdGroup {
  int64_t size, in_stride, out_stride; /* out_stride for kept groups only */
  int reduced;
} RdGroup;

typedef struct RdPlan {
  RdGroup g[IR_MAX_RANK];
  int n;
  int rows;            /* the innermost group is reduced: vectors run along it */
  int64_t per, nout;   /* elements folded into each output; output count */
  CgFold op;
  int mean;
  DType t;
} RdPlan;

/* Marks the reduced axes of node n in mask; -1 (d filled) when input 1 has no data or an axis is out of range. */
static int rd_axes(const Node *n, int *mask, Diag *d) {
  const Tensor *x = &n->in[0]->t, *axes = n->n_in > 1 && n->in[1] ? &n->in[1]->t : NULL;
  int64_t count = axes ? tensor_numel(axes) : 0;
  memset(mask, 0, sizeof(int) * IR_MAX_RANK);
  if (count == 0) {
    for (int a = 0; a < x->rank; a++) mask[a] = !ir_attr_i(n, "noop_with_empty_axes", 0);
    return 0;
  }
  if (!axes->data) return ir_error(d, NULL, n, "axes must be a constant for the backend");
  for (int64_t i = 0; i < count; i++) {
    int64_t a = tensor_get_i64(axes, i);
    if (a < -x->rank || a >= x->rank) return ir_error(d, NULL, n, "axis %lld is out of range", (long long)a);
    mask[a < 0 ? a + x->rank : a] = 1;
  }
  return 0;
}

/* Groups the axes of x by mask; fills strides, per, nout and the mode. */
static void rd_plan(const Tensor *x, const int *mask, RdPlan *p) {
  p->n = 0;
  for (int a = 0; a < x->rank; a++) {
    if (x->dims[a] == 1) continue;
    if (p->n > 0 && p->g[p->n - 1].reduced == mask[a]) p->g[p->n - 1].size *= x->dims[a];
    else p->g[p->n++] = (RdGroup){x->dims[a], 0, 0, mask[a]};
  }
  if (p->n == 0) p->g[p->n++] = (RdGroup){1, 0, 0, 0}; /* a single element: copy it */
  int64_t in = 1, out = 1;
  p->per = 1;
  for (int i = p->n - 1; i >= 0; i--) {
    p->g[i].in_stride = in;
    in *= p->g[i].size;
    if (p->g[i].reduced) {
      p->per *= p->g[i].size;
    } else {
      p->g[i].out_stride = out;
      out *= p->g[i].size;
    }
  }
  p->nout = out;
  p->rows = p->g[p->n - 1].reduced;
}

/* Input offset of the output element with flat index q (an i64). */
static LLVMValueRef rd_in_offset(CgCtx *c, const RdPlan *p, LLVMValueRef q) {
  LLVMValueRef off = cg_i64(c, 0);
  for (int i = 0; i < p->n; i++) {
    const RdGroup *g = &p->g[i];
    if (g->reduced || g->size == 1) continue;
    LLVMValueRef idx = g->out_stride > 1 ? LLVMBuildUDiv(c->b, q, cg_i64(c, g->out_stride), "") : q;
    if (g->out_stride * g->size < p->nout) idx = LLVMBuildURem(c->b, idx, cg_i64(c, g->size), "");
    off = LLVMBuildAdd(c->b, off, LLVMBuildMul(c->b, idx, cg_i64(c, g->in_stride), ""), "");
  }
  return off;
}

/* The innermost step's view: the plan, where the elements start, which lanes count (cols mode). */
typedef struct RdRun {
  const RdPlan *p;
  LLVMValueRef base; /* pointer to the run's first element */
  LLVMValueRef mask; /* cols mode: the lanes in the block */
} RdRun;

/* Rows mode step: acc op= x[i..]. */
static LLVMValueRef rd_step(CgCtx *c, void *env, LLVMValueRef i, LLVMValueRef mask, LLVMValueRef acc) {
  RdRun *r = env;
  LLVMValueRef v = cg_load_vec(c, r->p->t, cg_gep(c, r->p->t, r->base, i), mask);
  return cg_fold(c, r->p->op, r->p->t, acc, v, mask);
}

/* Folds everything under reduced groups [gi, last) at input offset off into acc: loops over
 * each reduced group, then (rows mode) a vector run along the last group or (cols mode) one load. */
static LLVMValueRef rd_nest(CgCtx *c, const RdPlan *p, int gi, LLVMValueRef off, LLVMValueRef acc, RdRun *run) {
  int last = p->rows ? p->n - 1 : p->n;
  while (gi < last && !p->g[gi].reduced) gi++;
  if (gi >= last) {
    run->base = cg_gep(c, p->t, c->args[0], off);
    if (p->rows) return cg_run(c, p->g[p->n - 1].size, acc, rd_step, run);
    return cg_fold(c, p->op, p->t, acc, cg_load_vec(c, p->t, run->base, run->mask), NULL);
  }
  CgLoop l = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, p->g[gi].size), 1);
  LLVMValueRef phi = cg_carry(c, &l, acc);
  LLVMValueRef inner = LLVMBuildAdd(c->b, off, LLVMBuildMul(c->b, l.iv, cg_i64(c, p->g[gi].in_stride), ""), "");
  cg_carry_next(c, phi, rd_nest(c, p, gi + 1, inner, phi, run));
  cg_loop_end(c, &l);
  return phi;
}

/* Divides the sums by per for a mean (vector or scalar v). */
static LLVMValueRef rd_finish(CgCtx *c, const RdPlan *p, LLVMValueRef v) {
  if (!p->mean) return v;
  int vec = LLVMGetTypeKind(LLVMTypeOf(v)) == LLVMVectorTypeKind;
  LLVMValueRef k = p->t == DT_F32 ? LLVMConstReal(c->t_f32, (double)p->per)
                                  : LLVMConstInt(cg_elem_type(c, p->t), (unsigned long long)p->per, 1);
  if (vec) k = cg_splat(c, k);
  return p->t == DT_F32 ? LLVMBuildFDiv(c->b, v, k, "") : LLVMBuildSDiv(c->b, v, k, "");
}

/* The kernel body for plan p (arguments: input, output). */
static void rd_kernel(CgCtx *c, const RdPlan *p) {
  RdRun run = {p, NULL, NULL};
  int64_t lk = p->rows ? 1 : p->g[p->n - 1].size, nb = (lk + CG_VW - 1) / CG_VW;
  int64_t items = p->rows ? p->nout : p->nout / lk * nb;
  LLVMValueRef begin, end;
  cg_kernel_parallel(c, items, p->rows ? p->per : p->per * CG_VW, &begin, &end);
  CgLoop l = cg_loop_begin(c, begin, end, 1);
  LLVMValueRef q = l.iv;
  if (!p->rows) {
    LLVMValueRef j = LLVMBuildMul(c->b, LLVMBuildURem(c->b, l.iv, cg_i64(c, nb), ""), cg_i64(c, CG_VW), "");
    q = LLVMBuildAdd(c->b, LLVMBuildMul(c->b, LLVMBuildUDiv(c->b, l.iv, cg_i64(c, nb), ""), cg_i64(c, lk), ""), j, "");
    if (lk % CG_VW) run.mask = cg_tail_mask(c, LLVMBuildSub(c->b, cg_i64(c, lk), j, ""));
  }
  LLVMValueRef acc = rd_nest(c, p, 0, rd_in_offset(c, p, q), cg_fold_identity(c, p->op, p->t), &run);
  LLVMValueRef out = cg_gep(c, p->t, c->args[1], q);
  if (p->rows) LLVMBuildStore(c->b, rd_finish(c, p, cg_fold_lanes(c, p->op, p->t, acc)), out);
  else cg_store_vec(c, p->t, out, rd_finish(c, p, acc), run.mask);
  cg_loop_end(c, &l);
}

/* What a reduction over no elements gives: a sum 0, a max -inf (the type's minimum for integers, as ONNX
 * says), an f32 mean NaN (0 / 0). */
static LLVMValueRef rd_empty_value(CgCtx *c, const RdPlan *p) {
  LLVMTypeRef et = cg_elem_type(c, p->t);
  if (p->mean) return LLVMConstReal(et, NAN);
  if (p->op == CG_FOLD_SUM) return LLVMConstNull(et);
  if (p->t == DT_F32) return LLVMConstReal(et, -INFINITY);
  return LLVMConstInt(et, 1ull << (LLVMGetIntTypeWidth(et) - 1), 0);
}

/* A reduction kernel for node n over the axes set in mask (NULL: the axes of input 1): op folds, mean
 * divides by the count. */
static int emit_reduce(CgCtx *c, const Node *n, const char *name, CgFold op, int mean, const int *axes, Diag *d) {
  const Tensor *x = &n->in[0]->t;
  RdPlan p = {.op = op, .mean = mean, .t = x->dtype};
  int mask[IR_MAX_RANK];
  if (x->dtype != DT_F32 && x->dtype != DT_I64 && x->dtype != DT_I32)
    return ir_error(d, NULL, n, "%s input is not supported by the backend", dt_name(x->dtype));
  if (axes) memcpy(mask, axes, sizeof mask);
  else if (rd_axes(n, mask, d)) return -1;
  if (tensor_numel(&n->out[0]->t) == 0) return 0;
  char key[256];
  if (tensor_numel(x) == 0) { /* every output element folds nothing */
    if (mean && x->dtype != DT_F32)
      return ir_error(d, NULL, n, "the mean of no elements is undefined for %s", dt_name(x->dtype));
    snprintf(key, sizeof key, "%s.%s.empty%lld", name, dt_name(x->dtype), (long long)tensor_numel(&n->out[0]->t));
    LLVMValueRef fn = cg_kernel_find(c, key);
    if (!fn) {
      if (!(fn = cg_kernel_begin(c, key, 2, d))) return -1;
      cg_fill_kernel(c, tensor_numel(&n->out[0]->t), x->dtype, rd_empty_value(c, &p), (int[]){1}, 1);
      cg_kernel_end(c);
    }
    return cg_kernel_call(c, fn, n, 1, d);
  }
  rd_plan(x, mask, &p);
  size_t len = (size_t)snprintf(key, sizeof key, "%s.%s.", name, dt_name(x->dtype));
  for (int i = 0; i < p.n && len < sizeof key; i++)
    len += (size_t)snprintf(key + len, sizeof key - len, "%c%lld", p.g[i].reduced ? 'R' : 'K', (long long)p.g[i].size);
  if (len >= sizeof key) return ir_error(d, NULL, n, "internal error: kernel key too long");
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (!fn) {
    if (!(fn = cg_kernel_begin(c, key, 2, d))) return -1;
    rd_kernel(c, &p);
    cg_kernel_end(c);
  }
  return cg_kernel_call(c, fn, n, 1, d);
}

int cg_emit_reduce_sum(CgCtx *c, const Node *n, Diag *d) {
  return emit_reduce(c, n, "reduce_sum", CG_FOLD_SUM, 0, NULL, d);
}
int cg_emit_reduce_mean(CgCtx *c, const Node *n, Diag *d) {
  return emit_reduce(c, n, "reduce_mean", CG_FOLD_SUM, 1, NULL, d);
}
int cg_emit_reduce_max(CgCtx *c, const Node *n, Diag *d) {
  return emit_reduce(c, n, "reduce_max", CG_FOLD_MAX, 0, NULL, d);
}

/* GlobalAveragePool: the mean over every axis after the first two. */
int cg_emit_global_average_pool(CgCtx *c, const Node *n, Diag *d) {
  int mask[IR_MAX_RANK] = {0};
  for (int a = 2; a < n->in[0]->t.rank; a++) mask[a] = 1;
  return emit_reduce(c, n, "reduce_mean", CG_FOLD_SUM, 1, mask, d);
}
