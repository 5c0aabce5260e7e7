/* `vitc run MODEL.so --input X.npy... [--output Y.npy...] [--threads N] [--bench N]`:
 * runs a compiled model through the loader (vitrt), with checked buffers;
 * --bench times N runs after a warm-up and prints `latency_ms min=X median=Y runs=N`. */
#include "cli.h"
#include "image_cli.h"
#include "npy.h"
#include "vitrt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct RunSoArgs {
  const char *model;
  RunFiles files;
  int threads, profile; /* --bench N is the image options' (img.bench), for .npy inputs too */
  const char *profile_json;
  ImageOptions img;
} RunSoArgs;

/* Whether s ends with ".so". */
static int ends_with_so(const char *s) {
  size_t n = strlen(s);
  return n > 3 && strcmp(s + n - 3, ".so") == 0;
}

int cli_session_error(const VitrtModel *m, const char *path, int st, Diag *d) {
  char why[512];
  if (st == VITC_ERR_CPU && vitrt_cpu_check(m, why, sizeof why) == VITC_ERR_CPU)
    return ir_error(d, path, NULL, "cannot run on this CPU: %s (compile with --target-cpu for an older CPU)", why);
  return ir_error(d, path, NULL, "cannot create a session: %s", vitrt_status_string(st));
}

int cli_run_is_so(int argc, char **argv) {
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--input") == 0 || strcmp(argv[i], "--output") == 0) i++; /* a .npy file */
    else if (ends_with_so(argv[i])) return 1;
  }
  return 0;
}

/* Parses a positive count for option opt; -1 when s is not one. */
static int parse_count(const char *opt, const char *s) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*end || v < 1 || v > 1000000) {
    fprintf(stderr, "vitc: error: run: %s needs a positive integer, got '%s'\n", opt, s);
    return -1;
  }
  return (int)v;
}

/* Parses the command line; 0 or an exit status. */
static int run_so_args(int argc, char **argv, RunSoArgs *a) {
  for (int i = 0; i < argc; i++) {
    Diag d = {0};
    int has_val = i + 1 < argc, used = cli_run_file_option(argc, argv, &i, &a->files);
    if (used < 0) return 2;
    if (used) continue;
    if ((used = cli_image_option(argc, argv, &i, &a->img, &d)) != 0) {
      if (used < 0) return cli_fail(&d), 2;
      continue;
    }
    if (strcmp(argv[i], "--threads") == 0 && has_val) {
      if ((a->threads = parse_count("--threads", argv[++i])) < 0) return 2;
    } else if (strcmp(argv[i], "--profile") == 0) {
      a->profile = 1;
    } else if (strcmp(argv[i], "--profile-json") == 0 && has_val) {
      a->profile = 1;
      a->profile_json = argv[++i];
    } else if (argv[i][0] == '-' || a->model) {
      return fprintf(stderr, "vitc: error: run: unexpected argument '%s' for a compiled model\n", argv[i]), 2;
    } else {
      a->model = argv[i];
    }
  }
  if (a->img.attention_map) {
    fprintf(stderr, "vitc: error: run: --attention-map runs the reference interpreter, which needs the ONNX model "
                    "or IR text (a compiled .so keeps no attention probabilities)\n");
    return 2;
  }
  return cli_run_check_modes(&a->files, &a->img);
}

/* Warm-up, then `runs` timed runs; prints the summary line. */
static int run_so_bench(VitrtSession *s, int n_in, const VitrtTensor *in, int n_out, const VitrtTensor *out,
                        int runs, Diag *d) {
  double *ms = malloc((size_t)runs * sizeof *ms);
  char err[512];
  if (!ms) return ir_error(d, NULL, NULL, "out of memory");
  for (int r = -1; r < runs; r++) {
    double t0 = cli_now_ms();
    int st = vitrt_run_checked(s, n_in, in, n_out, out, err, sizeof err);
    if (st) {
      free(ms);
      return ir_error(d, NULL, NULL, "%s", err);
    }
    if (r >= 0) ms[r] = cli_now_ms() - t0;
  }
  cli_print_latency(stdout, ms, runs);
  free(ms);
  return 0;
}

/* --profile: a warm-up run, then a.bench runs (10 by default) measured and printed per node and op kind. */
static int run_so_profile(VitrtSession *s, const RunSoArgs *a, const VitcModelInfo *info, const VitrtTensor *vin,
                          const VitrtTensor *vout, Diag *d) {
  char err[512];
  VitcProfile p;
  int runs = a->img.bench ? a->img.bench : 10;
  for (int r = -1; r < runs; r++) {
    if (vitrt_run_checked(s, info->n_inputs, vin, info->n_outputs, vout, err, sizeof err))
      return ir_error(d, a->model, NULL, "%s", err);
    if (r < 0) vitrt_session_profile(s, &p, 1); /* measure from here */
  }
  vitrt_session_profile(s, &p, 0);
  return cli_print_profile(&p, p.threads, a->profile_json, d);
}

/* Runs once (or benchmarks) with tensors read from the input files; fills out. */
static int run_so_session(VitrtModel *m, const RunSoArgs *a, Tensor *in, Tensor *out, Diag *d) {
  const VitcModelInfo *info = vitrt_info(m);
  VitrtTensor vin[CLI_RUN_MAX_IO], vout[CLI_RUN_MAX_IO];
  char err[512];
  if (a->files.n_inputs != info->n_inputs)
    return ir_error(d, a->model, NULL, "model has %d inputs, %d --input given", info->n_inputs, a->files.n_inputs);
  if (info->n_inputs > CLI_RUN_MAX_IO || info->n_outputs > CLI_RUN_MAX_IO)
    return ir_error(d, a->model, NULL, "model has more than %d inputs or outputs", CLI_RUN_MAX_IO);
  if (a->files.n_outputs > info->n_outputs)
    return ir_error(d, a->model, NULL, "model has %d outputs, %d --output given", info->n_outputs, a->files.n_outputs);
  for (int i = 0; i < a->files.n_inputs; i++) {
    if (npy_read(a->files.inputs[i], &in[i], d)) return -1;
    vin[i] = (VitrtTensor){dt_to_onnx(in[i].dtype), in[i].rank, in[i].dims, in[i].data};
  }
  for (int j = 0; j < info->n_outputs; j++) {
    const VitcTensorInfo *t = &info->outputs[j];
    out[j] = cli_tensor_of_info(t);
    if (info->batch_dynamic && info->n_inputs > 0 && in[0].rank > 0 && t->rank > 0) /* the inputs' batch */
      out[j].dims[0] = in[0].dims[0];
    if (!(out[j].data = malloc(tensor_bytes(&out[j]) + 1))) return ir_error(d, NULL, NULL, "out of memory");
    vout[j] = (VitrtTensor){t->dtype, t->rank, out[j].dims, out[j].data};
  }
  int st;
  VitrtSession *s = vitrt_session_create(m, a->threads, &st); /* 0: the runtime's default count */
  if (!s) return cli_session_error(m, a->model, st, d);
  int rc = 0;
  if (a->profile) rc = run_so_profile(s, a, info, vin, vout, d);
  else if (a->img.bench) rc = run_so_bench(s, info->n_inputs, vin, info->n_outputs, vout, a->img.bench, d);
  else if ((st = vitrt_run_checked(s, info->n_inputs, vin, info->n_outputs, vout, err, sizeof err)))
    rc = ir_error(d, a->model, NULL, "%s", err);
  vitrt_session_destroy(s);
  return rc;
}

/* ImageModel.run on a compiled model: one checked run with input 0 and output 0 (other outputs scratch). */
typedef struct SoBatch {
  VitrtSession *s;
  const VitcModelInfo *info;
  const char *path;
  void *scratch[CLI_RUN_MAX_IO];
} SoBatch;
static int so_batch(void *ctx, const float *x, float *y, Diag *d) {
  SoBatch *b = ctx;
  VitrtTensor in = {b->info->inputs[0].dtype, b->info->inputs[0].rank, b->info->inputs[0].dims, (void *)x};
  VitrtTensor out[CLI_RUN_MAX_IO];
  for (int j = 0; j < b->info->n_outputs; j++) {
    const VitcTensorInfo *t = &b->info->outputs[j];
    out[j] = (VitrtTensor){t->dtype, t->rank, t->dims, j ? b->scratch[j] : y};
  }
  char err[512];
  if (vitrt_run_checked(b->s, 1, &in, b->info->n_outputs, out, err, sizeof err))
    return ir_error(d, b->path, NULL, "%s", err);
  return 0;
}

Tensor cli_tensor_of_info(const VitcTensorInfo *t) {
  Tensor r = {dt_from_onnx(t->dtype), t->rank, {0}, NULL};
  memcpy(r.dims, t->dims, sizeof r.dims);
  return r;
}

/* `vitc run MODEL.so --image ...`. */
static int run_so_images(VitrtModel *m, const RunSoArgs *a, Diag *d) {
  const VitcModelInfo *info = vitrt_info(m);
  if (info->n_inputs != 1 || info->n_outputs < 1 || info->n_outputs > CLI_RUN_MAX_IO)
    return ir_error(d, a->model, NULL, "--image needs a model with one input (this one has %d) and 1 to %d outputs",
                    info->n_inputs, CLI_RUN_MAX_IO);
  SoBatch b = {NULL, info, a->model, {NULL}};
  int st, rc = 0;
  for (int j = 1; j < info->n_outputs && !rc; j++) {
    Tensor t = cli_tensor_of_info(&info->outputs[j]);
    if (!(b.scratch[j] = malloc(tensor_bytes(&t) + 1))) rc = ir_error(d, NULL, NULL, "out of memory");
  }
  if (!rc && !(b.s = vitrt_session_create(m, a->threads, &st)))
    rc = cli_session_error(m, a->model, st, d);
  ImageModel im = {a->model, (const VitimgMeta *)info->metadata, info->n_metadata, cli_tensor_of_info(&info->inputs[0]),
                   cli_tensor_of_info(&info->outputs[0]), so_batch, &b};
  char *text = NULL; /* printed only when every image went through */
  size_t len = 0;
  FILE *out = rc ? NULL : open_memstream(&text, &len);
  if (!rc && !out) rc = ir_error(d, NULL, NULL, "out of memory");
  if (!rc) rc = cli_classify_images(&im, &a->img, out, d);
  if (out) fclose(out);
  if (!rc) fputs(text, stdout);
  free(text);
  vitrt_session_destroy(b.s);
  for (int j = 0; j < CLI_RUN_MAX_IO; j++) free(b.scratch[j]);
  return rc;
}

/* The runtime ignores a VITC_NUM_THREADS that is not a whole number from 1 (it cannot print); say so here. */
static void warn_num_threads(int threads) {
  const char *env = getenv("VITC_NUM_THREADS");
  if (threads > 0 || !env || !*env) return;
  char *end;
  long n = strtol(env, &end, 10);
  if (*end || n < 1)
    fprintf(stderr, "vitc: warning: VITC_NUM_THREADS='%s' is not a whole number from 1; ignored\n", env);
}

int cmd_run_so(int argc, char **argv) {
  RunSoArgs a = {0};
  cli_image_options_init(&a.img);
  int rc = run_so_args(argc, argv, &a);
  if (!rc && !a.model) rc = (fprintf(stderr, "vitc: error: run: missing MODEL\n"), 2);
  if (!rc) warn_num_threads(a.threads);
  if (rc) return cli_image_options_free(&a.img), rc;
  Diag d = {.file = a.model}; /* errors without a file of their own name the model */
  char err[1024];
  VitrtModel *m = vitrt_open(a.model, err, sizeof err);
  if (!m) return cli_image_options_free(&a.img), fprintf(stderr, "vitc: error: %s\n", err), 1;
  if (a.img.n_images) {
    rc = run_so_images(m, &a, &d);
    cli_image_options_free(&a.img);
    vitrt_close(m);
    return rc ? cli_fail(&d) : 0;
  }
  Tensor in[CLI_RUN_MAX_IO] = {0}, out[CLI_RUN_MAX_IO] = {0};
  rc = run_so_session(m, &a, in, out, &d);
  for (int j = 0; !rc && j < a.files.n_outputs; j++) rc = npy_write(a.files.outputs[j], &out[j], &d);
  for (int i = 0; i < CLI_RUN_MAX_IO; i++) {
    free(in[i].data);
    free(out[i].data);
  }
  vitrt_close(m);
  return rc ? cli_fail(&d) : 0;
}
