/* The ONNX conformance runner (`vitc test-onnx`): case results and the
 * expectations file that lists every case that does not simply pass
 * (tools/test_onnx_expect.c; the format is described in
 * tests/conformance/expected.txt). */
#ifndef VITC_TEST_ONNX_H
#define VITC_TEST_ONNX_H
#include "ir.h"
#include <stddef.h>

/* What became of one case in one run. */
typedef enum {
  CASE_PASS,        /* every output of every data set within tolerance */
  CASE_FAIL,        /* an error, a crash or a wrong output */
  CASE_SKIP,        /* the model or its data uses a type vitc does not compute in */
  CASE_UNSUPPORTED, /* --select dropped it: an op outside vitc's op table */
  CASE_RESULTS
} CaseResult;

/* The runs an expectation applies to (bits). A compiled run interprets each
 * case first, so a case the interpreter fails is `both`. */
enum { EXPECT_INTERPRETED = 1, EXPECT_COMPILED = 2, EXPECT_BOTH = 3 };

/* One line of the file: CASE MODE RESULT reason. */
typedef struct Expectation {
  char *name;        /* the case folder's name */
  int modes;         /* EXPECT_* bits */
  CaseResult result; /* FAIL, SKIP or UNSUPPORTED */
  char *reason;      /* the rest of the line; for UNSUPPORTED exactly "missing op(s) A, B" */
  int line;          /* 1-based, for messages */
  int given;         /* a case of this name was run (or dropped) */
} Expectation;

typedef struct Expectations {
  const char *path;
  Expectation *e;
  int n;
  char *text; /* the file, cut into the fields above */
} Expectations;

/* Reads and checks the file; 0, or -1 with d filled (unreadable, malformed
 * line, a case listed twice for a run). */
int expect_load(const char *path, Expectations *x, Diag *d);
void expect_free(Expectations *x);
/* Compares case `name`'s result r in run `mode` (EXPECT_INTERPRETED or
 * EXPECT_COMPILED) with the file; detail is the runner's reason (for an
 * unsupported case the "missing op(s) ..." text). 0 when as listed, else 1
 * with why filled (what differs and how to fix the file). */
int expect_check(Expectations *x, const char *name, int mode, CaseResult r, const char *detail, char *why, size_t n);
/* The entries whose case was never given, one at a time: index of the next
 * at or after *from (advanced past it), or -1. */
int expect_next_not_given(const Expectations *x, int *from);
/* "PASS", "FAIL", "SKIP", "UNSUPPORTED". */
const char *case_result_name(CaseResult r);

#endif
