/* Reference interpreter: runs a shape-inferred graph node by node with plain
 * C kernels (ir/interp_*.c). Slow but simple; the compiled code is checked
 * against it. */
#include "interp.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The kernel of every op, indexed by OpKind. */
static const InterpFn kernels[OP_COUNT] = {
#define OP(ID, name, ...) [OP_##ID] = interp_##name,
#include "ops.def"
#undef OP
};

/* ---- helpers shared by the kernel files ---- */

void interp_iter_init(InterpIter *it, const Tensor *shape, int n_ops) {
  memset(it, 0, sizeof *it);
  it->rank = shape->rank;
  it->n_ops = n_ops;
  for (int a = 0; a < shape->rank; a++) it->dims[a] = shape->dims[a];
}

int interp_iter_broadcast(InterpIter *it, int k, const Tensor *t, const Node *n, Diag *d) {
  int64_t st[IR_MAX_RANK];
  interp_strides(t, st);
  int lead = it->rank - t->rank;
  for (int a = 0; a < it->rank; a++) {
    int ta = a - lead;
    it->strides[k][a] = (ta < 0 || t->dims[ta] == 1) ? 0 : st[ta];
  }
  for (int ta = 0; ta < t->rank; ta++)
    if (lead < 0 || (t->dims[ta] != 1 && t->dims[ta] != it->dims[ta + lead])) {
      char a[128];
      return ir_error(d, NULL, n, "operand %s does not broadcast to the output shape",
                      tensor_type_str(t, a, sizeof a));
    }
  return 0;
}

void interp_strides(const Tensor *t, int64_t *strides) {
  int64_t s = 1;
  for (int a = t->rank - 1; a >= 0; a--) {
    strides[a] = s;
    s *= t->dims[a];
  }
}

int64_t interp_dims_prod(const Tensor *t, int lo, int hi) {
  int64_t p = 1;
  for (int a = lo; a < hi; a++) p *= t->dims[a];
  return p;
}

int interp_bad_dtype(Diag *d, const Node *n, const char *what, const Tensor *t) {
  char buf[128];
  return ir_error(d, NULL, n, "%s has unsupported type %s", what, tensor_type_str(t, buf, sizeof buf));
}

int interp_check_numel(Diag *d, const Node *n, const Tensor *in, const Tensor *out) {
  if (in->dtype == out->dtype && tensor_numel(in) == tensor_numel(out)) return 0;
  char a[128], b[128];
  return ir_error(d, NULL, n, "cannot reinterpret %s as %s", tensor_type_str(in, a, sizeof a),
                  tensor_type_str(out, b, sizeof b));
}

/* ---- one node ---- */

int ir_interp_node(const Node *n, const Tensor *in, Tensor *out, Diag *d) {
  if ((unsigned)n->op >= OP_COUNT) return ir_error(d, NULL, n, "unknown op %d", (int)n->op);
  return kernels[n->op](n, in, out, d);
}

/* ---- whole graph ---- */

/* Per-run state: a tensor slot per value, which slots own malloc'd data, and
 * the index of the last node reading each value (INT_MAX: keep to the end). */
typedef struct Run {
  const Graph *g;
  InterpObserver observe;
  void *observe_ctx;
  Tensor *slot;
  unsigned char *owned;
  int *last_use;
} Run;

/* Frees every buffer the run still owns and its bookkeeping. */
static void run_free(Run *r) {
  if (r->slot && r->owned)
    for (int i = 0; i < r->g->n_values; i++)
      if (r->owned[i]) free(r->slot[i].data);
  free(r->slot);
  free(r->owned);
  free(r->last_use);
}

/* Marks, for each value, the last node that reads it; graph outputs are kept. */
static void compute_last_use(const Graph *g, int *last_use) {
  for (int i = 0; i < g->n_values; i++) last_use[i] = -1;
  for (int k = 0; k < g->n_nodes; k++)
    for (int i = 0; i < g->nodes[k]->n_in; i++)
      if (g->nodes[k]->in[i]) last_use[g->nodes[k]->in[i]->id] = k;
  for (int i = 0; i < g->n_outputs; i++) last_use[g->outputs[i]->id] = INT_MAX;
}

/* Fills the slots of constants and of graph inputs (checked against the model's types). */
static int bind_inputs(Run *r, const Tensor *inputs, Diag *d) {
  const Graph *g = r->g;
  for (int i = 0; i < g->n_values; i++)
    if (g->values[i]->kind == VK_CONST) r->slot[i] = g->values[i]->t;
  for (int i = 0; i < g->n_inputs; i++) {
    const Value *v = g->inputs[i];
    if (!tensor_same_type(&inputs[i], &v->t)) {
      char a[128], b[128];
      return ir_error(d, g->file, NULL, "input '%s' has shape %s, model expects %s", v->name,
                      tensor_type_str(&inputs[i], a, sizeof a), tensor_type_str(&v->t, b, sizeof b));
    }
    if (!inputs[i].data && tensor_bytes(&inputs[i]))
      return ir_error(d, g->file, NULL, "input '%s' has no data", v->name);
    r->slot[v->id] = inputs[i];
  }
  return 0;
}

/* Allocates zeroed data for node n's outputs from the types shape inference set. */
static int alloc_outputs(Run *r, const Node *n, Tensor *out, Diag *d) {
  for (int j = 0; j < n->n_out; j++) {
    memset(&out[j], 0, sizeof out[j]);
    const Value *v = n->out[j];
    if (!v) continue;
    if (v->t.dtype == DT_UNDEF)
      return ir_error(d, NULL, n, "output '%s' has no type (run shape inference first)", v->name);
    if (r->owned[v->id]) { /* only if a value were defined twice */
      free(r->slot[v->id].data);
      r->owned[v->id] = 0;
    }
    out[j] = v->t;
    size_t bytes = tensor_bytes(&v->t);
    out[j].data = calloc(1, bytes ? bytes : 1); /* never NULL for empty tensors */
    if (!out[j].data) return ir_error(d, NULL, n, "out of memory (%zu bytes)", bytes);
    r->slot[v->id] = out[j];
    r->owned[v->id] = 1;
  }
  return 0;
}

/* Frees the buffers whose last reader is node k (and outputs nobody reads). */
static void release_dead(Run *r, int k) {
  const Node *n = r->g->nodes[k];
  for (int i = 0; i < n->n_in + n->n_out; i++) {
    const Value *v = i < n->n_in ? n->in[i] : n->out[i - n->n_in];
    if (!v || !r->owned[v->id] || r->last_use[v->id] > k) continue;
    free(r->slot[v->id].data);
    r->slot[v->id].data = NULL;
    r->owned[v->id] = 0;
  }
}

/* Runs node k: gathers its input slots, allocates its outputs, calls the kernel. */
static int run_node(Run *r, int k, Diag *d) {
  const Node *n = r->g->nodes[k];
  Tensor in[IR_MAX_INPUTS], out[IR_MAX_OUTPUTS];
  if (n->n_in > IR_MAX_INPUTS || n->n_out > IR_MAX_OUTPUTS)
    return ir_error(d, NULL, n, "too many inputs or outputs");
  for (int i = 0; i < n->n_in; i++) {
    memset(&in[i], 0, sizeof in[i]);
    if (!n->in[i]) continue;
    in[i] = r->slot[n->in[i]->id];
    if (in[i].dtype == DT_UNDEF || (!in[i].data && tensor_bytes(&in[i])))
      return ir_error(d, NULL, n, "input '%s' has no value%s", n->in[i]->name,
                      n->in[i]->has_digest ? " (a `blob` constant: IR text elides large constants' data)" : "");
  }
  if (alloc_outputs(r, n, out, d) || ir_interp_node(n, in, out, d)) return -1;
  if (r->observe && r->observe(r->observe_ctx, n, in, out, d)) return -1;
  release_dead(r, k);
  return 0;
}

/* Hands graph output i to the caller: moves the buffer when the run owns it, else copies. */
static int take_output(Run *r, int i, Tensor *o, Diag *d) {
  const Value *v = r->g->outputs[i];
  Tensor *s = &r->slot[v->id];
  *o = *s;
  if (r->owned[v->id]) {
    r->owned[v->id] = 0; /* a second output naming the same value copies from it below */
    return 0;
  }
  o->data = NULL;
  size_t bytes = tensor_bytes(s);
  if (!s->data && bytes) return ir_error(d, r->g->file, NULL, "output '%s' was never computed", v->name);
  void *p = malloc(bytes ? bytes : 1);
  if (!p) return ir_error(d, r->g->file, NULL, "out of memory (%zu bytes)", bytes);
  if (bytes) memcpy(p, s->data, bytes);
  o->data = p;
  return 0;
}

int ir_interpret(const Graph *g, const Tensor *inputs, Tensor *outputs, Diag *d) {
  return ir_interpret_observed(g, inputs, outputs, NULL, NULL, d);
}

int ir_interpret_observed(const Graph *g, const Tensor *inputs, Tensor *outputs, InterpObserver observe,
                          void *ctx, Diag *d) {
  Run r = {g, observe, ctx, NULL, NULL, NULL};
  int nv = g->n_values ? g->n_values : 1;
  for (int i = 0; i < g->n_outputs; i++) memset(&outputs[i], 0, sizeof outputs[i]);
  r.slot = calloc((size_t)nv, sizeof *r.slot);
  r.owned = calloc((size_t)nv, 1);
  r.last_use = calloc((size_t)nv, sizeof *r.last_use);
  if (!r.slot || !r.owned || !r.last_use) {
    run_free(&r);
    return ir_error(d, g->file, NULL, "out of memory");
  }
  compute_last_use(g, r.last_use);
  const char *saved = d->file; /* node errors name the model file */
  d->file = g->file;
  int rc = bind_inputs(&r, inputs, d);
  for (int k = 0; k < g->n_nodes && !rc; k++) rc = run_node(&r, k, d);
  for (int i = 0; i < g->n_outputs && !rc; i++) rc = take_output(&r, i, &outputs[i], d);
  if (rc) {
    /* Outputs already moved out are no longer in r; free them here. */
    for (int i = 0; i < g->n_outputs; i++) {
      free(outputs[i].data);
      outputs[i].data = NULL;
    }
  }
  run_free(&r);
  d->file = saved;
  return rc;
}
