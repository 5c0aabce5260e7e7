/* Model loading shared by the commands: ONNX or IR text, then shapes and the verifier. */
#include "cli.h"
#include <errno.h>
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

char *cli_read_file(const char *path, size_t *size, Diag *d) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    ir_error(d, path, NULL, "cannot open: %s", strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, len = 0;
  char *s = malloc(cap);
  while (s) {
    len += fread(s + len, 1, cap - len - 1, f);
    if (len + 1 < cap) break; /* end of file or an error */
    char *ns = realloc(s, cap *= 2);
    if (!ns) free(s);
    s = ns;
  }
  int err = s && ferror(f) ? errno : 0;
  fclose(f);
  if (!s) {
    ir_error(d, path, NULL, "out of memory");
    return NULL;
  }
  if (err) {
    free(s);
    ir_error(d, path, NULL, "cannot read: %s", strerror(err));
    return NULL;
  }
  s[len] = 0;
  if (size) *size = len;
  return s;
}

/* What a model file holds, judged from its first 4 KiB. */
typedef enum ModelFormat {
  MF_ONNX,       /* anything else: onnx_import says what is wrong with it */
  MF_IR_TEXT,    /* its first line that is not blank or a `#` comment starts with the word `graph` */
  MF_OTHER_TEXT, /* no control characters but tab, CR and LF (ONNX's protobuf encoding always has some) */
  MF_ELF,        /* a shared library or program: a compiled model, perhaps */
} ModelFormat;

static ModelFormat sniff_model(const char *path) {
  unsigned char head[4096];
  FILE *f = fopen(path, "rb");
  if (!f) return MF_ONNX;
  size_t n = fread(head, 1, sizeof head - 1, f);
  fclose(f);
  int text = n > 0;
  for (size_t i = 0; i < n && text; i++)
    text = (head[i] >= 0x20 && head[i] != 0x7f) || head[i] == '\t' || head[i] == '\n' || head[i] == '\r';
  head[n] = 0;
  if (n >= 4 && memcmp(head, "\x7f" "ELF", 4) == 0) return MF_ELF;
  const char *p = (const char *)head;
  while (*p == '#' || *p == '\n' || *p == ' ' || *p == '\r' || *p == '\t') {
    if (*p == '#') p += strcspn(p, "\n");
    else p++;
  }
  if (strncmp(p, "graph", 5) == 0 && strchr(" \t\r\n", p[5])) return MF_IR_TEXT;
  return text ? MF_OTHER_TEXT : MF_ONNX;
}

/* Parses an IR text file; its shapes are static, so there is nothing to pin. */
static Graph *load_ir_text(const char *path, const LoadOptions *o, Diag *d) {
  if (o->batch || o->n_shapes) {
    ir_error(d, path, NULL, "--batch and --input-shape apply to ONNX models; IR text has static shapes");
    return NULL;
  }
  char *text = cli_read_file(path, NULL, d);
  if (!text) return NULL;
  Graph *g = ir_parse(text, path, d);
  free(text);
  return g;
}

Graph *cli_load(const char *path, const LoadOptions *o, Diag *d) {
  Graph *g = NULL;
  ModelFormat format = sniff_model(path);
  if (format == MF_IR_TEXT) {
    g = load_ir_text(path, o, d);
  } else if (format == MF_ELF) {
    ir_error(d, path, NULL, "is a compiled library, not an ONNX model or IR text (vitc inspect and vitc run take "
                            "a compiled .so)");
  } else if (format == MF_OTHER_TEXT) {
    ir_error(d, path, NULL, "not a valid ONNX model or IR text (a text file, but its first line that is not blank "
                            "or a '#' comment does not start with 'graph')");
  } else {
    ImportOptions io = {.shapes = o->shapes, .n_shapes = o->n_shapes, .batch = o->batch ? o->batch : o->default_batch,
                        .batch_is_default = !o->batch, .batch_option = o->batch_option};
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
