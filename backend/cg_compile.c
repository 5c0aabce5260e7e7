/* cg_compile: plan -> LLVM IR (one emitter per node) -> passes -> object ->
 * shared library + header. Files are written under temporary names and
 * renamed at the end; on any error every temporary is removed. */
#include "cg_ctx.h"
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The emitter of each op, indexed by OpKind. */
static const CgEmitFn cg_emitters[OP_COUNT] = {
#define OP(ID, name, ...) [OP_##ID] = cg_emit_##name,
#include "ops.def"
#undef OP
};

/* Every path cg_compile writes; NULL where a kind of output does not use one. */
typedef struct CgFiles {
  char *out_tmp, *obj_tmp;  /* the output under a temporary name; the object before linking */
  char *stub_tmp;           /* so: the stand-in weights object it is first linked with */
  char *blob_tmp, *blob;    /* the weights (an ELF object for so and obj, raw bytes for asm and llvm), and
                               its final name when it is kept (asm, llvm) */
  char *blob_ref;           /* the absolute path .incbin reads (asm, llvm) */
  char *hdr_tmp, *hdr;
} CgFiles;

/* Seconds on a monotonic clock. */
static double cg_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A malloc'd formatted string; NULL when out of memory. */
static char *cg_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *cg_strf(const char *fmt, ...) {
  char *s = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&s, fmt, ap) < 0) s = NULL;
  va_end(ap);
  return s;
}

/* The absolute form of path (its directory must exist), malloc'd. */
static char *cg_abs_path(const char *path) {
  char dir[PATH_MAX];
  const char *slash = strrchr(path, '/');
  char *d = slash ? strndup(path, slash > path ? (size_t)(slash - path) : 1) : strdup(".");
  char *r = d ? realpath(d, dir) : NULL;
  free(d);
  if (!r) return NULL;
  return cg_strf("%s%s%s", dir, strcmp(dir, "/") ? "/" : "", slash ? slash + 1 : path);
}

/* Whether the weights go into an ELF object linked with the code (so, obj), else raw bytes (asm, llvm). */
static int cg_weights_object(const CompileOptions *o) { return o->emit == CG_EMIT_SO || o->emit == CG_EMIT_OBJ; }

/* Chooses the temporary and final names for options o: OUT.tmpPID, OUT.tmpPID.o (the code, so and obj),
 * OUT.weights.tmpPID (renamed to OUT.weights for asm and llvm when there are weights), BASE.h.tmpPID. */
static int cg_files(const CompileOptions *o, CgFiles *f, Diag *d) {
  long pid = (long)getpid();
  int keep_blob = !cg_weights_object(o);
  int ok = (f->out_tmp = cg_strf("%s.tmp%ld", o->output, pid)) != NULL;
  if (ok && cg_weights_object(o)) ok = (f->obj_tmp = cg_strf("%s.tmp%ld.o", o->output, pid)) != NULL;
  if (ok && o->emit == CG_EMIT_SO) ok = (f->stub_tmp = cg_strf("%s.stub.tmp%ld.o", o->output, pid)) != NULL;
  if (ok && cg_weights_object(o))
    ok = (f->hdr = cg_header_path(o->output)) && (f->hdr_tmp = cg_strf("%s.tmp%ld", f->hdr, pid));
  ok = ok && (f->blob_tmp = cg_strf("%s.weights.tmp%ld", o->output, pid)) != NULL;
  if (ok && keep_blob) {
    ok = (f->blob = cg_strf("%s.weights", o->output)) != NULL;
    if (ok && !(f->blob_ref = cg_abs_path(f->blob)))
      return ir_error(d, o->output, NULL, "cannot resolve the output directory");
  }
  return ok ? 0 : ir_error(d, NULL, NULL, "out of memory");
}

/* Removes the temporaries (after success only those not renamed remain) and frees the names. */
static void cg_files_free(CgFiles *f) {
  char *tmps[] = {f->out_tmp, f->obj_tmp, f->stub_tmp, f->blob_tmp, f->hdr_tmp};
  for (size_t i = 0; i < sizeof tmps / sizeof tmps[0]; i++)
    if (tmps[i]) unlink(tmps[i]);
  free(f->out_tmp), free(f->obj_tmp), free(f->stub_tmp), free(f->blob_tmp), free(f->blob), free(f->blob_ref);
  free(f->hdr_tmp), free(f->hdr);
}

/* Reports the start of a stage to the caller's progress hook. */
static void cg_stage(const CompileOptions *o, const char *stage) {
  if (o->progress) o->progress(o->progress_ctx, stage);
}

/* Renames from into to, or fills d. */
static int cg_rename(const char *from, const char *to, Diag *d) {
  if (rename(from, to) == 0) return 0;
  return ir_error(d, to, NULL, "cannot rename %s into place", from);
}

/* Runs every node's emitter in graph order. */
static int cg_emit_nodes(CgCtx *c, Diag *d) {
  if (c->opt->profile) cg_profile_mark(c, NULL, d); /* start the clock */
  for (int i = 0; i < c->g->n_nodes; i++) {
    if (c->plan.skip[i]) continue;
    if (cg_emitters[c->g->nodes[i]->op](c, c->g->nodes[i], d)) return -1;
    if (c->opt->profile && cg_profile_mark(c, c->g->nodes[i], d)) return -1;
  }
  return 0;
}

/* Appends the weights directive to the assembly output. */
static int cg_append_weights(const CgCtx *c, const CgFiles *f, Diag *d) {
  char *text = cg_weights_asm(c, c->blob.bytes ? f->blob_ref : NULL);
  FILE *fp = text ? fopen(f->out_tmp, "a") : NULL;
  int ok = fp && fputs(text, fp) >= 0;
  if (fp && fclose(fp) != 0) ok = 0;
  free(text);
  return ok ? 0 : ir_error(d, f->out_tmp, NULL, "cannot write the assembly");
}

/* Links the shared library: with the stand-in weights, then attaches the real ones (cg_attach.c), unless
 * they are no bigger than the stand-in or the linked layout is not the expected one. */
static int cg_link_so(const CgCtx *c, const CompileOptions *o, const CgFiles *f, Diag *d) {
  int huge = cg_blob_huge(c->blob.bytes);
  if (c->blob.bytes > CG_BLOB_STUB_BYTES) {
    char why[160];
    if (cg_blob_write_stub(&c->blob, f->stub_tmp, d) || cg_link(o, f->obj_tmp, f->stub_tmp, huge, f->out_tmp, d))
      return -1;
    int rc = cg_attach_weights(f->out_tmp, f->blob_tmp, c->blob.bytes, why, sizeof why, d);
    if (rc <= 0) return rc;
    if (o->verbose) fprintf(stderr, "vitc: compile: %s; linking the weights object instead\n", why);
  }
  return cg_link(o, f->obj_tmp, f->blob_tmp, huge, f->out_tmp, d);
}

/* Writes the final outputs from the finished module and renames them into place. */
static int cg_finish(CgCtx *c, const CompileOptions *o, CgFiles *f, Diag *d, double *t_opt, double *t_cg) {
  double t0 = cg_now();
  cg_stage(o, "optimizing LLVM IR");
  if (cg_optimize(c, o->opt_level, d)) return -1;
  double t1 = cg_now();
  *t_opt = t1 - t0;
  cg_stage(o, o->emit == CG_EMIT_SO ? "generating machine code and linking" : "writing the output");
  if (cg_weights_object(o)) {
    if (cg_emit_file(c, CG_EMIT_OBJ, f->obj_tmp, d)) return -1;
    LLVMDisposeModule(c->mod); /* what the linker runs beside is this process's memory too */
    c->mod = NULL;
    if (o->emit == CG_EMIT_SO ? cg_link_so(c, o, f, d) : cg_link_objects(o, f->obj_tmp, f->blob_tmp, f->out_tmp, d))
      return -1;
  } else if (cg_emit_file(c, o->emit, f->out_tmp, d) || (o->emit == CG_EMIT_ASM && cg_append_weights(c, f, d))) {
    return -1;
  }
  *t_cg = cg_now() - t1;
  if (f->hdr && cg_write_header(c, f->hdr_tmp, d)) return -1;
  if (f->blob && c->blob.bytes && cg_rename(f->blob_tmp, f->blob, d)) return -1;
  if (cg_rename(f->out_tmp, o->output, d)) return -1;
  if (f->hdr && cg_rename(f->hdr_tmp, f->hdr, d)) {
    unlink(o->output);
    return -1;
  }
  return 0;
}

/* Fails unless the directory that will hold output exists and is writable. */
static int cg_check_output_dir(const char *output, Diag *d) {
  const char *slash = strrchr(output, '/');
  char *dir = slash ? strndup(output, slash > output ? (size_t)(slash - output) : 1) : strdup(".");
  int ok = dir && access(dir, W_OK | X_OK) == 0;
  free(dir);
  if (!ok) return ir_error(d, output, NULL, "cannot write to the output's directory");
  for (const char *p = output; *p; p++) /* the path ends up in an assembler string */
    if ((unsigned char)*p < 0x20) return ir_error(d, output, NULL, "control characters in the output path");
  return 0;
}

static int cg_emit_variant(CgCtx *c, int t, int k, Diag *d);

/* Forgets the cached kernels (each target gets its own). */
static void cg_kernels_reset(CgCtx *c) {
  for (int i = 0; i < c->n_kernels; i++) free(c->kernels[i].key);
  c->n_kernels = 0;
}

/* Plans and emits the run function of every variant, for every target (c->g is the largest batch afterwards). */
static int cg_emit_variants(CgCtx *c, Diag *d) {
  for (int t = 0; t < c->n_targets; t++) {
    cg_target_use(c, t);
    cg_kernels_reset(c);
    LLVMValueRef last = LLVMGetLastFunction(c->mod);
    for (int k = 0; k < c->n_variants; k++)
      if (cg_emit_variant(c, t, k, d)) return -1;
    cg_target_mark(c, last);
  }
  cg_target_use(c, c->base);
  return 0;
}

/* Plans and emits batch variant k for the current target t. */
static int cg_emit_variant(CgCtx *c, int t, int k, Diag *d) {
  c->g = c->variants[k];
  cg_plan_free(&c->plan);
  if (cg_plan(c->g, &c->plan, d) || cg_run_begin(c, t * c->n_variants + k, d) || cg_emit_nodes(c, d) ||
      cg_module_outputs(c, d))
    return -1;
  cg_run_end(c);
  if (c->plan.workspace_bytes > c->workspace_bytes) c->workspace_bytes = c->plan.workspace_bytes;
  if (c->opt->verbose && c->n_variants > 1 && t == 0) /* the plan is the same for every target */
    fprintf(stderr, "vitc: compile: batch %lld: workspace %llu bytes\n", (long long)cg_graph_batch(c->g),
            (unsigned long long)c->plan.workspace_bytes);
  return 0;
}

/* Everything between the plan and the files; c is torn down by the caller. */
static int cg_compile_ctx(CgCtx *c, const CompileOptions *o, CgFiles *f, Diag *d) {
  double t0 = cg_now(), t_opt = 0, t_cg = 0;
  if (cg_check_output_dir(o->output, d)) return -1;
  cg_stage(o, "planning memory and emitting kernels");
  c->ctx = LLVMContextCreate();
  cg_diagnostics(c);
  if (cg_target_create(c, o, d) || cg_files(o, f, d) ||
      cg_blob_open(&c->blob, f->blob_tmp, cg_weights_object(o), c->n_variants * c->n_targets > 1, d) ||
      cg_module_begin(c, d) || cg_emit_variants(c, d))
    return -1;
  for (int k = 0; k < c->n_variants; k++) ir_graph_evict(c->variants[k]); /* packed: only LLVM's memory from here */
  /* LLVM IR output pulls the raw weights in with module assembly; assembly output gets the directive
   * appended as text (LLVM would print the bytes); so and obj link the weights object. */
  if (cg_module_end(c, o->emit == CG_EMIT_LLVM, c->blob.bytes ? f->blob_ref : NULL, d) || cg_blob_close(&c->blob, d))
    return -1;
  double t1 = cg_now();
  if (cg_finish(c, o, f, d, &t_opt, &t_cg)) return -1;
  if (o->verbose)
    fprintf(stderr,
            "vitc: compile: %d nodes, %d kernels, workspace %llu bytes, weights %llu bytes; "
            "lower %.1f ms, optimize %.1f ms, codegen+link %.1f ms\n",
            c->g->n_nodes, c->n_kernels, (unsigned long long)c->workspace_bytes,
            (unsigned long long)c->blob.bytes, (t1 - t0) * 1e3, t_opt * 1e3, t_cg * 1e3);
  return 0;
}

/* Frees everything the context holds. */
static void cg_ctx_free(CgCtx *c) {
  if (c->b) LLVMDisposeBuilder(c->b);
  if (c->rb) LLVMDisposeBuilder(c->rb);
  if (c->mod) LLVMDisposeModule(c->mod);
  if (c->td) LLVMDisposeTargetData(c->td);
  if (c->tm) LLVMDisposeTargetMachine(c->tm);
  if (c->ctx) LLVMContextDispose(c->ctx);
  for (int i = 0; i < c->n_kernels; i++) free(c->kernels[i].key);
  free(c->kernels);
  free(c->key);
  for (int t = 0; t < c->n_targets; t++) {
    free(c->targets[t].cpu);
    free(c->targets[t].llvm_features);
    free(c->targets[t].features);
  }
  free(c->value_ptr);
  free(c->weight_offset);
  free(c->variant_fn);
  free(c->prof);
  cg_blob_free(&c->blob);
  cg_plan_free(&c->plan);
}

/* Compiles the variants gs[0..n) into one model. */
static int cg_compile_all(const Graph *const *gs, int n, int dynamic, const CompileOptions *o, Diag *d) {
  if (!o->output || !*o->output) return ir_error(d, NULL, NULL, "compile: no output file");
  if (o->opt_level < 0 || o->opt_level > 3) return ir_error(d, NULL, NULL, "compile: -O%d is not 0..3", o->opt_level);
  char *target = ir_output_path(o->output, d); /* a link is written through; a device is refused */
  if (!target) return -1;
  CompileOptions ot = *o;
  ot.output = target;
  o = &ot;
  const char *saved = d->file;
  d->file = gs[0]->file;
  CgCtx c = {.g = gs[0], .variants = gs, .n_variants = n, .dynamic_batch = dynamic, .opt = o, .d = d};
  CgFiles f = {0};
  int rc = cg_compile_ctx(&c, o, &f, d);
  free(target);
  cg_files_free(&f);
  cg_ctx_free(&c);
  d->file = saved;
  return rc;
}

int cg_compile(const Graph *g, const CompileOptions *o, Diag *d) { return cg_compile_all(&g, 1, 0, o, d); }

int cg_compile_batches(const Graph *const *gs, int n, const CompileOptions *o, Diag *d) {
  if (n < 1 || n > 16) return ir_error(d, NULL, NULL, "compile: %d batch variants (1 to 16)", n);
  return cg_compile_all(gs, n, 1, o, d);
}
