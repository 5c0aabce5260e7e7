/* `vitc run MODEL --input X.npy... --output Y.npy...`: runs a model, after the
 * optimizer (-O0: as imported), through the reference interpreter. Inputs and
 * outputs bind in graph order. */
#include "cli.h"
#include "image_cli.h"
#include "npy.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct RunArgs {
  const char *model;
  RunFiles files;
  LoadOptions lo;
  PassOptions po;
  ImageOptions img;
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
    if (!used) used = cli_image_option(argc, argv, &i, &a->img, d);
    if (used < 0) return cli_fail(d), 2; /* a bad option value: a usage error, like the others */
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
  if (a->img.bench && !a->img.n_images) /* with .npy files it times compiled models only */
    return fprintf(stderr, "vitc: error: run: --bench on ONNX or IR text times the interpreter on --image "
                           "inputs; compile the model to time it on .npy inputs\n"), 2;
  return cli_run_check_modes(&a->files, &a->img);
}

int cli_run_check_modes(const RunFiles *f, const ImageOptions *img) {
  const char *err = NULL;
  if (img->n_images && (f->n_inputs || f->n_outputs)) err = "--image and --input/--output cannot be combined";
  else if (!img->n_images && (img->attention_map || img->labels_file || img->top || img->size || img->has_mean ||
                              img->has_std || img->resize >= 0 || img->grayscale))
    err = "image options need --image FILE";
  else if (img->attention_map && img->n_images != 1) err = "--attention-map takes exactly one --image";
  if (err) fprintf(stderr, "vitc: error: run: %s\n", err);
  return err ? 2 : 0;
}

/* ImageModel.run through the interpreter: one input, output 0 copied out. */
static int interp_batch(void *ctx, const float *x, float *y, Diag *d) {
  const Graph *g = ctx;
  Tensor in = g->inputs[0]->t, out[CLI_RUN_MAX_IO] = {0};
  in.data = (void *)x;
  int rc = ir_interpret(g, &in, out, d);
  if (!rc) memcpy(y, out[0].data, tensor_bytes(&out[0]));
  for (int j = 0; j < g->n_outputs; j++) free(out[j].data);
  return rc;
}

/* Whether g has a fused attention node (what --attention-map reads). */
static int has_attention(const Graph *g) {
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i]->op == OP_ATTENTION) return 1;
  return 0;
}

/* The classification lines (into out), then the attention map. */
static int classify_and_map(const Graph *g, const ImageModel *m, const ImageOptions *o, FILE *out, Diag *d) {
  if (o->attention_map && !has_attention(g)) /* checked before any work */
    return ir_error(d, g->file, NULL, "--attention-map: no fused attention node in the optimized graph "
                    "(vitc ir --explain-fusion says why)");
  if (o->attention_map && cli_check_png_output(o->attention_map, g->file, o, d)) return -1;
  if (cli_classify_images(m, o, out, d)) return -1;
  if (!o->attention_map) return 0;
  VitimgPrep p;
  float *x = malloc((size_t)tensor_numel(&m->input) * sizeof *x);
  int rc = x ? cli_image_prep(m, o, &p, d) : ir_error(d, NULL, NULL, "out of memory");
  if (!rc) rc = cli_image_load(o->images[0], &p, (int)m->input.dims[1], x, d);
  if (!rc) rc = cli_attention_map(g, &p, o->images[0], x, o->attention_map, out, d);
  free(x);
  return rc;
}

/* `vitc run MODEL --image ...` through the interpreter; prints only when everything succeeded. */
static int run_images(const Graph *g, const ImageOptions *o, Diag *d) {
  if (g->n_inputs != 1 || g->n_outputs < 1 || g->n_outputs > CLI_RUN_MAX_IO)
    return ir_error(d, g->file, NULL, "--image needs a model with one input (this one has %d) and 1 to %d outputs",
                    g->n_inputs, CLI_RUN_MAX_IO);
  ImageModel m = {g->file, (const VitimgMeta *)g->meta, g->n_meta, g->inputs[0]->t, g->outputs[0]->t, interp_batch,
                  (void *)g};
  m.input.data = m.output.data = NULL;
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  int rc = out ? classify_and_map(g, &m, o, out, d) : ir_error(d, NULL, NULL, "out of memory");
  if (out) fclose(out);
  if (!rc) fputs(text, stdout);
  free(text);
  return rc;
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
  cli_image_options_init(&a.img);
  int rc = parse_run_args(argc, argv, &a, &d);
  /* A symbolic batch takes the images several at a time (the interpreter runs one batch per call). */
  if (!rc && a.img.n_images) a.lo.default_batch = a.img.n_images < 8 ? a.img.n_images : 8;
  /* The rollout needs every token's attention row in every layer: keep the rows prune_rows would drop. */
  if (!rc && a.img.attention_map) a.po.disabled[PASS_prune_rows] = 1;
  Graph *g = rc ? NULL : cli_load(a.model, &a.lo, &d);
  cli_load_options_free(&a.lo);
  if (rc || !g) cli_image_options_free(&a.img);
  if (rc) return rc;
  if (!g) return cli_fail(&d);
  Tensor in[CLI_RUN_MAX_IO] = {0}, out[CLI_RUN_MAX_IO] = {0};
  PassCtx ctx = {0};
  rc = cli_optimize(g, &a.po, &ctx, &d); /* the interpreter runs the optimized graph */
  pass_ctx_free(&ctx);
  if (a.img.n_images) {
    if (!rc) rc = run_images(g, &a.img, &d);
    cli_image_options_free(&a.img);
    ir_graph_free(g);
    return rc ? cli_fail(&d) : 0;
  }
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
