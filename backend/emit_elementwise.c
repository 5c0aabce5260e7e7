/* Broadcasting elementwise kernels over static shapes. Axes are coalesced
 * until every operand's innermost stride is 1 (contiguous) or 0 (a scalar
 * per row); rows (or blocks of long rows) are split across threads, and
 * each row runs in <CG_VW x T> vectors with a masked tail. An absent
 * optional input (Clip's bounds) reaches the vector function as NULL. */
#include "cg_ctx.h"
#include <string.h>

#define EW_MAX_OPS (IR_MAX_INPUTS + 1) /* inputs + the output (min and max take any number of inputs) */
#define EW_BLOCK 4096     /* elements per work item when a row is longer than EW_LONG_ROW */
#define EW_LONG_ROW 8192

/* The iteration space after coalescing: dims[0..m) and per-operand element strides. */
typedef struct EwShape {
  int m, n_ops; /* operands: the inputs, then the output */
  int64_t dims[IR_MAX_RANK];
  int64_t strides[EW_MAX_OPS][IR_MAX_RANK];
  DType dtype[EW_MAX_OPS];
} EwShape;

/* Strides of operand t read with numpy broadcasting into an output of rank r. */
static void ew_broadcast_strides(const Tensor *t, int r, const int64_t *out_dims, int64_t *st) {
  int64_t s = 1;
  for (int a = r - 1; a >= 0; a--) {
    int ia = a - (r - t->rank);
    int64_t dim = ia >= 0 ? t->dims[ia] : 1;
    st[a] = (dim == 1 && out_dims[a] != 1) || ia < 0 ? 0 : s;
    s *= dim;
  }
}

/* Builds the coalesced iteration space of node n (output 0). */
static void ew_shape(const Node *n, EwShape *e) {
  const Tensor *out = &n->out[0]->t;
  int64_t raw[EW_MAX_OPS][IR_MAX_RANK];
  memset(e, 0, sizeof *e);
  e->n_ops = n->n_in + 1;
  for (int k = 0; k < n->n_in; k++) {
    if (!n->in[k]) { /* an absent optional input: never read (strides 0, DT_UNDEF) */
      memset(raw[k], 0, sizeof raw[k]);
      continue;
    }
    ew_broadcast_strides(&n->in[k]->t, out->rank, out->dims, raw[k]);
    e->dtype[k] = n->in[k]->t.dtype;
  }
  ew_broadcast_strides(out, out->rank, out->dims, raw[n->n_in]);
  e->dtype[n->n_in] = out->dtype;
  for (int a = 0; a < out->rank; a++) {
    if (out->dims[a] == 1) continue;
    int merge = e->m > 0;
    for (int k = 0; merge && k < e->n_ops; k++) merge = e->strides[k][e->m - 1] == raw[k][a] * out->dims[a];
    int at = merge ? e->m - 1 : e->m++;
    e->dims[at] = merge ? e->dims[at] * out->dims[a] : out->dims[a];
    for (int k = 0; k < e->n_ops; k++) e->strides[k][at] = raw[k][a];
  }
  if (e->m == 0) { /* a single element */
    e->m = 1;
    e->dims[0] = 1;
    e->strides[n->n_in][0] = 1;
  }
}

/* Per work item: each operand's element offset and the row's length. */
typedef struct EwRow {
  LLVMValueRef base[EW_MAX_OPS];
  LLVMValueRef count;
  int64_t static_count; /* -1 when count varies */
} EwRow;

/* Offsets of work item t: the row index o = t / nb split over the outer axes, block j = t % nb. */
static void ew_row(CgCtx *c, const EwShape *e, LLVMValueRef t, int64_t nb, int64_t block, EwRow *r) {
  int inner = e->m - 1;
  LLVMValueRef o = nb > 1 ? LLVMBuildUDiv(c->b, t, cg_i64(c, nb), "") : t;
  LLVMValueRef j = nb > 1 ? LLVMBuildURem(c->b, t, cg_i64(c, nb), "") : NULL;
  for (int k = 0; k < e->n_ops; k++) r->base[k] = cg_i64(c, 0);
  for (int a = inner - 1; a >= 0; a--) {
    LLVMValueRef idx = a > 0 ? LLVMBuildURem(c->b, o, cg_i64(c, e->dims[a]), "") : o;
    if (a > 0) o = LLVMBuildUDiv(c->b, o, cg_i64(c, e->dims[a]), "");
    for (int k = 0; k < e->n_ops; k++)
      if (e->strides[k][a]) r->base[k] = LLVMBuildAdd(c->b, r->base[k], LLVMBuildMul(c->b, idx, cg_i64(c, e->strides[k][a]), ""), "");
  }
  if (nb == 1) {
    r->count = cg_i64(c, e->dims[inner]);
    r->static_count = e->dims[inner];
    return;
  }
  LLVMValueRef start = LLVMBuildMul(c->b, j, cg_i64(c, block), "");
  for (int k = 0; k < e->n_ops; k++)
    if (e->strides[k][inner]) r->base[k] = LLVMBuildAdd(c->b, r->base[k], start, "");
  LLVMValueRef left = LLVMBuildSub(c->b, cg_i64(c, e->dims[inner]), start, "");
  LLVMValueRef lt = LLVMBuildICmp(c->b, LLVMIntSLT, left, cg_i64(c, block), "");
  r->count = LLVMBuildSelect(c->b, lt, left, cg_i64(c, block), "count");
  r->static_count = -1;
}

/* One vector step at element i of the row (all lanes, or those in mask). */
static void ew_step(CgCtx *c, const Node *n, const EwShape *e, const EwRow *r, LLVMValueRef *splat, LLVMValueRef i,
                    LLVMValueRef mask, CgElemFn f) {
  LLVMValueRef x[EW_MAX_OPS];
  int inner = e->m - 1, out = e->n_ops - 1;
  for (int k = 0; k < out; k++) {
    if (!e->strides[k][inner]) x[k] = splat[k]; /* NULL for an absent input */
    else x[k] = cg_load_vec(c, e->dtype[k], cg_gep(c, e->dtype[k], c->args[k], LLVMBuildAdd(c->b, r->base[k], i, "")), mask);
  }
  LLVMValueRef y = f(c, n, x);
  cg_store_vec(c, e->dtype[out], cg_gep(c, e->dtype[out], c->args[out], LLVMBuildAdd(c->b, r->base[out], i, "")), y, mask);
}

/* The body of one work item: full vectors, then a masked tail. */
static void ew_body(CgCtx *c, const Node *n, const EwShape *e, const EwRow *r, CgElemFn f) {
  LLVMValueRef splat[EW_MAX_OPS] = {0};
  int inner = e->m - 1;
  for (int k = 0; k < e->n_ops - 1; k++) {
    if (e->strides[k][inner] || e->dtype[k] == DT_UNDEF) continue;
    LLVMValueRef s = LLVMBuildLoad2(c->b, cg_elem_type(c, e->dtype[k]), cg_gep(c, e->dtype[k], c->args[k], r->base[k]), "");
    splat[k] = cg_splat(c, s);
  }
  LLVMValueRef full = LLVMBuildAnd(c->b, r->count, cg_i64(c, -CG_VW), "full");
  if (r->static_count < 0 || r->static_count >= CG_VW) {
    CgLoop l = cg_loop_begin(c, cg_i64(c, 0), full, CG_VW);
    ew_step(c, n, e, r, splat, l.iv, NULL, f);
    cg_loop_end(c, &l);
  }
  if (r->static_count >= 0 && r->static_count % CG_VW == 0) return;
  LLVMValueRef rem = LLVMBuildSub(c->b, r->count, full, "rem");
  LLVMBasicBlockRef cont = r->static_count < 0 ? cg_if_begin(c, LLVMBuildICmp(c->b, LLVMIntSGT, rem, cg_i64(c, 0), "")) : NULL;
  ew_step(c, n, e, r, splat, full, cg_tail_mask(c, rem), f);
  if (cont) cg_if_end(c, cont);
}

int cg_emit_elementwise(CgCtx *c, const Node *n, const char *op, CgElemFn f, Diag *d) {
  if (n->n_in + 1 > EW_MAX_OPS || n->n_out != 1) return ir_error(d, NULL, n, "internal error: not an elementwise node");
  if (!n->out[0] || tensor_numel(&n->out[0]->t) == 0) return 0;
  char key[4096];
  size_t len = (size_t)snprintf(key, sizeof key, "%s", op);
  for (int k = 0; k < n->n_in; k++) {
    if (len < sizeof key) key[len++] = '.';
    if (!n->in[k] && len < sizeof key) key[len++] = '_';
    else if (n->in[k]) cg_key_tensor(key, sizeof key, &len, &n->in[k]->t);
  }
  if (len < sizeof key) key[len++] = '.';
  cg_key_tensor(key, sizeof key, &len, &n->out[0]->t);
  if (len >= sizeof key) return ir_error(d, NULL, n, "internal error: kernel key too long");
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (!fn) {
    EwShape e;
    ew_shape(n, &e);
    int inner = e.m - 1;
    int64_t rows = 1;
    for (int a = 0; a < inner; a++) rows *= e.dims[a];
    int64_t block = e.dims[inner] > EW_LONG_ROW ? EW_BLOCK : e.dims[inner];
    int64_t nb = (e.dims[inner] + block - 1) / block;
    if (!(fn = cg_kernel_begin(c, key, n->n_in + 1, d))) return -1;
    LLVMValueRef begin, end;
    cg_kernel_parallel(c, rows * nb, block, &begin, &end);
    CgLoop l = cg_loop_begin(c, begin, end, 1);
    EwRow r;
    ew_row(c, &e, l.iv, nb, block, &r);
    ew_body(c, n, &e, &r, f);
    cg_loop_end(c, &l);
    cg_kernel_end(c);
  }
  return cg_kernel_call(c, fn, n, n->n_in, d);
}
