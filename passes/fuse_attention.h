/* Private to fuse_attention*.c: one attention match and its analysis.
 *
 * The matcher (fuse_attention.c) finds the core softmax(scale * Q K^T + bias) V
 * at a Softmax (the score chain in between: fuse_attention_bias.c), follows
 * Q, K and V back through layout ops and scalar scales to
 * their projections (x @ W + b), and V's product forward through layout ops
 * to the merged heads Y. The analysis (fuse_attention_map.c) runs those
 * chains on index tensors and works out, element by element, which
 * projection column and which input row every q, k, v and output element
 * is: that fixes the heads, the q | k | v column order of w_qkv and which
 * rows form a sequence, whatever the spelling of the reshapes and permutes.
 * The rewrite (fuse_attention_emit.c) picks the input layout (batch-first
 * [B, N, C], or sequence-first [N, B, C], seeing through Transposes), absorbs
 * the out-projection when the rows line up, and builds the nodes.
 *
 * Cross-attention (attention-pooling heads): when Q is a known tensor (a
 * learned probe's projection, folded), only K and V must be projections of
 * x; Q's M rows per group become the attention's query input, and each
 * output row is (the batch of its group's keys, query i). */
#ifndef VITC_FUSE_ATTENTION_H
#define VITC_FUSE_ATTENTION_H
#include "fuse_util.h"

/* One of the q, k, v projections: src = x @ W + bias (f.x is x). */
typedef struct AttnProj {
  FuseLinear f;
  Value *src;
} AttnProj;

enum { ATTN_Q, ATTN_K, ATTN_V };

typedef struct Attn {
  const FuseUsers *u;
  FuseMatch m;
  Node *softmax, *qk, *pv;
  FuseStep ch[3][FUSE_MAX_STEPS]; /* q, k, v: from the projection to the matmul operand */
  int nch[3];
  FuseStep out[FUSE_MAX_STEPS];   /* from pv's result forward (layout ops) */
  Value *outv[FUSE_MAX_STEPS];
  int nout;
  double scale;                   /* on q, k and the scores, multiplied */
  double *bias;                   /* known additions to the scores, over Q K^T's elements [g, i, j]; NULL: none */
  double vscale;                  /* on v: folded into the weights */
  AttnProj pr[3];
  Value *x;                       /* the projections' common input [..., C] */
  Value *qknown;                  /* cross-attention: Q itself, a known tensor [G.., M, D]; else NULL */
  /* Core shapes: q is [G.., M, D], k^T [G.., D, N], v [G.., N, D] (M = N for self-attention). */
  int64_t g, nq, n, dh, c, t;     /* groups, queries (M), keys (N), head size, width of x, rows of x */
  int64_t ty;                     /* rows of the merged output Y: t, or (t / N) * M for cross-attention */
  /* Per group and position: q: the row of x of query i (cross-attention: its row of Y, set by
   * attn_merge); k: the row of x of key j. */
  int64_t *qrow, *krow;
  int32_t *gcol[3];               /* [g * dh + dd]: projection column of q, k, v in group g */
  /* Set by attn_merge for the chosen Y. */
  int ny;                         /* output steps up to Y */
  Value *y;
  int64_t e, heads;
  int32_t *col[3];                /* [h * dh + dd]: projection column of head h */
  int32_t *ghead;                 /* [g]: the head of group g */
  const char *why;                /* the first condition that failed */
  const Value *leak;              /* with why: the intermediate value read elsewhere */
} Attn;

/* Records the first failed condition; returns 0. */
int attn_fail(Attn *a, const char *why);
/* Frees the analysis arrays. */
void attn_free(Attn *a);
/* Flips sequence-first regions between Transposes back to the Transposes'
 * input layout (fuse_attention_flip.c); 1 when something changed, -1 on error. */
int attn_flip_layouts(Graph *g, PassCtx *ctx, Diag *d);
/* Follows the softmax's input back to Q K^T through scales, row-keeping reshapes and additions of known
 * tensors: sets a->qk, a->scale and a->bias, adds the steps to the match; 0 with a->why when it fails. */
int attn_score_chain(Attn *a, Value *scores);
/* The score bias as the attention node reads it, [B, heads, M, N] folded to its shortest period over B:
 * *out (malloc'd) holds groups x heads x M x N floats. krows: x row -> attention row (keys); qrows: query
 * row (a->qrow's) -> attention output row (b * M + i). -1 on OOM. */
int attn_score_bias(const Attn *a, const int64_t *krows, const int64_t *qrows, int64_t b, float **out,
                    int64_t *groups);
/* Shortest period over the b leading blocks of per floats of full (b when none is shorter). */
int64_t attn_period(const float *full, int64_t b, int64_t per);
/* Works out rows and columns of q, k, v (1) or why not (0, a->why). */
int attn_columns(Attn *a);
/* Checks the output steps [0, ny) produce the merged heads: sets y, e, heads, col. */
int attn_merge(Attn *a, int ny);
/* The rewrite: chooses the layouts, absorbs the out-projection, emits. 1, 0 or -1. */
int attn_rewrite(Graph *g, Attn *a, Diag *d);

#endif
