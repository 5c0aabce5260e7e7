/* ONNX frontend: turns a serialized ONNX model into a vitc IR graph. */
#ifndef VITC_ONNX_IMPORT_H
#define VITC_ONNX_IMPORT_H

#include "ir.h"

/* A shape fixed on the command line: --input-shape NAME=1x3x224x224; a first dim of `?` or `N` leaves the
 * batch symbolic (INPUT_SHAPE_BATCH), for --batch or --dynamic-batch to pin. */
#define INPUT_SHAPE_BATCH (-1)
typedef struct InputShape {
  const char *name;
  int rank;
  int64_t dims[IR_MAX_RANK];
} InputShape;

typedef struct ImportOptions {
  const InputShape *shapes; int n_shapes; /* whole shapes of named inputs */
  int64_t batch;          /* --batch N, 0 when unset: pins a symbolic first dim of every input */
  int batch_is_default;   /* batch is the command's own default (--image, inspect), not the user's --batch:
                             a model whose batch is fixed is then no error */
  const char *batch_option;  /* the option that gave batch, for messages (NULL: "--batch") */
} ImportOptions;

/* Imports the model at `path` (opset 9..21; Slice needs 10). Node outputs are left untyped
 * (DT_UNDEF): shape inference runs afterwards. The graph keeps the unpacked
 * protobuf message alive (g->release) because constants point into it.
 * `opt` may be NULL. Returns NULL with `d` filled on any error. */
Graph *onnx_import(const char *path, const ImportOptions *opt, Diag *d);

/* onnx_read_tensor_file() result for a tensor whose dtype vitc does not
 * compute in (d names the ONNX dtype, e.g. "unsupported dtype UINT8"), so
 * callers can report a skip rather than a failure. */
#define ONNX_UNSUPPORTED_DTYPE (-2)

/* Reads a serialized TensorProto file (ONNX test data such as input_0.pb).
 * On success returns 0, out->data is malloc'd (caller frees) and *name is the
 * malloc'd tensor name or NULL when the tensor has none (name may be NULL).
 * FLOAT16 data is converted to f32. Returns ONNX_UNSUPPORTED_DTYPE (-2) for
 * an unsupported dtype, -1 for any other error; nothing is left allocated. */
int onnx_read_tensor_file(const char *path, Tensor *out, char **name, Diag *d);

/* Parses "NAME=1x3x224x224" (the name is everything before the last '=').
 * out->name is malloc'd: the caller frees it with free((char *)out->name).
 * Returns 0, or -1 with d filled. */
int parse_input_shape(const char *arg, InputShape *out, Diag *d);

#endif
