/* Index-mapping copies: transpose, expand and slice read their input through
 * static per-axis strides (permuted by a transpose, 0 on a broadcast axis,
 * times the step of a slice, negative for a reversed slice) into a dense
 * output. Axes are coalesced, then each row of the output is a memcpy (source
 * stride 1), a vector splat (stride 0) or a strided loop. A work item is a
 * group of rows along one axis: when a strided row has the source's
 * contiguous axis elsewhere (a 2-D-like transpose), a tile along that axis,
 * so that each source cache line is used while it is hot (full tiles of
 * 4-byte elements move as 8x8 blocks transposed in registers); when rows are
 * short, enough rows of the next outer axis to amortize finding the place.
 * ConstantOfShape is the same kernel broadcasting a constant instead. */
#include "cg_ctx.h"
#include <stdio.h>
#include <string.h>

#define CM_TILE_ROWS 16  /* rows of a tile: steps along the axis where the source is contiguous */
#define CM_TILE_COLS 64  /* output elements per tile row */
#define CM_GROUP 1024    /* elements per work item when rows are shorter */
#define CM_BLOCK 4096    /* elements per work item when a row is longer than CM_LONG_ROW */
#define CM_LONG_ROW 8192

/* out[i] = src[base + sum_a idx_a(i) * src[a]] over the coalesced output axes. */
typedef struct CopyMap {
  int m;                    /* axes after dropping size-1 axes and merging (>= 1) */
  int tile;                 /* the axis a work item walks `rows` rows of, or -1 */
  int64_t rows;             /* rows per work item along `tile` */
  int transpose;            /* tile is a transpose tile: source stride 1 on `tile`, not on the inner axis */
  int64_t dims[IR_MAX_RANK];
  int64_t src[IR_MAX_RANK]; /* source element stride per output axis */
  int64_t dst[IR_MAX_RANK]; /* output element stride (the output is dense) */
  int64_t base;             /* source element offset of output element 0 */
  DType dtype;              /* an integer type of the element's size: copies move bits */
  int has_fill;             /* every element is fill (the bits of one element), nothing is read */
  uint64_t fill;
} CopyMap;

/* The integer dtype whose elements have t's size. */
static DType cm_bits_type(DType t) { return t == DT_F32 ? DT_I32 : t; }

/* Builds the map for output `out` read from source strides `src` (per output axis) at `base`. */
static void cm_init(CopyMap *cm, const Tensor *out, const int64_t *src, int64_t base) {
  memset(cm, 0, sizeof *cm);
  cm->base = base;
  cm->dtype = cm_bits_type(out->dtype);
  for (int a = 0; a < out->rank; a++) {
    if (out->dims[a] == 1) continue;
    if (cm->m > 0 && cm->src[cm->m - 1] == src[a] * out->dims[a]) {
      cm->dims[cm->m - 1] *= out->dims[a];
      cm->src[cm->m - 1] = src[a];
    } else {
      cm->dims[cm->m] = out->dims[a];
      cm->src[cm->m++] = src[a];
    }
  }
  if (cm->m == 0) cm->dims[cm->m++] = 1;
  int64_t s = 1;
  for (int a = cm->m - 1; a >= 0; a--) cm->dst[a] = s, s *= cm->dims[a];
  cm->tile = -1;
  int inner = cm->m - 1;
  for (int a = inner - 1; a >= 0 && cm->src[inner] != 1 && cm->src[inner] != 0 && cm->tile < 0; a--)
    if (cm->src[a] == 1) cm->tile = a, cm->rows = CM_TILE_ROWS, cm->transpose = 1;
  if (cm->tile < 0 && inner > 0 && cm->dims[inner] < CM_GROUP) {
    cm->tile = inner - 1;
    cm->rows = CM_GROUP / cm->dims[inner] < cm->dims[inner - 1] ? CM_GROUP / cm->dims[inner] : cm->dims[inner - 1];
  }
}

/* "xcopy.ES.bBASE.DIMxSTRIDE..." or "xfill.ES.BITS.DIMxSTRIDE..."; -1 when it does not fit. */
static int cm_key(const CopyMap *cm, char *key, size_t cap) {
  size_t es = dt_size(cm->dtype);
  size_t len = cm->has_fill ? (size_t)snprintf(key, cap, "xfill.%zu.%llx", es, (unsigned long long)cm->fill)
                            : (size_t)snprintf(key, cap, "xcopy.%zu.b%lld", es, (long long)cm->base);
  for (int a = 0; a < cm->m && len < cap; a++)
    len += (size_t)snprintf(key + len, cap - len, ".%lldx%lld", (long long)cm->dims[a], (long long)cm->src[a]);
  return len < cap ? 0 : -1;
}

/* Elements of the inner axis per work item. */
static int64_t cm_block(const CopyMap *cm) {
  int64_t n = cm->dims[cm->m - 1];
  if (cm->transpose) return n < CM_TILE_COLS ? n : CM_TILE_COLS;
  return n > CM_LONG_ROW ? CM_BLOCK : n;
}

/* How many steps work items take along axis a (< inner): groups of rows on the tile axis. */
static int64_t cm_steps(const CopyMap *cm, int a) {
  return a == cm->tile ? (cm->dims[a] + cm->rows - 1) / cm->rows : cm->dims[a];
}

/* min(limit, dim - start) for i64 values (dim a constant). */
static LLVMValueRef cm_min_left(CgCtx *c, int64_t dim, LLVMValueRef start, int64_t limit) {
  LLVMValueRef left = LLVMBuildSub(c->b, cg_i64(c, dim), start, "");
  LLVMValueRef lt = LLVMBuildICmp(c->b, LLVMIntSLT, left, cg_i64(c, limit), "");
  return LLVMBuildSelect(c->b, lt, left, cg_i64(c, limit), "");
}

/* One work item's place: source and output offsets, inner count, tile rows. */
typedef struct CmItem {
  LLVMValueRef src, dst, count, rows; /* rows: NULL without a tile */
} CmItem;

/* Decomposes work item t into per-axis indices (inner block last) and offsets. */
static void cm_item(CgCtx *c, const CopyMap *cm, LLVMValueRef t, CmItem *it) {
  int inner = cm->m - 1;
  int64_t block = cm_block(cm), nj = (cm->dims[inner] + block - 1) / block;
  LLVMValueRef r = nj > 1 ? LLVMBuildUDiv(c->b, t, cg_i64(c, nj), "") : t;
  LLVMValueRef start = nj > 1 ? LLVMBuildMul(c->b, LLVMBuildURem(c->b, t, cg_i64(c, nj), ""), cg_i64(c, block), "")
                              : cg_i64(c, 0);
  it->src = LLVMBuildAdd(c->b, cg_i64(c, cm->base), LLVMBuildMul(c->b, start, cg_i64(c, cm->src[inner]), ""), "");
  it->dst = start;
  it->rows = NULL;
  for (int a = inner - 1; a >= 0; a--) {
    int64_t steps = cm_steps(cm, a), scale = a == cm->tile ? cm->rows : 1;
    LLVMValueRef idx = a > 0 ? LLVMBuildURem(c->b, r, cg_i64(c, steps), "") : r;
    if (a > 0) r = LLVMBuildUDiv(c->b, r, cg_i64(c, steps), "");
    LLVMValueRef first = LLVMBuildMul(c->b, idx, cg_i64(c, scale), "");
    it->src = LLVMBuildAdd(c->b, it->src, LLVMBuildMul(c->b, first, cg_i64(c, cm->src[a]), ""), "");
    it->dst = LLVMBuildAdd(c->b, it->dst, LLVMBuildMul(c->b, first, cg_i64(c, cm->dst[a]), ""), "");
    if (a == cm->tile) it->rows = cm_min_left(c, cm->dims[a], first, cm->rows);
  }
  it->count = nj > 1 ? cm_min_left(c, cm->dims[inner], start, block) : cg_i64(c, cm->dims[inner]);
}

/* Stores the splat v at out[d .. d+count): full vectors, then a masked tail. */
static void cm_fill_row(CgCtx *c, DType t, LLVMValueRef d, LLVMValueRef count, LLVMValueRef v) {
  LLVMValueRef full = LLVMBuildAnd(c->b, count, cg_i64(c, -CG_VW), "");
  CgLoop l = cg_loop_begin(c, cg_i64(c, 0), full, CG_VW);
  cg_store_vec(c, t, cg_gep(c, t, c->args[1], LLVMBuildAdd(c->b, d, l.iv, "")), v, NULL);
  cg_loop_end(c, &l);
  LLVMValueRef rem = LLVMBuildSub(c->b, count, full, "");
  LLVMBasicBlockRef cont = cg_if_begin(c, LLVMBuildICmp(c->b, LLVMIntSGT, rem, cg_i64(c, 0), ""));
  cg_store_vec(c, t, cg_gep(c, t, c->args[1], LLVMBuildAdd(c->b, d, full, "")), v, cg_tail_mask(c, rem));
  cg_if_end(c, cont);
}

/* Copies one output row of count elements from source offset s to output offset d. */
static void cm_row(CgCtx *c, const CopyMap *cm, LLVMValueRef s, LLVMValueRef d, LLVMValueRef count) {
  DType t = cm->dtype;
  int64_t stride = cm->src[cm->m - 1];
  if (stride == 1) {
    LLVMValueRef bytes = LLVMBuildMul(c->b, count, cg_i64(c, (int64_t)dt_size(t)), "");
    LLVMBuildMemCpy(c->b, cg_gep(c, t, c->args[1], d), 1, cg_gep(c, t, c->args[0], s), 1, bytes);
  } else if (stride == 0) {
    LLVMTypeRef et = cg_elem_type(c, t);
    LLVMValueRef v = cm->has_fill ? LLVMConstInt(et, cm->fill, 0)
                                  : LLVMBuildLoad2(c->b, et, cg_gep(c, t, c->args[0], s), "");
    cm_fill_row(c, t, d, count, cg_splat(c, v));
  } else {
    CgLoop l = cg_loop_begin(c, cg_i64(c, 0), count, 1);
    LLVMValueRef at = LLVMBuildAdd(c->b, s, LLVMBuildMul(c->b, l.iv, cg_i64(c, stride), ""), "");
    LLVMValueRef v = LLVMBuildLoad2(c->b, cg_elem_type(c, t), cg_gep(c, t, c->args[0], at), "");
    LLVMBuildStore(c->b, v, cg_gep(c, t, c->args[1], LLVMBuildAdd(c->b, d, l.iv, "")));
    cg_loop_end(c, &l);
  }
}

/* Moves the 8x8 block of 4-byte elements at source offset s (8 vectors along
 * the tile axis, where the source is contiguous) to output offset d,
 * transposed in registers: unpack pairs, then quads, then 128-bit halves. */
static void cm_block8(CgCtx *c, const CopyMap *cm, LLVMValueRef s, LLVMValueRef d) {
  static const int masks[3][2][8] = {{{0, 8, 1, 9, 4, 12, 5, 13}, {2, 10, 3, 11, 6, 14, 7, 15}},
                                     {{0, 1, 8, 9, 4, 5, 12, 13}, {2, 3, 10, 11, 6, 7, 14, 15}},
                                     {{0, 1, 2, 3, 8, 9, 10, 11}, {4, 5, 6, 7, 12, 13, 14, 15}}};
  LLVMTypeRef vt = LLVMVectorType(c->t_i32, 8);
  LLVMValueRef r[8], t[8], mask[3][2];
  for (int st = 0; st < 3; st++)
    for (int h = 0; h < 2; h++) {
      LLVMValueRef lanes[8];
      for (int k = 0; k < 8; k++) lanes[k] = LLVMConstInt(c->t_i32, (unsigned)masks[st][h][k], 0);
      mask[st][h] = LLVMConstVector(lanes, 8);
    }
  int64_t in_stride = cm->src[cm->m - 1], out_stride = cm->dst[cm->tile];
  for (int k = 0; k < 8; k++) {
    LLVMValueRef at = LLVMBuildAdd(c->b, s, cg_i64(c, k * in_stride), "");
    r[k] = LLVMBuildLoad2(c->b, vt, cg_gep(c, DT_I32, c->args[0], at), "");
    LLVMSetAlignment(r[k], 4);
  }
  for (int k = 0; k < 8; k++) /* pairs of rows: (0,1), (2,3), ... */
    t[k] = LLVMBuildShuffleVector(c->b, r[k & ~1], r[k | 1], mask[0][k & 1], "");
  for (int k = 0; k < 8; k++) { /* t0,t2 t1,t3 | t4,t6 t5,t7 */
    int a = (k & 4) + ((k >> 1) & 1);
    r[k] = LLVMBuildShuffleVector(c->b, t[a], t[a + 2], mask[1][k & 1], "");
  }
  for (int k = 0; k < 8; k++) { /* output row k: halves of (u[k%4], u[k%4+4]) */
    LLVMValueRef v = LLVMBuildShuffleVector(c->b, r[k & 3], r[(k & 3) + 4], mask[2][k >> 2], "");
    LLVMValueRef p = cg_gep(c, DT_I32, c->args[1], LLVMBuildAdd(c->b, d, cg_i64(c, k * out_stride), ""));
    LLVMSetAlignment(LLVMBuildStore(c->b, v, p), 4);
  }
}

/* A group of rows: a full transpose tile of 4-byte elements (with a block a
 * multiple of 8) in 8x8 register blocks, anything else row by row. */
static void cm_tile(CgCtx *c, const CopyMap *cm, const CmItem *it) {
  LLVMValueRef full = NULL;
  int64_t block = cm_block(cm);
  if (cm->transpose && dt_size(cm->dtype) == 4 && block % 8 == 0) {
    full = LLVMBuildAnd(c->b, LLVMBuildICmp(c->b, LLVMIntEQ, it->rows, cg_i64(c, CM_TILE_ROWS), ""),
                        LLVMBuildICmp(c->b, LLVMIntEQ, it->count, cg_i64(c, block), ""), "full");
    LLVMBasicBlockRef cont = cg_if_begin(c, full);
    for (int i = 0; i < CM_TILE_ROWS; i += 8)
      for (int j = 0; j < block; j += 8)
        cm_block8(c, cm, LLVMBuildAdd(c->b, it->src, cg_i64(c, i + j * cm->src[cm->m - 1]), ""),
                  LLVMBuildAdd(c->b, it->dst, cg_i64(c, i * cm->dst[cm->tile] + j), ""));
    cg_if_end(c, cont);
  }
  LLVMBasicBlockRef cont = full ? cg_if_begin(c, LLVMBuildNot(c->b, full, "")) : NULL;
  CgLoop rl = cg_loop_begin(c, cg_i64(c, 0), it->rows, 1);
  LLVMValueRef s = LLVMBuildAdd(c->b, it->src, LLVMBuildMul(c->b, rl.iv, cg_i64(c, cm->src[cm->tile]), ""), "");
  LLVMValueRef d = LLVMBuildAdd(c->b, it->dst, LLVMBuildMul(c->b, rl.iv, cg_i64(c, cm->dst[cm->tile]), ""), "");
  cm_row(c, cm, s, d, it->count);
  cg_loop_end(c, &rl);
  if (cont) cg_if_end(c, cont);
}

/* Builds the kernel body: work items split across threads, each a row or a group of rows. */
static void cm_build(CgCtx *c, const CopyMap *cm) {
  int64_t items = 1, block = cm_block(cm);
  for (int a = 0; a < cm->m - 1; a++) items *= cm_steps(cm, a);
  items *= (cm->dims[cm->m - 1] + block - 1) / block;
  LLVMValueRef begin, end;
  cg_kernel_parallel(c, items, block * (cm->tile >= 0 ? cm->rows : 1), &begin, &end);
  CgLoop l = cg_loop_begin(c, begin, end, 1);
  CmItem it;
  cm_item(c, cm, l.iv, &it);
  if (it.rows) cm_tile(c, cm, &it);
  else cm_row(c, cm, it.src, it.dst, it.count);
  cg_loop_end(c, &l);
}

/* Emits (or reuses) the kernel for map cm on node n (input 0 to output 0). */
static int cm_emit_map(CgCtx *c, const Node *n, const CopyMap *cm, Diag *d) {
  char key[512];
  if (cm_key(cm, key, sizeof key)) return ir_error(d, NULL, n, "internal error: kernel key too long");
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (!fn) {
    if (!(fn = cg_kernel_begin(c, key, 2, d))) return -1;
    cm_build(c, cm);
    cg_kernel_end(c);
  }
  return cg_kernel_call(c, fn, n, 1, d);
}

/* The copy kernel for node n's output 0 read from input 0 through src strides at base. */
static int cm_emit(CgCtx *c, const Node *n, const int64_t *src, int64_t base, Diag *d) {
  const Tensor *out = &n->out[0]->t;
  if (tensor_numel(out) == 0) return 0;
  if (n->in[0]->t.dtype != out->dtype) return ir_error(d, NULL, n, "internal error: input and output types differ");
  CopyMap cm;
  cm_init(&cm, out, src, base);
  return cm_emit_map(c, n, &cm, d);
}

/* Row-major element strides of t. */
static void cm_strides(const Tensor *t, int64_t *st) {
  int64_t s = 1;
  for (int a = t->rank - 1; a >= 0; a--) st[a] = s, s *= t->dims[a];
}

/* Transpose: output axis a reads input axis perm[a] (default: the axes reversed). */
int cg_emit_transpose(CgCtx *c, const Node *n, Diag *d) {
  const Tensor *x = &n->in[0]->t;
  int64_t perm[IR_MAX_RANK], st[IR_MAX_RANK], src[IR_MAX_RANK];
  int np = ir_attr_ints(n, "perm", perm, IR_MAX_RANK);
  if (np < 0)
    for (int a = 0; a < x->rank; a++) perm[a] = x->rank - 1 - a;
  else if (np != x->rank) return ir_error(d, NULL, n, "perm has %d entries for rank %d", np, x->rank);
  cm_strides(x, st);
  for (int a = 0; a < x->rank; a++) src[a] = st[perm[a]];
  return cm_emit(c, n, src, 0, d);
}

/* Expand: numpy broadcasting of the input to the output (stride 0 where the input has 1). */
int cg_emit_expand(CgCtx *c, const Node *n, Diag *d) {
  const Tensor *x = &n->in[0]->t, *out = &n->out[0]->t;
  int64_t st[IR_MAX_RANK], src[IR_MAX_RANK];
  cm_strides(x, st);
  for (int a = 0; a < out->rank; a++) {
    int ia = a - (out->rank - x->rank);
    src[a] = ia < 0 || x->dims[ia] == 1 ? 0 : st[ia];
  }
  return cm_emit(c, n, src, 0, d);
}

/* The data of slice input i (absent: NULL), or an error when it is not known at compile time. */
static int slice_operand(const Node *n, int i, const Tensor **t, Diag *d) {
  *t = i < n->n_in && n->in[i] ? &n->in[i]->t : NULL;
  if (*t && !(*t)->data) return ir_error(d, NULL, n, "slice input %d must be known at compile time", i);
  return 0;
}

/* Slice: starts, ends, axes and steps are constants, so each axis is a base offset and a stride. */
int cg_emit_slice(CgCtx *c, const Node *n, Diag *d) {
  const Tensor *x = &n->in[0]->t, *starts, *ends, *axes, *steps;
  if (slice_operand(n, 1, &starts, d) || slice_operand(n, 2, &ends, d) || slice_operand(n, 3, &axes, d) ||
      slice_operand(n, 4, &steps, d))
    return -1;
  int64_t st[IR_MAX_RANK], src[IR_MAX_RANK], base = 0;
  cm_strides(x, st);
  memcpy(src, st, sizeof src);
  for (int64_t i = 0; i < tensor_numel(starts); i++) {
    int64_t a = axes ? tensor_get_i64(axes, i) : i, step = steps ? tensor_get_i64(steps, i) : 1;
    if (a < 0) a += x->rank;
    if (a < 0 || a >= x->rank || step == 0) return ir_error(d, NULL, n, "bad slice axis or step");
    int64_t start = tensor_get_i64(starts, i);
    if (ir_slice_axis(x->dims[a], &start, tensor_get_i64(ends, i), step) != n->out[0]->t.dims[a])
      return ir_error(d, NULL, n, "internal error: slice bounds disagree with the output shape");
    base += start * st[a];
    src[a] = n->out[0]->t.dims[a] > 1 ? st[a] * step : 0; /* a step past the axis is never taken */
  }
  return cm_emit(c, n, src, base, d);
}

/* ConstantOfShape: every element is the one-element `value` tensor (default f32 0). */
int cg_emit_constant_of_shape(CgCtx *c, const Node *n, Diag *d) {
  const Tensor *out = &n->out[0]->t;
  const Attr *a = ir_attr_find(n, "value");
  Tensor zero = {.dtype = DT_F32, .rank = 1, .dims = {1}, .data = &(float){0}};
  const Tensor *v = a && a->kind == AT_TENSOR && a->t ? a->t : &zero;
  if (v->dtype != out->dtype || tensor_numel(v) != 1 || !v->data)
    return ir_error(d, NULL, n, "value must be one %s element", dt_name(out->dtype));
  if (tensor_numel(out) == 0) return 0;
  int64_t src[IR_MAX_RANK] = {0};
  CopyMap cm;
  cm_init(&cm, out, src, 0);
  cm.has_fill = 1;
  memcpy(&cm.fill, v->data, dt_size(v->dtype));
  return cm_emit_map(c, n, &cm, d);
}
