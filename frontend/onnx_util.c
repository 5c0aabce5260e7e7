/* ONNX frontend helpers: mapping a file into memory and unpacking a message from one. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx_internal.h"

/* Maps the whole of `path` read-only; an empty file gives ptr NULL, size 0. */
int onnx_map_file(const char *path, MappedFile *mf, Diag *d) {
  mf->ptr = NULL;
  mf->size = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ir_error(d, path, NULL, "cannot open: %s", strerror(errno));
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int err = errno;
    close(fd);
    return ir_error(d, path, NULL, "cannot stat: %s", strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return ir_error(d, path, NULL, "not a regular file");
  }
  if (st.st_size > 0) {
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      close(fd);
      return ir_error(d, path, NULL, "cannot map: %s", strerror(err));
    }
    mf->ptr = p;
    mf->size = (size_t)st.st_size;
  }
  close(fd);
  return 0;
}

/* Undoes onnx_map_file(); safe on an empty or already unmapped file. */
void onnx_unmap_file(MappedFile *mf) {
  if (mf->ptr) munmap(mf->ptr, mf->size);
  mf->ptr = NULL;
  mf->size = 0;
}

void onnx_release_pages(const MappedFile *mf, const void *p, size_t n) {
  uintptr_t lo = (uintptr_t)p, hi = lo + n, base = (uintptr_t)(mf ? mf->ptr : NULL);
  if (!base || lo < base || hi > base + mf->size) return;
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  lo = (lo + page - 1) & ~(page - 1);
  hi &= ~(page - 1);
  if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

ProtobufCMessage *onnx_unpack_mapped(const MappedFile *mf, const ProtobufCMessageDescriptor *desc, const char *what,
                                     const char *path, Diag *d) {
  if (!mf->ptr) {
    ir_error(d, path, NULL, "not a valid %s (empty file)", what);
    return NULL;
  }
  ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, mf->size, mf->ptr);
  if (!m) ir_error(d, path, NULL, "not a valid %s (protobuf parse failed)", what);
  return m;
}

/* Maps `path` and unpacks one message of type `desc` from it; NULL with d
 * filled ("not a valid WHAT (...)") on error. */
ProtobufCMessage *onnx_unpack_file(const char *path, const ProtobufCMessageDescriptor *desc, const char *what,
                                   Diag *d) {
  MappedFile mf;
  if (onnx_map_file(path, &mf, d) < 0) return NULL;
  ProtobufCMessage *m = onnx_unpack_mapped(&mf, desc, what, path, d);
  onnx_unmap_file(&mf); /* protobuf-c copies every string and bytes field it keeps */
  return m;
}
