/* Helpers for the row-shaped kernels (softmax, layer_norm, reduce_*): values
 * carried around a cg_loop, the folds (sum, max) with their identities, and a
 * walk over a contiguous run of static length in vectors with a masked tail. */
#ifndef VITC_CG_ROWS_H
#define VITC_CG_ROWS_H
#include "cg_ctx.h"

typedef enum CgFold {
  CG_FOLD_SUM, /* + (integers wrap) */
  CG_FOLD_MAX, /* max; for f32 a NaN wins (llvm.maximum) */
} CgFold;

/* A value carried around loop l: a phi in its header that starts at init. */
LLVMValueRef cg_carry(CgCtx *c, CgLoop *l, LLVMValueRef init);
/* Gives the carried phi its value for the next iteration; call it just before cg_loop_end. */
void cg_carry_next(CgCtx *c, LLVMValueRef phi, LLVMValueRef next);

/* <CG_VW x t> filled with the identity of op (0, or -inf / the type's minimum). */
LLVMValueRef cg_fold_identity(CgCtx *c, CgFold op, DType t);
/* acc op v lane by lane; lanes off in mask (when not NULL) keep acc. */
LLVMValueRef cg_fold(CgCtx *c, CgFold op, DType t, LLVMValueRef acc, LLVMValueRef v, LLVMValueRef mask);
/* The scalar fold of all lanes of v. */
LLVMValueRef cg_fold_lanes(CgCtx *c, CgFold op, DType t, LLVMValueRef v);

/* The body of a kernel that stores the scalar v (of type t) into elements [0, count) of each of the n
 * kernel arguments args[]: what a fold over no elements leaves in each row's result. */
void cg_fill_kernel(CgCtx *c, int64_t count, DType t, LLVMValueRef v, const int *args, int n);

/* Node n's `axis` attribute (default -1) normalized against rank; -1 with d filled when out of range. */
int cg_axis(const Node *n, int rank, Diag *d);

/* One vector step of a run at element offset i (all lanes, or those in mask);
 * gets the carried value acc (NULL when none) and returns its next value. */
typedef LLVMValueRef (*CgRunFn)(CgCtx *c, void *env, LLVMValueRef i, LLVMValueRef mask, LLVMValueRef acc);
/* Calls f over [0, count) in steps of CG_VW, the last one masked when count
 * is not a multiple; returns the final carried value (acc may be NULL). */
LLVMValueRef cg_run(CgCtx *c, int64_t count, LLVMValueRef acc, CgRunFn f, void *env);

/* y = softmax(x) over one row of len contiguous f32 (y may be x): max
 * subtracted, exp, scaled by 1 / sum (emit_softmax.c). */
void cg_softmax_row(CgCtx *c, LLVMValueRef x, LLVMValueRef y, int64_t len);
/* The first two passes of that on `rows` rows of len at x (row r at x + r * stride), in place: x =
 * exp(x - row max), and 1 / sum of row r to the float at inv + r (attention scales p v's rows by it).
 * `group` rows (at most 16) share each pass's loop, so that their max and sum chains overlap. */
void cg_softmax_block_exp(CgCtx *c, LLVMValueRef x, int64_t stride, int rows, int64_t len, int group,
                          LLVMValueRef inv);

#endif
