/* The vitc command-line commands. Each returns the process exit status and
 * prints its own error line; main only dispatches. */
#ifndef VITC_CLI_H
#define VITC_CLI_H
#include "ir.h"
#include "onnx_import.h"
#include "passes.h"
#include "vitc_abi.h"

#define CLI_MAX_SHAPES 16

/* Options shared by commands that load a model. */
typedef struct LoadOptions {
  InputShape shapes[CLI_MAX_SHAPES];
  int n_shapes;
  int64_t batch;
  int64_t default_batch; /* pins a symbolic batch of an ONNX model when --batch is not given (0: none) */
  const char *batch_option; /* the option that set batch, for messages (NULL: "--batch") */
} LoadOptions;

/* Consumes argv[*i] (and its value) when it is a load option; 1 if consumed,
 * 0 if not, -1 on a bad value (d filled). */
int cli_load_option(int argc, char **argv, int *i, LoadOptions *o, Diag *d);
/* Frees what cli_load_option allocated (the --input-shape names). */
void cli_load_options_free(LoadOptions *o);

/* Reads a whole file into a malloc'd buffer with a NUL after its *size bytes
 * (size may be NULL); NULL with d filled when it cannot be read. */
char *cli_read_file(const char *path, size_t *size, Diag *d);

/* Loads an ONNX model or an IR text file (its first line that is not blank or
 * a `#` comment starts with `graph`), infers shapes and verifies; --batch and
 * --input-shape apply to ONNX models only. NULL with d filled on error, also
 * for a text file that is not IR text. */
Graph *cli_load(const char *path, const LoadOptions *o, Diag *d);

/* Optimizer options (tools/pass_options.c): consumes argv[*i] (and its value)
 * when it is one of -O0, --passes=, --disable-pass=, --print-before=,
 * --print-after=, --print-after-all, --time-passes, --verify-each,
 * --explain-fusion; 1 if consumed, 0 if not, -1 on a bad value (d filled,
 * naming the valid passes). */
int cli_pass_option(int argc, char **argv, int *i, PassOptions *o, Diag *d);
/* The optimizer options and the pass list (from pass_table) for --help. */
void cli_pass_help(FILE *f);
/* Runs the pipeline as o asks (ctx->opt = o); pass_ctx_free(ctx) afterwards. */
int cli_optimize(Graph *g, const PassOptions *o, PassCtx *ctx, Diag *d);
/* Writes g as a Graphviz digraph to path (tools/dot.c). */
int cli_write_dot(const Graph *g, const char *path, Diag *d);
/* Renders a DOT file to SVG with Graphviz's `dot` (written under a temporary name, then renamed). */
int cli_render_svg(const char *dot_path, const char *svg_path, Diag *d);

int cmd_ir(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_test_onnx(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_peak(int argc, char **argv);
/* The .npy files of `vitc run`, bound to the model's inputs and outputs in order. */
#define CLI_RUN_MAX_IO 16
typedef struct RunFiles {
  const char *inputs[CLI_RUN_MAX_IO], *outputs[CLI_RUN_MAX_IO];
  int n_inputs, n_outputs;
} RunFiles;
/* Consumes argv[*i] and its value when it is `--input X.npy` or `--output
 * Y.npy` (tools/cmd_run.c); 1 if consumed, 0 if not, -1 (error printed) when
 * there are too many. */
int cli_run_file_option(int argc, char **argv, int *i, RunFiles *f);

struct ImageOptions;
/* Refuses combinations of the npy and image modes of `vitc run`; 0 or exit status 2 (message printed). */
int cli_run_check_modes(const RunFiles *f, const struct ImageOptions *img);

/* `vitc run` for a compiled model (tools/run_so.c); cli_run_is_so tells whether
 * MODEL is one: an argument, other than the files of --input and --output,
 * that ends in ".so". */
int cmd_run_so(int argc, char **argv);
/* The type (no data) of a compiled model's input or output (tools/run_so.c). */
Tensor cli_tensor_of_info(const VitcTensorInfo *t);
struct VitrtModel;
/* The error of a failed session creation: for VITC_ERR_CPU, what the model needs and this CPU has. */
int cli_session_error(const struct VitrtModel *m, const char *path, int st, Diag *d);
int cli_run_is_so(int argc, char **argv);

/* Compiles g into DIR/model.so at opt_level, runs it once through the loader
 * on in (graph input order) and fills out[j] (malloc'd data, the types of the
 * graph outputs); removes the files again (tools/run_compiled.c). */
int cli_run_compiled(const Graph *g, const char *dir, int opt_level, const Tensor *in, Tensor *out, Diag *d);
/* Removes dir and the files in it (what a crashed compiled run may have left). */
void cli_remove_dir(const char *dir);

/* The measured single-precision FMA peak of `threads` threads at once, in GFLOP/s, and the instruction set
 * it used (tools/peak.c). */
double cli_fma_peak_gflops(int threads, const char **isa);
/* Prints a --profile measurement (tools/profile.c): per op kind and per node, GFLOP/s and % of the peak on
 * `threads` threads; also as JSON to json when not NULL. */
int cli_print_profile(const VitcProfile *p, int threads, const char *json, Diag *d);

/* Prints d's message (or a generic one) to stderr and returns 1. */
int cli_fail(const Diag *d);

#endif
