/* ONNX external data: tensors whose bytes live in a file beside the model (TensorProto.data_location
 * EXTERNAL; external_data keys `location`, `offset`, `length`; `checksum` and any other key are ignored).
 *
 * Each file is mapped once, read-only, and shared by every tensor in it; the tensors point into the mapping
 * just as they point into an embedded raw_data (onnx_tensor.c copies into the graph's arena only when the
 * offset is misaligned for the dtype or FLOAT16 needs converting). So a model of many gigabytes is paged in
 * as it is used, not read into memory twice. The mappings live until the graph is freed (Graph.release,
 * onnx_import.c); a file truncated meanwhile is the one way to fault (SIGBUS), as with any mapping.
 *
 * A location is trusted no further than the model's folder (ONNX's CVE-2022-25882 read any file through
 * "../"): an empty or absolute location or one with a `..` component is refused before the file system is
 * asked anything; the rest is resolved with realpath() (following symbolic links) and must stay inside the
 * folder's realpath; it must then be a regular file by stat(), so a directory, FIFO or device is never
 * opened (and a FIFO never blocks). The open itself refuses a symbolic link swapped in meanwhile
 * (O_NOFOLLOW) and checks that it opened the file it stat'ed. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx_internal.h"

/* One mapped file, known by device and inode, so two spellings of one location share a mapping. */
struct ExternalFile {
  dev_t dev;
  ino_t ino;
  MappedFile map;
};

/* The external_data entries vitc reads; NULL when absent (a later duplicate key wins, as in ONNX). */
typedef struct ExternalRef {
  const char *location, *offset, *length;
} ExternalRef;

static ExternalRef external_ref(const Onnx__TensorProto *tp) {
  ExternalRef r = {0};
  for (size_t i = 0; i < tp->n_external_data; i++) {
    const Onnx__StringStringEntryProto *e = tp->external_data[i];
    if (!e->key) continue;
    if (strcmp(e->key, "location") == 0) r.location = pb_str(e->value);
    else if (strcmp(e->key, "offset") == 0) r.offset = pb_str(e->value);
    else if (strcmp(e->key, "length") == 0) r.length = pb_str(e->value);
  }
  return r;
}

/* Parses a decimal byte count (digits only, at most 2^64 - 1); -1 when it is not one. */
static int parse_count(const char *s, uint64_t *out) {
  uint64_t v = 0;
  if (!*s) return -1;
  for (; *s; s++)
    if (*s < '0' || *s > '9' || __builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *s - '0', &v))
      return -1;
  *out = v;
  return 0;
}

/* Refuses, without touching the file system, a location that could name something outside the model's
 * folder: none, empty, absolute, or with a `..` component. */
static int check_location(const char *loc, const char *file, const char *what, Diag *d) {
  if (!loc) return ir_error(d, file, NULL, "%s: external data has no location", what);
  if (!*loc) return ir_error(d, file, NULL, "%s: external data location is empty", what);
  if (loc[0] == '/')
    return ir_error(d, file, NULL, "%s: external data location '%s' is an absolute path; it must be relative to "
                    "the model's folder", what, loc);
  for (const char *s = loc; *s;) {
    size_t n = strcspn(s, "/");
    if (n == 2 && s[0] == '.' && s[1] == '.')
      return ir_error(d, file, NULL, "%s: external data location '%s' has a '..' component; it must stay inside "
                      "the model's folder", what, loc);
    s += n;
    s += *s == '/';
  }
  return 0;
}

/* The realpath of the folder holding the model, resolved on first use; NULL with d filled. */
static const char *model_folder(ExternalFiles *x, const char *what, Diag *d) {
  if (x->folder) return x->folder;
  const char *slash = strrchr(x->model, '/');
  char *dir = !slash ? strdup(".") : strndup(x->model, slash == x->model ? 1 : (size_t)(slash - x->model));
  if (!dir) {
    ir_error(d, x->model, NULL, "out of memory");
    return NULL;
  }
  x->folder = realpath(dir, NULL);
  int err = errno;
  free(dir);
  if (!x->folder) ir_error(d, x->model, NULL, "%s: cannot resolve the model's folder: %s", what, strerror(err));
  return x->folder;
}

/* The realpath of `loc` in the model's folder (malloc'd), or NULL with d filled when it cannot be resolved
 * or resolves outside the folder. */
static char *resolve(ExternalFiles *x, const char *loc, const char *what, Diag *d) {
  const char *dir = model_folder(x, what, d);
  if (!dir) return NULL;
  size_t k = strlen(dir), n = k + 1 + strlen(loc) + 1;
  char *joined = malloc(n);
  if (!joined) {
    ir_error(d, x->model, NULL, "out of memory");
    return NULL;
  }
  memcpy(joined, dir, k);
  joined[k] = '/';
  memcpy(joined + k + 1, loc, n - k - 1);
  char *real = realpath(joined, NULL);
  int err = errno;
  free(joined);
  if (!real) {
    ir_error(d, x->model, NULL, "%s: cannot open external data '%s': %s", what, loc, strerror(err));
    return NULL;
  }
  int inside = strcmp(dir, "/") == 0 || (strncmp(real, dir, k) == 0 && (real[k] == '/' || !real[k]));
  if (!inside) {
    free(real);
    ir_error(d, x->model, NULL, "%s: external data location '%s' resolves outside the model's folder", what, loc);
    return NULL;
  }
  return real;
}

/* Maps the regular file at `real` (or finds it mapped for an earlier tensor) into *out; -1 with d filled. */
static int map_external(ExternalFiles *x, const char *real, const char *loc, MappedFile *out, const char *what,
                        Diag *d) {
  struct stat st, fst;
  if (stat(real, &st) < 0)
    return ir_error(d, x->model, NULL, "%s: cannot open external data '%s': %s", what, loc, strerror(errno));
  if (!S_ISREG(st.st_mode))
    return ir_error(d, x->model, NULL, "%s: external data '%s' is not a regular file", what, loc);
  for (size_t i = 0; i < x->n; i++)
    if (x->files[i].dev == st.st_dev && x->files[i].ino == st.st_ino) {
      *out = x->files[i].map;
      return 0;
    }
  if (x->n == x->cap) {
    size_t cap = x->cap ? 2 * x->cap : 4;
    struct ExternalFile *files = realloc(x->files, cap * sizeof *files);
    if (!files) return ir_error(d, x->model, NULL, "out of memory");
    x->files = files;
    x->cap = cap;
  }
  int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return ir_error(d, x->model, NULL, "%s: cannot open external data '%s': %s", what, loc, strerror(errno));
  MappedFile mf = {NULL, 0};
  const char *bad = NULL;
  if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode) || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino)
    bad = "changed while it was opened";
  else if ((uint64_t)fst.st_size > SIZE_MAX)
    bad = "too large to map";
  else if (fst.st_size > 0) {
    void *p = mmap(NULL, (size_t)fst.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) bad = strerror(errno);
    else mf = (MappedFile){p, (size_t)fst.st_size};
  }
  close(fd);
  if (bad) return ir_error(d, x->model, NULL, "%s: cannot map external data '%s': %s", what, loc, bad);
  x->files[x->n++] = (struct ExternalFile){st.st_dev, st.st_ino, mf};
  *out = mf;
  return 0;
}

/* Finds an external-data tensor's bytes; see onnx_internal.h. */
int onnx_external_data(ExternalFiles *x, const Onnx__TensorProto *tp, size_t need, const void **p,
                       const char *what, Diag *d) {
  const char *file = x->model;
  ExternalRef r = external_ref(tp);
  uint64_t off = 0, len = 0;
  *p = NULL;
  if (check_location(r.location, file, what, d) < 0) return -1;
  if (r.offset && parse_count(r.offset, &off) < 0)
    return ir_error(d, file, NULL, "%s: external data offset '%s' is not a non-negative integer", what, r.offset);
  if (r.length && parse_count(r.length, &len) < 0)
    return ir_error(d, file, NULL, "%s: external data length '%s' is not a non-negative integer", what, r.length);
  if (r.length && len != need)
    return ir_error(d, file, NULL, "%s: external data length %llu does not match the %zu bytes its shape needs",
                    what, (unsigned long long)len, need);
  char *real = resolve(x, r.location, what, d);
  if (!real) return -1;
  MappedFile mf = {NULL, 0};
  int rc = map_external(x, real, r.location, &mf, what, d);
  free(real);
  if (rc < 0) return -1;
  uint64_t size = mf.size;
  if (r.length && (off > size || len > size - off))
    return ir_error(d, file, NULL, "%s: external data offset %llu + length %llu runs past the end of '%s' (%llu "
                    "bytes)", what, (unsigned long long)off, (unsigned long long)len, r.location,
                    (unsigned long long)size);
  if (off > size)
    return ir_error(d, file, NULL, "%s: external data offset %llu is past the end of '%s' (%llu bytes)", what,
                    (unsigned long long)off, r.location, (unsigned long long)size);
  if (!r.length && size - off != need)
    return ir_error(d, file, NULL, "%s: external data from offset %llu to the end of '%s' is %llu bytes, its shape "
                    "needs %zu", what, (unsigned long long)off, r.location, (unsigned long long)(size - off), need);
  *p = mf.ptr ? (const char *)mf.ptr + off : NULL;
  return 0;
}

/* Gives every mapped file's pages back; see onnx_internal.h. */
void onnx_external_evict(const ExternalFiles *x) {
  for (size_t i = 0; i < x->n; i++) onnx_release_pages(&x->files[i].map, x->files[i].map.ptr, x->files[i].map.size);
}

/* Unmaps every file; see onnx_internal.h. */
void onnx_external_free(ExternalFiles *x) {
  for (size_t i = 0; i < x->n; i++) onnx_unmap_file(&x->files[i].map);
  free(x->files);
  free(x->folder);
  memset(x, 0, sizeof *x);
}
