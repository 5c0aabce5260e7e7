/* ONNX node import: op lookup, topological sort, Constant nodes, attributes,
 * and rewriting old-opset forms into the newest form the IR ops take (axes and
 * split attributes, Clip's min and max attributes, into constant inputs). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_einsum.h"
#include "onnx_internal.h"

#define OP_CONSTANT_NODE (-1) /* NodeInfo.op of an ONNX Constant node */
#define OP_EINSUM_NODE (-2)   /* NodeInfo.op of an ONNX Einsum node (lowered, onnx_einsum.c) */

/* What the importer knows about one ONNX node before building it. */
typedef struct NodeInfo {
  const char *name; /* ONNX name, or "<OpType>_<index>" */
  int op;           /* OpKind, or OP_CONSTANT_NODE */
} NodeInfo;

/* The nodes of the graph being imported. */
typedef struct NodeSet {
  ImportCtx *c;
  size_t n;
  NodeInfo *info;
  NameMap producer; /* output name -> (void *)(node index + 1) */
  size_t *order;    /* node indices in topological order */
} NodeSet;

/* An attribute that an opset before `until` uses where the IR op takes input 1. */
typedef struct LegacyInput {
  OpKind op;
  const char *attr;
  int64_t until;
} LegacyInput;

static const LegacyInput legacy_inputs[] = {
    {OP_REDUCE_MEAN, "axes", 18}, {OP_REDUCE_MAX, "axes", 18}, {OP_REDUCE_SUM, "axes", 13},
    {OP_SQUEEZE, "axes", 13},     {OP_UNSQUEEZE, "axes", 13},  {OP_SPLIT, "split", 13},
    {OP_PAD, "pads", 11},
};

static const char *const attr_kind_names[] = {"int", "float", "ints", "floats", "string", "tensor"};
static const char *const attr_kind_letters[] = {"i", "f", "is", "fs", "s", "t"};

/* Reports an error located at ONNX node i: "node 'NAME' (OpType): ...". */
__attribute__((format(printf, 3, 4))) static int node_error(const NodeSet *s, size_t i,
                                                            const char *fmt, ...) {
  char msg[700];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const Onnx__NodeProto *np = s->c->gp->node[i];
  return ir_error(s->c->d, s->c->file, NULL, "node '%s' (%s): %s", s->info[i].name,
                  pb_str(np->op_type), msg);
}

/* True when an ONNX value name is empty (an absent optional input or output). */
static int is_empty(const char *name) { return !name || !*name; }

/* Index of the node producing `name`, or -1 when no node does (or the name is empty). */
static long producer_of(const NodeSet *s, const char *name) {
  void *p = is_empty(name) ? NULL : name_map_get(&s->producer, name);
  return p ? (long)((uintptr_t)p - 1) : -1;
}

/* Names each node and maps its op_type to an IR op. */
static int classify_nodes(NodeSet *s) {
  for (size_t i = 0; i < s->n; i++) {
    const Onnx__NodeProto *np = s->c->gp->node[i];
    const char *op_type = pb_str(np->op_type);
    NodeInfo *info = &s->info[i];
    if (!is_empty(np->name)) {
      info->name = np->name;
    } else {
      size_t len = strlen(op_type) + 24;
      char *name = arena_alloc(&s->c->g->arena, len);
      if (!name) return ir_error(s->c->d, s->c->file, NULL, "out of memory");
      snprintf(name, len, "%s_%zu", op_type, i);
      info->name = name;
    }
    /* import_check_ops has refused other domains and unknown op types already, all at once. */
    if (np->domain && *np->domain && strcmp(np->domain, "ai.onnx") != 0)
      return node_error(s, i, "unsupported op (domain '%s')", np->domain);
    if (strcmp(op_type, "Constant") == 0 || strcmp(op_type, "Einsum") == 0) {
      info->op = op_type[0] == 'C' ? OP_CONSTANT_NODE : OP_EINSUM_NODE;
      continue;
    }
    info->op = ir_op_from_onnx(op_type);
    if (info->op < 0) return node_error(s, i, "unsupported op");
  }
  return 0;
}

static int op_in_table(const char *op_type) { return ir_op_from_onnx(op_type) >= 0; }

/* Most nodes first, then first seen first. */
static int cmp_unknown(const void *a, const void *b) {
  const OnnxUnknownOp *x = a, *y = b;
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  return x->first < y->first ? -1 : x->first > y->first;
}

/* The name node i goes by in messages: its own, or "<OpType>_<index>" (as classify_nodes names it). */
static const char *display_name(const Onnx__NodeProto *np, size_t i, char *buf, size_t n) {
  if (!is_empty(np->name)) return np->name;
  snprintf(buf, n, "%s_%zu", pb_str(np->op_type), i);
  return buf;
}

/* Appends "Op (N nodes, first 'NAME')" for every refused op type in ops[0..n) to list (capacity cap); what does
 * not fit is counted at the end. */
static void join_unknown(const ImportCtx *c, const OnnxUnknownOp *ops, int n, char *list, size_t cap) {
  size_t len = 0;
  for (int k = 0; k < n; k++) {
    char entry[400], buf[160];
    const char *name = display_name(c->gp->node[ops[k].first], ops[k].first, buf, sizeof buf);
    if (ops[k].count == 1) snprintf(entry, sizeof entry, "%s (1 node: '%.200s')", ops[k].name, name);
    else snprintf(entry, sizeof entry, "%s (%d nodes, first '%.200s')", ops[k].name, ops[k].count, name);
    if (len + strlen(entry) + 40 >= cap) {
      snprintf(list + len, cap - len, ", and %d more", n - k);
      return;
    }
    len += (size_t)snprintf(list + len, cap - len, "%s%s", k ? ", " : "", entry);
  }
}

/* Refuses a graph with nodes the importer cannot take, naming every such op type at once: how many nodes use
 * it and the first of them (a single node: the usual "node 'NAME' (Op): unsupported op"). */
int import_check_ops(ImportCtx *c) {
  int n;
  OnnxUnknownOp *ops = onnx_unknown_ops(c->gp, op_in_table, &n);
  if (!ops) return ir_error(c->d, c->file, NULL, "out of memory");
  if (n == 0) {
    free(ops);
    return 0;
  }
  qsort(ops, (size_t)n, sizeof *ops, cmp_unknown);
  if (n == 1 && ops[0].count == 1) {
    const Onnx__NodeProto *np = c->gp->node[ops[0].first];
    char buf[160], domain[300] = "";
    if (np->domain && *np->domain && strcmp(np->domain, "ai.onnx") != 0)
      snprintf(domain, sizeof domain, " (domain '%.256s')", np->domain);
    ir_error(c->d, c->file, NULL, "node '%s' (%s): unsupported op%s", display_name(np, ops[0].first, buf, sizeof buf),
             pb_str(np->op_type), domain);
  } else {
    char list[800];
    join_unknown(c, ops, n, list, sizeof list);
    if (n == 1) ir_error(c->d, c->file, NULL, "unsupported op %s", list);
    else ir_error(c->d, c->file, NULL, "%d unsupported op types: %s", n, list);
  }
  free(ops);
  return -1;
}

/* Records which node produces each value; a name defined twice is an error. */
static int register_producers(NodeSet *s) {
  for (size_t i = 0; i < s->n; i++) {
    const Onnx__NodeProto *np = s->c->gp->node[i];
    for (size_t k = 0; k < np->n_output; k++) {
      const char *name = np->output[k];
      if (is_empty(name)) continue;
      int r = name_map_get(&s->c->values, name) ? 1
                                                : name_map_put(&s->producer, name, (void *)(i + 1));
      if (r < 0) return ir_error(s->c->d, s->c->file, NULL, "out of memory");
      if (r > 0) return node_error(s, i, "value '%s' is defined more than once", name);
    }
  }
  return 0;
}

/* Checks that every input names a graph input, a constant or a node output. */
static int check_dangling(const NodeSet *s) {
  for (size_t i = 0; i < s->n; i++) {
    const Onnx__NodeProto *np = s->c->gp->node[i];
    for (size_t k = 0; k < np->n_input; k++) {
      const char *name = np->input[k];
      if (is_empty(name) || name_map_get(&s->c->values, name) || producer_of(s, name) >= 0) continue;
      return node_error(s, i, "input '%s' is not defined (dangling)", name);
    }
  }
  return 0;
}

/* Adds index v to a binary min-heap of n entries. */
static void heap_push(size_t *heap, size_t *n, size_t v) {
  size_t i = (*n)++;
  while (i > 0 && heap[(i - 1) / 2] > v) {
    heap[i] = heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  heap[i] = v;
}

/* Removes and returns the smallest index of a non-empty min-heap. */
static size_t heap_pop(size_t *heap, size_t *n) {
  size_t top = heap[0], last = heap[--*n], i = 0;
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= *n) break;
    if (child + 1 < *n && heap[child + 1] < heap[child]) child++;
    if (heap[child] >= last) break;
    heap[i] = heap[child];
    i = child;
  }
  heap[i] = last;
  return top;
}

/* Reports a cycle, walking from an unsorted node back until certainly on it. */
static int cycle_error(const NodeSet *s, const size_t *indeg) {
  size_t u = 0;
  while (indeg[u] == 0) u++;
  for (size_t step = 0; step < s->n; step++) {
    const Onnx__NodeProto *np = s->c->gp->node[u];
    for (size_t k = 0; k < np->n_input; k++) {
      long p = producer_of(s, np->input[k]);
      if (p >= 0 && indeg[p] > 0) {
        u = (size_t)p;
        break;
      }
    }
  }
  return ir_error(s->c->d, s->c->file, NULL, "graph has a cycle through node '%s' (%s)",
                  s->info[u].name, pb_str(s->c->gp->node[u]->op_type));
}

/* Edges producer -> consumer in compressed rows: consumers of p are adj[off[p]..off[p+1]). */
typedef struct Edges {
  size_t *off, *adj, *indeg;
} Edges;

/* Builds the dependency edges between nodes and each node's in-degree. */
static int build_edges(const NodeSet *s, Edges *e) {
  size_t n = s->n, n_edges = 0;
  e->off = calloc(n + 1, sizeof *e->off);
  e->indeg = calloc(n ? n : 1, sizeof *e->indeg);
  if (!e->off || !e->indeg) return -1;
  for (size_t i = 0; i < n; i++) {
    const Onnx__NodeProto *np = s->c->gp->node[i];
    for (size_t k = 0; k < np->n_input; k++) {
      long p = producer_of(s, np->input[k]);
      if (p < 0) continue;
      e->off[p + 1]++;
      e->indeg[i]++;
      n_edges++;
    }
  }
  for (size_t i = 0; i < n; i++) e->off[i + 1] += e->off[i];
  size_t *fill = calloc(n ? n : 1, sizeof *fill);
  e->adj = malloc((n_edges ? n_edges : 1) * sizeof *e->adj);
  if (!fill || !e->adj) {
    free(fill);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    const Onnx__NodeProto *np = s->c->gp->node[i];
    for (size_t k = 0; k < np->n_input; k++) {
      long p = producer_of(s, np->input[k]);
      if (p >= 0) e->adj[e->off[p] + fill[p]++] = i;
    }
  }
  free(fill);
  return 0;
}

/* Kahn's algorithm, always taking the lowest ready index so a sorted graph keeps its order. */
static int topo_sort(NodeSet *s) {
  Edges e = {0};
  size_t *heap = malloc((s->n ? s->n : 1) * sizeof *heap);
  int rc = -1;
  if (!heap || build_edges(s, &e) < 0) {
    ir_error(s->c->d, s->c->file, NULL, "out of memory");
    goto done;
  }
  size_t n_heap = 0, n_sorted = 0;
  for (size_t i = 0; i < s->n; i++)
    if (e.indeg[i] == 0) heap_push(heap, &n_heap, i);
  while (n_heap) {
    size_t u = heap_pop(heap, &n_heap);
    s->order[n_sorted++] = u;
    for (size_t j = e.off[u]; j < e.off[u + 1]; j++)
      if (--e.indeg[e.adj[j]] == 0) heap_push(heap, &n_heap, e.adj[j]);
  }
  rc = n_sorted == s->n ? 0 : cycle_error(s, e.indeg);
done:
  free(heap);
  free(e.off);
  free(e.adj);
  free(e.indeg);
  return rc;
}

/* `base`, or `base_N` for the first N that names no value yet; arena string. */
static const char *unique_name(const NodeSet *s, const char *base) {
  size_t len = strlen(base) + 24;
  char *name = arena_alloc(&s->c->g->arena, len);
  if (!name) return NULL;
  snprintf(name, len, "%s", base);
  for (unsigned k = 1; name_map_get(&s->c->values, name) || producer_of(s, name) >= 0; k++)
    snprintf(name, len, "%s_%u", base, k);
  return name;
}

/* A tensor of `count` elements copied from src into the graph's arena. */
static int arena_tensor(ImportCtx *c, DType dt, int rank, size_t count, const void *src, Tensor *t) {
  memset(t, 0, sizeof *t);
  t->dtype = dt;
  t->rank = rank;
  if (rank) t->dims[0] = (int64_t)count;
  size_t bytes = count * dt_size(dt);
  t->data = arena_alloc(&c->g->arena, bytes ? bytes : 1);
  if (!t->data) return ir_error(c->d, c->file, NULL, "out of memory");
  if (bytes) memcpy(t->data, src, bytes);
  return 0;
}

/* The tensor a Constant node's single attribute defines. */
static int constant_tensor(const NodeSet *s, size_t i, const Onnx__AttributeProto *ap, Tensor *t) {
  ImportCtx *c = s->c;
  const char *name = pb_str(ap->name);
  if (strcmp(name, "value") == 0) {
    if (!ap->t) return node_error(s, i, "attribute 'value' holds no tensor");
    char what[400];
    snprintf(what, sizeof what, "node '%.256s' (Constant): value", s->info[i].name);
    TensorSink sink = {&c->g->arena, 1, c->external, NULL};
    return onnx_decode_tensor(ap->t, &sink, t, c->file, what, c->d) == 0 ? 0 : -1;
  }
  if (strcmp(name, "value_float") == 0) return arena_tensor(c, DT_F32, 0, 1, &ap->f, t);
  if (strcmp(name, "value_floats") == 0) return arena_tensor(c, DT_F32, 1, ap->n_floats, ap->floats, t);
  if (strcmp(name, "value_int") == 0) return arena_tensor(c, DT_I64, 0, 1, &ap->i, t);
  if (strcmp(name, "value_ints") == 0) return arena_tensor(c, DT_I64, 1, ap->n_ints, ap->ints, t);
  return node_error(s, i, "attribute '%s' is not supported", name);
}

/* Turns a Constant node into a VK_CONST value named by its output. */
static int build_constant(const NodeSet *s, size_t i) {
  const Onnx__NodeProto *np = s->c->gp->node[i];
  if (np->n_output != 1 || is_empty(np->output[0]))
    return node_error(s, i, "expects exactly one output, has %zu", np->n_output);
  if (np->n_attribute != 1)
    return node_error(s, i, "expects exactly one attribute, has %zu", np->n_attribute);
  Tensor t;
  if (constant_tensor(s, i, np->attribute[0], &t) < 0) return -1;
  Value *v = import_value(s->c, np->output[0], VK_CONST);
  if (!v) return -1;
  v->t = t;
  return 0;
}

/* The attribute an old opset uses instead of input 1 of this node, or NULL. */
static const Onnx__AttributeProto *legacy_attr(const NodeSet *s, size_t i) {
  const Onnx__NodeProto *np = s->c->gp->node[i];
  for (size_t r = 0; r < sizeof legacy_inputs / sizeof legacy_inputs[0]; r++) {
    const LegacyInput *li = &legacy_inputs[r];
    if ((int)li->op != s->info[i].op || s->c->opset >= li->until) continue;
    for (size_t k = 0; k < np->n_attribute; k++)
      if (strcmp(pb_str(np->attribute[k]->name), li->attr) == 0) return np->attribute[k];
  }
  return NULL;
}

/* The IR kind of an ONNX attribute, or -1 for kinds vitc has no use for. */
static int onnx_attr_kind(const Onnx__AttributeProto *ap) {
  int type = ap->has_type ? (int)ap->type
             : ap->t      ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR
             : ap->n_floats ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS
             : ap->n_ints ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
             : ap->has_s  ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
             : ap->has_f  ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
             : ap->has_i  ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
                          : ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
  switch (type) {
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: return AT_INT;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: return AT_FLOAT;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS: return AT_INTS;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: return AT_FLOATS;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: return AT_STRING;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: return AT_TENSOR;
  default: return -1;
  }
}

/* Turns an old-opset ints attribute into a new int64 constant value. */
static Value *legacy_const(const NodeSet *s, size_t i, const Onnx__AttributeProto *ap) {
  if (onnx_attr_kind(ap) != AT_INTS) {
    node_error(s, i, "attribute '%s' must be ints", pb_str(ap->name));
    return NULL;
  }
  char base[400];
  snprintf(base, sizeof base, "%.256s_%s", s->info[i].name, ap->name);
  const char *name = unique_name(s, base);
  Tensor t;
  if (!name) {
    ir_error(s->c->d, s->c->file, NULL, "out of memory");
    return NULL;
  }
  if (arena_tensor(s->c, DT_I64, 1, ap->n_ints, ap->ints, &t) < 0) return NULL;
  Value *v = import_value(s->c, name, VK_CONST);
  if (v) v->t = t;
  return v;
}

/* Clip before opset 11 takes its bounds as float attributes min and max: each present one becomes a scalar
 * f32 constant, inputs 1 and 2 of the IR clip (an absent one stays absent). The node's input count, or -1. */
static int clip_legacy_inputs(const NodeSet *s, size_t i, Value *bound[2]) {
  const Onnx__NodeProto *np = s->c->gp->node[i];
  int n_in = 1;
  for (size_t k = 0; k < np->n_attribute; k++) {
    const Onnx__AttributeProto *ap = np->attribute[k];
    const char *name = pb_str(ap->name);
    int slot = strcmp(name, "min") == 0 ? 0 : strcmp(name, "max") == 0 ? 1 : -1;
    if (slot < 0) return node_error(s, i, "unsupported attribute '%s'", name);
    if (onnx_attr_kind(ap) != AT_FLOAT) return node_error(s, i, "attribute '%s' must be a float", name);
    char base[400];
    snprintf(base, sizeof base, "%.256s_%s", s->info[i].name, name);
    const char *vname = unique_name(s, base);
    Tensor t;
    if (!vname) return ir_error(s->c->d, s->c->file, NULL, "out of memory");
    if (arena_tensor(s->c, DT_F32, 0, 1, &ap->f, &t) < 0) return -1;
    if (!(bound[slot] = import_value(s->c, vname, VK_CONST))) return -1;
    bound[slot]->t = t;
    if (n_in < slot + 2) n_in = slot + 2;
  }
  return n_in;
}

/* Pad before opset 11 takes its constant as the float attribute `value`: the f32 scalar constant it becomes
 * (input 2 of the IR pad), NULL when the node has no such attribute (or after an error: d is filled). */
static Value *pad_legacy_value(const NodeSet *s, size_t i, const Onnx__AttributeProto **attr) {
  const Onnx__NodeProto *np = s->c->gp->node[i];
  *attr = NULL;
  for (size_t k = 0; k < np->n_attribute && !*attr; k++)
    if (strcmp(pb_str(np->attribute[k]->name), "value") == 0) *attr = np->attribute[k];
  if (!*attr) return NULL;
  if (onnx_attr_kind(*attr) != AT_FLOAT) return node_error(s, i, "attribute 'value' must be a float"), NULL;
  char base[400];
  snprintf(base, sizeof base, "%.256s_value", s->info[i].name);
  const char *vname = unique_name(s, base);
  Tensor t;
  if (!vname) return ir_error(s->c->d, s->c->file, NULL, "out of memory"), NULL;
  if (arena_tensor(s->c, DT_F32, 0, 1, &(*attr)->f, &t) < 0) return NULL;
  Value *v = import_value(s->c, vname, VK_CONST);
  if (v) v->t = t;
  return v;
}

/* Copies `n` elements of `size` bytes into the arena; NULL only when out of memory. */
static void *arena_copy(Arena *a, const void *src, size_t n, size_t size) {
  size_t bytes = n * size;
  void *p = arena_alloc(a, bytes ? bytes : 1);
  if (p && bytes) memcpy(p, src, bytes);
  return p;
}

/* Fills an IR attribute's payload from the ONNX attribute. */
static int fill_attr(const NodeSet *s, size_t i, Attr *a, const Onnx__AttributeProto *ap) {
  Arena *arena = &s->c->g->arena;
  void *p = a;
  switch (a->kind) {
  case AT_INT: a->i = ap->i; break;
  case AT_FLOAT: a->f = ap->f; break;
  case AT_INTS:
    a->n = (int)ap->n_ints;
    p = a->ints = arena_copy(arena, ap->ints, ap->n_ints, sizeof *a->ints);
    break;
  case AT_FLOATS:
    a->n = (int)ap->n_floats;
    p = a->floats = arena_copy(arena, ap->floats, ap->n_floats, sizeof *a->floats);
    break;
  case AT_STRING: {
    char *str = arena_alloc(arena, ap->s.len + 1);
    if (str && ap->s.len) memcpy(str, ap->s.data, ap->s.len);
    p = str;
    a->s = str;
    break;
  }
  case AT_TENSOR: {
    if (!ap->t) return node_error(s, i, "attribute '%s' holds no tensor", ap->name);
    char what[400];
    snprintf(what, sizeof what, "node '%.256s' (%s): attribute '%s'", s->info[i].name,
             pb_str(s->c->gp->node[i]->op_type), ap->name);
    TensorSink sink = {arena, 1, NULL, NULL};
    p = a->t = arena_alloc(arena, sizeof *a->t);
    if (p && onnx_decode_tensor(ap->t, &sink, a->t, s->c->file, what, s->c->d) != 0) return -1;
    break;
  }
  }
  return p ? 0 : ir_error(s->c->d, s->c->file, NULL, "out of memory");
}

/* Checks an ONNX attribute against what the op accepts and adds it to the node. */
static int convert_attr(const NodeSet *s, size_t i, Node *n, const Onnx__AttributeProto *ap) {
  const char *name = pb_str(ap->name);
  char want[16];
  if (!ir_op_attr_kind(n->op, name, want, sizeof want))
    return node_error(s, i, "unsupported attribute '%s'", name);
  int kind = onnx_attr_kind(ap);
  if (kind < 0 || strcmp(attr_kind_letters[kind], want) != 0) {
    int want_kind = 0;
    while (want_kind < AT_TENSOR && strcmp(attr_kind_letters[want_kind], want) != 0) want_kind++;
    return node_error(s, i, "attribute '%s' is %s, expected %s", name,
                      kind < 0 ? "of an unsupported type" : attr_kind_names[kind],
                      attr_kind_names[want_kind]);
  }
  Attr *a = ir_attr_add(s->c->g, n, name, (AttrKind)kind, s->c->d);
  if (!a) return -1;
  return fill_attr(s, i, a, ap);
}

/* Adds an int attribute the importer derives (not read from the model). */
static int add_int_attr(const NodeSet *s, Node *n, const char *name, int64_t value) {
  Attr *a = ir_attr_add(s->c->g, n, name, AT_INT, s->c->d);
  if (!a) return -1;
  a->i = value;
  return 0;
}

/* Op-specific rules after the attributes are in: Softmax before opset 13, Cast targets. */
static int finish_node(const NodeSet *s, size_t i, Node *n) {
  if (n->op == OP_SOFTMAX && s->c->opset < 13) {
    if (add_int_attr(s, n, "coerce_2d", 1) < 0) return -1;
    if (!ir_attr_find(n, "axis") && add_int_attr(s, n, "axis", 1) < 0) return -1;
  }
  if (n->op == OP_CAST) {
    const Attr *to = ir_attr_find(n, "to");
    if (!to) return node_error(s, i, "missing attribute 'to'");
    if (dt_from_onnx((int)to->i) == DT_UNDEF) {
      s->c->d->unsupported_dtype = 1;
      return node_error(s, i, "Cast to %s is not supported", onnx_dtype_name((int)to->i));
    }
  }
  return 0;
}

/* Reports an input or output count outside [lo, hi]. */
static int count_error(const NodeSet *s, size_t i, const char *what, int n, int lo, int hi) {
  if (lo == hi) return node_error(s, i, "has %d %s, expects %d", n, what, lo);
  return node_error(s, i, "has %d %s, expects %d to %d", n, what, lo, hi);
}

/* Checks input and output counts against the op table, and that required
 * inputs are present (input 1 comes from `legacy` when it is set). */
static int check_arity(const NodeSet *s, size_t i, int n_in, int n_out, int legacy) {
  const OpInfo *oi = &ir_ops[s->info[i].op];
  if (n_in < oi->min_in || n_in > oi->max_in)
    return count_error(s, i, "inputs", n_in, oi->min_in, oi->max_in);
  if (n_out < oi->min_out || n_out > oi->max_out)
    return count_error(s, i, "outputs", n_out, oi->min_out, oi->max_out);
  const Onnx__NodeProto *np = s->c->gp->node[i];
  for (int k = 0; k < oi->min_in; k++) {
    const char *name = (size_t)k < np->n_input ? np->input[k] : NULL;
    if (is_empty(name) && !(legacy && k == 1))
      return node_error(s, i, "required input %d is missing", k);
  }
  return 0;
}

/* Wires a node's inputs (absent ones NULL) and creates its outputs. */
static int connect_node(const NodeSet *s, size_t i, Node *n) {
  const Onnx__NodeProto *np = s->c->gp->node[i];
  for (size_t k = 0; k < np->n_input; k++)
    n->in[k] = is_empty(np->input[k]) ? NULL : name_map_get(&s->c->values, np->input[k]);
  for (int k = 0; k < n->n_out; k++) {
    const char *name = np->output[k];
    if (is_empty(name)) { /* an absent output before a present one gets a fresh name */
      char base[400];
      snprintf(base, sizeof base, "%.256s_out%d", s->info[i].name, k);
      if (!(name = unique_name(s, base))) return ir_error(s->c->d, s->c->file, NULL, "out of memory");
    }
    Value *v = import_value(s->c, name, VK_NODE);
    if (!v) return -1;
    v->def = n;
    n->out[k] = v;
  }
  return 0;
}

/* Converts ONNX node i into an IR node. */
static int build_op_node(const NodeSet *s, size_t i) {
  const Onnx__NodeProto *np = s->c->gp->node[i];
  const Onnx__AttributeProto *legacy = legacy_attr(s, i);
  int n_in = (int)np->n_input, n_out = (int)np->n_output;
  while (n_out > 0 && is_empty(np->output[n_out - 1])) n_out--;
  if (legacy && n_in > 1)
    return node_error(s, i, "has both attribute '%s' and input 1", legacy->name);
  if (legacy) n_in = 2;
  /* Opsets 9 and 10 import like 11 except Slice, whose operands were attributes before 10
   * (checked before the arity, which that form fails). */
  if (s->info[i].op == OP_SLICE && s->c->opset < 10)
    return node_error(s, i, "Slice before opset 10 is not supported (re-export at opset 11 or later)");
  if (s->info[i].op == OP_RESIZE && s->c->opset < 11)
    return node_error(s, i, "Resize before opset 11 (scales as input 1) is not supported (re-export at opset 11 or later)");
  if (s->info[i].op == OP_TOP_K && s->c->opset < 10)
    return node_error(s, i, "TopK before opset 10 (k as an attribute) is not supported (re-export at opset 11 or later)");
  if (check_arity(s, i, n_in, n_out, legacy != NULL) < 0) return -1;
  int clip_attrs = s->info[i].op == OP_CLIP && s->c->opset < 11;
  Value *bound[2] = {NULL, NULL};
  if (clip_attrs && n_in != 1) return node_error(s, i, "Clip before opset 11 takes one input, has %d", n_in);
  if (clip_attrs && (n_in = clip_legacy_inputs(s, i, bound)) < 0) return -1;
  int pad_attrs = s->info[i].op == OP_PAD && s->c->opset < 11; /* pads and value are attributes */
  if (pad_attrs && np->n_input != 1) return node_error(s, i, "Pad before opset 11 takes one input, has %zu", np->n_input);
  if (pad_attrs) n_in = 3;
  Node *n = ir_node_new(s->c->g, (OpKind)s->info[i].op, s->info[i].name, n_in, n_out, s->c->d);
  if (!n || connect_node(s, i, n) < 0) return -1;
  if (legacy && !(n->in[1] = legacy_const(s, i, legacy))) return -1;
  const Onnx__AttributeProto *pad_value = NULL;
  if (pad_attrs && !(n->in[2] = pad_legacy_value(s, i, &pad_value))) {
    if (pad_value) return -1;
    n->n_in = 2; /* no value: the constant is 0 */
  }
  if (clip_attrs) {
    for (int k = 0; k < 2; k++)
      if (k + 1 < n_in) n->in[k + 1] = bound[k];
    return finish_node(s, i, n);
  }
  for (size_t k = 0; k < np->n_attribute; k++)
    if (np->attribute[k] != legacy && np->attribute[k] != pad_value && convert_attr(s, i, n, np->attribute[k]) < 0)
      return -1;
  return finish_node(s, i, n);
}

static const char *fresh_name(const void *s, const char *base) { return unique_name(s, base); }

/* Lowers an Einsum node into IR ops (onnx_einsum.c). */
static int build_einsum(const NodeSet *s, size_t i) {
  const Onnx__NodeProto *np = s->c->gp->node[i];
  const char *eq = NULL;
  for (size_t k = 0; k < np->n_attribute; k++) {
    const Onnx__AttributeProto *ap = np->attribute[k];
    if (strcmp(pb_str(ap->name), "equation") != 0) return node_error(s, i, "unsupported attribute '%s'", pb_str(ap->name));
    if (onnx_attr_kind(ap) != AT_STRING) return node_error(s, i, "attribute 'equation' must be a string");
    char *str = arena_alloc(&s->c->g->arena, ap->s.len + 1);
    if (!str) return ir_error(s->c->d, s->c->file, NULL, "out of memory");
    if (ap->s.len) memcpy(str, ap->s.data, ap->s.len);
    eq = str;
  }
  if (!eq) return node_error(s, i, "missing attribute 'equation'");
  if (np->n_input < 1 || np->n_input > 2 || np->n_output != 1 || is_empty(np->output[0]))
    return node_error(s, i, "has %zu inputs and %zu outputs, expects 1 or 2 inputs and 1 output (more operands "
                      "are not supported)", np->n_input, np->n_output);
  Value *in[2] = {NULL, NULL};
  for (size_t k = 0; k < np->n_input; k++)
    if (is_empty(np->input[k]) || !(in[k] = name_map_get(&s->c->values, np->input[k])))
      return node_error(s, i, "required input %zu is missing", k);
  EinsumNames names = {s->info[i].name, fresh_name, s};
  return onnx_einsum_build(s->c, &names, eq, in, (int)np->n_input, np->output[0]);
}

/* Runs the node stages over an initialized NodeSet. */
static int import_node_set(NodeSet *s) {
  if (classify_nodes(s) < 0 || register_producers(s) < 0 || check_dangling(s) < 0 || topo_sort(s) < 0)
    return -1;
  for (size_t j = 0; j < s->n; j++) {
    size_t i = s->order[j];
    int rc = s->info[i].op == OP_CONSTANT_NODE ? build_constant(s, i)
             : s->info[i].op == OP_EINSUM_NODE ? build_einsum(s, i)
                                               : build_op_node(s, i);
    if (rc < 0) return -1;
  }
  return 0;
}

/* Converts every node (Constant nodes to VK_CONST values) in topological order. */
int import_nodes(ImportCtx *c) {
  NodeSet s = {.c = c, .n = c->gp->n_node};
  s.info = calloc(s.n ? s.n : 1, sizeof *s.info);
  s.order = calloc(s.n ? s.n : 1, sizeof *s.order);
  int rc = -1;
  if (!s.info || !s.order || name_map_init(&s.producer, 2 * s.n) < 0)
    ir_error(c->d, c->file, NULL, "out of memory");
  else
    rc = import_node_set(&s);
  name_map_free(&s.producer);
  free(s.info);
  free(s.order);
  return rc;
}
