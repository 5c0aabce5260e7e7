/* Private to the backend: the memory plan, the code generation context, the
 * builder helpers kernels are written with, and one emitter per op. */
#ifndef VITC_CG_CTX_H
#define VITC_CG_CTX_H

#include "cg.h"
#include "cg_blob.h"
#include "passes.h"
#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#define CG_VW 16            /* lanes of the vectors kernels compute with */
#define CG_MAX_ARGS (IR_MAX_INPUTS + IR_MAX_OUTPUTS)
#define CG_PAR_MIN_WORK (1 << 16) /* elements below which a kernel stays on one thread */
#define CG_ALIGN 64

/* ---- memory plan (cg_plan.c) ---- */

typedef enum CgLocKind {
  CG_LOC_NONE,      /* not needed at run time (an input of a node that is skipped) */
  CG_LOC_INPUT,     /* the caller's input buffer `index` */
  CG_LOC_OUTPUT,    /* the caller's output buffer `index` */
  CG_LOC_WORKSPACE, /* workspace + offset */
  CG_LOC_WEIGHTS,   /* a constant: weights blob + an offset given when first used */
} CgLocKind;

/* Where a value's data lives. Values a layout op aliases share their root's place. */
typedef struct CgLoc {
  CgLocKind kind;
  int64_t index;      /* buffer index or byte offset */
  const Value *root;  /* the value that owns the storage (itself unless aliased) */
} CgLoc;

typedef struct CgPlan {
  CgLoc *loc;              /* by Value.id */
  unsigned char *skip;     /* by node index: the node does not run (plan_node_runs) */
  int64_t *scratch;        /* by node index: workspace offset of the node's scratch, -1 when it has none */
  uint64_t workspace_bytes;
} CgPlan;

/* Places every value from the one memory plan (plan_memory_compute with
 * cg_scratch_bytes): inputs and outputs in the caller's buffers, known
 * values in the weights blob, layout ops as views, the rest in the workspace. */
int cg_plan(const Graph *g, CgPlan *p, Diag *d);
void cg_plan_free(CgPlan *p);
/* Whether v's storage is another value's (so a layout op producing it moves nothing). */
int cg_plan_is_alias(const CgPlan *p, const Value *v);
/* Bytes of scratch memory node n needs while it runs (0 for most ops): the
 * plan gives it a block live during n only (so it overlaps none of n's
 * operands). Per op, from the op's emitter file; each equals
 * plan_scratch_bytes(n), the size `vitc ir --stats` plans with. */
uint64_t cg_scratch_bytes(const Node *n);
uint64_t cg_scratch_attention(const Node *n);
uint64_t cg_scratch_linear(const Node *n);

/* ---- code generation context ---- */

typedef struct CgKernel {
  char *key;
  LLVMValueRef fn;
} CgKernel;

/* One CPU the model is compiled for (--target-cpu A,B: several, chosen at session creation). */
#define CG_MAX_TARGETS 4
typedef struct CgTarget {
  char *cpu;            /* LLVM CPU name (the host's for "native") */
  char *llvm_features;  /* "+avx2,..." for the host, "" for a named CPU (LLVM derives them) */
  char *features;       /* what the code needs, as the info records it (cg_cpu_features) */
  int host;
} CgTarget;

typedef struct CgCtx {
  const Graph *g;              /* the variant being compiled; the largest after the loop */
  const Graph *const *variants;/* the graphs compiled into one module: one batch each (one for a static model) */
  int n_variants;
  int dynamic_batch;           /* the info marks the batch dynamic */
  LLVMValueRef *variant_fn;    /* each variant's run function */
  uint64_t workspace_bytes;    /* the largest variant's */
  const CompileOptions *opt;
  Diag *d;
  CgPlan plan;
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMTargetMachineRef tm;
  LLVMTargetDataRef td;
  LLVMTypeRef t_void, t_i1, t_i8, t_i32, t_i64, t_f32, t_ptr;
  LLVMTypeRef t_task;          /* void (ptr arg, i64 begin, i64 end) */
  LLVMTypeRef t_parallel_for;  /* void (ptr ctx, i64 n, ptr task, ptr arg) */
  LLVMValueRef parallel_for;
  /* The run function, built with rb: straight-line calls of kernels. */
  LLVMValueRef run_fn;
  LLVMBuilderRef rb;
  LLVMValueRef run_ctx, run_inputs, run_outputs, run_workspace, run_weights;
  LLVMValueRef *value_ptr;     /* by Value.id: its address in the run function, once computed */
  /* The weights blob: constants' data and transformed copies (packed weights), written to its file as
   * they are placed (cg_blob.h); blob.bytes is its size. */
  CgBlob blob;
  int64_t *weight_offset;      /* by Value.id, -1 until placed */
  /* Kernels, cached by key. */
  CgKernel *kernels;
  int n_kernels, cap_kernels;
  /* The kernel being built, with b: its ctx and pointer arguments. */
  LLVMBuilderRef b;
  LLVMValueRef kernel;         /* the kernel's entry function */
  LLVMValueRef fn;             /* the function being built: the kernel or its task */
  LLVMValueRef kctx;           /* the kernel's VitcRunCtx pointer */
  LLVMValueRef args[CG_MAX_ARGS];
  int n_args;
  char *key;                   /* the kernel's cache key (malloc'd until cached) */
  char llvm_error[512];        /* the first error LLVM reported through the diagnostic handler */
  CgTarget targets[CG_MAX_TARGETS];
  int n_targets, base, cur_target; /* base: the target that needs least (the .so's requirement) */
  const char *cpu_name;        /* the current target's CPU and features (targets[cur_target]) */
  const char *cpu_features;
  char target_list[320];       /* "cpu1,cpu2" (cg_target_list) */
  /* --profile: one slot per (variant, node that runs), in emission order. */
  struct CgProfSlot {
    const Node *node;
    int64_t batch;
  } *prof;
  int n_prof, cap_prof;
  LLVMValueRef prof_mark;      /* rt_profile_mark */
} CgCtx;

/* ---- module (cg_module.c) ---- */

/* --profile: a call of rt_profile_mark in the run function after node n (a new slot), or, for n NULL,
 * the one that starts the clock. */
int cg_profile_mark(CgCtx *c, const Node *n, Diag *d);
/* The batch of a compiled graph: the first dim of its first input (1 without one). */
int64_t cg_graph_batch(const Graph *g);
/* The entry points' prefix: --prefix, or "vitc". */
const char *cg_prefix(const CompileOptions *o);
/* The targets' CPU names, comma-separated (what the info's target_cpu says). */
const char *cg_target_list(CgCtx *c);

/* Creates the module for tm: types, rt_parallel_for. */
int cg_module_begin(CgCtx *c, Diag *d);
/* Starts variant k's run function (vitc_generated_run_K) for c->g; cg_run_end finishes it. */
int cg_run_begin(CgCtx *c, int k, Diag *d);
void cg_run_end(CgCtx *c);
/* Copies the graph outputs no node wrote in place (inputs, constants,
 * repeats); the last step that can place constants in the blob. */
int cg_module_outputs(CgCtx *c, Diag *d);
/* Adds the info global, the variants table, the entry points and (when
 * weights_asm: the blob is raw bytes at blob_path) the weights symbol as module assembly, and verifies the
 * module. */
int cg_module_end(CgCtx *c, int weights_asm, const char *blob_path, Diag *d);
/* Assembly defining the hidden symbol `vitc_weights`: 64-byte aligned,
 * read-only, `.incbin` of blob_path (64 zero bytes when NULL); malloc'd. */
char *cg_weights_asm(const CgCtx *c, const char *blob_path);
/* v's address inside the run function (places constants in the blob on first use). */
LLVMValueRef cg_value_ptr(CgCtx *c, const Value *v, Diag *d);
/* Whether v is a constant whose data the compiler holds (weights to pack or transform at compile time). */
int cg_value_is_const(const CgCtx *c, const Value *v);
/* Writes `bytes` bytes of malloc'd data (a transformed copy of a constant, such as packed weights) to the
 * blob, 64-byte aligned, and frees data (also on error); its offset, or -1 with d filled. */
int64_t cg_weights_add(CgCtx *c, void *data, uint64_t bytes, Diag *d);
/* The address of blob offset off, for the run function. */
LLVMValueRef cg_weights_ptr(CgCtx *c, int64_t off);
/* The address of node n's scratch block (see cg_scratch_bytes), for the run function. */
LLVMValueRef cg_scratch_ptr(CgCtx *c, const Node *n, Diag *d);

/* ---- CPU features (cg_cpu.c) ---- */

/* The comma-separated instruction sets (runtime/rt_cpu.c's names) that code for cpu needs: from LLVM's
 * "+a,-b" list for the host, else from vitc's table of named CPUs; malloc'd. */
char *cg_cpu_features(const char *cpu, const char *llvm_features);

/* ---- target, optimization, output (cg_target.c) ---- */

/* Routes LLVM's diagnostics on c->ctx into c->llvm_error. */
void cg_diagnostics(CgCtx *c);
/* Parses o->target_cpu into c->targets (NULL or "native": the host; "portable"; a comma list) and creates
 * c->tm for the one that needs least. */
int cg_target_create(CgCtx *c, const CompileOptions *o, Diag *d);
/* Makes target t the one kernels are generated for (c->cpu_name, c->cpu_features). */
void cg_target_use(CgCtx *c, int t);
/* Gives every function defined after `first` (all when NULL) the current target's CPU attributes. */
void cg_target_mark(CgCtx *c, LLVMValueRef first);
/* Runs the pipeline "default<O{opt_level}>" of the new pass manager. */
int cg_optimize(CgCtx *c, int opt_level, Diag *d);
/* Writes the module to path as an object, assembly, or LLVM IR text. */
int cg_emit_file(CgCtx *c, CgEmitKind kind, const char *path, Diag *d);

/* ---- linking and files (cg_link.c, cg_header.c) ---- */

/* Links the code object and the weights object (cg_blob.h) into a shared library at so_path with the
 * runtime library; huge (cg_blob_huge): with a 2 MiB max page size, so the weights keep their 2 MiB
 * alignment in the file and in memory. */
int cg_link(const CompileOptions *o, const char *object, const char *weights, int huge, const char *so_path, Diag *d);
/* Attaches `bytes` of weights from the weights object at `weights` to the shared library `so` linked with
 * the stand-in (cg_blob_write_stub; cg_attach.c): 0; 1 when the library's layout is not the expected one
 * (why says what; nothing was changed: link the weights object instead); -1 on an I/O error (d filled). */
int cg_attach_weights(const char *so, const char *weights, uint64_t bytes, char *why, size_t why_len, Diag *d);
/* Joins the code object and the weights object into one relocatable object at out (`cc -r`). */
int cg_link_objects(const CompileOptions *o, const char *object, const char *weights, const char *out, Diag *d);
/* Writes the model header (ABI declarations, inputs, outputs, sizes) to path. */
int cg_write_header(const CgCtx *c, const char *path, Diag *d);

/* ---- kernels (cg_kernel.c) ---- */

/* The cached kernel for key, or NULL when it is not built yet. */
LLVMValueRef cg_kernel_find(CgCtx *c, const char *key);
/* Starts `void @k.KEY(ptr ctx, ptr a0, ... a{n_args-1})` and points c->b at
 * its entry; c->args[i] are the pointers (node inputs, then outputs). The key
 * must spell out everything the code depends on (op, attributes, dtypes,
 * shapes): nodes with equal keys share the function. */
LLVMValueRef cg_kernel_begin(CgCtx *c, const char *key, int n_args, Diag *d);
/* Returns from the function being built and caches the kernel. */
void cg_kernel_end(CgCtx *c);
/* Moves the rest of the kernel into a task over [0, n) run by rt_parallel_for
 * when n * work_per_item reaches CG_PAR_MIN_WORK (else called directly);
 * c->args are reloaded inside the task and *begin, *end are its range. */
void cg_kernel_parallel(CgCtx *c, int64_t n, int64_t work_per_item, LLVMValueRef *begin, LLVMValueRef *end);
/* Calls kernel fn from the run function with n's first n_in inputs (NULL
 * for absent ones), then all its outputs. */
int cg_kernel_call(CgCtx *c, LLVMValueRef fn, const Node *n, int n_in, Diag *d);
/* Calls kernel fn from the run function with the run context and args[0..n). */
void cg_kernel_call_args(CgCtx *c, LLVMValueRef fn, LLVMValueRef *args, int n);
/* Appends "f32_1x197x192" for t to buf (at offset *len, capacity cap); a
 * key that does not fit leaves *len >= cap, which callers must reject. */
void cg_key_tensor(char *buf, size_t cap, size_t *len, const Tensor *t);

/* ---- builder helpers (cg_loop.c) ---- */

/* A counted loop `for (iv = begin; iv < end; iv += step)` in i64. */
typedef struct CgLoop {
  LLVMValueRef iv;
  LLVMBasicBlockRef header, exit;
  int64_t step;
} CgLoop;
CgLoop cg_loop_begin(CgCtx *c, LLVMValueRef begin, LLVMValueRef end, int64_t step);
void cg_loop_end(CgCtx *c, CgLoop *l);
/* `if (cond) {` ... cg_if_end closes it; returns the block to continue in. */
LLVMBasicBlockRef cg_if_begin(CgCtx *c, LLVMValueRef cond);
void cg_if_end(CgCtx *c, LLVMBasicBlockRef cont);

LLVMValueRef cg_i64(CgCtx *c, int64_t v);
/* &array[i] for an array of pointers, built with builder b. */
LLVMValueRef cg_ptr_slot(CgCtx *c, LLVMBuilderRef b, LLVMValueRef array, int64_t i);
LLVMTypeRef cg_elem_type(CgCtx *c, DType t);   /* float, i64, i32, i8 (bool) */
LLVMTypeRef cg_vec_type(CgCtx *c, DType t);    /* <CG_VW x elem> */
/* &base[idx] for elements of dtype t. */
LLVMValueRef cg_gep(CgCtx *c, DType t, LLVMValueRef base, LLVMValueRef idx);
/* Loads / stores CG_VW elements at p; with a mask (see cg_tail_mask) only the enabled lanes. */
LLVMValueRef cg_load_vec(CgCtx *c, DType t, LLVMValueRef p, LLVMValueRef mask);
void cg_store_vec(CgCtx *c, DType t, LLVMValueRef p, LLVMValueRef v, LLVMValueRef mask);
/* CG_VW floats of the row at `row`, lane l from column idx[l] = first + l * stride (idx: <CG_VW x i64>),
 * only where mask is set (fill elsewhere): one masked load when stride is 1; for strides 2 to CG_MAX_LOAD_STRIDE
 * `stride` masked loads of the consecutive columns from `first` (only the columns of enabled lanes) and
 * shuffles that keep every stride-th; else a gather. Conv and pooling read their input taps this way. */
#define CG_MAX_LOAD_STRIDE 4
LLVMValueRef cg_load_cols(CgCtx *c, LLVMValueRef row, LLVMValueRef first, LLVMValueRef idx, int64_t stride,
                          LLVMValueRef mask, LLVMValueRef fill);
/* <CG_VW x i1> with lane i set when i < remaining (an i64). */
LLVMValueRef cg_tail_mask(CgCtx *c, LLVMValueRef remaining);
/* A vector with every lane equal to the scalar s. */
LLVMValueRef cg_splat(CgCtx *c, LLVMValueRef s);
/* A call of the overloaded intrinsic `name` (e.g. "llvm.sqrt") on types tys. */
LLVMValueRef cg_intrinsic(CgCtx *c, const char *name, LLVMTypeRef *tys, int n_tys, LLVMValueRef *args, int n_args);

/* ---- emitters: one per op, a missing one is a link error ---- */

typedef int (*CgEmitFn)(CgCtx *c, const Node *n, Diag *d);
#define OP(ID, name, ...) int cg_emit_##name(CgCtx *c, const Node *n, Diag *d);
#include "ops.def"
#undef OP

/* Computes one vector of the output from the operand vectors x[0..n_in) (NULL for an absent optional input). */
typedef LLVMValueRef (*CgElemFn)(CgCtx *c, const Node *n, LLVMValueRef *x);
/* A broadcasting elementwise kernel over static shapes for node n, named op. */
int cg_emit_elementwise(CgCtx *c, const Node *n, const char *op, CgElemFn f, Diag *d);
/* A kernel that copies `bytes` bytes from the node's input 0 to its output 0. */
int cg_emit_copy(CgCtx *c, const Node *n, Diag *d);

#endif
