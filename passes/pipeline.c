/* The pass manager: the table from passes.def, the default pipeline, dumps,
 * timings and the verifier between passes. */
#include "passes.h"
#include <stdarg.h>
#include <string.h>
#include <time.h>

const PassInfo pass_table[PASS_COUNT] = {
#define PASS(name, summary) [PASS_##name] = {#name, summary},
#include "passes.def"
#undef PASS
};

typedef int (*PassFn)(Graph *, PassCtx *, Diag *);
static const PassFn pass_fns[PASS_COUNT] = {
#define PASS(name, summary) [PASS_##name] = pass_##name,
#include "passes.def"
#undef PASS
};

int pass_from_name(const char *name) {
  for (int i = 0; i < PASS_COUNT; i++)
    if (strcmp(pass_table[i].name, name) == 0) return i;
  return -1;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void dump_ir(const Graph *g, FILE *f, const char *when, const char *pass) {
  fprintf(f, "# IR %s %s\n", when, pass);
  ir_print(g, f);
}

/* --explain-fusion's last line: what the fusion passes produced and what stayed unfused, so a model
 * where everything fused still says so. */
static void explain_summary(const Graph *g, FILE *f) {
  int count[OP_COUNT] = {0};
  for (int i = 0; i < g->n_nodes; i++) count[g->nodes[i]->op]++;
  fprintf(f, "explain: result: attention %d, layer_norm %d, gelu %d, linear %d; left unfused: softmax %d, matmul %d, "
             "gemm %d\n", count[OP_ATTENTION], count[OP_LAYER_NORM], count[OP_GELU], count[OP_LINEAR], count[OP_SOFTMAX],
          count[OP_MATMUL], count[OP_GEMM]);
}

int passes_run(Graph *g, PassCtx *ctx, Diag *d) {
  const PassOptions *o = ctx->opt;
  FILE *f = o->dump ? o->dump : stderr;
  for (int p = 0; p < PASS_COUNT; p++) {
    if (o->disabled[p]) continue;
    if (o->print_before[p]) dump_ir(g, f, "before", pass_table[p].name);
    double t0 = now_ms();
    if (pass_fns[p](g, ctx, d)) return -1;
    if (o->time_passes) fprintf(f, "time-passes %-18s %8.2f ms\n", pass_table[p].name, now_ms() - t0);
    if (o->verify_each && ir_verify(g, d)) {
      fprintf(f, "# verifier failed after pass %s\n", pass_table[p].name);
      return -1;
    }
    if (o->print_after_all || o->print_after[p]) dump_ir(g, f, "after", pass_table[p].name);
  }
  if (o->explain_fusion) explain_summary(g, f);
  return 0;
}

void pass_ctx_free(PassCtx *ctx) { plan_memory_free(&ctx->plan); }

void pass_explain(const PassCtx *ctx, const char *pattern, const Node *at, const char *fmt, ...) {
  if (!ctx->opt->explain_fusion) return;
  FILE *f = ctx->opt->dump ? ctx->opt->dump : stderr;
  const char *op = ir_ops[at->op].name;
  fprintf(f, "explain: %s at node '%s' (%s): ", pattern, at->name, op);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fputc('\n', f);
}
