/* pad: constant, reflect, edge and wrap padding (negative pads crop). Axes up to the last padded one, L,
 * are mapped through tables computed at compile time (placed in the weights blob): for each axis and output
 * index, the input element offset it reads (ir_pad_source times the axis's stride), or -1 for the
 * constant. The axes after L are unpadded and move as blocks of `blk` elements. A work item is one output
 * row along L: its source offset is the sum of the outer axes' entries (any -1: the whole row is the
 * constant); the part of the row inside the input is one memcpy, the padded ends go block by block through
 * L's table. The constant is read at run time (constant_value, 0 when absent). */
#include "cg_ctx.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The geometry of a pad node. */
typedef struct PadGeom {
  int rank, last;                        /* last: L, the last padded axis (rank - 1 when none is) */
  int64_t begin[IR_MAX_RANK], in_dims[IR_MAX_RANK], out_dims[IR_MAX_RANK], in_st[IR_MAX_RANK];
  int64_t blk;                           /* elements per block: the product of the dims after L */
  int64_t tab_off[IR_MAX_RANK];          /* where axis a's entries start in the table */
  int64_t tab_len;
  int64_t lo, hi;                        /* the output indices along L that read the input directly */
  DType bits;                            /* the integer type of the element's size: pads move bits */
} PadGeom;

/* Fills g from n; -1 with d filled. */
static int pad_geom(const Node *n, PadGeom *g, int *mode, Diag *d) {
  const Tensor *x = &n->in[0]->t, *pads = &n->in[1]->t, *axes = n->n_in > 3 && n->in[3] ? &n->in[3]->t : NULL;
  int64_t end[IR_MAX_RANK];
  if (!pads->data || (axes && !axes->data)) return ir_error(d, NULL, n, "pads and axes must be known at compile time");
  if ((*mode = ir_pad_mode(n, d)) < 0 || ir_pad_amounts(n, x, pads, axes, g->begin, end, d)) return -1;
  g->rank = x->rank ? x->rank : 1;
  g->last = g->rank - 1;
  for (int a = 0; a < g->rank; a++) {
    g->in_dims[a] = x->rank ? x->dims[a] : 1;
    if (!x->rank) g->begin[a] = end[a] = 0;
    g->out_dims[a] = g->in_dims[a] + g->begin[a] + end[a];
  }
  while (g->last > 0 && !g->begin[g->last] && !end[g->last]) g->last--;
  int64_t s = 1;
  for (int a = g->rank - 1; a >= 0; a--) g->in_st[a] = s, s *= g->in_dims[a];
  g->blk = g->in_st[g->last];
  g->tab_len = 0;
  for (int a = 0; a <= g->last; a++) g->tab_off[a] = g->tab_len, g->tab_len += g->out_dims[a];
  int64_t b = g->begin[g->last], dim = g->in_dims[g->last];
  g->lo = b > 0 ? b : 0;
  g->hi = b + dim < g->out_dims[g->last] ? b + dim : g->out_dims[g->last];
  if (g->hi < g->lo) g->hi = g->lo;
  g->bits = x->dtype == DT_F32 ? DT_I32 : x->dtype;
  return 0;
}

/* The table of g (malloc'd, tab_len entries), NULL when out of memory. */
static int64_t *pad_table(const PadGeom *g, PadMode mode) {
  int64_t *t = malloc((size_t)(g->tab_len ? g->tab_len : 1) * sizeof *t);
  for (int a = 0; t && a <= g->last; a++)
    for (int64_t o = 0; o < g->out_dims[a]; o++) {
      int64_t s = ir_pad_source(o, g->begin[a], g->in_dims[a], mode);
      t[g->tab_off[a] + o] = s < 0 ? -1 : s * g->in_st[a];
    }
  return t;
}

/* Stores v (one element) at out[at .. at + count) for i64 values at and count. */
static void pad_fill(CgCtx *c, DType t, LLVMValueRef out, LLVMValueRef at, LLVMValueRef count, LLVMValueRef v) {
  LLVMValueRef vec = cg_splat(c, v), full = LLVMBuildAnd(c->b, count, cg_i64(c, -CG_VW), "");
  CgLoop l = cg_loop_begin(c, cg_i64(c, 0), full, CG_VW);
  cg_store_vec(c, t, cg_gep(c, t, out, LLVMBuildAdd(c->b, at, l.iv, "")), vec, NULL);
  cg_loop_end(c, &l);
  LLVMValueRef rem = LLVMBuildSub(c->b, count, full, "");
  LLVMBasicBlockRef cont = cg_if_begin(c, LLVMBuildICmp(c->b, LLVMIntSGT, rem, cg_i64(c, 0), ""));
  cg_store_vec(c, t, cg_gep(c, t, out, LLVMBuildAdd(c->b, at, full, "")), vec, cg_tail_mask(c, rem));
  cg_if_end(c, cont);
}

/* Copies count elements (an i64 value) from x[src] to out[dst]. */
static void pad_copy(CgCtx *c, DType t, LLVMValueRef dst, LLVMValueRef src, LLVMValueRef count) {
  LLVMValueRef bytes = LLVMBuildMul(c->b, count, cg_i64(c, (int64_t)dt_size(t)), "");
  LLVMBuildMemCpy(c->b, cg_gep(c, t, c->args[3], dst), 1, cg_gep(c, t, c->args[0], src), 1, bytes);
}

/* The blocks [from, to) of a row along L, one by one through L's table (arguments: x, value, table, out). */
static void pad_ends(CgCtx *c, const PadGeom *g, LLVMValueRef src, LLVMValueRef dst, LLVMValueRef fill, int64_t from,
                     int64_t to) {
  if (from >= to) return;
  DType t = g->bits;
  CgLoop l = cg_loop_begin(c, cg_i64(c, from), cg_i64(c, to), 1);
  LLVMValueRef e = LLVMBuildLoad2(c->b, c->t_i64, cg_gep(c, DT_I64, c->args[2], LLVMBuildAdd(c->b, l.iv, cg_i64(c, g->tab_off[g->last]), "")), "");
  LLVMValueRef at = LLVMBuildAdd(c->b, dst, LLVMBuildMul(c->b, l.iv, cg_i64(c, g->blk), ""), "");
  LLVMValueRef is_const = LLVMBuildICmp(c->b, LLVMIntSLT, e, cg_i64(c, 0), "");
  LLVMBasicBlockRef then = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "pad_const");
  LLVMBasicBlockRef other = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "pad_read");
  LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "pad_block_done");
  LLVMBuildCondBr(c->b, is_const, then, other);
  LLVMPositionBuilderAtEnd(c->b, then);
  pad_fill(c, t, c->args[3], at, cg_i64(c, g->blk), fill);
  LLVMBuildBr(c->b, done);
  LLVMPositionBuilderAtEnd(c->b, other);
  pad_copy(c, t, at, LLVMBuildAdd(c->b, src, e, ""), cg_i64(c, g->blk));
  LLVMBuildBr(c->b, done);
  LLVMPositionBuilderAtEnd(c->b, done);
  cg_loop_end(c, &l);
}

/* The kernel body: one work item per output row along L. */
static void pad_kernel(CgCtx *c, const PadGeom *g, int has_value) {
  DType t = g->bits;
  int64_t rows = 1, row_len = g->out_dims[g->last] * g->blk;
  for (int a = 0; a < g->last; a++) rows *= g->out_dims[a];
  LLVMValueRef begin, end;
  cg_kernel_parallel(c, rows, row_len, &begin, &end);
  LLVMValueRef fill = has_value ? LLVMBuildLoad2(c->b, cg_elem_type(c, t), c->args[1], "fill")
                                : LLVMConstNull(cg_elem_type(c, t));
  CgLoop l = cg_loop_begin(c, begin, end, 1);
  LLVMValueRef r = l.iv, src = cg_i64(c, 0), bad = LLVMConstInt(c->t_i1, 0, 0);
  for (int a = g->last - 1; a >= 0; a--) {
    LLVMValueRef idx = a > 0 ? LLVMBuildURem(c->b, r, cg_i64(c, g->out_dims[a]), "") : r;
    if (a > 0) r = LLVMBuildUDiv(c->b, r, cg_i64(c, g->out_dims[a]), "");
    LLVMValueRef e = LLVMBuildLoad2(c->b, c->t_i64, cg_gep(c, DT_I64, c->args[2], LLVMBuildAdd(c->b, idx, cg_i64(c, g->tab_off[a]), "")), "");
    bad = LLVMBuildOr(c->b, bad, LLVMBuildICmp(c->b, LLVMIntSLT, e, cg_i64(c, 0), ""), "");
    src = LLVMBuildAdd(c->b, src, e, "");
  }
  LLVMValueRef dst = LLVMBuildMul(c->b, l.iv, cg_i64(c, row_len), "row");
  LLVMBasicBlockRef whole = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "pad_row_const");
  LLVMBasicBlockRef parts = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "pad_row");
  LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "pad_row_done");
  LLVMBuildCondBr(c->b, bad, whole, parts);
  LLVMPositionBuilderAtEnd(c->b, whole);
  pad_fill(c, t, c->args[3], dst, cg_i64(c, row_len), fill);
  LLVMBuildBr(c->b, done);
  LLVMPositionBuilderAtEnd(c->b, parts);
  if (g->hi > g->lo) { /* the middle: input blocks lo - begin .. hi - begin, in a row */
    LLVMValueRef from = LLVMBuildAdd(c->b, src, cg_i64(c, (g->lo - g->begin[g->last]) * g->blk), "");
    pad_copy(c, t, LLVMBuildAdd(c->b, dst, cg_i64(c, g->lo * g->blk), ""), from, cg_i64(c, (g->hi - g->lo) * g->blk));
  }
  pad_ends(c, g, src, dst, fill, 0, g->lo);
  pad_ends(c, g, src, dst, fill, g->hi, g->out_dims[g->last]);
  LLVMBuildBr(c->b, done);
  LLVMPositionBuilderAtEnd(c->b, done);
  cg_loop_end(c, &l);
}

int cg_emit_pad(CgCtx *c, const Node *n, Diag *d) {
  PadGeom g;
  int mode = 0;
  if (pad_geom(n, &g, &mode, d)) return -1;
  if (tensor_numel(&n->out[0]->t) == 0) return 0;
  int has_value = n->n_in > 2 && n->in[2];
  char key[512];
  size_t len = (size_t)snprintf(key, sizeof key, "pad.m%d.%s.v%d.L%d.b%lld", mode, dt_name(g.bits), has_value, g.last,
                                (long long)g.blk);
  for (int a = 0; a <= g.last && len < sizeof key; a++)
    len += (size_t)snprintf(key + len, sizeof key - len, ".%lld_%lld_%lld", (long long)g.in_dims[a],
                            (long long)g.begin[a], (long long)g.out_dims[a]);
  if (len >= sizeof key) return ir_error(d, NULL, n, "internal error: kernel key too long");
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (!fn) {
    if (!(fn = cg_kernel_begin(c, key, 4, d))) return -1;
    pad_kernel(c, &g, has_value);
    cg_kernel_end(c);
  }
  int64_t *table = pad_table(&g, (PadMode)mode);
  if (!table) return ir_error(d, NULL, n, "out of memory");
  int64_t off = cg_weights_add(c, table, (uint64_t)(g.tab_len ? g.tab_len : 1) * sizeof(int64_t), d);
  if (off < 0) return -1;
  LLVMValueRef args[4];
  if (!(args[0] = cg_value_ptr(c, n->in[0], d))) return -1;
  if (!(args[1] = has_value ? cg_value_ptr(c, n->in[2], d) : LLVMConstNull(c->t_ptr))) return -1;
  args[2] = cg_weights_ptr(c, off);
  if (!(args[3] = cg_value_ptr(c, n->out[0], d))) return -1;
  cg_kernel_call_args(c, fn, args, 4);
  return 0;
}
