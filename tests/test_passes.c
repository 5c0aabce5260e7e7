/* Unit tests of the optimizer passes on hand-built graphs: plan_memory's
 * invariants (on a fixed graph and on seeded random graphs), fold's rule for
 * large constants, cse's byte comparison of large constants. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"

/* ---- helpers ---- */

/* Parses IR text and infers shapes; fails the test on error. */
static Graph *parse(const char *text) {
  Diag d = {0};
  Graph *g = ir_parse(text, "test.vir", &d);
  if (!g || ir_verify(g, &d)) fail_msg("%s", d.msg);
  return g;
}

/* Producer index and last reader index of every value (-1 when none). */
static void live_range(const Graph *g, int *def, int *last) {
  for (int i = 0; i < g->n_values; i++) def[i] = last[i] = -1;
  for (int k = 0; k < g->n_nodes; k++) {
    for (int i = 0; i < g->nodes[k]->n_in; i++)
      if (g->nodes[k]->in[i]) last[g->nodes[k]->in[i]->id] = k;
    for (int j = 0; j < g->nodes[k]->n_out; j++) {
      def[g->nodes[k]->out[j]->id] = k;
      if (last[g->nodes[k]->out[j]->id] < k) last[g->nodes[k]->out[j]->id] = k;
    }
  }
}

/* Whether node k may write its output over input value a (what plan_memory allows). */
static int in_place_ok(const Graph *g, int k, const Value *a, const Value *b) {
  const Node *n = g->nodes[k];
  if (!(ir_ops[n->op].flags & (OPF_ELEMWISE | OPF_LAYOUT)) || n->out[0] != b) return 0;
  for (int i = 0; i < n->n_in; i++)
    if (n->in[i] == a) return tensor_bytes(&a->t) == tensor_bytes(&b->t);
  return 0;
}

/* Checks the plan's invariants independently of how it was computed. */
static void check_plan(const Graph *g, const MemoryPlan *p) {
  int *def = malloc(sizeof *def * (size_t)g->n_values), *last = malloc(sizeof *last * (size_t)g->n_values);
  live_range(g, def, last);
  assert_int_equal(p->n_values, g->n_values);
  assert_true(p->arena_bytes >= p->lower_bound_bytes);
  for (int i = 0; i < g->n_values; i++) {
    const Value *v = g->values[i];
    int out = 0;
    for (int o = 0; o < g->n_outputs; o++) out |= g->outputs[o] == v;
    if (v->kind != VK_NODE || out) assert_int_equal(p->offset[i], -1);
    if (p->offset[i] < 0) continue;
    assert_int_equal(p->offset[i] % 64, 0);
    assert_true(p->offset[i] + (int64_t)tensor_bytes(&v->t) <= p->arena_bytes);
    for (int j = 0; j < i; j++) {
      const Value *w = g->values[j];
      if (p->offset[j] < 0 || def[i] > last[j] || def[j] > last[i]) continue; /* not live together */
      int64_t a0 = p->offset[i], a1 = a0 + (int64_t)tensor_bytes(&v->t);
      int64_t b0 = p->offset[j], b1 = b0 + (int64_t)tensor_bytes(&w->t);
      if (a0 >= b1 || b0 >= a1) continue;
      /* Overlap is legal only for an in-place pair: one dies where the other is made. */
      int ok = (last[j] == def[i] && in_place_ok(g, def[i], w, v)) || (last[i] == def[j] && in_place_ok(g, def[j], v, w));
      if (!ok) fail_msg("'%s' and '%s' overlap while both live", v->name, w->name);
    }
  }
  free(def);
  free(last);
}

/* ---- plan_memory ---- */

static const char chain_ir[] =
    "graph \"chain\" opset 17\n"
    "input %x: f32[16,16]\n"
    "input %w: f32[16,16]\n"
    "const %s: i64[1] = [256]\n"
    "%a: f32[16,16] = relu(%x) @\"relu\"\n"
    "%b: f32[16,16] = exp(%a) @\"exp\"\n"
    "%c: f32[16,16] = matmul(%b, %w) @\"mm\"\n"
    "%f: f32[256] = reshape(%c, %s) @\"flat\"\n"
    "%e: f32[256] = sigmoid(%f) @\"sig\"\n"
    "%t: f32[16,16] = transpose(%b) {perm=[1,0]} @\"t\"\n"
    "%y: f32[256] = add(%e, %e) @\"add\"\n"
    "output %y\n"
    "output %t\n";

/* A fixed chain: in-place pairs share offsets, outputs and inputs are outside the arena. */
static void test_plan_chain(void **state) {
  (void)state;
  Graph *g = parse(chain_ir);
  MemoryPlan p;
  Diag d = {0};
  assert_int_equal(plan_memory_compute(g, &p, &d), 0);
  check_plan(g, &p);
  Value *a = ir_value_find(g, "a"), *b = ir_value_find(g, "b"), *c = ir_value_find(g, "c");
  Value *f = ir_value_find(g, "f"), *e = ir_value_find(g, "e");
  assert_int_equal(p.offset[b->id], p.offset[a->id]); /* exp writes over relu's result, read only there */
  assert_int_equal(p.offset[f->id], p.offset[c->id]); /* reshape aliases its dying input */
  assert_int_equal(p.offset[e->id], p.offset[f->id]); /* sigmoid in place */
  assert_int_equal(p.offset[ir_value_find(g, "x")->id], -1);
  assert_int_equal(p.offset[ir_value_find(g, "t")->id], -1);
  assert_int_equal(p.offset[ir_value_find(g, "s")->id], -1);
  assert_int_equal(p.naive_bytes, 5 * 1024);
  assert_int_equal(p.lower_bound_bytes, 2048);
  assert_int_equal(p.arena_bytes, 2048);
  plan_memory_free(&p);
  ir_graph_free(g);
}

/* Appends one random node reading one of the last few values; its type goes to dims[k]. */
static int random_node(char *text, int k, int dims[][2], uint32_t *seed) {
#define RND(n) ((int)((*seed = *seed * 1664525u + 1013904223u) >> 8) % (n))
  int a = k - 1 - RND(k < 6 ? k : 6), r = dims[a][0], c = dims[a][1], op = RND(5), b = a;
  for (int t = 0; t < k; t++)
    if (dims[t][0] == r && dims[t][1] == c && RND(3) == 0) b = t;
  if (op == 2 && r != c) op = 0; /* matmul of a value by itself needs a square one */
  static const char *const unary[] = {"relu", NULL, NULL, NULL, "exp"};
  dims[k][0] = op == 3 ? c : r;
  dims[k][1] = op == 3 ? r : c;
  int len = sprintf(text, "%%v%d: f32[%d,%d] = ", k, dims[k][0], dims[k][1]);
  if (unary[op]) len += sprintf(text + len, "%s(%%v%d)", unary[op], a);
  if (op == 1) len += sprintf(text + len, "add(%%v%d, %%v%d)", a, b);
  if (op == 2) len += sprintf(text + len, "matmul(%%v%d, %%v%d)", a, b);
  if (op == 3) len += sprintf(text + len, "transpose(%%v%d) {perm=[1,0]}", a);
  return len + sprintf(text + len, " @\"n%d\"\n", k);
#undef RND
}

/* Seeded random graphs of elementwise, matmul and transpose nodes: the invariants hold. */
static void test_plan_random(void **state) {
  (void)state;
  uint32_t seed = 12345;
  enum { N = 120 };
  static const int shapes[4][2] = {{16, 16}, {8, 24}, {32, 32}, {24, 8}};
  for (int trial = 0; trial < 40; trial++) {
    char *text = malloc(1 << 16);
    int dims[N][2], len = sprintf(text, "graph \"r%d\" opset 17\n", trial);
    for (int k = 0; k < 4; k++) {
      dims[k][0] = shapes[k][0], dims[k][1] = shapes[k][1];
      len += sprintf(text + len, "input %%v%d: f32[%d,%d]\n", k, dims[k][0], dims[k][1]);
    }
    for (int k = 4; k < N; k++) len += random_node(text + len, k, dims, &seed);
    sprintf(text + len, "output %%v%d\noutput %%v%d\n", N - 1, N - 7);
    Graph *g = parse(text);
    free(text);
    MemoryPlan p;
    Diag d = {0};
    assert_int_equal(plan_memory_compute(g, &p, &d), 0);
    check_plan(g, &p);
    plan_memory_free(&p);
    ir_graph_free(g);
  }
}

/* ---- fold and cse on large constants ---- */

#define BIG 300 /* BIG*BIG elements: above fold's always-fold size */

/* y = x[4,BIG] @ Transpose(W); with `twice`, also y2 = x @ W (W read twice). */
static Graph *weight_graph(int twice, float **wdata) {
  Diag d = {0};
  Graph *g = ir_graph_new("weights");
  int64_t wd[2] = {BIG, BIG};
  float *w = calloc((size_t)BIG * BIG, sizeof *w);
  for (int i = 0; i < BIG * BIG; i++) w[i] = (float)(i % 7);
  Value *x = ir_value_new(g, "x", VK_INPUT, &d);
  x->t = (Tensor){.dtype = DT_F32, .rank = 2, .dims = {4, BIG}};
  ir_graph_add_input(g, x, &d);
  Value *W = ir_const_new(g, "w", DT_F32, 2, wd, w, &d);
  Node *t = ir_node_new(g, OP_TRANSPOSE, "t", 1, 1, &d);
  t->in[0] = W;
  t->out[0] = ir_value_new(g, "wt", VK_NODE, &d);
  t->out[0]->def = t;
  for (int k = 0; k <= twice; k++) {
    Node *m = ir_node_new(g, OP_MATMUL, k ? "mm2" : "mm", 2, 1, &d);
    m->in[0] = x;
    m->in[1] = k ? W : t->out[0];
    m->out[0] = ir_value_new(g, k ? "y2" : "y", VK_NODE, &d);
    m->out[0]->def = m;
    ir_graph_add_output(g, m->out[0], &d);
  }
  if (ir_infer_shapes(g, &d) || ir_verify(g, &d)) fail_msg("%s", d.msg);
  *wdata = w;
  return g;
}

/* Transpose of a weight read once folds; read twice, it stays (no duplicate weight). */
static void test_fold_big_weight(void **state) {
  (void)state;
  for (int twice = 0; twice < 2; twice++) {
    float *w;
    Graph *g = weight_graph(twice, &w);
    PassOptions o = {0};
    PassCtx ctx = {.opt = &o};
    Diag d = {0};
    assert_int_equal(pass_fold(g, &ctx, &d), 0);
    Value *wt = ir_value_find(g, "wt");
    assert_non_null(wt);
    assert_int_equal(wt->kind, twice ? VK_NODE : VK_CONST);
    if (!twice) assert_float_equal(((float *)wt->t.data)[1], w[BIG], 0); /* wt[0][1] = w[1][0] */
    assert_int_equal(g->n_nodes, twice ? 3 : 1);
    free(w);
    ir_graph_free(g);
  }
}

/* Large constants equal in every sampled byte but one element are not merged; equal ones are. */
static void test_cse_big_consts(void **state) {
  (void)state;
  Diag d = {0};
  Graph *g = ir_graph_new("consts");
  int64_t dims[1] = {100003};
  float *data = calloc((size_t)dims[0], sizeof *data);
  Value *c[3];
  for (int i = 0; i < 3; i++) {
    data[50001] = i == 2 ? 1.0f : 0.0f; /* in the middle: outside the sampled bytes */
    char name[8];
    snprintf(name, sizeof name, "c%d", i);
    c[i] = ir_const_new(g, name, DT_F32, 1, dims, data, &d);
  }
  free(data);
  Node *a = ir_node_new(g, OP_ADD, "a", 2, 1, &d), *b = ir_node_new(g, OP_ADD, "b", 2, 1, &d);
  a->in[0] = c[0], a->in[1] = c[1], b->in[0] = c[1], b->in[1] = c[2];
  a->out[0] = ir_value_new(g, "ya", VK_NODE, &d), b->out[0] = ir_value_new(g, "yb", VK_NODE, &d);
  a->out[0]->def = a, b->out[0]->def = b;
  ir_graph_add_output(g, a->out[0], &d);
  ir_graph_add_output(g, b->out[0], &d);
  if (ir_infer_shapes(g, &d) || ir_verify(g, &d)) fail_msg("%s", d.msg);
  PassOptions o = {0};
  PassCtx ctx = {.opt = &o};
  assert_int_equal(pass_cse(g, &ctx, &d), 0);
  assert_null(ir_value_find(g, "c1"));   /* merged into c0 */
  assert_non_null(ir_value_find(g, "c2")); /* differs in one element */
  assert_ptr_equal(g->nodes[0]->in[1], ir_value_find(g, "c0"));
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plan_chain),
      cmocka_unit_test(test_plan_random),
      cmocka_unit_test(test_fold_big_weight),
      cmocka_unit_test(test_cse_big_consts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
