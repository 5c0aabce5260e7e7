/* vitc: ahead-of-time compiler for Vision Transformer ONNX models. One table
 * of commands gives the dispatch, `vitc --help` and `vitc COMMAND --help`. */
#include "cli.h"
#include "vitc_abi.h"
#include <stdio.h>
#include <string.h>

#ifndef VITC_VERSION
#define VITC_VERSION "0.0.0"
#endif

static const char load_help[] =
  "loading an ONNX model (symbolic dims must be pinned):\n"
  "  --input-shape NAME=1x3x224x224     pin the shape of input NAME\n"
  "  --batch N                          pin a symbolic first dim of every input to N\n";

static const char image_help[] =
  "images (PNG or JPEG; preprocessing from the model's vitc.* metadata, else ImageNet's: docs/image.md):\n"
  "  --image FILE...                    classify these images: `FILE: LABEL (PCT%)` per image\n"
  "  --labels FILE                      class names, one per line (default: metadata vitc.labels)\n"
  "  --top K                            also print the next K-1 classes, indented\n"
  "  --size N                           input side (the short side is resized, then centre-cropped)\n"
  "  --mean a,b,c  --std a,b,c          normalisation on values in [0,1] (one value: every channel)\n"
  "  --resize bilinear|bicubic          resampling filter\n"
  "  --grayscale                        convert to grey (repeated on a 3-channel model)\n";

/* One row per command: name, entry, synopsis, details for `vitc COMMAND --help`. */
static const struct Command {
  const char *name;
  int (*run)(int, char **);
  const char *synopsis, *details;
  int optimizer, load, image; /* which shared option groups it takes */
} commands[] = {
  {"compile", cmd_compile, "compile MODEL -o OUT.so          compile to a shared library and OUT.h",
   "  --emit so|obj|asm|llvm             output kind (default from OUT's extension: .o .s .ll, else so)\n"
   "  --target-cpu CPU[,CPU...]          native (default), x86-64-v3, x86-64-v4, znver4, sapphirerapids, ...;\n"
   "                                     several: kernels for each, a session runs the best this CPU has;\n"
   "                                     portable = x86-64-v2,x86-64-v3,x86-64-v4\n"
   "  -O0 .. -O3                         LLVM optimization level (default -O3); -O0 also skips graph passes\n"
   "  --runtime-lib PATH                 libvitc_rt.a to link (default: the one installed with vitc)\n"
   "  --prefix NAME                      entry points NAME_model_info, NAME_session_run, ... (default vitc)\n"
   "  --dynamic-batch [--max-batch N]    one .so for any batch (up to N) of a model with a symbolic batch\n"
   "  --profile                          time every node (vitc run MODEL.so --profile reads the times)\n"
   "  -v                                 print stage timings at the end\n"
   "  -q                                 no progress lines (they are shown only on a terminal)\n",
   1, 1, 0},
  {"run", cmd_run, "run MODEL [--image FILE... | --input X.npy... --output Y.npy...]",
   "  MODEL .onnx or IR text: the reference interpreter, after the optimizer; MODEL.so: the compiled model.\n"
   "  --input X.npy / --output Y.npy     tensors in graph order (repeat per tensor)\n"
   "  --attention-map OUT.png            (ONNX/IR, one --image) attention rollout blended onto the image\n"
   "  --threads N                        (.so) threads of the session (default: $VITC_NUM_THREADS, else the\n"
   "                                     CPUs this process may use, capped by its cgroup CPU quota)\n"
   "  --bench N                          time N runs after a warm-up: latency_ms min/median (ONNX and IR\n"
   "                                     text: with --image only)\n"
   "  --profile [--profile-json FILE]    (.so compiled with --profile) time per node and op kind, GFLOP/s,\n"
   "                                     % of the measured FMA peak; over --bench N runs (default 10)\n",
   1, 1, 1},
  {"inspect", cmd_inspect, "inspect MODEL [--pos-embed OUT.png]  summary of a model or a compiled .so",
   "  prints inputs, outputs, metadata, patch size, width, depth, heads, MLP width, parameters, FLOPs\n"
   "  per image and the fusion result; a .so shows inputs, outputs, metadata and memory.\n"
   "  --pos-embed OUT.png                cosine similarities of the learned position embeddings\n",
   0, 1, 0},
  {"ir", cmd_ir, "ir MODEL [--stats] [--dot OUT.dot [--svg OUT.svg]]  print the optimized IR",
   "  -O0 prints the IR as imported.\n"
   "  --stats                            op counts and the memory plan\n"
   "  --dot OUT.dot                      write the graph for Graphviz (fused ops labelled)\n"
   "  --svg OUT.svg                      render it with Graphviz's dot (when installed)\n",
   1, 1, 0},
  {"test-onnx", cmd_test_onnx, "test-onnx [--select] [--compiled] [--expect FILE] DIR...  run ONNX backend test cases",
   "  prints PASS, FAIL or SKIP (a type vitc does not compute in) per case and the counts; exit 1 when a case\n"
   "  failed (without --expect)\n"
   "  --select                           run only the cases whose ops vitc has; the others are UNSUPPORTED,\n"
   "                                     with the missing ops (an `_expanded` case runs when its op is known)\n"
   "  --expect FILE                      the exact expectations: FILE lists each case that does not pass\n"
   "                                     (`CASE interpreted|compiled|both FAIL|SKIP|UNSUPPORTED reason`;\n"
   "                                     tests/conformance/expected.txt); exit 1 on any difference: a case\n"
   "                                     that does not pass and is not listed, a listed case that passes or\n"
   "                                     ends otherwise, a listed case not among DIR...\n"
   "  --compiled                         also compile each case with the backend and run the .so\n"
   "  --opt-level N                      LLVM optimization level for --compiled (default 2)\n",
   0, 0, 0},
  {"compare", cmd_compare, "compare GOT.npy WANT.npy [--atol X]  max abs error; fail above X (1e-4)", "", 0, 0, 0},
  {"peak", cmd_peak, "peak [--threads N]               this machine's measured FMA peak (GFLOP/s)",
   "  16 (AVX-512) or 12 (AVX2) independent FMA accumulators per thread, on N threads at once; the\n"
   "  yardstick of make bench and of vitc run --profile's % of peak.\n", 0, 0, 0},
};
enum { N_COMMANDS = sizeof commands / sizeof commands[0] };

/* `vitc --help`: every command's synopsis, the option groups and the passes. */
static void print_usage(FILE *f) {
  fputs("usage: vitc COMMAND [ARGS]   (vitc COMMAND --help for one command)\n\ncommands:\n", f);
  for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %s\n", commands[i].synopsis);
  fprintf(f, "\nMODEL is an ONNX file, an IR text file or (run, inspect) a compiled .so.\n%s\n%s\n", load_help,
          image_help);
  cli_pass_help(f);
}

/* `vitc COMMAND --help`. */
static void print_command_help(const struct Command *c) {
  printf("usage: vitc %s\n\n%s", c->synopsis, c->details);
  if (c->image) printf("\n%s", image_help);
  if (c->load) printf("\n%s", load_help);
  if (c->optimizer) {
    printf("\n");
    cli_pass_help(stdout);
  }
}

/* Whether the arguments ask for help. */
static int wants_help(int argc, char **argv) {
  for (int i = 0; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    print_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("vitc %s (C ABI %d)\n", VITC_VERSION, VITC_ABI_VERSION);
    return 0;
  }
  for (int i = 0; i < N_COMMANDS; i++) {
    if (strcmp(argv[1], commands[i].name) != 0) continue;
    if (wants_help(argc - 2, argv + 2)) return print_command_help(&commands[i]), 0;
    return commands[i].run(argc - 2, argv + 2);
  }
  fprintf(stderr, "vitc: error: unknown command '%s' (see vitc --help)\n", argv[1]);
  return 2;
}
