/* The kernel form of the GEMM generator: a batched product split into macro
 * tiles (MB rows x NB columns, whole K) that run in parallel, each computed
 * by cg_gemm_block; the compile-time packing of constant b; and the call of
 * such a kernel on a node's operands (cg_gemm_call_node). */
#include "cg_gemm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEMM_MB_TILES 8      /* register tiles per macro tile, down (a block of a stays in L2) */
#define GEMM_MB_TILES_COPY 32 /* ... when activation b is copied panel by panel: more rows per copy */
#define GEMM_NB_TILES 8      /* and across */

void cg_gemm_batch_strides(const int64_t *dims, int rank, int n_batch, const int64_t *out_batch, int64_t mat,
                           int64_t *bs) {
  int64_t s = mat;
  for (int a = n_batch - 1; a >= 0; a--) {
    int ia = a - (n_batch - rank);
    int64_t dim = ia >= 0 ? dims[ia] : 1;
    bs[a] = ia < 0 || (dim == 1 && out_batch[a] != 1) ? 0 : s;
    s *= dim;
  }
}

/* Whether operand o's rows continue evenly across batch axis a (of a product with m rows). */
static int gemm_rows_continue(const CgGemmOperand *o, int a, int64_t m) { return o->arg < 0 || o->bs[a] == o->rs * m; }

void cg_gemm_fold_batch(CgGemm *g) {
  while (g->n_batch > 0) {
    int a = g->n_batch - 1;
    if (g->batch[a] != 1 &&
        (g->b.bs[a] != 0 || !gemm_rows_continue(&g->a, a, g->m) || !gemm_rows_continue(&g->y, a, g->m) ||
         !gemm_rows_continue(&g->pre, a, g->m) || !gemm_rows_continue(&g->post, a, g->m) ||
         (g->kind == CG_GEMM_INT8 && !gemm_rows_continue(&g->rowq, a, g->m))))
      return;
    g->m *= g->batch[a];
    g->n_batch--;
  }
}

int64_t cg_gemm_packed_size(CgCtx *c, int64_t k, int64_t n) {
  int64_t nr = cg_gemm_shape(c).nr;
  return (n + nr - 1) / nr * nr * k;
}

int64_t cg_gemm_pack_b(CgCtx *c, const float *src, int64_t batches, int64_t k, int64_t n, int trans, Diag *d) {
  int64_t nr = cg_gemm_shape(c).nr, size = cg_gemm_packed_size(c, k, n), total = batches * size;
  float *dst = calloc((size_t)(total > 0 ? total : 1), sizeof *dst);
  if (!dst) return ir_error(d, c->g->file, NULL, "out of memory packing weights");
  /* Panel by panel, each read along the source's rows (a column at a time, strided by n or k, was most of
   * the packing time) and filled while it is in cache. */
  for (int64_t b = 0; b < batches; b++) {
    const float *m = src + b * k * n;
    for (int64_t j0 = 0; j0 < n; j0 += nr) {
      float *panel = dst + b * size + j0 * k; /* panel j0 / nr starts nr * k floats after the previous */
      int64_t w = n - j0 < nr ? n - j0 : nr;
      if (trans) {
        for (int64_t jj = 0; jj < w; jj++)
          for (int64_t p = 0; p < k; p++) panel[p * nr + jj] = m[(j0 + jj) * k + p];
      } else {
        for (int64_t p = 0; p < k; p++) memcpy(panel + p * nr, m + p * n + j0, (size_t)w * sizeof *m);
      }
    }
  }
  return cg_weights_add(c, dst, (uint64_t)(total > 0 ? total : 1) * sizeof *dst, d);
}

/* Appends operand o to the key (its argument and strides). */
static void gemm_key_operand(char *key, size_t cap, size_t *len, const char *name, const CgGemmOperand *o, int nb) {
  if (*len < cap) *len += (size_t)snprintf(key + *len, cap - *len, ".%s%d", name, o->arg);
  if (o->arg < 0) return;
  if (*len < cap) *len += (size_t)snprintf(key + *len, cap - *len, "_%lld_%lld", (long long)o->rs, (long long)o->cs);
  for (int a = 0; a < nb && *len < cap; a++) *len += (size_t)snprintf(key + *len, cap - *len, "_%lld", (long long)o->bs[a]);
}

/* The cache key that spells out g; -1 when it does not fit. */
static int gemm_key(const CgGemm *g, char *key, size_t cap) {
  size_t len = (size_t)snprintf(key, cap, "gemm.%lldx%lldx%lld.%s%d.%.9g.%.9g.act%d.kind%d.q%d.b", (long long)g->m,
                                (long long)g->n, (long long)g->k, g->b_packed ? "packed" : "rows", g->n_args, g->alpha,
                                g->beta, (int)g->act, (int)g->kind, g->kind == CG_GEMM_INT8 ? g->colq_arg : -1);
  for (int a = 0; a < g->n_batch && len < cap; a++) len += (size_t)snprintf(key + len, cap - len, "_%lld", (long long)g->batch[a]);
  gemm_key_operand(key, cap, &len, "a", &g->a, g->n_batch);
  gemm_key_operand(key, cap, &len, "b", &g->b, g->n_batch);
  gemm_key_operand(key, cap, &len, "y", &g->y, g->n_batch);
  gemm_key_operand(key, cap, &len, "pre", &g->pre, g->n_batch);
  gemm_key_operand(key, cap, &len, "post", &g->post, g->n_batch);
  if (g->kind == CG_GEMM_INT8) gemm_key_operand(key, cap, &len, "rowq", &g->rowq, g->n_batch);
  return len < cap ? 0 : -1;
}

/* The run-time matrix of operand o for the batch whose per-axis indices are idx. */
static CgMat gemm_operand_at(CgCtx *c, const CgGemm *g, const CgGemmOperand *o, LLVMValueRef *idx) {
  if (o->arg < 0) return (CgMat){NULL, 0, 0};
  LLVMValueRef off = cg_i64(c, 0);
  for (int a = 0; a < g->n_batch; a++)
    if (o->bs[a]) off = LLVMBuildAdd(c->b, off, LLVMBuildMul(c->b, idx[a], cg_i64(c, o->bs[a]), ""), "");
  return (CgMat){cg_gep(c, DT_F32, c->args[o->arg], off), o->rs, o->cs};
}

/* Splits batch number t into per-axis indices idx (row-major over g->batch). */
static void gemm_batch_index(CgCtx *c, const CgGemm *g, LLVMValueRef t, LLVMValueRef *idx) {
  for (int a = g->n_batch - 1; a >= 0; a--) {
    idx[a] = a > 0 ? LLVMBuildURem(c->b, t, cg_i64(c, g->batch[a]), "") : t;
    if (a > 0) t = LLVMBuildUDiv(c->b, t, cg_i64(c, g->batch[a]), "");
  }
}

/* How a kernel's rows (or columns) are cut into macro tiles: `blocks` blocks of `tiles` register tiles of
 * `unit` rows in all, tiles spread evenly (197 rows in tiles of 8, 25 tiles, at most 8 a block: 7 + 6 + 6 + 6,
 * not 7 + 7 + 7 + 4), so that the work items of a kernel cost the same and no thread waits on a big one. */
typedef struct GemmCut {
  int64_t extent, unit, tiles, blocks;
} GemmCut;

static GemmCut gemm_cut(int64_t extent, int64_t unit, int64_t max_tiles) {
  int64_t tiles = (extent + unit - 1) / unit;
  int64_t blocks = (tiles + max_tiles - 1) / max_tiles;
  return (GemmCut){extent, unit, tiles, blocks > 0 ? blocks : 1};
}

/* The rows [*lo, *hi) of block b (i64) of cut: tiles [b q + min(b, r), ...) with q = tiles / blocks, r the rest. */
static void gemm_cut_range(CgCtx *c, const GemmCut *cut, LLVMValueRef b, LLVMValueRef *lo, LLVMValueRef *hi) {
  int64_t q = cut->tiles / cut->blocks, r = cut->tiles % cut->blocks;
  LLVMValueRef bigger = LLVMBuildICmp(c->b, LLVMIntULT, b, cg_i64(c, r), "");
  LLVMValueRef t0 = LLVMBuildAdd(c->b, LLVMBuildMul(c->b, b, cg_i64(c, q), ""),
                                 LLVMBuildSelect(c->b, bigger, b, cg_i64(c, r), ""), "");
  LLVMValueRef t1 = LLVMBuildAdd(c->b, t0, LLVMBuildSelect(c->b, bigger, cg_i64(c, q + 1), cg_i64(c, q), ""), "");
  *lo = LLVMBuildMul(c->b, t0, cg_i64(c, cut->unit), "");
  LLVMValueRef end = LLVMBuildMul(c->b, t1, cg_i64(c, cut->unit), "");
  *hi = LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, end, cg_i64(c, cut->extent), ""), end,
                        cg_i64(c, cut->extent), "");
}

/* The body of work item t: macro tile (mt, nt) of one batch. */
static void gemm_item(CgCtx *c, const CgGemm *g, LLVMValueRef t, const GemmCut *rows, const GemmCut *cols) {
  LLVMValueRef mt = LLVMBuildURem(c->b, t, cg_i64(c, rows->blocks), "mt"), rest = LLVMBuildUDiv(c->b, t, cg_i64(c, rows->blocks), "");
  LLVMValueRef nt = LLVMBuildURem(c->b, rest, cg_i64(c, cols->blocks), "nt"), bi = LLVMBuildUDiv(c->b, rest, cg_i64(c, cols->blocks), "");
  LLVMValueRef idx[IR_MAX_RANK];
  gemm_batch_index(c, g, bi, idx);
  CgGemmBlock blk = {g->m, g->n, g->k, gemm_operand_at(c, g, &g->a, idx), gemm_operand_at(c, g, &g->b, idx),
                     gemm_operand_at(c, g, &g->y, idx), gemm_operand_at(c, g, &g->pre, idx),
                     gemm_operand_at(c, g, &g->post, idx), g->b_packed, g->alpha, g->beta, g->act, g->kind,
                     {NULL, 0, 0}, NULL, NULL};
  if (g->kind == CG_GEMM_INT8) blk.rowq = gemm_operand_at(c, g, &g->rowq, idx), blk.colq = c->args[g->colq_arg];
  LLVMValueRef i0, i1, j0, j1;
  gemm_cut_range(c, rows, mt, &i0, &i1);
  gemm_cut_range(c, cols, nt, &j0, &j1);
  cg_gemm_block(c, &blk, i0, i1, j0, j1);
}

LLVMValueRef cg_gemm_kernel(CgCtx *c, const CgGemm *g, Diag *d) {
  char key[1024];
  if (gemm_key(g, key, sizeof key)) {
    ir_error(d, c->g->file, NULL, "internal error: GEMM kernel key too long");
    return NULL;
  }
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (fn) return fn;
  CgGemmShape s = cg_gemm_shape_for(c, g->kind);
  GemmCut rows = gemm_cut(g->m, s.mr, g->b_packed && g->kind != CG_GEMM_F32_BF16B ? GEMM_MB_TILES : GEMM_MB_TILES_COPY);
  GemmCut cols = gemm_cut(g->n, s.nr, GEMM_NB_TILES);
  int64_t batches = 1;
  for (int a = 0; a < g->n_batch; a++) batches *= g->batch[a];
  int64_t items = batches * rows.blocks * cols.blocks;
  if (!(fn = cg_kernel_begin(c, key, g->n_args, d))) return NULL;
  LLVMValueRef begin, end;
  int64_t item_work = (g->m + rows.blocks - 1) / rows.blocks * ((g->n + cols.blocks - 1) / cols.blocks);
  cg_kernel_parallel(c, items, item_work * (g->k > 0 ? g->k : 1), &begin, &end);
  CgLoop l = cg_loop_begin(c, begin, end, 1);
  gemm_item(c, g, l.iv, &rows, &cols);
  cg_loop_end(c, &l);
  cg_kernel_end(c);
  return fn;
}

int cg_gemm_call_node(CgCtx *c, const Node *n, CgGemm *g, int n_in, int64_t packed, Diag *d) {
  LLVMValueRef args[8];
  cg_gemm_fold_batch(g);
  g->n_args = n_in + 1;
  LLVMValueRef fn = cg_gemm_kernel(c, g, d);
  if (!fn) return -1;
  for (int i = 0; i < n_in; i++) {
    const Value *v = i < n->n_in ? n->in[i] : NULL;
    if (i == 1 && packed >= 0) args[i] = cg_weights_ptr(c, packed);
    else if (!v) args[i] = LLVMConstNull(c->t_ptr);
    else if (!(args[i] = cg_value_ptr(c, v, d))) return -1;
  }
  if (!(args[n_in] = cg_value_ptr(c, n->out[0], d))) return -1;
  cg_kernel_call_args(c, fn, args, n_in + 1);
  return 0;
}
