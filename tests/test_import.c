/* Unit tests for the ONNX importer: tiny models built in memory with the
 * protobuf-c API, packed to a temporary file and imported. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "onnx_import.h"
#include "onnx_internal.h"
#include "onnx_optypes.h"

#define MAXN 32
#define F32 ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define I64 ONNX__TENSOR_PROTO__DATA_TYPE__INT64
#define I32 ONNX__TENSOR_PROTO__DATA_TYPE__INT32
#define BOOL ONNX__TENSOR_PROTO__DATA_TYPE__BOOL
#define F16 ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16
#define DOUBLE ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE
#define UINT8 ONNX__TENSOR_PROTO__DATA_TYPE__UINT8
#define SYM (-1) /* a symbolic dim in mb_input() */

/* A model under construction; every message lives inside this struct. */
typedef struct MB {
  Onnx__ModelProto model;
  Onnx__GraphProto graph;
  Onnx__OperatorSetIdProto opset, *opset_ptr;
  Onnx__NodeProto nodes[MAXN], *node_ptrs[MAXN];
  Onnx__AttributeProto attrs[MAXN], *attr_ptrs[MAXN];
  int n_attrs;
  Onnx__TensorProto tensors[MAXN], *init_ptrs[MAXN];
  int n_tensors;
  Onnx__ValueInfoProto vis[MAXN], *in_ptrs[MAXN], *out_ptrs[MAXN];
  Onnx__TypeProto types[MAXN];
  Onnx__TypeProto__Tensor ttypes[MAXN];
  Onnx__TensorShapeProto shapes[MAXN];
  int n_vis;
  Onnx__TensorShapeProto__Dimension dims[4 * MAXN], *dim_ptrs[4 * MAXN];
  int n_dims;
  char *names[8 * MAXN];
  int n_names;
  int64_t ints[16 * MAXN];
  int n_ints;
  Onnx__StringStringEntryProto entries[MAXN], *entry_ptrs[MAXN];
  int n_entries;
  char pool[8192];
  size_t pool_used;
} MB;

/* Copies a string into the builder's pool. */
static char *mb_str(MB *m, const char *s) {
  size_t n = strlen(s) + 1;
  assert_true(m->pool_used + n <= sizeof m->pool);
  char *p = memcpy(m->pool + m->pool_used, s, n);
  m->pool_used += n;
  return p;
}

/* An empty model importing the default domain at `opset` (none when 0). */
static MB *mb_new(int64_t opset) {
  MB *m = calloc(1, sizeof *m);
  assert_non_null(m);
  m->model = (Onnx__ModelProto)ONNX__MODEL_PROTO__INIT;
  m->graph = (Onnx__GraphProto)ONNX__GRAPH_PROTO__INIT;
  m->opset = (Onnx__OperatorSetIdProto)ONNX__OPERATOR_SET_ID_PROTO__INIT;
  m->model.has_ir_version = 1;
  m->model.ir_version = 8;
  m->model.graph = &m->graph;
  m->opset.domain = mb_str(m, "");
  m->opset.has_version = 1;
  m->opset.version = opset;
  m->opset_ptr = &m->opset;
  m->model.n_opset_import = opset ? 1 : 0;
  m->model.opset_import = &m->opset_ptr;
  m->graph.name = mb_str(m, "g");
  m->graph.node = m->node_ptrs;
  m->graph.initializer = m->init_ptrs;
  m->graph.input = m->in_ptrs;
  m->graph.output = m->out_ptrs;
  return m;
}

/* A value info; rank < 0 leaves the shape out, SYM dims are dim_param `sym` (NOT_SET when NULL). */
static Onnx__ValueInfoProto *mb_vi(MB *m, const char *name, int elem, int rank, const int64_t *dims,
                                   const char *sym) {
  int i = m->n_vis++;
  Onnx__ValueInfoProto *vi = &m->vis[i];
  *vi = (Onnx__ValueInfoProto)ONNX__VALUE_INFO_PROTO__INIT;
  vi->name = mb_str(m, name);
  if (elem < 0) return vi;
  m->types[i] = (Onnx__TypeProto)ONNX__TYPE_PROTO__INIT;
  m->ttypes[i] = (Onnx__TypeProto__Tensor)ONNX__TYPE_PROTO__TENSOR__INIT;
  m->types[i].value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  m->types[i].tensor_type = &m->ttypes[i];
  m->ttypes[i].has_elem_type = 1;
  m->ttypes[i].elem_type = elem;
  vi->type = &m->types[i];
  if (rank < 0) return vi;
  m->shapes[i] = (Onnx__TensorShapeProto)ONNX__TENSOR_SHAPE_PROTO__INIT;
  m->shapes[i].n_dim = (size_t)rank;
  m->shapes[i].dim = &m->dim_ptrs[m->n_dims];
  for (int k = 0; k < rank; k++) {
    Onnx__TensorShapeProto__Dimension *d = &m->dims[m->n_dims];
    *d = (Onnx__TensorShapeProto__Dimension)ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
    if (dims[k] != SYM) {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = dims[k];
    } else if (sym) {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d->dim_param = mb_str(m, sym);
    }
    m->dim_ptrs[m->n_dims++] = d;
  }
  m->ttypes[i].shape = &m->shapes[i];
  return vi;
}

/* Adds a graph input. */
static void mb_input(MB *m, const char *name, int elem, int rank, const int64_t *dims, const char *sym) {
  m->in_ptrs[m->graph.n_input++] = mb_vi(m, name, elem, rank, dims, sym);
}

/* Adds a graph output (untyped: the importer does not read output types). */
static void mb_output(MB *m, const char *name) {
  m->out_ptrs[m->graph.n_output++] = mb_vi(m, name, -1, -1, NULL, NULL);
}

/* A tensor message without data; callers set raw_data or a typed field. */
static Onnx__TensorProto *mb_tensor(MB *m, const char *name, int elem, int rank, const int64_t *dims) {
  Onnx__TensorProto *t = &m->tensors[m->n_tensors++];
  *t = (Onnx__TensorProto)ONNX__TENSOR_PROTO__INIT;
  if (name) t->name = mb_str(m, name);
  t->has_data_type = 1;
  t->data_type = elem;
  t->n_dims = (size_t)rank;
  t->dims = &m->ints[m->n_ints];
  for (int k = 0; k < rank; k++) m->ints[m->n_ints++] = dims[k];
  return t;
}

/* Points a tensor's raw_data at `n` bytes. */
static void set_raw(Onnx__TensorProto *t, const void *data, size_t n) {
  t->has_raw_data = 1;
  t->raw_data.data = (uint8_t *)data;
  t->raw_data.len = n;
}

/* Marks t as external data with the entries "key", "value", ..., NULL (no data in the message). */
static void set_external(MB *m, Onnx__TensorProto *t, ...) {
  va_list ap;
  va_start(ap, t);
  t->has_data_location = 1;
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  t->external_data = &m->entry_ptrs[m->n_entries];
  for (const char *key; (key = va_arg(ap, const char *));) {
    Onnx__StringStringEntryProto *e = &m->entries[m->n_entries];
    *e = (Onnx__StringStringEntryProto)ONNX__STRING_STRING_ENTRY_PROTO__INIT;
    e->key = mb_str(m, key);
    e->value = mb_str(m, va_arg(ap, const char *));
    m->entry_ptrs[m->n_entries++] = e;
    t->n_external_data++;
  }
  va_end(ap);
}

/* Adds an initializer holding f32 raw data. */
static Onnx__TensorProto *mb_init_f32(MB *m, const char *name, int rank, const int64_t *dims,
                                      const float *data, size_t n) {
  Onnx__TensorProto *t = mb_tensor(m, name, F32, rank, dims);
  set_raw(t, data, n * sizeof(float));
  m->init_ptrs[m->graph.n_initializer++] = t;
  return t;
}

/* Splits "a,,b" into pool strings; "" is an empty list. */
static char **mb_list(MB *m, const char *csv, size_t *n) {
  char **list = &m->names[m->n_names];
  *n = 0;
  if (!*csv) return list;
  char *copy = mb_str(m, csv);
  for (char *p = copy;; p++) {
    char *comma = strchr(p, ',');
    if (comma) *comma = 0;
    m->names[m->n_names++] = p;
    (*n)++;
    if (!comma) break;
    p = comma;
  }
  return list;
}

/* Adds a node; attributes added right after it belong to it. */
static Onnx__NodeProto *mb_node(MB *m, const char *op, const char *name, const char *ins,
                                const char *outs) {
  Onnx__NodeProto *n = &m->nodes[m->graph.n_node];
  *n = (Onnx__NodeProto)ONNX__NODE_PROTO__INIT;
  n->op_type = mb_str(m, op);
  if (name) n->name = mb_str(m, name);
  n->input = mb_list(m, ins, &n->n_input);
  n->output = mb_list(m, outs, &n->n_output);
  m->node_ptrs[m->graph.n_node++] = n;
  return n;
}

/* Adds an attribute of `type` to the last node. */
static Onnx__AttributeProto *mb_attr(MB *m, const char *name, Onnx__AttributeProto__AttributeType type) {
  Onnx__NodeProto *n = m->node_ptrs[m->graph.n_node - 1];
  Onnx__AttributeProto *a = &m->attrs[m->n_attrs];
  *a = (Onnx__AttributeProto)ONNX__ATTRIBUTE_PROTO__INIT;
  a->name = mb_str(m, name);
  a->has_type = 1;
  a->type = type;
  if (!n->n_attribute) n->attribute = &m->attr_ptrs[m->n_attrs];
  m->attr_ptrs[m->n_attrs++] = a;
  n->n_attribute++;
  return a;
}

/* Adds an int attribute to the last node. */
static void mb_attr_i(MB *m, const char *name, int64_t v) {
  Onnx__AttributeProto *a = mb_attr(m, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  a->has_i = 1;
  a->i = v;
}

/* Adds a float attribute to the last node. */
static void mb_attr_f(MB *m, const char *name, float v) {
  Onnx__AttributeProto *a = mb_attr(m, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  a->has_f = 1;
  a->f = v;
}

/* Adds an ints attribute to the last node. */
static void mb_attr_ints(MB *m, const char *name, size_t n, const int64_t *v) {
  Onnx__AttributeProto *a = mb_attr(m, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  a->n_ints = n;
  a->ints = (int64_t *)v;
}

/* Packs the model into a new temporary file; returns its path (static buffer). */
static const char *mb_write(MB *m) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/test_import_XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  size_t n = onnx__model_proto__get_packed_size(&m->model);
  uint8_t *buf = malloc(n ? n : 1);
  assert_non_null(buf);
  onnx__model_proto__pack(&m->model, buf);
  assert_int_equal(write(fd, buf, n), (ssize_t)n);
  close(fd);
  free(buf);
  return path;
}

/* Imports the model and frees the builder. */
static Graph *mb_import(MB *m, const ImportOptions *o, Diag *d) {
  const char *path = mb_write(m);
  memset(d, 0, sizeof *d);
  Graph *g = onnx_import(path, o, d);
  unlink(path);
  free(m);
  return g;
}

/* Imports a model that must succeed. */
static Graph *import_ok(MB *m, const ImportOptions *o) {
  Diag d;
  Graph *g = mb_import(m, o, &d);
  if (!g) fail_msg("import failed: %s", d.msg);
  return g;
}

/* Imports a model that must fail with a message containing `want`. */
static void import_fails(MB *m, const ImportOptions *o, const char *want) {
  Diag d;
  Graph *g = mb_import(m, o, &d);
  if (g) {
    ir_graph_free(g);
    fail_msg("import succeeded, expected an error containing \"%s\"", want);
  }
  if (strncmp(d.msg, "vitc: error: ", 13) != 0 || !strstr(d.msg, want))
    fail_msg("got \"%s\", expected it to contain \"%s\"", d.msg, want);
}

/* Model y = OP(x) with x f32[2,3]. */
static MB *unary_model(int64_t opset, const char *op) {
  static const int64_t dims[] = {2, 3};
  MB *m = mb_new(opset);
  mb_input(m, "x", F32, 2, dims, NULL);
  mb_node(m, op, "n0", "x", "y");
  mb_output(m, "y");
  return m;
}

/* The attribute `name` of node n, failing the test when absent. */
static const Attr *must_attr(const Node *n, const char *name) {
  const Attr *a = ir_attr_find(n, name);
  if (!a) fail_msg("node '%s' has no attribute '%s'", n->name, name);
  return a;
}

/* ---- tests ---- */

/* Inputs, initializer (raw_data), a node and the output come through. */
static void test_basic_graph(void **state) {
  (void)state;
  static const int64_t dims[] = {2, 3};
  static const float w[] = {1, 2, 3, 4, 5, 6};
  MB *m = mb_new(17);
  mb_input(m, "x", F32, 2, dims, NULL);
  mb_init_f32(m, "w", 2, dims, w, 6);
  mb_node(m, "Add", "add0", "x,w", "y");
  mb_output(m, "y");
  Graph *g = import_ok(m, NULL);
  assert_int_equal(g->opset, 17);
  assert_int_equal(g->n_inputs, 1);
  assert_string_equal(g->inputs[0]->name, "x");
  assert_int_equal(g->inputs[0]->kind, VK_INPUT);
  assert_int_equal(g->inputs[0]->t.dtype, DT_F32);
  assert_int_equal(g->inputs[0]->t.rank, 2);
  assert_int_equal(g->inputs[0]->t.dims[1], 3);
  assert_null(g->inputs[0]->t.data);
  Value *wv = ir_value_find(g, "w");
  assert_non_null(wv);
  assert_int_equal(wv->kind, VK_CONST);
  assert_int_equal(wv->t.dtype, DT_F32);
  assert_memory_equal(wv->t.data, w, sizeof w);
  assert_int_equal(g->n_nodes, 1);
  Node *n = g->nodes[0];
  assert_int_equal(n->op, OP_ADD);
  assert_string_equal(n->name, "add0");
  assert_ptr_equal(n->in[0], g->inputs[0]);
  assert_ptr_equal(n->in[1], wv);
  assert_int_equal(g->n_outputs, 1);
  assert_ptr_equal(g->outputs[0], n->out[0]);
  assert_int_equal(n->out[0]->kind, VK_NODE);
  assert_ptr_equal(n->out[0]->def, n);
  assert_int_equal(n->out[0]->t.dtype, DT_UNDEF);
  assert_int_equal(n->out[0]->t.rank, 0);
  ir_graph_free(g);
}

/* Typed fields: float_data, int64_data, int32_data as I32, BOOL and FLOAT16. */
static void test_typed_initializers(void **state) {
  (void)state;
  static const int64_t d2[] = {2};
  static float fd[] = {1.5f, -2.0f};
  static int64_t id[] = {7, -9};
  static int32_t i32[] = {3, -4};
  static int32_t bools[] = {0, 5};
  static int32_t halves[] = {0x3c00, 0xc000};
  static const uint16_t raw_half[] = {0x3800, 0x7c00};
  MB *m = mb_new(13);
  Onnx__TensorProto *t;
  t = mb_tensor(m, "f", F32, 1, d2), t->n_float_data = 2, t->float_data = fd;
  m->init_ptrs[m->graph.n_initializer++] = t;
  t = mb_tensor(m, "l", I64, 1, d2), t->n_int64_data = 2, t->int64_data = id;
  m->init_ptrs[m->graph.n_initializer++] = t;
  t = mb_tensor(m, "i", I32, 1, d2), t->n_int32_data = 2, t->int32_data = i32;
  m->init_ptrs[m->graph.n_initializer++] = t;
  t = mb_tensor(m, "b", BOOL, 1, d2), t->n_int32_data = 2, t->int32_data = bools;
  m->init_ptrs[m->graph.n_initializer++] = t;
  t = mb_tensor(m, "h", F16, 1, d2), t->n_int32_data = 2, t->int32_data = halves;
  m->init_ptrs[m->graph.n_initializer++] = t;
  t = mb_tensor(m, "hr", F16, 1, d2);
  set_raw(t, raw_half, sizeof raw_half);
  m->init_ptrs[m->graph.n_initializer++] = t;
  mb_output(m, "f");
  Graph *g = import_ok(m, NULL);
  const Value *v = ir_value_find(g, "f");
  assert_int_equal(v->t.dtype, DT_F32);
  assert_memory_equal(v->t.data, fd, sizeof fd);
  v = ir_value_find(g, "l");
  assert_int_equal(v->t.dtype, DT_I64);
  assert_memory_equal(v->t.data, id, sizeof id);
  v = ir_value_find(g, "i");
  assert_int_equal(v->t.dtype, DT_I32);
  assert_memory_equal(v->t.data, i32, sizeof i32);
  v = ir_value_find(g, "b");
  assert_int_equal(v->t.dtype, DT_BOOL);
  assert_int_equal(((uint8_t *)v->t.data)[0], 0);
  assert_int_equal(((uint8_t *)v->t.data)[1], 1);
  v = ir_value_find(g, "h");
  assert_int_equal(v->t.dtype, DT_F32);
  assert_true(((float *)v->t.data)[0] == 1.0f && ((float *)v->t.data)[1] == -2.0f);
  v = ir_value_find(g, "hr");
  assert_true(((float *)v->t.data)[0] == 0.5f && isinf(((float *)v->t.data)[1]));
  ir_graph_free(g);
}

/* Initializers' raw_data is used from the mapped model (onnx_strip.c): values come out the same whatever
 * their alignment in the file, next to typed-field initializers; the stripped message has each raw_data
 * emptied and the spans point at the original bytes. */
static void test_raw_data_in_place(void **state) {
  (void)state;
  static float w[8][37];
  static const int64_t d37[] = {37};
  static float fd[] = {1.5f, -2.0f};
  static const int64_t d2[] = {2};
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 37; j++) w[i][j] = (float)(i * 100 + j) * 0.25f;
  MB *m = mb_new(13);
  char name[16];
  for (int i = 0; i < 8; i++) { /* names of growing length move each raw_data's offset in the file */
    snprintf(name, sizeof name, "w%.*s", i, "xxxxxxx");
    Onnx__TensorProto *t = mb_tensor(m, name, F32, 1, d37);
    set_raw(t, w[i], sizeof w[i]);
    m->init_ptrs[m->graph.n_initializer++] = t;
  }
  Onnx__TensorProto *t = mb_tensor(m, "typed", F32, 1, d2);
  t->n_float_data = 2, t->float_data = fd;
  m->init_ptrs[m->graph.n_initializer++] = t;
  mb_output(m, "typed");
  size_t n = onnx__model_proto__get_packed_size(&m->model);
  uint8_t *buf = malloc(n), *out = NULL;
  onnx__model_proto__pack(&m->model, buf);
  size_t out_len = 0;
  OnnxRawSpans spans;
  assert_int_equal(onnx_strip_raw_data(buf, n, &out, &out_len, &spans), 0);
  assert_int_equal(spans.n, 9);
  for (int i = 0; i < 8; i++) {
    assert_int_equal(spans.v[i].len, sizeof w[i]);
    assert_memory_equal(spans.v[i].p, w[i], sizeof w[i]);
  }
  int aligned = 0;
  for (int i = 0; i < 8; i++) aligned += (spans.v[i].p - buf) % 4 == 0;
  assert_true(aligned > 0 && aligned < 8); /* both kinds: borrowed in place, and copied */
  assert_null(spans.v[8].p);
  assert_true(out_len < n - 8 * sizeof w[0]);
  Onnx__ModelProto *sm = onnx__model_proto__unpack(NULL, out_len, out);
  assert_non_null(sm);
  assert_int_equal(sm->graph->n_initializer, 9);
  for (int i = 0; i < 8; i++)
    assert_true(sm->graph->initializer[i]->has_raw_data && sm->graph->initializer[i]->raw_data.len == 0);
  assert_int_equal(sm->graph->initializer[8]->n_float_data, 2);
  onnx__model_proto__free_unpacked(sm, NULL);
  free(out);
  free(spans.v);
  free(buf);
  Graph *g = import_ok(m, NULL);
  for (int i = 0; i < 8; i++) {
    snprintf(name, sizeof name, "w%.*s", i, "xxxxxxx");
    const Value *v = ir_value_find(g, name);
    assert_non_null(v);
    assert_memory_equal(v->t.data, w[i], sizeof w[i]);
  }
  assert_memory_equal(ir_value_find(g, "typed")->t.data, fd, sizeof fd);
  ir_graph_free(g);
}

/* What the stripper refuses (the importer then unpacks the file itself): two graph fields, two raw_data in
 * one tensor, a group, an over-long tag; and no prefix of a model makes it read past its end (ASan checks the reads). */
static void test_strip_refuses(void **state) {
  (void)state;
  /* ModelProto: graph (7) { initializer (5) { raw_data (9) "ab" } } */
  static const uint8_t one[] = {0x3a, 0x06, 0x2a, 0x04, 0x4a, 0x02, 'a', 'b'};
  static const uint8_t two_graphs[] = {0x3a, 0x06, 0x2a, 0x04, 0x4a, 0x02, 'a', 'b', 0x3a, 0x00};
  static const uint8_t two_raw[] = {0x3a, 0x0a, 0x2a, 0x08, 0x4a, 0x02, 'a', 'b', 0x4a, 0x02, 'c', 'd'};
  static const uint8_t group[] = {0x3a, 0x02, 0x0b, 0x0c};
  /* field 7 with its tag spelled in 6 bytes: protobuf-c reads tags of at most 5, so must the stripper */
  static const uint8_t long_tag[] = {0xba, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00};
  uint8_t *out;
  size_t len;
  OnnxRawSpans s;
  assert_int_equal(onnx_strip_raw_data(one, sizeof one, &out, &len, &s), 0);
  static const uint8_t want[] = {0x3a, 0x04, 0x2a, 0x02, 0x4a, 0x00};
  assert_int_equal(len, sizeof want);
  assert_memory_equal(out, want, sizeof want);
  assert_int_equal(s.n, 1);
  assert_ptr_equal(s.v[0].p, one + 6);
  assert_int_equal(s.v[0].len, 2);
  free(out);
  free(s.v);
  assert_int_equal(onnx_strip_raw_data(two_graphs, sizeof two_graphs, &out, &len, &s), -1);
  assert_int_equal(onnx_strip_raw_data(two_raw, sizeof two_raw, &out, &len, &s), -1);
  assert_int_equal(onnx_strip_raw_data(group, sizeof group, &out, &len, &s), -1);
  assert_int_equal(onnx_strip_raw_data(long_tag, sizeof long_tag, &out, &len, &s), -1);
  for (size_t cut = 0; cut < sizeof one; cut++) {
    uint8_t *copy = malloc(cut + 1); /* exactly cut bytes readable */
    memcpy(copy, one, cut);
    if (onnx_strip_raw_data(copy, cut, &out, &len, &s) == 0) free(out), free(s.v);
    free(copy);
  }
}

/* Half to float: zeros, normals, subnormals, extremes, infinities, NaN. */
static void test_half_to_float(void **state) {
  (void)state;
  assert_true(onnx_half_to_float(0x0000) == 0.0f && !signbit(onnx_half_to_float(0x0000)));
  assert_true(onnx_half_to_float(0x8000) == 0.0f && signbit(onnx_half_to_float(0x8000)));
  assert_true(onnx_half_to_float(0x3c00) == 1.0f);
  assert_true(onnx_half_to_float(0xc000) == -2.0f);
  assert_true(onnx_half_to_float(0x3555) == 0x1.554p-2f);
  assert_true(onnx_half_to_float(0x0001) == 0x1p-24f);
  assert_true(onnx_half_to_float(0x03ff) == 1023 * 0x1p-24f);
  assert_true(onnx_half_to_float(0x8200) == -0x1p-15f);
  assert_true(onnx_half_to_float(0x0400) == 0x1p-14f);
  assert_true(onnx_half_to_float(0x7bff) == 65504.0f);
  assert_true(isinf(onnx_half_to_float(0x7c00)) && onnx_half_to_float(0x7c00) > 0);
  assert_true(isinf(onnx_half_to_float(0xfc00)) && onnx_half_to_float(0xfc00) < 0);
  assert_true(isnan(onnx_half_to_float(0x7e00)));
  assert_true(isnan(onnx_half_to_float(0xfc01)));
}

/* Byte counts that do not match the shape, external data, unsupported dtypes. */
static void test_initializer_errors(void **state) {
  (void)state;
  static const int64_t dims[] = {2, 3};
  static const float w[] = {1, 2};
  MB *m = mb_new(13);
  mb_init_f32(m, "w", 2, dims, w, 2);
  mb_output(m, "w");
  import_fails(m, NULL, "initializer 'w' has 8 bytes, shape needs 24");

  m = mb_new(13);
  Onnx__TensorProto *t = mb_init_f32(m, "w", 1, dims, w, 2);
  t->has_data_location = 1;
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  mb_output(m, "w");
  import_fails(m, NULL, "initializer 'w': has both external data and data in the model");

  m = mb_new(13);
  t = mb_tensor(m, "dd", DOUBLE, 1, dims);
  set_raw(t, w, sizeof w);
  m->init_ptrs[m->graph.n_initializer++] = t;
  mb_output(m, "dd");
  import_fails(m, NULL, "initializer 'dd': unsupported dtype DOUBLE");

  m = mb_new(13);
  t = mb_tensor(m, "neg", F32, 1, (const int64_t[]){-1});
  m->init_ptrs[m->graph.n_initializer++] = t;
  mb_output(m, "neg");
  import_fails(m, NULL, "negative dim");
}

/* An f32[2,3] initializer 'w' stored externally with the given entries ("key", "value", ..., NULL): the
 * import must fail with `want`. Every case is refused before the file system is asked anything (the model
 * is written to /tmp; tests/external_data.sh covers the files themselves). */
#define EXTERNAL_FAILS(want, ...)                                                  \
  do {                                                                             \
    MB *m_ = mb_new(13);                                                           \
    Onnx__TensorProto *t_ = mb_tensor(m_, "w", F32, 2, (const int64_t[]){2, 3});   \
    set_external(m_, t_, __VA_ARGS__);                                             \
    m_->init_ptrs[m_->graph.n_initializer++] = t_;                                 \
    mb_output(m_, "w");                                                            \
    import_fails(m_, NULL, want);                                                  \
  } while (0)

/* External-data entries refused as written: no or empty location, absolute or `..` locations, offsets and
 * lengths that are not byte counts, a length other than the shape's; external data in a node attribute. */
static void test_external_data_refused(void **state) {
  (void)state;
  EXTERNAL_FAILS("initializer 'w': external data has no location", "offset", "0", NULL);
  EXTERNAL_FAILS("initializer 'w': external data has no location", NULL);
  EXTERNAL_FAILS("initializer 'w': external data location is empty", "location", "", NULL);
  EXTERNAL_FAILS("initializer 'w': external data location '/etc/passwd' is an absolute path", "location",
                 "/etc/passwd", NULL);
  EXTERNAL_FAILS("external data location '..' has a '..' component", "location", "..", NULL);
  EXTERNAL_FAILS("external data location 'a/../../w.bin' has a '..' component", "location", "a/../../w.bin", NULL);
  EXTERNAL_FAILS("external data location 'a//..' has a '..' component", "location", "a//..", NULL);
  EXTERNAL_FAILS("external data offset '-8' is not a non-negative integer", "location", "w.bin", "offset", "-8",
                 NULL);
  EXTERNAL_FAILS("external data offset '18446744073709551616' is not a non-negative integer", "location", "w.bin",
                 "offset", "18446744073709551616", NULL);
  EXTERNAL_FAILS("external data length '' is not a non-negative integer", "location", "w.bin", "length", "", NULL);
  EXTERNAL_FAILS("external data length '24 ' is not a non-negative integer", "location", "w.bin", "length", "24 ",
                 NULL);
  EXTERNAL_FAILS("initializer 'w': external data length 8 does not match the 24 bytes its shape needs", "location",
                 "w.bin", "length", "8", NULL);
  /* a later duplicate key wins, as in ONNX */
  EXTERNAL_FAILS("external data location '/w.bin' is an absolute path", "location", "w.bin", "location", "/w.bin",
                 NULL);

  static const int64_t one[] = {1};
  MB *m = mb_new(13);
  mb_input(m, "s", I64, 1, one, NULL);
  mb_node(m, "ConstantOfShape", "cos", "s", "z");
  Onnx__TensorProto *t = mb_tensor(m, NULL, F32, 1, one);
  set_external(m, t, "location", "v.bin", NULL);
  mb_attr(m, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR)->t = t;
  mb_output(m, "z");
  import_fails(m, NULL, "external data is only read for a model's initializers and Constant values");
}

/* Writes `n` bytes to a new temporary file; returns its path (static buffer). */
static const char *write_bytes(const void *p, size_t n) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/test_import_XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, p, n), (ssize_t)n);
  close(fd);
  return path;
}

/* Imports a file of raw bytes and checks the error. */
static void bytes_fail(const void *p, size_t n, const char *want) {
  const char *path = write_bytes(p, n);
  Diag d = {0};
  Graph *g = onnx_import(path, NULL, &d);
  unlink(path);
  assert_null(g);
  if (!strstr(d.msg, want)) fail_msg("got \"%s\", expected \"%s\"", d.msg, want);
}

/* A name with a newline still gives a one-line message. */
static void test_message_one_line(void **state) {
  (void)state;
  static const int64_t dims[] = {2, 3};
  MB *m = mb_new(13);
  mb_input(m, "x\nsecond line", DOUBLE, 2, dims, NULL);
  mb_output(m, "x\nsecond line");
  import_fails(m, NULL, "input 'x?second line': unsupported dtype DOUBLE");
}

/* Files that are not ONNX models: missing, empty, garbage, truncated, no graph. */
static void test_bad_files(void **state) {
  (void)state;
  Diag d = {0};
  assert_null(onnx_import("/nonexistent/model.onnx", NULL, &d));
  assert_non_null(strstr(d.msg, "vitc: error: /nonexistent/model.onnx: cannot open"));
  bytes_fail("", 0, "not a valid ONNX model (empty file)");
  bytes_fail("\xff\xff\xff\xff", 4, "not a valid ONNX model (protobuf parse failed)");

  static const float w[64] = {0};
  MB *m = mb_new(13);
  mb_init_f32(m, "w", 1, (const int64_t[]){64}, w, 64);
  mb_output(m, "w");
  size_t n = onnx__model_proto__get_packed_size(&m->model);
  uint8_t *buf = malloc(n);
  onnx__model_proto__pack(&m->model, buf);
  free(m);
  bytes_fail(buf, n / 2, "not a valid ONNX model (protobuf parse failed)");
  free(buf);

  m = mb_new(13);
  m->model.graph = NULL;
  import_fails(m, NULL, "model has no graph");
}

/* Opsets outside 9..21, and a model without the default domain. */
static void test_opset_range(void **state) {
  (void)state;
  import_fails(unary_model(8, "Relu"), NULL, "opset 8 is not supported");
  import_fails(unary_model(22, "Relu"), NULL, "opset 22 is not supported");
  import_fails(unary_model(0, "Relu"), NULL, "opset");
  Graph *g = import_ok(unary_model(11, "Relu"), NULL);
  assert_int_equal(g->opset, 11);
  ir_graph_free(g);
  MB *m = unary_model(21, "Relu");
  m->opset.domain = mb_str(m, "ai.onnx");
  g = import_ok(m, NULL);
  assert_int_equal(g->opset, 21);
  ir_graph_free(g);
}

/* Unknown ops and ops from other domains: one node is named as usual; several are listed at once, each op
 * type with its node count and first node, most used first; ahead of any input problem. */
static void test_unsupported_op(void **state) {
  (void)state;
  static const int64_t dims[] = {2, 3}, sym[] = {SYM, 3};
  import_fails(unary_model(13, "LogSoftmax"), NULL, "node 'n0' (LogSoftmax): unsupported op");
  MB *m = unary_model(13, "Relu");
  m->nodes[0].domain = mb_str(m, "com.microsoft");
  import_fails(m, NULL, "node 'n0' (Relu): unsupported op (domain 'com.microsoft')");

  m = mb_new(13);
  mb_input(m, "x", F32, 2, sym, "N"); /* symbolic and unpinned: the ops are reported first */
  mb_node(m, "Relu", "r", "x", "a");
  mb_node(m, "LogSoftmax", NULL, "a", "b"); /* unnamed: LogSoftmax_1 */
  mb_node(m, "Hardmax", "h1", "b", "c");
  mb_node(m, "Relu", "ms", "c", "d")->domain = mb_str(m, "com.microsoft");
  mb_node(m, "Hardmax", "h2", "d", "e");
  mb_node(m, "Neg", "n", "e", "y");
  mb_output(m, "y");
  import_fails(m, NULL, ": 3 unsupported op types: Hardmax (2 nodes, first 'h1'), LogSoftmax (1 node: "
               "'LogSoftmax_1'), com.microsoft.Relu (1 node: 'ms')");

  m = mb_new(13);
  mb_input(m, "x", F32, 2, dims, NULL);
  mb_node(m, "Det", "d0", "x", "a");
  mb_node(m, "Det", "d1", "a", "y");
  mb_output(m, "y");
  import_fails(m, NULL, ": unsupported op Det (2 nodes, first 'd0')");
}

/* An input no one defines. */
static void test_dangling_input(void **state) {
  (void)state;
  MB *m = unary_model(13, "Add");
  m->nodes[0].input = mb_list(m, "x,foo", &m->nodes[0].n_input);
  import_fails(m, NULL, "node 'n0' (Add): input 'foo' is not defined (dangling)");
}

/* Nodes out of order are sorted; a cycle is reported. */
static void test_topological_order(void **state) {
  (void)state;
  static const int64_t dims[] = {4};
  MB *m = mb_new(13);
  mb_input(m, "x", F32, 1, dims, NULL);
  mb_node(m, "Add", "c", "a,b", "y");
  mb_node(m, "Relu", "b", "a", "b");
  mb_node(m, "Neg", "a", "x", "a");
  mb_output(m, "y");
  Graph *g = import_ok(m, NULL);
  assert_int_equal(g->n_nodes, 3);
  assert_string_equal(g->nodes[0]->name, "a");
  assert_string_equal(g->nodes[1]->name, "b");
  assert_string_equal(g->nodes[2]->name, "c");
  assert_ptr_equal(g->nodes[1]->in[0], g->nodes[0]->out[0]);
  assert_ptr_equal(g->nodes[2]->in[1], g->nodes[1]->out[0]);
  ir_graph_free(g);

  m = mb_new(13);
  mb_input(m, "x", F32, 1, dims, NULL);
  mb_node(m, "Neg", "head", "x", "h");
  mb_node(m, "Add", "p", "h,q", "p");
  mb_node(m, "Relu", "q", "p", "q");
  mb_output(m, "q");
  import_fails(m, NULL, "graph has a cycle through node '");
}

/* A value defined twice, by two nodes or by a node and an initializer. */
static void test_duplicate_names(void **state) {
  (void)state;
  MB *m = unary_model(13, "Relu");
  mb_node(m, "Neg", "n1", "x", "y");
  import_fails(m, NULL, "value 'y' is defined more than once");
  static const float w[] = {1};
  m = unary_model(13, "Relu");
  mb_init_f32(m, "y", 1, (const int64_t[]){1}, w, 1);
  import_fails(m, NULL, "value 'y' is defined more than once");
}

/* Symbolic dims: the error, and pinning by --batch and --input-shape. */
static void test_symbolic_dims(void **state) {
  (void)state;
  static const int64_t dims[] = {SYM, 3, 8, 8};
  MB *m = mb_new(13);
  mb_input(m, "x", F32, 4, dims, "batch_size");
  mb_output(m, "x");
  Diag d;
  Graph *g = mb_import(m, NULL, &d);
  assert_null(g);
  assert_non_null(strstr(d.msg, "vitc: error: /tmp/test_import_"));
  assert_non_null(strstr(d.msg, ": input 'x' dim 0 ('batch_size') is symbolic; pin it with "
                                "--input-shape x=... or --batch N"));

  ImportOptions batch = {.batch = 5};
  m = mb_new(13);
  mb_input(m, "x", F32, 4, dims, "batch_size");
  mb_output(m, "x");
  g = import_ok(m, &batch);
  assert_int_equal(g->inputs[0]->t.dims[0], 5);
  assert_int_equal(g->inputs[0]->t.dims[3], 8);
  assert_ptr_equal(g->outputs[0], g->inputs[0]);
  ir_graph_free(g);

  InputShape pin = {"x", 4, {2, 3, 8, 8}};
  ImportOptions pinned = {.shapes = &pin, .n_shapes = 1, .batch = 5};
  m = mb_new(13);
  mb_input(m, "x", F32, 4, dims, "batch_size");
  mb_output(m, "x");
  g = import_ok(m, &pinned);
  assert_int_equal(g->inputs[0]->t.dims[0], 2);
  ir_graph_free(g);

  static const int64_t inner[] = {1, SYM};
  m = mb_new(13);
  mb_input(m, "x", F32, 2, inner, NULL);
  mb_output(m, "x");
  import_fails(m, &batch, "input 'x' dim 1 is symbolic; pin it with --input-shape x=...");

  /* --input-shape with ? (or N) for the batch leaves it to --batch. */
  InputShape q = {"x", 4, {INPUT_SHAPE_BATCH, 3, 8, 8}};
  ImportOptions qb = {.shapes = &q, .n_shapes = 1, .batch = 6};
  m = mb_new(13);
  mb_input(m, "x", F32, 4, dims, "batch_size");
  mb_output(m, "x");
  g = import_ok(m, &qb);
  assert_int_equal(g->inputs[0]->t.dims[0], 6);
  ir_graph_free(g);
  ImportOptions qn = {.shapes = &q, .n_shapes = 1};
  m = mb_new(13);
  mb_input(m, "x", F32, 4, dims, "batch_size");
  mb_output(m, "x");
  import_fails(m, &qn, "input 'x': --input-shape leaves the batch symbolic; pin it with --batch N");
  InputShape parsed;
  Diag pd = {0};
  assert_int_equal(parse_input_shape("x=?x3x8x8", &parsed, &pd), 0);
  assert_int_equal(parsed.dims[0], INPUT_SHAPE_BATCH);
  assert_int_equal(parsed.dims[3], 8);
  free((char *)parsed.name);
  assert_int_equal(parse_input_shape("x=3x?", &parsed, &pd), -1);

  /* --batch on a model that fixes its batch pins nothing: an error that says so, unless it is a command's
   * own default (--image, inspect). */
  static const int64_t fixed[] = {2, 3};
  m = mb_new(13);
  mb_input(m, "x", F32, 2, fixed, NULL);
  mb_output(m, "x");
  import_fails(m, &batch, "--batch 5: the model fixes the batch (input 'x' has first dim 2)");
  ImportOptions quiet = {.batch = 5, .batch_is_default = 1};
  m = mb_new(13);
  mb_input(m, "x", F32, 2, fixed, NULL);
  mb_output(m, "x");
  g = import_ok(m, &quiet);
  assert_int_equal(g->inputs[0]->t.dims[0], 2);
  ir_graph_free(g);
}

/* --input-shape that disagrees with the model or names no input. */
static void test_input_shape_errors(void **state) {
  (void)state;
  static const int64_t dims[] = {SYM, 3};
  InputShape bad_rank = {"x", 3, {1, 3, 1}};
  ImportOptions o = {.shapes = &bad_rank, .n_shapes = 1};
  MB *m = mb_new(13);
  mb_input(m, "x", F32, 2, dims, "N");
  mb_output(m, "x");
  import_fails(m, &o, "rank 3");

  InputShape bad_dim = {"x", 2, {1, 4}};
  o.shapes = &bad_dim;
  m = mb_new(13);
  mb_input(m, "x", F32, 2, dims, "N");
  mb_output(m, "x");
  import_fails(m, &o, "dim 1 = 4, but the model fixes it to 3");

  InputShape other = {"z", 2, {1, 3}};
  ImportOptions o2 = {.shapes = &other, .n_shapes = 1, .batch = 1};
  m = mb_new(13);
  mb_input(m, "x", F32, 2, dims, "N");
  mb_output(m, "x");
  import_fails(m, &o2, "--input-shape names 'z', which is not an input of the model");

  m = mb_new(13);
  mb_input(m, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16, 1, (const int64_t[]){2}, NULL);
  mb_output(m, "x");
  import_fails(m, NULL, "input 'x': unsupported dtype FLOAT16");
}

/* A graph input that is also an initializer is a constant. */
static void test_input_with_initializer(void **state) {
  (void)state;
  static const int64_t dims[] = {2};
  static const float w[] = {1, 2};
  MB *m = mb_new(13);
  mb_input(m, "x", F32, 1, dims, NULL);
  mb_input(m, "w", F32, 1, dims, NULL);
  mb_init_f32(m, "w", 1, dims, w, 2);
  mb_node(m, "Mul", "n0", "x,w", "y");
  mb_output(m, "y");
  Graph *g = import_ok(m, NULL);
  assert_int_equal(g->n_inputs, 1);
  assert_string_equal(g->inputs[0]->name, "x");
  assert_int_equal(ir_value_find(g, "w")->kind, VK_CONST);
  ir_graph_free(g);
}

/* Constant nodes in each attribute form, and the forms vitc rejects. */
static void test_constant_nodes(void **state) {
  (void)state;
  static const int64_t d3[] = {3};
  static const float tf[] = {1, 2, 3};
  static const float floats[] = {0.5f, 0.25f};
  static const int64_t ints[] = {4, 5, 6};
  MB *m = mb_new(13);
  mb_node(m, "Constant", "c0", "", "t");
  Onnx__TensorProto *t = mb_tensor(m, NULL, F32, 1, d3);
  set_raw(t, tf, sizeof tf);
  mb_attr(m, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR)->t = t;
  mb_node(m, "Constant", "c1", "", "f");
  mb_attr_f(m, "value_float", 1.25f);
  mb_node(m, "Constant", "c2", "", "fs");
  Onnx__AttributeProto *a = mb_attr(m, "value_floats", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
  a->n_floats = 2;
  a->floats = (float *)floats;
  mb_node(m, "Constant", "c3", "", "i");
  mb_attr_i(m, "value_int", -7);
  mb_node(m, "Constant", "c4", "", "is");
  mb_attr_ints(m, "value_ints", 3, ints);
  mb_output(m, "t");
  Graph *g = import_ok(m, NULL);
  assert_int_equal(g->n_nodes, 0);
  const Value *v = ir_value_find(g, "t");
  assert_int_equal(v->kind, VK_CONST);
  assert_memory_equal(v->t.data, tf, sizeof tf);
  v = ir_value_find(g, "f");
  assert_int_equal(v->t.dtype, DT_F32);
  assert_int_equal(v->t.rank, 0);
  assert_true(*(float *)v->t.data == 1.25f);
  v = ir_value_find(g, "fs");
  assert_int_equal(v->t.dims[0], 2);
  assert_memory_equal(v->t.data, floats, sizeof floats);
  v = ir_value_find(g, "i");
  assert_int_equal(v->t.dtype, DT_I64);
  assert_int_equal(*(int64_t *)v->t.data, -7);
  v = ir_value_find(g, "is");
  assert_int_equal(v->t.rank, 1);
  assert_memory_equal(v->t.data, ints, sizeof ints);
  ir_graph_free(g);

  m = mb_new(13);
  mb_node(m, "Constant", "c0", "", "s");
  mb_attr(m, "sparse_value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR);
  mb_output(m, "s");
  import_fails(m, NULL, "node 'c0' (Constant): attribute 'sparse_value' is not supported");
}

/* The constant input a legacy attribute became; checks its values. */
static void expect_const_input(const Node *n, int k, int count, const int64_t *want) {
  assert_true(n->n_in > k);
  const Value *v = n->in[k];
  assert_non_null(v);
  assert_int_equal(v->kind, VK_CONST);
  assert_int_equal(v->t.dtype, DT_I64);
  assert_int_equal(v->t.rank, 1);
  assert_int_equal(v->t.dims[0], count);
  assert_memory_equal(v->t.data, want, (size_t)count * sizeof *want);
}

/* Reduce ops with an `axes` attribute before the opset that made it an input. */
static void test_legacy_reduce_axes(void **state) {
  (void)state;
  static const int64_t axes[] = {1, -1};
  MB *m = unary_model(13, "ReduceMean");
  mb_attr_ints(m, "axes", 2, axes);
  mb_attr_i(m, "keepdims", 0);
  Graph *g = import_ok(m, NULL);
  Node *n = g->nodes[0];
  assert_int_equal(n->n_in, 2);
  expect_const_input(n, 1, 2, axes);
  assert_null(ir_attr_find(n, "axes"));
  assert_int_equal(must_attr(n, "keepdims")->i, 0);
  ir_graph_free(g);

  m = unary_model(11, "ReduceSum");
  mb_attr_ints(m, "axes", 1, axes);
  g = import_ok(m, NULL);
  expect_const_input(g->nodes[0], 1, 1, axes);
  ir_graph_free(g);

  m = unary_model(17, "ReduceMax");
  g = import_ok(m, NULL);
  assert_int_equal(g->nodes[0]->n_in, 1);
  ir_graph_free(g);

  m = unary_model(13, "ReduceSum");
  mb_attr_ints(m, "axes", 1, axes);
  import_fails(m, NULL, "node 'n0' (ReduceSum): unsupported attribute 'axes'");
  m = unary_model(18, "ReduceMean");
  mb_attr_ints(m, "axes", 1, axes);
  import_fails(m, NULL, "unsupported attribute 'axes'");
}

/* Clip's min and max attributes before opset 11 become scalar f32 constant inputs 1 and 2 (issue 12). */
static void test_legacy_clip(void **state) {
  (void)state;
  MB *m = unary_model(10, "Clip");
  mb_attr_f(m, "max", 6.0f);
  mb_attr_f(m, "min", -0.5f);
  Graph *g = import_ok(m, NULL);
  Node *n = g->nodes[0];
  assert_int_equal(n->n_in, 3);
  for (int k = 1; k < 3; k++) {
    assert_int_equal(n->in[k]->kind, VK_CONST);
    assert_int_equal(n->in[k]->t.dtype, DT_F32);
    assert_int_equal(n->in[k]->t.rank, 0);
    assert_true(*(const float *)n->in[k]->t.data == (k == 1 ? -0.5f : 6.0f));
  }
  assert_int_equal(n->n_attrs, 0);
  ir_graph_free(g);

  m = unary_model(9, "Clip");
  mb_attr_f(m, "max", 1.0f);
  g = import_ok(m, NULL);
  assert_int_equal(g->nodes[0]->n_in, 3);
  assert_null(g->nodes[0]->in[1]);
  ir_graph_free(g);

  m = unary_model(10, "Clip");
  g = import_ok(m, NULL);
  assert_int_equal(g->nodes[0]->n_in, 1);
  ir_graph_free(g);

  m = unary_model(10, "Clip");
  mb_attr_i(m, "min", 0);
  import_fails(m, NULL, "node 'n0' (Clip): attribute 'min' must be a float");
  m = unary_model(13, "Clip");
  mb_attr_f(m, "min", 0.0f);
  import_fails(m, NULL, "node 'n0' (Clip): unsupported attribute 'min'");
}

/* Pad's pads and value attributes before opset 11 become an i64 input 1 and an f32 scalar input 2 (issue 12). */
static void test_legacy_pad(void **state) {
  (void)state;
  static const int64_t pads[] = {0, 1, 0, 2};
  MB *m = unary_model(10, "Pad");
  mb_attr_ints(m, "pads", 4, pads);
  mb_attr_f(m, "value", 1.5f);
  Graph *g = import_ok(m, NULL);
  Node *n = g->nodes[0];
  assert_int_equal(n->n_in, 3);
  expect_const_input(n, 1, 4, pads);
  assert_int_equal(n->in[2]->kind, VK_CONST);
  assert_int_equal(n->in[2]->t.dtype, DT_F32);
  assert_true(*(const float *)n->in[2]->t.data == 1.5f);
  assert_int_equal(n->n_attrs, 0);
  ir_graph_free(g);

  m = unary_model(9, "Pad");
  mb_attr_ints(m, "pads", 4, pads);
  g = import_ok(m, NULL);
  assert_int_equal(g->nodes[0]->n_in, 2);
  ir_graph_free(g);

  m = unary_model(10, "Pad");
  mb_attr_ints(m, "pads", 4, pads);
  mb_attr_i(m, "value", 1);
  import_fails(m, NULL, "node 'n0' (Pad): attribute 'value' must be a float");
  m = unary_model(13, "Pad");
  mb_attr_ints(m, "pads", 4, pads);
  import_fails(m, NULL, "node 'n0' (Pad): has 1 inputs, expects 2 to 4");
}

/* Squeeze, Unsqueeze and Split attributes before opset 13. */
static void test_legacy_shape_ops(void **state) {
  (void)state;
  static const int64_t axes[] = {0};
  static const int64_t split[] = {1, 2};
  MB *m = unary_model(11, "Unsqueeze");
  mb_attr_ints(m, "axes", 1, axes);
  Graph *g = import_ok(m, NULL);
  expect_const_input(g->nodes[0], 1, 1, axes);
  ir_graph_free(g);

  m = unary_model(12, "Squeeze");
  mb_attr_ints(m, "axes", 1, axes);
  g = import_ok(m, NULL);
  expect_const_input(g->nodes[0], 1, 1, axes);
  ir_graph_free(g);

  m = unary_model(11, "Squeeze");
  g = import_ok(m, NULL);
  assert_int_equal(g->nodes[0]->n_in, 1);
  ir_graph_free(g);

  m = unary_model(11, "Split");
  m->nodes[0].output = mb_list(m, "y,z", &m->nodes[0].n_output);
  mb_attr_ints(m, "split", 2, split);
  mb_attr_i(m, "axis", 1);
  g = import_ok(m, NULL);
  Node *n = g->nodes[0];
  expect_const_input(n, 1, 2, split);
  assert_int_equal(n->n_out, 2);
  assert_int_equal(must_attr(n, "axis")->i, 1);
  ir_graph_free(g);

  import_fails(unary_model(11, "Unsqueeze"), NULL, "node 'n0' (Unsqueeze): has 1 inputs, expects 2");
  m = unary_model(13, "Add");
  m->nodes[0].input = mb_list(m, "x,", &m->nodes[0].n_input);
  import_fails(m, NULL, "node 'n0' (Add): required input 1 is missing");
  m = unary_model(13, "Relu");
  m->nodes[0].output = mb_list(m, "y,z", &m->nodes[0].n_output);
  import_fails(m, NULL, "node 'n0' (Relu): has 2 outputs, expects 1");
}

/* Softmax before opset 13 gets coerce_2d and its old default axis. */
static void test_softmax_opsets(void **state) {
  (void)state;
  Graph *g = import_ok(unary_model(11, "Softmax"), NULL);
  Node *n = g->nodes[0];
  assert_int_equal(must_attr(n, "coerce_2d")->i, 1);
  assert_int_equal(must_attr(n, "axis")->i, 1);
  ir_graph_free(g);

  MB *m = unary_model(12, "Softmax");
  mb_attr_i(m, "axis", 0);
  g = import_ok(m, NULL);
  assert_int_equal(must_attr(g->nodes[0], "axis")->i, 0);
  assert_int_equal(must_attr(g->nodes[0], "coerce_2d")->i, 1);
  ir_graph_free(g);

  g = import_ok(unary_model(13, "Softmax"), NULL);
  assert_int_equal(g->nodes[0]->n_attrs, 0);
  ir_graph_free(g);
}

/* Attributes of each kind are copied; unknown ones and wrong kinds are errors. */
static void test_attributes(void **state) {
  (void)state;
  static const int64_t k[] = {3, 3};
  static const int64_t wd[] = {4, 2, 3, 3};
  static float w[72];
  static const int64_t one[] = {1};
  static const float v[] = {2.5f};
  MB *m = unary_model(13, "Conv");
  m->nodes[0].input = mb_list(m, "x,w", &m->nodes[0].n_input);
  mb_attr_ints(m, "kernel_shape", 2, k);
  Onnx__AttributeProto *a = mb_attr(m, "auto_pad", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
  a->has_s = 1;
  a->s.data = (uint8_t *)"SAME_UPPER";
  a->s.len = 10;
  mb_attr_i(m, "group", 2);
  mb_init_f32(m, "w", 4, wd, w, 72);
  mb_node(m, "ConstantOfShape", "cos", "s", "z");
  Onnx__TensorProto *t = mb_tensor(m, NULL, F32, 1, one);
  set_raw(t, v, sizeof v);
  mb_attr(m, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR)->t = t;
  mb_node(m, "Constant", "cs", "", "s");
  mb_attr_ints(m, "value_ints", 1, one);
  mb_node(m, "Gemm", "gemm", "x,x", "q");
  mb_attr_f(m, "alpha", 0.5f);
  Graph *g = import_ok(m, NULL);
  Node *conv = g->nodes[0];
  int64_t ks[4];
  assert_int_equal(ir_attr_ints(conv, "kernel_shape", ks, 4), 2);
  assert_int_equal(ks[1], 3);
  assert_string_equal(ir_attr_s(conv, "auto_pad", ""), "SAME_UPPER");
  assert_int_equal(ir_attr_i(conv, "group", 1), 2);
  const Attr *va = must_attr(g->nodes[1], "value");
  assert_int_equal(va->kind, AT_TENSOR);
  assert_int_equal(va->t->dtype, DT_F32);
  assert_true(*(float *)va->t->data == 2.5f);
  assert_true(ir_attr_f(g->nodes[2], "alpha", 1) == 0.5f);
  ir_graph_free(g);

  m = unary_model(13, "Relu");
  mb_attr_i(m, "alpha", 1);
  import_fails(m, NULL, "node 'n0' (Relu): unsupported attribute 'alpha'");
  m = unary_model(13, "Gather");
  m->nodes[0].input = mb_list(m, "x,x", &m->nodes[0].n_input);
  mb_attr_f(m, "axis", 1.0f);
  import_fails(m, NULL, "node 'n0' (Gather): attribute 'axis' is float, expected int");
}

/* Cast keeps the ONNX type number and rejects types vitc does not compute in. */
static void test_cast(void **state) {
  (void)state;
  MB *m = unary_model(13, "Cast");
  mb_attr_i(m, "to", I64);
  Graph *g = import_ok(m, NULL);
  assert_int_equal(ir_attr_i(g->nodes[0], "to", 0), I64);
  ir_graph_free(g);
  m = unary_model(13, "Cast");
  mb_attr_i(m, "to", DOUBLE);
  import_fails(m, NULL, "node 'n0' (Cast): Cast to DOUBLE is not supported");
}

/* Generated node names, absent optional inputs, trailing and middle empty outputs. */
static void test_names_and_optionals(void **state) {
  (void)state;
  static const int64_t dims[] = {2, 4};
  static const float s[4] = {1, 1, 1, 1};
  MB *m = mb_new(17);
  mb_input(m, "x", F32, 2, dims, NULL);
  mb_init_f32(m, "scale", 1, (const int64_t[]){4}, s, 4);
  mb_node(m, "Dropout", NULL, "x,,", "d,");
  mb_node(m, "LayerNormalization", "", "d,scale", "y,,inv");
  mb_output(m, "y");
  mb_output(m, "inv");
  Graph *g = import_ok(m, NULL);
  Node *drop = g->nodes[0], *ln = g->nodes[1];
  assert_string_equal(drop->name, "Dropout_0");
  assert_int_equal(drop->n_in, 3);
  assert_null(drop->in[1]);
  assert_null(drop->in[2]);
  assert_int_equal(drop->n_out, 1);
  assert_string_equal(ln->name, "LayerNormalization_1");
  assert_int_equal(ln->n_out, 3);
  assert_non_null(ln->out[1]);
  assert_ptr_equal(ln->out[1]->def, ln);
  assert_ptr_equal(g->outputs[1], ln->out[2]);
  ir_graph_free(g);
}

/* Graph outputs must be defined values. */
static void test_graph_outputs(void **state) {
  (void)state;
  MB *m = unary_model(13, "Relu");
  mb_output(m, "nowhere");
  import_fails(m, NULL, "graph output 'nowhere' is not defined");
}

/* --input-shape parsing. */
static void test_parse_input_shape(void **state) {
  (void)state;
  InputShape s;
  Diag d = {0};
  assert_int_equal(parse_input_shape("pixel_values=1x3x224x224", &s, &d), 0);
  assert_string_equal(s.name, "pixel_values");
  assert_int_equal(s.rank, 4);
  assert_int_equal(s.dims[0], 1);
  assert_int_equal(s.dims[3], 224);
  free((char *)s.name);
  assert_int_equal(parse_input_shape("a=b=7", &s, &d), 0);
  assert_string_equal(s.name, "a=b");
  assert_int_equal(s.rank, 1);
  assert_int_equal(s.dims[0], 7);
  free((char *)s.name);
  static const char *bad[] = {"x", "=1x2", "x=", "x=1xx2", "x=1x-2", "x=1x2x", "x=1x2x3x4x5x6x7x8x9",
                              "x=99999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    Diag e = {0};
    assert_int_equal(parse_input_shape(bad[i], &s, &e), -1);
    assert_non_null(strstr(e.msg, "vitc: error: "));
    assert_non_null(strstr(e.msg, "--input-shape"));
    assert_null(s.name);
  }
}

/* Packs one TensorProto into a new temporary file. */
static const char *write_tensor(const Onnx__TensorProto *t) {
  size_t n = onnx__tensor_proto__get_packed_size(t);
  uint8_t *buf = malloc(n ? n : 1);
  onnx__tensor_proto__pack(t, buf);
  const char *path = write_bytes(buf, n);
  free(buf);
  return path;
}

/* Test-data tensor files: a good one, an unsupported dtype, garbage. */
static void test_read_tensor_file(void **state) {
  (void)state;
  static const int64_t dims[] = {2, 2};
  static const float f[] = {1, 2, 3, 4};
  MB *m = mb_new(13);
  Onnx__TensorProto *t = mb_tensor(m, "input_0", F32, 2, dims);
  set_raw(t, f, sizeof f);
  const char *path = write_tensor(t);
  Tensor out;
  char *name;
  Diag d = {0};
  assert_int_equal(onnx_read_tensor_file(path, &out, &name, &d), 0);
  unlink(path);
  assert_string_equal(name, "input_0");
  assert_int_equal(out.dtype, DT_F32);
  assert_int_equal(out.rank, 2);
  assert_memory_equal(out.data, f, sizeof f);
  free(out.data);
  free(name);

  t = mb_tensor(m, "u8", UINT8, 1, dims);
  set_raw(t, f, 2);
  path = write_tensor(t);
  memset(&d, 0, sizeof d);
  assert_int_equal(onnx_read_tensor_file(path, &out, &name, &d), ONNX_UNSUPPORTED_DTYPE);
  unlink(path);
  assert_non_null(strstr(d.msg, "unsupported dtype UINT8"));
  assert_null(out.data);
  assert_null(name);
  free(m);

  path = write_bytes("\xff\xff\xff", 3);
  memset(&d, 0, sizeof d);
  assert_int_equal(onnx_read_tensor_file(path, &out, NULL, &d), -1);
  unlink(path);
  assert_non_null(strstr(d.msg, "protobuf parse failed"));
}

static int known_op(const char *op_type) { return ir_op_from_onnx(op_type) >= 0; }

/* The conformance runner's op check: all known, one unknown, a node without
 * op_type (no crash), and an unreadable file (-1, not "not selected"). */
static void test_all_ops_known(void **state) {
  (void)state;
  Diag d = {0};
  MB *m = unary_model(13, "Relu");
  const char *path = mb_write(m);
  assert_int_equal(onnx_all_ops_known(path, known_op, &d), 1);
  unlink(path);
  m->nodes[0].op_type = mb_str(m, "Hardmax");
  path = mb_write(m);
  assert_int_equal(onnx_all_ops_known(path, known_op, &d), 0);
  unlink(path);
  m->nodes[0].op_type = NULL;
  path = mb_write(m);
  assert_int_equal(onnx_all_ops_known(path, known_op, &d), 0);
  unlink(path);
  free(m);
  assert_false(d.has_error);
  assert_int_equal(onnx_all_ops_known("/nonexistent/model.onnx", known_op, &d), -1);
  assert_non_null(strstr(d.msg, "vitc: error: /nonexistent/model.onnx: cannot open"));
}

/* A model from the ONNX backend test data, when installed. */
static void test_onnx_testdata(void **state) {
  (void)state;
  const char *dir = "/usr/share/libonnx-testdata/data/node/test_unsqueeze_axis_0";
  char path[256];
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  if (access(path, R_OK) != 0) skip();
  Diag d = {0};
  Graph *g = onnx_import(path, NULL, &d);
  if (!g) fail_msg("%s", d.msg);
  assert_int_equal(g->n_nodes, 1);
  assert_int_equal(g->nodes[0]->op, OP_UNSQUEEZE);
  ir_graph_free(g);
  snprintf(path, sizeof path, "%s/test_data_set_0/input_0.pb", dir);
  Tensor t;
  assert_int_equal(onnx_read_tensor_file(path, &t, NULL, &d), 0);
  assert_int_equal(t.dtype, DT_F32);
  assert_int_equal(t.rank, 3);
  free(t.data);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_basic_graph),
      cmocka_unit_test(test_typed_initializers),
      cmocka_unit_test(test_raw_data_in_place),
      cmocka_unit_test(test_strip_refuses),
      cmocka_unit_test(test_half_to_float),
      cmocka_unit_test(test_initializer_errors),
      cmocka_unit_test(test_external_data_refused),
      cmocka_unit_test(test_bad_files),
      cmocka_unit_test(test_message_one_line),
      cmocka_unit_test(test_opset_range),
      cmocka_unit_test(test_unsupported_op),
      cmocka_unit_test(test_dangling_input),
      cmocka_unit_test(test_topological_order),
      cmocka_unit_test(test_duplicate_names),
      cmocka_unit_test(test_symbolic_dims),
      cmocka_unit_test(test_input_shape_errors),
      cmocka_unit_test(test_input_with_initializer),
      cmocka_unit_test(test_constant_nodes),
      cmocka_unit_test(test_legacy_reduce_axes),
      cmocka_unit_test(test_legacy_shape_ops),
      cmocka_unit_test(test_legacy_clip),
      cmocka_unit_test(test_legacy_pad),
      cmocka_unit_test(test_softmax_opsets),
      cmocka_unit_test(test_attributes),
      cmocka_unit_test(test_cast),
      cmocka_unit_test(test_names_and_optionals),
      cmocka_unit_test(test_graph_outputs),
      cmocka_unit_test(test_parse_input_shape),
      cmocka_unit_test(test_read_tensor_file),
      cmocka_unit_test(test_all_ops_known),
      cmocka_unit_test(test_onnx_testdata),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
