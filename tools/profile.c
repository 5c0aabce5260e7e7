/* `vitc run MODEL.so --profile [--profile-json FILE]` for a model compiled with
 * --profile: where the time goes, per kernel (node) and per op kind, sorted
 * by time, with each GEMM-like node's GFLOP/s and its share of the machine's
 * measured FMA peak on the threads the session used. */
#include "cli.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One row of a table: a node or an op kind. */
typedef struct ProfRow {
  const char *name, *op;
  double ms, flops; /* per run */
  int count;
} ProfRow;

/* qsort: most time first. */
static int prof_by_time(const void *a, const void *b) {
  double x = ((const ProfRow *)a)->ms, y = ((const ProfRow *)b)->ms;
  return (x < y) - (x > y);
}

/* GFLOP/s and % of peak of a row, "-" where it does no matrix products. */
static void prof_rate(const ProfRow *r, double peak, char *buf, size_t n) {
  if (r->flops <= 0 || r->ms <= 0) {
    snprintf(buf, n, "%9s %6s", "-", "-");
    return;
  }
  double gf = r->flops / (r->ms * 1e6);
  snprintf(buf, n, "%9.1f %5.1f%%", gf, peak > 0 ? 100.0 * gf / peak : 0.0);
}

/* Prints rows (sorted) with their share of total; at most `max` of them. */
static void prof_table(FILE *f, const char *title, ProfRow *rows, int n, double total, double peak, int max) {
  qsort(rows, (size_t)n, sizeof *rows, prof_by_time);
  fprintf(f, "%s\n  %9s %6s %9s %6s  %-11s %s\n", title, "ms/run", "share", "GFLOP/s", "peak", "op", "name");
  for (int i = 0; i < n && i < max; i++) {
    char rate[64];
    prof_rate(&rows[i], peak, rate, sizeof rate);
    fprintf(f, "  %9.3f %5.1f%% %s  %-11s %s", rows[i].ms, total > 0 ? 100.0 * rows[i].ms / total : 0.0, rate,
            rows[i].op, rows[i].name);
    if (rows[i].count > 1) fprintf(f, " (%d nodes)", rows[i].count);
    fputc('\n', f);
  }
  if (n > max) fprintf(f, "  ... %d more\n", n - max);
}

/* Writes the per-node and per-op numbers as JSON (names escaped). */
static int prof_json(const char *path, const ProfRow *nodes, int n, const ProfRow *ops, int n_ops, double total,
                     double peak, int threads, int64_t runs, Diag *d) {
  char *target = ir_output_path(path, d);
  FILE *f = target ? fopen(target, "w") : NULL;
  free(target);
  if (!f) return d->has_error ? -1 : ir_error(d, path, NULL, "cannot write the profile");
  fprintf(f, "{\"runs\": %lld, \"threads\": %d, \"peak_gflops\": %.1f, \"total_ms\": %.4f,\n",
          (long long)runs, threads, peak, total);
  for (int k = 0; k < 2; k++) {
    const ProfRow *r = k ? ops : nodes;
    fprintf(f, " \"%s\": [", k ? "ops" : "nodes");
    for (int i = 0; i < (k ? n_ops : n); i++) {
      fprintf(f, "%s\n  {\"name\": \"", i ? "," : "");
      for (const char *p = r[i].name; *p; p++) fprintf(f, (*p == '"' || *p == '\\') ? "\\%c" : (unsigned char)*p < 0x20 ? "?" : "%c", *p);
      fprintf(f, "\", \"op\": \"%s\", \"ms\": %.4f, \"flops\": %.0f, \"gflops\": %.2f}", r[i].op, r[i].ms, r[i].flops,
              r[i].ms > 0 ? r[i].flops / (r[i].ms * 1e6) : 0.0);
    }
    fprintf(f, "]%s\n", k ? "" : ",");
  }
  fprintf(f, "}\n");
  return fclose(f) ? ir_error(d, path, NULL, "cannot write the profile") : 0;
}

int cli_print_profile(const VitcProfile *p, int threads, const char *json, Diag *d) {
  if (p->n_nodes == 0) return ir_error(d, NULL, NULL, "the model has no profile: compile it with --profile");
  if (p->runs < 1) return ir_error(d, NULL, NULL, "no profiled runs");
  ProfRow *nodes = calloc((size_t)p->n_nodes, sizeof *nodes), *ops = calloc((size_t)p->n_nodes, sizeof *ops);
  if (!nodes || !ops) return free(nodes), free(ops), ir_error(d, NULL, NULL, "out of memory");
  double total = 0;
  int n = 0, n_ops = 0;
  for (int i = 0; i < p->n_nodes; i++) {
    if (p->ns[i] == 0) continue; /* another batch variant's, not run */
    double ms = (double)p->ns[i] / 1e6 / (double)p->runs;
    nodes[n++] = (ProfRow){p->nodes[i].name, p->nodes[i].op, ms, p->nodes[i].flops, 1};
    total += ms;
    int k = 0;
    while (k < n_ops && strcmp(ops[k].op, p->nodes[i].op) != 0) k++;
    if (k == n_ops) ops[n_ops++] = (ProfRow){p->nodes[i].op, p->nodes[i].op, 0, 0, 0};
    ops[k].ms += ms, ops[k].flops += p->nodes[i].flops, ops[k].count++;
  }
  const char *isa;
  double peak = cli_fma_peak_gflops(threads, &isa);
  double flops = 0;
  for (int i = 0; i < n; i++) flops += nodes[i].flops;
  printf("profile: %lld runs on %d thread%s; %.3f ms/run in kernels, %.1f GFLOP/s = %.1f%% of the measured %s peak "
         "(%.1f GFLOP/s on %d thread%s)\n",
         (long long)p->runs, threads, threads == 1 ? "" : "s", total, total > 0 ? flops / (total * 1e6) : 0.0,
         total > 0 && peak > 0 ? 100.0 * flops / (total * 1e6) / peak : 0.0, isa, peak, threads,
         threads == 1 ? "" : "s");
  prof_table(stdout, "by op kind:", ops, n_ops, total, peak, n_ops);
  int rc = json ? prof_json(json, nodes, n, ops, n_ops, total, peak, threads, p->runs, d) : 0;
  prof_table(stdout, "by node (kernel):", nodes, n, total, peak, 25);
  free(nodes);
  free(ops);
  return rc;
}
