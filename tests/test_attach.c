/* Attaching the weights after linking (backend/cg_attach.c): a library linked with the stand-in weights
 * object gets the real weights, which dlopen then maps where vitc_weights says; a library laid out
 * otherwise (a section after the stand-in), a file that is not ELF and a missing file are refused, the
 * first two unchanged so that the compiler can link the whole weights object instead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cg_ctx.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEST_TMPDIR "/tmp/vitc_test_attach.XXXXXX"
#include "test_shell.h"

/* tmpdir/name in buf. */
static const char *tmp_path(const char *name, char *buf, size_t n) {
  snprintf(buf, n, "%s/%s", tmpdir, name);
  return buf;
}

/* A C file returning the address of the hidden vitc_weights (the code `vitc compile` links reads it so). */
static const char reader_c[] = "extern const unsigned char vitc_weights[] __attribute__((visibility(\"hidden\")));\n"
                               "const unsigned char *weights(void) { return vitc_weights; }\n";

/* The same with large data, which the linker places after the large read-only section. */
static const char reader_ldata_c[] = "extern const unsigned char vitc_weights[] __attribute__((visibility(\"hidden\")));\n"
                                     "__attribute__((section(\".ldata.after\"))) unsigned char after[64] = {1};\n"
                                     "const unsigned char *weights(void) { return after[0] ? vitc_weights : 0; }\n";

/* Writes `bytes` bytes of a pattern as a weights object (blob) and its stand-in (stub); the pattern in *data. */
static void write_weights(uint64_t bytes, unsigned char **data) {
  char blob[256], stub[256];
  CgBlob b;
  Diag d = {0};
  *data = malloc(bytes);
  assert_non_null(*data);
  for (uint64_t i = 0; i < bytes; i++) (*data)[i] = (unsigned char)(i * 7 + (i >> 9));
  assert_int_equal(cg_blob_open(&b, tmp_path("w.o", blob, sizeof blob), 1, 0, &d), 0);
  assert_int_equal(cg_blob_add(&b, *data, bytes), 0);
  assert_int_equal(cg_blob_close(&b, &d), 0);
  assert_int_equal(cg_blob_write_stub(&b, tmp_path("stub.o", stub, sizeof stub), &d), 0);
  cg_blob_free(&b);
}

/* Links tmpdir/src (C text) with the stand-in into tmpdir/so. */
static void link_with_stub(const char *src, const char *so) {
  char c[256];
  FILE *f = fopen(tmp_path("reader.c", c, sizeof c), "w");
  assert_non_null(f);
  fputs(src, f);
  fclose(f);
  assert_int_equal(sh("cc -shared -fPIC -o %s/%s %s %s/stub.o", tmpdir, so, c, tmpdir), 0);
}

/* The whole file at path (its size in *n). */
static unsigned char *slurp(const char *path, long *n) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  *n = ftell(f);
  rewind(f);
  unsigned char *p = malloc((size_t)*n + 1);
  assert_non_null(p);
  assert_int_equal(fread(p, 1, (size_t)*n, f), (size_t)*n);
  fclose(f);
  return p;
}

static void test_attached_weights_load(void **state) {
  (void)state;
  const uint64_t bytes = 3 << 20; /* past a few pages, not a multiple of one */
  unsigned char *data;
  char so[256], blob[256], why[160] = "";
  Diag d = {0};
  write_weights(bytes + 123, &data);
  link_with_stub(reader_c, "ok.so");
  assert_int_equal(cg_attach_weights(tmp_path("ok.so", so, sizeof so), tmp_path("w.o", blob, sizeof blob), bytes + 123,
                                     why, sizeof why, &d),
                   0);
  assert_false(d.has_error);
  void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  assert_non_null(h);
  const unsigned char *(*weights)(void) = (const unsigned char *(*)(void))dlsym(h, "weights");
  assert_non_null(weights);
  const unsigned char *w = weights();
  assert_int_equal((uintptr_t)w % 64, 0);
  assert_memory_equal(w, data, bytes + 123);
  dlclose(h);
  free(data);
}

static void test_other_layouts_unchanged(void **state) {
  (void)state;
  unsigned char *data;
  char so[256], blob[256], why[160] = "", txt[256];
  Diag d = {0};
  long n0, n1;
  write_weights(100000, &data);
  link_with_stub(reader_ldata_c, "ldata.so");
  tmp_path("ldata.so", so, sizeof so);
  unsigned char *before = slurp(so, &n0);
  assert_int_equal(cg_attach_weights(so, tmp_path("w.o", blob, sizeof blob), 100000, why, sizeof why, &d), 1);
  assert_non_null(strstr(why, "follows the stand-in"));
  unsigned char *after = slurp(so, &n1);
  assert_int_equal(n0, n1);
  assert_memory_equal(before, after, (size_t)n0);
  FILE *f = fopen(tmp_path("text.so", txt, sizeof txt), "w");
  assert_non_null(f);
  fputs("not a library, but longer than an ELF header is: 0123456789012345678901234567890123456789\n", f);
  fclose(f);
  why[0] = 0;
  assert_int_equal(cg_attach_weights(txt, blob, 100000, why, sizeof why, &d), 1);
  assert_non_null(strstr(why, "not an x86-64 ELF shared library"));
  assert_false(d.has_error);
  assert_int_equal(cg_attach_weights(tmp_path("missing.so", so, sizeof so), blob, 100000, why, sizeof why, &d), -1);
  assert_true(d.has_error);
  assert_non_null(strstr(d.msg, "missing.so: cannot attach the weights: "));
  free(before), free(after), free(data);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_attached_weights_load),
      cmocka_unit_test(test_other_layouts_unchanged),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
