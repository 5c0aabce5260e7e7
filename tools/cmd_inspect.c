/* `vitc inspect MODEL [--pos-embed OUT.png] [load options]`: what a model is
 * (inputs, outputs, metadata, patch size, width, depth, heads, MLP width,
 * parameters, FLOPs per image) and what the optimizer made of it. A compiled
 * .so shows what its info records. */
#include "cli.h"
#include "image_cli.h"
#include "vitrt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_pos_embed_map(const Graph *g, const char *out_png, Diag *d);

typedef struct InspectArgs {
  const char *model, *pos_embed;
  LoadOptions lo;
} InspectArgs;

/* Parses the command line; 0 or an exit status. */
static int inspect_args(int argc, char **argv, InspectArgs *a, Diag *d) {
  for (int i = 0; i < argc; i++) {
    int used = cli_load_option(argc, argv, &i, &a->lo, d);
    if (used < 0) return cli_fail(d), 2; /* a bad option value: a usage error, as in run */
    if (used) continue;
    if (strcmp(argv[i], "--pos-embed") == 0) {
      if (i + 1 >= argc) return fprintf(stderr, "vitc: error: inspect: --pos-embed needs OUT.png\n"), 2;
      a->pos_embed = argv[++i];
    } else if (argv[i][0] == '-' || a->model) {
      fprintf(stderr, "vitc: error: inspect: unexpected argument '%s' (see vitc inspect --help)\n", argv[i]);
      return 2;
    } else a->model = argv[i];
  }
  if (!a->model) return fprintf(stderr, "vitc: error: inspect: missing MODEL (see vitc inspect --help)\n"), 2;
  return 0;
}

/* Prints the metadata entries (a graph's MetaProp or a .so's VitcMetadata: one layout), a long value
 * shortened to its first line. */
static void print_meta(const VitimgMeta *meta, int n) {
  for (int i = 0; i < n; i++) {
    const char *v = meta[i].value, *key = meta[i].key;
    int len = (int)strcspn(v, "\n");
    int lines = 1;
    for (const char *p = v; *p; p++) lines += *p == '\n';
    if (lines > 1) printf("  meta %s = %.*s ... (%d lines)\n", key, len > 40 ? 40 : len, v, lines);
    else printf("  meta %s = %.*s%s\n", key, len > 100 ? 100 : len, v, len > 100 ? "..." : "");
  }
}

/* ---- compiled models ---- */

static int inspect_so(const char *path) {
  char err[1024], ty[128];
  VitrtModel *m = vitrt_open(path, err, sizeof err);
  if (!m) return fprintf(stderr, "vitc: error: %s\n", err), 1;
  const VitcModelInfo *info = vitrt_info(m);
  char why[512];
  int runs = vitrt_cpu_check(m, why, sizeof why) == VITC_OK;
  printf("model %s (compiled, ABI %u)\n", path, info->abi_version);
  printf("  entry points %s_model_info, %s_session_create, ... (--prefix %s)\n", info->prefix, info->prefix,
         info->prefix);
  printf("  target cpu %s, needs %s; %s%s\n", info->target_cpu, *info->cpu_features ? info->cpu_features : "no extension",
         runs ? "runs on this CPU" : "does not run on this CPU: ", runs ? "" : why);
  for (int k = 0; k < 2; k++) {
    const VitcTensorInfo *t = k ? info->outputs : info->inputs;
    for (int i = 0; i < (k ? info->n_outputs : info->n_inputs); i++) {
      Tensor x = cli_tensor_of_info(&t[i]);
      printf("  %s %s: %s\n", k ? "output" : "input", t[i].name, tensor_type_str(&x, ty, sizeof ty));
    }
  }
  print_meta((const VitimgMeta *)info->metadata, info->n_metadata);
  if (info->batch_dynamic)
    printf("  batch: dynamic, 1 to %s (the shapes show the largest compiled batch, what %s_session_run runs)\n",
           info->max_batch ? "max_batch" : "any", info->prefix);
  if (info->batch_dynamic && info->max_batch) printf("  max_batch %lld\n", (long long)info->max_batch);
  printf("  memory: workspace %llu bytes per session, weights %llu bytes\n",
         (unsigned long long)info->workspace_bytes, (unsigned long long)info->weights_bytes);
  vitrt_close(m);
  return 0;
}

/* ---- graphs ---- */

/* What the summary reports, gathered from the graph before and after fusion. */
typedef struct Summary {
  int64_t params, patch_h, patch_w, softmax_before;
  int64_t width, depth, heads, mlp, tokens;
  int64_t attention; /* attention nodes: the depth plus pooling heads (cross-attention) */
  double flops;        /* per image, a multiply-add counted as 2 */
  double flops_pruned; /* the same after prune_rows */
} Summary;

/* Parameters (f32 initializers) of the imported graph. */
static int64_t count_params(const Graph *g) {
  int64_t n = 0;
  for (int i = 0; i < g->n_values; i++) {
    const Value *v = g->values[i];
    if (v->kind == VK_CONST && v->t.dtype == DT_F32 && !v->data_inferred) n += tensor_numel(&v->t);
  }
  return n;
}

/* Patch size and the softmax count, from the folded graph: the first Conv with kernel == stride. */
static void scan_folded(const Graph *g, Summary *s) {
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = g->nodes[i];
    if (n->op == OP_SOFTMAX) s->softmax_before++;
    int64_t k[2], st[2];
    if (n->op != OP_CONV || s->patch_h || ir_attr_ints(n, "kernel_shape", k, 2) != 2) continue;
    if (ir_attr_ints(n, "strides", st, 2) == 2 && st[0] == k[0] && st[1] == k[1]) s->patch_h = k[0], s->patch_w = k[1];
  }
}

/* Matrix-product FLOPs per image of g. */
static double graph_flops(const Graph *g) {
  int64_t batch = g->n_inputs && g->inputs[0]->t.rank ? g->inputs[0]->t.dims[0] : 1;
  double f = 0;
  for (int i = 0; i < g->n_nodes; i++) f += ir_node_flops(g->nodes[i]) / (double)(batch > 0 ? batch : 1);
  return f;
}

/* Width, depth, heads, MLP width and FLOPs from the optimized graph. */
static void scan_optimized(const Graph *g, Summary *s) {
  s->flops = graph_flops(g);
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = g->nodes[i];
    s->attention += n->op == OP_ATTENTION;
    if (n->op == OP_ATTENTION && !(n->n_in > 4 && n->in[4])) { /* an encoder layer (not a pooling head) */
      s->depth++;
      s->heads = ir_attr_i(n, "heads", 0);
      s->width = n->in[0]->t.dims[2];
      s->tokens = n->in[0]->t.dims[1];
    }
    const char *act = n->op == OP_LINEAR ? ir_attr_s(n, "act", "none") : "none";
    if (strcmp(act, "none") != 0) {
      int64_t w = n->out[0]->t.dims[n->out[0]->t.rank - 1];
      if (w > s->mlp) s->mlp = w;
    }
  }
}

/* Prints the summary lines. */
static void print_summary(const Graph *g, const Summary *s) {
  char ty[128];
  printf("model %s (opset %lld)\n", g->file, (long long)g->opset);
  for (int i = 0; i < g->n_inputs; i++)
    printf("  input %s: %s\n", g->inputs[i]->name, tensor_type_str(&g->inputs[i]->t, ty, sizeof ty));
  for (int i = 0; i < g->n_outputs; i++)
    printf("  output %s: %s\n", g->outputs[i]->name, tensor_type_str(&g->outputs[i]->t, ty, sizeof ty));
  print_meta((const VitimgMeta *)g->meta, g->n_meta);
  if (s->patch_h) printf("  patch %lldx%lld\n", (long long)s->patch_h, (long long)s->patch_w);
  else printf("  patch: none found (no Conv with kernel == stride)\n");
  if (s->depth)
    printf("  width %lld, depth %lld, heads %lld, MLP width %lld, tokens %lld\n", (long long)s->width,
           (long long)s->depth, (long long)s->heads, (long long)s->mlp, (long long)s->tokens);
  printf("  parameters %lld (float constants; %.2f MB)\n", (long long)s->params, (double)s->params * 4 / 1e6);
  if (s->flops >= 1e9) printf("  FLOPs per image %.3g G", s->flops / 1e9);
  else if (s->flops >= 1e6) printf("  FLOPs per image %.3g M", s->flops / 1e6);
  else printf("  FLOPs per image %.3g", s->flops);
  printf(" (multiply-add = 2; linear, matmul, conv, attention)\n");
  if (s->flops_pruned < s->flops * (1 - 1e-9))
    printf("  computed: %.3g %s per image (%.1f %% fewer: prune_rows computes only the rows the outputs read)\n",
           s->flops_pruned / (s->flops >= 1e9 ? 1e9 : 1e6), s->flops >= 1e9 ? "GFLOPs" : "MFLOPs",
           100 * (1 - s->flops_pruned / s->flops));
  printf("  fusion: %lld of %lld softmax fused into attention; after the optimizer:", (long long)s->attention,
         (long long)s->softmax_before);
  int counts[OP_COUNT] = {0};
  for (int i = 0; i < g->n_nodes; i++) counts[g->nodes[i]->op]++;
  for (int op = 0; op < OP_COUNT; op++)
    if (counts[op]) printf(" %s %d", ir_ops[op].name, counts[op]);
  printf("\n");
}

/* Runs the passes po does not disable (the memory plan they leave is not needed here). */
static int run_passes(Graph *g, const PassOptions *po, Diag *d) {
  PassCtx ctx = {0};
  int rc = cli_optimize(g, po, &ctx, d);
  pass_ctx_free(&ctx);
  return rc;
}

/* Runs only the cleanup and fold passes (what the position-embedding search and the patch scan need). */
static int fold_only(Graph *g, Diag *d) {
  PassOptions po = {0};
  for (int p = 0; p < PASS_COUNT; p++) po.disabled[p] = p != PASS_cleanup && p != PASS_fold;
  return run_passes(g, &po, d);
}

static int inspect_graph(Graph *g, const InspectArgs *a, Diag *d) {
  Summary s = {0};
  s.params = count_params(g);
  if (fold_only(g, d)) return -1;
  scan_folded(g, &s);
  if (a->pos_embed) return cli_pos_embed_map(g, a->pos_embed, d);
  /* The model's shape from the optimized graph with every row computed; then what prune_rows leaves to
   * compute (a class-token head needs one row of the last block). */
  PassOptions po = {0};
  po.disabled[PASS_prune_rows] = 1;
  if (run_passes(g, &po, d)) return -1;
  scan_optimized(g, &s);
  for (int p = 0; p < PASS_COUNT; p++) po.disabled[p] = p != PASS_prune_rows;
  if (run_passes(g, &po, d)) return -1;
  s.flops_pruned = graph_flops(g);
  print_summary(g, &s);
  return 0;
}

int cmd_inspect(int argc, char **argv) {
  Diag d = {0};
  InspectArgs a = {.lo.default_batch = 1};
  int rc = inspect_args(argc, argv, &a, &d);
  if (rc) return cli_load_options_free(&a.lo), rc;
  size_t n = strlen(a.model);
  if (n > 3 && strcmp(a.model + n - 3, ".so") == 0) {
    cli_load_options_free(&a.lo);
    if (a.pos_embed)
      return fprintf(stderr, "vitc: error: inspect: --pos-embed reads the weights of the ONNX model or IR text, "
                             "not a compiled .so\n"), 2;
    return inspect_so(a.model);
  }
  Graph *g = cli_load(a.model, &a.lo, &d);
  cli_load_options_free(&a.lo);
  if (!g) return cli_fail(&d);
  rc = inspect_graph(g, &a, &d);
  ir_graph_free(g);
  return rc ? cli_fail(&d) : 0;
}
