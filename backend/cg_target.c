/* The target machine (host triple; host or named CPU), the new pass manager
 * pipeline, and writing the module as an object, assembly or LLVM IR. */
#include "cg_ctx.h"
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies an LLVM error message into d (first line) and frees it. */
static int cg_llvm_error(Diag *d, const char *file, const char *what, char *msg) {
  char *nl = msg ? strchr(msg, '\n') : NULL;
  if (nl) *nl = 0;
  ir_error(d, file, NULL, "%s: %s", what, msg ? msg : "unknown LLVM error");
  LLVMDisposeMessage(msg);
  return -1;
}

/* Keeps the first error LLVM reports (for example from module assembly), which
 * would otherwise be printed and end the process. */
static void cg_on_diagnostic(LLVMDiagnosticInfoRef info, void *opaque) {
  CgCtx *c = opaque;
  if (LLVMGetDiagInfoSeverity(info) != LLVMDSError || c->llvm_error[0]) return;
  char *msg = LLVMGetDiagInfoDescription(info);
  snprintf(c->llvm_error, sizeof c->llvm_error, "%s", msg ? msg : "unknown error");
  c->llvm_error[strcspn(c->llvm_error, "\n")] = 0;
  LLVMDisposeMessage(msg);
}

void cg_diagnostics(CgCtx *c) { LLVMContextSetDiagnosticHandler(c->ctx, cg_on_diagnostic, c); }

/* LLVM 19's x86 CPU names that can run 64-bit code (from `llc -mtriple=x86_64
 * -mcpu=help`, less the 32-bit-only ones). LLVM ignores an unknown name and
 * then aborts the process, so names are checked here first. */
static const char *const cg_x86_64_cpus[] = {
  "x86-64", "x86-64-v2", "x86-64-v3", "x86-64-v4", "generic", "alderlake", "amdfam10", "arrowlake", "arrowlake-s",
  "arrowlake_s", "athlon-fx", "athlon64", "athlon64-sse3", "atom", "atom_sse4_2", "atom_sse4_2_movbe", "barcelona",
  "bdver1", "bdver2", "bdver3", "bdver4", "bonnell", "broadwell", "btver1", "btver2", "cannonlake", "cascadelake",
  "clearwaterforest", "cooperlake", "core-avx-i", "core-avx2", "core2", "core_2_duo_sse4_1", "core_2_duo_ssse3",
  "core_2nd_gen_avx", "core_3rd_gen_avx", "core_4th_gen_avx", "core_4th_gen_avx_tsx", "core_5th_gen_avx",
  "core_5th_gen_avx_tsx", "core_aes_pclmulqdq", "core_i7_sse4_2", "corei7", "corei7-avx", "emeraldrapids",
  "goldmont", "goldmont-plus", "goldmont_plus", "gracemont", "grandridge", "graniterapids", "graniterapids-d",
  "graniterapids_d", "haswell", "icelake-client", "icelake-server", "icelake_client", "icelake_server", "ivybridge",
  "k8", "k8-sse3", "knl", "knm", "lunarlake", "meteorlake", "mic_avx512", "nehalem", "nocona", "opteron",
  "opteron-sse3", "pantherlake", "penryn", "raptorlake", "rocketlake", "sandybridge", "sapphirerapids", "sierraforest",
  "silvermont", "skx", "skylake", "skylake-avx512", "skylake_avx512", "slm", "tigerlake", "tremont", "westmere",
  "znver1", "znver2", "znver3", "znver4", "znver5",
};

/* Whether LLVM knows cpu as an x86-64 processor. */
static int cg_known_cpu(const char *cpu) {
  for (size_t i = 0; i < sizeof cg_x86_64_cpus / sizeof cg_x86_64_cpus[0]; i++)
    if (strcmp(cg_x86_64_cpus[i], cpu) == 0) return 1;
  return 0;
}

/* Appends one target (cpu: an LLVM name or "native") to c's list, with what it needs. */
static int cg_target_add(CgCtx *c, const char *cpu, size_t len, Diag *d) {
  char name[64];
  if (len == 0 || len >= sizeof name) return ir_error(d, NULL, NULL, "--target-cpu: an empty or too long CPU name");
  memcpy(name, cpu, len);
  name[len] = 0;
  int host = strcmp(name, "native") == 0;
  if (!host && !cg_known_cpu(name))
    return ir_error(d, NULL, NULL, "unknown --target-cpu '%s' (native, portable, x86-64-v2, x86-64-v3, x86-64-v4, or "
                    "an x86-64 CPU name such as sapphirerapids or znver4; a comma list for several)", name);
  if (c->n_targets == CG_MAX_TARGETS) return ir_error(d, NULL, NULL, "--target-cpu: at most %d CPUs", CG_MAX_TARGETS);
  CgTarget *t = &c->targets[c->n_targets];
  char *hcpu = host ? LLVMGetHostCPUName() : NULL, *hfeat = host ? LLVMGetHostCPUFeatures() : NULL;
  t->cpu = strdup(host ? hcpu : name);
  t->llvm_features = strdup(host ? hfeat : "");
  t->features = cg_cpu_features(t->cpu ? t->cpu : "", host ? hfeat : "");
  t->host = host;
  LLVMDisposeMessage(hcpu);
  LLVMDisposeMessage(hfeat);
  if (!t->cpu || !t->llvm_features || !t->features) return ir_error(d, NULL, NULL, "out of memory");
  for (int i = 0; i < c->n_targets; i++)
    if (strcmp(c->targets[i].cpu, t->cpu) == 0) return ir_error(d, NULL, NULL, "--target-cpu names %s twice", t->cpu);
  c->n_targets++;
  return 0;
}

/* Number of comma-separated features in a list. */
static int cg_feature_count(const char *list) {
  int n = *list ? 1 : 0;
  for (; *list; list++) n += *list == ',';
  return n;
}

/* Parses --target-cpu (NULL: native; a comma list in which "portable" stands for x86-64-v2,v3,v4) into
 * c->targets. */
static int cg_targets_parse(CgCtx *c, const char *spec, Diag *d) {
  if (!spec) spec = "native";
  for (const char *p = spec;;) {
    size_t n = strcspn(p, ",");
    if (n == 8 && strncmp(p, "portable", 8) == 0) {
      static const char *const levels[] = {"x86-64-v2", "x86-64-v3", "x86-64-v4"};
      for (int i = 0; i < 3; i++)
        if (cg_target_add(c, levels[i], strlen(levels[i]), d)) return -1;
    } else if (cg_target_add(c, p, n, d)) {
      return -1;
    }
    if (!p[n]) break;
    p += n + 1;
  }
  c->base = 0; /* the one that needs least: what the whole .so needs */
  for (int i = 1; i < c->n_targets; i++)
    if (cg_feature_count(c->targets[i].features) < cg_feature_count(c->targets[c->base].features)) c->base = i;
  return 0;
}

void cg_target_use(CgCtx *c, int t) {
  c->cur_target = t;
  c->cpu_name = c->targets[t].cpu;
  c->cpu_features = c->targets[t].features;
}

void cg_target_mark(CgCtx *c, LLVMValueRef first) {
  const CgTarget *t = &c->targets[c->cur_target];
  if (c->n_targets == 1) return; /* the target machine's own CPU */
  for (LLVMValueRef fn = first ? LLVMGetNextFunction(first) : LLVMGetFirstFunction(c->mod); fn;
       fn = LLVMGetNextFunction(fn)) {
    if (LLVMIsDeclaration(fn)) continue;
    LLVMAddTargetDependentFunctionAttr(fn, "target-cpu", t->cpu);
    if (t->host) LLVMAddTargetDependentFunctionAttr(fn, "target-features", t->llvm_features);
  }
}

int cg_check_target_cpu(const char *spec, Diag *d) {
  CgCtx c = {0};
  int rc = cg_targets_parse(&c, spec, d);
  for (int t = 0; t < c.n_targets; t++) free(c.targets[t].cpu), free(c.targets[t].llvm_features), free(c.targets[t].features);
  return rc;
}

int cg_target_create(CgCtx *c, const CompileOptions *o, Diag *d) {
  if (LLVMInitializeNativeTarget() || LLVMInitializeNativeAsmPrinter() || LLVMInitializeNativeAsmParser())
    return ir_error(d, NULL, NULL, "LLVM has no backend for the host");
  if (cg_targets_parse(c, o->target_cpu, d)) return -1;
  char *triple = LLVMGetDefaultTargetTriple(), *msg = NULL;
  LLVMTargetRef target;
  if (LLVMGetTargetFromTriple(triple, &target, &msg)) {
    LLVMDisposeMessage(triple);
    return cg_llvm_error(d, NULL, "no LLVM target for the host", msg);
  }
  static const LLVMCodeGenOptLevel levels[4] = {LLVMCodeGenLevelNone, LLVMCodeGenLevelLess, LLVMCodeGenLevelDefault,
                                                LLVMCodeGenLevelAggressive};
  int lvl = o->opt_level < 0 ? 0 : o->opt_level > 3 ? 3 : o->opt_level;
  const CgTarget *b = &c->targets[c->base]; /* module-level code (entry points, tables) runs on every target */
  c->tm = LLVMCreateTargetMachine(target, triple, b->cpu, b->llvm_features, levels[lvl], LLVMRelocPIC,
                                  LLVMCodeModelDefault);
  for (int i = 0; o->verbose && i < c->n_targets; i++)
    fprintf(stderr, "vitc: compile: target %s, cpu %s%s; needs %s\n", triple, c->targets[i].cpu,
            c->targets[i].host ? " (this machine's; --target-cpu to choose)" : "",
            *c->targets[i].features ? c->targets[i].features : "no extension");
  LLVMDisposeMessage(triple);
  cg_target_use(c, c->base);
  return c->tm ? 0 : ir_error(d, NULL, NULL, "cannot create an LLVM target machine for cpu '%s'", b->cpu);
}

int cg_optimize(CgCtx *c, int opt_level, Diag *d) {
  char pipeline[32];
  snprintf(pipeline, sizeof pipeline, "default<O%d>", opt_level < 0 ? 0 : opt_level > 3 ? 3 : opt_level);
  LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
  LLVMPassBuilderOptionsSetLoopVectorization(po, opt_level >= 2);
  LLVMPassBuilderOptionsSetSLPVectorization(po, opt_level >= 2);
  LLVMPassBuilderOptionsSetLoopUnrolling(po, opt_level >= 2);
  LLVMErrorRef err = LLVMRunPasses(c->mod, pipeline, c->tm, po);
  LLVMDisposePassBuilderOptions(po);
  if (err) return cg_llvm_error(d, c->g->file, "LLVM optimization failed", LLVMGetErrorMessage(err));
  return 0;
}

int cg_emit_file(CgCtx *c, CgEmitKind kind, const char *path, Diag *d) {
  char *msg = NULL;
  if (kind == CG_EMIT_LLVM) {
    if (LLVMPrintModuleToFile(c->mod, path, &msg)) return cg_llvm_error(d, path, "cannot write LLVM IR", msg);
    return 0;
  }
  LLVMCodeGenFileType ft = kind == CG_EMIT_ASM ? LLVMAssemblyFile : LLVMObjectFile;
  /* The API takes a non-const name. */
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return ir_error(d, path, NULL, "path too long");
  if (LLVMTargetMachineEmitToFile(c->tm, c->mod, buf, ft, &msg))
    return cg_llvm_error(d, path, "LLVM code generation failed", msg);
  if (c->llvm_error[0]) return ir_error(d, c->g->file, NULL, "LLVM code generation failed: %s", c->llvm_error);
  return 0;
}
