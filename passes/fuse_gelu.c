/* fuse_gelu: the erf form x * 0.5 * (1 + erf(x / sqrt(2))) and the tanh
 * approximation 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
 * become gelu(x) {approximate="none" | "tanh"}. Anchored at the Erf / Tanh.
 * The Erf's / Tanh's input is expanded as a polynomial in x (Add, Sub, Mul,
 * Neg, Div by a scalar, Pow by 2 or 3, in any order and association) and its
 * coefficients compared, so x / sqrt(2), x * (1/sqrt(2)), Pow(x, 3), x * x * x
 * and HF's gelu_fast x * 0.79788 * (1 + 0.044715 * x * x) all match. Then
 * 1 + erf|tanh (either order) times x and 0.5: the 0.5 applied to x, to
 * (1 + erf) or to the product. Constants are checked to FUSE_RTOL. */
#include "fuse_util.h"
#include <math.h>
#include <string.h>

/* A gelu match in progress. */
typedef struct Gelu {
  FuseMatch m;
  const FuseUsers *u;
  Value *x;
  const char *why; /* first failed condition */
} Gelu;

/* Records why the match failed; returns 0. */
static int fail(Gelu *g, const char *why) {
  if (!g->why) g->why = why;
  return 0;
}

/* The node defining v when v is read only by node `reader` (NULL otherwise). */
static Node *private_def(const Gelu *g, const Value *v, const Node *reader) {
  if (v->kind != VK_NODE || !v->def || fuse_sole_user(g->u, v) != reader) return NULL;
  return v->def;
}

/* Whether n is a Mul of v by a scalar near c, or a Div of v by a scalar near 1/c. */
static int scaled_by(const Node *n, const Value *v, double c) {
  if (n->op == OP_MUL) return fuse_is_scalar(fuse_other(n, v), c);
  return n->op == OP_DIV && n->in[0] == v && fuse_is_scalar(n->in[1], 1.0 / c);
}

/* A polynomial in x of degree at most 3: c[0] + c[1] x + c[2] x^2 + c[3] x^3. */
#define POLY_DEG 3
typedef struct Poly {
  double c[POLY_DEG + 1];
} Poly;

static int poly_mul(const Poly *a, const Poly *b, Poly *r) {
  Poly t = {{0}};
  for (int i = 0; i <= POLY_DEG; i++)
    for (int j = 0; j <= POLY_DEG; j++) {
      if (a->c[i] == 0 || b->c[j] == 0) continue;
      if (i + j > POLY_DEG) return 0;
      t.c[i + j] += a->c[i] * b->c[j];
    }
  *r = t;
  return 1;
}

/* Expands v (read by `reader`) as a polynomial in one variable, g->x: known
 * scalars; Add, Sub, Mul, Neg of such; Div by a scalar; Pow by 1, 2 or 3.
 * Every node expanded is read only inside the expression (so it can go); the
 * first value that is none of these is the variable (x, read elsewhere too).
 * 0 when v is not such a polynomial of degree <= 3. */
static int poly_of(Gelu *g, Value *v, const Node *reader, Poly *p, int depth) {
  memset(p, 0, sizeof *p);
  double k;
  if (fuse_scalar(v, &k)) {
    p->c[0] = k;
    return 1;
  }
  Node *n = depth < 12 ? private_def(g, v, reader) : NULL;
  int arith = n && (n->op == OP_ADD || n->op == OP_SUB || n->op == OP_MUL || n->op == OP_DIV ||
                    n->op == OP_POW || n->op == OP_NEG);
  if (!arith) {
    if (g->x && g->x != v) return 0;
    g->x = v;
    p->c[1] = 1;
    return 1;
  }
  Poly a, b;
  if (!poly_of(g, n->in[0], n, &a, depth + 1)) return 0;
  fuse_match_add(&g->m, n);
  if (n->op == OP_NEG) {
    for (int i = 0; i <= POLY_DEG; i++) p->c[i] = -a.c[i];
    return 1;
  }
  if (n->op == OP_POW) {
    double e;
    if (!fuse_scalar(n->in[1], &e) || (e != 1 && e != 2 && e != 3)) return 0;
    *p = a;
    for (int i = 1; i < (int)e; i++)
      if (!poly_mul(p, &a, p)) return 0;
    return 1;
  }
  if (!poly_of(g, n->in[1], n, &b, depth + 1)) return 0;
  for (int i = 0; i <= POLY_DEG; i++)
    p->c[i] = n->op == OP_ADD ? a.c[i] + b.c[i] : n->op == OP_SUB ? a.c[i] - b.c[i] : 0;
  if (n->op == OP_MUL) return poly_mul(&a, &b, p);
  if (n->op == OP_DIV) {
    for (int i = 1; i <= POLY_DEG; i++)
      if (b.c[i] != 0) return 0;
    if (b.c[0] == 0) return 0;
    for (int i = 0; i <= POLY_DEG; i++) p->c[i] = a.c[i] / b.c[0];
  }
  return 1;
}

/* Whether p is c1 x + c3 x^3 (c3 may be 0): other terms 0 (relative to c1), c1 and c3 near. */
static int poly_is(const Poly *p, double c1, double c3) {
  double tol = FUSE_RTOL * fabs(c1);
  if (fabs(p->c[0]) > tol || fabs(p->c[2]) > tol || !fuse_near(p->c[1], c1)) return 0;
  return c3 == 0 ? fabs(p->c[3]) <= tol : fuse_near(p->c[3], c3);
}

/* The Erf's input: x / sqrt(2), in any spelling (x * (1/sqrt(2)), ...); sets g->x. */
static int erf_arg(Gelu *g, Node *erf) {
  Poly p;
  if (!poly_of(g, erf->in[0], erf, &p, 0) || !poly_is(&p, M_SQRT1_2, 0))
    return fail(g, "the Erf's input is not x scaled by 1/sqrt(2)");
  return 1;
}

/* The Tanh's input: sqrt(2/pi) * (x + 0.044715 * x^3), in any spelling
 * (Pow(x, 3), x * x * x in any association, HF's gelu_fast
 * x * 0.7978845608 * (1 + 0.044715 * x * x)); sets g->x. */
static int tanh_arg(Gelu *g, Node *tn) {
  Poly p;
  double c = sqrt(2.0 / M_PI);
  if (!poly_of(g, tn->in[0], tn, &p, 0))
    return fail(g, "the Tanh's input is not a polynomial of degree <= 3 in x");
  if (!poly_is(&p, c, c * 0.044715)) return fail(g, "the Tanh's input is not sqrt(2/pi) * (x + 0.044715 * x^3)");
  return 1;
}

/* From a = 1 + erf|tanh: x * a * 0.5 in any association; returns the result value. */
static Value *product(Gelu *g, Node *a) {
  Value *av = a->out[0], *x = g->x;
  Node *m1 = fuse_sole_user(g->u, av);
  if (!m1 || (m1->op != OP_MUL && m1->op != OP_DIV)) return fail(g, "1 + erf/tanh is not read once, by a Mul"), NULL;
  fuse_match_add(&g->m, m1);
  Node *m2 = fuse_sole_user(g->u, m1->out[0]);
  if (scaled_by(m1, av, 0.5)) { /* x * (a * 0.5) */
    if (m2 && m2->op == OP_MUL && fuse_other(m2, m1->out[0]) == x) return fuse_match_add(&g->m, m2), m2->out[0];
    return fail(g, "(1 + erf/tanh) * 0.5 is not multiplied by x"), NULL;
  }
  if (m1->op != OP_MUL) return fail(g, "1 + erf/tanh is divided"), NULL;
  Value *o = fuse_other(m1, av);
  if (o == x) { /* (x * a) * 0.5 */
    if (m2 && scaled_by(m2, m1->out[0], 0.5)) return fuse_match_add(&g->m, m2), m2->out[0];
    return fail(g, "x * (1 + erf/tanh) is not multiplied by 0.5"), NULL;
  }
  Node *h = private_def(g, o, m1); /* (x * 0.5) * a */
  if (h && (h->op == OP_MUL || h->op == OP_DIV) && (h->in[0] == x || h->in[1] == x) && scaled_by(h, x, 0.5))
    return fuse_match_add(&g->m, h), m1->out[0];
  return fail(g, "1 + erf/tanh is not multiplied by x and 0.5"), NULL;
}

/* Tries the pattern at Erf/Tanh t; 1 when fused. */
static int fuse_at(Graph *gr, PassCtx *ctx, const FuseUsers *u, Node *t, Diag *d) {
  int is_tanh = t->op == OP_TANH;
  const char *pattern = is_tanh ? "gelu_tanh" : "gelu";
  Gelu g = {.u = u};
  fuse_match_add(&g.m, t);
  Node *a = fuse_sole_user(u, t->out[0]);
  Value *y = NULL;
  if (!(is_tanh ? tanh_arg(&g, t) : erf_arg(&g, t))) {
  } else if (!a || a->op != OP_ADD || !fuse_is_scalar(fuse_other(a, t->out[0]), 1.0)) {
    fail(&g, "the result is not 1 + erf/tanh (read once)");
  } else {
    fuse_match_add(&g.m, a);
    y = product(&g, a);
  }
  const Value *leak = y ? fuse_match_leak(&g.m, u, y) : NULL;
  if (y && leak) fail(&g, "an intermediate value has other readers"), y = NULL;
  if (y && (g.x->t.dtype != DT_F32 || !tensor_same_type(&g.x->t, &y->t)))
    fail(&g, "the constants broadcast x to a larger shape"), y = NULL;
  if (!y) {
    pass_explain(ctx, pattern, t, "%s%s%s", g.why, leak ? ": " : "", leak ? leak->name : "");
    return 0;
  }
  const char *name = fuse_name(gr, t->name, "gelu", d);
  fuse_match_remove(&g.m);
  Node *n = name ? fuse_emit(gr, OP_GELU, name, &g.x, 1, y, d) : NULL;
  if (!n || fuse_attr_s(gr, n, "approximate", is_tanh ? "tanh" : "none", d)) return -1;
  return 1;
}

/* Erf and Tanh anchor a GELU. */
static int is_anchor(const Node *n) { return n->op == OP_ERF || n->op == OP_TANH; }

/* Tries every Erf and Tanh as the anchor of a GELU. */
int pass_fuse_gelu(Graph *g, PassCtx *ctx, Diag *d) {
  int changed = fuse_each(g, ctx, is_anchor, fuse_at, d);
  return changed < 0 ? -1 : fuse_finish(g, changed, d);
}
