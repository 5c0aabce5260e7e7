/* libFuzzer target: bytes as IR text, through the parser, the verifier, every optimizer pass and the
 * memory planner, and the printer (whose output must parse back). */
#include "passes.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0;
  Diag d = {0};
  Graph *g = ir_parse(text, "fuzz.vir", &d);
  if (g && !ir_verify(g, &d)) {
    char *printed = ir_print_string(g);
    Diag d2 = {0};
    Graph *back = printed ? ir_parse(printed, "printed.vir", &d2) : NULL;
    if (printed && !back) abort(); /* printed IR that does not parse back is a bug */
    ir_graph_free(back);
    free(printed);
    PassOptions po = {0};
    PassCtx ctx = {.opt = &po};
    passes_run(g, &ctx, &d);
    pass_ctx_free(&ctx);
  }
  ir_graph_free(g);
  free(text);
  return 0;
}
