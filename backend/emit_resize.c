/* resize: the last two axes of x resized through ir_resize_geom's per-axis tables, computed at compile time
 * and placed in the weights blob: for each output row h and column w, taps input rows and columns (clamped)
 * with weights, so nearest, linear and cubic in every coordinate mode are one kernel with 1, 2 or 4 taps per
 * axis (unrolled). One work item per output row of each plane; the columns are a scalar loop (resize runs
 * on a position embedding or an image, not in a model's body). Table layout: h indices (i64), w indices
 * (i64), h weights (f32), w weights (f32). */
#include "cg_rows.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The kernel body (arguments x, tables, y). */
static void resize_kernel(CgCtx *c, const ResizeGeom *g) {
  LLVMBuilderRef b = c->b;
  int th = g->taps[0], tw = g->taps[1];
  int64_t iw_at = g->out[0] * th, wh_at = 2 * (iw_at + g->out[1] * tw), ww_at = wh_at + g->out[0] * th;
  LLVMValueRef begin, end;
  cg_kernel_parallel(c, g->outer * g->out[0], g->out[1] * th * tw, &begin, &end);
  CgLoop l = cg_loop_begin(c, begin, end, 1);
  LLVMValueRef h = LLVMBuildURem(b, l.iv, cg_i64(c, g->out[0]), "h");
  LLVMValueRef plane = LLVMBuildUDiv(b, l.iv, cg_i64(c, g->out[0]), "plane");
  LLVMValueRef rows[4], wh[4];
  for (int i = 0; i < th; i++) { /* the input rows of this output row, and their weights */
    LLVMValueRef k = LLVMBuildAdd(b, LLVMBuildMul(b, h, cg_i64(c, th), ""), cg_i64(c, i), "");
    LLVMValueRef ih = LLVMBuildLoad2(b, c->t_i64, cg_gep(c, DT_I64, c->args[1], k), "ih");
    LLVMValueRef r = LLVMBuildAdd(b, LLVMBuildMul(b, plane, cg_i64(c, g->in[0]), ""), ih, "");
    rows[i] = cg_gep(c, DT_F32, c->args[0], LLVMBuildMul(b, r, cg_i64(c, g->in[1]), ""));
    wh[i] = LLVMBuildLoad2(b, c->t_f32, cg_gep(c, DT_F32, c->args[1], LLVMBuildAdd(b, k, cg_i64(c, wh_at), "")), "");
  }
  LLVMValueRef out_row = cg_gep(c, DT_F32, c->args[2], LLVMBuildMul(b, l.iv, cg_i64(c, g->out[1]), ""));
  CgLoop lw = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, g->out[1]), 1);
  LLVMValueRef iw[4], ww[4], acc = LLVMConstReal(c->t_f32, 0);
  for (int j = 0; j < tw; j++) {
    LLVMValueRef k = LLVMBuildAdd(b, LLVMBuildMul(b, lw.iv, cg_i64(c, tw), ""), cg_i64(c, j), "");
    iw[j] = LLVMBuildLoad2(b, c->t_i64, cg_gep(c, DT_I64, c->args[1], LLVMBuildAdd(b, k, cg_i64(c, iw_at), "")), "iw");
    ww[j] = LLVMBuildLoad2(b, c->t_f32, cg_gep(c, DT_F32, c->args[1], LLVMBuildAdd(b, k, cg_i64(c, ww_at), "")), "");
  }
  for (int i = 0; i < th; i++) {
    LLVMValueRef rw = LLVMConstReal(c->t_f32, 0);
    for (int j = 0; j < tw; j++) {
      LLVMValueRef v = LLVMBuildLoad2(b, c->t_f32, cg_gep(c, DT_F32, rows[i], iw[j]), "");
      LLVMValueRef args[3] = {ww[j], v, rw};
      rw = cg_intrinsic(c, "llvm.fmuladd", &c->t_f32, 1, args, 3);
    }
    LLVMValueRef args[3] = {wh[i], rw, acc};
    acc = cg_intrinsic(c, "llvm.fmuladd", &c->t_f32, 1, args, 3);
  }
  LLVMBuildStore(b, acc, cg_gep(c, DT_F32, out_row, lw.iv));
  cg_loop_end(c, &lw);
  cg_loop_end(c, &l);
}

/* The tables of g as one malloc'd block (layout above); NULL when out of memory. */
static void *resize_tables(const ResizeGeom *g, uint64_t *bytes) {
  int64_t nh = g->out[0] * g->taps[0], nw = g->out[1] * g->taps[1];
  *bytes = (uint64_t)(nh + nw) * (sizeof(int64_t) + sizeof(float));
  char *t = malloc(*bytes ? *bytes : 1);
  if (!t) return NULL;
  memcpy(t, g->idx[0], (size_t)nh * sizeof(int64_t));
  memcpy(t + nh * sizeof(int64_t), g->idx[1], (size_t)nw * sizeof(int64_t));
  float *w = (float *)(t + (nh + nw) * sizeof(int64_t));
  for (int64_t k = 0; k < nh; k++) w[k] = (float)g->w[0][k];
  for (int64_t k = 0; k < nw; k++) w[nh + k] = (float)g->w[1][k];
  return t;
}

int cg_emit_resize(CgCtx *c, const Node *n, Diag *d) {
  ResizeGeom g;
  if (ir_resize_geom(n, &n->in[0]->t, &g, 1, d)) return -1;
  if (tensor_numel(&n->out[0]->t) == 0 || tensor_numel(&n->in[0]->t) == 0) {
    ir_resize_free(&g);
    return tensor_numel(&n->out[0]->t) == 0 ? 0 : ir_error(d, NULL, n, "resizing an empty input to a non-empty one");
  }
  char key[200];
  snprintf(key, sizeof key, "resize.%lld.i%lldx%lld.o%lldx%lld.t%dx%d", (long long)g.outer, (long long)g.in[0],
           (long long)g.in[1], (long long)g.out[0], (long long)g.out[1], g.taps[0], g.taps[1]);
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (!fn) {
    if (!(fn = cg_kernel_begin(c, key, 3, d))) {
      ir_resize_free(&g);
      return -1;
    }
    resize_kernel(c, &g);
    cg_kernel_end(c);
  }
  uint64_t bytes;
  void *tables = resize_tables(&g, &bytes);
  ir_resize_free(&g);
  if (!tables) return ir_error(d, NULL, n, "out of memory");
  int64_t off = cg_weights_add(c, tables, bytes, d);
  if (off < 0) return -1;
  LLVMValueRef args[3];
  if (!(args[0] = cg_value_ptr(c, n->in[0], d))) return -1;
  args[1] = cg_weights_ptr(c, off);
  if (!(args[2] = cg_value_ptr(c, n->out[0], d))) return -1;
  cg_kernel_call_args(c, fn, args, 3);
  return 0;
}
