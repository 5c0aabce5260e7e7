/* precision: with --precision bf16 or int8, marks the linear and attention nodes whose matrix product runs
 * in that format (attribute precision; ir/precision.c says what it computes). The first and the last
 * products of the model stay fp32 — the patch embedding (no matrix product before it: it reads pixels)
 * and the classification head (none after it: its outputs are the logits) — as do nodes named by
 * --keep-fp32 (shell patterns, comma-separated). With fp32 (the default) the pass changes nothing. */
#include "fuse_util.h"
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_product(const Node *n) { return !n->removed && (n->op == OP_LINEAR || n->op == OP_ATTENTION); }

/* Whether name matches one of the comma-separated shell patterns in list. */
static int name_kept(const char *list, const char *name) {
  char pat[256];
  for (const char *p = list; p && *p;) {
    size_t len = strcspn(p, ",");
    snprintf(pat, sizeof pat, "%.*s", (int)(len < sizeof pat - 1 ? len : sizeof pat - 1), p);
    if (len && fnmatch(pat, name, 0) == 0) return 1;
    p += len + (p[len] == ',');
  }
  return 0;
}

/* Whether --keep-fp32 names n: its own name, or for the q projection prune_rows split off an attention
 * ("NAME" PASS_QUERY_SUFFIX), the attention's name, so keeping an attention fp32 keeps all of it. */
static int node_kept(const char *list, const Node *n) {
  if (name_kept(list, n->name)) return 1;
  size_t len = strlen(n->name), sfx = strlen(PASS_QUERY_SUFFIX);
  if (n->op != OP_LINEAR || len <= sfx || strcmp(n->name + len - sfx, PASS_QUERY_SUFFIX) != 0) return 0;
  char base[512];
  snprintf(base, sizeof base, "%.*s", (int)(len - sfx < sizeof base - 1 ? len - sfx : sizeof base - 1), n->name);
  return name_kept(list, base);
}

/* Why node n (a product) stays fp32, or NULL when it is reduced. before/after: by value id, whether a
 * matrix product is upstream of / downstream from the value. */
static const char *kept_because(const Node *n, const unsigned char *before, const unsigned char *after,
                                const char *keep, Precision p) {
  int up = 0, down = 0;
  for (int i = 0; i < n->n_in; i++) up |= n->in[i] && before[n->in[i]->id];
  for (int i = 0; i < n->n_out; i++) down |= after[n->out[i]->id];
  if (!up) return "the first matrix product on its path (the patch embedding)";
  if (!down) return "the last matrix product on its path (the head)";
  if (node_kept(keep, n)) return "named by --keep-fp32";
  if (n->in[1]->kind != VK_CONST) return "its weights are not constant";
  if (p == PREC_INT8 && n->in[1]->t.rank == 2 && n->in[1]->t.dims[0] > IR_INT8_MAX_K)
    return "its dot products are too long for exact int32 sums (K over 131072)";
  return NULL;
}

int pass_precision(Graph *g, PassCtx *ctx, Diag *d) {
  Precision p = ctx->opt->precision;
  if (p == PREC_FP32) return 0;
  unsigned char *before = calloc((size_t)g->n_values + 1, 1), *after = calloc((size_t)g->n_values + 1, 1);
  int rc = 0;
  if (!before || !after) rc = ir_error(d, g->file, NULL, "out of memory");
  /* Nodes are in topological order: "a product upstream" flows forward, "a product downstream" backward. */
  for (int k = 0; !rc && k < g->n_nodes; k++) {
    const Node *n = g->nodes[k];
    if (n->removed) continue;
    int up = is_product(n);
    for (int i = 0; i < n->n_in; i++) up |= n->in[i] && before[n->in[i]->id];
    for (int i = 0; i < n->n_out; i++) before[n->out[i]->id] = (unsigned char)up;
  }
  for (int k = g->n_nodes - 1; !rc && k >= 0; k--) {
    const Node *n = g->nodes[k];
    if (n->removed) continue;
    int down = is_product(n);
    for (int i = 0; i < n->n_out; i++) down |= after[n->out[i]->id];
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i]) after[n->in[i]->id] |= (unsigned char)down;
  }
  int products = 0, narrow = 0;
  for (int k = 0; !rc && k < g->n_nodes; k++) {
    Node *n = g->nodes[k];
    products += is_product(n) && !n->removed;
    narrow += is_product(n) && !n->removed && ir_node_precision(n) != PREC_FP32;
    if (!is_product(n) || ir_attr_find(n, "precision")) continue;
    const char *why = kept_because(n, before, after, ctx->opt->keep_fp32, p);
    if (why) {
      pass_explain(ctx, "precision", n, "stays fp32: %s", why);
      continue;
    }
    rc = fuse_attr_s(g, n, "precision", ir_precision_name(p), d);
    if (n->op == OP_ATTENTION) /* with a query input (a pooling head) only k and v are projected */
      pass_explain(ctx, "precision", n, "runs its %s projection in %s; q k^T, softmax and p v stay fp32",
                   n->n_in > 4 && n->in[4] ? "k/v" : "q/k/v", ir_precision_name(p));
    else
      pass_explain(ctx, "precision", n, "runs its matrix product in %s", ir_precision_name(p));
    narrow++;
  }
  if (!rc && narrow) { /* what a compiled model's info and `vitc inspect` say about it */
    char what[128];
    snprintf(what, sizeof what, "%s: %d of %d linear/attention products (the others fp32)", ir_precision_name(p), narrow,
             products);
    rc = ir_meta_set(g, "vitc.precision", what, d);
  }
  free(before);
  free(after);
  return rc;
}
