/* Ops the backend does not lower yet: each emitter reports so, which keeps
 * the emitter table complete (a missing emitter is a link error). Move an op
 * out of this file when its real emitter is written (none is left now). */
#include "cg_ctx.h"

/* The error every op here returns. */
static int __attribute__((unused)) todo(const Node *n, Diag *d) { return ir_error(d, NULL, n, "not supported by the backend yet"); }

#define TODO(name) \
  int cg_emit_##name(CgCtx *c, const Node *n, Diag *d) { \
    (void)c; \
    return todo(n, d); \
  }

