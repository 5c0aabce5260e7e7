/* ONNX Einsum, lowered at import to IR ops (onnx_einsum.c). */
#ifndef VITC_ONNX_EINSUM_H
#define VITC_ONNX_EINSUM_H

#include "onnx_internal.h"

/* Where the lowering gets names: `fresh` returns an unused value name built
 * from `base` (arena string, NULL when out of memory). */
typedef struct EinsumNames {
  const char *node;                                   /* the ONNX node's name */
  const char *(*fresh)(const void *ctx, const char *base);
  const void *ctx;
} EinsumNames;

/* Builds the IR nodes computing einsum(`equation`, in[0..n_in)) (n_in 1 or 2)
 * into a new value named `out`: per-operand ReduceSum of indices used nowhere
 * else, then for two operands a MatMul (one contracted index; batch and free
 * indices broadcast through Unsqueeze) or Mul + ReduceSum (none or several),
 * with Transposes to and from that layout. Explicit and implicit (`->`-less)
 * equations; an ellipsis or an index repeated within one operand (diagonal)
 * is an error. 0, or -1 with c->d filled ("...: WHY"). */
int onnx_einsum_build(ImportCtx *c, const EinsumNames *names, const char *equation, Value *const *in, int n_in,
                      const char *out);

#endif
