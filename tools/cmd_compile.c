/* `vitc compile MODEL -o OUT [--emit so|obj|asm|llvm] [--target-cpu CPU] [-O0..3]`:
 * loads and verifies MODEL, runs the graph optimizer (the optimizer options of
 * `vitc ir`; -O0 turns the graph passes off too), then the backend (cg_compile). */
#include "cg.h"
#include "cli.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Progress lines on a terminal: `vitc: compile: [  0.42 s,   312 MB] STAGE` (elapsed time, the process's peak
 * resident memory so far). */
typedef struct Progress {
  int on;
  struct timespec t0;
} Progress;

static void progress_stage(void *ctx, const char *stage) {
  Progress *p = ctx;
  if (!p->on) return;
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  double s = (double)(t.tv_sec - p->t0.tv_sec) + (double)(t.tv_nsec - p->t0.tv_nsec) * 1e-9;
  struct rusage ru;
  long peak_mb = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss / 1024 : 0; /* ru_maxrss is in KiB */
  fprintf(stderr, "vitc: compile: [%6.2f s, %5ld MB] %s\n", s, peak_mb, stage);
}

/* The emit kind spelled s, or -1. */
static int compile_emit_kind(const char *s) {
  static const char *const names[] = {[CG_EMIT_SO] = "so", [CG_EMIT_OBJ] = "obj", [CG_EMIT_ASM] = "asm",
                                      [CG_EMIT_LLVM] = "llvm"};
  for (int i = 0; i < 4; i++)
    if (strcmp(s, names[i]) == 0) return i;
  return -1;
}

/* The emit kind an output name implies when --emit is absent (.o .s .ll; else a shared library). */
static CgEmitKind compile_emit_from_name(const char *out) {
  const char *dot = strrchr(out, '.');
  if (dot && strcmp(dot, ".o") == 0) return CG_EMIT_OBJ;
  if (dot && strcmp(dot, ".s") == 0) return CG_EMIT_ASM;
  if (dot && strcmp(dot, ".ll") == 0) return CG_EMIT_LLVM;
  return CG_EMIT_SO;
}

/* Whether s can prefix C function names: [A-Za-z_][A-Za-z0-9_]*, at most 64 characters. */
static int compile_is_identifier(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 64 || isdigit((unsigned char)s[0])) return 0;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '_') return 0;
  return 1;
}

/* Whether prefix P would make names vitc itself uses: the runtime's rt_*, the generated vitc_generated_*,
 * the loader's vitrt_* and the image library's vitimg_*. */
static int compile_prefix_reserved(const char *p) {
  static const char *const reserved[] = {"rt", "vitrt", "vitimg", "vitc_generated"};
  for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
    size_t n = strlen(reserved[i]);
    if (strncmp(p, reserved[i], n) == 0 && (p[n] == 0 || p[n] == '_')) return 1;
  }
  return 0;
}

/* Parses the command line into o and lo; 0 or an exit status. */
static int compile_args(int argc, char **argv, const char **model, CompileOptions *o, LoadOptions *lo, PassOptions *po,
                        int *dynamic, Diag *d) {
  int emit = -1;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-O0") == 0) o->opt_level = 0; /* and, below, no graph passes */
    int used = cli_load_option(argc, argv, &i, lo, d);
    if (!used) used = cli_pass_option(argc, argv, &i, po, d);
    if (used < 0) return cli_fail(d), 2; /* a bad option value: a usage error, as in run */
    if (used) continue;
    int has_val = i + 1 < argc;
    if (strcmp(a, "-o") == 0 && has_val) o->output = argv[++i];
    else if (strcmp(a, "--target-cpu") == 0 && has_val) o->target_cpu = argv[++i];
    else if (strcmp(a, "--runtime-lib") == 0 && has_val) o->runtime_lib = argv[++i];
    else if (strcmp(a, "--prefix") == 0 && has_val) {
      if (!compile_is_identifier(argv[++i]))
        return fprintf(stderr, "vitc: error: compile: --prefix must be a C identifier of at most 64 characters "
                               "([A-Za-z_][A-Za-z0-9_]*), not '%s'\n", argv[i]), 2;
      if (compile_prefix_reserved(argv[i]))
        return fprintf(stderr, "vitc: error: compile: --prefix '%s' is reserved (vitc's own names start with rt_, "
                               "vitrt_, vitimg_ and vitc_generated_)\n", argv[i]), 2;
      o->prefix = argv[i];
    }
    else if (strcmp(a, "--emit") == 0 && has_val) {
      if ((emit = compile_emit_kind(argv[++i])) < 0)
        return fprintf(stderr, "vitc: error: compile: --emit takes so, obj, asm or llvm, not '%s'\n", argv[i]), 2;
    } else if (a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3' && !a[3]) o->opt_level = a[2] - '0';
    else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) o->verbose = 1;
    else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) o->progress = NULL;
    else if (strcmp(a, "--dynamic-batch") == 0) *dynamic = 1;
    else if (strcmp(a, "--profile") == 0) o->profile = 1;
    else if (strcmp(a, "--max-batch") == 0 && has_val) {
      char *end;
      long long n = strtoll(argv[++i], &end, 10);
      if (*end || n < 1 || n > (1ll << 30))
        return fprintf(stderr, "vitc: error: compile: --max-batch needs a positive integer, got '%s'\n", argv[i]), 2;
      o->max_batch = n;
    }
    else if (a[0] == '-' || *model)
      return fprintf(stderr, "vitc: error: compile: unexpected argument '%s' (see vitc --help)\n", a), 2;
    else *model = a;
  }
  if (!*model) return fprintf(stderr, "vitc: error: compile: missing MODEL\n"), 2;
  if (cg_check_target_cpu(o->target_cpu, d)) return cli_fail(d), 2;
  if (o->max_batch && !*dynamic) return fprintf(stderr, "vitc: error: compile: --max-batch needs --dynamic-batch\n"), 2;
  if (*dynamic && lo->batch)
    return fprintf(stderr, "vitc: error: compile: --batch pins one batch; --dynamic-batch compiles for any\n"), 2;
  if (!o->output) return fprintf(stderr, "vitc: error: compile: missing -o OUTPUT\n"), 2;
  o->emit = emit >= 0 ? (CgEmitKind)emit : compile_emit_from_name(o->output);
  return 0;
}

/* The batches a dynamic-batch model is compiled for: 1, 2, 4, ... up to max_batch, at most 16 (8 without a
 * max_batch): a larger batch runs as chunks of these, and the workspace is the largest's. */
static int compile_batches(int64_t max_batch, int64_t *batches) {
  int64_t cap = max_batch && max_batch < 16 ? max_batch : max_batch ? 16 : 8; /* larger batches run in chunks */
  int n = 0;
  for (int64_t b = 1; b <= cap && n < 16; b *= 2) batches[n++] = b;
  return n;
}

/* Checks that variant g (batch b) is variant g0 (batch b0) with the batch as every input's and output's first
 * dim: the runtime splits a run along that dim. */
static int compile_check_batch_dim(const Graph *g0, int64_t b0, const Graph *g, int64_t b, Diag *d) {
  for (int k = 0; k < 2; k++) {
    int n = k ? g->n_outputs : g->n_inputs;
    for (int i = 0; i < n; i++) {
      const Tensor *t = &(k ? g->outputs : g->inputs)[i]->t, *t0 = &(k ? g0->outputs : g0->inputs)[i]->t;
      int ok = t->rank >= 1 && t->rank == t0->rank && t->dims[0] == b && t0->dims[0] == b0;
      for (int r = 1; ok && r < t->rank; r++) ok = t->dims[r] == t0->dims[r];
      if (!ok) {
        char s0[128], s1[128];
        return ir_error(d, g->file, NULL, "--dynamic-batch: %s '%s' is %s at batch %lld but %s at batch %lld: its first "
                        "dimension does not follow the batch (fixed by the export or --input-shape?)", k ? "output" : "input", (k ? g->outputs : g->inputs)[i]->name,
                        tensor_type_str(t0, s0, sizeof s0), (long long)b0, tensor_type_str(t, s1, sizeof s1),
                        (long long)b);
      }
    }
  }
  return 0;
}

/* Loads and optimizes model pinned to batch (0: as the options say). */
static Graph *compile_load(const char *model, LoadOptions *lo, int64_t batch, const PassOptions *po, Diag *d) {
  if (batch) lo->batch = batch;
  Graph *g = cli_load(model, lo, d);
  PassCtx ctx = {0};
  if (g && cli_optimize(g, po, &ctx, d)) {
    ir_graph_free(g);
    g = NULL;
  }
  pass_ctx_free(&ctx);
  return g;
}

/* Loads, optimizes and compiles one graph, or one per batch for --dynamic-batch. */
static int compile_model(const char *model, LoadOptions *lo, const PassOptions *po, const CompileOptions *o,
                         int dynamic, Diag *d) {
  int64_t batches[16] = {0};
  int n = dynamic ? compile_batches(o->max_batch, batches) : 1;
  Graph *gs[16] = {NULL};
  int rc = 0;
  lo->batch_option = dynamic ? "--dynamic-batch" : NULL;
  for (int k = 0; k < n && !rc; k++) {
    if (!(gs[k] = compile_load(model, lo, batches[k], po, d))) rc = -1;
    else if (k > 0) rc = compile_check_batch_dim(gs[0], batches[0], gs[k], batches[k], d);
  }
  if (!rc) rc = dynamic ? cg_compile_batches((const Graph *const *)gs, n, o, d) : cg_compile(gs[0], o, d);
  for (int k = 0; k < n; k++) ir_graph_free(gs[k]);
  return rc;
}

int cmd_compile(int argc, char **argv) {
  Diag d = {0};
  LoadOptions lo = {0};
  PassOptions po = {0};
  Progress prog = {.on = isatty(2)};
  clock_gettime(CLOCK_MONOTONIC, &prog.t0);
  CompileOptions o = {.opt_level = 3, .progress = progress_stage, .progress_ctx = &prog};
  const char *model = NULL;
  int dynamic = 0;
  int rc = compile_args(argc, argv, &model, &o, &lo, &po, &dynamic, &d);
  if (!o.progress) prog.on = 0; /* -q */
  if (!rc) progress_stage(&prog, "loading and optimizing the model");
  if (!rc && compile_model(model, &lo, &po, &o, dynamic, &d)) rc = cli_fail(&d);
  if (!rc && prog.on) {
    char done[512];
    snprintf(done, sizeof done, "wrote %s", o.output);
    progress_stage(&prog, done);
  }
  cli_load_options_free(&lo);
  return rc;
}
