/* fuse_gelu: the erf form x * 0.5 * (1 + erf(x / sqrt(2))) and the tanh
 * approximation 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
 * become gelu(x) {approximate="none" | "tanh"}. Anchored at the Erf / Tanh;
 * operands of Add and Mul in either order, x / sqrt(2) or x * (1/sqrt(2)),
 * x^3 as Pow(x, 3) or x * x * x, and the 0.5 applied to x, to (1 + erf) or
 * to the product. Constants are checked to FUSE_RTOL. */
#include "fuse_util.h"
#include <math.h>

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

/* x / sqrt(2) (or times 1/sqrt(2)) feeding the Erf; sets g->x. */
static int erf_arg(Gelu *g, Node *erf) {
  Node *u = private_def(g, erf->in[0], erf);
  if (!u || (u->op != OP_MUL && u->op != OP_DIV)) return fail(g, "the Erf's input is not x / sqrt(2)");
  for (int i = 0; i < (u->op == OP_MUL ? 2 : 1); i++)
    if (scaled_by(u, u->in[i], M_SQRT1_2)) {
      g->x = u->in[i];
      fuse_match_add(&g->m, u);
      return 1;
    }
  return fail(g, "the Erf's input is not x scaled by 1/sqrt(2)");
}

/* Whether v is x^3 computed from x: Pow(x, 3), x * (x * x) or (x * x) * x. */
static int is_cube(Gelu *g, const Value *v, const Value *x, const Node *reader) {
  Node *p = private_def(g, v, reader);
  if (!p) return 0;
  if (p->op == OP_POW && p->in[0] == x && fuse_is_scalar(p->in[1], 3.0)) {
    fuse_match_add(&g->m, p);
    return 1;
  }
  if (p->op != OP_MUL) return 0;
  Value *sq = fuse_other(p, x);
  Node *s = sq ? private_def(g, sq, p) : NULL;
  if (!s || s->op != OP_MUL || s->in[0] != x || s->in[1] != x) return 0;
  fuse_match_add(&g->m, p);
  fuse_match_add(&g->m, s);
  return 1;
}

/* sqrt(2/pi) * (x + 0.044715 * x^3) feeding the Tanh; sets g->x. */
static int tanh_arg(Gelu *g, Node *tn) {
  Node *u = private_def(g, tn->in[0], tn);
  if (!u || u->op != OP_MUL) return fail(g, "the Tanh's input is not a product");
  for (int i = 0; i < 2; i++) {
    Node *w = private_def(g, u->in[i], u);
    if (!w || w->op != OP_ADD || !fuse_is_scalar(u->in[1 - i], sqrt(2.0 / M_PI))) continue;
    for (int j = 0; j < 2; j++) {
      Value *x = w->in[j];
      Node *c3 = private_def(g, w->in[1 - j], w);
      if (!c3 || c3->op != OP_MUL) continue;
      for (int k = 0; k < 2; k++)
        if (fuse_is_scalar(c3->in[1 - k], 0.044715) && is_cube(g, c3->in[k], x, c3)) {
          fuse_match_add(&g->m, u);
          fuse_match_add(&g->m, w);
          fuse_match_add(&g->m, c3);
          g->x = x;
          return 1;
        }
    }
    return fail(g, "the Tanh's input is not sqrt(2/pi) * (x + 0.044715 * x^3)");
  }
  return fail(g, "the Tanh's input is not sqrt(2/pi) times a sum");
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

/* Tries every Erf and Tanh as the anchor of a GELU. */
int pass_fuse_gelu(Graph *g, PassCtx *ctx, Diag *d) {
  int changed = 0, rc = 0;
  for (int k = 0; k < g->n_nodes && rc >= 0; k++) {
    Node *n = g->nodes[k];
    if (n->removed || (n->op != OP_ERF && n->op != OP_TANH)) continue;
    FuseUsers u;
    if (fuse_users_build(g, &u, d)) return -1;
    rc = fuse_at(g, ctx, &u, n, d);
    fuse_users_free(&u);
    changed |= rc > 0;
  }
  return rc < 0 ? -1 : fuse_finish(g, changed, d);
}
