/* vitc IR: SSA values with a dtype and a static shape, nodes with an op and
 * attributes, one graph in topological order. Everything a graph owns lives in
 * its arena and is freed at once by ir_graph_free(). */
#ifndef VITC_IR_H
#define VITC_IR_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#define IR_MAX_RANK 8
#define IR_MAX_INPUTS 64
#define IR_MAX_OUTPUTS 64

/* ---- diagnostics (ir/diag.c) ---- */

/* An error as a value: library code fills one and returns -1; only main prints. */
typedef struct Diag {
  int has_error;
  const char *file; /* used when ir_error() is passed file == NULL */
  int unsupported_dtype; /* the error is about a dtype vitc does not compute in */
  char msg[1024]; /* "vitc: error: FILE: node 'NAME' (OpType): what is wrong" */
} Diag;

struct Node;
/* Formats the message with whichever location parts are known (file, node);
 * returns -1 so callers can `return ir_error(...)`. Keeps the first error. */
int ir_error(Diag *d, const char *file, const struct Node *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- output paths (ir/outpath.c) ---- */

/* The file to write for output path (malloc'd): path, or the file a symbolic
 * link at path names; NULL with d filled when path exists as anything but a
 * regular file (device, FIFO, folder), which writing would destroy. */
char *ir_output_path(const char *path, Diag *d);
/* Whether paths a and b both exist and are the same file. */
int ir_same_file(const char *a, const char *b);

/* ---- arena (ir/arena.c) ---- */

typedef struct ArenaBlock ArenaBlock;
typedef struct Arena {
  ArenaBlock *head;
  size_t used_bytes;
} Arena;

void *arena_alloc(Arena *a, size_t size);               /* 64-byte aligned, zeroed; NULL when out of memory */
char *arena_strdup(Arena *a, const char *s);
/* Frees p's memory at once when p is a big allocation (over 64 KiB: a block of its own); returns whether it
 * did. Other allocations stay until arena_free_all. */
int arena_release(Arena *a, const void *p);
void arena_free_all(Arena *a);

/* ---- name map (ir/namemap.c) ---- */

/* Open-addressing hash map from borrowed C strings to non-NULL pointers; a
 * zeroed NameMap is an empty one. */
typedef struct NameMap {
  const char **keys;
  void **vals;
  size_t cap, n;
} NameMap;

int name_map_init(NameMap *m, size_t expected);        /* room for about `expected` keys; -1 when out of memory */
void *name_map_get(const NameMap *m, const char *key); /* NULL when absent */
/* 0 inserted, 1 key already present (left unchanged), -1 out of memory. */
int name_map_put(NameMap *m, const char *key, void *val);
void name_map_free(NameMap *m);                        /* the table, not the keys or values */

/* ---- dtypes and tensors (ir/tensor.c) ---- */

typedef enum DType {
  DT_UNDEF, /* not known yet, or an absent optional value */
  DT_F32,
  DT_I64,
  DT_I32,
  DT_BOOL, /* one byte per element, 0 or 1 */
  DT_COUNT
} DType;

const char *dt_name(DType t);          /* "f32", "i64", "i32", "bool" */
DType dt_from_name(const char *s);     /* DT_UNDEF when unknown */
size_t dt_size(DType t);               /* bytes per element */
DType dt_from_onnx(int onnx_type);     /* DT_UNDEF for types vitc does not compute in */
int dt_to_onnx(DType t);
const char *onnx_dtype_name(int onnx_type); /* "FLOAT16", "DOUBLE", ... for messages */

/* A dense row-major tensor. `data` is NULL when only the type is known. */
typedef struct Tensor {
  DType dtype;
  int rank;
  int64_t dims[IR_MAX_RANK];
  void *data;
} Tensor;

int64_t tensor_numel(const Tensor *t);
size_t tensor_bytes(const Tensor *t);
/* The largest tensor vitc handles: 2^40 bytes (1 TiB). Shape inference refuses anything larger, so every
 * element count and byte size after it fits in int64_t without overflow. */
#define IR_MAX_TENSOR_BYTES (1ull << 40)
/* Element count and bytes of t, overflow-checked: 0, -1 for a negative dim, -2 when the count overflows or
 * the size exceeds IR_MAX_TENSOR_BYTES. */
int tensor_size_checked(const Tensor *t, int64_t *numel, uint64_t *bytes);
int tensor_same_type(const Tensor *a, const Tensor *b); /* dtype and shape */
/* Reads element i of an integer or bool tensor as int64 (for shape arithmetic). */
int64_t tensor_get_i64(const Tensor *t, int64_t i);
/* 64-bit FNV-1a digest of the data, printed for large constants. */
uint64_t tensor_digest(const Tensor *t);
/* 64-bit FNV-1a over n bytes, continuing from h: the one byte hash of cse's keys, the backend's weight
 * pieces and tensor digests. IR_FNV1A_INIT is FNV's offset basis; IR_DIGEST_INIT, the seed digests have
 * always used (one digit short of it), stays because digests are written in IR text files. */
#define IR_FNV1A_INIT 0xcbf29ce484222325ull
#define IR_DIGEST_INIT 1469598103934665603ull
#define IR_FNV1A_PRIME 1099511628211ull
uint64_t ir_fnv1a(uint64_t h, const void *p, size_t n);
/* "f32[1,3,224,224]" into buf. */
char *tensor_type_str(const Tensor *t, char *buf, size_t n);

/* ---- ops (ir/ops.c), generated from ops.def ---- */

enum {
  OPF_ELEMWISE = 1 << 0,    /* output element i depends only on input elements i (after broadcast) */
  OPF_BINARY = 1 << 1,      /* two-input broadcasting elementwise op */
  OPF_UNARY = 1 << 2,       /* one-input elementwise op */
  OPF_COMMUTATIVE = 1 << 3, /* operands may be swapped */
  OPF_REDUCE = 1 << 4,      /* reduces over `axes` */
  OPF_LAYOUT = 1 << 5,      /* moves no data: output is the input reinterpreted */
  OPF_SHAPE_ONLY = 1 << 6,  /* reads only the input's shape, never its data */
};

typedef enum OpKind {
#define OP(ID, name, onnx, min_in, max_in, min_out, max_out, flags, attrs) OP_##ID,
#include "ops.def"
#undef OP
  OP_COUNT
} OpKind;

typedef struct OpInfo {
  const char *name;      /* IR spelling */
  const char *onnx_name; /* ONNX op_type, NULL for IR-only ops */
  int min_in, max_in, min_out, max_out;
  unsigned flags;
  const char *attrs;     /* accepted attributes, "name:kind ..." */
} OpInfo;

extern const OpInfo ir_ops[OP_COUNT];
int ir_op_from_name(const char *name);      /* -1 when unknown */
int ir_op_from_onnx(const char *op_type);   /* -1 when unknown */
/* Kind letters of attribute `attr` for `op` ("i", "f", "is", "fs", "s", "t"), NULL if not accepted. */
const char *ir_op_attr_kind(OpKind op, const char *attr, char *buf, size_t n);

/* ---- graph ---- */

typedef enum AttrKind { AT_INT, AT_FLOAT, AT_INTS, AT_FLOATS, AT_STRING, AT_TENSOR } AttrKind;

typedef struct Attr {
  const char *name;
  AttrKind kind;
  int64_t i;
  float f;
  int n;            /* element count of ints / floats */
  int64_t *ints;
  float *floats;
  const char *s;
  Tensor *t;        /* with data */
} Attr;

typedef enum ValueKind {
  VK_NODE,  /* produced by a node */
  VK_INPUT, /* graph input, fed at run time */
  VK_CONST, /* initializer or Constant: data always present */
} ValueKind;

typedef struct Node Node;

typedef struct Value {
  int id;           /* index in Graph.values */
  const char *name; /* unique in the graph */
  ValueKind kind;
  Tensor t;         /* type; t.data for VK_CONST, or a value shape inference worked out */
  int data_inferred;/* t.data was computed by shape inference (VK_NODE only) */
  Node *def;        /* producing node (VK_NODE) */
  /* Set by ir_parse for a `blob` constant (t.data NULL): the digest from the
   * text, so the constant prints back identically. */
  uint64_t digest;
  int has_digest;
} Value;

struct Node {
  OpKind op;
  const char *name;    /* ONNX node name, or a generated one; never NULL */
  int n_in, n_out;
  Value **in;          /* absent optional inputs are NULL */
  Value **out;
  int n_attrs;
  Attr *attrs;
  int removed;         /* set by ir_node_remove, dropped by ir_graph_compact */
};

/* One metadata entry; both strings live in the graph's arena. */
typedef struct MetaProp {
  const char *key, *value;
} MetaProp;

typedef struct Graph {
  Arena arena;
  const char *file;    /* for diagnostics */
  int64_t opset;       /* default-domain opset the model was exported with */
  Value **values; int n_values, cap_values;
  Node **nodes; int n_nodes, cap_nodes; /* topological order once verified */
  Value **inputs; int n_inputs;
  Value **outputs; int n_outputs;
  /* Releases what the graph borrows (the mapped model file, the protobuf message). */
  void (*release)(void *ctx);
  void *release_ctx;
  /* Gives the pages of what the graph borrows back to the system (the mapped files: read again from the
   * file if touched later); NULL when it borrows nothing. Same ctx. */
  void (*evict)(void *ctx);
  /* Model named in the text form's `graph "..."` header, set by ir_parse (file
   * is then the text file, for diagnostics); NULL: ir_print names `file`. */
  const char *source;
  /* The model's key/value metadata (ONNX metadata_props, IR `meta` lines), in
   * file order; vitc reads its image preprocessing from `vitc.*` keys
   * (docs/image.md) and a compiled model carries it in its info. */
  MetaProp *meta; int n_meta;
  /* Which value names are taken (ir_name_taken): an open-addressing table of values by name, malloc'd,
   * built on first use and dropped when values are renumbered; 0 slots when not built. */
  struct NameSlot *name_slot; int name_cap, name_used;
} Graph;

Graph *ir_graph_new(const char *file);  /* NULL when out of memory */
void ir_graph_free(Graph *g);
/* Calls g->evict: the compiler does once the weights are packed, so that the model's mapped pages (the
 * size of its weights) are not held through LLVM's code generation. */
void ir_graph_evict(const Graph *g);

/* Builders; all return NULL on allocation failure (and fill d). */
Value *ir_value_new(Graph *g, const char *name, ValueKind kind, Diag *d);
Value *ir_value_find(const Graph *g, const char *name);
/* Whether some value of g is named `name` (hashed: passes name new values in a loop). */
int ir_name_taken(Graph *g, const char *name);
/* Exchanges the names of a and b (the only way a pass renames a value, so the name index stays true). */
void ir_value_swap_names(Graph *g, Value *a, Value *b);
/* Drops the name index (after values were removed); the next ir_name_taken rebuilds it. */
void ir_names_forget(Graph *g);
/* For a taken name base, the counter of the next "_K" suffix ir_unique_name tries (1 at first; every
 * smaller one stays taken until values are removed, which drops the index and its counters); NULL when
 * base is not taken or the index could not be built. */
int *ir_name_next_suffix(Graph *g, const char *base);
Node *ir_node_new(Graph *g, OpKind op, const char *name, int n_in, int n_out, Diag *d);
int ir_graph_add_input(Graph *g, Value *v, Diag *d);
int ir_graph_add_output(Graph *g, Value *v, Diag *d);
/* Sets metadata key to value (copied; replaces an earlier value of the key). */
int ir_meta_set(Graph *g, const char *key, const char *value, Diag *d);
/* The value of metadata key, NULL when absent. */
const char *ir_meta_get(const Graph *g, const char *key);

/* Attributes. The getters return `def` when the attribute is absent. */
Attr *ir_attr_add(Graph *g, Node *n, const char *name, AttrKind kind, Diag *d);
const Attr *ir_attr_find(const Node *n, const char *name);
int64_t ir_attr_i(const Node *n, const char *name, int64_t def);
float ir_attr_f(const Node *n, const char *name, float def);
const char *ir_attr_s(const Node *n, const char *name, const char *def);
/* Copies ints into out (at most max); returns the count, or -1 when absent. */
int ir_attr_ints(const Node *n, const char *name, int64_t *out, int max);

/* ---- rewriting (ir/rewrite.c): what passes use to change a graph ---- */

/* A name not yet used in the graph, "base" or "base_N" (arena string). */
const char *ir_unique_name(Graph *g, const char *base, Diag *d);
/* A new constant value holding a copy of data (in the arena), zero-filled when data is NULL. */
Value *ir_const_new(Graph *g, const char *base_name, DType dt, int rank, const int64_t *dims,
                    const void *data, Diag *d);
/* Points every use of `from` (node inputs and graph outputs) at `to`. */
void ir_replace_uses(Graph *g, Value *from, Value *to);
/* Number of uses of each value, indexed by Value.id (graph outputs count as
 * one use each); malloc'd, NULL when out of memory. */
int *ir_use_counts(const Graph *g);
/* Marks a node for removal by the next ir_graph_compact. */
void ir_node_remove(Node *n);
/* Drops removed nodes, puts the nodes back in a stable topological order
 * (new nodes may have been appended anywhere), drops values nothing uses
 * (graph inputs stay) and renumbers value ids. -1 with d filled on a cycle. */
int ir_graph_compact(Graph *g, Diag *d);

/* ---- stages ---- */

/* Shape inference (ir/shape.c): sets every node output's type in order and
 * works out the values of small integer tensors (Shape, Gather, Concat ... on
 * shapes) so that Reshape, Expand, Slice and friends get static shapes. */
int ir_infer_shapes(Graph *g, Diag *d);
/* The number of elements of an integer Range (ceil((limit - start) / delta), at least 0), exact for any
 * int64 operands; -1 when delta is 0 or the count exceeds int64. */
int64_t ir_range_count_i64(int64_t start, int64_t limit, int64_t delta);
/* Conv's output size along one spatial axis (input in, kernel k, stride s,
 * dilation dil) under ONNX padding rules; *pb, *pe are the leading and
 * trailing pads, replaced by what auto_pad ("SAME_UPPER", ...) implies. */
int64_t ir_conv_out_dim(int64_t in, int64_t k, int64_t s, int64_t dil, const char *auto_pad, int64_t *pb, int64_t *pe);

/* ONNX Slice on one axis of size dim (ir/shape.c): a negative *start or end
 * counts from the end, then both are clamped ([0, dim] for step > 0; start to
 * [0, dim-1] and end to [-1, dim-1] for step < 0). Sets *start to the first
 * index read and returns the element count. */
int64_t ir_slice_axis(int64_t dim, int64_t *start, int64_t end, int64_t step);

/* ONNX Pad (ir/shape.c), shared by inference, the interpreter and the backend. */
typedef enum PadMode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP } PadMode;
/* Node n's `mode` (constant when absent); -1 with d filled for another. */
int ir_pad_mode(const Node *n, Diag *d);
/* The pads of every axis of x: begin[a] before, end[a] after (negative ones crop), from `pads` (2k i64
 * entries, all begins then all ends) over `axes` (k axes, may be negative; NULL: every axis in order);
 * -1 with d filled when they do not fit x. */
int ir_pad_amounts(const Node *n, const Tensor *x, const Tensor *pads, const Tensor *axes, int64_t *begin,
                   int64_t *end, Diag *d);
/* The input index that output index o reads along an axis of size dim with `begin` padded in front: -1 for
 * the constant (constant mode, outside the input); reflect mirrors without repeating the edge (numpy's
 * `reflect`, any number of times over), edge repeats it, wrap is periodic. dim > 0 unless mode is constant. */
int64_t ir_pad_source(int64_t o, int64_t begin, int64_t dim, PadMode mode);

/* AveragePool and MaxPool (ir/shape.c): 1-D pooling is 2-D with a first spatial axis of 1 (kernel 1,
 * stride 1, no pads), so index [0] is H and [1] is W either way. */
typedef struct PoolGeom {
  int dims;                                   /* spatial axes of the node: 1 or 2 */
  int64_t in[2], out[2], k[2], st[2], dl[2];  /* input and output sizes, kernel, strides, dilations */
  int64_t pb[2], pe[2];                       /* leading and trailing pads (after auto_pad) */
  int count_include_pad;                      /* AveragePool: padded taps count */
} PoolGeom;
/* The geometry of pooling node n on x ([N, C, W] or [N, C, H, W]) under ONNX's rules (auto_pad, ceil_mode:
 * a last window that starts in the trailing padding is dropped, as torch does); -1 with d filled. */
int ir_pool_geom(const Node *n, const Tensor *x, PoolGeom *g, Diag *d);
/* The taps of window o along axis a that an average divides by: those inside the input, or with
 * count_include_pad those inside the padded input. */
int64_t ir_pool_count(const PoolGeom *g, int a, int64_t o);

/* Resize (ir/shape_vision.c), shared by inference, the interpreter and the backend: the last two axes of x
 * (a rank-1 x is [1, W]) are resized separably, each output index along axis a reading taps[a] input indices
 * (already clamped into the input, as ONNX's edge padding does) with weights; the axes before them must
 * keep their size. Index [0] is H, [1] is W. */
typedef struct ResizeGeom {
  int64_t outer;           /* elements of the axes before the last two */
  int64_t in[2], out[2];   /* H and W of the input and of the output */
  int taps[2];             /* 1 (nearest), 2 (linear) or 4 (cubic) per axis */
  int64_t *idx[2];         /* out[a] x taps[a] input indices, by output index then tap; NULL without tables */
  double *w[2];            /* their weights */
  int rank;                /* x's rank */
  int64_t dims[IR_MAX_RANK]; /* the output's dims */
} ResizeGeom;
/* The geometry of Resize node n on x (scales or sizes must be known); with tables, the index and weight
 * tables are malloc'd (free them with ir_resize_free). -1 with d filled for what is not supported. */
int ir_resize_geom(const Node *n, const Tensor *x, ResizeGeom *g, int tables, Diag *d);
void ir_resize_free(ResizeGeom *g);

/* ArgMax, ArgMin, TopK: whether a beats b, the one order the interpreter and the backend
 * use. largest: a > b, or a is NaN and b is not (NaN is the largest, as in torch); smallest: a < b, or b is
 * NaN and a is not. Equal elements never beat each other, so the lower index wins a tie. */
static inline int ir_beats(double a, double b, int largest) {
  return largest ? (a > b || (a != a && b == b)) : (a < b || (b != b && a == a));
}
/* ArgMax (is_max) and ArgMin: a NaN beats any number in both, as numpy's and torch's argmax and argmin
 * return the first NaN. */
static inline int ir_arg_beats(double a, double b, int is_max) {
  return (is_max ? a > b : a < b) || (a != a && b == b);
}

/* Verifier (ir/verify.c): names, arity, attribute names and kinds,
 * topological order, and that every type matches what inference computes. */
int ir_verify(Graph *g, Diag *d);

/* Text form (ir/print.c, ir/parse.c). Constants with more than
 * IR_INLINE_MAX elements print as type + digest and parse back without data. */
#define IR_INLINE_MAX 16
#include <stdio.h>
void ir_print(const Graph *g, FILE *out);
char *ir_print_string(const Graph *g);  /* malloc'd */
Graph *ir_parse(const char *text, const char *file, Diag *d);

/* Floating-point operations of one execution of n (2 per multiply-add of linear, matmul, gemm, conv,
 * attention; 0 for other ops) (ir/flops.c). */
double ir_node_flops(const Node *n);

/* `op NAME COUNT` lines, one per op kind in table order. */
void ir_print_stats(const Graph *g, FILE *out);

/* Reference interpreter (ir/interp.c). inputs[i] binds g->inputs[i]
 * (types must match); outputs[i] receives malloc'd data for g->outputs[i]
 * (caller frees outputs[i].data). */
int ir_interpret(const Graph *g, const Tensor *inputs, Tensor *outputs, Diag *d);

/* ir_interpret that calls observe(ctx, node, inputs, outputs, d) after each
 * node has run (inputs and outputs still alive); a non-zero return stops the
 * run with that error. */
typedef int (*InterpObserver)(void *ctx, const Node *n, const Tensor *in, const Tensor *out, Diag *d);
int ir_interpret_observed(const Graph *g, const Tensor *inputs, Tensor *outputs, InterpObserver observe,
                          void *ctx, Diag *d);
/* The dims of an `attention` node (docs/ir.md): x [B, N, C]; self-attention w_qkv [C, 3E]; with the
 * query input q [Bq, M, E] (Bq 1 or B), w_qkv [C, 2E] (k | v) and M queries; without it M = N, Bq = B.
 * wcols is w_qkv's width (3E or 2E); bias_g, bias_h the score bias [G, H', M, N] (0, 0 without one). */
typedef struct AttnShape {
  int64_t b, n, c, e, heads, hd, m, bq, wcols, bias_g, bias_h;
  int cross; /* the query is input 4 */
} AttnShape;
/* Reads and checks n's operand shapes into *a (dtypes are not checked); NULL, or what is wrong. */
const char *ir_attention_shape(const Node *n, AttnShape *a);

/* The softmax probabilities [B, heads, M, N] of an `attention` node given the
 * inputs and output type it ran with (what an observer sees); probs holds
 * B*heads*M*N floats (M = N for self-attention). */
int ir_attention_probs(const Node *n, const Tensor *in, const Tensor *out, float *probs, Diag *d);

/* One node's kernel: in[i] are the inputs (dtype DT_UNDEF for absent ones),
 * out[j] have their types set and data allocated by the caller. */
typedef int (*InterpFn)(const Node *n, const Tensor *in, Tensor *out, Diag *d);
int ir_interp_node(const Node *n, const Tensor *in, Tensor *out, Diag *d);

/* ---- reduced precision (ir/precision.c, docs/precision.md) ----
 * A linear or attention node with attribute precision = "bf16" or "int8" multiplies operands rounded to
 * that format: bf16 rounds both to nearest-even bf16; int8 quantises the weights per output column
 * (symmetric, [-127, 127]) and each row of the activations (asymmetric, 0..127), sums as integers would
 * and scales back. Everything else in the node (bias, activation, residual, attention's q k^T, softmax
 * and p v) stays fp32. */
typedef enum Precision { PREC_FP32, PREC_BF16, PREC_INT8, PREC_INVALID } Precision;
#define IR_INT8_WEIGHT_MAX 127.0
#define IR_INT8_ACT_MAX 127.0
/* The longest int8 dot product whose int32 sum cannot overflow: K * 127 * 127 < 2^31 (K < 133145). */
#define IR_INT8_MAX_K 131072
Precision ir_precision_parse(const char *s); /* "fp32", "bf16", "int8"; else PREC_INVALID */
const char *ir_precision_name(Precision p);
Precision ir_node_precision(const Node *n); /* its "precision" attribute; fp32 when absent */
float ir_bf16_round(float x);               /* to the nearest bf16 (ties to even), as a float */
/* w [k, n] (n output columns) as the format holds it, into out (k * n floats). */
void ir_fake_quant_weights(const float *w, int64_t k, int64_t n, Precision p, float *out);
/* One row x [k] of activations as the format holds it, into out. */
void ir_fake_quant_row(const float *x, int64_t k, Precision p, float *out);
/* The integers behind int8 (what compiled kernels multiply; the fake-quantised values above are
 * q * scale and (q - zero) * scale, computed in float in this order): weights w [k, n] into q [k, n] and
 * scale [n]; one activation row x [k] into q [k] (0..127), its scale and zero point. */
void ir_quant_weights_int8(const float *w, int64_t k, int64_t n, int8_t *q, float *scale);
void ir_quant_row_int8(const float *x, int64_t k, uint8_t *q, float *scale, int32_t *zero);
/* The quantised copy of `rows` rows of k activations that a compiled bf16 or int8 product reads (the
 * backend's kernels, and the memory plan's scratch size): `steps` steps per row (k rounded up to 4 int8 or
 * 2 bf16 values, zero-padded), rows of row_words 32-bit words one after the other (int8: one word per
 * step; bf16: two, room for the values as floats, or as pairs in the first half); int8 then has (scale f32,
 * zero i32) per row from word rowq_off. bytes: the whole, a multiple of 64; all 0 for fp32. */
typedef struct QuantLayout {
  int64_t steps, row_words, rowq_off, bytes;
} QuantLayout;
QuantLayout ir_quant_layout(Precision p, int64_t rows, int64_t k);

#endif
