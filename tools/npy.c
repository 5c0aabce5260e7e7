/* .npy reader and writer. The header is a Python dict literal; we accept the
 * forms NumPy writes: {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), } */
#include "npy.h"
#include "cli.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One row per dtype we read and write: NumPy's descr for it. */
static const struct { DType dt; const char *descr; } npy_types[] = {
  {DT_F32, "<f4"}, {DT_I64, "<i8"}, {DT_I32, "<i4"}, {DT_BOOL, "|b1"},
};

/* Finds `'key':` in the header and returns a pointer just past the colon. */
static const char *header_field(const char *h, const char *key) {
  char pat[32];
  snprintf(pat, sizeof pat, "'%s'", key);
  const char *p = strstr(h, pat);
  if (!p) return NULL;
  p += strlen(pat);
  while (*p == ' ') p++;
  if (*p != ':') return NULL;
  p++;
  while (*p == ' ') p++;
  return p;
}

/* Parses "(1, 3, 224, 224)" / "(5,)" / "()" into t->rank/dims; -1 with d filled when it is malformed, has
 * a negative entry or more than IR_MAX_RANK entries. */
static int parse_shape(const char *p, Tensor *t, const char *path, Diag *d) {
  int rank = 0;
  if (*p++ != '(') return ir_error(d, path, NULL, "malformed .npy shape");
  for (;;) {
    while (*p == ' ' || *p == ',') p++;
    if (*p == ')') break;
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end == p || (*p != '-' && (*p < '0' || *p > '9'))) return ir_error(d, path, NULL, "malformed .npy shape");
    if (v < 0) return ir_error(d, path, NULL, ".npy shape entry %d is %lld: a dimension cannot be negative", rank, v);
    if (rank < IR_MAX_RANK) t->dims[rank] = v;
    rank++;
    p = end;
    while (*p == ' ') p++;
    if (*p != ',' && *p != ')') return ir_error(d, path, NULL, "malformed .npy shape");
  }
  if (rank > IR_MAX_RANK)
    return ir_error(d, path, NULL, ".npy array has rank %d, vitc supports at most %d", rank, IR_MAX_RANK);
  t->rank = rank;
  return 0;
}

/* Sets out->dtype from the header's 'descr' value ('<f4' and the like). */
static int parse_descr(const char *descr, const char *path, Tensor *out, Diag *d) {
  for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++) {
    size_t n = strlen(npy_types[i].descr);
    if (descr[0] == '\'' && strncmp(descr + 1, npy_types[i].descr, n) == 0 && descr[1 + n] == '\'') {
      out->dtype = npy_types[i].dt;
      return 0;
    }
  }
  const char *end = strchr(descr + 1, '\'');
  int n = end ? (int)(end - descr - 1) : 8;
  if (descr[0] == '\'' && descr[1] == '>')
    return ir_error(d, path, NULL, "big-endian .npy data ('%.*s') is not supported; save it little-endian", n,
                    descr + 1);
  return ir_error(d, path, NULL, "unsupported .npy dtype '%.*s' (vitc reads <f4, <i8, <i4, |b1)", n, descr + 1);
}

int npy_parse(const void *buf, size_t size, const char *path, Tensor *out, Diag *d) {
  const unsigned char *b = buf;
  memset(out, 0, sizeof *out);
  if (size < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
    return ir_error(d, path, NULL, "not a .npy file (bad magic)");
  int major = b[6];
  size_t hlen, hstart;
  if (major == 1) {
    hlen = b[8] | (size_t)b[9] << 8;
    hstart = 10;
  } else if ((major == 2 || major == 3) && size >= 12) {
    hlen = b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    hstart = 12;
  } else {
    return ir_error(d, path, NULL, "unsupported .npy format version %d", major);
  }
  if (hstart + hlen > size) return ir_error(d, path, NULL, "truncated .npy header");
  char header[4096];
  if (hlen >= sizeof header) return ir_error(d, path, NULL, ".npy header too long");
  memcpy(header, b + hstart, hlen);
  header[hlen] = 0;

  const char *descr = header_field(header, "descr");
  const char *fortran = header_field(header, "fortran_order");
  const char *shape = header_field(header, "shape");
  if (!descr || !fortran || !shape) return ir_error(d, path, NULL, "malformed .npy header");
  if (parse_descr(descr, path, out, d)) return -1;
  if (strncmp(fortran, "False", 5) != 0) return ir_error(d, path, NULL, "Fortran-order .npy is not supported");
  if (parse_shape(shape, out, path, d)) return -1;
  if (tensor_size_checked(out, NULL, NULL)) /* the one size check: at most IR_MAX_TENSOR_BYTES */
    return ir_error(d, path, NULL, ".npy shape is too large: over 2^40 bytes, the most vitc handles in one tensor");
  size_t bytes = tensor_bytes(out), start = hstart + hlen;
  if (size - start != bytes)
    return ir_error(d, path, NULL, ".npy data is %zu bytes, shape needs %zu", size - start, bytes);
  out->data = malloc(bytes ? bytes : 1);
  if (!out->data) return ir_error(d, path, NULL, "out of memory");
  memcpy(out->data, b + start, bytes);
  return 0;
}

int npy_read(const char *path, Tensor *out, Diag *d) {
  size_t size;
  char *buf = cli_read_file(path, &size, d);
  if (!buf) return -1;
  int rc = npy_parse(buf, size, path, out, d);
  free(buf);
  return rc;
}

int npy_write(const char *path, const Tensor *t, Diag *d) {
  const char *descr = NULL;
  for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
    if (npy_types[i].dt == t->dtype) descr = npy_types[i].descr;
  if (!descr) return ir_error(d, path, NULL, "cannot write dtype %s to .npy", dt_name(t->dtype));
  char header[512], shape[256] = "";
  size_t len = 0;
  for (int i = 0; i < t->rank; i++)
    len += (size_t)snprintf(shape + len, sizeof shape - len, "%lld,%s", (long long)t->dims[i],
                            (t->rank > 1 && i + 1 < t->rank) ? " " : "");
  if (t->rank > 1) shape[len - 1] = 0; /* drop the trailing comma NumPy omits for rank > 1 */
  int hl = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shape);
  /* Pad with spaces so the data starts on a 64-byte boundary, ending in '\n'. */
  int total = 10 + hl + 1;
  int pad = (64 - total % 64) % 64;
  memset(header + hl, ' ', (size_t)pad);
  header[hl + pad] = '\n';
  int hlen = hl + pad + 1;

  char tmp[4096], *target = ir_output_path(path, d);
  if (!target) return -1;
  snprintf(tmp, sizeof tmp, "%s.tmp%d", target, (int)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    free(target);
    return ir_error(d, path, NULL, "cannot create: %s", strerror(errno));
  }
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
  size_t bytes = tensor_bytes(t);
  int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(header, 1, (size_t)hlen, f) == (size_t)hlen &&
           (bytes == 0 || fwrite(t->data, 1, bytes, f) == bytes);
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp, target) != 0) {
    unlink(tmp);
    free(target);
    return ir_error(d, path, NULL, "write failed");
  }
  free(target);
  return 0;
}
