/* The C ABI of a model compiled by vitc: shared by the generated code, the
 * runtime linked into every model .so and the programs that load one.
 * Plain C, no dependencies beyond <stdint.h> and <stddef.h>; vitc copies this
 * text into the model.h it writes next to each .so, so change it only with
 * the version. docs/backend.md describes it (statuses, concurrency). */
#ifndef VITC_ABI_H
#define VITC_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a struct below or an entry point's meaning changes. */
#define VITC_ABI_VERSION 4

/* Element types, numbered as ONNX TensorProto.DataType. */
enum {
  VITC_DTYPE_F32 = 1,
  VITC_DTYPE_I32 = 6,
  VITC_DTYPE_I64 = 7,
  VITC_DTYPE_BOOL = 9 /* one byte per element, 0 or 1 */
};

/* Status codes returned by the entry points (0 is success). */
enum {
  VITC_OK = 0,
  VITC_ERR_ARG,    /* a NULL or mismatched argument */
  VITC_ERR_NOMEM,  /* out of memory, or a thread could not be started */
  VITC_ERR_ABI,    /* the model was built for another ABI version */
  VITC_ERR_OPEN,   /* the model file could not be loaded */
  VITC_ERR_SYMBOL, /* the file is not a vitc model (an entry point is missing) */
  VITC_ERR_CPU,    /* this CPU lacks an instruction set the model was compiled for */
  VITC_ERR_INDEX,  /* an index read at run time (a Gather's, a ScatterND's) was out of range: the outputs are not valid */
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
  uint64_t workspace_bytes;  /* scratch memory each session allocates (or is given) */
  uint64_t weights_bytes;    /* constants embedded in the .so */
  int32_t n_metadata;        /* since ABI 2 */
  const VitcMetadata *metadata;
  const char *prefix;        /* since ABI 4: the entry points are PREFIX_model_info, ... */
  const char *target_cpu;    /* the LLVM CPU the code was generated for ("znver3", "x86-64-v3", ...) */
  const char *cpu_features;  /* the instruction sets it needs, comma-separated ("avx2,fma,..."); "" for none */
  int32_t batch_dynamic;     /* 1: the first dim of every input and output is the batch, any value from 1 to
                                max_batch (0: no limit) through P_session_run_batch; the shapes above are the
                                batch P_session_run runs (the largest compiled batch); workspace_bytes covers all */
  int64_t max_batch;
} VitcModelInfo;

/* A session: the workspace and the threads for one run at a time. */
typedef struct VitcSession VitcSession;
/* A thread pool that sessions (of models built by the same vitc ABI) can share. */
typedef struct VitcPool VitcPool;

/* How a session is made: start from VITC_SESSION_OPTIONS_INIT, change fields. */
typedef struct VitcSessionOptions {
  uint32_t struct_size;     /* sizeof(VitcSessionOptions) as the caller compiled it: fields past a smaller
                               size keep their defaults, fields of a newer, larger struct are ignored */
  int32_t n_threads;        /* <= 0: $VITC_NUM_THREADS, else the CPUs this thread may run on (affinity),
                               capped by the cgroup CPU quota; 1: the calling thread only, no thread started */
  VitcPool *pool;           /* non-NULL: run on this shared pool (n_threads is then ignored) */
  void *workspace;          /* non-NULL: the caller's memory for the workspace, 64-byte aligned, ... */
  uint64_t workspace_bytes; /* ... at least info->workspace_bytes long; the session allocates nothing then */
} VitcSessionOptions;
#define VITC_SESSION_OPTIONS_INIT {sizeof(VitcSessionOptions), 0, NULL, NULL, 0}

/* One node of a model compiled with --profile (its kernel or kernels), per batch variant. */
typedef struct VitcProfileNode {
  const char *name;  /* the node's name in the graph */
  const char *op;    /* its IR op ("linear", "attention", ...) */
  int64_t batch;     /* the batch of the run function it belongs to */
  double flops;      /* floating-point operations of one call (a multiply-add counts 2); 0 for data movement */
} VitcProfileNode;

/* What a session measured: ns[i] is the wall time spent in nodes[i], summed over `runs` runs since the
 * session was created or last reset. n_nodes is 0 for a model compiled without --profile. */
typedef struct VitcProfile {
  const VitcProfileNode *nodes;
  const int64_t *ns;
  int32_t n_nodes;
  int64_t runs;
  int32_t threads;   /* the session's threads (its pool's) */
} VitcProfile;

/* Every entry point of one model, for loaders that do not know its prefix:
 * each model .so exports one under the name VITC_ENTRY_POINTS_SYMBOL (look it
 * up with dlsym on the model's own handle; programs that link models directly
 * call the prefixed functions instead). */
typedef struct VitcEntryPoints {
  uint32_t abi_version; /* always the first field */
  const char *prefix;
  const VitcModelInfo *(*model_info)(void);
  VitcSession *(*session_create)(int n_threads, int *status);
  VitcSession *(*session_create_with)(const VitcSessionOptions *options, int *status);
  int (*session_run)(VitcSession *s, const void *const *inputs, void *const *outputs);
  int (*session_run_batch)(VitcSession *s, int64_t batch, const void *const *inputs, void *const *outputs);
  void (*session_destroy)(VitcSession *s);
  VitcPool *(*pool_create)(int n_threads, int *status);
  void (*pool_destroy)(VitcPool *p);
  int (*cpu_check)(char *message, size_t size);
  const char *(*status_string)(int status);
  int (*session_profile)(VitcSession *s, VitcProfile *out, int reset);
} VitcEntryPoints;
#define VITC_ENTRY_POINTS_SYMBOL "vitc_entry_points"

/* Declares the entry points of a model compiled with `--prefix P` (default
 * vitc); the model.h vitc writes does this for its model:
 * - P_model_info: the info above (static data; any thread, any time);
 * - P_session_create(n_threads, status) = P_session_create_with with only n_threads set;
 * - P_session_create_with(options, status): NULL and *status set on failure (VITC_ERR_CPU when this CPU
 *   lacks what the model needs, VITC_ERR_ARG for bad options, VITC_ERR_NOMEM);
 * - P_session_run(s, inputs, outputs): buffers of the info's sizes, in its order; one call at a time per
 *   session; sessions are independent, also when they share a pool;
 * - P_session_run_batch(s, batch, inputs, outputs): the same for `batch` samples (a dynamic-batch model;
 *   a static one accepts only its own batch), VITC_ERR_ARG outside 1..max_batch or when one tensor of
 *   the batch would pass 2^40 bytes (vitc's ceiling for one tensor);
 * - P_pool_create(n_threads, status) / P_pool_destroy: a pool outlives the sessions that use it;
 * - P_cpu_check(message, size): VITC_OK, or VITC_ERR_CPU with "model needs ...; this CPU has ..." in message;
 * - P_status_string(status): a short English description;
 * - P_session_profile(s, out, reset): the per-node times of a model compiled with --profile (reset != 0
 *   zeroes them first, to start a measurement); VITC_OK with out->n_nodes 0 for other models. */
#define VITC_DECLARE_MODEL(P)                                                                        \
  const VitcModelInfo *P##_model_info(void);                                                         \
  VitcSession *P##_session_create(int n_threads, int *status);                                       \
  VitcSession *P##_session_create_with(const VitcSessionOptions *options, int *status);              \
  int P##_session_run(VitcSession *s, const void *const *inputs, void *const *outputs);              \
  int P##_session_run_batch(VitcSession *s, int64_t batch, const void *const *inputs, void *const *outputs); \
  void P##_session_destroy(VitcSession *s);                                                          \
  VitcPool *P##_pool_create(int n_threads, int *status);                                             \
  void P##_pool_destroy(VitcPool *p);                                                                \
  int P##_cpu_check(char *message, size_t size);                                                     \
  const char *P##_status_string(int status);                                                          \
  int P##_session_profile(VitcSession *s, VitcProfile *out, int reset);

#ifdef __cplusplus
}
#endif

#endif
