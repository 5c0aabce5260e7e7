/* Reads what a model asks of vitc without importing it: the op types outside
 * the op table and graph inputs or outputs that are no tensors. The
 * conformance runner uses it to pick the backend test cases vitc supports and
 * to name what the others lack; the importer, to name every op it refuses in
 * one error. */
#include "onnx_optypes.h"
#include "onnx_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The op types the importer builds itself rather than through the op table (onnx_nodes.c). */
static const char *const lowered_at_import[] = {"Constant", "Einsum"};

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Whether domain names the default ONNX operator domain. */
static int default_domain(const char *domain) { return !domain || !*domain || strcmp(domain, "ai.onnx") == 0; }

/* Whether the importer takes node np: its domain is the default one and its op type is lowered at import or
 * known(). */
static int node_known(const Onnx__NodeProto *np, int (*known)(const char *)) {
  if (!default_domain(np->domain)) return 0;
  const char *op = pb_str(np->op_type);
  for (size_t k = 0; k < sizeof lowered_at_import / sizeof lowered_at_import[0]; k++)
    if (strcmp(op, lowered_at_import[k]) == 0) return 1;
  return *op && known(op);
}

OnnxUnknownOp *onnx_unknown_ops(const Onnx__GraphProto *g, int (*known)(const char *), int *n) {
  *n = 0;
  OnnxUnknownOp *ops = calloc(g->n_node ? g->n_node : 1, sizeof *ops);
  if (!ops) return *n = -1, NULL;
  for (size_t i = 0; i < g->n_node; i++) {
    const Onnx__NodeProto *np = g->node[i];
    if (node_known(np, known)) continue;
    char name[sizeof ops->name];
    const char *domain = default_domain(np->domain) ? "" : np->domain;
    const char *op = *pb_str(np->op_type) ? np->op_type : "(no op_type)";
    snprintf(name, sizeof name, "%s%s%s", domain, *domain ? "." : "", op);
    int k = 0;
    while (k < *n && strcmp(ops[k].name, name) != 0) k++;
    if (k == *n) {
      memcpy(ops[k].name, name, sizeof name);
      ops[k].first = i;
      (*n)++;
    }
    ops[k].count++;
  }
  return ops;
}

/* The distinct op types the importer refuses, sorted and joined into need. */
static int list_unknown(const Onnx__GraphProto *g, int (*known)(const char *), OnnxModelNeeds *need, const char *path,
                        Diag *d) {
  int n;
  OnnxUnknownOp *ops = onnx_unknown_ops(g, known, &n);
  const char **sorted = ops ? malloc((size_t)(n ? n : 1) * sizeof *sorted) : NULL;
  if (!sorted) {
    free(ops);
    return ir_error(d, path, NULL, "out of memory");
  }
  for (int k = 0; k < n; k++) sorted[k] = ops[k].name;
  qsort(sorted, (size_t)n, sizeof sorted[0], cmp_str);
  need->n_unknown = n;
  size_t len = 0, cap = sizeof need->unknown_ops;
  for (int k = 0; k < n && len < cap; k++)
    len += (size_t)snprintf(need->unknown_ops + len, cap - len, "%s%s", k ? ", " : "", sorted[k]);
  free(sorted);
  free(ops);
  return 0;
}

/* What a value of type tp is when it is no tensor; NULL for a tensor. */
static const char *non_tensor_kind(const Onnx__TypeProto *tp) {
  if (!tp) return "of no type";
  switch (tp->value_case) {
  case ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE: return NULL;
  case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE: return "a sequence";
  case ONNX__TYPE_PROTO__VALUE_MAP_TYPE: return "a map";
  case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE: return "an optional";
  case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE: return "a sparse tensor";
  default: return "of no type";
  }
}

/* Names the first graph input or output that is no tensor in need->not_tensor. */
static void find_non_tensor(const Onnx__GraphProto *g, OnnxModelNeeds *need) {
  for (int side = 0; side < 2; side++) {
    size_t n = side ? g->n_output : g->n_input;
    for (size_t i = 0; i < n; i++) {
      const Onnx__ValueInfoProto *vi = side ? g->output[i] : g->input[i];
      const char *kind = non_tensor_kind(vi->type);
      if (kind) {
        snprintf(need->not_tensor, sizeof need->not_tensor, "%s '%.200s' is %s", side ? "output" : "input",
                 pb_str(vi->name), kind);
        return;
      }
    }
  }
}

int onnx_model_needs(const char *path, int (*known)(const char *op_type), OnnxModelNeeds *need, Diag *d) {
  memset(need, 0, sizeof *need);
  Onnx__ModelProto *m =
      (Onnx__ModelProto *)onnx_unpack_file(path, &onnx__model_proto__descriptor, "ONNX model", d);
  if (!m) return -1;
  int rc = 0;
  if (!m->graph) {
    rc = ir_error(d, path, NULL, "model has no graph");
  } else {
    rc = list_unknown(m->graph, known, need, path, d);
    find_non_tensor(m->graph, need);
  }
  onnx__model_proto__free_unpacked(m, NULL);
  return rc;
}

int onnx_all_ops_known(const char *path, int (*known)(const char *op_type), Diag *d) {
  OnnxModelNeeds need;
  if (onnx_model_needs(path, known, &need, d)) return -1;
  return need.n_unknown == 0;
}
