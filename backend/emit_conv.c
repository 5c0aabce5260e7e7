/* conv: 2-D, NCHW, with groups, strides, pads, dilations and auto_pad, as a
 * direct loop nest. One work item is (batch, block of CONV_MB output
 * channels of one group, output row); it walks the row in vectors of 16
 * output columns, each accumulating CONV_MB channels over (c, kh, kw): one
 * read of the input pixels the 16 columns see (cg_load_cols: a masked load;
 * with strides 2-4 that many loads and a shuffle, beyond a gather), FMA'd
 * with each channel's weight. Padding and the row's tail are masked lanes
 * that read as 0. (ViTs' patch conv becomes a linear after optimization;
 * this is what -O0 graphs run.) A conv with one group
 * and enough input channels (MaxViT's 3x3 stem: 64 -> 64 channels at
 * 112x112, 27 % of peak that way) runs instead as one matrix product per
 * tap on the GEMM generator (conv_gemm_row: 84 %). */
#include "cg_gemm.h"
#include "cg_rows.h"
#include <stdio.h>

#define CONV_MB 4 /* output channels sharing each input vector */
/* The GEMM form (conv_gemm_row): input channels from which it pays (fewer: products too short to fill the
 * register tile's K loop) and up to which each of its kh * kw products' panel buffers (kc x NR floats on the
 * stack) stays small. */
#define CONV_GEMM_MIN_CIN 16
#define CONV_GEMM_MAX_CIN 128

/* The geometry of a conv node. */
typedef struct ConvGeom {
  int64_t n, cin, cout, group, cg, mg; /* cg, mg: input and output channels per group */
  int64_t h, w, kh, kw, oh, ow;
  int64_t sh, sw, dh, dw, ph, pw; /* strides, dilations, leading pads */
} ConvGeom;

/* Reads an ints attribute of 2 or 4 entries into v, or leaves v's defaults. */
static int conv_ints(const Node *n, const char *name, int64_t *v, int count, Diag *d) {
  int got = ir_attr_ints(n, name, v, count);
  return got < 0 || got == count ? 0 : ir_error(d, NULL, n, "%s must have %d entries", name, count);
}

/* Fills g from n's operands and attributes; -1 with d filled. */
static int conv_geom(const Node *n, ConvGeom *g, Diag *d) {
  const Tensor *x = &n->in[0]->t, *w = &n->in[1]->t, *y = &n->out[0]->t;
  if (x->rank != 4 || w->rank != 4 || y->rank != 4) return ir_error(d, NULL, n, "only 2-D convolution is supported");
  int64_t st[2] = {1, 1}, dl[2] = {1, 1}, pads[4] = {0, 0, 0, 0};
  if (conv_ints(n, "strides", st, 2, d) || conv_ints(n, "dilations", dl, 2, d) || conv_ints(n, "pads", pads, 4, d))
    return -1;
  const char *ap = ir_attr_s(n, "auto_pad", "NOTSET");
  *g = (ConvGeom){x->dims[0], x->dims[1], w->dims[0], ir_attr_i(n, "group", 1), w->dims[1], 0,
                  x->dims[2], x->dims[3], w->dims[2], w->dims[3], y->dims[2], y->dims[3],
                  st[0], st[1], dl[0], dl[1], 0, 0};
  if (g->group < 1 || g->cout % g->group || g->cg * g->group != g->cin)
    return ir_error(d, NULL, n, "channels do not match group=%lld", (long long)g->group);
  g->mg = g->cout / g->group;
  int64_t oh = ir_conv_out_dim(g->h, g->kh, g->sh, g->dh, ap, &pads[0], &pads[2]);
  int64_t ow = ir_conv_out_dim(g->w, g->kw, g->sw, g->dw, ap, &pads[1], &pads[3]);
  if (oh != g->oh || ow != g->ow) return ir_error(d, NULL, n, "the output size does not match the attributes");
  g->ph = pads[0];
  g->pw = pads[1];
  return 0;
}

/* The run-time values of one work item and vector of output columns. */
typedef struct ConvAt {
  LLVMValueRef b, grp, m0, oh, ow0; /* batch, group, first channel, output row, first column */
  LLVMValueRef cols;                /* lanes inside the output row */
} ConvAt;

/* The input vector for (c, kh, kw): x[b, grp*cg + c, ih, iw of each lane], 0 where padded or past the row. */
static LLVMValueRef conv_input(CgCtx *c, const ConvGeom *g, const ConvAt *at, LLVMValueRef ch, LLVMValueRef kh,
                               LLVMValueRef kw) {
  LLVMBuilderRef b = c->b;
  LLVMValueRef ih = LLVMBuildAdd(b, LLVMBuildMul(b, at->oh, cg_i64(c, g->sh), ""),
                                 LLVMBuildSub(b, LLVMBuildMul(b, kh, cg_i64(c, g->dh), ""), cg_i64(c, g->ph), ""), "ih");
  LLVMValueRef ih_ok = LLVMBuildICmp(b, LLVMIntULT, ih, cg_i64(c, g->h), "");
  LLVMValueRef plane = LLVMBuildAdd(b, LLVMBuildMul(b, at->b, cg_i64(c, g->cin), ""),
                                    LLVMBuildAdd(b, LLVMBuildMul(b, at->grp, cg_i64(c, g->cg), ""), ch, ""), "");
  LLVMValueRef row = LLVMBuildMul(b, LLVMBuildAdd(b, LLVMBuildMul(b, plane, cg_i64(c, g->h), ""), ih, ""), cg_i64(c, g->w), "");
  LLVMValueRef iw0 = LLVMBuildAdd(b, LLVMBuildMul(b, at->ow0, cg_i64(c, g->sw), ""),
                                  LLVMBuildSub(b, LLVMBuildMul(b, kw, cg_i64(c, g->dw), ""), cg_i64(c, g->pw), ""), "iw0");
  LLVMValueRef lanes[CG_VW];
  for (int l = 0; l < CG_VW; l++) lanes[l] = cg_i64(c, l * g->sw);
  LLVMValueRef iw = LLVMBuildAdd(b, cg_splat(c, iw0), LLVMConstVector(lanes, CG_VW), "iw");
  LLVMValueRef mask = LLVMBuildAnd(b, at->cols, LLVMBuildICmp(b, LLVMIntULT, iw, cg_splat(c, cg_i64(c, g->w)), ""), "");
  mask = LLVMBuildAnd(b, mask, cg_splat(c, ih_ok), "");
  LLVMValueRef base = LLVMBuildGEP2(b, c->t_f32, c->args[0], &row, 1, "");
  return cg_load_cols(c, base, iw0, iw, g->sw, mask, LLVMConstNull(cg_vec_type(c, DT_F32)));
}

/* acc[j] += w[m0 + j, c, kh, kw] * x for the block's mb channels. */
static void conv_fma(CgCtx *c, const ConvGeom *g, const ConvAt *at, int mb, LLVMValueRef ch, LLVMValueRef kh,
                     LLVMValueRef kw, LLVMValueRef x, LLVMValueRef *acc) {
  LLVMTypeRef vt = cg_vec_type(c, DT_F32);
  LLVMValueRef tap = LLVMBuildAdd(c->b, LLVMBuildMul(c->b, LLVMBuildAdd(c->b, LLVMBuildMul(c->b, ch, cg_i64(c, g->kh), ""),
                                                                        kh, ""), cg_i64(c, g->kw), ""), kw, "");
  for (int j = 0; j < mb; j++) {
    LLVMValueRef m = LLVMBuildAdd(c->b, at->m0, cg_i64(c, j), "");
    LLVMValueRef off = LLVMBuildAdd(c->b, LLVMBuildMul(c->b, m, cg_i64(c, g->cg * g->kh * g->kw), ""), tap, "");
    LLVMValueRef wv = cg_splat(c, LLVMBuildLoad2(c->b, c->t_f32, cg_gep(c, DT_F32, c->args[1], off), ""));
    LLVMValueRef args[3] = {wv, x, acc[j]};
    acc[j] = cg_intrinsic(c, "llvm.fmuladd", &vt, 1, args, 3);
  }
}

/* One output vector of mb channels: bias, the (c, kh, kw) loops with the accumulators carried, the store. */
static void conv_vector(CgCtx *c, const ConvGeom *g, const ConvAt *at, int mb, int has_bias) {
  LLVMValueRef acc[CONV_MB], pc[CONV_MB], ph[CONV_MB], pw[CONV_MB];
  for (int j = 0; j < mb; j++) {
    LLVMValueRef m = LLVMBuildAdd(c->b, at->m0, cg_i64(c, j), "");
    acc[j] = has_bias ? cg_splat(c, LLVMBuildLoad2(c->b, c->t_f32, cg_gep(c, DT_F32, c->args[2], m), ""))
                      : LLVMConstNull(cg_vec_type(c, DT_F32));
  }
  CgLoop lc = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, g->cg), 1);
  for (int j = 0; j < mb; j++) pc[j] = cg_carry(c, &lc, acc[j]);
  CgLoop lh = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, g->kh), 1);
  for (int j = 0; j < mb; j++) ph[j] = cg_carry(c, &lh, pc[j]);
  CgLoop lw = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, g->kw), 1);
  for (int j = 0; j < mb; j++) acc[j] = pw[j] = cg_carry(c, &lw, ph[j]);
  conv_fma(c, g, at, mb, lc.iv, lh.iv, lw.iv, conv_input(c, g, at, lc.iv, lh.iv, lw.iv), acc);
  for (int j = 0; j < mb; j++) cg_carry_next(c, pw[j], acc[j]);
  cg_loop_end(c, &lw);
  for (int j = 0; j < mb; j++) cg_carry_next(c, ph[j], pw[j]);
  cg_loop_end(c, &lh);
  for (int j = 0; j < mb; j++) cg_carry_next(c, pc[j], ph[j]);
  cg_loop_end(c, &lc);
  for (int j = 0; j < mb; j++) {
    LLVMValueRef m = LLVMBuildAdd(c->b, at->m0, cg_i64(c, j), "");
    LLVMValueRef plane = LLVMBuildAdd(c->b, LLVMBuildMul(c->b, at->b, cg_i64(c, g->cout), ""), m, "");
    LLVMValueRef row = LLVMBuildAdd(c->b, LLVMBuildMul(c->b, plane, cg_i64(c, g->oh), ""), at->oh, "");
    LLVMValueRef off = LLVMBuildAdd(c->b, LLVMBuildMul(c->b, row, cg_i64(c, g->ow), ""), at->ow0, "");
    cg_store_vec(c, DT_F32, cg_gep(c, DT_F32, c->args[3], off), pc[j], at->cols);
  }
}

/* The output row of work item at, mb channels, in vectors of 16 columns. */
static void conv_row(CgCtx *c, const ConvGeom *g, ConvAt at, int mb, int has_bias) {
  CgLoop l = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, g->ow), CG_VW);
  at.ow0 = l.iv;
  at.cols = cg_tail_mask(c, LLVMBuildSub(c->b, cg_i64(c, g->ow), l.iv, ""));
  conv_vector(c, g, &at, mb, has_bias);
  cg_loop_end(c, &l);
}

/* Whether conv g runs as matrix products (conv_gemm_row): one group, no dilation, a stride of 1 or 2,
 * CONV_GEMM_MIN_CIN..MAX_CIN input channels and at least one register tile of output channels. */
static int conv_as_gemm(CgCtx *c, const ConvGeom *g) {
  return g->group == 1 && g->dh == 1 && g->dw == 1 && g->sw <= 2 && g->cin >= CONV_GEMM_MIN_CIN &&
         g->cin <= CONV_GEMM_MAX_CIN && g->cout >= cg_gemm_shape(c).mr && g->ow > 0;
}

/* The output columns [*lo, *hi) whose tap kw reads an input column inside [0, w). */
static void conv_tap_cols(const ConvGeom *g, int64_t kw, int64_t *lo, int64_t *hi) {
  int64_t first = g->pw - kw, last = g->w - 1 - kw + g->pw; /* ow * sw must lie in [first, last] */
  *lo = first <= 0 ? 0 : (first + g->sw - 1) / g->sw;
  *hi = last < 0 ? 0 : last / g->sw + 1;
  if (*hi > g->ow) *hi = g->ow;
}

/* Output row `oh` of image `b` as one product per tap (kh, kw) added into it: y[:, oh, cols] +=
 * w[:, :, kh, kw] (cout x cin, read in place) @ x[b, :, ih, cols * sw + kw - pw] (cin x cols), on the GEMM
 * generator, after the row is set to the bias. Taps whose input row is padding are skipped; each covers the
 * columns whose input column is inside the image. */
static void conv_gemm_row(CgCtx *c, const ConvGeom *g, LLVMValueRef b, LLVMValueRef oh, int has_bias) {
  LLVMBuilderRef bd = c->b;
  CgMat none = {NULL, 0, 0};
  LLVMValueRef plane = LLVMBuildMul(bd, LLVMBuildMul(bd, b, cg_i64(c, g->cout), ""), cg_i64(c, g->oh), "");
  LLVMValueRef yrow = cg_gep(c, DT_F32, c->args[3], LLVMBuildMul(bd, LLVMBuildAdd(bd, plane, oh, ""), cg_i64(c, g->ow), ""));
  CgLoop lm = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, g->cout), 1); /* the bias, or 0 */
  LLVMValueRef init = has_bias ? cg_splat(c, LLVMBuildLoad2(bd, c->t_f32, cg_gep(c, DT_F32, c->args[2], lm.iv), ""))
                               : LLVMConstNull(cg_vec_type(c, DT_F32));
  LLVMValueRef ych = cg_gep(c, DT_F32, yrow, LLVMBuildMul(bd, lm.iv, cg_i64(c, g->oh * g->ow), ""));
  CgLoop lj = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, g->ow), CG_VW);
  cg_store_vec(c, DT_F32, cg_gep(c, DT_F32, ych, lj.iv), init, cg_tail_mask(c, LLVMBuildSub(bd, cg_i64(c, g->ow), lj.iv, "")));
  cg_loop_end(c, &lj);
  cg_loop_end(c, &lm);
  LLVMValueRef ximg = LLVMBuildMul(bd, b, cg_i64(c, g->cin * g->h * g->w), "");
  for (int64_t kh = 0; kh < g->kh; kh++) {
    LLVMValueRef ih = LLVMBuildAdd(bd, LLVMBuildMul(bd, oh, cg_i64(c, g->sh), ""), cg_i64(c, kh - g->ph), "ih");
    LLVMBasicBlockRef cont = cg_if_begin(c, LLVMBuildICmp(bd, LLVMIntULT, ih, cg_i64(c, g->h), ""));
    for (int64_t kw = 0; kw < g->kw; kw++) {
      int64_t lo, hi;
      conv_tap_cols(g, kw, &lo, &hi);
      if (hi <= lo) continue;
      LLVMValueRef xoff = LLVMBuildAdd(bd, ximg, LLVMBuildAdd(bd, LLVMBuildMul(bd, ih, cg_i64(c, g->w), ""),
                                                               cg_i64(c, lo * g->sw + kw - g->pw), ""), "");
      CgMat a = {cg_gep(c, DT_F32, c->args[1], cg_i64(c, kh * g->kw + kw)), g->cin * g->kh * g->kw, g->kh * g->kw};
      CgMat x = {cg_gep(c, DT_F32, c->args[0], xoff), g->h * g->w, g->sw};
      CgMat y = {cg_gep(c, DT_F32, yrow, cg_i64(c, lo)), g->oh * g->ow, 1};
      CgGemmBlock p = {g->cout, hi - lo, g->cin, a, x, y, none, y, 0, 1, 1, CG_ACT_NONE, CG_GEMM_F32, none, NULL, NULL};
      cg_gemm_block(c, &p, cg_i64(c, 0), cg_i64(c, g->cout), cg_i64(c, 0), cg_i64(c, hi - lo));
    }
    cg_if_end(c, cont);
  }
}

/* Whether conv g is pointwise (1x1, stride 1, no padding, one group): y[b] = w [cout, cin] @ x[b] [cin, h*w]. */
static int conv_is_pointwise(const ConvGeom *g) {
  return g->group == 1 && g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->oh == g->h && g->ow == g->w &&
         g->ph == 0 && g->pw == 0;
}

/* A pointwise conv as one GEMM kernel (args: x, w, bias or NULL, y). Per image, the weight matrix read in
 * place times the image's [cin, h*w] rows (copied panel by panel), the bias added along rows in the
 * epilogue: what fuse_patch_embed leaves of MaxViT's 1x1 convs, channels-first in and out, so no
 * transposes where the linear form needed one on each side. On a 1x1 image (squeeze-excitation's convs
 * after a global pool) that product would have one column: it runs transposed instead, the images as rows
 * times w^T (packed at compile time when w is constant), as a linear would. */
static int conv_pointwise(CgCtx *c, const Node *n, const ConvGeom *g, int has_bias, Diag *d) {
  int64_t hw = g->h * g->w, packed = -1;
  CgGemm m;
  if (hw == 1) {
    m = (CgGemm){.m = g->n, .n = g->cout, .k = g->cin};
    m.a = (CgGemmOperand){0, g->cin, 1, {0}};
    m.y = (CgGemmOperand){3, g->cout, 1, {0}};
    m.pre = has_bias ? (CgGemmOperand){2, 0, 1, {0}} : (CgGemmOperand){-1, 0, 0, {0}};
    const Value *w = n->in[1];
    if (cg_value_is_const(c, w)) {
      if ((packed = cg_gemm_pack_b(c, w->t.data, 1, g->cin, g->cout, 1, d)) < 0) return -1;
      m.b = (CgGemmOperand){1, 0, 0, {0}};
      m.b_packed = 1;
    } else {
      m.b = (CgGemmOperand){1, 1, g->cin, {0}}; /* b[c, o] = w[o, c] */
    }
  } else {
    m = (CgGemm){.m = g->cout, .n = hw, .k = g->cin, .n_batch = 1, .batch = {g->n}};
    m.a = (CgGemmOperand){1, g->cin, 1, {0}};
    m.b = (CgGemmOperand){0, hw, 1, {g->cin * hw}};
    m.y = (CgGemmOperand){3, hw, 1, {g->cout * hw}};
    m.pre = has_bias ? (CgGemmOperand){2, 1, 0, {0}} : (CgGemmOperand){-1, 0, 0, {0}};
  }
  m.post.arg = -1;
  m.alpha = m.beta = 1;
  return cg_gemm_call_node(c, n, &m, 3, packed, d);
}

int cg_emit_conv(CgCtx *c, const Node *n, Diag *d) {
  ConvGeom g;
  for (int i = 0; i < n->n_in; i++)
    if (n->in[i] && n->in[i]->t.dtype != DT_F32) return ir_error(d, NULL, n, "operands must be f32");
  if (conv_geom(n, &g, d)) return -1;
  if (tensor_numel(&n->out[0]->t) == 0) return 0;
  int has_bias = n->n_in > 2 && n->in[2];
  if (conv_is_pointwise(&g)) return conv_pointwise(c, n, &g, has_bias, d);
  char key[512];
  size_t len = (size_t)snprintf(key, sizeof key, "conv.g%lld.s%lldx%lld.d%lldx%lld.p%lldx%lld.b%d.", (long long)g.group,
                                (long long)g.sh, (long long)g.sw, (long long)g.dh, (long long)g.dw, (long long)g.ph,
                                (long long)g.pw, has_bias);
  cg_key_tensor(key, sizeof key, &len, &n->in[0]->t);
  if (len < sizeof key) key[len++] = '.';
  cg_key_tensor(key, sizeof key, &len, &n->in[1]->t);
  if (len < sizeof key) key[len++] = '.';
  cg_key_tensor(key, sizeof key, &len, &n->out[0]->t);
  int as_gemm = conv_as_gemm(c, &g);
  if (as_gemm && len < sizeof key) len += (size_t)snprintf(key + len, sizeof key - len, ".gemm");
  if (len >= sizeof key) return ir_error(d, NULL, n, "internal error: kernel key too long");
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (!fn && as_gemm) { /* one work item per output row */
    if (!(fn = cg_kernel_begin(c, key, 4, d))) return -1;
    LLVMValueRef begin, end;
    cg_kernel_parallel(c, g.n * g.oh, g.cout * g.ow * g.cin * g.kh * g.kw, &begin, &end);
    CgLoop l = cg_loop_begin(c, begin, end, 1);
    conv_gemm_row(c, &g, LLVMBuildUDiv(c->b, l.iv, cg_i64(c, g.oh), "batch"), LLVMBuildURem(c->b, l.iv, cg_i64(c, g.oh), "oh"),
                  has_bias);
    cg_loop_end(c, &l);
    cg_kernel_end(c);
  } else if (!fn) {
    int64_t blocks = (g.mg + CONV_MB - 1) / CONV_MB, edge = g.mg % CONV_MB;
    if (!(fn = cg_kernel_begin(c, key, 4, d))) return -1;
    LLVMValueRef begin, end, r, blk;
    cg_kernel_parallel(c, g.n * g.group * blocks * g.oh, CONV_MB * g.ow * g.cg * g.kh * g.kw, &begin, &end);
    CgLoop l = cg_loop_begin(c, begin, end, 1);
    ConvAt at = {0};
    at.oh = LLVMBuildURem(c->b, l.iv, cg_i64(c, g.oh), "oh");
    r = LLVMBuildUDiv(c->b, l.iv, cg_i64(c, g.oh), "");
    blk = LLVMBuildURem(c->b, r, cg_i64(c, blocks), "");
    r = LLVMBuildUDiv(c->b, r, cg_i64(c, blocks), "");
    at.grp = LLVMBuildURem(c->b, r, cg_i64(c, g.group), "grp");
    at.b = LLVMBuildUDiv(c->b, r, cg_i64(c, g.group), "batch");
    at.m0 = LLVMBuildAdd(c->b, LLVMBuildMul(c->b, at.grp, cg_i64(c, g.mg), ""),
                         LLVMBuildMul(c->b, blk, cg_i64(c, CONV_MB), ""), "m0");
    if (!edge) {
      conv_row(c, &g, at, CONV_MB, has_bias);
    } else { /* the group's last block has `edge` channels */
      LLVMBasicBlockRef fullb = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "full_block");
      LLVMBasicBlockRef edgeb = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "edge_block");
      LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "block_done");
      LLVMBuildCondBr(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, blk, cg_i64(c, blocks - 1), ""), fullb, edgeb);
      LLVMPositionBuilderAtEnd(c->b, fullb);
      conv_row(c, &g, at, CONV_MB, has_bias);
      LLVMBuildBr(c->b, done);
      LLVMPositionBuilderAtEnd(c->b, edgeb);
      conv_row(c, &g, at, (int)edge, has_bias);
      LLVMBuildBr(c->b, done);
      LLVMPositionBuilderAtEnd(c->b, done);
    }
    cg_loop_end(c, &l);
    cg_kernel_end(c);
  }
  LLVMValueRef args[4];
  for (int i = 0; i < 3; i++)
    if (!(args[i] = i < n->n_in && n->in[i] ? cg_value_ptr(c, n->in[i], d) : LLVMConstNull(c->t_ptr))) return -1;
  if (!(args[3] = cg_value_ptr(c, n->out[0], d))) return -1;
  cg_kernel_call_args(c, fn, args, 4);
  return 0;
}
