/* After the attentions are fused: sequence-first residual streams flipped
 * back to batch-first. CLIP and nn.TransformerEncoder(batch_first=False) run
 * every block on [N, B, C]; the attention op reads [B, N, C], so each one
 * sits between two Transposes (perm [1,0,2]) and the residual Add after the
 * out-projection cannot fold into it. Layer norm, MatMul by a constant,
 * linear, gelu and elementwise ops with constants that broadcast along the
 * last axis only compute each row from the same row: they commute with any
 * permutation P of the leading axes. So a region of such nodes entered only
 * through Transposes by P and left only through Transposes by P^-1 (or
 * Reshapes that move the data the same way, B = 1; or a
 * Gather of one index on a leading axis: CLIP's x[0]) computes the same in
 * the Transposes' input layout: the region is rewired to read the entries'
 * inputs, the exits read the region directly (a Gather on its axis in that
 * layout), and every Transpose of the region goes. Anything else reading a
 * region value (a graph output, a Reshape, a Concat, ...) and the region
 * stays. Nothing is copied or added; shapes are re-inferred. */
#include "fuse_attention.h"
#include "pass_util.h"
#include <stdlib.h>
#include <string.h>

typedef struct Flip {
  Graph *g;
  const FuseUsers *u;
  int rank;
  int64_t perm[IR_MAX_RANK], inv[IR_MAX_RANK];
  unsigned char *val;  /* by value id: 1 in the region (P layout), 2 an entry's output */
  unsigned char *node; /* by node index: 1 region, 2 entry, 3 exit */
  Value **queue;
  int nq;
} Flip;

/* The perm of Transpose n (rank r, last axis kept, not the identity) into p; 0 when not such. */
static int row_perm(const Node *n, int64_t *p) {
  if (n->op != OP_TRANSPOSE) return 0;
  int r = n->out[0]->t.rank;
  if (r < 2 || ir_attr_ints(n, "perm", p, IR_MAX_RANK) != r || p[r - 1] != r - 1) return 0;
  for (int i = 0; i < r; i++)
    if (p[i] != i) return 1;
  return 0;
}

/* Whether n moves data as a Transpose by p (rank f->rank): that Transpose, or
 * a Reshape doing the same (what fuse_attention emits when B is 1: out dims
 * are in dims permuted by p, and p keeps the order of the dims that are not 1). */
static int moves_like(const Node *n, const int64_t *p, int r) {
  int64_t q[IR_MAX_RANK];
  if (n->op == OP_TRANSPOSE) return n->out[0]->t.rank == r && row_perm(n, q) && !memcmp(q, p, sizeof(int64_t) * r);
  if (n->op != OP_RESHAPE) return 0;
  const Tensor *x = &n->in[0]->t, *y = &n->out[0]->t;
  if (x->rank != r || y->rank != r) return 0;
  for (int i = 0, last = -1; i < r; i++) {
    if (y->dims[i] != x->dims[p[i]]) return 0;
    if (x->dims[p[i]] == 1) continue;
    if (p[i] < last) return 0;
    last = (int)p[i];
  }
  return 1;
}

/* Whether constant (or computed) v broadcasts along the last axis only against rank r. */
static int column_const(const Value *v, int r) {
  if (!fuse_data(v) || v->t.rank > r) return 0;
  for (int i = 0; i + 1 < v->t.rank; i++)
    if (v->t.dims[i] != 1) return 0;
  return 1;
}

static int node_index(const Flip *f, const Node *n) {
  for (int k = 0; k < f->g->n_nodes; k++)
    if (f->g->nodes[k] == n) return k;
  return -1;
}

/* Adds value v (of rank f->rank) to the region. */
static void add_value(Flip *f, Value *v, int kind) {
  if (f->val[v->id]) return;
  f->val[v->id] = (unsigned char)kind;
  f->queue[f->nq++] = v;
}

/* Operand v of a region node: 1 when it is a region value, an entry (which
 * joins) or a column constant; 2 when it is some other node's result (it may
 * join the region later); 0 when it cannot. */
static int operand_ok(Flip *f, Value *v) {
  if (!v || f->val[v->id]) return 1;
  if (column_const(v, f->rank)) return 1;
  Node *t = v->kind == VK_NODE ? v->def : NULL;
  if (!t) return 0;
  if (!moves_like(t, f->perm, f->rank)) return 2;
  int k = node_index(f, t);
  if (k < 0) return 0;
  f->node[k] = 2;
  add_value(f, v, 2);
  return 1;
}

/* Whether node n computes rows from rows (see the file comment): 0 no, 1 yes
 * with every row operand in the region, 2 yes once an operand joins it. */
static int row_wise(Flip *f, Node *n) {
  if (n->n_out != 1 || n->out[0]->t.rank != f->rank) return 0;
  int last = n->n_in, rc = 1; /* in[0 .. last) are rows */
  switch (n->op) {
  case OP_LAYER_NORM: {
    int64_t ax = ir_attr_i(n, "axis", -1);
    if (ax != -1 && ax != f->rank - 1) return 0;
    last = 1;
    for (int i = 1; i < n->n_in; i++)
      if (n->in[i] && !column_const(n->in[i], f->rank)) return 0;
    break;
  }
  case OP_MATMUL:
    if (!fuse_data(n->in[1]) || n->in[1]->t.rank != 2) return 0;
    last = 1;
    break;
  case OP_LINEAR:
    if (!fuse_data(n->in[1]) || (n->n_in > 2 && n->in[2] && !fuse_data(n->in[2]))) return 0;
    if (n->n_in > 3 && n->in[3]) {
      int r = n->in[3]->t.rank == f->rank || column_const(n->in[3], f->rank) ? operand_ok(f, n->in[3]) : 0;
      if (!r) return 0;
      rc = r == 2 ? 2 : rc;
    }
    last = 1;
    break;
  default:
    if (!(ir_ops[n->op].flags & OPF_ELEMWISE)) return 0;
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i] && n->in[i]->t.rank != f->rank && !column_const(n->in[i], f->rank)) return 0;
  }
  for (int i = 0; i < last; i++) {
    int r = operand_ok(f, n->in[i]);
    if (!r) return 0;
    if (r == 2) rc = 2;
  }
  return rc;
}

/* Whether Gather n, reading region value v, picks one index of a leading axis
 * so that what is left keeps its order in the entries' layout too. */
static int gather_exit(const Flip *f, const Node *n, const Value *v) {
  if (n->op != OP_GATHER || n->in[0] != v || !fuse_data(n->in[1]) || n->in[1]->t.rank != 0) return 0;
  int64_t a = ir_attr_i(n, "axis", 0);
  if (a < 0) a += f->rank;
  if (a < 0 || a >= f->rank - 1) return 0;
  for (int i = 0, k = 0; i < f->rank; i++) {
    if (i == a) continue;
    int64_t pi = f->perm[i] > f->perm[a] ? f->perm[i] - 1 : f->perm[i];
    if (pi != k++) return 0;
  }
  return 1;
}

enum { F_NONE, F_REGION, F_ENTRY, F_EXIT, F_WAIT };

/* Grows the region from entry Transpose `seed`; 1 when it closes. Readers of
 * region values join as they are reached; one that also reads a value not
 * in the region yet waits until that value joins (a residual Add reached
 * from its skip input before its other branch), and the region fails if it
 * is still waiting at the end. */
static int grow(Flip *f, int seed) {
  const FuseUsers *u = f->u;
  f->node[seed] = F_ENTRY;
  add_value(f, f->g->nodes[seed]->out[0], F_ENTRY);
  for (int qi = 0;;) {
    for (; qi < f->nq; qi++) {
      Value *v = f->queue[qi];
      if (v->id >= u->n_values || u->output[v->id]) return 0;
      for (int j = 0; j < u->count[v->id]; j++) {
        Node *n = u->list[u->start[v->id] + j];
        int k = node_index(f, n);
        if (k < 0) return 0;
        if (f->node[k] == F_REGION || f->node[k] == F_EXIT || f->node[k] == F_WAIT) continue;
        if (moves_like(n, f->inv, f->rank)) {
          f->node[k] = F_EXIT;
          continue;
        }
        if (gather_exit(f, n, v)) {
          f->node[k] = F_EXIT;
          continue;
        }
        int r = f->node[k] == F_NONE ? row_wise(f, n) : 0;
        if (!r) return 0;
        f->node[k] = r == 1 ? F_REGION : F_WAIT;
        if (r == 1) add_value(f, n->out[0], F_REGION);
      }
    }
    int progress = 0, waiting = 0;
    for (int k = 0; k < f->g->n_nodes; k++) {
      if (f->node[k] != F_WAIT) continue;
      int r = row_wise(f, f->g->nodes[k]);
      if (!r) return 0;
      if (r == 2) {
        waiting = 1;
        continue;
      }
      f->node[k] = F_REGION;
      add_value(f, f->g->nodes[k]->out[0], F_REGION);
      progress = 1;
    }
    if (!progress && qi == f->nq) return !waiting; /* a retry may have added entries to the queue */
  }
}

/* Rewires the region found by grow(); returns 1. */
static int rewire(Flip *f, Diag *d) {
  Graph *g = f->g;
  for (int k = 0; k < g->n_nodes; k++) {
    Node *n = g->nodes[k];
    if (f->node[k] == 1 || f->node[k] == 3) {
      for (int i = 0; i < n->n_in; i++) /* entries: read the Transpose's input */
        if (n->in[i] && f->val[n->in[i]->id] == 2) n->in[i] = n->in[i]->def->in[0];
    }
    if (f->node[k] == 2) ir_node_remove(n);
    if (f->node[k] != 3) continue;
    if (n->op == OP_GATHER) {
      int64_t a = ir_attr_i(n, "axis", 0);
      if (a < 0) a += f->rank;
      Attr *at = (Attr *)ir_attr_find(n, "axis");
      if (at) at->i = f->perm[a];
      else if (fuse_attr_i(g, n, "axis", f->perm[a], d)) return -1;
    } else if (!pass_bypass(g, n, n->out[0], n->in[0]) && n->op == OP_TRANSPOSE) {
      /* the exit's result is a graph output read from a graph input: keep a copy
       * (a Reshape exit now reshapes to its input's own shape) */
      int64_t id[IR_MAX_RANK];
      for (int i = 0; i < f->rank; i++) id[i] = i;
      if (pass_set_ints(g, n, "perm", id, f->rank, d)) return -1;
    }
  }
  return 1;
}

/* One attempt from every Transpose by a leading-axes permutation; flips closed regions. */
int attn_flip_layouts(Graph *g, PassCtx *ctx, Diag *d) {
  (void)ctx;
  int changed = 0;
  for (int round = 0; round < 64; round++) {
    FuseUsers u;
    if (fuse_users_build(g, &u, d)) return -1;
    Flip f = {.g = g, .u = &u};
    f.val = calloc((size_t)g->n_values + 1, 1);
    f.node = calloc((size_t)g->n_nodes + 1, 1);
    f.queue = malloc(sizeof *f.queue * ((size_t)g->n_values + 1));
    int rc = f.val && f.node && f.queue ? 0 : ir_error(d, g->file, NULL, "out of memory");
    int done = 0;
    for (int k = 0; k < g->n_nodes && !rc && !done; k++) {
      Node *t = g->nodes[k];
      if (t->removed || !row_perm(t, f.perm)) continue;
      f.rank = t->out[0]->t.rank;
      for (int i = 0; i < f.rank; i++) f.inv[f.perm[i]] = i;
      memset(f.val, 0, (size_t)g->n_values + 1);
      memset(f.node, 0, (size_t)g->n_nodes + 1);
      f.nq = 0;
      if (grow(&f, k)) {
        rc = rewire(&f, d) < 0 ? -1 : 0;
        done = 1;
      }
    }
    free(f.val);
    free(f.node);
    free(f.queue);
    fuse_users_free(&u);
    if (rc) return -1;
    if (!done) break;
    changed = 1;
    if (fuse_finish(g, 1, d)) return -1;
  }
  return changed;
}
