/* The backend: lowers a verified Graph to LLVM IR (one kernel function per
 * distinct op signature), optimizes it, emits an object for the target CPU
 * and links it with the runtime into a shared library. */
#ifndef VITC_CG_H
#define VITC_CG_H

#include "ir.h"

typedef enum CgEmitKind {
  CG_EMIT_SO,   /* shared library + model.h (default) */
  CG_EMIT_OBJ,  /* relocatable object + model.h; link it with libvitc_rt.a yourself */
  CG_EMIT_ASM,  /* assembly; .incbin's OUTPUT.weights, which is kept */
  CG_EMIT_LLVM, /* LLVM IR text after optimization; also keeps OUTPUT.weights */
} CgEmitKind;

typedef struct CompileOptions {
  const char *output;      /* the file to write (model.so, model.o, model.s, model.ll) */
  const char *target_cpu;  /* NULL or "native": the host CPU and its features; else an LLVM CPU name */
  int opt_level;           /* 0..3, for both the IR pipeline and code generation */
  CgEmitKind emit;
  const char *runtime_lib; /* libvitc_rt.a to link; NULL: $VITC_RUNTIME_LIB, the build's, or next to vitc */
  const char *cc;          /* linker driver; NULL: $CC or "cc" */
  int verbose;             /* print the time of each stage and the kernel count to stderr */
  const char *prefix;      /* the entry points' prefix, a C identifier; NULL: "vitc" */
  int64_t max_batch;       /* cg_compile_batches: the largest batch a run accepts, 0 for any */
  int profile;             /* time every node (rt_profile_mark after each; P_session_profile reads them) */
  /* Called as each backend stage starts ("planning memory", ...); NULL: silent. */
  void (*progress)(void *ctx, const char *stage);
  void *progress_ctx;
} CompileOptions;

/* Compiles g into o->output (and, for CG_EMIT_SO and CG_EMIT_OBJ, a header
 * with the output's base name and ".h" next to it). Writes go to temporary
 * names renamed at the end, so nothing half-written is left on error.
 * 0, or -1 with d filled. */
int cg_compile(const Graph *g, const CompileOptions *o, Diag *d);

/* A dynamic-batch model: gs[k] is the graph pinned to batch 2^k (n >= 1 of them, every input and output with
 * the batch as its first dim, the rest equal); one run function each, one weights blob shared by all. A run
 * of any batch is split into runs of these (runtime/rt_session.c). */
int cg_compile_batches(const Graph *const *gs, int n, const CompileOptions *o, Diag *d);

/* Checks a --target-cpu value (NULL, native, portable, LLVM CPU names, comma lists); -1 with d filled. */
int cg_check_target_cpu(const char *spec, Diag *d);

/* The path of the header written next to output ("dir/model.so" -> "dir/model.h"), malloc'd. */
char *cg_header_path(const char *output);

#endif
