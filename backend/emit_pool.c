/* average_pool, max_pool: 1-D and 2-D NCHW pooling (ir_pool_geom; 1-D is 2-D with H = 1) as a direct
 * loop nest, like conv's. A work item is one output row of one (batch, channel) plane; it walks the row in
 * vectors of 16 output columns, folding each (kh, kw) tap: one read of the input pixels the 16 columns see
 * (cg_load_cols: a masked load; with strides 2-4 that many loads and a shuffle, beyond a gather), where
 * padding and the row's tail are masked lanes that read as the fold's identity (-inf, 0). A max takes
 * llvm.maximum (NaN wins); an average divides the sum by its taps, the product of two per-axis counts from a
 * table computed at compile time (ir_pool_count) and placed in the weights blob. */
#include "cg_rows.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* The input vector of tap (kh, kw) for columns ow0 .. ow0 + 15 of output row oh of plane p; lanes outside
 * the input or the row read as fill. */
static LLVMValueRef pool_input(CgCtx *c, const PoolGeom *g, LLVMValueRef p, LLVMValueRef oh, LLVMValueRef ow0,
                               LLVMValueRef cols, LLVMValueRef kh, LLVMValueRef kw, LLVMValueRef fill) {
  LLVMBuilderRef b = c->b;
  LLVMValueRef ih = LLVMBuildAdd(b, LLVMBuildMul(b, oh, cg_i64(c, g->st[0]), ""),
                                 LLVMBuildSub(b, LLVMBuildMul(b, kh, cg_i64(c, g->dl[0]), ""), cg_i64(c, g->pb[0]), ""), "ih");
  LLVMValueRef ih_ok = LLVMBuildICmp(b, LLVMIntULT, ih, cg_i64(c, g->in[0]), "");
  LLVMValueRef row = LLVMBuildMul(b, LLVMBuildAdd(b, LLVMBuildMul(b, p, cg_i64(c, g->in[0]), ""), ih, ""),
                                  cg_i64(c, g->in[1]), "");
  LLVMValueRef iw0 = LLVMBuildAdd(b, LLVMBuildMul(b, ow0, cg_i64(c, g->st[1]), ""),
                                  LLVMBuildSub(b, LLVMBuildMul(b, kw, cg_i64(c, g->dl[1]), ""), cg_i64(c, g->pb[1]), ""), "iw0");
  LLVMValueRef lanes[CG_VW];
  for (int l = 0; l < CG_VW; l++) lanes[l] = cg_i64(c, l * g->st[1]);
  LLVMValueRef iw = LLVMBuildAdd(b, cg_splat(c, iw0), LLVMConstVector(lanes, CG_VW), "iw");
  LLVMValueRef mask = LLVMBuildAnd(b, cols, LLVMBuildICmp(b, LLVMIntULT, iw, cg_splat(c, cg_i64(c, g->in[1])), ""), "");
  mask = LLVMBuildAnd(b, mask, cg_splat(c, ih_ok), "");
  LLVMValueRef base = LLVMBuildGEP2(b, c->t_f32, c->args[0], &row, 1, "");
  return cg_load_cols(c, base, iw0, iw, g->st[1], mask, fill);
}

/* The kernel body (arguments: x, table of counts or NULL, out). */
static void pool_kernel(CgCtx *c, const PoolGeom *g, int64_t planes, int is_max) {
  LLVMTypeRef vt = cg_vec_type(c, DT_F32);
  LLVMValueRef begin, end;
  cg_kernel_parallel(c, planes * g->out[0], g->out[1] * g->k[0] * g->k[1], &begin, &end);
  LLVMValueRef fill = is_max ? cg_splat(c, LLVMConstReal(c->t_f32, -INFINITY)) : LLVMConstNull(vt);
  CgLoop l = cg_loop_begin(c, begin, end, 1);
  LLVMValueRef oh = LLVMBuildURem(c->b, l.iv, cg_i64(c, g->out[0]), "oh");
  LLVMValueRef p = LLVMBuildUDiv(c->b, l.iv, cg_i64(c, g->out[0]), "plane");
  CgLoop lw = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, g->out[1]), CG_VW);
  LLVMValueRef cols = cg_tail_mask(c, LLVMBuildSub(c->b, cg_i64(c, g->out[1]), lw.iv, ""));
  CgLoop lh = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, g->k[0]), 1);
  LLVMValueRef ph = cg_carry(c, &lh, fill);
  CgLoop lk = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, g->k[1]), 1);
  LLVMValueRef pk = cg_carry(c, &lk, ph);
  LLVMValueRef v = pool_input(c, g, p, oh, lw.iv, cols, lh.iv, lk.iv, fill), next;
  if (is_max) {
    LLVMValueRef args[2] = {pk, v};
    next = cg_intrinsic(c, "llvm.maximum", &vt, 1, args, 2);
  } else {
    next = LLVMBuildFAdd(c->b, pk, v, "");
  }
  cg_carry_next(c, pk, next);
  cg_loop_end(c, &lk);
  cg_carry_next(c, ph, pk);
  cg_loop_end(c, &lh);
  LLVMValueRef r = ph;
  if (!is_max) { /* sum / (count_h[oh] * count_w[ow]) */
    LLVMValueRef ch = LLVMBuildLoad2(c->b, c->t_f32, cg_gep(c, DT_F32, c->args[1], oh), "");
    LLVMValueRef at = LLVMBuildAdd(c->b, lw.iv, cg_i64(c, g->out[0]), "");
    LLVMValueRef cw = cg_load_vec(c, DT_F32, cg_gep(c, DT_F32, c->args[1], at), cols);
    r = LLVMBuildFDiv(c->b, r, LLVMBuildFMul(c->b, cg_splat(c, ch), cw, ""), "");
  }
  LLVMValueRef off = LLVMBuildAdd(c->b, LLVMBuildMul(c->b, l.iv, cg_i64(c, g->out[1]), ""), lw.iv, "");
  cg_store_vec(c, DT_F32, cg_gep(c, DT_F32, c->args[2], off), r, cols);
  cg_loop_end(c, &lw);
  cg_loop_end(c, &l);
}

/* A pooling node: the kernel for its geometry, called with the count table (averages). */
static int emit_pool(CgCtx *c, const Node *n, int is_max, Diag *d) {
  const Tensor *x = &n->in[0]->t;
  PoolGeom g;
  if (ir_pool_geom(n, x, &g, d)) return -1;
  if (is_max && n->n_out > 1 && n->out[1]) return ir_error(d, NULL, n, "the Indices output is not supported");
  if (tensor_numel(&n->out[0]->t) == 0) return 0;
  int64_t planes = x->dims[0] * x->dims[1];
  char key[256];
  int len = snprintf(key, sizeof key, "%s.%lld.i%lldx%lld.o%lldx%lld.k%lldx%lld.s%lldx%lld.d%lldx%lld.p%lldx%lld",
                     is_max ? "max_pool" : "average_pool", (long long)planes, (long long)g.in[0], (long long)g.in[1],
                     (long long)g.out[0], (long long)g.out[1], (long long)g.k[0], (long long)g.k[1],
                     (long long)g.st[0], (long long)g.st[1], (long long)g.dl[0], (long long)g.dl[1],
                     (long long)g.pb[0], (long long)g.pb[1]);
  if (len < 0 || (size_t)len >= sizeof key) return ir_error(d, NULL, n, "internal error: kernel key too long");
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (!fn) {
    if (!(fn = cg_kernel_begin(c, key, 3, d))) return -1;
    pool_kernel(c, &g, planes, is_max);
    cg_kernel_end(c);
  }
  LLVMValueRef args[3];
  if (!(args[0] = cg_value_ptr(c, n->in[0], d))) return -1;
  args[1] = LLVMConstNull(c->t_ptr);
  if (!is_max) { /* the counts: out[0] for H, then out[1] for W */
    float *t = malloc((size_t)(g.out[0] + g.out[1]) * sizeof *t);
    if (!t) return ir_error(d, NULL, n, "out of memory");
    for (int a = 0, k = 0; a < 2; a++)
      for (int64_t o = 0; o < g.out[a]; o++) t[k++] = (float)ir_pool_count(&g, a, o);
    int64_t off = cg_weights_add(c, t, (uint64_t)(g.out[0] + g.out[1]) * sizeof *t, d);
    if (off < 0) return -1;
    args[1] = cg_weights_ptr(c, off);
  }
  if (!(args[2] = cg_value_ptr(c, n->out[0], d))) return -1;
  cg_kernel_call_args(c, fn, args, 3);
  return 0;
}

int cg_emit_average_pool(CgCtx *c, const Node *n, Diag *d) { return emit_pool(c, n, 0, d); }
int cg_emit_max_pool(CgCtx *c, const Node *n, Diag *d) { return emit_pool(c, n, 1, d); }
