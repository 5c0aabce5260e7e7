/* Softmax over one axis (or, with coerce_2d, over all axes from `axis` on),
 * seen as [outer, len, inner]: y = exp(x - max) / sum(exp(x - max)).
 * inner == 1 (the ViT case, the last axis): one work item per row, vectors
 * along the row, three passes (max, exp and sum, scale). inner > 1: vectors
 * across 16 neighbouring columns, each lane its own softmax down the axis. */
#include "cg_math.h"
#include "cg_rows.h"
#include <stdio.h>

#define SM_BLOCK_MAX 16 /* most rows of cg_softmax_block_exp in flight */

/* What the scale pass of a row reads and writes. */
typedef struct SmRow {
  LLVMValueRef y; /* the row's first element in the output */
  LLVMValueRef s; /* the splatted 1 / sum */
} SmRow;

/* Scale pass: y[i..] *= 1 / sum. */
static LLVMValueRef sm_scale(CgCtx *c, void *env, LLVMValueRef i, LLVMValueRef mask, LLVMValueRef acc) {
  SmRow *r = env;
  LLVMValueRef p = cg_gep(c, DT_F32, r->y, i);
  cg_store_vec(c, DT_F32, p, LLVMBuildFMul(c->b, cg_load_vec(c, DT_F32, p, mask), r->s, ""), mask);
  return acc;
}

/* n rows whose passes share loops: row r at x + r * stride in the input, y + r * stride in the output. */
typedef struct SmBlock {
  LLVMValueRef x, y;
  int64_t stride;
  int n;
} SmBlock;

/* Vector i of each row of k (lanes in mask): the max pass (s NULL) folds x into acc[r]; the exp pass writes
 * y = exp(x - s[r]) and adds it to acc[r]. */
static void sm_block_step(CgCtx *c, const SmBlock *k, LLVMValueRef i, LLVMValueRef mask, const LLVMValueRef *s,
                          LLVMValueRef *acc) {
  for (int r = 0; r < k->n; r++) {
    LLVMValueRef at = LLVMBuildAdd(c->b, cg_i64(c, r * k->stride), i, "");
    LLVMValueRef v = cg_load_vec(c, DT_F32, cg_gep(c, DT_F32, k->x, at), mask);
    if (!s) {
      acc[r] = cg_fold(c, CG_FOLD_MAX, DT_F32, acc[r], v, mask);
      continue;
    }
    LLVMValueRef e = cg_math_exp_nonpos(c, LLVMBuildFSub(c->b, v, s[r], ""));
    cg_store_vec(c, DT_F32, cg_gep(c, DT_F32, k->y, at), e, mask);
    acc[r] = cg_fold(c, CG_FOLD_SUM, DT_F32, acc[r], e, mask);
  }
}

/* One pass over the block's rows of len: a loop over the full vectors carrying the n accumulators, then the
 * masked tail; out[r] is row r's accumulator folded across lanes (a float). */
static void sm_block_pass(CgCtx *c, const SmBlock *k, int64_t len, const LLVMValueRef *s, LLVMValueRef *out) {
  CgFold op = s ? CG_FOLD_SUM : CG_FOLD_MAX;
  int64_t full = len / CG_VW * CG_VW;
  LLVMValueRef acc[SM_BLOCK_MAX], phi[SM_BLOCK_MAX];
  for (int r = 0; r < k->n; r++) acc[r] = cg_fold_identity(c, op, DT_F32);
  if (full) {
    CgLoop l = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, full), CG_VW);
    for (int r = 0; r < k->n; r++) acc[r] = phi[r] = cg_carry(c, &l, acc[r]);
    sm_block_step(c, k, l.iv, NULL, s, acc);
    for (int r = 0; r < k->n; r++) cg_carry_next(c, phi[r], acc[r]);
    cg_loop_end(c, &l);
    for (int r = 0; r < k->n; r++) acc[r] = phi[r];
  }
  if (len > full) sm_block_step(c, k, cg_i64(c, full), cg_tail_mask(c, cg_i64(c, len - full)), s, acc);
  for (int r = 0; r < k->n; r++) out[r] = cg_fold_lanes(c, op, DT_F32, acc[r]);
}

/* The max and exp passes over block k; inv[r] = 1 / sum of row r (floats). */
static void sm_block_exp(CgCtx *c, const SmBlock *k, int64_t len, LLVMValueRef *inv) {
  LLVMValueRef mx[SM_BLOCK_MAX], sum[SM_BLOCK_MAX];
  sm_block_pass(c, k, len, NULL, mx);
  for (int r = 0; r < k->n; r++) mx[r] = cg_splat(c, mx[r]);
  sm_block_pass(c, k, len, mx, sum);
  for (int r = 0; r < k->n; r++) inv[r] = LLVMBuildFDiv(c->b, LLVMConstReal(c->t_f32, 1.0), sum[r], "");
}

void cg_softmax_block_exp(CgCtx *c, LLVMValueRef x, int64_t stride, int rows, int64_t len, int group,
                          LLVMValueRef inv) {
  group = group < 1 ? 1 : group > SM_BLOCK_MAX ? SM_BLOCK_MAX : group;
  for (int r0 = 0; r0 < rows; r0 += group) {
    LLVMValueRef xr = cg_gep(c, DT_F32, x, cg_i64(c, r0 * stride)), f[SM_BLOCK_MAX];
    SmBlock k = {xr, xr, stride, rows - r0 < group ? rows - r0 : group};
    sm_block_exp(c, &k, len, f);
    for (int r = 0; r < k.n; r++) LLVMBuildStore(c->b, f[r], cg_gep(c, DT_F32, inv, cg_i64(c, r0 + r)));
  }
}

void cg_softmax_row(CgCtx *c, LLVMValueRef x, LLVMValueRef y, int64_t len) {
  SmBlock k = {x, y, 0, 1};
  LLVMValueRef inv;
  sm_block_exp(c, &k, len, &inv);
  SmRow r = {y, cg_splat(c, inv)};
  cg_run(c, len, NULL, sm_scale, &r);
}

/* Rows of len contiguous elements: one row per work item. */
static void sm_rows(CgCtx *c, int64_t outer, int64_t len) {
  LLVMValueRef begin, end;
  cg_kernel_parallel(c, outer, len * 8, &begin, &end);
  CgLoop l = cg_loop_begin(c, begin, end, 1);
  LLVMValueRef off = LLVMBuildMul(c->b, l.iv, cg_i64(c, len), "");
  cg_softmax_row(c, cg_gep(c, DT_F32, c->args[0], off), cg_gep(c, DT_F32, c->args[1], off), len);
  cg_loop_end(c, &l);
}

/* One pass down the axis over a block of columns: k in [0, len), elements at base + k * inner. */
typedef struct SmCols {
  LLVMValueRef base, mask;
  int64_t len, inner;
} SmCols;

/* &arg[base + k * inner]. */
static LLVMValueRef sm_col_ptr(CgCtx *c, const SmCols *s, int arg, LLVMValueRef k) {
  LLVMValueRef off = LLVMBuildAdd(c->b, s->base, LLVMBuildMul(c->b, k, cg_i64(c, s->inner), ""), "");
  return cg_gep(c, DT_F32, c->args[arg], off);
}

/* Columns: work item t is the block of CG_VW columns (t % nb) of outer slice t / nb. */
static void sm_cols(CgCtx *c, int64_t outer, int64_t len, int64_t inner) {
  int64_t nb = (inner + CG_VW - 1) / CG_VW;
  LLVMValueRef begin, end;
  cg_kernel_parallel(c, outer * nb, len * CG_VW * 8, &begin, &end);
  CgLoop t = cg_loop_begin(c, begin, end, 1);
  LLVMValueRef o = LLVMBuildUDiv(c->b, t.iv, cg_i64(c, nb), "");
  LLVMValueRef j = LLVMBuildMul(c->b, LLVMBuildURem(c->b, t.iv, cg_i64(c, nb), ""), cg_i64(c, CG_VW), "");
  SmCols s = {LLVMBuildAdd(c->b, LLVMBuildMul(c->b, o, cg_i64(c, len * inner), ""), j, ""), NULL, len, inner};
  if (inner % CG_VW) s.mask = cg_tail_mask(c, LLVMBuildSub(c->b, cg_i64(c, inner), j, ""));
  /* Max. */
  CgLoop l = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, len), 1);
  LLVMValueRef mx = cg_carry(c, &l, cg_fold_identity(c, CG_FOLD_MAX, DT_F32));
  LLVMValueRef v = cg_load_vec(c, DT_F32, sm_col_ptr(c, &s, 0, l.iv), s.mask);
  cg_carry_next(c, mx, cg_fold(c, CG_FOLD_MAX, DT_F32, mx, v, NULL));
  cg_loop_end(c, &l);
  /* Exp and sum. */
  l = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, len), 1);
  LLVMValueRef sum = cg_carry(c, &l, cg_fold_identity(c, CG_FOLD_SUM, DT_F32));
  v = cg_load_vec(c, DT_F32, sm_col_ptr(c, &s, 0, l.iv), s.mask);
  LLVMValueRef e = cg_math_exp_nonpos(c, LLVMBuildFSub(c->b, v, mx, ""));
  cg_store_vec(c, DT_F32, sm_col_ptr(c, &s, 1, l.iv), e, s.mask);
  cg_carry_next(c, sum, LLVMBuildFAdd(c->b, sum, e, ""));
  cg_loop_end(c, &l);
  /* Scale. */
  LLVMValueRef inv = LLVMBuildFDiv(c->b, cg_math_const(c, sum, 1.0), sum, "");
  l = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, len), 1);
  LLVMValueRef p = sm_col_ptr(c, &s, 1, l.iv);
  cg_store_vec(c, DT_F32, p, LLVMBuildFMul(c->b, cg_load_vec(c, DT_F32, p, s.mask), inv, ""), s.mask);
  cg_loop_end(c, &l);
  cg_loop_end(c, &t);
}

int cg_emit_softmax(CgCtx *c, const Node *n, Diag *d) {
  const Tensor *x = &n->in[0]->t;
  if (x->dtype != DT_F32) return ir_error(d, NULL, n, "%s input is not supported by the backend", dt_name(x->dtype));
  int axis = cg_axis(n, x->rank, d);
  if (axis < 0) return -1;
  if (tensor_numel(x) == 0) return 0;
  int64_t outer = 1, len = 1, inner = 1;
  for (int a = 0; a < x->rank; a++) {
    if (a < axis) outer *= x->dims[a];
    else if (a == axis || ir_attr_i(n, "coerce_2d", 0)) len *= x->dims[a];
    else inner *= x->dims[a];
  }
  char key[128];
  snprintf(key, sizeof key, "softmax.%lldx%lldx%lld", (long long)outer, (long long)len, (long long)inner);
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (!fn) {
    if (!(fn = cg_kernel_begin(c, key, 2, d))) return -1;
    if (inner == 1) sm_rows(c, outer, len);
    else sm_cols(c, outer, len, inner);
    cg_kernel_end(c);
  }
  return cg_kernel_call(c, fn, n, 1, d);
}
