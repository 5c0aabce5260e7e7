/* Helpers shared by the fusion passes (see fuse_util.h): readers, match
 * sets, constants and building fused nodes. */
#include "fuse_util.h"
#include "pass_util.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- readers ---- */

/* Counts, then lists, the readers of every value (CSR layout). */
int fuse_users_build(const Graph *g, FuseUsers *u, Diag *d) {
  memset(u, 0, sizeof *u);
  int nv = g->n_values, total = 0;
  u->n_values = nv;
  u->start = calloc((size_t)nv + 1, sizeof *u->start);
  u->count = calloc((size_t)nv + 1, sizeof *u->count);
  u->output = calloc((size_t)nv + 1, 1);
  if (!u->start || !u->count || !u->output) goto oom;
  for (int k = 0; k < g->n_nodes; k++) {
    const Node *n = g->nodes[k];
    for (int i = 0; i < n->n_in && !n->removed; i++)
      if (n->in[i] && n->in[i]->id < nv) u->count[n->in[i]->id]++, total++;
  }
  for (int v = 0, s = 0; v < nv; v++) {
    u->start[v] = s;
    s += u->count[v];
    u->count[v] = 0;
  }
  u->list = malloc(sizeof *u->list * (size_t)(total + 1));
  if (!u->list) goto oom;
  for (int k = 0; k < g->n_nodes; k++) {
    Node *n = g->nodes[k];
    for (int i = 0; i < n->n_in && !n->removed; i++)
      if (n->in[i] && n->in[i]->id < nv) {
        int v = n->in[i]->id;
        u->list[u->start[v] + u->count[v]++] = n;
      }
  }
  for (int i = 0; i < g->n_outputs; i++)
    if (g->outputs[i]->id < nv) u->output[g->outputs[i]->id] = 1;
  return 0;
oom:
  fuse_users_free(u);
  return ir_error(d, g->file, NULL, "out of memory");
}

/* Frees the reader index. */
void fuse_users_free(FuseUsers *u) {
  free(u->start);
  free(u->count);
  free(u->list);
  free(u->output);
  memset(u, 0, sizeof *u);
}

/* Reads of v plus one when it is a graph output; values newer than the index count as used. */
int fuse_uses(const FuseUsers *u, const Value *v) {
  if (v->id >= u->n_values) return 1 << 20;
  return u->count[v->id] + u->output[v->id];
}

/* The one reader of v, or NULL. */
Node *fuse_sole_user(const FuseUsers *u, const Value *v) {
  if (fuse_uses(u, v) != 1 || u->count[v->id] != 1) return NULL;
  return u->list[u->start[v->id]];
}

/* ---- match sets ---- */

/* Adds n to the match once. */
void fuse_match_add(FuseMatch *m, Node *n) {
  if (!n || fuse_match_has(m, n)) return;
  if (m->n == FUSE_MAX_NODES) {
    m->overflow = 1;
    return;
  }
  m->nodes[m->n++] = n;
}

/* Whether n is in the match. */
int fuse_match_has(const FuseMatch *m, const Node *n) {
  for (int i = 0; i < m->n; i++)
    if (m->nodes[i] == n) return 1;
  return 0;
}

/* First value defined in m (not `result`) with a reader outside m. */
const Value *fuse_match_leak(const FuseMatch *m, const FuseUsers *u, const Value *result) {
  for (int i = 0; i < m->n; i++) {
    const Node *n = m->nodes[i];
    for (int j = 0; j < n->n_out; j++) {
      const Value *v = n->out[j];
      if (!v || v == result) continue;
      if (v->id >= u->n_values || u->output[v->id]) return v;
      for (int k = 0; k < u->count[v->id]; k++)
        if (!fuse_match_has(m, u->list[u->start[v->id] + k])) return v;
    }
  }
  return NULL;
}

/* Marks every matched node removed. */
void fuse_match_remove(FuseMatch *m) {
  for (int i = 0; i < m->n; i++) ir_node_remove(m->nodes[i]);
}

/* ---- constants ---- */

/* Data of a constant or of a value shape inference computed. */
const Tensor *fuse_data(const Value *v) {
  if (!v || !v->t.data) return NULL;
  return v->kind == VK_CONST || v->data_inferred ? &v->t : NULL;
}

/* The value of a known single-element tensor. */
int fuse_scalar(const Value *v, double *x) {
  const Tensor *t = fuse_data(v);
  if (!t || tensor_numel(t) != 1) return 0;
  if (t->dtype == DT_F32) *x = ((const float *)t->data)[0];
  else if (t->dtype == DT_I64 || t->dtype == DT_I32) *x = (double)tensor_get_i64(t, 0);
  else return 0;
  return 1;
}

int fuse_near(double a, double want) { return fabs(a - want) <= FUSE_RTOL * fabs(want); }

/* Whether v is a known scalar near want. */
int fuse_is_scalar(const Value *v, double want) {
  double x;
  return fuse_scalar(v, &x) && fuse_near(x, want);
}

/* The other operand of a binary node. */
Value *fuse_other(const Node *n, const Value *v) {
  if (n->n_in != 2) return NULL;
  if (n->in[0] == v) return n->in[1];
  if (n->in[1] == v) return n->in[0];
  return NULL;
}

/* A new constant with zeroed arena data. */
Value *fuse_const_alloc(Graph *g, const char *base, DType dt, int rank, const int64_t *dims, Diag *d) {
  return ir_const_new(g, base, dt, rank, dims, NULL, d);
}

/* v, or a copy of its data under new dims. */
Value *fuse_const_as(Graph *g, Value *v, int rank, const int64_t *dims, Diag *d) {
  int same = v->kind == VK_CONST && v->t.rank == rank;
  for (int i = 0; same && i < rank; i++) same = v->t.dims[i] == dims[i];
  if (same) return v;
  Value *c = fuse_const_alloc(g, v->name, v->t.dtype, rank, dims, d);
  if (c) memcpy(c->t.data, v->t.data, tensor_bytes(&c->t));
  return c;
}

/* ---- building ---- */

/* A node name next to `name` (same path prefix). */
const char *fuse_name(Graph *g, const char *name, const char *suffix, Diag *d) {
  const char *slash = strrchr(name, '/');
  size_t keep = slash ? (size_t)(slash - name) : 0, len = keep + strlen(suffix) + 2;
  char *s = arena_alloc(&g->arena, len);
  if (!s) {
    ir_error(d, g->file, NULL, "out of memory");
    return NULL;
  }
  memcpy(s, name, keep);
  s[keep] = 0;
  if (slash) strcat(s, "/");
  strcat(s, suffix);
  return s;
}

/* A fresh f32 node output. */
Value *fuse_value(Graph *g, const char *base, int rank, const int64_t *dims, Diag *d) {
  const char *name = ir_unique_name(g, base, d);
  Value *v = name ? ir_value_new(g, name, VK_NODE, d) : NULL;
  if (!v) return NULL;
  v->t.dtype = DT_F32;
  v->t.rank = rank;
  for (int i = 0; i < rank; i++) v->t.dims[i] = dims[i];
  return v;
}

/* A node defining out (its old producer is being removed). */
Node *fuse_emit(Graph *g, OpKind op, const char *name, Value *const *in, int n_in, Value *out, Diag *d) {
  Node *n = ir_node_new(g, op, name, n_in, 1, d);
  if (!n) return NULL;
  for (int i = 0; i < n_in; i++) n->in[i] = in[i];
  n->out[0] = out;
  out->kind = VK_NODE;
  out->def = n;
  out->data_inferred = 0;
  return n;
}

/* Adds a string attribute. */
int fuse_attr_s(Graph *g, Node *n, const char *attr, const char *s, Diag *d) {
  Attr *a = ir_attr_add(g, n, attr, AT_STRING, d);
  if (!a || !(a->s = arena_strdup(&g->arena, s))) return ir_error(d, g->file, n, "out of memory");
  return 0;
}

/* Adds an int attribute. */
int fuse_attr_i(Graph *g, Node *n, const char *attr, int64_t i, Diag *d) {
  Attr *a = ir_attr_add(g, n, attr, AT_INT, d);
  if (!a) return -1;
  a->i = i;
  return 0;
}

/* Adds a float attribute. */
int fuse_attr_f(Graph *g, Node *n, const char *attr, float f, Diag *d) {
  Attr *a = ir_attr_add(g, n, attr, AT_FLOAT, d);
  if (!a) return -1;
  a->f = f;
  return 0;
}

/* Reshape to static dims (shape constant NAME_shape). */
Value *fuse_reshape(Graph *g, const char *name, Value *x, int rank, const int64_t *dims, Value *out, Diag *d) {
  int64_t r = rank;
  char base[512];
  snprintf(base, sizeof base, "%.480s_shape", name);
  Value *shape = ir_const_new(g, base, DT_I64, 1, &r, dims, d);
  if (!shape || (!out && !(out = fuse_value(g, name, rank, dims, d)))) return NULL;
  Value *in[2] = {x, shape};
  return fuse_emit(g, OP_RESHAPE, name, in, 2, out, d) ? out : NULL;
}

/* Transpose by perm. */
Value *fuse_transpose(Graph *g, const char *name, Value *x, const int64_t *perm, Value *out, Diag *d) {
  int64_t dims[IR_MAX_RANK];
  for (int i = 0; i < x->t.rank; i++) dims[i] = x->t.dims[perm[i]];
  if (!out && !(out = fuse_value(g, name, x->t.rank, dims, d))) return NULL;
  Node *n = fuse_emit(g, OP_TRANSPOSE, name, &x, 1, out, d);
  if (!n || pass_set_ints(g, n, "perm", perm, x->t.rank, d)) return NULL;
  return out;
}

/* Compacts and re-infers shapes when something changed. */
int fuse_finish(Graph *g, int changed, Diag *d) {
  if (!changed) return 0;
  if (ir_graph_compact(g, d)) return -1;
  return ir_infer_shapes(g, d);
}

int fuse_each(Graph *g, PassCtx *ctx, int (*anchor)(const Node *n), FuseAtFn at, Diag *d) {
  int changed = 0, rc = 0;
  for (int k = 0; k < g->n_nodes && rc >= 0; k++) {
    Node *n = g->nodes[k];
    if (n->removed || !anchor(n)) continue;
    FuseUsers u;
    if (fuse_users_build(g, &u, d)) return -1;
    rc = at(g, ctx, &u, n, d);
    fuse_users_free(&u);
    changed |= rc > 0;
  }
  return rc < 0 ? -1 : changed;
}
