/* cse: common subexpression elimination. Constants with the same type and
 * bytes are merged first (a cheap key — type plus a digest of the first,
 * last and evenly sampled bytes — then a full byte comparison; parsed `blob`
 * constants without data are merged by their recorded digest). Then, in
 * topological order, a node with the same op, the same (already merged)
 * inputs and the same attributes as an earlier node is dropped and its
 * outputs read from the earlier one. One walk finds whole chains. */
#include "pass_util.h"
#include <stdlib.h>
#include <string.h>

/* Bytes of a constant digested in full; larger ones are sampled. */
#define CSE_FULL_DIGEST 65536

/* The merge key of a constant: type, then its bytes (sampled when large). */
static uint64_t const_key(const Value *v) {
  uint64_t h = ir_fnv1a(IR_FNV1A_INIT, &v->t.dtype, sizeof v->t.dtype);
  h = ir_fnv1a(h, v->t.dims, sizeof v->t.dims[0] * (size_t)v->t.rank);
  if (!v->t.data) return ir_fnv1a(h, &v->digest, sizeof v->digest);
  const unsigned char *p = v->t.data;
  size_t n = tensor_bytes(&v->t);
  if (n <= CSE_FULL_DIGEST) return ir_fnv1a(h, p, n);
  h = ir_fnv1a(ir_fnv1a(h, p, 1024), p + n - 1024, 1024);
  for (size_t i = 1; i < 64; i++) h = ir_fnv1a(h, p + i * (n / 64), 32);
  return h;
}

/* Whether two constants hold the same type and bytes (or digests, without data). */
static int const_equal(const Value *a, const Value *b) {
  if (!tensor_same_type(&a->t, &b->t)) return 0;
  if (!a->t.data || !b->t.data)
    return !a->t.data && !b->t.data && a->has_digest && b->has_digest && a->digest == b->digest;
  return memcmp(a->t.data, b->t.data, tensor_bytes(&a->t)) == 0;
}

/* Whether two attributes have the same kind and value. */
static int attr_equal(const Attr *a, const Attr *b) {
  if (a->kind != b->kind) return 0;
  switch (a->kind) {
  case AT_INT: return a->i == b->i;
  case AT_FLOAT: return memcmp(&a->f, &b->f, sizeof a->f) == 0;
  case AT_INTS: return a->n == b->n && (!a->n || !memcmp(a->ints, b->ints, sizeof *a->ints * (size_t)a->n));
  case AT_FLOATS: return a->n == b->n && (!a->n || !memcmp(a->floats, b->floats, sizeof *a->floats * (size_t)a->n));
  case AT_STRING: return strcmp(a->s ? a->s : "", b->s ? b->s : "") == 0;
  case AT_TENSOR:
    return a->t && b->t && tensor_same_type(a->t, b->t) && !memcmp(a->t->data, b->t->data, tensor_bytes(a->t));
  }
  return 0;
}

/* Same op, inputs, output count and attributes. */
static int node_equal(const Node *a, const Node *b) {
  if (a->op != b->op || a->n_in != b->n_in || a->n_out != b->n_out || a->n_attrs != b->n_attrs) return 0;
  for (int i = 0; i < a->n_in; i++)
    if (a->in[i] != b->in[i]) return 0;
  for (int i = 0; i < a->n_attrs; i++) {
    const Attr *o = ir_attr_find(b, a->attrs[i].name);
    if (!o || !attr_equal(&a->attrs[i], o)) return 0;
  }
  for (int j = 0; j < a->n_out; j++)
    if (!a->out[j] != !b->out[j]) return 0;
  return 1;
}

/* The hash of a node's op and inputs (attributes are compared, not hashed). */
static uint64_t node_key(const Node *n) {
  uint64_t h = ir_fnv1a(IR_FNV1A_INIT, &n->op, sizeof n->op);
  for (int i = 0; i < n->n_in; i++) {
    int64_t id = n->in[i] ? n->in[i]->id : -1;
    h = ir_fnv1a(h, &id, sizeof id);
  }
  return h;
}

/* An open-addressing set of items by key; `find` returns the equal item or inserts. */
typedef struct Table {
  void **item;
  uint64_t *key;
  size_t cap;
} Table;

/* The first equal item already in t, or NULL after inserting it. */
static void *table_find(Table *t, void *it, uint64_t key, int (*eq)(const void *, const void *)) {
  size_t i = key & (t->cap - 1);
  for (; t->item[i]; i = (i + 1) & (t->cap - 1))
    if (t->key[i] == key && eq(t->item[i], it)) return t->item[i];
  t->item[i] = it;
  t->key[i] = key;
  return NULL;
}

static int eq_const(const void *a, const void *b) { return const_equal(a, b); }
static int eq_node(const void *a, const void *b) { return node_equal(a, b); }

/* Maps every constant to the first equal one; map[id] is the replacement. */
static void merge_consts(const Graph *g, Table *t, Value **map) {
  for (int i = 0; i < g->n_values; i++) {
    Value *v = g->values[i];
    map[i] = v;
    if (v->kind != VK_CONST || (!v->t.data && !v->has_digest) || pass_is_graph_output(g, v)) continue;
    Value *same = table_find(t, v, const_key(v), eq_const);
    if (same) map[i] = same;
  }
}

/* Rewrites inputs through map, then drops nodes equal to an earlier one. */
static void merge_nodes(Graph *g, Table *t, Value **map) {
  for (int k = 0; k < g->n_nodes; k++) {
    Node *n = g->nodes[k];
    if (n->removed) continue;
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i]) n->in[i] = map[n->in[i]->id];
    int keep = 0;
    for (int j = 0; j < n->n_out && !keep; j++) keep = n->out[j] && pass_is_graph_output(g, n->out[j]);
    Node *same = keep ? NULL : table_find(t, n, node_key(n), eq_node);
    if (!same) continue;
    for (int j = 0; j < n->n_out; j++)
      if (n->out[j]) map[n->out[j]->id] = same->out[j];
    ir_node_remove(n);
  }
}

/* Merges equal constants, then equal nodes, then compacts. */
int pass_cse(Graph *g, PassCtx *ctx, Diag *d) {
  (void)ctx;
  size_t cap = 64;
  while (cap < 2 * (size_t)(g->n_values + g->n_nodes)) cap *= 2;
  Table t = {calloc(cap, sizeof(void *)), calloc(cap, sizeof(uint64_t)), cap};
  Value **map = malloc(sizeof *map * (size_t)(g->n_values + 1));
  int rc = 0;
  if (!t.item || !t.key || !map) rc = ir_error(d, g->file, NULL, "out of memory");
  if (!rc) {
    merge_consts(g, &t, map);
    memset(t.item, 0, cap * sizeof(void *));
    merge_nodes(g, &t, map);
  }
  free(t.item);
  free(t.key);
  free(map);
  return rc ? rc : ir_graph_compact(g, d);
}
