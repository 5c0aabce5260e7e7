/* What the fusion passes (passes/fuse_*.c) share: who reads each value, the
 * set of nodes a pattern matched, constants and scalars, building the fused
 * nodes, and layout chains checked by running them on index tensors. */
#ifndef VITC_FUSE_UTIL_H
#define VITC_FUSE_UTIL_H
#include "passes.h"

/* Longest chain of layout ops a matcher follows, and most nodes in one match. */
#define FUSE_MAX_STEPS 24
#define FUSE_MAX_NODES 128
/* Relative tolerance for the constants of a pattern (sqrt(2), 0.044715, ...). */
#define FUSE_RTOL 1e-4

/* The suffix of the q projection prune_rows splits off an attention (node "NAME.q"): --keep-fp32 naming the
 * attention covers it too (precision.c). */
#define PASS_QUERY_SUFFIX ".q"

/* ---- readers of each value (fuse_util.c) ---- */

typedef struct FuseUsers {
  int n_values;          /* values known when built; newer ids have no entry */
  int *start, *count;    /* users of value id v: list[start[v] .. start[v] + count[v]) */
  Node **list;
  unsigned char *output; /* graph output, by value id */
} FuseUsers;

/* Indexes the readers of every value of g (removed nodes skipped). */
int fuse_users_build(const Graph *g, FuseUsers *u, Diag *d);
void fuse_users_free(FuseUsers *u);
/* Number of reads of v (one per input slot), plus one if it is a graph output. */
int fuse_uses(const FuseUsers *u, const Value *v);
/* The node reading v when v has exactly one use and is not a graph output. */
Node *fuse_sole_user(const FuseUsers *u, const Value *v);

/* ---- the nodes a pattern matched ---- */

typedef struct FuseMatch {
  Node *nodes[FUSE_MAX_NODES];
  int n;
  int overflow; /* more nodes than fit: the match must fail */
} FuseMatch;

void fuse_match_add(FuseMatch *m, Node *n); /* no-op for NULL or a node already in */
int fuse_match_has(const FuseMatch *m, const Node *n);
/* A value defined inside m, other than `result`, that is read outside m or
 * is a graph output (NULL when m is closed, so removing it loses nothing). */
const Value *fuse_match_leak(const FuseMatch *m, const FuseUsers *u, const Value *result);
void fuse_match_remove(FuseMatch *m);

/* ---- constants ---- */

/* v's data when known at compile time (a constant, or worked out by shape inference). */
const Tensor *fuse_data(const Value *v);
/* Whether v is a known f32 (or integer) single element; its value in *x. */
int fuse_scalar(const Value *v, double *x);
/* Whether a is within FUSE_RTOL (relative) of want. */
int fuse_near(double a, double want);
/* Whether v is a known scalar within FUSE_RTOL of want. */
int fuse_is_scalar(const Value *v, double want);
/* The operand of binary node n that is not `v` (NULL when v is not an operand). */
Value *fuse_other(const Node *n, const Value *v);
/* A new f32/i64 constant named after base with zeroed data to fill (arena). */
Value *fuse_const_alloc(Graph *g, const char *base, DType dt, int rank, const int64_t *dims, Diag *d);
/* v itself when it is a constant of exactly dims, else a new constant with
 * v's data under those dims (same element count required). */
Value *fuse_const_as(Graph *g, Value *v, int rank, const int64_t *dims, Diag *d);

/* ---- building ---- */

/* "PREFIX/suffix" where PREFIX is `name` up to its last '/' (arena string). */
const char *fuse_name(Graph *g, const char *name, const char *suffix, Diag *d);
/* A fresh node output value (unique name from base) of type f32 and dims. */
Value *fuse_value(Graph *g, const char *base, int rank, const int64_t *dims, Diag *d);
/* A node op(in[0..n_in)) named `name` defining `out` (an existing value whose
 * old producer is being removed, or one from fuse_value). NULL on OOM. */
Node *fuse_emit(Graph *g, OpKind op, const char *name, Value *const *in, int n_in, Value *out, Diag *d);
int fuse_attr_s(Graph *g, Node *n, const char *attr, const char *s, Diag *d);
int fuse_attr_i(Graph *g, Node *n, const char *attr, int64_t i, Diag *d);
int fuse_attr_f(Graph *g, Node *n, const char *attr, float f, Diag *d);
/* x reshaped to dims into `out` (NULL: a fresh value). Returns the result. */
Value *fuse_reshape(Graph *g, const char *name, Value *x, int rank, const int64_t *dims, Value *out, Diag *d);
/* Transpose(x, perm) into `out` (NULL: a fresh value). Returns the result. */
Value *fuse_transpose(Graph *g, const char *name, Value *x, const int64_t *perm, Value *out, Diag *d);
/* Ends a fusion pass: drops removed nodes, re-sorts, re-infers shapes. */
/* One fusion attempt at an anchor node: 1 fused, 0 not, -1 error. */
typedef int (*FuseAtFn)(Graph *g, PassCtx *ctx, const FuseUsers *u, Node *n, Diag *d);
/* Tries `at` at every live node whose op `anchor` accepts, in order, each
 * with a fresh users map (a fusion changes the graph): 1 when something
 * fused, 0 when nothing did, -1 on error. */
int fuse_each(Graph *g, PassCtx *ctx, int (*anchor)(const Node *n), FuseAtFn at, Diag *d);
int fuse_finish(Graph *g, int changed, Diag *d);

/* ---- layout chains (fuse_layout.c) ---- */

/* One step of a chain: data enters `n` at input `in` and leaves at output `out`. */
typedef struct FuseStep {
  Node *n;
  int in, out;
  int scale;    /* a multiplication or division by a scalar: no data movement */
} FuseStep;

/* Whether n only moves data (Transpose, Reshape, Flatten, Squeeze,
 * Unsqueeze, Identity, same-type Cast, and Gather, Slice, Split with known
 * indices). */
int fuse_is_layout(const Node *n);
/* Walks back from v through layout ops and, when scale != NULL, Mul/Div by a
 * known scalar (multiplied into *scale); steps[0..*n) in data-flow order.
 * Returns the value the chain starts from. */
Value *fuse_trace_back(Value *v, FuseStep *steps, int *n, double *scale);
/* Walks forward from v while the sole reader is a layout op; steps[0..n) and
 * vals[k] = the value after step k. Returns n. */
int fuse_trace_fwd(const FuseUsers *u, Value *v, FuseStep *steps, Value **vals, int max);
/* The value after steps[k] (steps[k].n's output). */
Value *fuse_step_value(const FuseStep *s);
/* Runs steps[0..n) on an index tensor shaped like src: for each element of
 * the chain's result, the flat index in src it was read from (malloc'd, NULL
 * when a step cannot be evaluated or the tensor is too large; d untouched). */
int32_t *fuse_index_map(const Value *src, const FuseStep *steps, int n);
/* Whether an index map reads whole rows of width w in order: rows[r] = the
 * source row of result row r (n_rows = result elements / w). */
int fuse_rows_of(const int32_t *map, int64_t n_rows, int64_t w, int64_t *rows);


/* ---- linear pieces (fuse_linear.c), also used for attention's out-projection ---- */

/* A MatMul with a constant 2-D right operand, or a Gemm (transA = 0, constant
 * B), with its bias, as a linear: y = x @ w + bias (+ residual). */
typedef struct FuseLinear {
  Node *mm;          /* the MatMul or Gemm */
  Node *add;         /* a following bias Add folded in, or NULL */
  Value *x, *b_src;  /* rows [..., K]; the constant B */
  int trans;         /* Gemm transB */
  double alpha, beta;
  Value *c;          /* Gemm C used as a bias (scaled by beta), or NULL */
  Value *add_bias;   /* the Add's constant, or NULL */
  Value *residual;   /* Gemm C that is not a per-column bias (beta = 1), or NULL */
  int64_t k, n;
} FuseLinear;

/* Fills f from mm; NULL, or the first condition that failed. */
const char *fuse_linear_check(Node *mm, FuseLinear *f);
/* Folds `add` (reading y, mm's result) into f when it adds a per-column
 * constant; NULL, or why not. */
const char *fuse_linear_check_bias(Node *add, const Value *y, FuseLinear *f);
/* The weight [K, N] and bias [N] (NULL when none) constants of f. */
int fuse_linear_build(Graph *g, const FuseLinear *f, Value **w, Value **b, Diag *d);
/* Folds gelu and residual-Add epilogues into every linear (fuse_linear_epilogue.c). */
int fuse_linear_epilogues(Graph *g, PassCtx *ctx, Diag *d);

#endif
