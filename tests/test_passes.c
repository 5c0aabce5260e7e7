/* Unit tests of the optimizer passes on hand-built graphs: plan_memory's
 * invariants and rules (views, in place, known values, scratch; fixed graphs
 * and seeded random graphs), fold's rule for large constants, cse's byte
 * comparison of large constants. */
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

/* Producer index and last reader index of every value among the nodes that run (-1 when none). */
static void live_range(const Graph *g, int *def, int *last) {
  for (int i = 0; i < g->n_values; i++) def[i] = last[i] = -1;
  for (int k = 0; k < g->n_nodes; k++) {
    if (!plan_node_runs(g->nodes[k])) continue;
    for (int i = 0; i < g->nodes[k]->n_in; i++)
      if (g->nodes[k]->in[i]) last[g->nodes[k]->in[i]->id] = k;
    for (int j = 0; j < g->nodes[k]->n_out; j++) {
      def[g->nodes[k]->out[j]->id] = k;
      if (last[g->nodes[k]->out[j]->id] < k) last[g->nodes[k]->out[j]->id] = k;
    }
  }
}

/* Whether v is a graph output. */
static int is_output(const Graph *g, const Value *v) {
  for (int o = 0; o < g->n_outputs; o++)
    if (g->outputs[o] == v) return 1;
  return 0;
}

/* Whether the node making view root v (v made in place) reads storage w, all of whose views die there. */
static int in_place_ok(const Graph *g, const MemoryPlan *p, const int *def, const int *last, int v, int w) {
  const Node *n = g->values[v]->def;
  if (!n || (ir_ops[n->op].flags & (OPF_ELEMWISE | OPF_LAYOUT)) != OPF_ELEMWISE) return 0;
  int reads = 0;
  for (int i = 0; i < n->n_in; i++)
    if (n->in[i] && p->alias[n->in[i]->id] == w && tensor_numel(&n->in[i]->t) == tensor_numel(&g->values[v]->t))
      reads = 1;
  for (int u = 0; reads && u < g->n_values; u++)
    if (p->alias[u] == w && last[u] > def[v]) return 0;
  return reads;
}

/* Checks the plan's invariants independently of how it was computed (scratch: the callback used). */
static void check_plan(const Graph *g, const MemoryPlan *p, PlanScratchFn scratch) {
  int *def = malloc(sizeof *def * (size_t)g->n_values), *last = malloc(sizeof *last * (size_t)g->n_values);
  live_range(g, def, last);
  assert_int_equal(p->n_values, g->n_values);
  assert_true(p->arena_bytes >= p->lower_bound_bytes);
  for (int i = 0; i < g->n_values; i++) { /* a layout op's output is its input's storage unless it is a graph output */
    const Value *v = g->values[i];
    int view = v->def && (ir_ops[v->def->op].flags & OPF_LAYOUT) && !is_output(g, v) && !plan_value_known(v);
    assert_int_equal(p->alias[i], view ? p->alias[v->def->in[0]->id] : i);
  }
  for (int i = 0; i < g->n_values; i++) {
    const Value *v = g->values[i];
    if (v->kind != VK_NODE || is_output(g, v) || plan_value_known(v)) assert_int_equal(p->offset[i], -1);
    if (p->offset[i] < 0) continue;
    assert_int_equal(p->offset[i] % 64, 0);
    assert_true(p->offset[i] + (int64_t)tensor_bytes(&v->t) <= p->arena_bytes);
    for (int j = 0; j < i; j++) {
      const Value *w = g->values[j];
      if (p->offset[j] < 0 || def[i] > last[j] || def[j] > last[i]) continue; /* not live together */
      int64_t a0 = p->offset[i], a1 = a0 + (int64_t)tensor_bytes(&v->t);
      int64_t b0 = p->offset[j], b1 = b0 + (int64_t)tensor_bytes(&w->t);
      if (a0 >= b1 || b0 >= a1) continue;
      /* Overlap is legal only for one storage, or for an in-place pair. */
      int vi = p->alias[i], wj = p->alias[j];
      int ok = vi == wj || (def[vi] > def[wj] ? in_place_ok(g, p, def, last, vi, wj)
                                              : in_place_ok(g, p, def, last, wj, vi));
      if (!ok) fail_msg("'%s' and '%s' overlap while both live", v->name, w->name);
    }
  }
  for (int k = 0; k < g->n_nodes; k++) { /* scratch: live while its node runs, clear of everything live then */
    uint64_t bytes = scratch && plan_node_runs(g->nodes[k]) ? scratch(g->nodes[k]) : 0;
    assert_true(bytes ? p->scratch[k] >= 0 : p->scratch[k] == -1);
    if (!bytes) continue;
    assert_int_equal(p->scratch[k] % 64, 0);
    assert_true(p->scratch[k] + (int64_t)bytes <= p->arena_bytes);
    for (int i = 0; i < g->n_values; i++)
      if (p->offset[i] >= 0 && def[i] <= k && k <= last[i])
        assert_true(p->offset[i] >= p->scratch[k] + (int64_t)bytes ||
                    p->scratch[k] >= p->offset[i] + (int64_t)tensor_bytes(&g->values[i]->t));
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
  assert_int_equal(plan_memory_compute(g, NULL, &p, &d), 0);
  check_plan(g, &p, NULL);
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

/* Views: a layout op's output is its input's storage (a graph input's too), even when the input
 * lives on; a graph output is no view; in place waits until every view of the storage dies. */
static void test_plan_views(void **state) {
  (void)state;
  Graph *g = parse("graph \"views\" opset 17\n"
                   "input %x: f32[4,8]\n"
                   "const %s: i64[1] = [32]\n"
                   "%v: f32[32] = reshape(%x, %s) @\"vin\"\n"
                   "%a: f32[4,8] = relu(%x) @\"relu\"\n"
                   "%r: f32[32] = reshape(%a, %s) @\"view\"\n"
                   "%b: f32[4,8] = exp(%a) @\"exp\"\n"
                   "%c: f32[32] = add(%r, %v) @\"add\"\n"
                   "%o: f32[32] = reshape(%b, %s) @\"out\"\n"
                   "%y: f32[32] = mul(%c, %o) @\"mul\"\n"
                   "output %o\noutput %y\n");
  MemoryPlan p;
  Diag d = {0};
  assert_int_equal(plan_memory_compute(g, NULL, &p, &d), 0);
  check_plan(g, &p, NULL);
#define ID(name) ir_value_find(g, name)->id
  assert_int_equal(p.alias[ID("v")], ID("x"));
  assert_int_equal(p.offset[ID("v")], -1);
  assert_int_equal(p.alias[ID("r")], ID("a"));
  assert_int_equal(p.offset[ID("r")], p.offset[ID("a")]);
  assert_true(p.offset[ID("b")] != p.offset[ID("a")]); /* a's view r is read after exp */
  assert_int_equal(p.offset[ID("c")], p.offset[ID("a")]); /* a and r die at add */
  assert_int_equal(p.alias[ID("o")], ID("o"));           /* a graph output: the backend copies */
  assert_int_equal(p.offset[ID("o")], -1);
  plan_memory_free(&p);
  ir_graph_free(g);
}

/* In place needs the output's element count and bytes: a broadcast operand is never written
 * over (even with equal bytes), the full operand of a broadcast is, and so is a same-size cast. */
static void test_plan_in_place_rules(void **state) {
  (void)state;
  Graph *g = parse("graph \"rules\" opset 17\n"
                   "input %x: f32[4,8]\ninput %row: f32[8]\ninput %i: i32[4,8]\n"
                   "input %k: i64[8]\ninput %m: i64[8,8]\n"
                   "%a: f32[4,8] = relu(%x) @\"a\"\n"
                   "%r: f32[8] = relu(%row) @\"r\"\n"
                   "%b: f32[4,8] = add(%r, %a) @\"bcast\"\n"
                   "%ci: i32[4,8] = relu(%i) @\"ci\"\n"
                   "%cf: f32[4,8] = cast(%ci) {to=1} @\"cast\"\n"
                   "%kk: i64[8] = neg(%k) @\"kk\"\n"
                   "%mm: i64[8,8] = neg(%m) @\"mm\"\n"
                   "%e: bool[8,8] = equal(%kk, %mm) @\"eq\"\n"
                   "%y: f32[4,8] = mul(%b, %cf) @\"y\"\n"
                   "%z: bool[8,8] = equal(%e, %e) @\"z\"\n"
                   "output %y\noutput %z\n");
  MemoryPlan p;
  Diag d = {0};
  assert_int_equal(plan_memory_compute(g, NULL, &p, &d), 0);
  check_plan(g, &p, NULL);
  assert_int_equal(p.offset[ID("b")], p.offset[ID("a")]);   /* over the full operand */
  assert_int_equal(p.offset[ID("cf")], p.offset[ID("ci")]); /* i32 -> f32: same bytes */
  assert_true(p.offset[ID("e")] != p.offset[ID("kk")]); /* kk: 64 bytes like e, but broadcast */
  plan_memory_free(&p);
  ir_graph_free(g);
}

/* Nodes that do not run (outputs known at compile time) neither hold values alive nor get scratch. */
static void test_plan_known(void **state) {
  (void)state;
  Graph *g = parse("graph \"known\" opset 17\n"
                   "input %x: f32[2,6]\n"
                   "%a: f32[2,6] = relu(%x) @\"a\"\n"
                   "%b: f32[2,6] = exp(%x) @\"b\"\n"
                   "%s: i64[2] = shape(%a) @\"shape\"\n"
                   "%c: f32[2,6] = neg(%b) @\"c\"\n"
                   "%y: f32[2,6] = reshape(%c, %s) @\"y\"\n"
                   "output %y\n");
  assert_true(ir_value_find(g, "s")->data_inferred);
  MemoryPlan p;
  Diag d = {0};
  assert_int_equal(plan_memory_compute(g, NULL, &p, &d), 0);
  check_plan(g, &p, NULL);
  assert_int_equal(p.offset[ID("s")], -1);
  assert_int_equal(p.lower_bound_bytes, 64); /* a dies where it is made: shape reads no data */
  assert_int_equal(p.arena_bytes, 64);
  plan_memory_free(&p);
  ir_graph_free(g);
}

/* A test scratch rule: 1000 bytes for every matmul. */
static uint64_t matmul_scratch(const Node *n) { return n->op == OP_MATMUL ? 1000 : 0; }

/* Scratch blocks: attention's size rule, and blocks clear of everything live while their node runs. */
static void test_plan_scratch(void **state) {
  (void)state;
  Graph *g = parse("graph \"attn\" opset 17\n"
                   "input %x: f32[1,197,768]\ninput %w: f32[768,2304]\n"
                   "%n: f32[1,197,768] = relu(%x) @\"n\"\n"
                   "%at: f32[1,197,768] = attention(%n, %w) {heads=12, scale=0.125} @\"at\"\n"
                   "%y: f32[1,197,768] = add(%at, %n) @\"y\"\n"
                   "output %y\n");
  /* qkv: 197 x 2304 floats; k^T of 12 heads in 7 panels of 32 tokens x 64 */
  assert_int_equal(plan_scratch_bytes(g->nodes[1]), (197 * 2304 + 12 * 224 * 64) * 4);
  assert_int_equal(plan_scratch_bytes(g->nodes[0]), 0);
  MemoryPlan p;
  Diag d = {0};
  assert_int_equal(plan_memory_compute(g, plan_scratch_bytes, &p, &d), 0);
  check_plan(g, &p, plan_scratch_bytes);
  assert_int_equal(p.lower_bound_bytes, 2 * 605184 + 2503680); /* n, at and the scratch */
  plan_memory_free(&p);
  ir_graph_free(g);
#undef ID
}

/* Appends one random node reading one of the last few values; its type goes to dims[k]. */
static int random_node(char *text, int k, int dims[][2], uint32_t *seed) {
#define RND(n) ((int)((*seed = *seed * 1664525u + 1013904223u) >> 8) % (n))
  int a = k - 1 - RND(k < 6 ? k : 6), r = dims[a][0], c = dims[a][1], op = RND(6), b = a;
  for (int t = 0; t < k; t++)
    if (dims[t][0] == r && dims[t][1] == c && RND(3) == 0) b = t;
  if (op == 2 && r != c) op = 0; /* matmul of a value by itself needs a square one */
  static const char *const unary[] = {"relu", NULL, NULL, NULL, "exp", NULL};
  dims[k][0] = op == 3 ? c : op == 5 ? 1 : r;
  dims[k][1] = op == 3 ? r : op == 5 ? r * c : c;
  int len = sprintf(text, "%%v%d: f32[%d,%d] = ", k, dims[k][0], dims[k][1]);
  if (unary[op]) len += sprintf(text + len, "%s(%%v%d)", unary[op], a);
  if (op == 1) len += sprintf(text + len, "add(%%v%d, %%v%d)", a, b);
  if (op == 2) len += sprintf(text + len, "matmul(%%v%d, %%v%d)", a, b);
  if (op == 3) len += sprintf(text + len, "transpose(%%v%d) {perm=[1,0]}", a);
  if (op == 5) len += sprintf(text + len, "flatten(%%v%d) {axis=0}", a);
  return len + sprintf(text + len, " @\"n%d\"\n", k);
#undef RND
}

/* Seeded random graphs of elementwise, matmul, transpose and flatten nodes, with and without
 * scratch: the invariants hold. */
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
    for (int with_scratch = 0; with_scratch < 2; with_scratch++) {
      PlanScratchFn scratch = with_scratch ? matmul_scratch : NULL;
      MemoryPlan p;
      Diag d = {0};
      assert_int_equal(plan_memory_compute(g, scratch, &p, &d), 0);
      check_plan(g, &p, scratch);
      plan_memory_free(&p);
    }
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
    size_t before = g->arena.used_bytes, wbytes = (size_t)BIG * BIG * sizeof(float);
    assert_int_equal(pass_fold(g, &ctx, &d), 0);
    /* folded once: w's copy is given back as wt's is made (held twice, the arena would grow by wbytes) */
    if (!twice) assert_true(g->arena.used_bytes < before + wbytes / 2);
    if (twice) assert_true(g->arena.used_bytes >= before);
    Value *wt = ir_value_find(g, "wt");
    assert_non_null(wt);
    assert_int_equal(wt->kind, twice ? VK_NODE : VK_CONST);
    if (!twice) assert_float_equal(((float *)wt->t.data)[1], w[BIG], 0); /* wt[0][1] = w[1][0] */
    assert_int_equal(g->n_nodes, twice ? 3 : 1);
    free(w);
    ir_graph_free(g);
  }
}

/* arena_release frees big allocations (a block each), once; small ones stay until the arena is freed. */
static void test_arena_release(void **state) {
  (void)state;
  Arena a = {0};
  void *small = arena_alloc(&a, 100), *big = arena_alloc(&a, 1 << 20), *small2 = arena_alloc(&a, 100);
  assert_non_null(small);
  assert_non_null(big);
  assert_non_null(small2);
  size_t used = a.used_bytes;
  assert_int_equal(arena_release(&a, small), 0);
  assert_int_equal(arena_release(&a, (char *)big + 64), 0); /* not an allocation's start */
  assert_int_equal(arena_release(&a, big), 1);
  assert_int_equal(a.used_bytes, used - (1 << 20));
  assert_int_equal(arena_release(&a, big), 0);
  assert_int_equal(arena_release(&a, NULL), 0);
  memset(small2, 1, 100); /* the small allocations are still there */
  arena_free_all(&a);
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
      cmocka_unit_test(test_plan_views),
      cmocka_unit_test(test_plan_in_place_rules),
      cmocka_unit_test(test_plan_known),
      cmocka_unit_test(test_plan_scratch),
      cmocka_unit_test(test_plan_random),
      cmocka_unit_test(test_fold_big_weight),
      cmocka_unit_test(test_arena_release),
      cmocka_unit_test(test_cse_big_consts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
