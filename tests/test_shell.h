/* What the cmocka tests that build helper files share: a shell command from a format, and a group fixture
 * that makes one temporary folder, `tmpdir`, and removes it with everything in it. Define TEST_TMPDIR (a
 * mkdtemp template) before including. */
#ifndef VITC_TEST_SHELL_H
#define VITC_TEST_SHELL_H
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static char tmpdir[] = TEST_TMPDIR;

/* Runs a shell command built from fmt; returns its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...) {
  char cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  return system(cmd);
}

static int setup(void **state) {
  (void)state;
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  return sh("rm -rf %s", tmpdir);
}

#endif
