/* Shape inference: sets every node output's dtype and static shape, in
 * topological order, and works out the values of small tensors whose inputs
 * are all known (Shape -> Gather -> Concat chains on shapes), so that the
 * shape operands of Reshape, Expand, Slice, Range ... are static. */
#include "ir.h"
#include "shape_fused.h"
#include "shape_vision.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef int (*ShapeFn)(Node *n, Diag *d);
#define OP(ID, name, ...) static int shape_##name(Node *n, Diag *d);
#include "ops.def"
#undef OP
static const ShapeFn shape_fns[OP_COUNT] = {
#define OP(ID, name, ...) [OP_##ID] = shape_##name,
#include "ops.def"
#undef OP
};

/* Values with at most this many elements are computed during inference when
 * their inputs are known: enough for any shape arithmetic, too small to
 * matter for compile time. */
#define PROPAGATE_MAX 4096

/* ---- helpers ---- */

static const Tensor *in_t(const Node *n, int i) { return i < n->n_in && n->in[i] ? &n->in[i]->t : NULL; }
static Tensor *out_t(Node *n, int i) { return &n->out[i]->t; }

/* Sets output i to dtype and the given dims. */
static void set_out(Node *n, int i, DType dt, int rank, const int64_t *dims) {
  Tensor *o = out_t(n, i);
  o->dtype = dt;
  o->rank = rank;
  for (int k = 0; k < rank; k++) o->dims[k] = dims[k];
}

static void copy_type(Node *n, int i, const Tensor *t) { set_out(n, i, t->dtype, t->rank, t->dims); }

/* The data of input i, or an error saying it must be known at compile time. */
static const Tensor *need_data(Node *n, int i, Diag *d) {
  const Tensor *t = in_t(n, i);
  if (!t || !t->data) {
    ir_error(d, NULL, n, "input %d ('%s') must be known at compile time (vitc needs static shapes)", i,
             t ? n->in[i]->name : "");
    return NULL;
  }
  return t;
}

/* Normalizes axis into [0, rank), or -1 with an error. */
static int norm_axis(Node *n, int64_t axis, int rank, Diag *d) {
  if (axis < -rank || axis >= rank) {
    ir_error(d, NULL, n, "axis %lld is out of range for rank %d", (long long)axis, rank);
    return -1;
  }
  return (int)(axis < 0 ? axis + rank : axis);
}

static int expect_dtype(Node *n, const Tensor *t, unsigned mask, const char *what, Diag *d) {
  if (mask & (1u << t->dtype)) return 0;
  return ir_error(d, NULL, n, "%s must be %s, got %s", what,
                  mask == (1u << DT_F32) ? "f32" : "a numeric type", dt_name(t->dtype));
}
#define M_F32 (1u << DT_F32)
#define M_NUM ((1u << DT_F32) | (1u << DT_I64) | (1u << DT_I32))
#define M_INT ((1u << DT_I64) | (1u << DT_I32))

/* numpy-style broadcast of a and b into o (dims only). */
static int broadcast_dims(Node *n, const Tensor *a, const Tensor *b, Tensor *o, Diag *d) {
  int r = a->rank > b->rank ? a->rank : b->rank;
  for (int i = 0; i < r; i++) {
    int ia = i - (r - a->rank), ib = i - (r - b->rank);
    int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      char sa[128], sb[128];
      return ir_error(d, NULL, n, "shapes %s and %s do not broadcast", tensor_type_str(a, sa, sizeof sa),
                      tensor_type_str(b, sb, sizeof sb));
    }
    o->dims[i] = da == 1 ? db : da;
  }
  o->rank = r;
  return 0;
}

/* Whether p broadcasts to exactly the shape of t. */
static int broadcasts_to(const Tensor *p, const Tensor *t) {
  if (p->rank > t->rank) return 0;
  for (int i = 0; i < p->rank; i++) {
    int64_t pd = p->dims[p->rank - 1 - i], td = t->dims[t->rank - 1 - i];
    if (pd != td && pd != 1) return 0;
  }
  return 1;
}

/* ---- elementwise ---- */

static int unary_float(Node *n, Diag *d) {
  if (expect_dtype(n, in_t(n, 0), M_F32, "input", d)) return -1;
  copy_type(n, 0, in_t(n, 0));
  return 0;
}
static int unary_numeric(Node *n, Diag *d) {
  if (expect_dtype(n, in_t(n, 0), M_NUM, "input", d)) return -1;
  copy_type(n, 0, in_t(n, 0));
  return 0;
}
static int shape_neg(Node *n, Diag *d) { return unary_numeric(n, d); }
static int shape_abs(Node *n, Diag *d) { return unary_numeric(n, d); }
static int shape_relu(Node *n, Diag *d) { return unary_numeric(n, d); }
static int shape_sqrt(Node *n, Diag *d) { return unary_float(n, d); }
static int shape_reciprocal(Node *n, Diag *d) { return unary_float(n, d); }
static int shape_exp(Node *n, Diag *d) { return unary_float(n, d); }
static int shape_erf(Node *n, Diag *d) { return unary_float(n, d); }
static int shape_tanh(Node *n, Diag *d) { return unary_float(n, d); }
static int shape_sigmoid(Node *n, Diag *d) { return unary_float(n, d); }
static int shape_ceil(Node *n, Diag *d) { return unary_float(n, d); }
static int shape_hard_sigmoid(Node *n, Diag *d) { return unary_float(n, d); }
static int shape_hard_swish(Node *n, Diag *d) { return unary_float(n, d); }

/* Clip(x, min?, max?): each bound present has x's type and one element, and leaves x's shape as it is. */
static int shape_clip(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0);
  if (expect_dtype(n, x, M_NUM, "input", d)) return -1;
  for (int i = 1; i < n->n_in; i++) {
    const Tensor *b = in_t(n, i);
    char ty[128];
    if (!b) continue;
    if (b->dtype != x->dtype || tensor_numel(b) != 1 || b->rank > x->rank)
      return ir_error(d, NULL, n, "%s must be a %s scalar, got %s", i == 1 ? "min" : "max", dt_name(x->dtype),
                      tensor_type_str(b, ty, sizeof ty));
  }
  copy_type(n, 0, x);
  return 0;
}
static int shape_identity(Node *n, Diag *d) { (void)d; copy_type(n, 0, in_t(n, 0)); return 0; }

/* Arithmetic on two same-typed numeric operands. */
static int binary_arith(Node *n, Diag *d) {
  const Tensor *a = in_t(n, 0), *b = in_t(n, 1);
  if (expect_dtype(n, a, M_NUM, "input 0", d)) return -1;
  if (a->dtype != b->dtype)
    return ir_error(d, NULL, n, "operand types differ: %s and %s", dt_name(a->dtype), dt_name(b->dtype));
  Tensor *o = out_t(n, 0);
  o->dtype = a->dtype;
  return broadcast_dims(n, a, b, o, d);
}
static int shape_add(Node *n, Diag *d) { return binary_arith(n, d); }
static int shape_sub(Node *n, Diag *d) { return binary_arith(n, d); }
static int shape_mul(Node *n, Diag *d) { return binary_arith(n, d); }
static int shape_div(Node *n, Diag *d) { return binary_arith(n, d); }

static int shape_mod(Node *n, Diag *d) {
  int64_t fmod = ir_attr_i(n, "fmod", 0);
  if (fmod != 0 && fmod != 1) return ir_error(d, NULL, n, "fmod must be 0 or 1, got %lld", (long long)fmod);
  return binary_arith(n, d);
}

/* Min, Max: one or more same-typed numeric operands, all broadcast together. */
static int variadic_numeric(Node *n, Diag *d) {
  const Tensor *a = in_t(n, 0);
  if (!a) return ir_error(d, NULL, n, "input 0 is missing");
  if (expect_dtype(n, a, M_NUM, "input 0", d)) return -1;
  Tensor acc = *a;
  for (int i = 1; i < n->n_in; i++) {
    const Tensor *b = in_t(n, i);
    if (!b) return ir_error(d, NULL, n, "input %d is missing", i);
    if (b->dtype != a->dtype)
      return ir_error(d, NULL, n, "operand types differ: %s and %s (input %d)", dt_name(a->dtype), dt_name(b->dtype), i);
    Tensor prev = acc;
    if (broadcast_dims(n, &prev, b, &acc, d)) return -1;
  }
  set_out(n, 0, a->dtype, acc.rank, acc.dims);
  return 0;
}
static int shape_min(Node *n, Diag *d) { return variadic_numeric(n, d); }
static int shape_max(Node *n, Diag *d) { return variadic_numeric(n, d); }

static int shape_pow(Node *n, Diag *d) {
  const Tensor *a = in_t(n, 0), *b = in_t(n, 1);
  if (expect_dtype(n, a, M_NUM, "base", d) || expect_dtype(n, b, M_NUM, "exponent", d)) return -1;
  Tensor *o = out_t(n, 0);
  o->dtype = a->dtype;
  return broadcast_dims(n, a, b, o, d);
}

static int shape_equal(Node *n, Diag *d) {
  const Tensor *a = in_t(n, 0), *b = in_t(n, 1);
  if (a->dtype != b->dtype)
    return ir_error(d, NULL, n, "operand types differ: %s and %s", dt_name(a->dtype), dt_name(b->dtype));
  Tensor *o = out_t(n, 0);
  o->dtype = DT_BOOL;
  return broadcast_dims(n, a, b, o, d);
}

/* An order comparison: two same-typed numeric operands, broadcast, to bool. */
static int compare(Node *n, Diag *d) {
  const Tensor *a = in_t(n, 0), *b = in_t(n, 1);
  if (expect_dtype(n, a, M_NUM, "input 0", d)) return -1;
  if (a->dtype != b->dtype)
    return ir_error(d, NULL, n, "operand types differ: %s and %s", dt_name(a->dtype), dt_name(b->dtype));
  Tensor *o = out_t(n, 0);
  o->dtype = DT_BOOL;
  return broadcast_dims(n, a, b, o, d);
}
static int shape_less(Node *n, Diag *d) { return compare(n, d); }
static int shape_less_or_equal(Node *n, Diag *d) { return compare(n, d); }
static int shape_greater(Node *n, Diag *d) { return compare(n, d); }
static int shape_greater_or_equal(Node *n, Diag *d) { return compare(n, d); }

/* A logical op on bool operands (broadcast when two). */
static int logical(Node *n, Diag *d) {
  for (int i = 0; i < n->n_in; i++)
    if (in_t(n, i)->dtype != DT_BOOL)
      return ir_error(d, NULL, n, "input %d must be bool, got %s", i, dt_name(in_t(n, i)->dtype));
  Tensor *o = out_t(n, 0);
  o->dtype = DT_BOOL;
  if (n->n_in == 2) return broadcast_dims(n, in_t(n, 0), in_t(n, 1), o, d);
  copy_type(n, 0, in_t(n, 0));
  return 0;
}
static int shape_not(Node *n, Diag *d) { return logical(n, d); }
static int shape_and(Node *n, Diag *d) { return logical(n, d); }
static int shape_or(Node *n, Diag *d) { return logical(n, d); }
static int shape_xor(Node *n, Diag *d) { return logical(n, d); }

static int shape_where(Node *n, Diag *d) {
  const Tensor *c = in_t(n, 0), *x = in_t(n, 1), *y = in_t(n, 2);
  if (c->dtype != DT_BOOL) return ir_error(d, NULL, n, "condition must be bool, got %s", dt_name(c->dtype));
  if (x->dtype != y->dtype)
    return ir_error(d, NULL, n, "operand types differ: %s and %s", dt_name(x->dtype), dt_name(y->dtype));
  Tensor tmp = {0};
  Tensor *o = out_t(n, 0);
  if (broadcast_dims(n, c, x, &tmp, d) || broadcast_dims(n, &tmp, y, o, d)) return -1;
  o->dtype = x->dtype;
  return 0;
}

static int shape_cast(Node *n, Diag *d) {
  int64_t to = ir_attr_i(n, "to", 0);
  DType dt = dt_from_onnx((int)to);
  if (dt == DT_UNDEF) {
    d->unsupported_dtype = 1;
    return ir_error(d, NULL, n, "Cast to %s is not supported", onnx_dtype_name((int)to));
  }
  const Tensor *x = in_t(n, 0);
  set_out(n, 0, dt, x->rank, x->dims);
  return 0;
}

static int shape_dropout(Node *n, Diag *d) {
  /* Training mode drops nothing when the ratio is 0; anything else is random and not compiled. */
  const Tensor *mode = in_t(n, 2), *ratio = in_t(n, 1);
  if (mode && !need_data(n, 2, d)) return -1;
  if (mode && tensor_get_i64(mode, 0)) {
    if (!ratio || !need_data(n, 1, d) || ((float *)ratio->data)[0] != 0.0f)
      return d->has_error ? -1 : ir_error(d, NULL, n, "training_mode=true with a non-zero ratio is not supported (vitc compiles inference)");
  }
  const Tensor *x = in_t(n, 0);
  copy_type(n, 0, x);
  if (n->n_out > 1) set_out(n, 1, DT_BOOL, x->rank, x->dims);
  return 0;
}

/* ---- linear algebra ---- */

static int shape_matmul(Node *n, Diag *d) {
  const Tensor *a = in_t(n, 0), *b = in_t(n, 1);
  if (expect_dtype(n, a, M_F32, "input A", d) || expect_dtype(n, b, M_F32, "input B", d)) return -1;
  if (a->rank == 0 || b->rank == 0) return ir_error(d, NULL, n, "operands must have rank >= 1");
  /* Promote 1-D operands as numpy does, broadcast the batch dims, then drop the promoted dims. */
  Tensor pa = *a, pb = *b;
  if (a->rank == 1) { pa.rank = 2; pa.dims[0] = 1; pa.dims[1] = a->dims[0]; }
  if (b->rank == 1) { pb.rank = 2; pb.dims[0] = b->dims[0]; pb.dims[1] = 1; }
  int64_t m = pa.dims[pa.rank - 2], k = pa.dims[pa.rank - 1], k2 = pb.dims[pb.rank - 2], nn = pb.dims[pb.rank - 1];
  if (k != k2) {
    char sa[128], sb[128];
    return ir_error(d, NULL, n, "inner dimensions differ: %s x %s", tensor_type_str(a, sa, sizeof sa),
                    tensor_type_str(b, sb, sizeof sb));
  }
  Tensor ba = pa, bb = pb, o = {0};
  ba.rank -= 2;
  bb.rank -= 2;
  if (broadcast_dims(n, &ba, &bb, &o, d)) return -1;
  if (a->rank > 1) o.dims[o.rank++] = m;
  if (b->rank > 1) o.dims[o.rank++] = nn;
  set_out(n, 0, DT_F32, o.rank, o.dims);
  return 0;
}

static int shape_gemm(Node *n, Diag *d) {
  const Tensor *a = in_t(n, 0), *b = in_t(n, 1), *c = in_t(n, 2);
  if (expect_dtype(n, a, M_F32, "input A", d) || expect_dtype(n, b, M_F32, "input B", d)) return -1;
  if (a->rank != 2 || b->rank != 2) return ir_error(d, NULL, n, "A and B must be 2-D");
  int ta = ir_attr_i(n, "transA", 0) != 0, tb = ir_attr_i(n, "transB", 0) != 0;
  int64_t m = a->dims[ta], k = a->dims[!ta], k2 = b->dims[tb], nn = b->dims[!tb];
  if (k != k2) return ir_error(d, NULL, n, "inner dimensions differ: %lld vs %lld", (long long)k, (long long)k2);
  int64_t dims[2] = {m, nn};
  set_out(n, 0, DT_F32, 2, dims);
  if (c) {
    Tensor o = *out_t(n, 0), tmp = {0};
    if (broadcast_dims(n, &o, c, &tmp, d)) return -1;
    if (tmp.rank != 2 || tmp.dims[0] != m || tmp.dims[1] != nn)
      return ir_error(d, NULL, n, "bias C does not broadcast to [%lld,%lld]", (long long)m, (long long)nn);
  }
  return 0;
}

int64_t ir_conv_out_dim(int64_t in, int64_t k, int64_t s, int64_t dil, const char *auto_pad, int64_t *pb,
                        int64_t *pe) {
  int64_t ek = (k - 1) * dil + 1;
  if (strcmp(auto_pad, "SAME_UPPER") == 0 || strcmp(auto_pad, "SAME_LOWER") == 0) {
    int64_t out = (in + s - 1) / s;
    int64_t total = (out - 1) * s + ek - in;
    if (total < 0) total = 0;
    int upper = auto_pad[5] == 'U';
    *pb = upper ? total / 2 : total - total / 2;
    *pe = total - *pb;
  } else if (strcmp(auto_pad, "VALID") == 0) {
    *pb = *pe = 0;
  }
  return (in + *pb + *pe - ek) / s + 1;
}

static int shape_conv(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0), *w = in_t(n, 1), *b = in_t(n, 2);
  if (expect_dtype(n, x, M_F32, "input X", d) || expect_dtype(n, w, M_F32, "weight W", d)) return -1;
  if (x->rank != 4 || w->rank != 4) return ir_error(d, NULL, n, "only 2-D convolution (4-D X and W) is supported");
  int64_t group = ir_attr_i(n, "group", 1);
  if (group < 1 || x->dims[1] % group || w->dims[0] % group || w->dims[1] * group != x->dims[1])
    return ir_error(d, NULL, n, "channels %lld do not match weight %lldx%lld with group %lld",
                    (long long)x->dims[1], (long long)w->dims[0], (long long)w->dims[1], (long long)group);
  if (b && (b->rank != 1 || b->dims[0] != w->dims[0]))
    return ir_error(d, NULL, n, "bias must be 1-D of size %lld", (long long)w->dims[0]);
  int64_t ks[2] = {w->dims[2], w->dims[3]}, st[2] = {1, 1}, dl[2] = {1, 1}, pads[4] = {0, 0, 0, 0};
  if (ir_attr_ints(n, "kernel_shape", ks, 2) >= 0 && (ks[0] != w->dims[2] || ks[1] != w->dims[3]))
    return ir_error(d, NULL, n, "kernel_shape does not match the weight");
  int np = ir_attr_ints(n, "pads", pads, 4), ns = ir_attr_ints(n, "strides", st, 2),
      nd = ir_attr_ints(n, "dilations", dl, 2);
  if ((np >= 0 && np != 4) || (ns >= 0 && ns != 2) || (nd >= 0 && nd != 2))
    return ir_error(d, NULL, n, "pads, strides and dilations must have 4, 2 and 2 entries");
  const char *ap = ir_attr_s(n, "auto_pad", "NOTSET");
  if (strcmp(ap, "NOTSET") && strcmp(ap, "VALID") && strcmp(ap, "SAME_UPPER") && strcmp(ap, "SAME_LOWER"))
    return ir_error(d, NULL, n, "unknown auto_pad '%s'", ap);
  int64_t dims[4] = {x->dims[0], w->dims[0], 0, 0};
  for (int i = 0; i < 2; i++) {
    if (st[i] < 1 || dl[i] < 1 || pads[i] < 0 || pads[i + 2] < 0)
      return ir_error(d, NULL, n, "strides and dilations must be >= 1 and pads >= 0");
    dims[2 + i] = ir_conv_out_dim(x->dims[2 + i], ks[i], st[i], dl[i], ap, &pads[i], &pads[i + 2]);
    if (dims[2 + i] < 1) return ir_error(d, NULL, n, "kernel is larger than the padded input");
  }
  set_out(n, 0, DT_F32, 4, dims);
  return 0;
}

/* ---- normalization and reductions ---- */

static int shape_softmax(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0);
  if (expect_dtype(n, x, M_F32, "input", d)) return -1;
  if (norm_axis(n, ir_attr_i(n, "axis", -1), x->rank, d) < 0) return -1;
  copy_type(n, 0, x);
  return 0;
}

static int shape_layer_norm(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0), *s = in_t(n, 1), *b = in_t(n, 2);
  if (expect_dtype(n, x, M_F32, "input", d)) return -1;
  int axis = norm_axis(n, ir_attr_i(n, "axis", -1), x->rank, d);
  if (axis < 0) return -1;
  Tensor norm = {.dtype = DT_F32, .rank = x->rank - axis};
  memcpy(norm.dims, x->dims + axis, sizeof(int64_t) * (size_t)norm.rank);
  if (!broadcasts_to(s, &norm) || (b && !broadcasts_to(b, &norm)))
    return ir_error(d, NULL, n, "scale/bias do not broadcast to the normalized shape");
  copy_type(n, 0, x);
  int64_t stat[IR_MAX_RANK];
  for (int i = 0; i < x->rank; i++) stat[i] = i < axis ? x->dims[i] : 1;
  for (int j = 1; j < n->n_out; j++) set_out(n, j, DT_F32, x->rank, stat);
  return 0;
}

/* Reads the reduce axes into `reduce`; returns the axis count, or -1. */
static int reduce_axes(Node *n, int rank, int reduce[IR_MAX_RANK], Diag *d) {
  memset(reduce, 0, sizeof(int) * IR_MAX_RANK);
  const Tensor *axes = in_t(n, 1);
  int64_t count = 0;
  if (axes) {
    if (!need_data(n, 1, d)) return -1;
    count = tensor_numel(axes);
  }
  if (count == 0) {
    if (ir_attr_i(n, "noop_with_empty_axes", 0)) return 0;
    for (int i = 0; i < rank; i++) reduce[i] = 1;
    return rank;
  }
  for (int64_t i = 0; i < count; i++) {
    int a = norm_axis(n, tensor_get_i64(axes, i), rank, d);
    if (a < 0) return -1;
    reduce[a] = 1;
  }
  return (int)count;
}

static int shape_reduce(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0);
  if (expect_dtype(n, x, M_NUM, "input", d)) return -1;
  int reduce[IR_MAX_RANK];
  if (reduce_axes(n, x->rank, reduce, d) < 0) return -1;
  int keep = ir_attr_i(n, "keepdims", 1) != 0;
  int64_t dims[IR_MAX_RANK];
  int r = 0;
  for (int i = 0; i < x->rank; i++) {
    if (!reduce[i]) dims[r++] = x->dims[i];
    else if (keep) dims[r++] = 1;
  }
  set_out(n, 0, x->dtype, r, dims);
  return 0;
}
/* Over no elements a sum is 0 and a max -inf (the type's minimum for integers; ONNX), and an f32 mean is
 * NaN (numpy, torch); an integer mean has no value (ONNX: undefined), so it is refused. */
static int shape_reduce_mean(Node *n, Diag *d) {
  if (shape_reduce(n, d)) return -1;
  const Tensor *x = in_t(n, 0);
  if (x->dtype == DT_F32 || tensor_numel(x) > 0 || tensor_numel(out_t(n, 0)) == 0) return 0;
  char ty[128];
  return ir_error(d, NULL, n, "the mean of no elements (input %s) is undefined for %s",
                  tensor_type_str(x, ty, sizeof ty), dt_name(x->dtype));
}
static int shape_reduce_sum(Node *n, Diag *d) { return shape_reduce(n, d); }
static int shape_reduce_max(Node *n, Diag *d) { return shape_reduce(n, d); }

/* GlobalAveragePool(x): f32 [N, C, D1, ...] to [N, C, 1, ...]. */
static int shape_global_average_pool(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0);
  char ty[128];
  if (expect_dtype(n, x, M_F32, "input", d)) return -1;
  if (x->rank < 3)
    return ir_error(d, NULL, n, "input must be [N, C, D1, ...] (rank >= 3), got %s", tensor_type_str(x, ty, sizeof ty));
  int64_t dims[IR_MAX_RANK];
  for (int a = 0; a < x->rank; a++) dims[a] = a < 2 ? x->dims[a] : 1;
  set_out(n, 0, DT_F32, x->rank, dims);
  return 0;
}

/* ---- average_pool, max_pool ---- */

/* Reads an ints attribute of `count` entries into v (left as it is when absent). */
static int pool_ints(const Node *n, const char *name, int64_t *v, int count, Diag *d) {
  int got = ir_attr_ints(n, name, v, count);
  if (got < 0 || got == count) return 0;
  return ir_error(d, NULL, n, "%s has %d entries, expected %d", name, got, count);
}

int ir_pool_geom(const Node *n, const Tensor *x, PoolGeom *g, Diag *d) {
  char ty[128];
  if (x->dtype != DT_F32) return ir_error(d, NULL, n, "input must be f32, got %s", dt_name(x->dtype));
  if (x->rank != 3 && x->rank != 4)
    return ir_error(d, NULL, n, "only 1-D and 2-D pooling ([N, C, W] or [N, C, H, W]) is supported, got %s",
                    tensor_type_str(x, ty, sizeof ty));
  int s = x->rank - 2, o = 2 - s; /* o: where the node's axes start in g */
  int64_t k[2] = {0, 0}, st[2] = {1, 1}, dl[2] = {1, 1}, pads[4] = {0, 0, 0, 0};
  if (ir_attr_ints(n, "kernel_shape", k, 2) != s)
    return ir_error(d, NULL, n, "kernel_shape must have %d entries (one per spatial axis)", s);
  if (pool_ints(n, "strides", st, s, d) || pool_ints(n, "dilations", dl, s, d) || pool_ints(n, "pads", pads, 2 * s, d))
    return -1;
  const char *ap = ir_attr_s(n, "auto_pad", "NOTSET");
  if (strcmp(ap, "NOTSET") && strcmp(ap, "VALID") && strcmp(ap, "SAME_UPPER") && strcmp(ap, "SAME_LOWER"))
    return ir_error(d, NULL, n, "unknown auto_pad '%s'", ap);
  int ceil_mode = ir_attr_i(n, "ceil_mode", 0) != 0;
  memset(g, 0, sizeof *g);
  g->dims = s;
  g->count_include_pad = ir_attr_i(n, "count_include_pad", 0) != 0;
  g->in[0] = g->out[0] = g->k[0] = g->st[0] = g->dl[0] = 1;
  for (int i = 0; i < s; i++) {
    int a = o + i;
    g->in[a] = x->dims[2 + i], g->k[a] = k[i], g->st[a] = st[i], g->dl[a] = dl[i];
    g->pb[a] = pads[i], g->pe[a] = pads[s + i];
    if (k[i] < 1 || st[i] < 1 || dl[i] < 1 || pads[i] < 0 || pads[s + i] < 0)
      return ir_error(d, NULL, n, "kernel_shape, strides and dilations must be >= 1 and pads >= 0");
    int64_t ek = (k[i] - 1) * dl[i] + 1, in = g->in[a];
    if (strcmp(ap, "NOTSET") != 0) { /* the output size auto_pad implies; ceil_mode does not change it */
      g->out[a] = ir_conv_out_dim(in, k[i], st[i], dl[i], ap, &g->pb[a], &g->pe[a]);
    } else {
      int64_t span = in + g->pb[a] + g->pe[a] - ek;
      if (span < 0) return ir_error(d, NULL, n, "the kernel is larger than the padded input on spatial axis %d", i);
      g->out[a] = (ceil_mode ? (span + st[i] - 1) / st[i] : span / st[i]) + 1;
      if (ceil_mode && (g->out[a] - 1) * st[i] >= in + g->pb[a]) g->out[a]--; /* starts in the trailing pads */
    }
    if (g->out[a] < 1 && in > 0) return ir_error(d, NULL, n, "the kernel is larger than the padded input");
    if (g->out[a] < 0) g->out[a] = 0;
  }
  return 0;
}

int64_t ir_pool_count(const PoolGeom *g, int a, int64_t o) {
  int64_t lo = g->count_include_pad ? -g->pb[a] : 0, hi = g->count_include_pad ? g->in[a] + g->pe[a] : g->in[a];
  int64_t cnt = 0, p = o * g->st[a] - g->pb[a];
  for (int64_t t = 0; t < g->k[a]; t++, p += g->dl[a]) cnt += p >= lo && p < hi;
  return cnt;
}

/* The output type of a pooling node: [N, C, out...]. */
static int shape_pool(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0);
  PoolGeom g;
  if (ir_pool_geom(n, x, &g, d)) return -1;
  int64_t dims[4] = {x->dims[0], x->dims[1], g.out[0], g.out[1]};
  if (g.dims == 1) dims[2] = g.out[1];
  set_out(n, 0, DT_F32, x->rank, dims);
  return 0;
}
static int shape_average_pool(Node *n, Diag *d) { return shape_pool(n, d); }
static int shape_max_pool(Node *n, Diag *d) {
  if (n->n_out > 1 && n->out[1])
    return ir_error(d, NULL, n, "the Indices output (output 1) is not supported; vitc computes the values only");
  return shape_pool(n, d);
}

/* ---- layout ---- */

/* Input i of n, a shape (Reshape, Expand, ConstantOfShape): known, 1-D, at most IR_MAX_RANK entries and,
 * unless min_entry allows it, none below min_entry; NULL with d filled otherwise. */
static const Tensor *need_shape(Node *n, int i, int64_t min_entry, Diag *d) {
  const Tensor *s = need_data(n, i, d);
  char ty[128];
  if (!s) return NULL;
  if (s->rank != 1)
    return ir_error(d, NULL, n, "shape must be 1-D, got %s", tensor_type_str(s, ty, sizeof ty)), NULL;
  if (tensor_numel(s) > IR_MAX_RANK)
    return ir_error(d, NULL, n, "shape has %lld entries, vitc supports at most rank %d", (long long)tensor_numel(s),
                    IR_MAX_RANK), NULL;
  const char *why = min_entry < 0 ? "only -1 (inferred) may be negative" : "a dimension cannot be negative";
  for (int k = 0; k < (int)tensor_numel(s); k++)
    if (tensor_get_i64(s, k) < min_entry)
      return ir_error(d, NULL, n, "shape entry %d is %lld: %s", k, (long long)tensor_get_i64(s, k), why), NULL;
  return s;
}

static int shape_reshape(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0), *s = need_shape(n, 1, -1, d);
  if (!s) return -1;
  int r = (int)tensor_numel(s), infer = -1, allowzero = ir_attr_i(n, "allowzero", 0) != 0;
  int64_t dims[IR_MAX_RANK], known = 1;
  for (int i = 0; i < r; i++) {
    int64_t v = tensor_get_i64(s, i);
    if (v == 0 && !allowzero) {
      if (i >= x->rank) return ir_error(d, NULL, n, "shape entry %d is 0 but the input has rank %d", i, x->rank);
      v = x->dims[i];
    }
    if (v == -1) {
      if (infer >= 0) return ir_error(d, NULL, n, "shape has more than one -1");
      infer = i;
      v = 1;
    }
    dims[i] = v;
    if (__builtin_mul_overflow(known, v, &known)) { /* report it as the size check would */
      Tensor t = {x->dtype, r, {0}, NULL};
      for (int k = 0; k < r; k++) t.dims[k] = k == infer ? 1 : k <= i ? dims[k] : tensor_get_i64(s, k);
      char ty[160];
      return ir_error(d, NULL, n, "'%s' (%s) is too large: over 2^40 bytes, the most vitc handles in one tensor",
                      n->out[0]->name, tensor_type_str(&t, ty, sizeof ty));
    }
  }
  int64_t total = tensor_numel(x);
  if (infer >= 0) {
    if (known == 0)
      return ir_error(d, NULL, n, "cannot infer the -1 entry of the shape: the other entries multiply to 0");
    if (total % known) return ir_error(d, NULL, n, "cannot infer the -1 entry of the shape");
    dims[infer] = total / known;
    known = total;
  }
  if (known != total) {
    char sx[128];
    return ir_error(d, NULL, n, "cannot reshape %s into %lld elements", tensor_type_str(x, sx, sizeof sx),
                    (long long)known);
  }
  set_out(n, 0, x->dtype, r, dims);
  return 0;
}

static int shape_flatten(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0);
  int64_t axis = ir_attr_i(n, "axis", 1);
  if (axis < -x->rank || axis > x->rank) return ir_error(d, NULL, n, "axis %lld out of range", (long long)axis);
  if (axis < 0) axis += x->rank;
  int64_t dims[2] = {1, 1};
  for (int i = 0; i < x->rank; i++) dims[i >= axis] *= x->dims[i];
  set_out(n, 0, x->dtype, 2, dims);
  return 0;
}

static int shape_squeeze(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0);
  int drop[IR_MAX_RANK] = {0};
  if (in_t(n, 1)) {
    const Tensor *axes = need_data(n, 1, d);
    if (!axes) return -1;
    for (int64_t i = 0; i < tensor_numel(axes); i++) {
      int a = norm_axis(n, tensor_get_i64(axes, i), x->rank, d);
      if (a < 0) return -1;
      if (x->dims[a] != 1) return ir_error(d, NULL, n, "cannot squeeze axis %d of size %lld", a, (long long)x->dims[a]);
      drop[a] = 1;
    }
  } else {
    for (int i = 0; i < x->rank; i++) drop[i] = x->dims[i] == 1;
  }
  int64_t dims[IR_MAX_RANK];
  int r = 0;
  for (int i = 0; i < x->rank; i++)
    if (!drop[i]) dims[r++] = x->dims[i];
  set_out(n, 0, x->dtype, r, dims);
  return 0;
}

static int shape_unsqueeze(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0), *axes = need_data(n, 1, d);
  if (!axes) return -1;
  if (tensor_numel(axes) > IR_MAX_RANK - x->rank)
    return ir_error(d, NULL, n, "result has rank %lld, vitc supports at most %d",
                    (long long)(x->rank + tensor_numel(axes)), IR_MAX_RANK);
  int r = x->rank + (int)tensor_numel(axes);
  int ins[IR_MAX_RANK] = {0};
  for (int64_t i = 0; i < tensor_numel(axes); i++) {
    int a = norm_axis(n, tensor_get_i64(axes, i), r, d);
    if (a < 0) return -1;
    if (ins[a]) return ir_error(d, NULL, n, "axis %d repeated", a);
    ins[a] = 1;
  }
  int64_t dims[IR_MAX_RANK];
  for (int i = 0, j = 0; i < r; i++) dims[i] = ins[i] ? 1 : x->dims[j++];
  set_out(n, 0, x->dtype, r, dims);
  return 0;
}

static int shape_transpose(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0);
  int64_t perm[IR_MAX_RANK];
  int np = ir_attr_ints(n, "perm", perm, IR_MAX_RANK);
  if (np < 0) {
    np = x->rank;
    for (int i = 0; i < np; i++) perm[i] = np - 1 - i;
  }
  if (np != x->rank) return ir_error(d, NULL, n, "perm has %d entries for rank %d", np, x->rank);
  int seen[IR_MAX_RANK] = {0};
  int64_t dims[IR_MAX_RANK];
  for (int i = 0; i < np; i++) {
    if (perm[i] < 0 || perm[i] >= np || seen[perm[i]]++) return ir_error(d, NULL, n, "perm is not a permutation");
    dims[i] = x->dims[perm[i]];
  }
  set_out(n, 0, x->dtype, np, dims);
  return 0;
}

static int shape_expand(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0), *s = need_shape(n, 1, 0, d);
  if (!s) return -1;
  Tensor st = {.rank = (int)tensor_numel(s)};
  for (int i = 0; i < st.rank; i++) st.dims[i] = tensor_get_i64(s, i);
  Tensor *o = out_t(n, 0);
  o->dtype = x->dtype;
  return broadcast_dims(n, x, &st, o, d);
}

int64_t ir_slice_axis(int64_t dim, int64_t *start, int64_t end, int64_t step) {
  int64_t s = *start < 0 ? *start + dim : *start;
  if (end < 0) end += dim;
  if (step > 0) {
    *start = s < 0 ? 0 : s > dim ? dim : s;
    end = end < 0 ? 0 : end > dim ? dim : end;
    return end > *start ? (end - *start - 1) / step + 1 : 0; /* no overflow for any step */
  }
  if (dim == 0) return *start = 0, 0; /* an empty axis: nothing to walk back from */
  *start = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
  end = end < -1 ? -1 : end > dim - 1 ? dim - 1 : end;
  return *start > end ? (*start - end - 1) / (step == INT64_MIN ? INT64_MAX : -step) + 1 : 0;
}

static int shape_slice(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0), *st = need_data(n, 1, d), *en = st ? need_data(n, 2, d) : NULL;
  if (!en) return -1;
  const Tensor *ax = in_t(n, 3), *sp = in_t(n, 4);
  if ((ax && !need_data(n, 3, d)) || (sp && !need_data(n, 4, d))) return -1;
  int64_t k = tensor_numel(st);
  if (tensor_numel(en) != k || (ax && tensor_numel(ax) != k) || (sp && tensor_numel(sp) != k))
    return ir_error(d, NULL, n, "starts, ends, axes and steps must have the same length");
  int64_t dims[IR_MAX_RANK];
  memcpy(dims, x->dims, sizeof dims);
  int seen[IR_MAX_RANK] = {0};
  for (int64_t i = 0; i < k; i++) {
    int a = norm_axis(n, ax ? tensor_get_i64(ax, i) : i, x->rank, d);
    if (a < 0) return -1;
    if (seen[a]++) return ir_error(d, NULL, n, "axis %d repeated", a);
    int64_t step = sp ? tensor_get_i64(sp, i) : 1;
    if (step == 0) return ir_error(d, NULL, n, "step must not be 0");
    int64_t start = tensor_get_i64(st, i);
    dims[a] = ir_slice_axis(x->dims[a], &start, tensor_get_i64(en, i), step);
  }
  set_out(n, 0, x->dtype, x->rank, dims);
  return 0;
}

/* ---- pad, scatter_nd ---- */

int ir_pad_mode(const Node *n, Diag *d) {
  static const char *const names[] = {"constant", "reflect", "edge", "wrap"};
  const char *m = ir_attr_s(n, "mode", "constant");
  for (int i = 0; i < 4; i++)
    if (strcmp(m, names[i]) == 0) return i;
  return ir_error(d, NULL, n, "mode '%s' is not supported (constant, reflect, edge or wrap)", m);
}

int ir_pad_amounts(const Node *n, const Tensor *x, const Tensor *pads, const Tensor *axes, int64_t *begin,
                   int64_t *end, Diag *d) {
  int64_t k = axes ? tensor_numel(axes) : x->rank;
  char ty[128];
  if (pads->dtype != DT_I64 || pads->rank != 1 || tensor_numel(pads) != 2 * k)
    return ir_error(d, NULL, n, "pads must be i64[%lld] (a begin and an end for each of %lld axes), got %s",
                    (long long)(2 * k), (long long)k, tensor_type_str(pads, ty, sizeof ty));
  if (axes && axes->dtype != DT_I64 && axes->dtype != DT_I32)
    return ir_error(d, NULL, n, "axes must be i64 or i32, got %s", dt_name(axes->dtype));
  int seen[IR_MAX_RANK] = {0};
  for (int a = 0; a < x->rank; a++) begin[a] = end[a] = 0;
  for (int64_t i = 0; i < k; i++) {
    int64_t a = axes ? tensor_get_i64(axes, i) : i;
    if (a < -x->rank || a >= x->rank)
      return ir_error(d, NULL, n, "axis %lld is out of range for rank %d", (long long)a, x->rank);
    if (a < 0) a += x->rank;
    if (seen[a]++) return ir_error(d, NULL, n, "axis %lld repeated", (long long)a);
    begin[a] = tensor_get_i64(pads, i);
    end[a] = tensor_get_i64(pads, k + i);
    int64_t dim;
    if (__builtin_add_overflow(x->dims[a], begin[a], &dim) || __builtin_add_overflow(dim, end[a], &dim) || dim < 0)
      return ir_error(d, NULL, n, "pads %lld and %lld leave axis %lld of size %lld with a negative size",
                      (long long)begin[a], (long long)end[a], (long long)a, (long long)x->dims[a]);
  }
  return 0;
}

int64_t ir_pad_source(int64_t o, int64_t begin, int64_t dim, PadMode mode) {
  int64_t i = o - begin;
  if (i >= 0 && i < dim) return i;
  switch (mode) {
  case PAD_CONSTANT: return -1;
  case PAD_EDGE: return i < 0 ? 0 : dim - 1;
  case PAD_WRAP: return (i % dim + dim) % dim;
  case PAD_REFLECT: {
    if (dim == 1) return 0;
    int64_t period = 2 * (dim - 1), m = (i % period + period) % period;
    return m < dim ? m : period - m;
  }
  }
  return -1;
}

/* Pad(x, pads, constant_value?, axes?) {mode}: pads and axes known at compile time, the constant one
 * element of x's type (read at run time). */
static int shape_pad(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0), *pads = need_data(n, 1, d), *cv = in_t(n, 2), *axes = in_t(n, 3);
  int64_t begin[IR_MAX_RANK], end[IR_MAX_RANK], dims[IR_MAX_RANK];
  int mode = ir_pad_mode(n, d);
  char ty[128];
  if (!pads || mode < 0 || (axes && !need_data(n, 3, d))) return -1;
  if (cv && (cv->dtype != x->dtype || tensor_numel(cv) != 1))
    return ir_error(d, NULL, n, "constant_value must be one %s element, got %s", dt_name(x->dtype),
                    tensor_type_str(cv, ty, sizeof ty));
  if (ir_pad_amounts(n, x, pads, axes, begin, end, d)) return -1;
  for (int a = 0; a < x->rank; a++) {
    dims[a] = x->dims[a] + begin[a] + end[a];
    if (mode != PAD_CONSTANT && x->dims[a] == 0 && dims[a] > 0)
      return ir_error(d, NULL, n, "%s padding of axis %d, which is empty, has nothing to repeat",
                      ir_attr_s(n, "mode", "constant"), a);
  }
  set_out(n, 0, x->dtype, x->rank, dims);
  return 0;
}

/* ScatterND(data, indices, updates) {reduction}: indices i64 [..., k] with k <= rank(data), updates
 * indices.shape[:-1] + data.shape[k:]. */
static int shape_scatter_nd(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0), *idx = in_t(n, 1), *upd = in_t(n, 2);
  const char *red = ir_attr_s(n, "reduction", "none");
  char sx[128], si[128], su[128];
  if (strcmp(red, "none") && strcmp(red, "add") && strcmp(red, "mul") && strcmp(red, "max") && strcmp(red, "min"))
    return ir_error(d, NULL, n, "reduction '%s' is not supported (none, add, mul, max or min)", red);
  if (strcmp(red, "none") && x->dtype == DT_BOOL)
    return ir_error(d, NULL, n, "reduction '%s' of bool data is not supported", red);
  if (idx->dtype != DT_I64) return ir_error(d, NULL, n, "indices must be i64, got %s", dt_name(idx->dtype));
  if (upd->dtype != x->dtype)
    return ir_error(d, NULL, n, "updates are %s, data %s", dt_name(upd->dtype), dt_name(x->dtype));
  int64_t k = idx->rank ? idx->dims[idx->rank - 1] : -1;
  int ok = idx->rank >= 1 && k <= x->rank && upd->rank == idx->rank - 1 + x->rank - k;
  for (int a = 0; ok && a < upd->rank; a++)
    ok = upd->dims[a] == (a < idx->rank - 1 ? idx->dims[a] : x->dims[a - (idx->rank - 1) + k]);
  if (!ok)
    return ir_error(d, NULL, n, "indices %s and updates %s do not fit data %s (updates must be indices.shape[:-1] + "
                    "data.shape[k:], k = indices.shape[-1] <= rank)", tensor_type_str(idx, si, sizeof si),
                    tensor_type_str(upd, su, sizeof su), tensor_type_str(x, sx, sizeof sx));
  copy_type(n, 0, x);
  return 0;
}

static int shape_gather(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0), *idx = in_t(n, 1);
  if (expect_dtype(n, idx, M_INT, "indices", d)) return -1;
  if (x->rank == 0) return ir_error(d, NULL, n, "data must have rank >= 1");
  int axis = norm_axis(n, ir_attr_i(n, "axis", 0), x->rank, d);
  if (axis < 0) return -1;
  int r = x->rank - 1 + idx->rank;
  if (r > IR_MAX_RANK) return ir_error(d, NULL, n, "result has rank %d, vitc supports at most %d", r, IR_MAX_RANK);
  int64_t dims[IR_MAX_RANK];
  int j = 0;
  for (int i = 0; i < axis; i++) dims[j++] = x->dims[i];
  for (int i = 0; i < idx->rank; i++) dims[j++] = idx->dims[i];
  for (int i = axis + 1; i < x->rank; i++) dims[j++] = x->dims[i];
  set_out(n, 0, x->dtype, r, dims);
  return 0;
}

static int shape_concat(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0);
  if (!x) return ir_error(d, NULL, n, "input 0 is missing");
  int axis = norm_axis(n, ir_attr_i(n, "axis", 0), x->rank, d);
  if (axis < 0) return -1;
  int64_t dims[IR_MAX_RANK];
  memcpy(dims, x->dims, sizeof dims);
  dims[axis] = 0;
  for (int i = 0; i < n->n_in; i++) {
    const Tensor *t = in_t(n, i);
    if (!t) return ir_error(d, NULL, n, "input %d is missing", i);
    int ok = t->dtype == x->dtype && t->rank == x->rank;
    for (int k = 0; ok && k < x->rank; k++) ok = k == axis || t->dims[k] == x->dims[k];
    if (!ok) {
      char sa[128], sb[128];
      return ir_error(d, NULL, n, "input %d %s does not match %s outside axis %d", i, tensor_type_str(t, sa, sizeof sa),
                      tensor_type_str(x, sb, sizeof sb), axis);
    }
    dims[axis] += t->dims[axis];
  }
  set_out(n, 0, x->dtype, x->rank, dims);
  return 0;
}

static int shape_split(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0);
  int axis = norm_axis(n, ir_attr_i(n, "axis", 0), x->rank, d);
  if (axis < 0) return -1;
  int64_t dim = x->dims[axis], total = 0;
  int overflow = 0;
  int64_t dims[IR_MAX_RANK];
  memcpy(dims, x->dims, sizeof dims);
  const Tensor *sp = in_t(n, 1);
  if (sp && !need_data(n, 1, d)) return -1;
  if (sp && tensor_numel(sp) != n->n_out)
    return ir_error(d, NULL, n, "split has %lld entries for %d outputs", (long long)tensor_numel(sp), n->n_out);
  int64_t chunk = (dim + n->n_out - 1) / n->n_out; /* equal split: all but the last get ceil(dim / n) */
  for (int j = 0; j < n->n_out; j++) {
    int64_t size = sp ? tensor_get_i64(sp, j) : (j + 1 < n->n_out ? chunk : dim - chunk * (n->n_out - 1));
    if (size < 0 && sp)
      return ir_error(d, NULL, n, "split entry %d is %lld: a size cannot be negative", j, (long long)size);
    if (size < 0) return ir_error(d, NULL, n, "cannot split %lld into %d parts", (long long)dim, n->n_out);
    dims[axis] = size;
    overflow |= __builtin_add_overflow(total, size, &total); /* a fuzzed entry near INT64_MAX */
    set_out(n, j, x->dtype, x->rank, dims);
  }
  if (overflow)
    return ir_error(d, NULL, n, "split sizes add up to more than %lld, axis has %lld", (long long)INT64_MAX, (long long)dim);
  if (total != dim) return ir_error(d, NULL, n, "split sizes add up to %lld, axis has %lld", (long long)total, (long long)dim);
  return 0;
}

static int shape_shape(Node *n, Diag *d) {
  (void)d;
  int r = in_t(n, 0)->rank;
  int64_t s = ir_attr_i(n, "start", 0), e = ir_attr_i(n, "end", r);
  if (s < 0) s += r;
  if (e < 0) e += r;
  s = s < 0 ? 0 : s > r ? r : s;
  e = e < 0 ? 0 : e > r ? r : e;
  int64_t dims[1] = {e > s ? e - s : 0};
  set_out(n, 0, DT_I64, 1, dims);
  return 0;
}

static int shape_size(Node *n, Diag *d) {
  (void)d;
  set_out(n, 0, DT_I64, 0, NULL);
  return 0;
}

static int shape_constant_of_shape(Node *n, Diag *d) {
  const Tensor *s = need_shape(n, 0, 0, d);
  if (!s) return -1;
  const Attr *v = ir_attr_find(n, "value");
  DType dt = v && v->kind == AT_TENSOR ? v->t->dtype : DT_F32;
  if (v && (v->kind != AT_TENSOR || tensor_numel(v->t) != 1)) return ir_error(d, NULL, n, "value must be a one-element tensor");
  int64_t dims[IR_MAX_RANK];
  int r = (int)tensor_numel(s);
  for (int i = 0; i < r; i++) dims[i] = tensor_get_i64(s, i);
  set_out(n, 0, dt, r, dims);
  return 0;
}

int64_t ir_range_count_i64(int64_t start, int64_t limit, int64_t delta) {
  if (delta == 0) return -1;
  __int128 span = delta > 0 ? (__int128)limit - start : (__int128)start - limit; /* 128 bits: no overflow */
  __int128 step = delta > 0 ? (__int128)delta : -(__int128)delta, count = span > 0 ? (span + step - 1) / step : 0;
  return count <= INT64_MAX ? (int64_t)count : -1;
}

static int shape_range(Node *n, Diag *d) {
  const Tensor *s = need_data(n, 0, d), *l = s ? need_data(n, 1, d) : NULL, *dl = l ? need_data(n, 2, d) : NULL;
  if (!dl) return -1;
  if (s->dtype != l->dtype || s->dtype != dl->dtype || tensor_numel(s) != 1 || tensor_numel(l) != 1 || tensor_numel(dl) != 1)
    return ir_error(d, NULL, n, "start, limit and delta must be scalars of one type");
  double cnt;
  if (s->dtype == DT_F32) {
    double start = *(float *)s->data, limit = *(float *)l->data, delta = *(float *)dl->data;
    if (delta == 0) return ir_error(d, NULL, n, "delta must not be 0");
    cnt = __builtin_ceil((limit - start) / delta);
  } else { /* exactly: in double, ceil((2^63 - 1 - -2^63) / (2^63 - 1)) comes out 2, not 3 */
    if (tensor_get_i64(dl, 0) == 0) return ir_error(d, NULL, n, "delta must not be 0");
    int64_t c = ir_range_count_i64(tensor_get_i64(s, 0), tensor_get_i64(l, 0), tensor_get_i64(dl, 0));
    cnt = c < 0 ? INFINITY : (double)c;
  }
  if (!(cnt <= (double)(IR_MAX_TENSOR_BYTES / 4))) /* also NaN */
    return ir_error(d, NULL, n, "a range of %g elements is too large", cnt);
  int64_t dims[1] = {cnt > 0 ? (int64_t)cnt : 0};
  set_out(n, 0, s->dtype, 1, dims);
  return 0;
}

/* ---- convolutional-network ops (ir/shape_vision.c) ---- */

static int shape_batch_norm(Node *n, Diag *d) { return shape_vision_batch_norm(n, d); }
static int shape_arg_max(Node *n, Diag *d) { return shape_vision_arg(n, d); }
static int shape_arg_min(Node *n, Diag *d) { return shape_vision_arg(n, d); }
static int shape_top_k(Node *n, Diag *d) { return shape_vision_top_k(n, d); }
static int shape_resize(Node *n, Diag *d) { return shape_vision_resize(n, d); }

/* ---- fused ops (ir/shape_fused.c) ---- */

static int shape_gelu(Node *n, Diag *d) { return shape_fused_gelu(n, d); }
static int shape_linear(Node *n, Diag *d) { return shape_fused_linear(n, d); }
static int shape_attention(Node *n, Diag *d) { return shape_fused_attention(n, d); }

/* ---- driver ---- */

/* Computes the node's outputs with the interpreter when every input is
 * known and the outputs are small; the data lives in the graph's arena. */
static int propagate_values(Graph *g, Node *n, Diag *d) {
  int shape_only = (ir_ops[n->op].flags & OPF_SHAPE_ONLY) != 0;
  Tensor in[IR_MAX_INPUTS], out[IR_MAX_OUTPUTS];
  for (int i = 0; i < n->n_in; i++) {
    if (!n->in[i]) { memset(&in[i], 0, sizeof in[i]); continue; }
    if (!n->in[i]->t.data && !shape_only) return 0;
    in[i] = n->in[i]->t;
  }
  for (int j = 0; j < n->n_out; j++)
    if (tensor_numel(&n->out[j]->t) > PROPAGATE_MAX) return 0;
  for (int j = 0; j < n->n_out; j++) {
    out[j] = n->out[j]->t;
    out[j].data = arena_alloc(&g->arena, tensor_bytes(&out[j]));
    if (!out[j].data) return ir_error(d, g->file, n, "out of memory");
  }
  if (ir_interp_node(n, in, out, d)) return -1;
  for (int j = 0; j < n->n_out; j++) {
    n->out[j]->t.data = out[j].data;
    n->out[j]->data_inferred = 1;
  }
  return 0;
}

/* Refuses a value whose type has a negative dim or is over IR_MAX_TENSOR_BYTES (n: its node, or NULL). */
static int check_size(const Value *v, const Node *n, Diag *d) {
  if (v->t.dtype == DT_UNDEF) return 0;
  int r = tensor_size_checked(&v->t, NULL, NULL);
  if (r == 0) return 0;
  char ty[160];
  tensor_type_str(&v->t, ty, sizeof ty);
  if (r == -1) return ir_error(d, NULL, n, "'%s' (%s) has a negative dimension", v->name, ty);
  return ir_error(d, NULL, n, "'%s' (%s) is too large: over 2^40 bytes, the most vitc handles in one tensor", v->name,
                  ty);
}

int ir_infer_shapes(Graph *g, Diag *d) {
  const char *saved = d->file;
  d->file = g->file;
  int rc = 0;
  for (int i = 0; i < g->n_values && rc == 0; i++) /* inputs and constants (the rest are checked below) */
    if (g->values[i]->kind != VK_NODE) rc = check_size(g->values[i], NULL, d);
  for (int i = 0; i < g->n_nodes && rc == 0; i++) {
    Node *n = g->nodes[i];
    for (int k = 0; k < n->n_in && rc == 0; k++)
      if (n->in[k] && n->in[k]->t.dtype == DT_UNDEF)
        rc = ir_error(d, NULL, n, "input '%s' has no type (not defined before use)", n->in[k]->name);
    if (rc) break;
    for (int j = 0; j < n->n_out; j++) {
      if (n->out[j]->data_inferred) n->out[j]->t.data = NULL; /* stale from an earlier run */
      n->out[j]->data_inferred = 0;
    }
    rc = shape_fns[n->op](n, d);
    for (int j = 0; j < n->n_out && rc == 0; j++)
      if (n->out[j]) rc = check_size(n->out[j], n, d);
    if (rc == 0) rc = propagate_values(g, n, d);
  }
  d->file = saved;
  return rc;
}
