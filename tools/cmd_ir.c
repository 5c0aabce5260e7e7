/* `vitc ir MODEL [--stats] [--dot OUT.dot] [optimizer options] [load options]`:
 * prints the optimized IR (all passes; -O0: as imported), or op counts and
 * the memory plan, or writes Graphviz. Dumps asked for go to stdout too. */
#include "cli.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct IrArgs {
  const char *model, *dot, *svg;
  int stats;
  LoadOptions lo;
  PassOptions po;
} IrArgs;

/* Parses the command line; 0 or an exit status (the error printed). */
static int ir_args(int argc, char **argv, IrArgs *a, Diag *d) {
  for (int i = 0; i < argc; i++) {
    int used = cli_load_option(argc, argv, &i, &a->lo, d);
    if (!used) used = cli_pass_option(argc, argv, &i, &a->po, d);
    if (used < 0) return cli_fail(d), 2; /* a bad option value: a usage error, as in run */
    if (used) continue;
    if (strcmp(argv[i], "--stats") == 0) a->stats = 1;
    else if (strcmp(argv[i], "--dot") == 0 && i + 1 < argc) a->dot = argv[++i];
    else if (strcmp(argv[i], "--svg") == 0 && i + 1 < argc) a->svg = argv[++i];
    else if (argv[i][0] == '-' || a->model) {
      fprintf(stderr, "vitc: error: ir: unexpected argument '%s' (see vitc --help)\n", argv[i]);
      return 2;
    } else a->model = argv[i];
  }
  if (!a->model) return fprintf(stderr, "vitc: error: ir: missing MODEL\n"), 2;
  if (a->svg && !a->dot) return fprintf(stderr, "vitc: error: ir: --svg needs --dot OUT.dot (the file it renders)\n"), 2;
  if (a->svg && strcmp(a->svg, a->dot) == 0) return fprintf(stderr, "vitc: error: ir: --svg and --dot name the same file\n"), 2;
  return 0;
}

/* `op NAME COUNT` lines, then the memory plan (computed here when plan_memory did not run): the
 * plan the backend compiles to, so arena_bytes is the compiled model's workspace size. */
static int print_stats(const Graph *g, const PassCtx *ctx, Diag *d) {
  MemoryPlan own = {0};
  const MemoryPlan *p = &ctx->plan;
  if (!p->offset) {
    if (plan_memory_compute(g, plan_scratch_bytes, &own, d)) return -1;
    p = &own;
  }
  ir_print_stats(g, stdout);
  printf("memory arena_bytes %lld\nmemory lower_bound_bytes %lld\nmemory naive_bytes %lld\n",
         (long long)p->arena_bytes, (long long)p->lower_bound_bytes, (long long)p->naive_bytes);
  plan_memory_free(&own);
  return 0;
}

/* Loads, optimizes, then prints the IR, the stats or the Graphviz file. */
int cmd_ir(int argc, char **argv) {
  Diag d = {0};
  IrArgs a = {.po.dump = stdout};
  int rc = ir_args(argc, argv, &a, &d);
  Graph *g = rc ? NULL : cli_load(a.model, &a.lo, &d);
  cli_load_options_free(&a.lo);
  if (rc) return rc;
  if (!g) return cli_fail(&d);
  PassCtx ctx = {0};
  rc = cli_optimize(g, &a.po, &ctx, &d);
  if (!rc && a.stats) rc = print_stats(g, &ctx, &d);
  if (!rc && a.dot) rc = cli_write_dot(g, a.dot, &d);
  if (!rc && a.svg && (rc = cli_render_svg(a.dot, a.svg, &d))) unlink(a.dot); /* all or nothing */
  if (!rc && !a.stats && !a.dot) ir_print(g, stdout);
  pass_ctx_free(&ctx);
  ir_graph_free(g);
  return rc ? cli_fail(&d) : 0;
}
