/* ONNX Einsum lowered at import to Transpose, Unsqueeze, Squeeze, ReduceSum,
 * MatMul and Mul (see onnx_einsum.h). The IR has no einsum op: attention
 * written with einsum ("bhid,bhjd->bhij", "bhij,bhjd->bhid") becomes the same
 * Transpose + MatMul chains the fusion passes already read.
 *
 * Index roles for two operands A, B and output O (after indices used only in
 * one operand are summed out of it): batch (A, B, O), contracted (A, B, not
 * O), left (A, O), right (B, O). With exactly one contracted index k:
 *   A -> [batch.., left'.., 1 per right', l, k]   (left' = left but its last, l)
 *   B -> [batch.., 1 per left', right'.., k, r]   (right' = right but its last, r)
 *   MatMul -> [batch.., left'.., right'.., l, r]; a missing l or r is a unit
 * dim squeezed after; then a Transpose to O's order. Otherwise A and B go to
 * [batch.., left.., right.., contracted..] (units where absent), Mul, and
 * ReduceSum over the contracted dims. */
#include "onnx_einsum.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define EIN_MAX IR_MAX_RANK

/* An operand's (or the output's) indices, one letter per dim. */
typedef struct Letters {
  char l[EIN_MAX];
  int n;
} Letters;

typedef struct Ein {
  ImportCtx *c;
  const EinsumNames *names;
  const char *out; /* the ONNX output name, given to the last node */
  int steps;       /* values made so far (names them) */
  int nodes;       /* nodes made so far (names them) */
} Ein;

__attribute__((format(printf, 2, 3))) static int ein_error(Ein *e, const char *fmt, ...) {
  char msg[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return ir_error(e->c->d, e->c->file, NULL, "node '%s' (Einsum): %s", e->names->node, msg);
}

static int find(const Letters *s, char ch) {
  for (int i = 0; i < s->n; i++)
    if (s->l[i] == ch) return i;
  return -1;
}

/* Parses one term of the equation (letters only); -1 with the error set. */
static int parse_term(Ein *e, const char *p, size_t len, Letters *t) {
  t->n = 0;
  for (size_t i = 0; i < len; i++) {
    char ch = p[i];
    if (ch == ' ') continue;
    if (ch == '.') return ein_error(e, "an ellipsis ('...') is not supported");
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
      return ein_error(e, "bad character '%c' in the equation", ch);
    if (find(t, ch) >= 0)
      return ein_error(e, "index '%c' repeated within one operand (a diagonal) is not supported", ch);
    if (t->n == EIN_MAX) return ein_error(e, "a term has more than %d indices", EIN_MAX);
    t->l[t->n++] = ch;
  }
  return 0;
}

/* A new value for the next node's output: the ONNX output name when last. */
static Value *ein_value(Ein *e, int last) {
  char base[400];
  snprintf(base, sizeof base, "%.300s/einsum_%d", e->out, e->steps++);
  const char *name = last ? e->out : e->names->fresh(e->names->ctx, base);
  if (!name) {
    ir_error(e->c->d, e->c->file, NULL, "out of memory");
    return NULL;
  }
  return import_value(e->c, name, VK_NODE);
}

/* op(in[0..n_in)) into a new value; NULL with the error set. */
static Node *ein_node(Ein *e, OpKind op, Value *const *in, int n_in, int last) {
  char name[400];
  snprintf(name, sizeof name, "%.300s/%s_%d", e->names->node, ir_ops[op].name, e->nodes++);
  const char *nm = arena_strdup(&e->c->g->arena, name);
  Node *n = nm ? ir_node_new(e->c->g, op, nm, n_in, 1, e->c->d) : NULL;
  Value *v = n ? ein_value(e, last) : NULL;
  if (!v) return NULL;
  for (int i = 0; i < n_in; i++) n->in[i] = in[i];
  n->out[0] = v;
  v->def = n;
  return n;
}

/* A 1-D int64 constant of vals[0..n). */
static Value *ein_const(Ein *e, const int64_t *vals, int n) {
  char base[400];
  snprintf(base, sizeof base, "%.300s/einsum_axes_%d", e->out, e->steps++);
  const char *name = e->names->fresh(e->names->ctx, base);
  Value *v = name ? import_value(e->c, name, VK_CONST) : NULL;
  int64_t *data = v ? arena_alloc(&e->c->g->arena, sizeof *data * (size_t)(n ? n : 1)) : NULL;
  if (!data) {
    if (v || !name) ir_error(e->c->d, e->c->file, NULL, "out of memory");
    return NULL;
  }
  memcpy(data, vals, sizeof *data * (size_t)n);
  v->t.dtype = DT_I64;
  v->t.rank = 1;
  v->t.dims[0] = n;
  v->t.data = data;
  return v;
}

/* x transposed from letters `from` to the order `to` (same set); x when already so. */
static Value *ein_transpose(Ein *e, Value *x, const Letters *from, const Letters *to, int last) {
  int64_t perm[EIN_MAX];
  int identity = 1;
  for (int i = 0; i < to->n; i++) {
    perm[i] = find(from, to->l[i]);
    identity &= perm[i] == i;
  }
  if (identity && !last) return x;
  Node *n = ein_node(e, OP_TRANSPOSE, &x, 1, last);
  Attr *a = n ? ir_attr_add(e->c->g, n, "perm", AT_INTS, e->c->d) : NULL;
  int64_t *p = a ? arena_alloc(&e->c->g->arena, sizeof *p * (size_t)(to->n ? to->n : 1)) : NULL;
  if (!p) {
    if (n && a) ir_error(e->c->d, e->c->file, NULL, "out of memory");
    return NULL;
  }
  memcpy(p, perm, sizeof *p * (size_t)to->n);
  a->ints = p;
  a->n = to->n;
  return n->out[0];
}

/* Unsqueeze / Squeeze (axes) or ReduceSum (axes, keepdims=0) of x; x when no axes. */
static Value *ein_axes_op(Ein *e, OpKind op, Value *x, const int64_t *axes, int n_axes, int last) {
  if (!n_axes) return x;
  Value *in[2] = {x, ein_const(e, axes, n_axes)};
  Node *n = in[1] ? ein_node(e, op, in, 2, last) : NULL;
  if (!n) return NULL;
  if (op == OP_REDUCE_SUM) {
    Attr *a = ir_attr_add(e->c->g, n, "keepdims", AT_INT, e->c->d);
    if (!a) return NULL;
    a->i = 0;
  }
  return n->out[0];
}

/* Sums the indices of *t that are in neither o1 nor o2 (when given) out of x; *t updated. */
static Value *sum_unused(Ein *e, Value *x, Letters *t, const Letters *o1, const Letters *o2, int last) {
  int64_t axes[EIN_MAX];
  int n_axes = 0;
  Letters kept = {{0}, 0};
  for (int i = 0; i < t->n; i++) {
    if (find(o1, t->l[i]) < 0 && (!o2 || find(o2, t->l[i]) < 0))
      axes[n_axes++] = i;
    else
      kept.l[kept.n++] = t->l[i];
  }
  *t = kept;
  return ein_axes_op(e, OP_REDUCE_SUM, x, axes, n_axes, last);
}

static void push(Letters *s, char ch) { s->l[s->n++] = ch; }

/* The indices with a role (in A? in B? in O?) into dst: in O's order, or A's for contracted ones. */
static void roles(const Letters *out, const Letters *a, const Letters *b, int in_a, int in_b, int in_out,
                  Letters *dst) {
  dst->n = 0;
  const Letters *scan = in_out ? out : a;
  for (int i = 0; i < scan->n; i++) {
    char ch = scan->l[i];
    if ((find(a, ch) >= 0) == in_a && (find(b, ch) >= 0) == in_b && (find(out, ch) >= 0) == in_out) push(dst, ch);
  }
}

/* Two operands: see the file comment. */
static int two_operands(Ein *e, Value *x, Value *y, Letters a, Letters b, const Letters *o) {
  if (!(x = sum_unused(e, x, &a, &b, o, 0)) || !(y = sum_unused(e, y, &b, &a, o, 0))) return -1;
  Letters batch, con, left, right;
  roles(o, &a, &b, 1, 1, 1, &batch);
  roles(o, &a, &b, 1, 1, 0, &con);
  roles(o, &a, &b, 1, 0, 1, &left);
  roles(o, &a, &b, 0, 1, 1, &right);
  if (batch.n + left.n + right.n + (con.n == 1 ? 2 : con.n) > EIN_MAX)
    return ein_error(e, "too many indices (more than %d dims)", EIN_MAX);
  Letters res = batch;
  int64_t ua[EIN_MAX], ub[EIN_MAX];
  int nua = 0, nub = 0;
  Value *r;
  if (con.n == 1) {
    Letters ta = batch, tb = batch;
    int nl = left.n ? left.n - 1 : 0, nr = right.n ? right.n - 1 : 0, rank = batch.n + nl + nr + 2;
    for (int i = 0; i < nl; i++) push(&ta, left.l[i]), push(&res, left.l[i]);
    for (int i = 0; i < nr; i++) ua[nua++] = batch.n + nl + i, push(&res, right.l[i]);
    if (left.n) push(&ta, left.l[nl]), push(&res, left.l[nl]);
    else ua[nua++] = rank - 2;
    push(&ta, con.l[0]);
    for (int i = 0; i < nl; i++) ub[nub++] = batch.n + i;
    for (int i = 0; i < nr; i++) push(&tb, right.l[i]);
    push(&tb, con.l[0]);
    if (right.n) push(&tb, right.l[nr]), push(&res, right.l[nr]);
    else ub[nub++] = rank - 1;
    Value *xa = ein_transpose(e, x, &a, &ta, 0), *yb = xa ? ein_transpose(e, y, &b, &tb, 0) : NULL;
    if (yb) xa = ein_axes_op(e, OP_UNSQUEEZE, xa, ua, nua, 0);
    if (xa && yb) yb = ein_axes_op(e, OP_UNSQUEEZE, yb, ub, nub, 0);
    if (!xa || !yb) return -1;
    int64_t sq[2];
    int nsq = 0;
    if (!left.n) sq[nsq++] = rank - 2;
    if (!right.n) sq[nsq++] = rank - 1;
    int tail = nsq > 0 || memcmp(res.l, o->l, (size_t)o->n) != 0;
    Value *in[2] = {xa, yb};
    Node *mm = ein_node(e, OP_MATMUL, in, 2, !tail);
    if (!mm) return -1;
    r = mm->out[0];
    if (nsq && !(r = ein_axes_op(e, OP_SQUEEZE, r, sq, nsq, memcmp(res.l, o->l, (size_t)o->n) == 0))) return -1;
  } else {
    Letters full = batch, fa = {{0}, 0}, fb = {{0}, 0};
    for (int i = 0; i < left.n; i++) push(&full, left.l[i]);
    for (int i = 0; i < right.n; i++) push(&full, right.l[i]);
    for (int i = 0; i < con.n; i++) push(&full, con.l[i]);
    for (int i = 0; i < full.n; i++) {
      if (find(&a, full.l[i]) >= 0) push(&fa, full.l[i]);
      else ua[nua++] = i;
      if (find(&b, full.l[i]) >= 0) push(&fb, full.l[i]);
      else ub[nub++] = i;
    }
    Value *xa = ein_transpose(e, x, &a, &fa, 0), *yb = xa ? ein_transpose(e, y, &b, &fb, 0) : NULL;
    if (yb) xa = ein_axes_op(e, OP_UNSQUEEZE, xa, ua, nua, 0);
    if (xa && yb) yb = ein_axes_op(e, OP_UNSQUEEZE, yb, ub, nub, 0);
    if (!xa || !yb) return -1;
    res = full;
    res.n -= con.n;
    int64_t sum[EIN_MAX];
    for (int i = 0; i < con.n; i++) sum[i] = res.n + i;
    int tail_t = memcmp(res.l, o->l, (size_t)o->n) != 0;
    Value *in[2] = {xa, yb};
    Node *mul = ein_node(e, OP_MUL, in, 2, !tail_t && !con.n);
    if (!mul || !(r = ein_axes_op(e, OP_REDUCE_SUM, mul->out[0], sum, con.n, !tail_t))) return -1;
  }
  if (memcmp(res.l, o->l, (size_t)o->n) != 0 && !ein_transpose(e, r, &res, o, 1)) return -1;
  return 0;
}

int onnx_einsum_build(ImportCtx *c, const EinsumNames *names, const char *equation, Value *const *in, int n_in,
                      const char *out) {
  Ein e = {c, names, out, 0, 0};
  Letters t[2], o;
  const char *arrow = strstr(equation, "->");
  size_t lhs = arrow ? (size_t)(arrow - equation) : strlen(equation);
  const char *comma = memchr(equation, ',', lhs);
  int terms = comma ? 2 : 1;
  if (comma && memchr(comma + 1, ',', lhs - (size_t)(comma + 1 - equation)))
    return ein_error(&e, "equation \"%s\" has more than two operands (not supported)", equation);
  if (terms != n_in) return ein_error(&e, "equation \"%s\" does not match the number of inputs", equation);
  size_t len0 = comma ? (size_t)(comma - equation) : lhs;
  if (parse_term(&e, equation, len0, &t[0])) return -1;
  if (comma && parse_term(&e, comma + 1, lhs - len0 - 1, &t[1])) return -1;
  if (arrow) {
    if (parse_term(&e, arrow + 2, strlen(arrow + 2), &o)) return -1;
  } else { /* implicit output: indices that occur once, in alphabetical order */
    o.n = 0;
    for (int ch = 'A'; ch <= 'z'; ch++) {
      int count = 0;
      for (int k = 0; k < terms; k++) count += find(&t[k], (char)ch) >= 0;
      if (count == 1 && o.n < EIN_MAX) push(&o, (char)ch);
    }
  }
  for (int i = 0; i < o.n; i++)
    if (find(&t[0], o.l[i]) < 0 && (terms < 2 || find(&t[1], o.l[i]) < 0))
      return ein_error(&e, "output index '%c' is in no operand", o.l[i]);
  if (terms == 2) return two_operands(&e, in[0], in[1], t[0], t[1], &o);
  Value *x = in[0];
  int needs_t = 0;
  Letters kept = t[0];
  for (int i = 0, k = 0; i < kept.n; i++) needs_t |= find(&o, kept.l[i]) >= 0 && o.l[k++] != kept.l[i];
  int summed = kept.n != o.n;
  if (summed && !(x = sum_unused(&e, x, &kept, &o, NULL, !needs_t))) return -1;
  if (needs_t || !summed) return ein_transpose(&e, x, &kept, &o, 1) ? 0 : -1;
  return 0;
}
