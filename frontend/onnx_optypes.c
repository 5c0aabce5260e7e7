/* Lists a model's node op types without importing it: the conformance runner
 * uses it to pick the backend test cases whose op vitc supports. */
#include "onnx_optypes.h"
#include "onnx.pb-c.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a whole file into a malloc'd buffer. */
static unsigned char *slurp(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char *buf = NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long n = ftell(f);
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
        fread(buf, 1, (size_t)n, f) != (size_t)n) {
      free(buf);
      buf = NULL;
    }
    *size = (size_t)(n < 0 ? 0 : n);
  }
  fclose(f);
  return buf;
}

int onnx_all_ops_known(const char *path, int (*known)(const char *op_type), Diag *d) {
  size_t size = 0;
  unsigned char *buf = slurp(path, &size);
  if (!buf) return ir_error(d, path, NULL, "cannot read");
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, buf);
  free(buf);
  if (!m || !m->graph) {
    if (m) onnx__model_proto__free_unpacked(m, NULL);
    return ir_error(d, path, NULL, "not a valid ONNX model (protobuf parse failed)");
  }
  int all = 1;
  for (size_t i = 0; i < m->graph->n_node && all; i++)
    all = strcmp(m->graph->node[i]->op_type, "Constant") == 0 || known(m->graph->node[i]->op_type);
  onnx__model_proto__free_unpacked(m, NULL);
  return all;
}
