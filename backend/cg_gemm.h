/* The one GEMM generator (emit_gemm.c, emit_gemm_kernel.c) behind matmul,
 * gemm, linear and attention:
 *   y[i, j] = act(alpha * sum_p a[i, p] b[p, j] + beta * pre[i, j]) + post[i, j]
 * over static extents. A register tile of MR rows x NR columns (NR = 16 * NV;
 * the shape depends on the target's vector registers) keeps its
 * accumulators in registers over a K loop that broadcasts one element of a
 * and FMAs it with NV vectors of b. Constant b is packed at compile time into
 * panels of NR columns (cg_gemm_pack_b), so every k step reads one
 * contiguous, zero-padded row of NR floats; activation b is copied into
 * such a panel on the stack, one panel and K block at a time, when several
 * row tiles will read it (else read in place), masked at the right edge and
 * gathered when its columns are strided. K is split into blocks of at most
 * KC steps so that a panel stays in L1; partial sums go through y and the
 * epilogue runs after the last block. Work is split into macro tiles of
 * about 8 x 8 register tiles (balanced), run in parallel. */
#ifndef VITC_CG_GEMM_H
#define VITC_CG_GEMM_H
#include "cg_ctx.h"

typedef enum CgGemmAct { CG_ACT_NONE, CG_ACT_GELU, CG_ACT_GELU_TANH, CG_ACT_QUICK_GELU, CG_ACT_SILU, CG_ACT_RELU } CgGemmAct;

/* The register tile and blocking for the target (see cg_gemm_shape). */
typedef struct CgGemmShape {
  int mr;      /* rows of a tile */
  int nv;      /* <16 x float> vectors per row: nr = 16 * nv columns */
  int nr;
  int64_t kc;  /* most k steps per block */
} CgGemmShape;
CgGemmShape cg_gemm_shape(CgCtx *c);

/* ---- inline form: one matrix product emitted at c->b ---- */

/* A matrix at run time: element (i, j) is at p + i*rs + j*cs (in floats). */
typedef struct CgMat {
  LLVMValueRef p; /* NULL when absent (pre, post) */
  int64_t rs, cs;
} CgMat;

typedef struct CgGemmBlock {
  int64_t m, n, k;      /* the whole product; edges are where tiles stop */
  CgMat a, b, y, pre, post;
  int b_packed;         /* b.p is cg_gemm_pack_b's layout of a K x N matrix (rs, cs unused) */
  double alpha, beta;
  CgGemmAct act;
} CgGemmBlock;

/* Computes rows [i0, i1) x columns [j0, j1) of g (i0 a multiple of MR, j0 of
 * NR; i1 and j1 either multiples too or m and n). */
void cg_gemm_block(CgCtx *c, const CgGemmBlock *g, LLVMValueRef i0, LLVMValueRef i1, LLVMValueRef j0,
                   LLVMValueRef j1);

/* ---- kernel form: a batched product as a kernel function ---- */

/* An operand of a kernel: argument `arg` (-1 when absent); element (batch
 * index, i, j) at arg + sum(batch_idx[a] * bs[a]) + i*rs + j*cs. */
typedef struct CgGemmOperand {
  int arg;
  int64_t rs, cs;
  int64_t bs[IR_MAX_RANK];
} CgGemmOperand;

typedef struct CgGemm {
  int64_t m, n, k;
  int n_batch;                    /* batch axes, outer first */
  int64_t batch[IR_MAX_RANK];
  CgGemmOperand a, b, y, pre, post;
  int b_packed;                   /* bs then count floats of the packed layout */
  double alpha, beta;
  CgGemmAct act;
  int n_args;                     /* the kernel's pointer arguments */
} CgGemm;

/* Folds batch axes into m where every operand allows it (b the same for
 * every row; a, y, pre, post rows evenly spaced across the axis). */
void cg_gemm_fold_batch(CgGemm *g);
/* The kernel for g (built once per distinct g); NULL with d filled on error. */
LLVMValueRef cg_gemm_kernel(CgCtx *c, const CgGemm *g, Diag *d);
/* Packs `batches` row-major matrices src (each k x n, or n x k when trans)
 * into panels of nr columns in the weights blob; returns the blob offset,
 * or -1 with d filled. The packed matrix is cg_gemm_packed_size floats. */
int64_t cg_gemm_pack_b(CgCtx *c, const float *src, int64_t batches, int64_t k, int64_t n, int trans, Diag *d);
int64_t cg_gemm_packed_size(CgCtx *c, int64_t k, int64_t n);

/* Operand strides of numpy broadcasting: bs[0..n_batch) for the batch dims
 * of an operand whose own batch dims are dims[0..rank) (aligned at the
 * right), with matrix size mat floats. */
void cg_gemm_batch_strides(const int64_t *dims, int rank, int n_batch, const int64_t *out_batch, int64_t mat,
                           int64_t *bs);

#endif
