/* Lists a model's node op types without importing it: the conformance runner
 * uses it to pick the backend test cases whose op vitc supports. */
#include "onnx_optypes.h"
#include "onnx_internal.h"
#include <string.h>

int onnx_all_ops_known(const char *path, int (*known)(const char *op_type), Diag *d) {
  Onnx__ModelProto *m =
      (Onnx__ModelProto *)onnx_unpack_file(path, &onnx__model_proto__descriptor, "ONNX model", d);
  if (!m) return -1;
  if (!m->graph) {
    onnx__model_proto__free_unpacked(m, NULL);
    return ir_error(d, path, NULL, "model has no graph");
  }
  int all = 1;
  for (size_t i = 0; i < m->graph->n_node && all; i++)
    all = strcmp(pb_str(m->graph->node[i]->op_type), "Constant") == 0 || known(pb_str(m->graph->node[i]->op_type));
  onnx__model_proto__free_unpacked(m, NULL);
  return all;
}
