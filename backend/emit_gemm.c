/* The GEMM micro-kernel and the loops around it (see cg_gemm.h): a tile of
 * MR x NR accumulators carried through the K loop as SSA values, then the
 * epilogue (alpha, pre, act, post) on the accumulators and one masked store. */
#include "cg_gemm.h"
#include "cg_math.h"
#include "shape_fused.h"
#include <string.h>

#define GEMM_MAX_MR 8
#define GEMM_MAX_NV 2
#define GEMM_UNROLL 4 /* k steps per trip of the main K loop */

/* Whether the comma-separated LLVM feature list has "+name". */
static int has_feature(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; p && (p = strstr(p, name)); p += n)
    if (p > list && p[-1] == '+' && (p[n] == ',' || p[n] == 0)) return 1;
  return 0;
}

/* Whether cpu starts with one of the names in list. */
static int cpu_in(const char *cpu, const char *const *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strncmp(cpu, list[i], strlen(list[i])) == 0) return 1;
  return 0;
}

CgGemmShape cg_gemm_shape(CgCtx *c) {
  static const char *const avx512[] = {"x86-64-v4", "skylake-avx512", "cascadelake", "cooperlake", "cannonlake",
                                       "icelake", "tigerlake", "rocketlake", "sapphirerapids", "emeraldrapids",
                                       "graniterapids", "znver4", "znver5", "knl", "knm"};
  static const char *const no_avx2[] = {"x86-64", "nehalem", "westmere", "sandybridge", "ivybridge", "btver", "bdver1"};
  const char *feat = c->targets[c->cur_target].llvm_features, *cpu = c->cpu_name; /* the target being compiled */
  int wide, avx2;
  if (feat && *feat) { /* the host: its features are listed */
    wide = has_feature(feat, "avx512f");
    avx2 = has_feature(feat, "avx2");
  } else { /* a named CPU implies its features ("x86-64" also prefixes the levels) */
    wide = cpu_in(cpu, avx512, sizeof avx512 / sizeof *avx512);
    avx2 = wide || strcmp(cpu, "x86-64-v3") == 0 || !cpu_in(cpu, no_avx2, sizeof no_avx2 / sizeof *no_avx2);
  }
  /* kc: with AVX2 a panel of kc x nr floats (24 KiB) stays in L1 while the tiles below it pass. With
   * AVX-512 (two 64-byte loads per 16 FMAs, a rate L2 sustains) it streams from L2 (96 KiB), with the next
   * panel prefetched: fewer K blocks, fewer partial sums through y. On a Zen 4, kc 192 -> 768 made
   * 1576 x 3072 x 768 products (ViT-B/16's fc1 at batch 8) 5-7 % faster; 1024 ran the same as 768. */
  if (wide) return (CgGemmShape){8, 2, 32, 768}; /* 16 of 32 zmm registers hold the tile */
  if (avx2) return (CgGemmShape){6, 1, 16, 384};  /* 12 of 16 ymm registers */
  return (CgGemmShape){3, 1, 16, 384};            /* 12 of 16 xmm registers */
}

CgGemmShape cg_gemm_shape_for(CgCtx *c, CgGemmKind kind) {
  CgGemmShape s = cg_gemm_shape(c);
  /* AVX2's int8 step needs two temporaries per vector (vpmaddubsw, vpmaddwd): 6 rows of accumulators spill */
  if (kind == CG_GEMM_INT8 && s.nv == 1) s.mr = 4;
  return s;
}

/* Whether kind's steps are narrow words (cg_gemm_narrow_step) rather than floats. */
static int narrow(CgGemmKind kind) { return kind == CG_GEMM_BF16 || kind == CG_GEMM_INT8; }

/* p + off floats. */
static LLVMValueRef gp(CgCtx *c, LLVMValueRef p, LLVMValueRef off) { return cg_gep(c, DT_F32, p, off); }

/* x * s for an i64 x and a constant s, folded for 0 and 1. */
static LLVMValueRef imul(CgCtx *c, LLVMValueRef x, int64_t s) {
  return s == 0 ? cg_i64(c, 0) : s == 1 ? x : LLVMBuildMul(c->b, x, cg_i64(c, s), "");
}

/* min(a, b) in i64. */
static LLVMValueRef imin(CgCtx *c, LLVMValueRef a, LLVMValueRef b) {
  return LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, a, b, ""), a, b, "");
}

/* <16 x i1> with the first `lanes` lanes set. */
static LLVMValueRef lane_mask(CgCtx *c, int lanes) {
  LLVMValueRef v[CG_VW];
  for (int i = 0; i < CG_VW; i++) v[i] = LLVMConstInt(c->t_i1, i < lanes, 0);
  return LLVMConstVector(v, CG_VW);
}

/* The 16 addresses row + (16 v + l) cs, l = 0..15, as a vector of pointers. */
static LLVMValueRef lane_ptrs(CgCtx *c, LLVMValueRef row, int64_t cs, int v) {
  LLVMValueRef idx[CG_VW];
  for (int l = 0; l < CG_VW; l++) idx[l] = cg_i64(c, (16 * v + l) * cs);
  LLVMValueRef iv = LLVMConstVector(idx, CG_VW);
  return LLVMBuildGEP2(c->b, c->t_f32, row, &iv, 1, "");
}

/* Columns [16 v, 16 v + lanes) of the row at `row` with column stride cs
 * (lanes past `lanes` undefined; one lane or a stride of 0 is a broadcast). */
static LLVMValueRef row_load(CgCtx *c, LLVMValueRef row, int64_t cs, int v, int lanes) {
  if (lanes == 1 || cs == 0) return cg_splat(c, LLVMBuildLoad2(c->b, c->t_f32, gp(c, row, cg_i64(c, 16 * v * cs)), ""));
  if (cs == 1) return cg_load_vec(c, DT_F32, gp(c, row, cg_i64(c, 16 * v)), lanes < CG_VW ? lane_mask(c, lanes) : NULL);
  LLVMTypeRef vt = cg_vec_type(c, DT_F32), tys[2] = {vt, LLVMVectorType(c->t_ptr, CG_VW)};
  LLVMValueRef args[4] = {lane_ptrs(c, row, cs, v), LLVMConstInt(c->t_i32, 4, 0), lane_mask(c, lanes), LLVMGetUndef(vt)};
  return cg_intrinsic(c, "llvm.masked.gather", tys, 2, args, 4);
}

/* Stores lanes [0, lanes) of x as columns [16 v, 16 v + lanes) of the row at `row`. */
static void row_store(CgCtx *c, LLVMValueRef row, int64_t cs, int v, int lanes, LLVMValueRef x) {
  if (lanes == 1) {
    LLVMValueRef e = LLVMBuildExtractElement(c->b, x, LLVMConstInt(c->t_i32, 0, 0), "");
    LLVMSetAlignment(LLVMBuildStore(c->b, e, gp(c, row, cg_i64(c, 16 * v * cs))), 4);
  } else if (cs == 1) {
    cg_store_vec(c, DT_F32, gp(c, row, cg_i64(c, 16 * v)), x, lanes < CG_VW ? lane_mask(c, lanes) : NULL);
  } else {
    LLVMTypeRef tys[2] = {cg_vec_type(c, DT_F32), LLVMVectorType(c->t_ptr, CG_VW)};
    LLVMValueRef args[4] = {x, lane_ptrs(c, row, cs, v), LLVMConstInt(c->t_i32, 4, 0), lane_mask(c, lanes)};
    cg_intrinsic(c, "llvm.masked.scatter", tys, 2, args, 4);
  }
}

/* One register tile during code generation. */
typedef struct GemmTile {
  const CgGemmBlock *g;
  CgGemmShape s;
  int mr, nr, nv;                 /* rows, valid columns, vectors in use */
  LLVMValueRef i0, j0;
  LLVMValueRef arow[GEMM_MAX_MR]; /* &a[i0 + r, 0] */
  LLVMValueRef bcol;              /* &b[0, j0], or j0's packed panel */
  int packed;                     /* bcol is a packed panel whose first row is k = pk0 */
  LLVMValueRef pk0;
  LLVMTypeRef acc_t;              /* cg_gemm_acc_type of the kind */
} GemmTile;

/* One pass over a block of K: what its tiles share. */
typedef struct GemmPass {
  const CgGemmBlock *g;
  CgGemmShape s;
  LLVMValueRef k0, k1;
  LLVMValueRef panel; /* a buffer activation b is copied into, one panel at a time; NULL when b is packed or read in place */
} GemmPass;

/* The columns of vector v that are inside tile t. */
static int tile_lanes(const GemmTile *t, int v) { return t->nr - 16 * v < CG_VW ? t->nr - 16 * v : CG_VW; }

/* Columns [16 v, 16 v + 16) of b's row p for tile t. */
static LLVMValueRef tile_b(CgCtx *c, const GemmTile *t, LLVMValueRef p, int v) {
  const CgGemmBlock *g = t->g;
  if (t->packed) {
    LLVMValueRef at = LLVMBuildAdd(c->b, imul(c, LLVMBuildSub(c->b, p, t->pk0, ""), t->s.nr), cg_i64(c, 16 * v), "");
    LLVMTypeRef vt = cg_vec_type(c, narrow(g->kind) ? DT_I32 : DT_F32); /* narrow kinds: 16 words */
    LLVMValueRef x = LLVMBuildLoad2(c->b, vt, gp(c, t->bcol, at), "");
    LLVMSetAlignment(x, 64);
    return x;
  }
  int lanes = tile_lanes(t, v);
  return row_load(c, gp(c, t->bcol, imul(c, p, g->b.rs)), g->b.cs, v, lanes);
}

/* Prefetches row p of the packed weight panel after tile t's into L2 (locality 2: prefetcht1). Each K
 * block of a panel is first read by the top tile of its rows, which otherwise waits on memory for all of
 * it (the hardware prefetcher loses the stream at each jump to the next panel, nr * k floats on):
 * ViT-B/16 ran 5-8 % faster on a Zen 4. The other tiles of the panel repeat the prefetch, from L2. */
static void tile_prefetch_next_panel(CgCtx *c, const GemmTile *t, LLVMValueRef p) {
  const CgGemmBlock *g = t->g;
  if (!t->packed || !g->b_packed || g->kind == CG_GEMM_F32_BF16B) return; /* bcol is a stack panel */
  LLVMValueRef at = LLVMBuildAdd(c->b, imul(c, p, t->s.nr), cg_i64(c, t->s.nr * g->k), "");
  LLVMTypeRef pt = c->t_ptr;
  for (int line = 0; line < t->s.nr / 16; line++) { /* a row of nr words: nr / 16 cache lines */
    LLVMValueRef args[4] = {gp(c, t->bcol, LLVMBuildAdd(c->b, at, cg_i64(c, 16 * line), "")),
                            LLVMConstInt(c->t_i32, 0, 0) /* read */, LLVMConstInt(c->t_i32, 2, 0) /* locality */,
                            LLVMConstInt(c->t_i32, 1, 0) /* data */};
    cg_intrinsic(c, "llvm.prefetch", &pt, 1, args, 4);
  }
}

/* One k step: acc[r][v] += a[i0 + r, p] * b[p, j0 + 16 v ...]. */
static void tile_kstep(CgCtx *c, const GemmTile *t, LLVMValueRef p, LLVMValueRef *acc) {
  LLVMValueRef bv[GEMM_MAX_NV];
  LLVMTypeRef vt = cg_vec_type(c, DT_F32);
  for (int v = 0; v < t->nv; v++) bv[v] = tile_b(c, t, p, v);
  tile_prefetch_next_panel(c, t, p);
  if (narrow(t->g->kind)) { /* one step of a row is one 32-bit word */
    for (int r = 0; r < t->mr; r++) {
      LLVMValueRef a = gp(c, t->arow[r], imul(c, p, t->g->a.cs));
      for (int v = 0; v < t->nv; v++)
        acc[r * t->nv + v] = cg_gemm_narrow_step(c, t->g->kind, acc[r * t->nv + v], a, bv[v]);
    }
    return;
  }
  for (int r = 0; r < t->mr; r++) {
    LLVMValueRef a = LLVMBuildLoad2(c->b, c->t_f32, gp(c, t->arow[r], imul(c, p, t->g->a.cs)), "");
    LLVMValueRef as = cg_splat(c, a);
    for (int v = 0; v < t->nv; v++) {
      LLVMValueRef args[3] = {as, bv[v], acc[r * t->nv + v]};
      acc[r * t->nv + v] = cg_intrinsic(c, "llvm.fmuladd", &vt, 1, args, 3);
    }
  }
}

/* Carries acc through `for (p = from; p + step <= to; p += step)`, `step`
 * k steps per trip; returns the p it stops at. */
static LLVMValueRef tile_kloop(CgCtx *c, const GemmTile *t, LLVMValueRef from, LLVMValueRef to, int step,
                               LLVMValueRef *acc) {
  int n = t->mr * t->nv;
  LLVMValueRef limit = LLVMBuildSub(c->b, to, cg_i64(c, step - 1), "");
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(c->b);
  LLVMBasicBlockRef head = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "k");
  LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "kbody");
  LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "kdone");
  LLVMBuildBr(c->b, head);
  LLVMPositionBuilderAtEnd(c->b, head);
  LLVMValueRef p = LLVMBuildPhi(c->b, c->t_i64, "p"), phi[GEMM_MAX_MR * GEMM_MAX_NV], cur[GEMM_MAX_MR * GEMM_MAX_NV];
  LLVMAddIncoming(p, &from, &pre, 1);
  for (int i = 0; i < n; i++) {
    phi[i] = cur[i] = LLVMBuildPhi(c->b, t->acc_t, "acc");
    LLVMAddIncoming(phi[i], &acc[i], &pre, 1);
  }
  LLVMBuildCondBr(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, p, limit, ""), body, done);
  LLVMPositionBuilderAtEnd(c->b, body);
  for (int u = 0; u < step; u++) tile_kstep(c, t, u ? LLVMBuildAdd(c->b, p, cg_i64(c, u), "") : p, cur);
  LLVMValueRef next = LLVMBuildAdd(c->b, p, cg_i64(c, step), "");
  LLVMBasicBlockRef latch = LLVMGetInsertBlock(c->b);
  LLVMAddIncoming(p, &next, &latch, 1);
  for (int i = 0; i < n; i++) LLVMAddIncoming(phi[i], &cur[i], &latch, 1);
  LLVMBuildBr(c->b, head);
  LLVMPositionBuilderAtEnd(c->b, done);
  memcpy(acc, phi, (size_t)n * sizeof *acc);
  return p;
}

/* &m[i0 + r, j0] of an operand of tile t. */
static LLVMValueRef tile_row(CgCtx *c, const GemmTile *t, const CgMat *m, int r) {
  LLVMValueRef i = LLVMBuildAdd(c->b, t->i0, cg_i64(c, r), "");
  return gp(c, m->p, LLVMBuildAdd(c->b, imul(c, i, m->rs), imul(c, t->j0, m->cs), ""));
}

/* INT8: accumulator (r, v) as floats, scaled back (cg_gemm_dequant). */
static LLVMValueRef tile_dequant(CgCtx *c, const GemmTile *t, int r, int v, LLVMValueRef acc) {
  const CgGemmBlock *g = t->g;
  int64_t npad = (g->n + t->s.nr - 1) / t->s.nr * t->s.nr;
  LLVMValueRef row = gp(c, g->rowq.p, imul(c, LLVMBuildAdd(c->b, t->i0, cg_i64(c, r), ""), g->rowq.rs));
  LLVMValueRef sx = LLVMBuildLoad2(c->b, c->t_f32, row, "");
  LLVMValueRef z = LLVMBuildLoad2(c->b, c->t_i32, gp(c, row, cg_i64(c, 1)), "");
  LLVMValueRef col = LLVMBuildAdd(c->b, t->j0, cg_i64(c, 16 * v), "");
  LLVMValueRef sw = LLVMBuildLoad2(c->b, cg_vec_type(c, DT_F32), gp(c, g->colq, col), "");
  LLVMValueRef cs = LLVMBuildLoad2(c->b, cg_vec_type(c, DT_I32), gp(c, g->colq, LLVMBuildAdd(c->b, col, cg_i64(c, npad), "")), "");
  LLVMSetAlignment(sw, 4), LLVMSetAlignment(cs, 4);
  return cg_gemm_dequant(c, acc, sx, z, sw, cs);
}

/* The epilogue of accumulator (r, v): INT8's scales, the row scale, alpha, + beta pre, act, + post. */
static LLVMValueRef tile_epilogue(CgCtx *c, const GemmTile *t, int r, int v, LLVMValueRef x) {
  const CgGemmBlock *g = t->g;
  int lanes = tile_lanes(t, v);
  if (g->kind == CG_GEMM_INT8) x = tile_dequant(c, t, r, v, x);
  if (g->rowscale) {
    LLVMValueRef f = LLVMBuildLoad2(c->b, c->t_f32, gp(c, g->rowscale, LLVMBuildAdd(c->b, t->i0, cg_i64(c, r), "")), "");
    x = LLVMBuildFMul(c->b, x, cg_splat(c, f), "");
  }
  if (g->alpha != 1.0) x = LLVMBuildFMul(c->b, x, cg_math_const(c, x, g->alpha), "");
  if (g->pre.p) {
    LLVMValueRef e = row_load(c, tile_row(c, t, &g->pre, r), g->pre.cs, v, lanes);
    if (g->beta != 1.0) e = LLVMBuildFMul(c->b, e, cg_math_const(c, e, g->beta), "");
    x = LLVMBuildFAdd(c->b, x, e, "");
  }
  if (g->act == CG_ACT_GELU || g->act == CG_ACT_GELU_TANH) x = cg_math_gelu(c, x, g->act == CG_ACT_GELU_TANH);
  if (g->act == CG_ACT_QUICK_GELU || g->act == CG_ACT_SILU) {
    /* x * sigmoid(a x): a = 1.702f (quick_gelu) or 1 (silu). */
    LLVMValueRef ax = g->act == CG_ACT_SILU ? x : LLVMBuildFMul(c->b, x, cg_math_const(c, x, LINEAR_QUICK_GELU_ALPHA), "");
    x = LLVMBuildFMul(c->b, x, cg_math_sigmoid(c, ax), "");
  }
  if (g->act == CG_ACT_RELU) { /* x <= 0 (ordered) gives 0, NaN stays */
    LLVMValueRef zero = LLVMConstNull(LLVMTypeOf(x));
    x = LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealOLE, x, zero, ""), zero, x, "");
  }
  if (g->post.p) x = LLVMBuildFAdd(c->b, x, row_load(c, tile_row(c, t, &g->post, r), g->post.cs, v, lanes), "");
  return x;
}

/* Stores the tile's accumulators to y, through the epilogue when `final`. */
static void tile_store(CgCtx *c, const GemmTile *t, LLVMValueRef *acc, int final) {
  for (int r = 0; r < t->mr; r++) {
    LLVMValueRef row = tile_row(c, t, &t->g->y, r);
    for (int v = 0; v < t->nv; v++) {
      LLVMValueRef x = acc[r * t->nv + v];
      int lanes = tile_lanes(t, v);
      if (!final) x = LLVMBuildBitCast(c->b, x, cg_vec_type(c, DT_F32), ""); /* INT8's partial sums: their bits */
      row_store(c, row, t->g->y.cs, v, lanes, final ? tile_epilogue(c, t, r, v, x) : x);
    }
  }
}

/* Whether i64 condition x is a constant: 1 or 0; -1 when it is decided at run time. */
static int const_cond(LLVMValueRef x) { return LLVMIsAConstantInt(x) ? (int)LLVMConstIntGetZExtValue(x) : -1; }

/* Starts the tile's accumulators: zero for the first K block, else y's partial sums. */
static void tile_init(CgCtx *c, const GemmTile *t, LLVMValueRef k0, LLVMValueRef *acc) {
  int n = t->mr * t->nv;
  LLVMValueRef first = LLVMBuildICmp(c->b, LLVMIntEQ, k0, cg_i64(c, 0), ""), zero = LLVMConstNull(t->acc_t);
  LLVMValueRef part[GEMM_MAX_MR * GEMM_MAX_NV];
  for (int i = 0; i < n; i++) acc[i] = zero;
  if (const_cond(first) == 1) return;
  LLVMBasicBlockRef top = LLVMGetInsertBlock(c->b);
  LLVMBasicBlockRef cont = cg_if_begin(c, LLVMBuildNot(c->b, first, ""));
  for (int r = 0; r < t->mr; r++)
    for (int v = 0; v < t->nv; v++) {
      int lanes = tile_lanes(t, v);
      part[r * t->nv + v] = LLVMBuildBitCast(c->b, row_load(c, tile_row(c, t, &t->g->y, r), t->g->y.cs, v, lanes), t->acc_t, "");
    }
  LLVMBasicBlockRef loaded = LLVMGetInsertBlock(c->b);
  cg_if_end(c, cont);
  for (int i = 0; i < n; i++) {
    LLVMValueRef phi = LLVMBuildPhi(c->b, t->acc_t, "acc0");
    LLVMValueRef vals[2] = {zero, part[i]};
    LLVMBasicBlockRef from[2] = {top, loaded};
    LLVMAddIncoming(phi, vals, from, 2);
    acc[i] = phi;
  }
}

/* One tile of pass ps: rows [i0, i0 + mr), valid columns [j0, j0 + nr). */
static void gemm_tile(CgCtx *c, const GemmPass *ps, LLVMValueRef i0, LLVMValueRef j0, int mr, int nr) {
  const CgGemmBlock *g = ps->g;
  GemmTile t = {g, ps->s, mr, nr, (nr + CG_VW - 1) / CG_VW, i0, j0, {0}, NULL, g->b_packed || ps->panel, cg_i64(c, 0),
                cg_gemm_acc_type(c, g->kind)};
  LLVMValueRef acc[GEMM_MAX_MR * GEMM_MAX_NV];
  for (int r = 0; r < mr; r++) t.arow[r] = tile_row(c, &t, &(CgMat){g->a.p, g->a.rs, 0}, r);
  if (ps->panel) t.bcol = ps->panel, t.pk0 = ps->k0;
  else t.bcol = gp(c, g->b.p, g->b_packed ? imul(c, j0, g->k) : imul(c, j0, g->b.cs));
  tile_init(c, &t, ps->k0, acc);
  LLVMValueRef p = tile_kloop(c, &t, ps->k0, ps->k1, GEMM_UNROLL, acc);
  tile_kloop(c, &t, p, ps->k1, 1, acc);
  LLVMValueRef last = LLVMBuildICmp(c->b, LLVMIntEQ, ps->k1, cg_i64(c, g->k), "");
  if (const_cond(last) >= 0) {
    tile_store(c, &t, acc, const_cond(last));
    return;
  }
  LLVMBasicBlockRef partial = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "partial");
  LLVMBasicBlockRef final = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "final");
  LLVMBasicBlockRef cont = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "stored");
  LLVMBuildCondBr(c->b, last, final, partial);
  LLVMPositionBuilderAtEnd(c->b, final);
  tile_store(c, &t, acc, 1);
  LLVMBuildBr(c->b, cont);
  LLVMPositionBuilderAtEnd(c->b, partial);
  tile_store(c, &t, acc, 0);
  LLVMBuildBr(c->b, cont);
  LLVMPositionBuilderAtEnd(c->b, cont);
}

/* F32_BF16B: widens rows [k0, k1) (k0 even) of the bf16 pairs packed for columns [j, j + NR) into the
 * pass's panel buffer, rows of NR floats. */
static void gemm_widen_panel(CgCtx *c, const GemmPass *ps, LLVMValueRef j) {
  const CgGemmBlock *g = ps->g;
  LLVMValueRef src = gp(c, g->b.p, imul(c, j, g->k / 2)); /* the panel of pairs: k / 2 steps of NR words */
  CgLoop l = cg_loop_begin(c, ps->k0, ps->k1, 2);
  LLVMValueRef step = LLVMBuildSDiv(c->b, l.iv, cg_i64(c, 2), ""), row = LLVMBuildSub(c->b, l.iv, ps->k0, "");
  for (int v = 0; v < ps->s.nv; v++) {
    LLVMValueRef x = LLVMBuildLoad2(c->b, cg_vec_type(c, DT_I32), gp(c, src, LLVMBuildAdd(c->b, imul(c, step, ps->s.nr), cg_i64(c, 16 * v), "")), "");
    LLVMSetAlignment(x, 64);
    for (int hi = 0; hi < 2; hi++) {
      LLVMValueRef at = LLVMBuildAdd(c->b, imul(c, LLVMBuildAdd(c->b, row, cg_i64(c, hi), ""), ps->s.nr), cg_i64(c, 16 * v), "");
      LLVMSetAlignment(LLVMBuildStore(c->b, cg_gemm_widen_bf16(c, x, hi), gp(c, ps->panel, at)), 64);
    }
  }
  cg_loop_end(c, &l);
}

/* Copies rows [k0, k1) of activation b's columns [j, j + nr) into the pass's
 * panel buffer, rows of NR floats: the tiles below then read it from L1,
 * not b's rows scattered a row stride apart. */
static void gemm_copy_panel(CgCtx *c, const GemmPass *ps, LLVMValueRef j, int nr) {
  const CgGemmBlock *g = ps->g;
  if (g->kind == CG_GEMM_F32_BF16B) {
    gemm_widen_panel(c, ps, j);
    return;
  }
  CgLoop l = cg_loop_begin(c, ps->k0, ps->k1, 1);
  LLVMValueRef row = gp(c, g->b.p, LLVMBuildAdd(c->b, imul(c, l.iv, g->b.rs), imul(c, j, g->b.cs), ""));
  LLVMValueRef dst = gp(c, ps->panel, imul(c, LLVMBuildSub(c->b, l.iv, ps->k0, ""), ps->s.nr));
  for (int v = 0; v < (nr + CG_VW - 1) / CG_VW; v++) {
    LLVMValueRef x = row_load(c, row, g->b.cs, v, nr - 16 * v < CG_VW ? nr - 16 * v : CG_VW);
    LLVMSetAlignment(LLVMBuildStore(c->b, x, gp(c, dst, cg_i64(c, 16 * v))), 64);
  }
  cg_loop_end(c, &l);
}

/* The tiles of rows [i0, i1) at columns j (nr valid): full tiles, then the
 * bottom edge tile when the range reaches it. */
static void gemm_rows(CgCtx *c, const GemmPass *ps, LLVMValueRef i0, LLVMValueRef i1, LLVMValueRef j, int nr) {
  int64_t edge = ps->g->m % ps->s.mr, full = ps->g->m - edge;
  if (ps->panel) gemm_copy_panel(c, ps, j, nr);
  CgLoop l = cg_loop_begin(c, i0, imin(c, i1, cg_i64(c, full)), ps->s.mr);
  gemm_tile(c, ps, l.iv, j, ps->s.mr, nr);
  cg_loop_end(c, &l);
  if (!edge) return;
  LLVMBasicBlockRef cont = cg_if_begin(c, LLVMBuildICmp(c->b, LLVMIntSGT, i1, cg_i64(c, full), ""));
  gemm_tile(c, ps, cg_i64(c, full), j, (int)edge, nr);
  cg_if_end(c, cont);
}

/* Columns [j0, j1) in panels of NR (the right edge panel masked), each over rows [i0, i1). */
static void gemm_panels(CgCtx *c, const GemmPass *ps, LLVMValueRef i0, LLVMValueRef i1, LLVMValueRef j0,
                        LLVMValueRef j1) {
  int64_t edge = ps->g->n % ps->s.nr, full = ps->g->n - edge;
  CgLoop l = cg_loop_begin(c, j0, imin(c, j1, cg_i64(c, full)), ps->s.nr);
  gemm_rows(c, ps, i0, i1, l.iv, ps->s.nr);
  cg_loop_end(c, &l);
  if (!edge) return;
  LLVMBasicBlockRef cont = cg_if_begin(c, LLVMBuildICmp(c->b, LLVMIntSGT, j1, cg_i64(c, full), ""));
  gemm_rows(c, ps, i0, i1, cg_i64(c, full), (int)edge);
  cg_if_end(c, cont);
}

/* A stack buffer of n floats, 64-byte aligned, allocated in the entry block of the function being built. */
static LLVMValueRef gemm_stack_buffer(CgCtx *c, int64_t n) {
  LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(c->fn);
  LLVMValueRef first = LLVMGetFirstInstruction(entry);
  LLVMBuilderRef eb = LLVMCreateBuilderInContext(c->ctx);
  if (first) LLVMPositionBuilderBefore(eb, first);
  else LLVMPositionBuilderAtEnd(eb, entry);
  LLVMValueRef buf = LLVMBuildAlloca(eb, LLVMArrayType2(c->t_f32, (uint64_t)n), "bpanel");
  LLVMSetAlignment(buf, CG_ALIGN);
  LLVMDisposeBuilder(eb);
  return buf;
}

void cg_gemm_block(CgCtx *c, const CgGemmBlock *g, LLVMValueRef i0, LLVMValueRef i1, LLVMValueRef j0,
                   LLVMValueRef j1) {
  GemmPass ps = {g, cg_gemm_shape_for(c, g->kind), cg_i64(c, 0), cg_i64(c, g->k), NULL};
  int64_t nk = (g->k + ps.s.kc - 1) / ps.s.kc, kc = nk > 1 ? (g->k + nk - 1) / nk : g->k;
  kc = nk > 1 ? (kc + GEMM_UNROLL - 1) / GEMM_UNROLL * GEMM_UNROLL : kc;
  nk = kc > 0 ? (g->k + kc - 1) / kc : 1;
  /* Activation b is copied panel by panel when several tiles of rows will read each panel; bf16 weights
   * are always widened into one. */
  if (((!g->b_packed && g->m > 2 * ps.s.mr) || g->kind == CG_GEMM_F32_BF16B) && kc > 0)
    ps.panel = gemm_stack_buffer(c, kc * ps.s.nr);
  if (nk <= 1) {
    gemm_panels(c, &ps, i0, i1, j0, j1);
    return;
  }
  CgLoop l = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, nk * kc), kc);
  ps.k0 = l.iv;
  ps.k1 = imin(c, LLVMBuildAdd(c->b, l.iv, cg_i64(c, kc), ""), cg_i64(c, g->k));
  gemm_panels(c, &ps, i0, i1, j0, j1);
  cg_loop_end(c, &l);
}
