/* The one GEMM generator (emit_gemm.c, emit_gemm_kernel.c) behind matmul,
 * gemm, linear and attention:
 *   y[i, j] = act(alpha * rowscale[i] * sum_p a[i, p] b[p, j] + beta * pre[i, j]) + post[i, j]
 * over static extents. A register tile of MR rows x NR columns (NR = 16 * NV;
 * the shape depends on the target's vector registers) keeps its
 * accumulators in registers over a K loop that broadcasts one element of a
 * and FMAs it with NV vectors of b. Constant b is packed at compile time into
 * panels of NR columns (cg_gemm_pack_b), so every k step reads one
 * contiguous, zero-padded row of NR floats; activation b is copied into
 * such a panel on the stack, one panel and K block at a time, when several
 * row tiles will read it (else read in place), masked at the right edge and
 * gathered when its columns are strided. K is split into blocks of at most
 * KC steps so that a panel stays in L1 (AVX2) or L2 (AVX-512, with the next
 * panel prefetched); partial sums go through y and the
 * epilogue runs after the last block. Work is split into macro tiles of
 * about 8 x 8 register tiles (balanced), run in parallel. */
#ifndef VITC_CG_GEMM_H
#define VITC_CG_GEMM_H
#include "cg_ctx.h"

/* What a and a packed b hold (docs/precision.md). F32: floats, one k per step. F32_BF16B: the same
 * arithmetic, but b is packed as bf16 pairs (below), widened into an fp32 panel in L1 once per K block
 * and panel (the bf16 path of CPUs without AVX512-BF16: half the weights' bytes, fp32's speed). BF16: pairs
 * of bf16 (k = 2s in the low half of a 32-bit word, 2s + 1 in the high half), two k per step
 * (vdpbf16ps). INT8: quads of bytes (u8 activations, s8 weights), four k per step. Every kind reads 4 bytes
 * of a row of a and 4 x NR bytes of a packed panel per step, so tiles, panels and K blocks are the same;
 * for the narrow kinds k counts steps (F32_BF16B: values), b is packed and a is the output of
 * cg_quant_rows_kernel. */
typedef enum CgGemmKind { CG_GEMM_F32, CG_GEMM_F32_BF16B, CG_GEMM_BF16, CG_GEMM_INT8 } CgGemmKind;

typedef enum CgGemmAct { CG_ACT_NONE, CG_ACT_GELU, CG_ACT_GELU_TANH, CG_ACT_QUICK_GELU, CG_ACT_SILU, CG_ACT_RELU } CgGemmAct;

/* The register tile and blocking for the target (see cg_gemm_shape). */
typedef struct CgGemmShape {
  int mr;      /* rows of a tile */
  int nv;      /* <16 x float> vectors per row: nr = 16 * nv columns */
  int nr;
  int64_t kc;  /* most k steps per block */
} CgGemmShape;
CgGemmShape cg_gemm_shape(CgCtx *c);
/* The tile for products of kind (the same nr: packing does not depend on the kind). */
CgGemmShape cg_gemm_shape_for(CgCtx *c, CgGemmKind kind);

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
  CgGemmKind kind;
  CgMat rowq;           /* INT8: row i's scale (f32) at p + i*rs, its zero point (i32) after it */
  LLVMValueRef colq;    /* INT8: column j's weight scale (f32) at colq + j, its sum of weights (i32) at
                           colq + npad + j, npad = n rounded up to NR (cg_quant_pack_b) */
  LLVMValueRef rowscale;  /* F32, when not NULL: row i's sum is multiplied by the float at rowscale + i (before
                             alpha): attention's 1 / softmax sum */
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
  CgGemmKind kind;
  CgGemmOperand rowq;             /* INT8: as CgGemmBlock.rowq */
  int colq_arg;                   /* INT8: the argument CgGemmBlock.colq points at */
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
/* Builds g's kernel (batch axes folded, n_in + 1 arguments) and calls it with node n's operands
 * in[0..n_in) (NULL for an absent one; the packed b at blob offset `packed` in place of input 1 when
 * packed >= 0), then n's output. 0, or -1 with d filled. */
int cg_gemm_call_node(CgCtx *c, const Node *n, CgGemm *g, int n_in, int64_t packed, Diag *d);
int64_t cg_gemm_packed_size(CgCtx *c, int64_t k, int64_t n);

/* Operand strides of numpy broadcasting: bs[0..n_batch) for the batch dims
 * of an operand whose own batch dims are dims[0..rank) (aligned at the
 * right), with matrix size mat floats. */
void cg_gemm_batch_strides(const int64_t *dims, int rank, int n_batch, const int64_t *out_batch, int64_t mat,
                           int64_t *bs);

/* ---- narrow products (emit_gemm_narrow.c, docs/precision.md) ---- */

/* The accumulators' vector type: <16 x i32> for INT8, else <16 x float>. */
LLVMTypeRef cg_gemm_acc_type(CgCtx *c, CgGemmKind kind);
/* acc + one step of a row of a (at a) times one step of 16 packed columns (b: <16 x i32>), with the
 * current target's best instructions (VNNI, AVX512-BF16, AVX2, or plain IR). */
LLVMValueRef cg_gemm_narrow_step(CgCtx *c, CgGemmKind kind, LLVMValueRef acc, LLVMValueRef a, LLVMValueRef b);
/* The GEMM kind that runs precision p on the current target (F32_BF16B for bf16 without AVX512-BF16). */
CgGemmKind cg_gemm_kind_for(CgCtx *c, Precision p);
/* The k of a product of kind over activations quantised with layout q (steps, or values for F32_BF16B). */
int64_t cg_gemm_narrow_k(CgGemmKind kind, const QuantLayout *q);
/* The bf16 values in the low (hi = 0) or high halves of <16 x i32> pairs, as <16 x float> (exact). */
LLVMValueRef cg_gemm_widen_bf16(CgCtx *c, LLVMValueRef pairs, int hi);
/* INT8's dequantisation: float(acc - zero * colsum) * (row_scale * col_scale). */
LLVMValueRef cg_gemm_dequant(CgCtx *c, LLVMValueRef acc, LLVMValueRef row_scale, LLVMValueRef zero,
                             LLVMValueRef col_scale, LLVMValueRef colsum);

/* Kernel (args: x, dst): quantises x's rows [rows, k] (contiguous f32) into dst with ir_quant_layout for
 * kind: ir_quant_row_int8's integers, or bf16 rounded to nearest even (ir_bf16_round) as pairs (BF16) or
 * floats (F32_BF16B). */
LLVMValueRef cg_quant_rows_kernel(CgCtx *c, CgGemmKind kind, int64_t rows, int64_t k, Diag *d);
/* Packs constant weights w [k, n] (row-major, f32) for kind into the weights blob: panels of NR columns
 * of steps words; for INT8 also the column data of CgGemmBlock.colq, at *colq (blob offset). Returns
 * the panels' blob offset, or -1 with d filled. */
int64_t cg_quant_pack_b(CgCtx *c, CgGemmKind kind, const float *w, int64_t k, int64_t n, int64_t *colq, Diag *d);
/* The kind that runs node n's precision attribute on the current target. */
CgGemmKind cg_gemm_kind_of(CgCtx *c, const Node *n);

#endif
