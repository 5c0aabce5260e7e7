/* `vitc run MODEL --input X.npy... --output Y.npy...`: runs a model, after the
 * optimizer (-O0: as imported), through the reference interpreter. Inputs and
 * outputs bind in graph order. */
#include "cli.h"
#include "npy.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct RunArgs {
  const char *model;
  RunFiles files;
  LoadOptions lo;
  PassOptions po;
} RunArgs;

int cli_run_file_option(int argc, char **argv, int *i, RunFiles *f) {
  int in = strcmp(argv[*i], "--input") == 0, out = strcmp(argv[*i], "--output") == 0;
  if (!(in || out) || *i + 1 >= argc) return 0;
  int *n = in ? &f->n_inputs : &f->n_outputs;
  if (*n == CLI_RUN_MAX_IO) return fprintf(stderr, "vitc: error: run: too many %s\n", argv[*i]), -1;
  (in ? f->inputs : f->outputs)[(*n)++] = argv[++*i];
  return 1;
}

/* Parses the command line; 0 or an exit status. */
static int parse_run_args(int argc, char **argv, RunArgs *a, Diag *d) {
  for (int i = 0; i < argc; i++) {
    int used = cli_load_option(argc, argv, &i, &a->lo, d);
    if (!used) used = cli_pass_option(argc, argv, &i, &a->po, d);
    if (used < 0) return cli_fail(d);
    if (!used) used = cli_run_file_option(argc, argv, &i, &a->files);
    if (used < 0) return 2;
    if (used) continue;
    if (argv[i][0] == '-' || a->model) {
      fprintf(stderr, "vitc: error: run: unexpected argument '%s' (see vitc --help)\n", argv[i]);
      return 2;
    }
    a->model = argv[i];
  }
  if (!a->model) return fprintf(stderr, "vitc: error: run: missing MODEL\n"), 2;
  return 0;
}

/* Reads the input files and checks them against the graph's inputs. */
static int read_inputs(const Graph *g, const RunFiles *f, Tensor *in, Diag *d) {
  if (f->n_inputs != g->n_inputs)
    return ir_error(d, g->file, NULL, "model has %d inputs, %d --input given", g->n_inputs, f->n_inputs);
  for (int i = 0; i < g->n_inputs; i++) {
    if (npy_read(f->inputs[i], &in[i], d)) return -1;
    if (!tensor_same_type(&in[i], &g->inputs[i]->t)) {
      char s1[128], s2[128];
      return ir_error(d, f->inputs[i], NULL, "is %s, input '%s' of the model is %s", tensor_type_str(&in[i], s1, sizeof s1),
                      g->inputs[i]->name, tensor_type_str(&g->inputs[i]->t, s2, sizeof s2));
    }
  }
  return 0;
}

int cmd_run(int argc, char **argv) {
  if (cli_run_is_so(argc, argv)) return cmd_run_so(argc, argv);
  Diag d = {0};
  RunArgs a = {0};
  int rc = parse_run_args(argc, argv, &a, &d);
  Graph *g = rc ? NULL : cli_load(a.model, &a.lo, &d);
  cli_load_options_free(&a.lo);
  if (rc) return rc;
  if (!g) return cli_fail(&d);
  Tensor in[CLI_RUN_MAX_IO] = {0}, out[CLI_RUN_MAX_IO] = {0};
  PassCtx ctx = {0};
  rc = cli_optimize(g, &a.po, &ctx, &d); /* the interpreter runs the optimized graph */
  pass_ctx_free(&ctx);
  if (!rc && a.files.n_outputs > g->n_outputs)
    rc = ir_error(&d, g->file, NULL, "model has %d outputs, %d --output given", g->n_outputs, a.files.n_outputs);
  if (!rc && g->n_outputs > CLI_RUN_MAX_IO)
    rc = ir_error(&d, g->file, NULL, "model has more than %d outputs", CLI_RUN_MAX_IO);
  if (!rc) rc = read_inputs(g, &a.files, in, &d);
  if (!rc) rc = ir_interpret(g, in, out, &d);
  for (int i = 0; !rc && i < a.files.n_outputs; i++) rc = npy_write(a.files.outputs[i], &out[i], &d);
  for (int i = 0; i < CLI_RUN_MAX_IO; i++) {
    free(in[i].data);
    free(out[i].data);
  }
  ir_graph_free(g);
  return rc ? cli_fail(&d) : 0;
}
