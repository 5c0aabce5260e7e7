/* .npy reader/writer: round trip per dtype, and clear errors on bad files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npy.h"

/* Writes t to a temp file, reads it back and checks type and bytes. */
static void roundtrip(const Tensor *t) {
  char path[] = "/tmp/vitc_npy_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  Diag d = {0};
  assert_int_equal(npy_write(path, t, &d), 0);
  Tensor back = {0};
  assert_int_equal(npy_read(path, &back, &d), 0);
  assert_true(tensor_same_type(t, &back));
  assert_memory_equal(t->data, back.data, tensor_bytes(t));
  free(back.data);
  unlink(path);
}

static void test_roundtrip_dtypes(void **state) {
  (void)state;
  float f[6] = {1, -2.5f, 3e-8f, 4, 5, 6};
  int64_t l[3] = {-1, 0, 1LL << 40};
  int32_t i[2] = {7, -7};
  uint8_t b[4] = {1, 0, 0, 1};
  Tensor tf = {DT_F32, 2, {2, 3}, f}, tl = {DT_I64, 1, {3}, l}, ti = {DT_I32, 3, {1, 2, 1}, i},
         tb = {DT_BOOL, 2, {2, 2}, b}, ts = {DT_F32, 0, {0}, f};
  roundtrip(&tf);
  roundtrip(&tl);
  roundtrip(&ti);
  roundtrip(&tb);
  roundtrip(&ts);
}

/* A header as NumPy 1.x writes it for np.zeros((2,), '<f4'). */
static size_t make_npy(unsigned char *buf, const char *dict, size_t data_bytes) {
  size_t hl = strlen(dict);
  memcpy(buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = (unsigned char)hl;
  buf[9] = 0;
  memcpy(buf + 10, dict, hl);
  memset(buf + 10 + hl, 0, data_bytes);
  return 10 + hl + data_bytes;
}

static void expect_error(const void *buf, size_t n, const char *want) {
  Diag d = {0};
  Tensor t = {0};
  assert_int_equal(npy_parse(buf, n, "x.npy", &t, &d), -1);
  assert_non_null(strstr(d.msg, want));
  assert_non_null(strstr(d.msg, "vitc: error: x.npy: "));
  assert_null(t.data);
}

static void test_bad_files(void **state) {
  (void)state;
  unsigned char buf[512];
  expect_error("hello", 5, "bad magic");
  size_t n = make_npy(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n", 16);
  expect_error(buf, n, "unsupported .npy dtype '<f8'");
  n = make_npy(buf, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }\n", 8);
  expect_error(buf, n, "Fortran-order");
  n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", 8);
  expect_error(buf, n, "shape needs 12");
  n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", 8);
  expect_error(buf, 20, "truncated");
  n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (a,), }\n", 8);
  expect_error(buf, n, "malformed .npy shape");
  n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (-, 2), }\n", 8);
  expect_error(buf, n, "malformed .npy shape");
  n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }\n", 0);
  expect_error(buf, n, ".npy shape entry 1 is -3: a dimension cannot be negative");
  n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }\n", 4);
  expect_error(buf, n, ".npy array has rank 9, vitc supports at most 8");
  n = make_npy(buf, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n", 8);
  expect_error(buf, n, "big-endian .npy data ('>f4') is not supported");
  /* 2^40 * 2^24 elements: the byte count wraps to 0, which must not pass for an empty array. */
  n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 16777216), }\n", 0);
  expect_error(buf, n, ".npy shape is too large");
}

static void test_reads_numpy_header(void **state) {
  (void)state;
  unsigned char buf[512];
  size_t n = make_npy(buf, "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 2), }\n", 16);
  buf[n - 16] = 5;
  Diag d = {0};
  Tensor t = {0};
  assert_int_equal(npy_parse(buf, n, "x.npy", &t, &d), 0);
  assert_int_equal(t.dtype, DT_I64);
  assert_int_equal(t.rank, 2);
  assert_int_equal(t.dims[1], 2);
  assert_int_equal(((int64_t *)t.data)[0], 5);
  free(t.data);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_roundtrip_dtypes),
    cmocka_unit_test(test_bad_files),
    cmocka_unit_test(test_reads_numpy_header),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
