/* Graph construction: values, nodes, attributes; all memory from the graph's arena. */
#include "ir.h"
#include <stdlib.h>
#include <string.h>

Graph *ir_graph_new(const char *file) {
  Graph *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->file = arena_strdup(&g->arena, file ? file : "<memory>");
  if (!g->file) {
    free(g);
    return NULL;
  }
  return g;
}

void ir_graph_evict(const Graph *g) {
  if (g && g->evict) g->evict(g->release_ctx);
}

void ir_graph_free(Graph *g) {
  if (!g) return;
  if (g->release) g->release(g->release_ctx);
  ir_names_forget(g);
  arena_free_all(&g->arena);
  free(g);
}

/* Grows an arena-backed pointer array by doubling (old storage stays in the arena). */
static int grow(Graph *g, void ***items, int n, int *cap) {
  if (n < *cap) return 0;
  int ncap = *cap ? *cap * 2 : 64;
  void **p = arena_alloc(&g->arena, (size_t)ncap * sizeof *p);
  if (!p) return -1;
  if (n) memcpy(p, *items, (size_t)n * sizeof *p);
  *items = p;
  *cap = ncap;
  return 0;
}

/* FNV-1a of a name. */
static uint64_t name_hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* One slot of the name index: the value holding a name, and ir_unique_name's next suffix for that name. */
struct NameSlot {
  Value *v;
  int next_suffix;
};

/* The slot of the name index where a value named `name` is, or the empty slot where it would go. */
static struct NameSlot *name_probe(const Graph *g, const char *name) {
  size_t mask = (size_t)g->name_cap - 1, i = (size_t)name_hash(name) & mask;
  while (g->name_slot[i].v && strcmp(g->name_slot[i].v->name, name) != 0) i = (i + 1) & mask;
  return &g->name_slot[i];
}

/* Enters v in the name index (a duplicate name keeps its first value). */
static void name_insert(Graph *g, Value *v) {
  struct NameSlot *s = name_probe(g, v->name);
  if (!s->v) *s = (struct NameSlot){v, 1}, g->name_used++;
}

/* (Re)builds the name index with room for twice the values; -1 out of memory (the index stays unbuilt). */
static int names_build(Graph *g) {
  int cap = 64;
  while (cap < 2 * (g->n_values + 1)) cap *= 2;
  ir_names_forget(g);
  if (!(g->name_slot = calloc((size_t)cap, sizeof *g->name_slot))) return -1;
  g->name_cap = cap;
  for (int i = 0; i < g->n_values; i++) name_insert(g, g->values[i]);
  return 0;
}

/* Doubles the name index, its slots keeping their suffix counters; out of memory it is dropped (rebuilt on
 * the next query). */
static void names_grow(Graph *g) {
  struct NameSlot *old = g->name_slot, *t = calloc(2 * (size_t)g->name_cap, sizeof *t);
  int cap = g->name_cap;
  if (!t) {
    ir_names_forget(g);
    return;
  }
  g->name_slot = t;
  g->name_cap = 2 * cap;
  for (int i = 0; i < cap; i++)
    if (old[i].v) *name_probe(g, old[i].v->name) = old[i];
  free(old);
}

void ir_names_forget(Graph *g) {
  free(g->name_slot);
  g->name_slot = NULL;
  g->name_cap = g->name_used = 0;
}

int ir_name_taken(Graph *g, const char *name) {
  if (!g->name_cap && names_build(g)) return ir_value_find(g, name) != NULL; /* out of memory: the slow way */
  return name_probe(g, name)->v != NULL;
}

int *ir_name_next_suffix(Graph *g, const char *base) {
  if (!g->name_cap && names_build(g)) return NULL;
  struct NameSlot *s = name_probe(g, base);
  return s->v ? &s->next_suffix : NULL;
}

void ir_value_swap_names(Graph *g, Value *a, Value *b) {
  if (g->name_cap) { /* each name's slot (and its suffix counter) now holds the other value */
    struct NameSlot *sa = name_probe(g, a->name), *sb = name_probe(g, b->name);
    if (sa->v == a && sb->v == b) sa->v = b, sb->v = a;
    else ir_names_forget(g); /* (duplicate names: rebuild rather than guess) */
  }
  const char *t = a->name;
  a->name = b->name;
  b->name = t;
}

Value *ir_value_new(Graph *g, const char *name, ValueKind kind, Diag *d) {
  Value *v = arena_alloc(&g->arena, sizeof *v);
  if (!v || grow(g, (void ***)&g->values, g->n_values, &g->cap_values) ||
      !(v->name = arena_strdup(&g->arena, name))) {
    ir_error(d, g->file, NULL, "out of memory");
    return NULL;
  }
  v->kind = kind;
  v->id = g->n_values;
  g->values[g->n_values++] = v;
  if (g->name_cap && 2 * (g->name_used + 1) > g->name_cap) names_grow(g);
  if (g->name_cap) name_insert(g, v);
  return v;
}

Value *ir_value_find(const Graph *g, const char *name) {
  for (int i = 0; i < g->n_values; i++)
    if (strcmp(g->values[i]->name, name) == 0) return g->values[i];
  return NULL;
}

Node *ir_node_new(Graph *g, OpKind op, const char *name, int n_in, int n_out, Diag *d) {
  Node *n = arena_alloc(&g->arena, sizeof *n);
  if (!n || grow(g, (void ***)&g->nodes, g->n_nodes, &g->cap_nodes) ||
      !(n->name = arena_strdup(&g->arena, name)) ||
      !(n->in = arena_alloc(&g->arena, (size_t)(n_in ? n_in : 1) * sizeof(Value *))) ||
      !(n->out = arena_alloc(&g->arena, (size_t)(n_out ? n_out : 1) * sizeof(Value *)))) {
    ir_error(d, g->file, NULL, "out of memory");
    return NULL;
  }
  n->op = op;
  n->n_in = n_in;
  n->n_out = n_out;
  g->nodes[g->n_nodes++] = n;
  return n;
}

/* Appends v to a graph's input or output list. */
static int list_add(Graph *g, Value ***list, int *n, Value *v, Diag *d) {
  Value **p = arena_alloc(&g->arena, (size_t)(*n + 1) * sizeof *p);
  if (!p) return ir_error(d, g->file, NULL, "out of memory");
  if (*n) memcpy(p, *list, (size_t)*n * sizeof *p);
  p[(*n)++] = v;
  *list = p;
  return 0;
}

int ir_graph_add_input(Graph *g, Value *v, Diag *d) { return list_add(g, &g->inputs, &g->n_inputs, v, d); }
int ir_graph_add_output(Graph *g, Value *v, Diag *d) { return list_add(g, &g->outputs, &g->n_outputs, v, d); }

const char *ir_meta_get(const Graph *g, const char *key) {
  for (int i = 0; i < g->n_meta; i++)
    if (strcmp(g->meta[i].key, key) == 0) return g->meta[i].value;
  return NULL;
}

int ir_meta_set(Graph *g, const char *key, const char *value, Diag *d) {
  const char *v = arena_strdup(&g->arena, value);
  if (!v) return ir_error(d, g->file, NULL, "out of memory");
  for (int i = 0; i < g->n_meta; i++)
    if (strcmp(g->meta[i].key, key) == 0) return g->meta[i].value = v, 0;
  MetaProp *p = arena_alloc(&g->arena, (size_t)(g->n_meta + 1) * sizeof *p);
  const char *k = arena_strdup(&g->arena, key);
  if (!p || !k) return ir_error(d, g->file, NULL, "out of memory");
  if (g->n_meta) memcpy(p, g->meta, (size_t)g->n_meta * sizeof *p);
  p[g->n_meta++] = (MetaProp){k, v};
  g->meta = p;
  return 0;
}

Attr *ir_attr_add(Graph *g, Node *n, const char *name, AttrKind kind, Diag *d) {
  Attr *p = arena_alloc(&g->arena, (size_t)(n->n_attrs + 1) * sizeof *p);
  const char *nm = arena_strdup(&g->arena, name);
  if (!p || !nm) {
    ir_error(d, g->file, NULL, "out of memory");
    return NULL;
  }
  if (n->n_attrs) memcpy(p, n->attrs, (size_t)n->n_attrs * sizeof *p);
  n->attrs = p;
  Attr *a = &p[n->n_attrs++];
  a->name = nm;
  a->kind = kind;
  return a;
}

const Attr *ir_attr_find(const Node *n, const char *name) {
  for (int i = 0; i < n->n_attrs; i++)
    if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
  return NULL;
}

int64_t ir_attr_i(const Node *n, const char *name, int64_t def) {
  const Attr *a = ir_attr_find(n, name);
  return a && a->kind == AT_INT ? a->i : def;
}

float ir_attr_f(const Node *n, const char *name, float def) {
  const Attr *a = ir_attr_find(n, name);
  return a && a->kind == AT_FLOAT ? a->f : def;
}

const char *ir_attr_s(const Node *n, const char *name, const char *def) {
  const Attr *a = ir_attr_find(n, name);
  return a && a->kind == AT_STRING ? a->s : def;
}

int ir_attr_ints(const Node *n, const char *name, int64_t *out, int max) {
  const Attr *a = ir_attr_find(n, name);
  if (!a || a->kind != AT_INTS) return -1;
  for (int i = 0; i < a->n && i < max; i++) out[i] = a->ints[i];
  return a->n;
}
