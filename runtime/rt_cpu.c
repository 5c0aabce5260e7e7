/* Which instruction sets this CPU has (cpuid, and xgetbv for the register
 * state the OS saves), against the list a model was compiled for, so that a
 * model built for a newer CPU fails with VITC_ERR_CPU and a message instead
 * of dying with SIGILL. This file is compiled for the x86-64 baseline: it
 * must run on any CPU. */
#include "rt.h"
#include <cpuid.h>
#include <stdio.h>
#include <string.h>

/* Where a feature's bit is: cpuid leaf / subleaf, register (0 eax .. 3 edx), bit; and the OS-saved state it
 * needs (XCR0 bits). */
typedef struct RtFeature {
  const char *name;
  unsigned leaf, subleaf;
  int reg, bit;
  unsigned long long xcr0;
} RtFeature;

#define CPU_YMM 0x6ull   /* SSE and AVX state */
#define CPU_ZMM 0xe6ull  /* and the AVX-512 opmask and upper ZMM state */
#define CPU_TILE 0x60000ull

static const RtFeature rt_features[] = {
#define CPU_FEATURE(name, leaf, subleaf, reg, bit, xcr0) {name, leaf, subleaf, reg, bit, xcr0},
#include "cpu_features.def"
#undef CPU_FEATURE
};
enum { RT_N_FEATURES = sizeof rt_features / sizeof rt_features[0] };

/* The state the OS saves on a context switch (XCR0), 0 when xgetbv is unavailable. */
static unsigned long long rt_xcr0(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0; /* OSXSAVE */
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((unsigned long long)hi << 32) | lo;
}

/* Whether the CPU and the OS support feature f. */
static int rt_feature_present(const RtFeature *f) {
  unsigned r[4] = {0};
  if (__get_cpuid_max(f->leaf & 0x80000000u, NULL) < f->leaf) return 0;
  __cpuid_count(f->leaf, f->subleaf, r[0], r[1], r[2], r[3]);
  if (!(r[f->reg] & (1u << f->bit))) return 0;
  return (rt_xcr0() & f->xcr0) == f->xcr0;
}

int rt_cpu_has(const char *feature) {
  for (int i = 0; i < RT_N_FEATURES; i++)
    if (strcmp(rt_features[i].name, feature) == 0) return rt_feature_present(&rt_features[i]);
  return -1;
}

/* Appends s to buf at *len (truncating), with ", " between items when sep. */
static void rt_append(char *buf, size_t size, size_t *len, const char *s, int sep) {
  if (!buf || *len >= size) return;
  int n = snprintf(buf + *len, size - *len, "%s%s", sep ? ", " : "", s);
  *len = n < 0 ? size : *len + (size_t)n;
}

int rt_cpu_check(const char *features, char *msg, size_t size) {
  char name[32], missing_buf[512] = "";
  size_t missing = 0;
  int n_missing = 0;
  for (const char *p = features ? features : ""; *p;) {
    size_t n = strcspn(p, ",");
    if (n > 0 && n < sizeof name) {
      memcpy(name, p, n);
      name[n] = 0;
      if (rt_cpu_has(name) != 1) rt_append(missing_buf, sizeof missing_buf, &missing, name, n_missing++ > 0);
    }
    p += n + (p[n] == ',');
  }
  if (!n_missing) return VITC_OK;
  if (msg && size) {
    size_t len = 0;
    int any = 0;
    rt_append(msg, size, &len, "model needs ", 0);
    rt_append(msg, size, &len, missing_buf, 0);
    rt_append(msg, size, &len, "; this CPU has ", 0);
    for (int i = 0; i < RT_N_FEATURES; i++) /* the wider vector sets it does have */
      if (strncmp(rt_features[i].name, "avx", 3) == 0 && rt_feature_present(&rt_features[i]))
        rt_append(msg, size, &len, rt_features[i].name, any++);
    if (!any) rt_append(msg, size, &len, "no AVX", 0);
  }
  return VITC_ERR_CPU;
}
