/* Shared between the ONNX frontend's files; not part of its public API. */
#ifndef VITC_ONNX_INTERNAL_H
#define VITC_ONNX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ir.h"
#include "onnx.pb-c.h"
#include "onnx_import.h"

/* ---- onnx_util.c ---- */

/* A whole file in memory (read-only mapping); ptr is NULL for an empty file. */
typedef struct MappedFile {
  void *ptr;
  size_t size;
} MappedFile;

int onnx_map_file(const char *path, MappedFile *mf, Diag *d);
void onnx_unmap_file(MappedFile *mf);
/* Unpacks one message of type `desc` from mf (the file `path`, for messages); NULL with d filled when it is
 * empty or not such a message ("not a valid WHAT (...)"). protobuf-c copies what it keeps: mf may go. */
ProtobufCMessage *onnx_unpack_mapped(const MappedFile *mf, const ProtobufCMessageDescriptor *desc, const char *what,
                                     const char *path, Diag *d);
/* Maps `path` and unpacks one message of type `desc` (free it with
 * protobuf_c_message_free_unpacked); NULL with d filled when the file cannot
 * be read or is not such a message ("not a valid WHAT (...)"). */
ProtobufCMessage *onnx_unpack_file(const char *path, const ProtobufCMessageDescriptor *desc, const char *what,
                                   Diag *d);

/* Gives the pages wholly inside [p, p + n) of mapping mf back (madvise MADV_DONTNEED: a private read-only
 * file mapping reads them from the file again if touched); nothing when the range is not inside mf. */
void onnx_release_pages(const MappedFile *mf, const void *p, size_t n);

/* ---- onnx_strip.c ---- */

/* Where one initializer's raw_data is in the serialized model (p NULL: it has none). */
typedef struct OnnxRawSpan {
  const uint8_t *p;
  size_t len;
} OnnxRawSpan;
typedef struct OnnxRawSpans {
  OnnxRawSpan *v; /* one per GraphProto.initializer, in order (malloc'd) */
  size_t n, cap;
} OnnxRawSpans;
/* A malloc'd copy of the serialized ModelProto buf[0..len) in which every initializer's raw_data is an
 * empty field, and where the bytes were; -1 when buf is not laid out as expected (then unpack buf itself). */
int onnx_strip_raw_data(const void *buf, size_t len, uint8_t **out, size_t *out_len, OnnxRawSpans *spans);

/* A possibly-NULL protobuf string as a C string ("" for NULL). */
static inline const char *pb_str(const char *s) { return s ? s : ""; }

/* ---- onnx_external.c ---- */

/* The files one import's external-data tensors live in, each mapped once (read-only) and kept mapped until
 * onnx_external_free(): tensors point into the mappings. Zero-initialise, then set `model`. */
typedef struct ExternalFiles {
  const char *model; /* the .onnx path: locations are relative to its folder */
  char *folder;      /* realpath of that folder, resolved on first use */
  struct ExternalFile *files;
  size_t n, cap;
} ExternalFiles;

/* Finds the bytes of tensor `tp`, stored as external data (keys location, offset, length), which must be
 * `need` bytes: *p points into the mapped file (NULL when need is 0 and the file is empty). Refuses a
 * location outside the model's folder and anything but a regular file. 0, or -1 with d filled. */
int onnx_external_data(ExternalFiles *x, const Onnx__TensorProto *tp, size_t need, const void **p,
                       const char *what, Diag *d);
/* Gives the pages of every mapped file back (onnx_release_pages). */
void onnx_external_evict(const ExternalFiles *x);
/* Unmaps every file and frees x's memory (x is left empty). */
void onnx_external_free(ExternalFiles *x);

/* ---- onnx_tensor.c ---- */

/* Where decoded tensor data goes. */
typedef struct TensorSink {
  Arena *arena; /* copies are allocated here; NULL means malloc (caller frees) */
  int borrow;   /* data may point into the message's buffers when no conversion is needed */
  ExternalFiles *external; /* where external data is read from; NULL: external data is refused */
  const MappedFile *mapped; /* raw_data may point into this mapping: its pages are given back once copied */
} TensorSink;

/* Decodes a TensorProto into *out (dtype, shape, data; FLOAT16 becomes f32).
 * `what` names the tensor in messages ("initializer 'w'"). Returns 0,
 * ONNX_UNSUPPORTED_DTYPE or -1, with d filled on error. */
int onnx_decode_tensor(const Onnx__TensorProto *tp, const TensorSink *sink, Tensor *out,
                       const char *file, const char *what, Diag *d);

/* IEEE half-precision bits to float (subnormals, infinities and NaNs included). */
float onnx_half_to_float(uint16_t h);

/* ---- onnx_optypes.c ---- */

/* One op type the importer refuses, as found in a graph. */
typedef struct OnnxUnknownOp {
  char name[128]; /* the op_type, domain.op_type outside the default domain, or "(no op_type)" */
  int count;      /* how many nodes have it */
  size_t first;   /* the index of the first of them in the graph's node list */
} OnnxUnknownOp;

/* The distinct op types of g's nodes that the importer refuses (known() does not hold for them, they are not
 * lowered at import, or their domain is not the default one), in order of first use; malloc'd, *n entries.
 * NULL with *n = -1 when out of memory. */
OnnxUnknownOp *onnx_unknown_ops(const Onnx__GraphProto *g, int (*known)(const char *op_type), int *n);

/* ---- onnx_import.c / onnx_nodes.c ---- */

/* State of one onnx_import() call. */
typedef struct ImportCtx {
  const char *file;
  Diag *d;
  Graph *g;
  const Onnx__GraphProto *gp;
  const ImportOptions *opt;
  int64_t opset;
  NameMap values; /* value name -> Value* */
  ExternalFiles *external; /* the files of external-data initializers and Constant values (Graph.release frees them) */
  const MappedFile *model_file; /* the mapped model when initializers' raw_data point into it, else NULL */
  int batch_pinned; /* inputs whose symbolic first dim --batch pinned */
  const char *batch_fixed_input; /* the first input whose model-fixed first dim differs from --batch */
  int64_t batch_fixed_dim;
} ImportCtx;

/* Creates a value under a name not used before; errors on duplicates. */
Value *import_value(ImportCtx *c, const char *name, ValueKind kind);

/* Refuses a graph with nodes the importer cannot take (op types outside the op table, other domains), naming
 * every such op type in one error with its node count and first node. 0 when there are none. */
int import_check_ops(ImportCtx *c);
/* Converts every node (Constant nodes to VK_CONST values) in topological order. */
int import_nodes(ImportCtx *c);

#endif
