/* Data-moving and generating ops: gather, concat, split, dropout, range,
 * shape and size. Concat and split are the same slab copy in two directions;
 * shape, size (and range, when its operands are constants) are normally known
 * at compile time and skipped by the plan, but still lower correctly. */
#include "cg_ctx.h"
#include <stdio.h>
#include <string.h>

/* Product of t's dims [lo, hi). */
static int64_t dims_prod(const Tensor *t, int lo, int hi) {
  int64_t p = 1;
  for (int a = lo; a < hi; a++) p *= t->dims[a];
  return p;
}

/* axis attribute of n normalized against rank, or -1 after an error. */
static int data_axis(const Node *n, int rank, Diag *d) {
  int64_t a = ir_attr_i(n, "axis", 0);
  if (a < -rank || a >= rank) return ir_error(d, NULL, n, "axis %lld is out of range for rank %d", (long long)a, rank);
  return (int)(a < 0 ? a + rank : a);
}

/* &p[bytes] for an i64 byte offset. */
static LLVMValueRef byte_ptr(CgCtx *c, LLVMValueRef p, LLVMValueRef bytes) { return cg_gep(c, DT_BOOL, p, bytes); }

/* memcpy of a constant number of bytes (nothing for 0). */
static void copy_bytes(CgCtx *c, LLVMValueRef dst, LLVMValueRef src, int64_t bytes) {
  if (bytes) LLVMBuildMemCpy(c->b, dst, 1, src, 1, cg_i64(c, bytes));
}

/* Appends ".v" to key at *len (capacity cap); *len >= cap when it does not fit. */
static void key_add(char *key, size_t cap, size_t *len, int64_t v) {
  if (*len < cap) *len += (size_t)snprintf(key + *len, cap - *len, ".%lld", (long long)v);
}

/* Returns the cached kernel for key, or begins it (then *fresh is set); NULL after an error. */
static LLVMValueRef data_kernel(CgCtx *c, const Node *n, const char *key, size_t len, size_t cap, int n_args,
                                int *fresh, Diag *d) {
  *fresh = 0;
  if (len >= cap) {
    ir_error(d, NULL, n, "internal error: kernel key too long");
    return NULL;
  }
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (fn) return fn;
  *fresh = 1;
  return cg_kernel_begin(c, key, n_args, d);
}

/* ---- run-time index checks ---- */

/* The flag an index check loop ORs into: an i32 on the stack, 0. */
static LLVMValueRef index_check_begin(CgCtx *c) {
  LLVMValueRef bad = LLVMBuildAlloca(c->b, c->t_i32, "bad");
  LLVMBuildStore(c->b, LLVMConstInt(c->t_i32, 0, 0), bad);
  return bad;
}

/* Ends the check's loop l: bad |= out (this index is out of range), then, once after the loop, ORs bad into
 * the run's error flag (VitcRunCtx.error, so session_run returns VITC_ERR_INDEX). */
static void index_check_end(CgCtx *c, CgLoop *l, LLVMValueRef bad, LLVMValueRef out) {
  LLVMValueRef acc = LLVMBuildOr(c->b, LLVMBuildLoad2(c->b, c->t_i32, bad, ""), LLVMBuildZExt(c->b, out, c->t_i32, ""), "");
  LLVMBuildStore(c->b, acc, bad);
  cg_loop_end(c, l);
  LLVMValueRef off = cg_i64(c, 8); /* VitcRunCtx.error, after the pool pointer */
  LLVMValueRef err = LLVMBuildInBoundsGEP2(c->b, c->t_i8, c->kctx, &off, 1, "error");
  LLVMBuildAtomicRMW(c->b, LLVMAtomicRMWBinOpOr, err, LLVMBuildLoad2(c->b, c->t_i32, bad, ""),
                     LLVMAtomicOrderingMonotonic, 0);
}

/* ---- gather ---- */

/* Sets the run's error flag (VitcRunCtx.error, so session_run returns
 * VITC_ERR_INDEX) when any of the ni run-time indices is outside [-dim, dim);
 * runs once per call in the kernel, before the parallel part. */
static void gather_check_indices(CgCtx *c, DType idx_type, int64_t ni, int64_t dim) {
  LLVMValueRef bad = index_check_begin(c);
  CgLoop l = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, ni), 1);
  LLVMValueRef k = LLVMBuildLoad2(c->b, cg_elem_type(c, idx_type), cg_gep(c, idx_type, c->args[1], l.iv), "");
  if (idx_type == DT_I32) k = LLVMBuildSExt(c->b, k, c->t_i64, "");
  LLVMValueRef out = LLVMBuildOr(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, k, cg_i64(c, -dim), ""),
                                 LLVMBuildICmp(c->b, LLVMIntSGE, k, cg_i64(c, dim), ""), "");
  index_check_end(c, &l, bad, out);
}

/* Gather along `axis`: out[o, q, :] = x[o, idx[q], :] with i64 or i32 indices
 * read at run time (negative ones count from the end). An out-of-range
 * run-time index sets the run's error status (gather_check_indices) and is
 * clamped into [0, dim) so nothing is read out of bounds; constant indices
 * are checked here instead. */
int cg_emit_gather(CgCtx *c, const Node *n, Diag *d) {
  const Tensor *x = &n->in[0]->t, *idx = &n->in[1]->t;
  int axis = data_axis(n, x->rank, d);
  if (axis < 0) return -1;
  if (idx->dtype != DT_I64 && idx->dtype != DT_I32) return ir_error(d, NULL, n, "indices must be i64 or i32");
  int64_t outer = dims_prod(x, 0, axis), dim = x->dims[axis], inner = dims_prod(x, axis + 1, x->rank);
  int64_t ni = tensor_numel(idx), es = (int64_t)dt_size(x->dtype);
  if (tensor_numel(&n->out[0]->t) == 0) return 0;
  if (dim == 0) return ir_error(d, NULL, n, "gather from axis %d of size 0", axis);
  for (int64_t q = 0; idx->data && q < ni; q++)
    if (tensor_get_i64(idx, q) < -dim || tensor_get_i64(idx, q) >= dim)
      return ir_error(d, NULL, n, "index %lld is out of range for axis %d of size %lld",
                      (long long)tensor_get_i64(idx, q), axis, (long long)dim);
  char key[256];
  size_t len = (size_t)snprintf(key, sizeof key, "gather.%s", dt_name(idx->dtype));
  int64_t parts[] = {es, outer, dim, inner, ni};
  for (int i = 0; i < 5; i++) key_add(key, sizeof key, &len, parts[i]);
  int fresh;
  LLVMValueRef fn = data_kernel(c, n, key, len, sizeof key, 3, &fresh, d), begin, end;
  if (!fn) return -1;
  if (fresh) {
    if (!idx->data) gather_check_indices(c, idx->dtype, ni, dim);
    cg_kernel_parallel(c, outer * ni, inner, &begin, &end);
    CgLoop l = cg_loop_begin(c, begin, end, 1);
    LLVMValueRef o = LLVMBuildUDiv(c->b, l.iv, cg_i64(c, ni), ""), q = LLVMBuildURem(c->b, l.iv, cg_i64(c, ni), "");
    LLVMValueRef k = LLVMBuildLoad2(c->b, cg_elem_type(c, idx->dtype), cg_gep(c, idx->dtype, c->args[1], q), "");
    if (idx->dtype == DT_I32) k = LLVMBuildSExt(c->b, k, c->t_i64, "");
    LLVMValueRef neg = LLVMBuildICmp(c->b, LLVMIntSLT, k, cg_i64(c, 0), "");
    k = LLVMBuildSelect(c->b, neg, LLVMBuildAdd(c->b, k, cg_i64(c, dim), ""), k, "");
    k = LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, k, cg_i64(c, 0), ""), cg_i64(c, 0), k, "");
    k = LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntSGE, k, cg_i64(c, dim), ""), cg_i64(c, dim - 1), k, "");
    LLVMValueRef row = LLVMBuildAdd(c->b, LLVMBuildMul(c->b, o, cg_i64(c, dim), ""), k, "");
    LLVMValueRef src = byte_ptr(c, c->args[0], LLVMBuildMul(c->b, row, cg_i64(c, inner * es), ""));
    LLVMValueRef dst = byte_ptr(c, c->args[2], LLVMBuildMul(c->b, l.iv, cg_i64(c, inner * es), ""));
    copy_bytes(c, dst, src, inner * es);
    cg_loop_end(c, &l);
    cg_kernel_end(c);
  }
  return cg_kernel_call(c, fn, n, 2, d);
}

/* ---- concat, split ---- */

/* For each of `outer` slabs, moves part k (argument first + k, chunk[k] bytes
 * per slab) to or from its place in the whole (argument `whole`). */
static void slab_build(CgCtx *c, int64_t outer, const int64_t *chunk, int n, int first, int whole, int to_whole) {
  int64_t total = 0;
  for (int k = 0; k < n; k++) total += chunk[k];
  LLVMValueRef begin, end;
  cg_kernel_parallel(c, outer, total, &begin, &end);
  CgLoop l = cg_loop_begin(c, begin, end, 1);
  LLVMValueRef at = LLVMBuildMul(c->b, l.iv, cg_i64(c, total), "");
  for (int k = 0; k < n; at = LLVMBuildAdd(c->b, at, cg_i64(c, chunk[k]), ""), k++) {
    LLVMValueRef part = byte_ptr(c, c->args[first + k], LLVMBuildMul(c->b, l.iv, cg_i64(c, chunk[k]), ""));
    LLVMValueRef place = byte_ptr(c, c->args[whole], at);
    copy_bytes(c, to_whole ? place : part, to_whole ? part : place, chunk[k]);
  }
  cg_loop_end(c, &l);
}

/* Concat (to_whole) or split of node n along `axis` of the whole tensor; parts are inputs or outputs. */
static int emit_slabs(CgCtx *c, const Node *n, const Tensor *whole, Value *const *parts, int n_parts, int to_whole,
                      Diag *d) {
  int axis = data_axis(n, whole->rank, d);
  if (axis < 0) return -1;
  int64_t outer = dims_prod(whole, 0, axis);
  int64_t row = dims_prod(whole, axis + 1, whole->rank) * (int64_t)dt_size(whole->dtype); /* bytes per unit of axis */
  int64_t chunk[IR_MAX_INPUTS > IR_MAX_OUTPUTS ? IR_MAX_INPUTS : IR_MAX_OUTPUTS], sum = 0;
  char key[1024];
  size_t len = (size_t)snprintf(key, sizeof key, "%s.%lld", to_whole ? "concat" : "split", (long long)outer);
  for (int k = 0; k < n_parts; k++) {
    if (!parts[k] || parts[k]->t.dtype != whole->dtype || parts[k]->t.rank != whole->rank)
      return ir_error(d, NULL, n, "internal error: %s operand %d does not match", ir_ops[n->op].name, k);
    chunk[k] = parts[k]->t.dims[axis] * row;
    sum += parts[k]->t.dims[axis];
    key_add(key, sizeof key, &len, chunk[k]);
  }
  if (sum != whole->dims[axis]) return ir_error(d, NULL, n, "sizes along axis %d do not add up", axis);
  if (tensor_numel(whole) == 0) return 0;
  int fresh;
  LLVMValueRef fn = data_kernel(c, n, key, len, sizeof key, n_parts + 1, &fresh, d);
  if (!fn) return -1;
  if (fresh) {
    slab_build(c, outer, chunk, n_parts, to_whole ? 0 : 1, to_whole ? n_parts : 0, to_whole);
    cg_kernel_end(c);
  }
  return cg_kernel_call(c, fn, n, to_whole ? n->n_in : 1, d);
}

int cg_emit_concat(CgCtx *c, const Node *n, Diag *d) { return emit_slabs(c, n, &n->out[0]->t, n->in, n->n_in, 1, d); }

/* Split: the output sizes along the axis come from the outputs' types. */
int cg_emit_split(CgCtx *c, const Node *n, Diag *d) { return emit_slabs(c, n, &n->in[0]->t, n->out, n->n_out, 0, d); }

/* ---- dropout ---- */

/* Dropout that drops nothing (inference, or training with ratio 0): output = input, mask all 1. */
int cg_emit_dropout(CgCtx *c, const Node *n, Diag *d) {
  const Tensor *ratio = n->n_in > 1 && n->in[1] ? &n->in[1]->t : NULL;
  const Tensor *train = n->n_in > 2 && n->in[2] ? &n->in[2]->t : NULL;
  if (train && !train->data) return ir_error(d, NULL, n, "training_mode must be known at compile time");
  if (train && tensor_get_i64(train, 0) &&
      !(ratio && ratio->data && ratio->dtype == DT_F32 && ((const float *)ratio->data)[0] == 0.0f))
    return ir_error(d, NULL, n, "training_mode=1 with a non-zero ratio is not supported");
  int64_t bytes = (int64_t)tensor_bytes(&n->out[0]->t);
  int64_t mask = n->n_out > 1 && n->out[1] ? tensor_numel(&n->out[1]->t) : 0;
  if (tensor_bytes(&n->in[0]->t) != (size_t)bytes) return ir_error(d, NULL, n, "internal error: sizes differ");
  char key[64];
  size_t len = (size_t)snprintf(key, sizeof key, "dropout.%lld.%lld", (long long)bytes, (long long)mask);
  int fresh;
  LLVMValueRef fn = data_kernel(c, n, key, len, sizeof key, 1 + n->n_out, &fresh, d);
  if (!fn) return -1;
  if (fresh) {
    copy_bytes(c, c->args[1], c->args[0], bytes);
    if (mask) LLVMBuildMemSet(c->b, c->args[2], LLVMConstInt(c->t_i8, 1, 0), cg_i64(c, mask), 1);
    cg_kernel_end(c);
  }
  return cg_kernel_call(c, fn, n, 1, d);
}

/* ---- range, shape, size ---- */

/* Range: out[i] = start + i * delta, read at run time; f32 in double like the interpreter, integers wrap. */
int cg_emit_range(CgCtx *c, const Node *n, Diag *d) {
  const Tensor *out = &n->out[0]->t;
  DType t = out->dtype;
  if (t != DT_F32 && t != DT_I64 && t != DT_I32)
    return ir_error(d, NULL, n, "range of %s is not supported", dt_name(t));
  for (int i = 0; i < 3; i++)
    if (n->in[i]->t.dtype != t || tensor_numel(&n->in[i]->t) != 1)
      return ir_error(d, NULL, n, "operand %d must be one %s", i, dt_name(t));
  if (tensor_numel(out) == 0) return 0;
  char key[64];
  size_t len = (size_t)snprintf(key, sizeof key, "range.%s.%lld", dt_name(t), (long long)tensor_numel(out));
  int fresh;
  LLVMValueRef fn = data_kernel(c, n, key, len, sizeof key, 4, &fresh, d);
  if (!fn) return -1;
  if (fresh) {
    LLVMTypeRef et = cg_elem_type(c, t), f64 = LLVMDoubleTypeInContext(c->ctx);
    LLVMValueRef s = LLVMBuildLoad2(c->b, et, c->args[0], ""), dl = LLVMBuildLoad2(c->b, et, c->args[2], "");
    if (t == DT_F32) s = LLVMBuildFPExt(c->b, s, f64, ""), dl = LLVMBuildFPExt(c->b, dl, f64, "");
    CgLoop l = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, tensor_numel(out)), 1);
    LLVMValueRef v;
    if (t == DT_F32) {
      v = LLVMBuildFAdd(c->b, s, LLVMBuildFMul(c->b, LLVMBuildSIToFP(c->b, l.iv, f64, ""), dl, ""), "");
      v = LLVMBuildFPTrunc(c->b, v, et, "");
    } else {
      v = LLVMBuildAdd(c->b, s, LLVMBuildMul(c->b, LLVMBuildTrunc(c->b, l.iv, et, ""), dl, ""), "");
    }
    LLVMBuildStore(c->b, v, cg_gep(c, t, c->args[3], l.iv));
    cg_loop_end(c, &l);
    cg_kernel_end(c);
  }
  return cg_kernel_call(c, fn, n, 3, d);
}

/* A kernel that stores the i64 constants v[0..count) into output 0 (it reads no input). */
static int emit_i64s(CgCtx *c, const Node *n, const int64_t *v, int count, Diag *d) {
  const Tensor *out = &n->out[0]->t;
  if (out->dtype != DT_I64 || tensor_numel(out) != count)
    return ir_error(d, NULL, n, "internal error: output is not i64 with %d elements", count);
  char key[256];
  size_t len = (size_t)snprintf(key, sizeof key, "i64s");
  for (int i = 0; i < count; i++) key_add(key, sizeof key, &len, v[i]);
  int fresh;
  LLVMValueRef fn = data_kernel(c, n, key, len, sizeof key, n->n_out, &fresh, d);
  if (!fn) return -1;
  if (fresh) {
    for (int i = 0; i < count; i++) LLVMBuildStore(c->b, cg_i64(c, v[i]), cg_gep(c, DT_I64, c->args[0], cg_i64(c, i)));
    cg_kernel_end(c);
  }
  return cg_kernel_call(c, fn, n, 0, d);
}

/* Shape: the input's dims[start:end] (negative bounds count from the end, then clamp to [0, rank]). */
int cg_emit_shape(CgCtx *c, const Node *n, Diag *d) {
  int rank = n->in[0]->t.rank;
  int64_t start = ir_attr_i(n, "start", 0), end = ir_attr_i(n, "end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = start < 0 ? 0 : start > rank ? rank : start;
  end = end < start ? start : end > rank ? rank : end;
  return emit_i64s(c, n, n->in[0]->t.dims + start, (int)(end - start), d);
}

/* Size: the input's element count as an i64 scalar. */
int cg_emit_size(CgCtx *c, const Node *n, Diag *d) {
  int64_t numel = tensor_numel(&n->in[0]->t);
  return emit_i64s(c, n, &numel, 1, d);
}

/* ---- scatter_nd ---- */

/* Sets the run's error flag when any of the `tuples` index tuples (k entries each, args[1]) is outside
 * [-dim, dim) on its axis; once per call, before the parallel part (as gather_check_indices). */
static void scatter_check_indices(CgCtx *c, int64_t tuples, int k, const int64_t *dims) {
  LLVMValueRef bad = index_check_begin(c);
  CgLoop l = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, tuples), 1);
  LLVMValueRef out = LLVMConstInt(c->t_i1, 0, 0);
  for (int j = 0; j < k; j++) {
    LLVMValueRef at = LLVMBuildAdd(c->b, LLVMBuildMul(c->b, l.iv, cg_i64(c, k), ""), cg_i64(c, j), "");
    LLVMValueRef v = LLVMBuildLoad2(c->b, c->t_i64, cg_gep(c, DT_I64, c->args[1], at), "");
    out = LLVMBuildOr(c->b, out, LLVMBuildICmp(c->b, LLVMIntSLT, v, cg_i64(c, -dims[j]), ""), "");
    out = LLVMBuildOr(c->b, out, LLVMBuildICmp(c->b, LLVMIntSGE, v, cg_i64(c, dims[j]), ""), "");
  }
  index_check_end(c, &l, bad, out);
}

/* acc `red` v for one element of type t (1 add, 2 mul, 3 max, 4 min; NaN wins for f32 max and min, integers
 * wrap). */
static LLVMValueRef scatter_combine(CgCtx *c, DType t, int red, LLVMValueRef acc, LLVMValueRef v) {
  int f = t == DT_F32;
  if (red == 1) return f ? LLVMBuildFAdd(c->b, acc, v, "") : LLVMBuildAdd(c->b, acc, v, "");
  if (red == 2) return f ? LLVMBuildFMul(c->b, acc, v, "") : LLVMBuildMul(c->b, acc, v, "");
  LLVMTypeRef ty = LLVMTypeOf(acc);
  LLVMValueRef args[2] = {acc, v};
  const char *name = red == 3 ? (f ? "llvm.maximum" : "llvm.smax") : (f ? "llvm.minimum" : "llvm.smin");
  return cg_intrinsic(c, name, &ty, 1, args, 2);
}

#define SCATTER_BLOCK 1024 /* slice elements per work item */

/* ScatterND: out = data (a memcpy), then the index tuples in order, each replacing (or reducing into) its
 * slice of out with its slice of updates. Work items split the slice (columns), never the tuples, so
 * repeated indices apply in order as in the interpreter. Run-time indices out of range set the run's
 * error status and are clamped; constant ones are checked here. */
int cg_emit_scatter_nd(CgCtx *c, const Node *n, Diag *d) {
  static const char *const reds[] = {"none", "add", "mul", "max", "min"};
  const Tensor *x = &n->in[0]->t, *idx = &n->in[1]->t, *out = &n->out[0]->t;
  const char *rs = ir_attr_s(n, "reduction", "none");
  int red = 0;
  while (red < 5 && strcmp(rs, reds[red]) != 0) red++;
  if (red == 5) return ir_error(d, NULL, n, "reduction '%s' is not supported", rs);
  if (idx->dtype != DT_I64 || idx->rank < 1) return ir_error(d, NULL, n, "indices must be i64 of rank >= 1");
  int k = (int)idx->dims[idx->rank - 1];
  if (k > x->rank) return ir_error(d, NULL, n, "indices address %d axes of rank-%d data", k, x->rank);
  int64_t slice = dims_prod(x, k, x->rank), tuples = dims_prod(idx, 0, idx->rank - 1), es = (int64_t)dt_size(x->dtype);
  int64_t st[IR_MAX_RANK], s = 1;
  for (int a = x->rank - 1; a >= 0; a--) st[a] = s, s *= x->dims[a];
  for (int64_t t = 0; idx->data && t < tuples; t++)
    for (int j = 0; j < k; j++) {
      int64_t v = ((const int64_t *)idx->data)[t * k + j];
      if (v < -x->dims[j] || v >= x->dims[j])
        return ir_error(d, NULL, n, "index %lld is out of range for axis %d of size %lld", (long long)v, j,
                        (long long)x->dims[j]);
    }
  if (tensor_numel(out) == 0) return 0;
  char key[512];
  size_t len = (size_t)snprintf(key, sizeof key, "scatter_nd.%s.r%d.c%d.t%lld.s%lld", dt_name(x->dtype), red,
                                idx->data != NULL, (long long)tuples, (long long)slice);
  for (int j = 0; j < k; j++) key_add(key, sizeof key, &len, x->dims[j]);
  key_add(key, sizeof key, &len, tensor_numel(x));
  int fresh;
  LLVMValueRef fn = data_kernel(c, n, key, len, sizeof key, 4, &fresh, d), begin, end;
  if (!fn) return -1;
  if (fresh) {
    DType t = x->dtype;
    if (!idx->data && tuples) scatter_check_indices(c, tuples, k, x->dims);
    copy_bytes(c, c->args[3], c->args[0], tensor_numel(x) * es);
    int64_t items = tuples ? (slice + SCATTER_BLOCK - 1) / SCATTER_BLOCK : 0;
    cg_kernel_parallel(c, items, tuples * (slice < SCATTER_BLOCK ? slice : SCATTER_BLOCK), &begin, &end);
    CgLoop l = cg_loop_begin(c, begin, end, 1);
    LLVMValueRef s0 = LLVMBuildMul(c->b, l.iv, cg_i64(c, SCATTER_BLOCK), "");
    LLVMValueRef cnt = LLVMBuildSub(c->b, cg_i64(c, slice), s0, "");
    cnt = LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, cnt, cg_i64(c, SCATTER_BLOCK), ""), cnt,
                          cg_i64(c, SCATTER_BLOCK), "");
    CgLoop lt = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, tuples), 1);
    LLVMValueRef off = cg_i64(c, 0);
    for (int j = 0; j < k; j++) { /* negative entries count from the end; out of range clamps */
      LLVMValueRef at = LLVMBuildAdd(c->b, LLVMBuildMul(c->b, lt.iv, cg_i64(c, k), ""), cg_i64(c, j), "");
      LLVMValueRef v = LLVMBuildLoad2(c->b, c->t_i64, cg_gep(c, DT_I64, c->args[1], at), "");
      v = LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, v, cg_i64(c, 0), ""),
                          LLVMBuildAdd(c->b, v, cg_i64(c, x->dims[j]), ""), v, "");
      v = LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, v, cg_i64(c, 0), ""), cg_i64(c, 0), v, "");
      v = LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntSGE, v, cg_i64(c, x->dims[j]), ""),
                          cg_i64(c, x->dims[j] - 1), v, "");
      off = LLVMBuildAdd(c->b, off, LLVMBuildMul(c->b, v, cg_i64(c, st[j]), ""), "");
    }
    LLVMValueRef dst = LLVMBuildAdd(c->b, off, s0, "");
    LLVMValueRef src = LLVMBuildAdd(c->b, LLVMBuildMul(c->b, lt.iv, cg_i64(c, slice), ""), s0, "");
    if (red == 0) {
      LLVMValueRef bytes = LLVMBuildMul(c->b, cnt, cg_i64(c, es), "");
      LLVMBuildMemCpy(c->b, cg_gep(c, t, c->args[3], dst), 1, cg_gep(c, t, c->args[2], src), 1, bytes);
    } else {
      LLVMTypeRef et = cg_elem_type(c, t);
      CgLoop le = cg_loop_begin(c, cg_i64(c, 0), cnt, 1);
      LLVMValueRef p = cg_gep(c, t, c->args[3], LLVMBuildAdd(c->b, dst, le.iv, ""));
      LLVMValueRef v = LLVMBuildLoad2(c->b, et, cg_gep(c, t, c->args[2], LLVMBuildAdd(c->b, src, le.iv, "")), "");
      LLVMBuildStore(c->b, scatter_combine(c, t, red, LLVMBuildLoad2(c->b, et, p, ""), v), p);
      cg_loop_end(c, &le);
    }
    cg_loop_end(c, &lt);
    cg_loop_end(c, &l);
    cg_kernel_end(c);
  }
  return cg_kernel_call(c, fn, n, 3, d);
}
