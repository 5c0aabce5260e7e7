/* The verifier and shape inference: each broken graph gets a clear error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ir.h"

/* Parses text (which must parse) and returns the verifier's result. */
static int verify_text(const char *text, Diag *d) {
  Graph *g = ir_parse(text, "t.vir", d);
  assert_non_null(g);
  int rc = ir_verify(g, d);
  ir_graph_free(g);
  return rc;
}

static void expect_verify_error(const char *text, const char *want) {
  Diag d = {0};
  assert_int_equal(verify_text(text, &d), -1);
  if (!strstr(d.msg, want)) fail_msg("got '%s', want '%s'", d.msg, want);
}

static void test_good_graph(void **state) {
  (void)state;
  Diag d = {0};
  assert_int_equal(verify_text("graph \"t\" opset 17\n"
                               "input %x: f32[2,3]\n"
                               "const %s: i64[2] = [3,2]\n"
                               "%y: f32[3,2] = reshape(%x, %s) @\"r\"\n"
                               "%z: f32[3,2] = relu(%y) @\"q\"\n"
                               "output %z\n",
                               &d),
                   0);
}

static void test_type_disagrees_with_inference(void **state) {
  (void)state;
  expect_verify_error("graph \"t\" opset 17\ninput %x: f32[2,3]\n%y: f32[3,3] = relu(%x) @\"r\"\noutput %y\n",
                      "node 'r' (Relu): output 'y' has type f32[3,3], inference gives f32[2,3]");
}

static void test_shape_errors(void **state) {
  (void)state;
  expect_verify_error("graph \"t\" opset 17\ninput %a: f32[2,3]\ninput %b: f32[4,5]\n"
                      "%y: f32[2,5] = matmul(%a, %b) @\"mm\"\noutput %y\n",
                      "node 'mm' (MatMul): inner dimensions differ");
  expect_verify_error("graph \"t\" opset 17\ninput %a: f32[2,3]\ninput %b: f32[4]\n"
                      "%y: f32[2,3] = add(%a, %b) @\"add\"\noutput %y\n",
                      "do not broadcast");
  expect_verify_error("graph \"t\" opset 17\ninput %a: f32[2,3]\ninput %b: i64[2,3]\n"
                      "%y: f32[2,3] = add(%a, %b) @\"add\"\noutput %y\n",
                      "operand types differ");
  expect_verify_error("graph \"t\" opset 17\ninput %a: f32[2,3]\n"
                      "%y: f32[2,3] = softmax(%a) {axis=2} @\"sm\"\noutput %y\n",
                      "axis 2 is out of range for rank 2");
  expect_verify_error("graph \"t\" opset 17\ninput %a: f32[2,3]\ninput %s: i64[1]\n"
                      "%y: f32[6] = reshape(%a, %s) @\"rs\"\noutput %y\n",
                      "must be known at compile time");
}

/* Builds x -> relu(n1) -> relu(n2) and then swaps the node order. */
static void test_use_before_definition(void **state) {
  (void)state;
  Diag d = {0};
  Graph *g = ir_parse("graph \"t\" opset 17\ninput %x: f32[2]\n%a: f32[2] = relu(%x) @\"n1\"\n"
                      "%b: f32[2] = relu(%a) @\"n2\"\noutput %b\n",
                      "t.vir", &d);
  assert_non_null(g);
  Node *tmp = g->nodes[0];
  g->nodes[0] = g->nodes[1];
  g->nodes[1] = tmp;
  assert_int_equal(ir_verify(g, &d), -1);
  assert_non_null(strstr(d.msg, "node 'n2' (Relu): input 'a' is used before it is defined"));
  /* ir_graph_compact puts the nodes back in order. */
  Diag d2 = {0};
  assert_int_equal(ir_graph_compact(g, &d2), 0);
  assert_int_equal(ir_verify(g, &d2), 0);
  ir_graph_free(g);
}

static void test_bad_arity_and_attrs(void **state) {
  (void)state;
  Diag d = {0};
  Graph *g = ir_parse("graph \"t\" opset 17\ninput %x: f32[2]\n%a: f32[2] = relu(%x) @\"n1\"\noutput %a\n", "t.vir", &d);
  assert_non_null(g);
  Node *n = g->nodes[0];
  ir_attr_add(g, n, "bogus", AT_INT, &d);
  assert_int_equal(ir_verify(g, &d), -1);
  assert_non_null(strstr(d.msg, "unsupported attribute 'bogus'"));
  n->n_attrs = 0;
  n->n_in = 0;
  Diag d2 = {0};
  assert_int_equal(ir_verify(g, &d2), -1);
  assert_non_null(strstr(d2.msg, "has 0 inputs, expects 1 to 1"));
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_good_graph),
    cmocka_unit_test(test_type_disagrees_with_inference),
    cmocka_unit_test(test_shape_errors),
    cmocka_unit_test(test_use_before_definition),
    cmocka_unit_test(test_bad_arity_and_attrs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
