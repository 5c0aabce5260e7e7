/* The IR text form, parsing side: reads what ir_print() writes, one item per
 * line, into a new graph. Every malformed line is an error naming its line. */
#include "ir.h"
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Parser {
  const char *p;   /* cursor in the current line */
  int line;        /* 1-based */
  const char *file;
  Graph *g;
  Diag *d;
  NameMap names;   /* value name -> Value*, for the names defined so far */
  char *tok;       /* scratch for the last name or string read, NUL-terminated */
  size_t tok_cap;
  int have_header;
} Parser;

/* ---- errors ---- */

/* Reports "line N: ..." and returns -1. */
static int perr(Parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(Parser *ps, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return ir_error(ps->d, ps->file, NULL, "line %d: %s", ps->line, msg);
}

/* Reports "expected WHAT, got 'TOKEN'" for the text at the cursor. */
static int expected(Parser *ps, const char *what) {
  const char *s = ps->p;
  if (!*s || *s == '\n') return perr(ps, "expected %s, got end of line", what);
  int n = 0;
  while (s[n] && s[n] != '\n' && s[n] != ' ' && s[n] != '\t' && n < 40) n++;
  return perr(ps, "expected %s, got '%.*s'", what, n, s);
}

/* ---- lexing ---- */

static void skip_ws(Parser *ps) {
  while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r') ps->p++;
}

/* True at the end of the current line (after spaces). */
static int at_eol(Parser *ps) {
  skip_ws(ps);
  return *ps->p == 0 || *ps->p == '\n';
}

/* Consumes character c if it comes next (after spaces). */
static int accept(Parser *ps, char c) {
  skip_ws(ps);
  if (*ps->p != c) return 0;
  ps->p++;
  return 1;
}

/* Consumes c or reports it missing. */
static int expect(Parser *ps, char c) {
  char what[4] = {'\'', c, '\'', 0};
  return accept(ps, c) ? 0 : expected(ps, what);
}

static int is_ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int is_bare_char(char c) { return is_ident_char(c) || c == '.' || c == '/' || c == '-'; }

/* Consumes the keyword w when it comes next as a whole word. */
static int accept_word(Parser *ps, const char *w) {
  skip_ws(ps);
  size_t n = strlen(w);
  if (strncmp(ps->p, w, n) != 0 || is_ident_char(ps->p[n])) return 0;
  ps->p += n;
  return 1;
}

/* Makes room for n bytes in the scratch token; -1 when out of memory. */
static int tok_reserve(Parser *ps, size_t n) {
  if (n <= ps->tok_cap) return 0;
  size_t cap = ps->tok_cap ? ps->tok_cap : 64;
  while (cap < n) cap *= 2;
  char *t = realloc(ps->tok, cap);
  if (!t) return perr(ps, "out of memory");
  ps->tok = t;
  ps->tok_cap = cap;
  return 0;
}

/* Copies the n bytes at s into the scratch token. */
static int tok_set(Parser *ps, const char *s, size_t n) {
  if (tok_reserve(ps, n + 1)) return -1;
  memcpy(ps->tok, s, n);
  ps->tok[n] = 0;
  return 0;
}

/* Reads an identifier ([A-Za-z0-9_]+) into the scratch token. */
static int parse_ident(Parser *ps, const char *what) {
  skip_ws(ps);
  size_t n = 0;
  while (is_ident_char(ps->p[n])) n++;
  if (!n) return expected(ps, what);
  if (tok_set(ps, ps->p, n)) return -1;
  ps->p += n;
  return 0;
}

static int hex_val(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes one escape after a backslash at s (\" \\ \xNN); returns its length or -1. */
static int decode_escape(const char *s, char *out) {
  if (s[0] == '"' || s[0] == '\\') {
    *out = s[0];
    return 1;
  }
  if (s[0] == 'x' && hex_val(s[1]) >= 0 && hex_val(s[2]) >= 0 && (hex_val(s[1]) | hex_val(s[2]))) {
    *out = (char)(hex_val(s[1]) * 16 + hex_val(s[2]));
    return 3;
  }
  return -1;
}

/* Reads a double-quoted C string into the scratch token. */
static int parse_string(Parser *ps, const char *what) {
  skip_ws(ps);
  if (*ps->p != '"') return expected(ps, what);
  const char *s = ps->p + 1;
  size_t n = 0;
  if (tok_reserve(ps, strcspn(s, "\n") + 1)) return -1; /* decoded is never longer */
  for (; *s != '"'; s++) {
    if (!*s || *s == '\n') return perr(ps, "unterminated string");
    if (*s != '\\') {
      ps->tok[n++] = *s;
      continue;
    }
    int len = decode_escape(s + 1, &ps->tok[n++]);
    if (len < 0) {
      ps->p = s;
      return expected(ps, "an escape \\\" \\\\ or \\xNN (not \\x00)");
    }
    s += len;
  }
  ps->tok[n] = 0;
  ps->p = s + 1;
  return 0;
}

/* Reads %name or %"quoted name" into the scratch token. */
static int parse_name(Parser *ps) {
  skip_ws(ps);
  if (*ps->p != '%') return expected(ps, "a value name '%...'");
  ps->p++;
  if (*ps->p == '"') return parse_string(ps, "a value name");
  size_t n = 0;
  while (is_bare_char(ps->p[n])) n++;
  if (!n) return expected(ps, "a value name");
  if (tok_set(ps, ps->p, n)) return -1;
  ps->p += n;
  return 0;
}

/* Reads a decimal integer. */
static int parse_int(Parser *ps, int64_t *out, const char *what) {
  skip_ws(ps);
  char *end;
  errno = 0;
  long long v = strtoll(ps->p, &end, 10);
  if (end == ps->p || is_bare_char(*end)) return expected(ps, what);
  if (errno == ERANGE) return perr(ps, "integer out of range");
  *out = v;
  ps->p = end;
  return 0;
}

/* Reads a float (decimal, exponent, inf or nan). */
static int parse_float(Parser *ps, float *out, const char *what) {
  skip_ws(ps);
  char *end;
  float v = strtof(ps->p, &end); /* ERANGE only means denormal or overflow to inf: keep the value */
  if (end == ps->p || is_bare_char(*end)) return expected(ps, what);
  *out = v;
  ps->p = end;
  return 0;
}

/* ---- types and data ---- */

/* Reads a type: dtype [d0,d1,...]; "undef" is the type of an untyped value. */
static int parse_type(Parser *ps, Tensor *t) {
  if (parse_ident(ps, "a type")) return -1;
  DType dt = dt_from_name(ps->tok);
  if (dt == DT_UNDEF && strcmp(ps->tok, "undef") != 0) return perr(ps, "unknown dtype '%s'", ps->tok);
  memset(t, 0, sizeof *t);
  t->dtype = dt;
  if (*ps->p != '[') return expected(ps, "'[' after the dtype");
  ps->p++;
  if (accept(ps, ']')) return 0;
  int64_t size = 1; /* product of the dims, 0s counted as 1, kept from overflowing */
  do {
    int64_t *dim = &t->dims[t->rank];
    if (t->rank == IR_MAX_RANK) return perr(ps, "type has more than %d dims", IR_MAX_RANK);
    if (parse_int(ps, dim, "a dimension")) return -1;
    if (*dim < 0) return perr(ps, "negative dimension %lld", (long long)*dim);
    if (*dim > 1 && size > (INT64_MAX >> 8) / *dim) return perr(ps, "type has too many elements");
    size *= *dim ? *dim : 1;
    t->rank++;
  } while (accept(ps, ','));
  return expect(ps, ']');
}

/* Reads one element of dtype dt into slot i of data. */
static int parse_element(Parser *ps, DType dt, void *data, int64_t i) {
  int64_t v = 0;
  switch (dt) {
  case DT_F32: return parse_float(ps, &((float *)data)[i], "a float");
  case DT_I64: return parse_int(ps, &((int64_t *)data)[i], "an integer");
  case DT_I32:
    if (parse_int(ps, &v, "an integer")) return -1;
    if (v < INT32_MIN || v > INT32_MAX) return perr(ps, "%lld does not fit in i32", (long long)v);
    ((int32_t *)data)[i] = (int32_t)v;
    return 0;
  case DT_BOOL:
    if (parse_int(ps, &v, "0 or 1")) return -1;
    if (v != 0 && v != 1) return perr(ps, "bool element must be 0 or 1, got %lld", (long long)v);
    ((uint8_t *)data)[i] = (uint8_t)v;
    return 0;
  default: return perr(ps, "data of an undef type");
  }
}

/* Reads [a,b,...] with exactly numel elements into new arena data for t. */
static int parse_data(Parser *ps, Tensor *t) {
  int64_t numel = tensor_numel(t), n = 0;
  if (numel > (int64_t)1 << 24) return perr(ps, "inline data of %lld elements is too large", (long long)numel);
  if (expect(ps, '[')) return -1;
  void *data = arena_alloc(&ps->g->arena, tensor_bytes(t));
  if (!data) return perr(ps, "out of memory");
  if (!accept(ps, ']')) {
    do {
      if (n == numel) return perr(ps, "inline data has more than the %lld elements of its type", (long long)numel);
      if (parse_element(ps, t->dtype, data, n++)) return -1;
    } while (accept(ps, ','));
    if (expect(ps, ']')) return -1;
  }
  if (n != numel) return perr(ps, "inline data has %lld elements, its type needs %lld", (long long)n, (long long)numel);
  t->data = data;
  return 0;
}

/* ---- values ---- */

/* Reads `%name: TYPE` and creates the value (not yet visible to references);
 * a name defined before is an error. */
static Value *parse_def(Parser *ps, ValueKind kind) {
  if (parse_name(ps)) return NULL;
  if (name_map_get(&ps->names, ps->tok)) {
    perr(ps, "value '%s' is already defined", ps->tok);
    return NULL;
  }
  Value *v = ir_value_new(ps->g, ps->tok, kind, ps->d);
  if (!v || expect(ps, ':') || parse_type(ps, &v->t)) return NULL;
  return v;
}

/* Makes v visible to later references; a name defined meanwhile is an error. */
static int publish(Parser *ps, Value *v) {
  int rc = name_map_put(&ps->names, v->name, v);
  if (rc > 0) return perr(ps, "value '%s' is already defined", v->name);
  return rc < 0 ? perr(ps, "out of memory") : 0;
}

/* Reads `%name` and looks the value up. */
static Value *parse_ref(Parser *ps) {
  if (parse_name(ps)) return NULL;
  Value *v = name_map_get(&ps->names, ps->tok);
  if (!v) perr(ps, "undefined value '%s'", ps->tok);
  return v;
}

/* ---- attributes ---- */

/* Reads a list [x,y,...] of ints or floats into arena storage. */
static int parse_list(Parser *ps, Attr *a, int floats) {
  if (expect(ps, '[')) return -1;
  const char *start = ps->p;
  int n = 0;
  for (const char *s = start; *s && *s != ']' && *s != '\n'; s++) n += *s == ',';
  void *items = arena_alloc(&ps->g->arena, (size_t)(n + 1) * (floats ? sizeof(float) : sizeof(int64_t)));
  if (!items) return perr(ps, "out of memory");
  a->ints = floats ? NULL : items;
  a->floats = floats ? items : NULL;
  a->n = 0;
  if (accept(ps, ']')) return 0;
  do {
    if (a->n > n) return expected(ps, "']'");
    int rc = floats ? parse_float(ps, &a->floats[a->n], "a float") : parse_int(ps, &a->ints[a->n], "an integer");
    if (rc) return -1;
    a->n++;
  } while (accept(ps, ','));
  return expect(ps, ']');
}

/* Reads a tensor attribute: TYPE [data]. */
static int parse_tensor_attr(Parser *ps, Attr *a) {
  a->t = arena_alloc(&ps->g->arena, sizeof *a->t);
  if (!a->t) return perr(ps, "out of memory");
  if (parse_type(ps, a->t)) return -1;
  if (a->t->dtype == DT_UNDEF) return perr(ps, "tensor attribute of undef type");
  return parse_data(ps, a->t);
}

/* Reads one `name=value`; the op table says what kind the value is. */
static int parse_attr(Parser *ps, Node *n) {
  if (parse_ident(ps, "an attribute name")) return -1;
  char kind[8];
  if (!ir_op_attr_kind(n->op, ps->tok, kind, sizeof kind))
    return perr(ps, "op '%s' has no attribute '%s'", ir_ops[n->op].name, ps->tok);
  if (ir_attr_find(n, ps->tok)) return perr(ps, "attribute '%s' given twice", ps->tok);
  static const struct { const char *letters; AttrKind kind; } kinds[] = {
    {"i", AT_INT}, {"f", AT_FLOAT}, {"is", AT_INTS}, {"fs", AT_FLOATS}, {"s", AT_STRING}, {"t", AT_TENSOR}};
  const int n_kinds = (int)(sizeof kinds / sizeof kinds[0]);
  int k = 0;
  while (k < n_kinds && strcmp(kinds[k].letters, kind) != 0) k++;
  if (k == n_kinds) return perr(ps, "attribute '%s' has unknown kind '%s' in the op table", ps->tok, kind);
  Attr *a = ir_attr_add(ps->g, n, ps->tok, kinds[k].kind, ps->d);
  if (!a || expect(ps, '=')) return -1;
  switch (a->kind) {
  case AT_INT: return parse_int(ps, &a->i, "an integer");
  case AT_FLOAT: return parse_float(ps, &a->f, "a float");
  case AT_INTS: return parse_list(ps, a, 0);
  case AT_FLOATS: return parse_list(ps, a, 1);
  case AT_TENSOR: return parse_tensor_attr(ps, a);
  case AT_STRING:
    if (parse_string(ps, "a string")) return -1;
    a->s = arena_strdup(&ps->g->arena, ps->tok);
    return a->s ? 0 : perr(ps, "out of memory");
  }
  return -1;
}

/* ---- lines ---- */

/* graph "SOURCE" opset N */
static int parse_header(Parser *ps) {
  if (ps->have_header) return perr(ps, "second 'graph' header");
  ps->have_header = 1;
  if (parse_string(ps, "the model name in quotes")) return -1;
  if (!(ps->g->source = arena_strdup(&ps->g->arena, ps->tok))) return perr(ps, "out of memory");
  if (!accept_word(ps, "opset")) return expected(ps, "'opset'");
  return parse_int(ps, &ps->g->opset, "the opset number");
}

/* meta "KEY" "VALUE" */
static int parse_meta(Parser *ps) {
  if (parse_string(ps, "the metadata key in quotes")) return -1;
  char *key = strdup(ps->tok);
  if (!key) return perr(ps, "out of memory");
  if (ir_meta_get(ps->g, key)) {
    int rc = perr(ps, "metadata key '%s' given twice", key);
    free(key);
    return rc;
  }
  int rc = parse_string(ps, "the metadata value in quotes");
  if (!rc) rc = ir_meta_set(ps->g, key, ps->tok, ps->d);
  free(key);
  return rc;
}

/* input %name: TYPE */
static int parse_input(Parser *ps) {
  Value *v = parse_def(ps, VK_INPUT);
  if (!v || publish(ps, v)) return -1;
  return ir_graph_add_input(ps->g, v, ps->d);
}

/* const %name: TYPE = [data] | blob DIGEST */
static int parse_const(Parser *ps) {
  Value *v = parse_def(ps, VK_CONST);
  if (!v || publish(ps, v) || expect(ps, '=')) return -1;
  if (v->t.dtype == DT_UNDEF) return perr(ps, "constant '%s' of undef type", v->name);
  if (!accept_word(ps, "blob")) return parse_data(ps, &v->t);
  skip_ws(ps);
  uint64_t h = 0;
  int n = 0;
  for (; n < 16 && hex_val(ps->p[n]) >= 0; n++) h = h * 16 + (uint64_t)hex_val(ps->p[n]);
  if (n != 16 || is_bare_char(ps->p[n])) return expected(ps, "a 16-digit hex digest");
  ps->p += 16;
  v->digest = h;
  v->has_digest = 1;
  return 0;
}

/* output %name */
static int parse_output(Parser *ps) {
  Value *v = parse_ref(ps);
  return v ? ir_graph_add_output(ps->g, v, ps->d) : -1;
}

/* Checks a count against an op's arity bounds. */
static int check_arity(Parser *ps, int op, const char *what, int got, int lo, int hi) {
  if (got >= lo && got <= hi) return 0;
  if (lo == hi) return perr(ps, "op '%s' takes %d %s, got %d", ir_ops[op].name, lo, what, got);
  return perr(ps, "op '%s' takes %d..%d %s, got %d", ir_ops[op].name, lo, hi, what, got);
}

/* Reads the input list `(%a, _, ...)` into ins; sets *n_in. */
static int parse_args(Parser *ps, Value **ins, int *n_in) {
  if (expect(ps, '(')) return -1;
  *n_in = 0;
  if (accept(ps, ')')) return 0;
  do {
    if (*n_in == IR_MAX_INPUTS) return perr(ps, "more than %d inputs", IR_MAX_INPUTS);
    if (accept_word(ps, "_")) ins[(*n_in)++] = NULL;
    else if (!(ins[(*n_in)++] = parse_ref(ps))) return -1;
  } while (accept(ps, ','));
  return expect(ps, ')');
}

/* %a: T, _, ... = op(args) {attrs} @"name"; the outputs become visible only
 * after the inputs are read, so a node cannot use its own output. */
static int parse_node(Parser *ps) {
  Value *outs[IR_MAX_OUTPUTS], *ins[IR_MAX_INPUTS];
  int n_out = 0, n_in = 0;
  do {
    if (n_out == IR_MAX_OUTPUTS) return perr(ps, "more than %d outputs", IR_MAX_OUTPUTS);
    if (accept_word(ps, "_")) outs[n_out++] = NULL;
    else if (!(outs[n_out++] = parse_def(ps, VK_NODE))) return -1;
  } while (accept(ps, ','));
  if (expect(ps, '=') || parse_ident(ps, "an op name")) return -1;
  int op = ir_op_from_name(ps->tok);
  if (op < 0) return perr(ps, "unknown op '%s'", ps->tok);
  if (parse_args(ps, ins, &n_in) ||
      check_arity(ps, op, "inputs", n_in, ir_ops[op].min_in, ir_ops[op].max_in) ||
      check_arity(ps, op, "outputs", n_out, ir_ops[op].min_out, ir_ops[op].max_out))
    return -1;
  for (int i = 0; i < n_out; i++)
    if (outs[i] && publish(ps, outs[i])) return -1;
  Node *n = ir_node_new(ps->g, (OpKind)op, "", n_in, n_out, ps->d);
  if (!n) return -1;
  memcpy(n->in, ins, (size_t)n_in * sizeof *ins);
  memcpy(n->out, outs, (size_t)n_out * sizeof *outs);
  for (int i = 0; i < n_out; i++)
    if (outs[i]) outs[i]->def = n;
  if (accept(ps, '{')) {
    do
      if (parse_attr(ps, n)) return -1;
    while (accept(ps, ','));
    if (expect(ps, '}')) return -1;
  }
  if (expect(ps, '@') || parse_string(ps, "the node name in quotes")) return -1;
  n->name = arena_strdup(&ps->g->arena, ps->tok);
  return n->name ? 0 : perr(ps, "out of memory");
}

/* Parses one non-blank, non-comment line (the cursor is at its first token). */
static int parse_line(Parser *ps) {
  int rc;
  if (accept_word(ps, "graph")) rc = parse_header(ps);
  else if (!ps->have_header) return expected(ps, "the 'graph \"NAME\" opset N' header");
  else if (accept_word(ps, "meta")) rc = parse_meta(ps);
  else if (accept_word(ps, "input")) rc = parse_input(ps);
  else if (accept_word(ps, "const")) rc = parse_const(ps);
  else if (accept_word(ps, "output")) rc = parse_output(ps);
  else if (*ps->p == '%' || *ps->p == '_') rc = parse_node(ps);
  else return expected(ps, "'meta', 'input', 'const', 'output' or a node");
  if (rc) return rc;
  return at_eol(ps) ? 0 : expected(ps, "end of line");
}

Graph *ir_parse(const char *text, const char *file, Diag *d) {
  Parser ps = {.file = file, .d = d, .g = ir_graph_new(file)};
  if (!ps.g) {
    ir_error(d, file, NULL, "out of memory");
    return NULL;
  }
  int rc = 0;
  for (const char *line = text; *line && !rc;) {
    ps.line++;
    ps.p = line;
    if (!at_eol(&ps) && *ps.p != '#') rc = parse_line(&ps);
    const char *nl = strchr(line, '\n');
    line = nl ? nl + 1 : line + strlen(line);
  }
  if (!rc && !ps.have_header) {
    ps.line = ps.line ? ps.line : 1;
    rc = perr(&ps, "expected the 'graph \"NAME\" opset N' header, got end of file");
  }
  name_map_free(&ps.names);
  free(ps.tok);
  if (rc) {
    ir_graph_free(ps.g);
    return NULL;
  }
  return ps.g;
}
