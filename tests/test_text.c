/* IR text form: print -> parse -> print is identical, parse errors name
 * their line, large constants print as a digest. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ir.h"

/* Canonical text using every feature of the format: it must print back as is. */
static const char *const FULL_TEXT =
    "graph \"dir/model \\\"x\\\".onnx\" opset 17\n"
    "meta \"vitc.image_size\" \"8\"\n"
    "meta \"vitc.labels\" \"zero\\x0aone \\\"1\\\"\"\n"
    "input %input: f32[1,3,32,32]\n"
    "input %\"onnx::Mul_5\": f32[2]\n"
    "input %x: f32[2]\n"
    "input %0: i64[1]\n"
    "const %w: f32[64,3,4,4] = blob 0123456789abcdef\n"
    "const %b: f32[64] = blob fedcba9876543210\n"
    "const %axes: i64[1] = [-1]\n"
    "const %eps: f32[] = [9.99999975e-06]\n"
    "const %shape: i64[2] = [1,4]\n"
    "const %flags: bool[3] = [1,0,1]\n"
    "const %idx: i32[2] = [-2147483648,7]\n"
    "const %\"we\\\"ird\\\\name\\x01\\xff\": f32[2,2] = [1.5,-0,inf,-inf]\n"
    "const %empty: i64[0] = []\n"
    "const %small_blob: f32[2] = blob 00000000000000ff\n"
    "%/encoder/layer.0/conv-out: f32[1,64,8,8] = conv(%input, %w, %b) {auto_pad=\"a\\\"b\\\\c\\x09\", "
    "dilations=[1,1], group=1, kernel_shape=[4,4], pads=[], strides=[4,4]} @\"/conv_proj/Conv\"\n"
    "%y: f32[2], %mask: bool[2] = dropout(%x, _, _) {ratio=0.100000001, seed=-3} @\"Dropout_3\"\n"
    "%z: f32[1,4] = constant_of_shape(%shape) {value=f32[1] [1]} @\"n1\"\n"
    "%zi: i64[1,4] = constant_of_shape(%shape) {value=i64[] [-7]} @\"n2\"\n"
    "%m: f32[2] = mul(%y, %\"onnx::Mul_5\") @\"odd \\\"node\\\"\\x0a\"\n"
    "%g: f32[1,2] = gemm(%z, %\"we\\\"ird\\\\name\\x01\\xff\", _) {alpha=1.0, beta=9.99999996e-13, transA=0, "
    "transB=1} @\"gemm\"\n"
    "%ln: f32[1,4], _, %istd: f32[1,1] = layer_norm(%z, %z) {axis=-1, epsilon=-inf, stash_type=1} @\"ln\"\n"
    "%u: undef[] = identity(%m) @\"untyped\"\n"
    "%c: f32[4] = concat(%m, %m) {axis=0} @\"cat\"\n"
    "%s: i64[4] = shape(%input) @\"\"\n"
    "%n: f32[4] = constant_of_shape(%s) {value=f32[] [nan]} @\"nanfill\"\n"
    "%r: f32[2] = reduce_mean(%m, %axes) {keepdims=0} @\"mean\"\n"
    "%cast: i32[2] = cast(%m) {to=6} @\"cast\"\n"
    "output %/encoder/layer.0/conv-out\n"
    "output %mask\n"
    "output %\"onnx::Mul_5\"\n";

/* Parses text that must be valid. */
static Graph *parse_ok(const char *text) {
  Diag d = {0};
  Graph *g = ir_parse(text, "test.vir", &d);
  if (!g) fail_msg("parse failed: %s", d.msg);
  return g;
}

/* Prints g into a malloc'd string. */
static char *print(const Graph *g) {
  char *s = ir_print_string(g);
  assert_non_null(s);
  return s;
}

/* Asserts that text parses and prints back byte for byte. */
static void assert_round_trip(const char *text) {
  Graph *g = parse_ok(text);
  char *out = print(g);
  assert_string_equal(out, text);
  free(out);
  ir_graph_free(g);
}

static void test_round_trip_full(void **state) {
  (void)state;
  assert_round_trip(FULL_TEXT);
}

/* The parsed graph has the structure the text describes. */
static void test_parsed_structure(void **state) {
  (void)state;
  Graph *g = parse_ok(FULL_TEXT);
  assert_string_equal(g->source, "dir/model \"x\".onnx");
  assert_string_equal(g->file, "test.vir");
  assert_int_equal(g->opset, 17);
  assert_int_equal(g->n_inputs, 4);
  assert_int_equal(g->n_outputs, 3);
  assert_int_equal(g->n_nodes, 13);
  assert_int_equal(g->n_meta, 2);
  assert_string_equal(ir_meta_get(g, "vitc.image_size"), "8");
  assert_string_equal(ir_meta_get(g, "vitc.labels"), "zero\none \"1\"");
  assert_null(ir_meta_get(g, "absent"));

  Value *w = ir_value_find(g, "w");
  assert_non_null(w);
  assert_int_equal(w->kind, VK_CONST);
  assert_null(w->t.data);
  assert_true(w->has_digest);
  assert_true(w->digest == 0x0123456789abcdefull);
  assert_int_equal(w->t.rank, 4);
  assert_int_equal(w->t.dims[1], 3);

  Value *eps = ir_value_find(g, "eps");
  assert_int_equal(eps->t.rank, 0);
  assert_true(((float *)eps->t.data)[0] == 1e-5f);
  Value *weird = ir_value_find(g, "we\"ird\\name\x01\xff");
  assert_non_null(weird);
  const float *wd = weird->t.data;
  assert_true(wd[0] == 1.5f && wd[1] == 0 && signbit(wd[1]) && isinf(wd[2]) && wd[3] < 0);
  assert_int_equal(((int32_t *)ir_value_find(g, "idx")->t.data)[0], INT32_MIN);
  assert_int_equal(ir_value_find(g, "input")->kind, VK_INPUT);
  assert_non_null(ir_value_find(g, "empty")->t.data);

  Node *conv = g->nodes[0];
  assert_int_equal(conv->op, OP_CONV);
  assert_string_equal(conv->name, "/conv_proj/Conv");
  assert_ptr_equal(conv->out[0]->def, conv);
  assert_int_equal(conv->out[0]->kind, VK_NODE);
  assert_ptr_equal(conv->in[1], w);
  assert_string_equal(ir_attr_s(conv, "auto_pad", ""), "a\"b\\c\t");
  int64_t ks[4];
  assert_int_equal(ir_attr_ints(conv, "kernel_shape", ks, 4), 2);
  assert_int_equal(ks[0], 4);
  assert_int_equal(ir_attr_ints(conv, "pads", ks, 4), 0);

  Node *drop = g->nodes[1];
  assert_int_equal(drop->n_in, 3);
  assert_null(drop->in[1]);
  assert_null(drop->in[2]);
  assert_int_equal(drop->n_out, 2);
  assert_int_equal(drop->out[1]->t.dtype, DT_BOOL);
  assert_int_equal(ir_attr_i(drop, "seed", 0), -3);

  const Attr *value = ir_attr_find(g->nodes[2], "value");
  assert_int_equal(value->kind, AT_TENSOR);
  assert_int_equal(value->t->dtype, DT_F32);
  assert_true(((float *)value->t->data)[0] == 1.0f);

  Node *gemm = g->nodes[5];
  assert_true(ir_attr_f(gemm, "alpha", 0) == 1.0f);
  assert_true(ir_attr_f(gemm, "beta", 0) == 1e-12f);
  Node *ln = g->nodes[6];
  assert_null(ln->out[1]);
  assert_true(isinf(ir_attr_f(ln, "epsilon", 0)) && ir_attr_f(ln, "epsilon", 0) < 0);
  assert_int_equal(g->nodes[7]->out[0]->t.dtype, DT_UNDEF);
  assert_string_equal(g->nodes[9]->name, "");
  assert_string_equal(g->nodes[4]->name, "odd \"node\"\n");
  assert_ptr_equal(g->outputs[2], ir_value_find(g, "onnx::Mul_5"));
  ir_graph_free(g);
}

/* Non-canonical spellings (comments, blank lines, spacing, 1e-12) parse and print canonically. */
static void test_loose_input(void **state) {
  (void)state;
  const char *loose = "# a comment\n"
                      "\n"
                      "graph \"m.onnx\"   opset 13\r\n"
                      "   # indented comment\n"
                      "input %x :f32[ 2 , 3 ]\n"
                      "\t\n"
                      "%y: f32[2,3] = gemm( %x,%x ) { alpha = 1e-12 ,beta=2 } @ \"g\"\n"
                      "output %y";
  const char *canonical = "graph \"m.onnx\" opset 13\n"
                          "input %x: f32[2,3]\n"
                          "%y: f32[2,3] = gemm(%x, %x) {alpha=9.99999996e-13, beta=2.0} @\"g\"\n"
                          "output %y\n";
  Graph *g = parse_ok(loose);
  char *out = print(g);
  assert_string_equal(out, canonical);
  free(out);
  ir_graph_free(g);
  assert_round_trip(canonical);
}

/* One malformed text: parsing fails with "test.vir: line N: ..." containing want. */
typedef struct BadCase {
  const char *text;
  int line;
  const char *want;
} BadCase;

#define HDR "graph \"m.onnx\" opset 17\ninput %x: f32[2]\n"

static const BadCase BAD[] = {
  /* undefined references */
  {HDR "%y: f32[2] = relu(%q) @\"n\"\n", 3, "undefined value 'q'"},
  {HDR "%y: f32[2] = relu(%y) @\"n\"\n", 3, "undefined value 'y'"},
  {HDR "output %nope\n", 3, "undefined value 'nope'"},
  /* duplicate definitions */
  {HDR "const %x: f32[] = [1]\n", 3, "value 'x' is already defined"},
  {HDR "input %x: f32[2]\n", 3, "value 'x' is already defined"},
  {HDR "%y: f32[2], %y: bool[2] = dropout(%x) @\"n\"\n", 3, "value 'y' is already defined"},
  {HDR "%x: f32[2] = relu(%x) @\"n\"\n", 3, "value 'x' is already defined"},
  /* unknown op, arity */
  {HDR "%y: f32[2] = frobnicate(%x) @\"n\"\n", 3, "unknown op 'frobnicate'"},
  {HDR "%y: f32[2] = add(%x) @\"n\"\n", 3, "op 'add' takes 2 inputs, got 1"},
  {HDR "%y: f32[2] = gemm(%x, %x, %x, %x) @\"n\"\n", 3, "op 'gemm' takes 2..3 inputs, got 4"},
  {HDR "%y: f32[2], %z: f32[2] = relu(%x) @\"n\"\n", 3, "op 'relu' takes 1 outputs, got 2"},
  /* bad types */
  {HDR "input %h: f16[2]\n", 3, "unknown dtype 'f16'"},
  {HDR "input %h: f32[1,1,1,1,1,1,1,1,1]\n", 3, "more than 8 dims"},
  {HDR "input %h: f32[2\n", 3, "expected ']', got end of line"},
  {HDR "input %h: f32[-1]\n", 3, "negative dimension -1"},
  {HDR "input %h: f32\n", 3, "expected '[' after the dtype"},
  {HDR "input %h: f32[2.5]\n", 3, "expected a dimension, got '2.5]'"},
  {HDR "input %h: f32[4294967296,4294967296]\n", 3, "too many elements"},
  {HDR "const %c: undef[] = [1]\n", 3, "undef type"},
  /* inline data count and values */
  {HDR "const %c: i64[3] = [1,2]\n", 3, "inline data has 2 elements, its type needs 3"},
  {HDR "const %c: i64[1] = [1,2]\n", 3, "more than the 1 elements"},
  {HDR "const %c: f32[] = []\n", 3, "inline data has 0 elements, its type needs 1"},
  {HDR "const %c: bool[1] = [2]\n", 3, "bool element must be 0 or 1"},
  {HDR "const %c: i32[1] = [2147483648]\n", 3, "does not fit in i32"},
  {HDR "const %c: i64[1] = [99999999999999999999]\n", 3, "integer out of range"},
  {HDR "const %c: f32[1] = [abc]\n", 3, "expected a float, got 'abc]'"},
  {HDR "const %c: f32[20] = blob 123\n", 3, "16-digit hex digest"},
  {HDR "const %c: f32[20] = blob 0123456789abcdef0\n", 3, "16-digit hex digest"},
  /* attributes */
  {HDR "%y: f32[2] = relu(%x) {alpha=1.0} @\"n\"\n", 3, "op 'relu' has no attribute 'alpha'"},
  {HDR "%y: f32[2] = softmax(%x) {axis=1.5} @\"n\"\n", 3, "expected an integer, got '1.5}'"},
  {HDR "%y: f32[2] = softmax(%x) {axis=1, axis=2} @\"n\"\n", 3, "attribute 'axis' given twice"},
  {HDR "%y: f32[2] = transpose(%x) {perm=[1,0} @\"n\"\n", 3, "expected ']'"},
  {HDR "%y: f32[2] = constant_of_shape(%x) {value=f32[2] [1]} @\"n\"\n", 3, "inline data has 1 elements"},
  {HDR "%y: f32[2] = conv(%x, %x) {auto_pad=NOTSET} @\"n\"\n", 3, "expected a string"},
  /* syntax */
  {"input %x: f32[2]\n", 1, "expected the 'graph \"NAME\" opset N' header, got 'input'"},
  {"", 1, "got end of file"},
  {"# only a comment\n\n", 2, "got end of file"},
  {HDR "graph \"again\" opset 1\n", 3, "second 'graph' header"},
  {"graph \"m opset 17\n", 1, "unterminated string"},
  {"graph \"m\" opset\n", 1, "expected the opset number, got end of line"},
  {HDR "input %\"a\\qb\": f32[1]\n", 3, "expected an escape"},
  {HDR "input %\"a\\x00\": f32[1]\n", 3, "expected an escape"},
  {HDR "output %x junk\n", 3, "expected end of line, got 'junk'"},
  {HDR "%y: f32[2] = relu(%x)\n", 3, "expected '@', got end of line"},
  {HDR "%y: f32[2] relu(%x) @\"n\"\n", 3, "expected '=', got 'relu(%x)'"},
  {HDR "input x: f32[2]\n", 3, "expected a value name '%...', got 'x:'"},
  {HDR "frob %x\n", 3, "expected 'meta', 'input', 'const', 'output' or a node, got 'frob'"},
  {HDR "meta \"k\" \"1\"\nmeta \"k\" \"2\"\n", 4, "metadata key 'k' given twice"},
  {HDR "meta \"k\"\n", 3, "expected the metadata value in quotes"},
  /* line numbers count comments and blank lines */
  {HDR "# comment\n\n%y: f32[2] = relu(%q) @\"n\"\n", 5, "undefined value 'q'"},
};

/* Every bad case fails cleanly with its line number. */
static void test_parse_errors(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
    Diag d = {0};
    Graph *g = ir_parse(BAD[i].text, "test.vir", &d);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "vitc: error: test.vir: line %d: ", BAD[i].line);
    if (g || !d.has_error || strncmp(d.msg, prefix, strlen(prefix)) != 0 || !strstr(d.msg, BAD[i].want))
      fail_msg("case %zu: want '%s%s...', got %s '%s'", i, prefix, BAD[i].want, g ? "a graph" : "error",
               d.msg);
    ir_graph_free(g);
  }
}

/* Builds input -> add(input, const) -> output with a `numel`-element f32 constant. */
static Graph *build_graph(int numel, Diag *d) {
  Graph *g = ir_graph_new("built.onnx");
  g->opset = 21;
  Value *in = ir_value_new(g, "in", VK_INPUT, d);
  in->t = (Tensor){.dtype = DT_F32, .rank = 1, .dims = {numel}};
  ir_graph_add_input(g, in, d);
  Value *w = ir_value_new(g, "onnx::w", VK_CONST, d);
  w->t = in->t;
  float *data = arena_alloc(&g->arena, (size_t)numel * sizeof(float));
  for (int i = 0; i < numel; i++) data[i] = (float)i * 0.25f - 1.0f;
  w->t.data = data;
  Node *n = ir_node_new(g, OP_ADD, "add0", 2, 1, d);
  n->in[0] = in;
  n->in[1] = w;
  n->out[0] = ir_value_new(g, "sum", VK_NODE, d);
  n->out[0]->t = in->t;
  n->out[0]->def = n;
  ir_graph_add_output(g, n->out[0], d);
  return g;
}

/* A constant above IR_INLINE_MAX prints as its digest and parses back without data. */
static void test_blob_digest(void **state) {
  (void)state;
  Diag d = {0};
  Graph *g = build_graph(IR_INLINE_MAX + 4, &d);
  assert_false(d.has_error);
  char *text = print(g);
  char want[256];
  snprintf(want, sizeof want,
           "graph \"built.onnx\" opset 21\n"
           "input %%in: f32[20]\n"
           "const %%\"onnx::w\": f32[20] = blob %016llx\n"
           "%%sum: f32[20] = add(%%in, %%\"onnx::w\") @\"add0\"\n"
           "output %%sum\n",
           (unsigned long long)tensor_digest(&ir_value_find(g, "onnx::w")->t));
  assert_string_equal(text, want);

  Graph *g2 = parse_ok(text);
  Value *w = ir_value_find(g2, "onnx::w");
  assert_null(w->t.data);
  assert_true(w->has_digest && w->digest == tensor_digest(&ir_value_find(g, "onnx::w")->t));
  char *text2 = print(g2);
  assert_string_equal(text2, text);
  free(text2);
  free(text);
  ir_graph_free(g2);
  ir_graph_free(g);
}

/* IR_INLINE_MAX elements still print inline, %.9g exact for float32. */
static void test_inline_limit(void **state) {
  (void)state;
  Diag d = {0};
  Graph *g = build_graph(IR_INLINE_MAX, &d);
  ((float *)ir_value_find(g, "onnx::w")->t.data)[1] = 0.1f;
  char *text = print(g);
  assert_non_null(strstr(text, "const %\"onnx::w\": f32[16] = [-1,0.100000001,-0.5,"));
  Graph *g2 = parse_ok(text);
  const Tensor *a = &ir_value_find(g, "onnx::w")->t, *b = &ir_value_find(g2, "onnx::w")->t;
  assert_memory_equal(a->data, b->data, tensor_bytes(a));
  free(text);
  ir_graph_free(g2);
  ir_graph_free(g);
}

/* Inferred data is not a constant; float attributes always look like floats. */
static void test_print_details(void **state) {
  (void)state;
  Diag d = {0};
  Graph *g = build_graph(2, &d);
  Value *sum = ir_value_find(g, "sum");
  float inferred[2] = {1, 2};
  sum->t.data = inferred;
  sum->data_inferred = 1;
  Node *n = g->nodes[0];
  ir_attr_add(g, n, "f1", AT_FLOAT, &d)->f = 1.0f;
  ir_attr_add(g, n, "f2", AT_FLOAT, &d)->f = 1e8f;
  ir_attr_add(g, n, "f3", AT_FLOAT, &d)->f = -INFINITY;
  ir_attr_add(g, n, "f4", AT_FLOAT, &d)->f = NAN;
  ir_attr_add(g, n, "f5", AT_FLOAT, &d)->f = -0.0f;
  Attr *fs = ir_attr_add(g, n, "fs", AT_FLOATS, &d);
  static float floats[3] = {1.0f, 2.5f, -3.0f};
  fs->floats = floats;
  fs->n = 3;
  ir_attr_add(g, n, "fe", AT_FLOATS, &d);
  char *text = print(g);
  assert_string_equal(text, "graph \"built.onnx\" opset 21\n"
                            "input %in: f32[2]\n"
                            "const %\"onnx::w\": f32[2] = [-1,-0.75]\n"
                            "%sum: f32[2] = add(%in, %\"onnx::w\") {f1=1.0, f2=100000000.0, f3=-inf, f4=nan, "
                            "f5=-0.0, fs=[1.0,2.5,-3.0], fe=[]} @\"add0\"\n"
                            "output %sum\n");
  free(text);
  ir_graph_free(g);
}

/* ir_print_stats counts nodes per op in op table order. */
static void test_stats(void **state) {
  (void)state;
  Graph *g = parse_ok(FULL_TEXT);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ir_print_stats(g, f);
  fclose(f);
  assert_string_equal(buf, "op mul 1\n"
                           "op cast 1\n"
                           "op identity 1\n"
                           "op dropout 1\n"
                           "op gemm 1\n"
                           "op conv 1\n"
                           "op layer_norm 1\n"
                           "op reduce_mean 1\n"
                           "op concat 1\n"
                           "op shape 1\n"
                           "op constant_of_shape 3\n");
  free(buf);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_round_trip_full), cmocka_unit_test(test_parsed_structure),
    cmocka_unit_test(test_loose_input),     cmocka_unit_test(test_parse_errors),
    cmocka_unit_test(test_blob_digest),     cmocka_unit_test(test_inline_limit),
    cmocka_unit_test(test_print_details),   cmocka_unit_test(test_stats),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
