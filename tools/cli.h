/* The vitc command-line commands. Each returns the process exit status and
 * prints its own error line; main only dispatches. */
#ifndef VITC_CLI_H
#define VITC_CLI_H
#include "ir.h"
#include "onnx_import.h"

#define CLI_MAX_SHAPES 16

/* Options shared by commands that load a model. */
typedef struct LoadOptions {
  InputShape shapes[CLI_MAX_SHAPES];
  int n_shapes;
  int64_t batch;
} LoadOptions;

/* Consumes argv[*i] (and its value) when it is a load option; 1 if consumed,
 * 0 if not, -1 on a bad value (d filled). */
int cli_load_option(int argc, char **argv, int *i, LoadOptions *o, Diag *d);
/* Frees what cli_load_option allocated (the --input-shape names). */
void cli_load_options_free(LoadOptions *o);

/* Loads an ONNX model or an IR text file (one that starts with "graph "),
 * infers shapes and verifies. NULL with d filled on error. */
Graph *cli_load(const char *path, const LoadOptions *o, Diag *d);

int cmd_ir(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_test_onnx(int argc, char **argv);
int cmd_compare(int argc, char **argv);

/* Prints d's message (or a generic one) to stderr and returns 1. */
int cli_fail(const Diag *d);

#endif
