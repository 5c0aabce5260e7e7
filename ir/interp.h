/* Private to the reference interpreter: one kernel per op (generated from
 * ops.def, so a missing kernel is a link error) and helpers the kernel files
 * share. */
#ifndef VITC_INTERP_H
#define VITC_INTERP_H

#include "ir.h"

#define OP(ID, name, ...) int interp_##name(const Node *n, const Tensor *in, Tensor *out, Diag *d);
#include "ops.def"
#undef OP

/* Whether optional input i is present (trailing inputs may be missing from n->in). */
static inline int interp_has_in(const Node *n, const Tensor *in, int i) {
  return i < n->n_in && in[i].dtype != DT_UNDEF;
}

/* Whether optional output j is wanted. */
static inline int interp_has_out(const Node *n, const Tensor *out, int j) {
  return j < n->n_out && out[j].dtype != DT_UNDEF;
}

/* Walks the elements of a shape in row-major order while keeping, for each of
 * up to INTERP_MAX_OPS operands, an element offset moved by per-axis strides
 * (0 on a broadcast axis, negative for reversed slices). */
#define INTERP_MAX_OPS 4
typedef struct InterpIter {
  int rank, n_ops;
  int64_t dims[IR_MAX_RANK];
  int64_t idx[IR_MAX_RANK];
  int64_t strides[INTERP_MAX_OPS][IR_MAX_RANK];
  int64_t off[INTERP_MAX_OPS];
} InterpIter;

/* Starts an iterator over `shape` with n_ops operands, all strides 0, offsets 0. */
void interp_iter_init(InterpIter *it, const Tensor *shape, int n_ops);
/* Sets operand k's strides so that `t` is read with numpy broadcasting to the
 * iterated shape (aligned at the trailing axes); errors when it does not
 * broadcast. */
int interp_iter_broadcast(InterpIter *it, int k, const Tensor *t, const Node *n, Diag *d);

/* Advances to the next element (row-major); no-op past the end. */
static inline void interp_iter_next(InterpIter *it) {
  for (int a = it->rank - 1; a >= 0; a--) {
    for (int k = 0; k < it->n_ops; k++) it->off[k] += it->strides[k][a];
    if (++it->idx[a] < it->dims[a]) return;
    for (int k = 0; k < it->n_ops; k++) it->off[k] -= it->strides[k][a] * it->dims[a];
    it->idx[a] = 0;
  }
}

/* Row-major element strides of t. */
void interp_strides(const Tensor *t, int64_t *strides);
/* Product of dims[lo..hi). */
int64_t interp_dims_prod(const Tensor *t, int lo, int hi);
/* Copies element si of src to element di of dst (both of element size es). */
static inline void interp_copy_elem(void *dst, int64_t di, const void *src, int64_t si, size_t es) {
  switch (es) {
  case 1: ((uint8_t *)dst)[di] = ((const uint8_t *)src)[si]; break;
  case 4: ((uint32_t *)dst)[di] = ((const uint32_t *)src)[si]; break;
  default: ((uint64_t *)dst)[di] = ((const uint64_t *)src)[si]; break;
  }
}

/* Errors about an operand's type; return -1. */
int interp_bad_dtype(Diag *d, const Node *n, const char *what, const Tensor *t);
/* Checks out has exactly in's element count (for data-moving reshapes). */
int interp_check_numel(Diag *d, const Node *n, const Tensor *in, const Tensor *out);

#endif
