/* The verifier: structural checks, then a re-run of shape inference that must
 * agree with the types the graph already carries. Runs between stages. */
#include "ir.h"
#include <stdlib.h>
#include <string.h>

/* Arity and attribute names/kinds against the op table. */
static int verify_node_form(const Graph *g, const Node *n, Diag *d) {
  const OpInfo *op = &ir_ops[n->op];
  if (n->n_in < op->min_in || n->n_in > op->max_in)
    return ir_error(d, g->file, n, "has %d inputs, expects %d to %d", n->n_in, op->min_in, op->max_in);
  if (n->n_out < op->min_out || n->n_out > op->max_out)
    return ir_error(d, g->file, n, "has %d outputs, expects %d to %d", n->n_out, op->min_out, op->max_out);
  for (int i = 0; i < op->min_in; i++)
    if (!n->in[i]) return ir_error(d, g->file, n, "required input %d is missing", i);
  static const char *kind_names[] = {[AT_INT] = "i", [AT_FLOAT] = "f", [AT_INTS] = "is",
                                     [AT_FLOATS] = "fs", [AT_STRING] = "s", [AT_TENSOR] = "t"};
  for (int a = 0; a < n->n_attrs; a++) {
    char kind[8];
    const Attr *at = &n->attrs[a];
    if (!ir_op_attr_kind(n->op, at->name, kind, sizeof kind))
      return ir_error(d, g->file, n, "unsupported attribute '%s'", at->name);
    if (strcmp(kind, kind_names[at->kind]) != 0)
      return ir_error(d, g->file, n, "attribute '%s' must be of kind '%s'", at->name, kind);
    for (int b = 0; b < a; b++)
      if (strcmp(n->attrs[b].name, at->name) == 0) return ir_error(d, g->file, n, "attribute '%s' repeated", at->name);
  }
  return 0;
}

/* Unique names, defined-before-use (topological order), def links. */
static int verify_structure(const Graph *g, Diag *d) {
  int rc = 0;
  char *defined = calloc((size_t)g->n_values + 1, 1);
  NameMap names = {0}; /* unique names in linear time: a 100k-node graph verifies in milliseconds */
  if (!defined || name_map_init(&names, (size_t)g->n_values) < 0) {
    free(defined);
    name_map_free(&names);
    return ir_error(d, g->file, NULL, "out of memory");
  }
  for (int i = 0; i < g->n_values && !rc; i++) {
    Value *v = g->values[i];
    if (v->id != i) rc = ir_error(d, g->file, NULL, "value '%s' has a wrong id", v->name);
    else if (v->kind == VK_CONST) defined[i] = 1;
    int put = rc ? 0 : name_map_put(&names, v->name, v);
    if (put == 1) rc = ir_error(d, g->file, NULL, "value '%s' defined twice", v->name);
    else if (put < 0) rc = ir_error(d, g->file, NULL, "out of memory");
  }
  name_map_free(&names);
  for (int i = 0; i < g->n_inputs && !rc; i++) {
    if (g->inputs[i]->kind != VK_INPUT) rc = ir_error(d, g->file, NULL, "graph input '%s' is not an input value", g->inputs[i]->name);
    defined[g->inputs[i]->id] = 1;
  }
  for (int k = 0; k < g->n_nodes && !rc; k++) {
    const Node *n = g->nodes[k];
    rc = verify_node_form(g, n, d);
    for (int i = 0; i < n->n_in && !rc; i++)
      if (n->in[i] && !defined[n->in[i]->id])
        rc = ir_error(d, g->file, n, "input '%s' is used before it is defined (graph not in topological order, or cyclic)",
                      n->in[i]->name);
    for (int j = 0; j < n->n_out && !rc; j++) {
      Value *o = n->out[j];
      if (o->kind != VK_NODE || o->def != n || defined[o->id])
        rc = ir_error(d, g->file, n, "output '%s' is not defined by this node alone", o->name);
      defined[o->id] = 1;
    }
  }
  for (int i = 0; i < g->n_outputs && !rc; i++)
    if (!defined[g->outputs[i]->id]) rc = ir_error(d, g->file, NULL, "graph output '%s' is never defined", g->outputs[i]->name);
  free(defined);
  return rc;
}

/* Re-infers every node output and checks it matches the recorded type. */
static int verify_types(Graph *g, Diag *d) {
  Tensor *saved = malloc(sizeof(Tensor) * (size_t)(g->n_values + 1));
  if (!saved) return ir_error(d, g->file, NULL, "out of memory");
  for (int i = 0; i < g->n_values; i++) saved[i] = g->values[i]->t;
  int rc = ir_infer_shapes(g, d);
  for (int i = 0; i < g->n_values && !rc; i++) {
    Value *v = g->values[i];
    if (v->kind == VK_NODE && !tensor_same_type(&saved[i], &v->t)) {
      char a[128], b[128];
      rc = ir_error(d, g->file, v->def, "output '%s' has type %s, inference gives %s", v->name,
                    tensor_type_str(&saved[i], a, sizeof a), tensor_type_str(&v->t, b, sizeof b));
    }
  }
  free(saved);
  return rc;
}

int ir_verify(Graph *g, Diag *d) {
  if (verify_structure(g, d)) return -1;
  return verify_types(g, d);
}
