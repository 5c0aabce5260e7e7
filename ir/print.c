/* The IR text form, printing side: one line per input, constant, node and
 * output, which ir_parse() reads back so that printing again is identical. */
#include "ir.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* True when a name needs no quotes: non-empty, only [A-Za-z0-9_./-]. */
static int is_bare(const char *s) {
  if (!*s) return 0;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == '/' || c == '-'))
      return 0;
  }
  return 1;
}

/* Prints s as a double-quoted C string: \" \\ and \xNN for anything not printable ASCII. */
static void print_quoted(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
    else if (c < 0x20 || c >= 0x7f) fprintf(out, "\\x%02x", c);
    else fputc(c, out);
  }
  fputc('"', out);
}

/* Prints a value reference: %name, quoted when not bare. */
static void print_name(FILE *out, const char *name) {
  fputc('%', out);
  if (is_bare(name)) fputs(name, out);
  else print_quoted(out, name);
}

/* Prints a type: dtype then [d0,d1,...]. */
static void print_type(FILE *out, const Tensor *t) {
  fprintf(out, "%s[", dt_name(t->dtype));
  for (int i = 0; i < t->rank; i++) fprintf(out, i ? ",%lld" : "%lld", (long long)t->dims[i]);
  fputc(']', out);
}

/* Prints an attribute float so it reads back as a float: "1" becomes "1.0". */
static void print_float_attr(FILE *out, float f) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.9g", (double)f);
  int floaty = strpbrk(buf, ".e") || strstr(buf, "inf") || strstr(buf, "nan");
  fprintf(out, floaty ? "%s" : "%s.0", buf);
}

/* Prints element i of a tensor's data: %.9g floats, integers, bool as 0/1. */
static void print_element(FILE *out, const Tensor *t, int64_t i) {
  switch (t->dtype) {
  case DT_F32: fprintf(out, "%.9g", (double)((const float *)t->data)[i]); break;
  case DT_I64: fprintf(out, "%lld", (long long)((const int64_t *)t->data)[i]); break;
  case DT_I32: fprintf(out, "%d", (int)((const int32_t *)t->data)[i]); break;
  case DT_BOOL: fputc(((const uint8_t *)t->data)[i] ? '1' : '0', out); break;
  default: fputc('0', out); break;
  }
}

/* Prints a tensor's data as a flat list [a,b,...] (empty when it has no data). */
static void print_data(FILE *out, const Tensor *t) {
  fputc('[', out);
  int64_t n = t->data ? tensor_numel(t) : 0;
  for (int64_t i = 0; i < n; i++) {
    if (i) fputc(',', out);
    print_element(out, t, i);
  }
  fputc(']', out);
}

/* `const %name: TYPE = [data]` when small, else `= blob DIGEST`. */
static void print_const(FILE *out, const Value *v) {
  fputs("const ", out);
  print_name(out, v->name);
  fputs(": ", out);
  print_type(out, &v->t);
  fputs(" = ", out);
  if (v->t.data && tensor_numel(&v->t) <= IR_INLINE_MAX) {
    print_data(out, &v->t);
  } else {
    uint64_t h = !v->t.data && v->has_digest ? v->digest : tensor_digest(&v->t);
    fprintf(out, "blob %016llx", (unsigned long long)h);
  }
  fputc('\n', out);
}

/* Prints one attribute as name=value. */
static void print_attr(FILE *out, const Attr *a) {
  fprintf(out, "%s=", a->name);
  switch (a->kind) {
  case AT_INT: fprintf(out, "%lld", (long long)a->i); break;
  case AT_FLOAT: print_float_attr(out, a->f); break;
  case AT_INTS:
    fputc('[', out);
    for (int i = 0; i < a->n; i++) fprintf(out, i ? ",%lld" : "%lld", (long long)a->ints[i]);
    fputc(']', out);
    break;
  case AT_FLOATS:
    fputc('[', out);
    for (int i = 0; i < a->n; i++) {
      if (i) fputc(',', out);
      print_float_attr(out, a->floats[i]);
    }
    fputc(']', out);
    break;
  case AT_STRING: print_quoted(out, a->s ? a->s : ""); break;
  case AT_TENSOR:
    if (a->t) {
      print_type(out, a->t);
      fputc(' ', out);
      print_data(out, a->t);
    }
    break;
  }
}

/* `%out: TYPE, ... = op(%in, _, ...) {attrs} @"name"` */
static void print_node(FILE *out, const Node *n) {
  for (int i = 0; i < n->n_out; i++) {
    if (i) fputs(", ", out);
    if (!n->out[i]) {
      fputc('_', out);
      continue;
    }
    print_name(out, n->out[i]->name);
    fputs(": ", out);
    print_type(out, &n->out[i]->t);
  }
  fprintf(out, " = %s(", ir_ops[n->op].name);
  for (int i = 0; i < n->n_in; i++) {
    if (i) fputs(", ", out);
    if (n->in[i]) print_name(out, n->in[i]->name);
    else fputc('_', out);
  }
  fputc(')', out);
  for (int i = 0; i < n->n_attrs; i++) {
    fputs(i ? ", " : " {", out);
    print_attr(out, &n->attrs[i]);
  }
  if (n->n_attrs) fputc('}', out);
  fputs(" @", out);
  print_quoted(out, n->name);
  fputc('\n', out);
}

void ir_print(const Graph *g, FILE *out) {
  fputs("graph ", out);
  print_quoted(out, g->source ? g->source : g->file);
  fprintf(out, " opset %lld\n", (long long)g->opset);
  for (int i = 0; i < g->n_meta; i++) {
    fputs("meta ", out);
    print_quoted(out, g->meta[i].key);
    fputc(' ', out);
    print_quoted(out, g->meta[i].value);
    fputc('\n', out);
  }
  for (int i = 0; i < g->n_inputs; i++) {
    fputs("input ", out);
    print_name(out, g->inputs[i]->name);
    fputs(": ", out);
    print_type(out, &g->inputs[i]->t);
    fputc('\n', out);
  }
  for (int i = 0; i < g->n_values; i++)
    if (g->values[i]->kind == VK_CONST && !g->values[i]->data_inferred) print_const(out, g->values[i]);
  for (int i = 0; i < g->n_nodes; i++) print_node(out, g->nodes[i]);
  for (int i = 0; i < g->n_outputs; i++) {
    fputs("output ", out);
    print_name(out, g->outputs[i]->name);
    fputc('\n', out);
  }
}

char *ir_print_string(const Graph *g) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  ir_print(g, f);
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

void ir_print_stats(const Graph *g, FILE *out) {
  int counts[OP_COUNT] = {0};
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i]->op < OP_COUNT) counts[g->nodes[i]->op]++;
  for (int op = 0; op < OP_COUNT; op++)
    if (counts[op]) fprintf(out, "op %s %d\n", ir_ops[op].name, counts[op]);
}
