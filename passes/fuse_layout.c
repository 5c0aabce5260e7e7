/* Layout chains for the fusion passes: following Transpose / Reshape /
 * Gather / Split ... chains, and checking what they do by running them with
 * the reference interpreter on a tensor of element indices. One check then
 * covers every spelling of the same data movement (permute then reshape,
 * Split then Squeeze, Gather on axis 0, Slices ...). */
#include "fuse_util.h"
#include <stdlib.h>
#include <string.h>

/* Index tensors larger than this are not built (int32 indices, compile time). */
#define MAP_MAX_ELEMS (INT64_C(1) << 28)

/* Whether the operands of n past `data` are all known. */
static int rest_known(const Node *n, int data) {
  for (int i = 0; i < n->n_in; i++)
    if (i != data && n->in[i] && !fuse_data(n->in[i])) return 0;
  return 1;
}

/* Whether n only moves data (its non-data operands known). */
int fuse_is_layout(const Node *n) {
  switch (n->op) {
  case OP_TRANSPOSE: case OP_RESHAPE: case OP_FLATTEN: case OP_SQUEEZE: case OP_UNSQUEEZE:
  case OP_IDENTITY: case OP_GATHER: case OP_SLICE: case OP_SPLIT:
    return n->in[0] && rest_known(n, 0);
  case OP_CAST:
    return n->in[0] && n->in[0]->t.dtype == n->out[0]->t.dtype;
  default:
    return 0;
  }
}

/* Index of the output of n that is v (0 when not found). */
static int out_index(const Node *n, const Value *v) {
  for (int j = 0; j < n->n_out; j++)
    if (n->out[j] == v) return j;
  return 0;
}

/* Whether n multiplies or divides its data operand by a known scalar without
 * changing its shape; the data operand's index in *data, the factor in *f. */
static int scalar_scale(const Node *n, int *data, double *f) {
  if ((n->op != OP_MUL && n->op != OP_DIV) || n->n_in != 2 || !n->in[0] || !n->in[1]) return 0;
  for (int i = 0; i < 2; i++) {
    double c;
    if (!fuse_scalar(n->in[1 - i], &c) || n->in[1 - i]->t.dtype != DT_F32) continue;
    if (n->op == OP_DIV && i == 1) return 0; /* c / x is not a scale */
    if (!tensor_same_type(&n->in[i]->t, &n->out[0]->t) || (n->op == OP_DIV && c == 0)) return 0;
    *data = i;
    *f = n->op == OP_DIV ? 1.0 / c : c;
    return 1;
  }
  return 0;
}

/* Follows v back through layout ops (and scalar scales); returns the chain's start. */
Value *fuse_trace_back(Value *v, FuseStep *steps, int *n, double *scale) {
  FuseStep rev[FUSE_MAX_STEPS];
  int k = 0;
  while (v->kind == VK_NODE && v->def && k < FUSE_MAX_STEPS) {
    Node *p = v->def;
    int data = 0;
    double f = 1;
    if (fuse_is_layout(p)) {
      rev[k++] = (FuseStep){p, 0, out_index(p, v), 0};
    } else if (scale && scalar_scale(p, &data, &f)) {
      rev[k++] = (FuseStep){p, data, 0, 1};
      *scale *= f;
    } else {
      break;
    }
    v = p->in[data];
  }
  for (int i = 0; i < k; i++) steps[i] = rev[k - 1 - i];
  *n = k;
  return v;
}

/* Follows v forward through layout ops that alone read it. */
int fuse_trace_fwd(const FuseUsers *u, Value *v, FuseStep *steps, Value **vals, int max) {
  int k = 0;
  for (Node *p; k < max && (p = fuse_sole_user(u, v)) && fuse_is_layout(p) && p->in[0] == v && p->n_out == 1; k++) {
    steps[k] = (FuseStep){p, 0, 0, 0};
    vals[k] = v = p->out[0];
  }
  return k;
}

/* The value a step produces. */
Value *fuse_step_value(const FuseStep *s) { return s->n->out[s->out]; }

/* Frees the outputs of a step except `keep`. */
static void free_outs(Tensor *out, int n_out, int keep) {
  for (int j = 0; j < n_out; j++)
    if (j != keep) free(out[j].data);
}

/* Runs one layout step's kernel on the index tensor cur (shaped like the
 * step's data input); returns the data of the output the chain follows. */
static int32_t *run_step(const FuseStep *s, const Tensor *cur) {
  const Node *n = s->n;
  Tensor in[IR_MAX_INPUTS], out[IR_MAX_OUTPUTS];
  Diag d = {0};
  if (n->n_in > IR_MAX_INPUTS || n->n_out > IR_MAX_OUTPUTS || cur->rank != n->in[0]->t.rank) return NULL;
  for (int a = 0; a < cur->rank; a++)
    if (cur->dims[a] != n->in[0]->t.dims[a]) return NULL;
  for (int i = 0; i < n->n_in; i++) {
    memset(&in[i], 0, sizeof in[i]);
    if (i == 0) in[i] = *cur;
    else if (n->in[i]) in[i] = *fuse_data(n->in[i]);
  }
  int ok = 1;
  for (int j = 0; j < n->n_out; j++) {
    memset(&out[j], 0, sizeof out[j]);
    if (!n->out[j]) continue;
    out[j] = n->out[j]->t;
    out[j].dtype = DT_I32;
    size_t bytes = tensor_bytes(&out[j]);
    if (!(out[j].data = malloc(bytes ? bytes : 1))) ok = 0;
  }
  if (!ok || ir_interp_node(n, in, out, &d)) {
    free_outs(out, n->n_out, -1);
    return NULL;
  }
  free_outs(out, n->n_out, s->out);
  return out[s->out].data;
}

/* Runs the chain on an iota tensor of src's shape. */
int32_t *fuse_index_map(const Value *src, const FuseStep *steps, int n) {
  Tensor cur = src->t;
  cur.dtype = DT_I32;
  int64_t count = tensor_numel(&cur);
  if (count > MAP_MAX_ELEMS) return NULL;
  int32_t *map = malloc(sizeof *map * (size_t)(count ? count : 1));
  if (!map) return NULL;
  for (int64_t i = 0; i < count; i++) map[i] = (int32_t)i;
  cur.data = map;
  for (int k = 0; k < n && map; k++) {
    if (steps[k].scale || steps[k].n->op == OP_CAST || steps[k].n->op == OP_IDENTITY) continue;
    int32_t *next = run_step(&steps[k], &cur);
    free(map);
    map = next;
    cur = fuse_step_value(&steps[k])->t;
    cur.dtype = DT_I32;
    cur.data = map;
  }
  return map;
}

/* Row map of an index map that moves whole rows of width w. */
int fuse_rows_of(const int32_t *map, int64_t n_rows, int64_t w, int64_t *rows) {
  if (w <= 0) return -1;
  for (int64_t r = 0; r < n_rows; r++) {
    int64_t first = map[r * w];
    if (first % w) return -1;
    rows[r] = first / w;
    for (int64_t j = 1; j < w; j++)
      if (map[r * w + j] != first + j) return -1;
  }
  return 0;
}
