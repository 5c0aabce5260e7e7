/* libFuzzer target: bytes as an ONNX model file, through import, shape inference, the verifier, every
 * optimizer pass and the memory planner (what `vitc ir` does), batch pinned to 1. Any crash, sanitizer
 * report or leak is a finding; errors are fine. `make fuzz` runs it (tests/fuzz/README.md). */
#include "onnx_import.h"
#include "passes.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/vitc_fuzz_onnx.%ld", (long)getpid());
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  fwrite(data, 1, size, f);
  fclose(f);
  Diag d = {0};
  ImportOptions io = {.batch = 1, .batch_is_default = 1};
  Graph *g = onnx_import(path, &io, &d);
  if (g && !ir_infer_shapes(g, &d) && !ir_verify(g, &d)) {
    PassOptions po = {0};
    PassCtx ctx = {.opt = &po};
    passes_run(g, &ctx, &d);
    pass_ctx_free(&ctx);
  }
  ir_graph_free(g);
  unlink(path);
  return 0;
}
