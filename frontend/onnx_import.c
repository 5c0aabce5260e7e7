/* ONNX model import: file, opset, initializers, graph inputs and outputs.
 * Nodes are converted in onnx_nodes.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

#define OPSET_MIN 9
#define OPSET_MAX 21

/* What an imported graph borrows, released with it (Graph.release): constants point into the mapped model
 * (initializers' raw_data, onnx_strip.c), the unpacked message and the mapped external-data files. */
typedef struct ModelHold {
  Onnx__ModelProto *model;
  MappedFile file;     /* the model, kept mapped when initializers' raw_data points into it */
  int raw_in_file;     /* the model's initializers' raw_data point into `file` (reset before freeing) */
  ExternalFiles external;
} ModelHold;

static void release_model(void *ctx) {
  ModelHold *h = ctx;
  if (h->model && h->raw_in_file) /* not protobuf-c's to free */
    for (size_t i = 0; i < h->model->graph->n_initializer; i++) {
      h->model->graph->initializer[i]->raw_data.data = NULL;
      h->model->graph->initializer[i]->raw_data.len = 0;
    }
  if (h->model) onnx__model_proto__free_unpacked(h->model, NULL);
  onnx_unmap_file(&h->file);
  onnx_external_free(&h->external);
  free(h);
}

/* Graph.evict: the pages of the mapped model and external-data files. */
static void evict_model(void *ctx) {
  const ModelHold *h = ctx;
  onnx_release_pages(&h->file, h->file.ptr, h->file.size);
  onnx_external_evict(&h->external);
}

/* Unpacks the model mapped in h->file without copying its initializers' raw_data: the stripped message is
 * unpacked and each initializer's raw_data pointed back into the mapping (h->raw_in_file). NULL when the
 * file is not laid out as expected or the result does not match it (then the caller unpacks the file). */
static Onnx__ModelProto *unpack_in_place(ModelHold *h) {
  uint8_t *buf;
  size_t len;
  OnnxRawSpans spans;
  if (onnx_strip_raw_data(h->file.ptr, h->file.size, &buf, &len, &spans)) return NULL;
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
  free(buf);
  int ok = m && m->graph && m->graph->n_initializer == spans.n;
  for (size_t i = 0; ok && i < spans.n; i++) {
    const Onnx__TensorProto *tp = m->graph->initializer[i];
    ok = spans.v[i].p ? tp->has_raw_data && tp->raw_data.len == 0 && !tp->raw_data.data : !tp->has_raw_data;
  }
  for (size_t i = 0; ok && i < spans.n; i++)
    if (spans.v[i].p) {
      m->graph->initializer[i]->raw_data.data = (uint8_t *)spans.v[i].p;
      m->graph->initializer[i]->raw_data.len = spans.v[i].len;
    }
  free(spans.v);
  if (!ok && m) onnx__model_proto__free_unpacked(m, NULL);
  h->raw_in_file = ok;
  return ok ? m : NULL;
}

/* Maps and unpacks the model at path into h (h->model); -1 with d filled. */
static int load_model(const char *path, ModelHold *h, Diag *d) {
  if (onnx_map_file(path, &h->file, d) < 0) return -1;
  if (h->file.ptr && (h->model = unpack_in_place(h))) return 0;
  h->model = (Onnx__ModelProto *)onnx_unpack_mapped(&h->file, &onnx__model_proto__descriptor, "ONNX model", path, d);
  onnx_unmap_file(&h->file); /* protobuf-c copied every bytes field it kept */
  return h->model ? 0 : -1;
}

/* True for the names of the default ONNX operator domain. */
static int is_default_domain(const char *domain) {
  return !domain || !*domain || strcmp(domain, "ai.onnx") == 0;
}

/* The default-domain opset of the model, or -1 with d filled. */
static int64_t model_opset(const Onnx__ModelProto *m, const char *file, Diag *d) {
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *os = m->opset_import[i];
    if (!is_default_domain(os->domain)) continue;
    int64_t v = os->has_version ? os->version : 0;
    if (v < OPSET_MIN || v > OPSET_MAX) {
      ir_error(d, file, NULL, "opset %lld is not supported (vitc supports opsets %d to %d)",
               (long long)v, OPSET_MIN, OPSET_MAX);
      return -1;
    }
    return v;
  }
  ir_error(d, file, NULL, "model imports no default-domain (ai.onnx) opset");
  return -1;
}

/* Creates a value under a name not used before; errors on duplicates. */
Value *import_value(ImportCtx *c, const char *name, ValueKind kind) {
  if (!name || !*name) {
    ir_error(c->d, c->file, NULL, "a value has an empty name");
    return NULL;
  }
  if (name_map_get(&c->values, name)) {
    ir_error(c->d, c->file, NULL, "value '%s' is defined more than once", name);
    return NULL;
  }
  Value *v = ir_value_new(c->g, name, kind, c->d);
  if (!v) return NULL;
  if (name_map_put(&c->values, v->name, v) < 0) {
    ir_error(c->d, c->file, NULL, "out of memory");
    return NULL;
  }
  return v;
}

/* Turns every initializer into a VK_CONST value (data borrowed when aligned, from the message or the mapped
 * external-data file). */
static int import_initializers(ImportCtx *c) {
  if (c->gp->n_sparse_initializer)
    return ir_error(c->d, c->file, NULL, "sparse initializers are not supported");
  TensorSink sink = {&c->g->arena, 1, c->external, c->model_file};
  for (size_t i = 0; i < c->gp->n_initializer; i++) {
    const Onnx__TensorProto *tp = c->gp->initializer[i];
    char what[300];
    snprintf(what, sizeof what, "initializer '%.256s'", pb_str(tp->name));
    Tensor t;
    if (onnx_decode_tensor(tp, &sink, &t, c->file, what, c->d) != 0) return -1;
    Value *v = import_value(c, pb_str(tp->name), VK_CONST);
    if (!v) return -1;
    v->t = t;
  }
  return 0;
}

/* The --input-shape entry for `name`, or NULL. */
static const InputShape *find_pin(const ImportOptions *opt, const char *name) {
  for (int i = 0; opt && i < opt->n_shapes; i++)
    if (opt->shapes[i].name && strcmp(opt->shapes[i].name, name) == 0) return &opt->shapes[i];
  return NULL;
}

/* Reports a symbolic dim nothing pinned, naming its parameter when it has one. */
static int symbolic_dim_error(ImportCtx *c, const char *name, int k,
                              const Onnx__TensorShapeProto__Dimension *dim) {
  char param[300] = "";
  if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && dim->dim_param &&
      *dim->dim_param)
    snprintf(param, sizeof param, " ('%.256s')", dim->dim_param);
  return ir_error(c->d, c->file, NULL,
                  "input '%s' dim %d%s is symbolic; pin it with --input-shape %s=...%s", name, k,
                  param, name, k == 0 ? " or --batch N" : "");
}

/* One dim of an input: its fixed value, else the pinned one; -1 when neither. */
static int resolve_dim(ImportCtx *c, const char *name, int k,
                       const Onnx__TensorShapeProto__Dimension *dim, const InputShape *pin,
                       int64_t *out) {
  if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
    if (dim->dim_value < 0)
      return ir_error(c->d, c->file, NULL, "input '%s' dim %d is negative", name, k);
    if (pin && pin->dims[k] != dim->dim_value && !(k == 0 && pin->dims[0] == INPUT_SHAPE_BATCH))
      return ir_error(c->d, c->file, NULL,
                      "--input-shape gives input '%s' dim %d = %lld, but the model fixes it to %lld",
                      name, k, (long long)pin->dims[k], (long long)dim->dim_value);
    *out = dim->dim_value;
    if (k == 0 && !pin && c->opt && c->opt->batch > 0 && dim->dim_value != c->opt->batch && !c->batch_fixed_input)
      c->batch_fixed_input = name, c->batch_fixed_dim = dim->dim_value;
  } else if (pin && !(k == 0 && pin->dims[0] == INPUT_SHAPE_BATCH)) {
    *out = pin->dims[k];
  } else if (k == 0 && c->opt && c->opt->batch > 0) {
    *out = c->opt->batch;
    c->batch_pinned++;
  } else if (pin) {
    return ir_error(c->d, c->file, NULL, "input '%s': --input-shape leaves the batch symbolic; pin it with --batch N "
                    "(or compile with --dynamic-batch)", name);
  } else {
    return symbolic_dim_error(c, name, k, dim);
  }
  return 0;
}

/* Static shape of a graph input from the model and the pinning options. */
static int resolve_input_shape(ImportCtx *c, const char *name, const Onnx__TensorShapeProto *sp,
                               Tensor *t) {
  const InputShape *pin = find_pin(c->opt, name);
  if (!sp) {
    if (!pin)
      return ir_error(c->d, c->file, NULL,
                      "input '%s' has no shape; give it with --input-shape %s=...", name, name);
    t->rank = pin->rank;
    memcpy(t->dims, pin->dims, sizeof t->dims);
    if (t->rank > 0 && t->dims[0] == INPUT_SHAPE_BATCH) {
      if (!(c->opt && c->opt->batch > 0))
        return ir_error(c->d, c->file, NULL, "input '%s': --input-shape leaves the batch symbolic; pin it with "
                        "--batch N (or compile with --dynamic-batch)", name);
      t->dims[0] = c->opt->batch;
      c->batch_pinned++;
    }
    return 0;
  }
  if (sp->n_dim > IR_MAX_RANK)
    return ir_error(c->d, c->file, NULL, "input '%s' has rank %zu, vitc supports at most %d",
                    name, sp->n_dim, IR_MAX_RANK);
  if (pin && (size_t)pin->rank != sp->n_dim)
    return ir_error(c->d, c->file, NULL,
                    "--input-shape gives input '%s' rank %d, but the model's input has rank %zu",
                    name, pin->rank, sp->n_dim);
  t->rank = (int)sp->n_dim;
  for (int k = 0; k < t->rank; k++)
    if (resolve_dim(c, name, k, sp->dim[k], pin, &t->dims[k]) < 0) return -1;
  return 0;
}

/* Adds one graph input (skipped when an initializer already defines it). */
static int import_input(ImportCtx *c, const Onnx__ValueInfoProto *vi) {
  const char *name = pb_str(vi->name);
  const Value *known = name_map_get(&c->values, name);
  if (known && known->kind == VK_CONST) return 0;
  const Onnx__TypeProto *tp = vi->type;
  if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
    return ir_error(c->d, c->file, NULL, "input '%s' is not a tensor", name);
  const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
  int elem = tt->has_elem_type ? tt->elem_type : 0;
  Tensor t = {0};
  t.dtype = dt_from_onnx(elem);
  if (t.dtype == DT_UNDEF) {
    c->d->unsupported_dtype = 1;
    return ir_error(c->d, c->file, NULL, "input '%s': unsupported dtype %s", name,
                    onnx_dtype_name(elem));
  }
  if (resolve_input_shape(c, name, tt->shape, &t) < 0) return -1;
  Value *v = import_value(c, name, VK_INPUT);
  if (!v) return -1;
  v->t = t;
  return ir_graph_add_input(c->g, v, c->d);
}

/* Adds the graph inputs and checks that every --input-shape names one, and that --batch pinned something. */
static int import_inputs(ImportCtx *c) {
  for (size_t i = 0; i < c->gp->n_input; i++)
    if (import_input(c, c->gp->input[i]) < 0) return -1;
  if (c->opt && !c->opt->batch_is_default && !c->batch_pinned && c->batch_fixed_input)
  {
    char opt[64];
    if (c->opt->batch_option) snprintf(opt, sizeof opt, "%s", c->opt->batch_option);
    else snprintf(opt, sizeof opt, "--batch %lld", (long long)c->opt->batch);
    return ir_error(c->d, c->file, NULL, "%s: the model fixes the batch (input '%s' has first dim %lld); "
                    "this needs a symbolic batch (re-export with a dynamic batch axis)", opt, c->batch_fixed_input,
                    (long long)c->batch_fixed_dim);
  }
  for (int i = 0; c->opt && i < c->opt->n_shapes; i++) {
    const char *name = pb_str(c->opt->shapes[i].name);
    const Value *v = name_map_get(&c->values, name);
    if (!v || v->kind != VK_INPUT)
      return ir_error(c->d, c->file, NULL, "--input-shape names '%s', which is not an input of the model",
                      name);
  }
  return 0;
}

/* Marks the graph outputs, each of which must name a defined value. */
static int import_outputs(ImportCtx *c) {
  if (!c->gp->n_output) return ir_error(c->d, c->file, NULL, "graph has no outputs");
  for (size_t i = 0; i < c->gp->n_output; i++) {
    const char *name = pb_str(c->gp->output[i]->name);
    Value *v = name_map_get(&c->values, name);
    if (!v) return ir_error(c->d, c->file, NULL, "graph output '%s' is not defined", name);
    if (ir_graph_add_output(c->g, v, c->d) < 0) return -1;
  }
  return 0;
}

/* Builds the graph's contents from the message, stage by stage; the ops are checked first, so a model vitc
 * cannot compile says so, with every op it lacks, before anything about its inputs. */
static int import_graph(ImportCtx *c) {
  if (import_check_ops(c) < 0) return -1;
  size_t expected = c->gp->n_initializer + c->gp->n_input + 2 * c->gp->n_node + 16;
  if (name_map_init(&c->values, expected) < 0) return ir_error(c->d, c->file, NULL, "out of memory");
  int rc = -1;
  if (import_initializers(c) == 0 && import_inputs(c) == 0 && import_nodes(c) == 0 &&
      import_outputs(c) == 0)
    rc = 0;
  name_map_free(&c->values);
  return rc;
}

/* Copies the model's metadata_props (a later duplicate key wins, as in a map). */
static int import_metadata(const Onnx__ModelProto *m, Graph *g, Diag *d) {
  for (size_t i = 0; i < m->n_metadata_props; i++) {
    const Onnx__StringStringEntryProto *e = m->metadata_props[i];
    if (e->key && *e->key && ir_meta_set(g, e->key, e->value ? e->value : "", d)) return -1;
  }
  return 0;
}

/* Imports an ONNX model file; see onnx_import.h. */
Graph *onnx_import(const char *path, const ImportOptions *opt, Diag *d) {
  ModelHold *h = calloc(1, sizeof *h);
  if (!h) {
    ir_error(d, path, NULL, "out of memory");
    return NULL;
  }
  if (load_model(path, h, d)) {
    release_model(h);
    return NULL;
  }
  Onnx__ModelProto *m = h->model;
  if (!m->graph) {
    ir_error(d, path, NULL, "model has no graph");
    release_model(h);
    return NULL;
  }
  int64_t opset = model_opset(m, path, d);
  Graph *g = opset < 0 ? NULL : ir_graph_new(path);
  if (!g) {
    if (opset >= 0) ir_error(d, path, NULL, "out of memory");
    release_model(h);
    return NULL;
  }
  g->opset = opset;
  g->release = release_model;
  g->evict = evict_model;
  g->release_ctx = h;
  h->external.model = g->file; /* locations are resolved against the model's folder */
  ImportCtx c = {.file = path, .d = d, .g = g, .gp = m->graph, .opt = opt, .opset = opset,
                 .external = &h->external, .model_file = h->raw_in_file ? &h->file : NULL};
  if (import_metadata(m, g, d) < 0 || import_graph(&c) < 0) {
    ir_graph_free(g); /* also frees the message and unmaps the external data through g->release */
    return NULL;
  }
  return g;
}

/* Parses one dimension of an --input-shape; -1 when not a non-negative integer. */
static int parse_dim(const char *s, const char *end, int64_t *out) {
  if (s == end) return -1;
  int64_t v = 0;
  for (; s < end; s++) {
    if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10) return -1;
    v = v * 10 + (*s - '0');
  }
  *out = v;
  return 0;
}

/* Parses "NAME=1x3x224x224"; see onnx_import.h. */
int parse_input_shape(const char *arg, InputShape *out, Diag *d) {
  memset(out, 0, sizeof *out);
  const char *eq = strrchr(arg, '=');
  if (!eq || eq == arg || !eq[1])
    return ir_error(d, NULL, NULL, "--input-shape '%s': expected NAME=D1xD2x...", arg);
  const char *s = eq + 1;
  while (1) {
    const char *x = strchr(s, 'x');
    const char *end = x ? x : s + strlen(s);
    if (out->rank == IR_MAX_RANK)
      return ir_error(d, NULL, NULL, "--input-shape '%s': more than %d dims", arg, IR_MAX_RANK);
    if (out->rank == 0 && end - s == 1 && (*s == '?' || *s == 'N')) /* the batch, left symbolic */
      out->dims[0] = INPUT_SHAPE_BATCH;
    else if (parse_dim(s, end, &out->dims[out->rank]) < 0)
      return ir_error(d, NULL, NULL, "--input-shape '%s': dim %d is not a non-negative integer%s", arg,
                      out->rank, out->rank ? "" : " (or ? / N for a symbolic batch)");
    out->rank++;
    if (!x) break;
    s = x + 1;
  }
  char *name = strndup(arg, (size_t)(eq - arg));
  if (!name) return ir_error(d, NULL, NULL, "out of memory");
  out->name = name;
  return 0;
}
