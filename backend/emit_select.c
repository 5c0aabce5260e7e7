/* arg_max, arg_min, top_k: the input seen as [outer, len, inner] around the axis, one work item per
 * (outer, inner) row, scanned element by element in order (scalar code: these ops run once on a model's
 * logits, not in its body). ArgMax/ArgMin carry the best value and its index; TopK keeps the k best so far
 * sorted in the output buffers themselves, inserting each element that beats the last one after the ones it
 * does not beat, so ties keep the lower index first. The order is ir_beats / ir_arg_beats (ir/ir.h): NaN
 * beats every number (for TopK's smallest, every number beats NaN). */
#include "cg_rows.h"
#include <stdio.h>

/* Whether a beats b: the order of ir_arg_beats (arg: 1) or ir_beats (arg: 0); largest / is_max in hi. */
static LLVMValueRef beats(CgCtx *c, DType t, LLVMValueRef a, LLVMValueRef b, int hi, int arg) {
  LLVMBuilderRef bl = c->b;
  if (t != DT_F32) return LLVMBuildICmp(bl, hi ? LLVMIntSGT : LLVMIntSLT, a, b, "");
  LLVMValueRef cmp = LLVMBuildFCmp(bl, hi ? LLVMRealOGT : LLVMRealOLT, a, b, "");
  LLVMValueRef a_nan = LLVMBuildFCmp(bl, LLVMRealUNO, a, a, ""), b_nan = LLVMBuildFCmp(bl, LLVMRealUNO, b, b, "");
  LLVMValueRef nan_rule = arg || hi ? LLVMBuildAnd(bl, a_nan, LLVMBuildNot(bl, b_nan, ""), "")
                                    : LLVMBuildAnd(bl, b_nan, LLVMBuildNot(bl, a_nan, ""), "");
  return LLVMBuildOr(bl, cmp, nan_rule, "");
}

/* The row of work item iv: the offsets of its first input and output elements. */
static void row_bases(CgCtx *c, LLVMValueRef iv, int64_t len, int64_t out_len, int64_t inner, LLVMValueRef *xb,
                      LLVMValueRef *ob) {
  LLVMValueRef o = LLVMBuildUDiv(c->b, iv, cg_i64(c, inner), ""), i = LLVMBuildURem(c->b, iv, cg_i64(c, inner), "");
  *xb = LLVMBuildAdd(c->b, LLVMBuildMul(c->b, o, cg_i64(c, len * inner), ""), i, "");
  *ob = LLVMBuildAdd(c->b, LLVMBuildMul(c->b, o, cg_i64(c, out_len * inner), ""), i, "");
}

/* &base[row + j * inner] for elements of type t. */
static LLVMValueRef at(CgCtx *c, DType t, LLVMValueRef base, LLVMValueRef row, LLVMValueRef j, int64_t inner) {
  return cg_gep(c, t, base, LLVMBuildAdd(c->b, row, LLVMBuildMul(c->b, j, cg_i64(c, inner), ""), ""));
}

/* The arg kernel (arguments x, y). */
static void arg_kernel(CgCtx *c, DType t, int64_t outer, int64_t len, int64_t inner, int is_max, int last) {
  LLVMTypeRef et = cg_elem_type(c, t);
  LLVMValueRef begin, end, xb, ob;
  cg_kernel_parallel(c, outer * inner, len, &begin, &end);
  CgLoop l = cg_loop_begin(c, begin, end, 1);
  row_bases(c, l.iv, len, 1, inner, &xb, &ob);
  LLVMValueRef v0 = LLVMBuildLoad2(c->b, et, cg_gep(c, t, c->args[0], xb), "");
  CgLoop lj = cg_loop_begin(c, cg_i64(c, 1), cg_i64(c, len), 1);
  LLVMValueRef bv = cg_carry(c, &lj, v0), bi = cg_carry(c, &lj, cg_i64(c, 0));
  LLVMValueRef v = LLVMBuildLoad2(c->b, et, at(c, t, c->args[0], xb, lj.iv, inner), "");
  LLVMValueRef take = beats(c, t, v, bv, is_max, 1);
  if (last) take = LLVMBuildOr(c->b, take, LLVMBuildNot(c->b, beats(c, t, bv, v, is_max, 1), ""), "");
  LLVMValueRef nbv = LLVMBuildSelect(c->b, take, v, bv, ""), nbi = LLVMBuildSelect(c->b, take, lj.iv, bi, "");
  cg_carry_next(c, bv, nbv);
  cg_carry_next(c, bi, nbi);
  cg_loop_end(c, &lj);
  LLVMBuildStore(c->b, bi, cg_gep(c, DT_I64, c->args[1], ob));
  cg_loop_end(c, &l);
}

static int emit_arg(CgCtx *c, const Node *n, int is_max, Diag *d) {
  const Tensor *x = &n->in[0]->t;
  int axis = cg_axis(n, x->rank, d);
  if (axis < 0) return -1;
  if (!ir_attr_find(n, "axis")) axis = 0; /* ArgMax's default axis is 0 */
  int64_t outer = 1, inner = 1, len = x->dims[axis];
  for (int a = 0; a < x->rank; a++)
    if (a != axis) *(a < axis ? &outer : &inner) *= x->dims[a];
  if (outer * inner == 0) return 0;
  int last = ir_attr_i(n, "select_last_index", 0) != 0;
  char key[160];
  snprintf(key, sizeof key, "%s.%s.%lldx%lldx%lld.l%d", is_max ? "arg_max" : "arg_min", dt_name(x->dtype),
           (long long)outer, (long long)len, (long long)inner, last);
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (!fn) {
    if (!(fn = cg_kernel_begin(c, key, 2, d))) return -1;
    arg_kernel(c, x->dtype, outer, len, inner, is_max, last);
    cg_kernel_end(c);
  }
  return cg_kernel_call(c, fn, n, 1, d);
}

int cg_emit_arg_max(CgCtx *c, const Node *n, Diag *d) { return emit_arg(c, n, 1, d); }
int cg_emit_arg_min(CgCtx *c, const Node *n, Diag *d) { return emit_arg(c, n, 0, d); }

/* The top_k kernel (arguments x, k (unused), values, indices). */
static void top_k_kernel(CgCtx *c, DType t, int64_t outer, int64_t len, int64_t inner, int64_t k, int largest) {
  LLVMTypeRef et = cg_elem_type(c, t);
  LLVMValueRef begin, end, xb, ob, *val = &c->args[2], *idx = &c->args[3];
  cg_kernel_parallel(c, outer * inner, len * k, &begin, &end);
  CgLoop l = cg_loop_begin(c, begin, end, 1);
  row_bases(c, l.iv, len, k, inner, &xb, &ob);
  CgLoop lj = cg_loop_begin(c, cg_i64(c, 0), cg_i64(c, len), 1);
  LLVMValueRef m = cg_carry(c, &lj, cg_i64(c, 0)); /* how many are kept so far */
  LLVMValueRef v = LLVMBuildLoad2(c->b, et, at(c, t, c->args[0], xb, lj.iv, inner), "");
  LLVMValueRef room = LLVMBuildICmp(c->b, LLVMIntSLT, m, cg_i64(c, k), "room");
  LLVMValueRef last = LLVMBuildSelect(c->b, room, cg_i64(c, 0), LLVMBuildSub(c->b, m, cg_i64(c, 1), ""), "");
  LLVMValueRef lv = LLVMBuildLoad2(c->b, et, at(c, t, *val, ob, last, inner), "");
  LLVMValueRef enter = LLVMBuildOr(c->b, room, beats(c, t, v, lv, largest, 0), "enter");
  LLVMBasicBlockRef cont = cg_if_begin(c, enter);
  /* shift the kept ones that v beats one place down, from p0 = min(m, k - 1) towards 0 */
  LLVMValueRef p0 = LLVMBuildSelect(c->b, room, m, cg_i64(c, k - 1), "p0");
  CgLoop lq = cg_loop_begin(c, cg_i64(c, 0), p0, 1);
  LLVMValueRef pos = cg_carry(c, &lq, p0), done = cg_carry(c, &lq, LLVMConstInt(c->t_i1, 0, 0));
  LLVMValueRef p = LLVMBuildSub(c->b, p0, lq.iv, ""), pm = LLVMBuildSub(c->b, p, cg_i64(c, 1), "");
  LLVMValueRef prev = LLVMBuildLoad2(c->b, et, at(c, t, *val, ob, pm, inner), "");
  LLVMValueRef shift = LLVMBuildAnd(c->b, LLVMBuildNot(c->b, done, ""), beats(c, t, v, prev, largest, 0), "shift");
  LLVMBasicBlockRef cont2 = cg_if_begin(c, shift);
  LLVMBuildStore(c->b, prev, at(c, t, *val, ob, p, inner));
  LLVMValueRef pi = LLVMBuildLoad2(c->b, c->t_i64, at(c, DT_I64, *idx, ob, pm, inner), "");
  LLVMBuildStore(c->b, pi, at(c, DT_I64, *idx, ob, p, inner));
  cg_if_end(c, cont2);
  cg_carry_next(c, pos, LLVMBuildSelect(c->b, shift, pm, pos, ""));
  cg_carry_next(c, done, LLVMBuildOr(c->b, done, LLVMBuildNot(c->b, shift, ""), ""));
  cg_loop_end(c, &lq);
  LLVMBuildStore(c->b, v, at(c, t, *val, ob, pos, inner));
  LLVMBuildStore(c->b, lj.iv, at(c, DT_I64, *idx, ob, pos, inner));
  cg_if_end(c, cont);
  LLVMValueRef grow = LLVMBuildAnd(c->b, enter, room, "");
  cg_carry_next(c, m, LLVMBuildSelect(c->b, grow, LLVMBuildAdd(c->b, m, cg_i64(c, 1), ""), m, ""));
  cg_loop_end(c, &lj);
  cg_loop_end(c, &l);
}

int cg_emit_top_k(CgCtx *c, const Node *n, Diag *d) {
  const Tensor *x = &n->in[0]->t, *y = &n->out[0]->t;
  int axis = cg_axis(n, x->rank, d);
  if (axis < 0) return -1;
  int64_t outer = 1, inner = 1, len = x->dims[axis], k = y->dims[axis];
  for (int a = 0; a < x->rank; a++)
    if (a != axis) *(a < axis ? &outer : &inner) *= x->dims[a];
  if (outer * inner * k == 0) return 0;
  int largest = ir_attr_i(n, "largest", 1) != 0, has_idx = n->n_out > 1 && n->out[1];
  char key[160];
  snprintf(key, sizeof key, "top_k.%s.%lldx%lldx%lld.k%lld.l%d", dt_name(x->dtype), (long long)outer, (long long)len,
           (long long)inner, (long long)k, largest);
  LLVMValueRef fn = cg_kernel_find(c, key);
  if (!fn) {
    if (!(fn = cg_kernel_begin(c, key, 4, d))) return -1;
    top_k_kernel(c, x->dtype, outer, len, inner, k, largest);
    cg_kernel_end(c);
  }
  LLVMValueRef args[4] = {NULL, LLVMConstNull(c->t_ptr), NULL, NULL};
  if (!(args[0] = cg_value_ptr(c, n->in[0], d)) || !(args[2] = cg_value_ptr(c, n->out[0], d))) return -1;
  if (has_idx) {
    if (!(args[3] = cg_value_ptr(c, n->out[1], d))) return -1;
  } else { /* the indices are needed while sorting: the node's scratch */
    if (!(args[3] = cg_scratch_ptr(c, n, d))) return -1;
  }
  cg_kernel_call_args(c, fn, args, 4);
  return 0;
}
