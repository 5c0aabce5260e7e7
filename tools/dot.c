/* `vitc ir MODEL --dot OUT.dot`: the IR as a Graphviz digraph. Nodes are
 * boxes labelled op, name and output types; inputs and outputs ovals;
 * constants small grey boxes; edges follow the data. */
#include "cli.h"
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
#include <stdio.h>
#include <string.h>

/* Writes s inside a DOT double-quoted string. */
static void dot_str(FILE *f, const char *s) {
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', f);
    fputc(*s, f);
  }
}

/* The DOT id of the vertex that defines v: its node, or the value itself. */
static void dot_src(FILE *f, const Graph *g, const Value *v) {
  if (v->kind == VK_NODE && v->def)
    for (int k = 0; k < g->n_nodes; k++)
      if (g->nodes[k] == v->def) {
        fprintf(f, "n%d", k);
        return;
      }
  fprintf(f, "v%d", v->id);
}

/* The attributes worth showing on a fused op's box (heads, act), as one line. */
static void dot_fused_attrs(FILE *f, const Node *n) {
  if (n->op == OP_ATTENTION) fprintf(f, " heads=%lld", (long long)ir_attr_i(n, "heads", 0));
  const char *act = ir_attr_s(n, "act", NULL);
  if (act && strcmp(act, "none") != 0) fprintf(f, " act=%s", act);
  if (n->op == OP_LINEAR && n->n_in > 3 && n->in[3]) fputs(" +residual", f);
}

/* One box per node: op, name, then one line per output type. Fused ops (no
 * ONNX name) are filled and say so, with their key attributes. */
static void dot_node(FILE *f, const Node *n, int k) {
  int fused = ir_ops[n->op].onnx_name == NULL;
  fprintf(f, "  n%d [shape=box, style=\"rounded%s\", label=\"%s%s", k, fused ? ",filled\", fillcolor=\"#ffe8a8" : "",
          fused ? "fused " : "", ir_ops[n->op].name);
  if (fused) dot_fused_attrs(f, n);
  fputs("\\n", f);
  dot_str(f, n->name);
  for (int j = 0; j < n->n_out; j++) {
    char buf[128];
    if (n->out[j]) fprintf(f, "\\n%s", tensor_type_str(&n->out[j]->t, buf, sizeof buf));
  }
  fputs("\"];\n", f);
}

/* Inputs and the constants nodes read. */
static void dot_values(FILE *f, const Graph *g) {
  for (int i = 0; i < g->n_values; i++) {
    const Value *v = g->values[i];
    if (v->kind == VK_NODE) continue;
    char buf[128];
    int in = v->kind == VK_INPUT;
    fprintf(f, "  v%d [shape=%s, label=\"", v->id,
            in ? "oval" : "box, style=filled, fillcolor=gray90, fontsize=8, height=0.2");
    dot_str(f, v->name);
    fprintf(f, "\\n%s\"];\n", tensor_type_str(&v->t, buf, sizeof buf));
  }
}

/* Writes the whole graph as one digraph. */
int cli_write_dot(const Graph *g, const char *path, Diag *d) {
  char *target = ir_output_path(path, d);
  FILE *f = target ? fopen(target, "w") : NULL;
  free(target);
  if (!f) return d->has_error ? -1 : ir_error(d, path, NULL, "cannot write: %s", strerror(errno));
  fputs("digraph \"", f);
  dot_str(f, g->source ? g->source : g->file);
  fputs("\" {\n  node [fontname=\"monospace\", fontsize=10];\n", f);
  dot_values(f, g);
  for (int k = 0; k < g->n_nodes; k++) dot_node(f, g->nodes[k], k);
  for (int k = 0; k < g->n_nodes; k++)
    for (int i = 0; i < g->nodes[k]->n_in; i++)
      if (g->nodes[k]->in[i]) {
        fputs("  ", f);
        dot_src(f, g, g->nodes[k]->in[i]);
        fprintf(f, " -> n%d;\n", k);
      }
  for (int i = 0; i < g->n_outputs; i++) {
    fprintf(f, "  out%d [shape=oval, label=\"output ", i);
    dot_str(f, g->outputs[i]->name);
    fputs("\"];\n  ", f);
    dot_src(f, g, g->outputs[i]);
    fprintf(f, " -> out%d;\n", i);
  }
  fputs("}\n", f);
  return fclose(f) ? ir_error(d, path, NULL, "write failed") : 0;
}

int cli_render_svg(const char *dot_path, const char *svg_path, Diag *d) {
  char *tmp = NULL, *target = ir_output_path(svg_path, d);
  if (!target) return -1;
  if (ir_same_file(target, dot_path)) {
    free(target);
    return ir_error(d, svg_path, NULL, "--svg and --dot name the same file");
  }
  if (asprintf(&tmp, "%s.tmp%ld", target, (long)getpid()) < 0) {
    free(target);
    return ir_error(d, NULL, NULL, "out of memory");
  }
  FILE *probe = fopen(tmp, "w"); /* the folder must be writable: say so ourselves, not through dot */
  int rc = probe ? 0 : ir_error(d, svg_path, NULL, "cannot create: %s", strerror(errno)), status = -1;
  if (probe) fclose(probe);
  char *argv[] = {"dot", "-Tsvg", "-o", tmp, (char *)dot_path, NULL};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0); /* our one error line, not dot's */
  pid_t pid;
  int sp = rc ? 0 : posix_spawnp(&pid, "dot", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (!rc && sp != 0) rc = ir_error(d, svg_path, NULL, "cannot run Graphviz's dot (%s); install graphviz", strerror(sp));
  if (!rc) {
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || rename(tmp, target) != 0)
      rc = ir_error(d, svg_path, NULL, "Graphviz's dot failed to render %s", dot_path);
  }
  if (rc) unlink(tmp);
  free(tmp);
  free(target);
  return rc;
}
