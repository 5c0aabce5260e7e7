/* Loading a model .so built by vitc at run time (dlopen), checking its ABI
 * version, and running it with optional type checks of the buffers. */
#ifndef VITC_VITRT_H
#define VITC_VITRT_H

#include "vitc_abi.h"
#include <stddef.h>

typedef struct VitrtModel VitrtModel;
typedef struct VitrtSession VitrtSession;

/* A caller's buffer with the type it claims to have (for vitrt_run_checked). */
typedef struct VitrtTensor {
  int32_t dtype; /* VITC_DTYPE_* */
  int32_t rank;
  const int64_t *dims;
  void *data;
} VitrtTensor;

/* Loads the model; NULL with a one-line reason in err (when errlen > 0),
 * "PATH: what is wrong". A model built for another ABI version is refused and
 * both versions named. */
VitrtModel *vitrt_open(const char *path, char *err, size_t errlen);
const VitcModelInfo *vitrt_info(const VitrtModel *m);
/* The model's entry points (for sessions with options or shared pools). */
const VitcEntryPoints *vitrt_entry_points(const VitrtModel *m);
/* VITC_OK when this CPU runs the model, else VITC_ERR_CPU with "model needs ...; this CPU has ..." in msg. */
int vitrt_cpu_check(const VitrtModel *m, char *msg, size_t size);
/* The per-node times of a model compiled with --profile (see VitcProfile); reset != 0 zeroes them first. */
int vitrt_session_profile(VitrtSession *s, VitcProfile *out, int reset);
/* A short English description of a status code. */
const char *vitrt_status_string(int status);
/* The value of metadata key (docs/image.md), NULL when absent or m is NULL. */
const char *vitrt_meta(const VitrtModel *m, const char *key);
/* Unloads the model; its sessions must be destroyed first. */
void vitrt_close(VitrtModel *m);

/* A session of the model (workspace + n_threads threads; <= 0: the default count, see vitc_abi.h);
 * *status VITC_ERR_CPU when this CPU lacks what the model needs (vitrt_cpu_check says what). */
VitrtSession *vitrt_session_create(VitrtModel *m, int n_threads, int *status);
void vitrt_session_destroy(VitrtSession *s);

/* Runs with n_inputs / n_outputs buffers, which must match the model's counts
 * (VITC_ERR_ARG otherwise); their sizes are the caller's responsibility. */
int vitrt_run(VitrtSession *s, int n_inputs, const void *const *inputs, int n_outputs, void *const *outputs);
/* vitrt_run for `batch` samples (a dynamic-batch model: any batch up to info->max_batch). */
int vitrt_run_batch(VitrtSession *s, int64_t batch, int n_inputs, const void *const *inputs, int n_outputs,
                    void *const *outputs);
/* Same, after checking every buffer's dtype and shape against the info (for a dynamic-batch model, the
 * first dim of every buffer is the batch of input 0):
 * VITC_ERR_ARG on any mismatch, with the reason in err (when errlen > 0). */
int vitrt_run_checked(VitrtSession *s, int n_inputs, const VitrtTensor *inputs, int n_outputs,
                      const VitrtTensor *outputs, char *err, size_t errlen);

/* "f32", "i64", "i32", "bool" or "?". */
const char *vitrt_dtype_name(int32_t dtype);
/* Bytes of one element of dtype, 0 when unknown. */
size_t vitrt_dtype_size(int32_t dtype);

#endif
