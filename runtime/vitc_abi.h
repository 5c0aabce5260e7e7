/* The C ABI of a model compiled by vitc: shared by the generated code, the
 * runtime linked into every model .so and the programs that load one.
 * Plain C, no dependencies beyond <stdint.h>; vitc copies this text into the
 * model.h it writes next to each .so, so change it only with the version. */
#ifndef VITC_ABI_H
#define VITC_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a struct below or an entry point's meaning changes. */
#define VITC_ABI_VERSION 2

/* Element types, numbered as ONNX TensorProto.DataType. */
enum {
  VITC_DTYPE_F32 = 1,
  VITC_DTYPE_I32 = 6,
  VITC_DTYPE_I64 = 7,
  VITC_DTYPE_BOOL = 9, /* one byte per element, 0 or 1 */
};

/* Status codes returned by the entry points (0 is success). */
enum {
  VITC_OK = 0,
  VITC_ERR_ARG,    /* a NULL or mismatched argument */
  VITC_ERR_NOMEM,  /* out of memory, or a thread could not be started */
  VITC_ERR_ABI,    /* the model was built for another ABI version */
  VITC_ERR_OPEN,   /* the model file could not be loaded */
  VITC_ERR_SYMBOL, /* the file is not a vitc model (an entry point is missing) */
  VITC_STATUS_COUNT
};

/* One input or output: static shape, row-major, densely packed. */
typedef struct VitcTensorInfo {
  const char *name;
  int32_t dtype;   /* VITC_DTYPE_* */
  int32_t rank;
  int64_t dims[8];
} VitcTensorInfo;

/* One key/value string pair of the model's metadata (the ONNX model's
 * metadata_props, e.g. `vitc.image_size`, `vitc.labels`: docs/image.md). */
typedef struct VitcMetadata {
  const char *key, *value;
} VitcMetadata;

/* What a model takes and returns and what a session allocates. */
typedef struct VitcModelInfo {
  uint32_t abi_version;      /* VITC_ABI_VERSION of the compiler that built it; always the first field */
  int32_t n_inputs, n_outputs;
  const VitcTensorInfo *inputs, *outputs;
  uint64_t workspace_bytes;  /* scratch memory each session allocates */
  uint64_t weights_bytes;    /* constants embedded in the .so */
  int32_t n_metadata;        /* since ABI 2 */
  const VitcMetadata *metadata;
} VitcModelInfo;

/* A session: the workspace and the thread pool for one run at a time.
 * Sessions are independent; one session must not run on two threads at once. */
typedef struct VitcSession VitcSession;

/* Entry points exported by every model .so. */
const VitcModelInfo *vitc_model_info(void);
/* n_threads <= 0 uses every online CPU; *status (may be NULL) gets a VITC_* code. */
VitcSession *vitc_session_create(int n_threads, int *status);
/* inputs[i] / outputs[j] point to buffers of the sizes in the info, in its order. */
int vitc_session_run(VitcSession *s, const void *const *inputs, void *const *outputs);
void vitc_session_destroy(VitcSession *s);
/* A short English description of a status code. */
const char *vitc_status_string(int status);

#ifdef __cplusplus
}
#endif

#endif
