/* Layout ops (identity, reshape, flatten, squeeze, unsqueeze): the output is
 * the input's bytes under another shape, so the plan makes it an alias and no
 * code runs; only when the output must be a buffer of its own (a graph
 * output) is a copy emitted. */
#include "cg_ctx.h"
#include <stdio.h>

int cg_emit_copy(CgCtx *c, const Node *n, Diag *d) {
  if (!n->out[0]) return 0;
  size_t bytes = tensor_bytes(&n->out[0]->t);
  if (bytes == 0) return 0;
  if (tensor_bytes(&n->in[0]->t) != bytes) return ir_error(d, NULL, n, "internal error: copy between sizes that differ");
  char key[64];
  snprintf(key, sizeof key, "copy.%zu", bytes);
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (!fn) {
    if (!(fn = cg_kernel_begin(c, key, 2, d))) return -1;
    LLVMBuildMemCpy(c->b, c->args[1], 1, c->args[0], 1, LLVMConstInt(c->t_i64, bytes, 0));
    cg_kernel_end(c);
  }
  return cg_kernel_call(c, fn, n, 1, d);
}

/* Nothing to do when the output aliases the input; else a copy. */
static int emit_layout(CgCtx *c, const Node *n, Diag *d) {
  return !n->out[0] || cg_plan_is_alias(&c->plan, n->out[0]) ? 0 : cg_emit_copy(c, n, d);
}

int cg_emit_identity(CgCtx *c, const Node *n, Diag *d) { return emit_layout(c, n, d); }
int cg_emit_reshape(CgCtx *c, const Node *n, Diag *d) { return emit_layout(c, n, d); }
int cg_emit_flatten(CgCtx *c, const Node *n, Diag *d) { return emit_layout(c, n, d); }
int cg_emit_squeeze(CgCtx *c, const Node *n, Diag *d) { return emit_layout(c, n, d); }
int cg_emit_unsqueeze(CgCtx *c, const Node *n, Diag *d) { return emit_layout(c, n, d); }
