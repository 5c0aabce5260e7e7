/* `vitc test-onnx --expect FILE`: the exact conformance expectations. FILE
 * lists every case that does not simply pass, one per line
 * (`CASE MODE RESULT reason`); a case's result must be the listed one, a case
 * not listed must pass, and every listed case must be among those given. */
#include "cli.h"
#include "test_onnx.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const result_names[CASE_RESULTS] = {"PASS", "FAIL", "SKIP", "UNSUPPORTED"};
static const char *const mode_names[4] = {"", "interpreted", "compiled", "both"};

const char *case_result_name(CaseResult r) { return result_names[r]; }

/* Cuts the next whitespace-separated field off *p (NUL-terminated in place); NULL at the end of the line. */
static char *next_field(char **p) {
  char *s = *p;
  while (*s == ' ' || *s == '\t') s++;
  if (!*s) return *p = s, NULL;
  char *e = s;
  while (*e && *e != ' ' && *e != '\t') e++;
  if (*e) *e++ = 0;
  *p = e;
  return s;
}

/* Index of name in names[lo..hi), or -1. */
static int lookup(const char *const *names, int lo, int hi, const char *name) {
  for (int i = lo; i < hi; i++)
    if (strcmp(names[i], name) == 0) return i;
  return -1;
}

/* Parses one line that is neither blank nor a comment into *e; 0 or -1 with d filled. */
static int parse_line(char *line, int no, const char *path, Expectation *e, Diag *d) {
  char *p = line, *name = next_field(&p), *mode = next_field(&p), *result = next_field(&p);
  while (*p == ' ' || *p == '\t') p++;
  size_t len = strlen(p);
  while (len && isspace((unsigned char)p[len - 1])) p[--len] = 0;
  if (!name || !mode || !result || !*p)
    return ir_error(d, path, NULL, "line %d: expected `CASE MODE RESULT reason`", no);
  int m = lookup(mode_names, 1, 4, mode), r = lookup(result_names, CASE_FAIL, CASE_RESULTS, result);
  if (m < 0) return ir_error(d, path, NULL, "line %d: mode '%s' is not interpreted, compiled or both", no, mode);
  if (r < 0) return ir_error(d, path, NULL, "line %d: result '%s' is not FAIL, SKIP or UNSUPPORTED", no, result);
  *e = (Expectation){.name = name, .modes = m, .result = (CaseResult)r, .reason = p, .line = no};
  return 0;
}

int expect_load(const char *path, Expectations *x, Diag *d) {
  memset(x, 0, sizeof *x);
  x->path = path;
  if (!(x->text = cli_read_file(path, NULL, d))) return -1;
  int lines = 1;
  for (const char *s = x->text; *s; s++) lines += *s == '\n';
  if (!(x->e = calloc((size_t)lines, sizeof *x->e))) return expect_free(x), ir_error(d, path, NULL, "out of memory");
  char *line = x->text;
  for (int no = 1; line; no++) {
    char *nl = strchr(line, '\n'), *s = line;
    if (nl) *nl = 0;
    line = nl ? nl + 1 : NULL;
    while (*s == ' ' || *s == '\t' || *s == '\r') s++;
    if (!*s || *s == '#') continue;
    Expectation *e = &x->e[x->n];
    if (parse_line(s, no, path, e, d)) return expect_free(x), -1;
    for (int i = 0; i < x->n; i++)
      if ((x->e[i].modes & e->modes) && strcmp(x->e[i].name, e->name) == 0) {
        ir_error(d, path, NULL, "line %d: %s is listed twice for one run (line %d too)", no, e->name, x->e[i].line);
        return expect_free(x), -1;
      }
    x->n++;
  }
  return 0;
}

void expect_free(Expectations *x) {
  free(x->e);
  free(x->text);
  x->e = NULL;
  x->text = NULL;
  x->n = 0;
}

/* The mode to suggest for an unlisted failure: compiled when only the compiled code failed. */
static const char *suggested_mode(int mode, CaseResult r, const char *detail) {
  int compiled_only = mode == EXPECT_COMPILED && r == CASE_FAIL && strncmp(detail, "compiled: ", 10) == 0;
  return mode_names[compiled_only ? EXPECT_COMPILED : EXPECT_BOTH];
}

int expect_check(Expectations *x, const char *name, int mode, CaseResult r, const char *detail, char *why, size_t n) {
  const Expectation *hit = NULL;
  for (int i = 0; i < x->n; i++)
    if (strcmp(x->e[i].name, name) == 0) {
      x->e[i].given = 1;
      if (x->e[i].modes & mode) hit = &x->e[i];
    }
  const char *run = mode_names[mode], *got = result_names[r];
  if (!hit) {
    if (r == CASE_PASS) return 0;
    snprintf(why, n, "%s in the %s run but not listed in %s; if that is right, add `%s  %s  %s  %s`", got, run,
             x->path, name, suggested_mode(mode, r, detail), got, r == CASE_UNSUPPORTED ? detail : "REASON");
    return 1;
  }
  if (r == CASE_PASS)
    snprintf(why, n, "unexpected pass in the %s run: remove it from %s (line %d), or narrow its mode", run, x->path,
             hit->line);
  else if (r != hit->result)
    snprintf(why, n, "%s in the %s run, but %s line %d says %s", got, run, x->path, hit->line,
             result_names[hit->result]);
  else if (r == CASE_UNSUPPORTED && strcmp(detail, hit->reason) != 0)
    snprintf(why, n, "%s, but %s line %d says %s", detail, x->path, hit->line, hit->reason);
  else
    return 0;
  return 1;
}

int expect_next_not_given(const Expectations *x, int *from) {
  for (int i = *from; i < x->n; i++)
    if (!x->e[i].given) {
      *from = i + 1;
      return i;
    }
  *from = x->n;
  return -1;
}
