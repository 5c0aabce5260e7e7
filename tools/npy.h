/* .npy tensor files (NumPy format 1.0-3.0): float32, int64, int32, bool; C order only. */
#ifndef VITC_NPY_H
#define VITC_NPY_H
#include "ir.h"

/* Reads path into out (out->data malloc'd). -1 and d filled on any problem. */
int npy_read(const char *path, Tensor *out, Diag *d);
/* Parses an in-memory .npy image (used by npy_read and the tests). */
int npy_parse(const void *buf, size_t size, const char *path, Tensor *out, Diag *d);
/* Writes t to path (format 1.0), via a temporary file renamed into place. */
int npy_write(const char *path, const Tensor *t, Diag *d);

#endif
