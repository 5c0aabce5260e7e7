/* The instruction sets a compiled model needs, recorded in its info so the
 * runtime can refuse a CPU that lacks one (runtime/rt_cpu.c checks the same
 * names with cpuid). For the host CPU they are LLVM's detected features; for a
 * named CPU, LLVM-C does not say which features the name implies, so they come
 * from the table below: the x86-64 level the CPU belongs to plus the VNNI,
 * BF16 and AMX extensions the kernels may use. */
#include "cg_ctx.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The features vitc records and checks, in a fixed order (runtime/cpu_features.def, which the runtime's
 * cpuid check reads too). */
static const char *const cg_checked[] = {
#define CPU_FEATURE(name, ...) name,
#include "cpu_features.def"
#undef CPU_FEATURE
};
enum { CG_N_CHECKED = sizeof cg_checked / sizeof cg_checked[0] };

#define V2 "ssse3,sse4.1,sse4.2,popcnt,cx16"
#define V3 V2 ",avx,fma,f16c,movbe,avx2,bmi,bmi2,lzcnt"
#define V4 V3 ",avx512f,avx512dq,avx512cd,avx512bw,avx512vl"
#define ICL V4 ",avx512ifma,avx512vbmi,avx512vbmi2,avx512vnni,avx512bitalg,avx512vpopcntdq"

/* Named CPUs by prefix (first match wins), what vitc records for them. */
static const struct { const char *cpu, *features; } cg_named[] = {
  {"x86-64-v4", V4},
  {"x86-64-v3", V3},
  {"x86-64-v2", V2},
  {"x86-64", ""},
  {"generic", ""},
  {"sapphirerapids", ICL ",avx512bf16,avx512fp16,avxvnni,amx-tile,amx-bf16,amx-int8"},
  {"emeraldrapids", ICL ",avx512bf16,avx512fp16,avxvnni,amx-tile,amx-bf16,amx-int8"},
  {"graniterapids", ICL ",avx512bf16,avx512fp16,avxvnni,amx-tile,amx-bf16,amx-int8"},
  {"cooperlake", V4 ",avx512vnni,avx512bf16"},
  {"cascadelake", V4 ",avx512vnni"},
  {"skylake-avx512", V4},
  {"skylake_avx512", V4},
  {"skx", V4},
  {"icelake", ICL},
  {"tigerlake", ICL},
  {"rocketlake", ICL},
  {"cannonlake", V4 ",avx512ifma,avx512vbmi"},
  {"znver5", ICL ",avx512bf16,avxvnni"},
  {"znver4", ICL ",avx512bf16"},
  {"znver", V3},
  {"alderlake", V3 ",avxvnni"},
  {"raptorlake", V3 ",avxvnni"},
  {"meteorlake", V3 ",avxvnni"},
  {"arrowlake", V3 ",avxvnni"},
  {"lunarlake", V3 ",avxvnni"},
  {"sierraforest", V3 ",avxvnni"},
  {"grandridge", V3 ",avxvnni"},
  {"haswell", V3},
  {"broadwell", V3},
  {"skylake", V3},
  {"core-avx2", V3},
  {"core_4th", V3},
  {"core_5th", V3},
};

/* Whether LLVM's comma-separated "+a,-b" list enables name. */
static int cg_enabled(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; p && (p = strstr(p, name)); p += n)
    if (p > list && p[-1] == '+' && (p[n] == ',' || p[n] == 0)) return 1;
  return 0;
}

char *cg_cpu_features(const char *cpu, const char *llvm_features) {
  if (llvm_features && *llvm_features) { /* the host: keep the enabled ones vitc checks */
    size_t len = 0;
    char *s = calloc(1, 512);
    for (int i = 0; s && i < CG_N_CHECKED; i++)
      if (cg_enabled(llvm_features, cg_checked[i]))
        len += (size_t)snprintf(s + len, 512 - len, "%s%s", len ? "," : "", cg_checked[i]);
    return s;
  }
  for (size_t i = 0; i < sizeof cg_named / sizeof cg_named[0]; i++)
    if (strncmp(cpu, cg_named[i].cpu, strlen(cg_named[i].cpu)) == 0) return strdup(cg_named[i].features);
  return strdup(""); /* older CPUs (core2, nehalem, bdver...): nothing recorded, nothing checked */
}
