/* vitc: ahead-of-time compiler for Vision Transformer ONNX models. */
#include "cli.h"
#include <stdio.h>
#include <string.h>

static const char usage[] =
  "usage: vitc COMMAND [ARGS]\n"
  "\n"
  "commands:\n"
  "  ir MODEL [--stats] [--dot OUT.dot] print the optimized IR (or op counts and the memory plan,\n"
  "                                     or write Graphviz); -O0: the imported IR\n"
  "  run MODEL --input X.npy... --output Y.npy...\n"
  "                                     run MODEL through the reference interpreter\n"
  "  test-onnx [--select] [--compiled] DIR...\n"
  "                                     run ONNX backend test cases (model.onnx + test_data_set_*)\n"
  "  compare GOT.npy WANT.npy [--atol X] print max_abs_err; fail if shapes differ or it exceeds X (1e-4)\n"
  "  compile MODEL -o OUT.so            compile MODEL to a shared library (and OUT.h) for this CPU\n"
  "  run MODEL.so --input X.npy... [--output Y.npy...] [--threads N] [--bench N]\n"
  "                                     run a compiled model; --bench prints latency_ms min/median\n"
  "\n"
  "MODEL is an ONNX file or an IR text file. Options for loading an ONNX model:\n"
  "  --input-shape NAME=1x3x224x224     pin the shape of input NAME (symbolic dims)\n"
  "  --batch N                          pin a symbolic first dim of every input to N\n"
  "\n"
  "test-onnx options:\n"
  "  --select                           only cases whose ops vitc supports (others are not counted)\n"
  "  --min-pass-rate P                  exit 0 when at least P% of the cases that ran passed\n"
  "  --max-skip-rate S                  ... and at most S% were skipped (default: any failure fails)\n"
  "  --compiled                         also compile each case with the backend and run the .so\n"
  "  --opt-level N                      LLVM optimization level for --compiled (default 2)\n"
  "\n"
  "compile options:\n"
  "  --emit so|obj|asm|llvm             output kind (default from OUT's extension: .o .s .ll, else so)\n"
  "  --target-cpu CPU                   native (default), x86-64-v3, x86-64-v4, sapphirerapids, ...\n"
  "  -O0 .. -O3                         LLVM optimization level (default -O3); -O0 also skips graph passes\n"
  "  --runtime-lib PATH                 libvitc_rt.a to link (default: the one built with vitc)\n"
  "  -v                                 print stage timings\n";

/* One row per command. */
static const struct { const char *name; int (*run)(int, char **); } commands[] = {
  {"ir", cmd_ir},
  {"run", cmd_run},
  {"test-onnx", cmd_test_onnx},
  {"compare", cmd_compare},
  {"compile", cmd_compile},
};

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    fputc('\n', argc < 2 ? stderr : stdout);
    cli_pass_help(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 2, argv + 2);
  fprintf(stderr, "vitc: error: unknown command '%s' (see vitc --help)\n", argv[1]);
  return 2;
}
