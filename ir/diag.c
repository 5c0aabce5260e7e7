/* Error messages as values: "vitc: error: FILE: node 'NAME' (OpType): what". */
#include "ir.h"
#include <stdio.h>

/* Fills d (first error wins; control characters, such as a newline in a
 * model's value name, become '?') and returns -1. */
int ir_error(Diag *d, const char *file, const Node *n, const char *fmt, ...) {
  if (!d || d->has_error) return -1;
  if (!file) file = d->file;
  size_t len = 0, cap = sizeof d->msg;
  len += snprintf(d->msg + len, cap - len, "vitc: error: ");
  if (file && len < cap) len += snprintf(d->msg + len, cap - len, "%s: ", file);
  if (n && len < cap) {
    const char *op = ir_ops[n->op].onnx_name ? ir_ops[n->op].onnx_name : ir_ops[n->op].name;
    len += snprintf(d->msg + len, cap - len, "node '%s' (%s): ", n->name, op);
  }
  if (len < cap) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg + len, cap - len, fmt, ap);
    va_end(ap);
  }
  for (char *p = d->msg; *p; p++) /* one line, whatever names the model uses */
    if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
  d->has_error = 1;
  return -1;
}
