/* The op table, expanded from ops.def. */
#include "ir.h"
#include <string.h>

const OpInfo ir_ops[OP_COUNT] = {
#define OP(ID, name, onnx, min_in, max_in, min_out, max_out, flags, attrs) \
  [OP_##ID] = {#name, onnx, min_in, max_in, min_out, max_out, flags, attrs},
#include "ops.def"
#undef OP
};

int ir_op_from_name(const char *name) {
  for (int i = 0; i < OP_COUNT; i++)
    if (strcmp(ir_ops[i].name, name) == 0) return i;
  return -1;
}

int ir_op_from_onnx(const char *op_type) {
  for (int i = 0; i < OP_COUNT; i++)
    if (ir_ops[i].onnx_name && strcmp(ir_ops[i].onnx_name, op_type) == 0) return i;
  return -1;
}

/* Looks `attr` up in the op's "name:kind ..." list; copies the kind into buf. */
const char *ir_op_attr_kind(OpKind op, const char *attr, char *buf, size_t n) {
  const char *p = ir_ops[op].attrs;
  size_t alen = strlen(attr);
  while (*p) {
    while (*p == ' ') p++;
    const char *colon = strchr(p, ':');
    if (!colon) break;
    const char *end = strchr(colon, ' ');
    if (!end) end = colon + strlen(colon);
    if ((size_t)(colon - p) == alen && strncmp(p, attr, alen) == 0) {
      size_t k = (size_t)(end - colon - 1);
      if (k >= n) k = n - 1;
      memcpy(buf, colon + 1, k);
      buf[k] = 0;
      return buf;
    }
    p = end;
  }
  return NULL;
}
