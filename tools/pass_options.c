/* The optimizer's command-line options, shared by `vitc ir`, `vitc run` and
 * `vitc compile`, their --help text (from the pass table) and the call that
 * runs the pipeline on a loaded graph. */
#include "cli.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Matches argv[*i] against `flag` (as `flag=V` or `flag V`); 1 with *val set
 * (NULL when the value is missing), 0 when it is another argument. */
static int flag_value(int argc, char **argv, int *i, const char *flag, const char **val) {
  size_t n = strlen(flag);
  const char *a = argv[*i];
  if (strncmp(a, flag, n) != 0) return 0;
  if (a[n] == '=') *val = a + n + 1;
  else if (a[n] == 0) *val = *i + 1 < argc ? argv[++*i] : NULL;
  else return 0;
  return 1;
}

/* Lists the pass names, comma-separated, into buf (for error messages). */
static const char *pass_names(char *buf, size_t n) {
  size_t len = 0;
  buf[0] = 0;
  for (int p = 0; p < PASS_COUNT && len < n; p++)
    len += (size_t)snprintf(buf + len, n - len, "%s%s", p ? ", " : "", pass_table[p].name);
  return buf;
}

/* Sets set[p] for each pass named in the comma-separated list; -1 on an unknown name. */
static int mark_passes(const char *flag, const char *list, unsigned char *set, Diag *d) {
  char names[512];
  if (!list || !*list) return ir_error(d, NULL, NULL, "%s needs a pass name (one of: %s)", flag, pass_names(names, sizeof names));
  while (*list) {
    size_t len = strcspn(list, ",");
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(len < 63 ? len : 63), list);
    int p = pass_from_name(name);
    if (p < 0) return ir_error(d, NULL, NULL, "unknown pass '%s' in %s (valid: %s)", name, flag, pass_names(names, sizeof names));
    set[p] = 1;
    list += len + (list[len] == ',');
  }
  return 0;
}

/* Consumes one optimizer option (see cli.h); 1, 0 when not one, -1 on a bad value. */
int cli_pass_option(int argc, char **argv, int *i, PassOptions *o, Diag *d) {
  const char *a = argv[*i], *val = NULL;
  if (strcmp(a, "-O0") == 0) {
    memset(o->disabled, 1, sizeof o->disabled);
    return 1;
  }
  if (strcmp(a, "--print-after-all") == 0) return o->print_after_all = 1;
  if (strcmp(a, "--time-passes") == 0) return o->time_passes = 1;
  if (strcmp(a, "--explain-fusion") == 0) return o->explain_fusion = 1;
  if (strcmp(a, "--verify-each") == 0) return o->verify_each = 1;
  if (flag_value(argc, argv, i, "--print-after", &val)) return mark_passes("--print-after", val, o->print_after, d) ? -1 : 1;
  if (flag_value(argc, argv, i, "--print-before", &val)) return mark_passes("--print-before", val, o->print_before, d) ? -1 : 1;
  if (flag_value(argc, argv, i, "--disable-pass", &val)) return mark_passes("--disable-pass", val, o->disabled, d) ? -1 : 1;
  if (flag_value(argc, argv, i, "--precision", &val)) {
    o->precision = ir_precision_parse(val);
    if (o->precision == PREC_INVALID)
      return ir_error(d, NULL, NULL, "--precision '%s': use fp32, bf16 or int8", val ? val : ""), -1;
    return 1;
  }
  if (flag_value(argc, argv, i, "--keep-fp32", &val)) {
    if (!val || !*val) return ir_error(d, NULL, NULL, "--keep-fp32 needs node-name patterns (a,b*,...)"), -1;
    o->keep_fp32 = val;
    return 1;
  }
  if (flag_value(argc, argv, i, "--passes", &val)) {
    unsigned char only[PASS_COUNT] = {0};
    if (mark_passes("--passes", val, only, d)) return -1;
    for (int p = 0; p < PASS_COUNT; p++) o->disabled[p] = !only[p];
    return 1;
  }
  return 0;
}

/* The optimizer options and the pass table, for --help. */
void cli_pass_help(FILE *f) {
  fputs("optimizer options (ir, run, compile):\n"
        "  -O0                                no graph passes: the imported IR\n"
        "  --passes=P1,P2,...                 run only these passes (still in pipeline order)\n"
        "  --disable-pass=PASS                skip PASS (repeatable, or a comma list)\n"
        "  --print-before=PASS                print the IR before PASS (`ir`: to stdout, else stderr)\n"
        "  --print-after=PASS                 print the IR after PASS\n"
        "  --print-after-all                  print the IR after every pass\n"
        "  --time-passes                      print each pass's wall time\n"
        "  --verify-each                      run the verifier after every pass\n"
        "  --explain-fusion                   fusion passes say why a near miss did not fuse\n"
        "  --precision fp32|bf16|int8         matrix products of linear/attention in that format, but the\n"
        "                                     patch embedding and the head (docs/precision.md); compile:\n"
        "                                     fp32 only so far, the interpreter runs all three\n"
        "  --keep-fp32 PATTERN,...            nodes whose names match a pattern stay fp32\n"
        "\n"
        "passes, in pipeline order:\n",
        f);
  for (int p = 0; p < PASS_COUNT; p++) fprintf(f, "  %-18s %s\n", pass_table[p].name, pass_table[p].summary);
}

/* Milliseconds on the monotonic clock. */
static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Runs the passes o enables on g, timing the whole when asked. */
int cli_optimize(Graph *g, const PassOptions *o, PassCtx *ctx, Diag *d) {
  ctx->opt = o;
  double t0 = now_ms();
  int rc = passes_run(g, ctx, d);
  if (!rc && o->time_passes) fprintf(o->dump ? o->dump : stderr, "time-passes %-18s %8.2f ms\n", "total", now_ms() - t0);
  return rc;
}
