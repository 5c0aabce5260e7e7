/* Model loading shared by the commands: ONNX or IR text, then shapes and the verifier. */
#include "cli.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_fail(const Diag *d) {
  fprintf(stderr, "%s\n", d->has_error ? d->msg : "vitc: error: unknown failure");
  return 1;
}

int cli_load_option(int argc, char **argv, int *i, LoadOptions *o, Diag *d) {
  const char *a = argv[*i], *val = NULL;
  int is_shape = strncmp(a, "--input-shape", 13) == 0, is_batch = strncmp(a, "--batch", 7) == 0;
  if (!is_shape && !is_batch) return 0;
  size_t flen = is_shape ? 13 : 7;
  if (a[flen] == '=') val = a + flen + 1;
  else if (a[flen] == 0 && *i + 1 < argc) val = argv[++*i];
  else if (a[flen] != 0) return 0;
  if (!val) return ir_error(d, NULL, NULL, "%s needs a value", a);
  if (is_batch) {
    char *end;
    long long b = strtoll(val, &end, 10);
    if (*end || b < 1) return ir_error(d, NULL, NULL, "--batch needs a positive integer, got '%s'", val);
    o->batch = b;
    return 1;
  }
  if (o->n_shapes == CLI_MAX_SHAPES) return ir_error(d, NULL, NULL, "too many --input-shape options");
  if (parse_input_shape(val, &o->shapes[o->n_shapes], d)) return -1;
  o->n_shapes++;
  return 1;
}

void cli_load_options_free(LoadOptions *o) {
  for (int i = 0; i < o->n_shapes; i++) free((char *)o->shapes[i].name);
  o->n_shapes = 0;
}

/* Reads a small text file (IR) into a malloc'd NUL-terminated string. */
static char *read_text(const char *path, Diag *d) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    ir_error(d, path, NULL, "cannot open");
    return NULL;
  }
  size_t cap = 1 << 16, len = 0;
  char *s = malloc(cap);
  while (s) {
    size_t got = fread(s + len, 1, cap - len - 1, f);
    len += got;
    if (got == 0) break;
    if (len + 1 == cap) {
      char *ns = realloc(s, cap *= 2);
      if (!ns) { free(s); s = NULL; }
      else s = ns;
    }
  }
  fclose(f);
  if (!s) ir_error(d, path, NULL, "out of memory");
  else s[len] = 0;
  return s;
}

/* True when the file's first line that is not blank or a `#` comment begins with the IR text header. */
static int is_ir_text(const char *path) {
  char head[4096];
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(head, 1, sizeof head - 1, f);
  fclose(f);
  head[n] = 0;
  const char *p = head;
  while (*p == '#' || *p == '\n' || *p == ' ' || *p == '\r' || *p == '\t') {
    if (*p == '#') p += strcspn(p, "\n");
    else p++;
  }
  return strncmp(p, "graph ", 6) == 0;
}

Graph *cli_load(const char *path, const LoadOptions *o, Diag *d) {
  Graph *g = NULL;
  if (is_ir_text(path)) {
    char *text = read_text(path, d);
    if (!text) return NULL;
    g = ir_parse(text, path, d);
    free(text);
  } else {
    ImportOptions io = {.shapes = o->shapes, .n_shapes = o->n_shapes, .batch = o->batch};
    g = onnx_import(path, &io, d);
    if (g && ir_infer_shapes(g, d)) {
      ir_graph_free(g);
      g = NULL;
    }
  }
  if (g && ir_verify(g, d)) {
    ir_graph_free(g);
    g = NULL;
  }
  return g;
}
