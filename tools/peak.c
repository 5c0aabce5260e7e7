/* The machine's measured single-precision FMA peak, the yardstick of
 * --profile's "% of peak": 16 independent accumulators (enough to cover the
 * FMA latency on every CPU we run on) updated by fused multiply-adds, with the
 * widest vectors this CPU has (AVX-512, else AVX2+FMA, else SSE mul+add),
 * timed on each thread at once, best of three (AVX2 and SSE have 16 vector registers: 12 accumulators there, so the two
 * constants do not push one to memory). The widths dispatch on cpuid at run time. A shared VM sometimes takes a
 * CPU away for a moment: 2 threads then read what 1 does (117.7 GFLOP/s against 231 on a Zen 4, and --profile
 * said 160 % of peak), so while N threads read under 3/4 of N times one thread's rate, up to three more tries. */
#include "cli.h"
#include <immintrin.h>
#include <pthread.h>
#include <time.h>

#define PEAK_ITERS 20000000L

/* Seconds on a monotonic clock. */
static double peak_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* FLOPs done by PEAK_ITERS rounds of 16 FMAs of 16 floats; r keeps the result live. */
__attribute__((target("avx512f"))) static double peak_avx512(float *r) {
  __m512 a[16], x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < 16; i++) a[i] = _mm512_set1_ps((float)i);
  for (long k = 0; k < PEAK_ITERS; k++)
    for (int i = 0; i < 16; i++) a[i] = _mm512_fmadd_ps(a[i], x, y);
  for (int i = 1; i < 16; i++) a[0] = _mm512_add_ps(a[0], a[i]);
  *r = _mm512_reduce_add_ps(a[0]);
  return 2.0 * 16 * 16 * PEAK_ITERS;
}

/* The same with 8-float AVX2 FMAs, 12 accumulators. */
__attribute__((target("avx2,fma"))) static double peak_avx2(float *r) {
  __m256 a[12], x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
  for (long k = 0; k < PEAK_ITERS; k++)
    for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], x, y);
  for (int i = 1; i < 12; i++) a[0] = _mm256_add_ps(a[0], a[i]);
  float v[8];
  _mm256_storeu_ps(v, a[0]);
  *r = v[0];
  return 2.0 * 8 * 12 * PEAK_ITERS;
}

/* SSE: a multiply and an add per 4 floats, 12 accumulators. */
static double peak_sse(float *r) {
  __m128 a[12], x = _mm_set1_ps(0.999999f), y = _mm_set1_ps(1e-7f);
  for (int i = 0; i < 12; i++) a[i] = _mm_set1_ps((float)i);
  for (long k = 0; k < PEAK_ITERS / 4; k++)
    for (int i = 0; i < 12; i++) a[i] = _mm_add_ps(_mm_mul_ps(a[i], x), y);
  *r = _mm_cvtss_f32(a[0]);
  return 2.0 * 4 * 12 * (PEAK_ITERS / 4);
}

typedef struct PeakJob {
  double flops, seconds;
  float sink;
} PeakJob;

/* One thread's run with the widest vectors available. */
static void *peak_thread(void *arg) {
  PeakJob *j = arg;
  __builtin_cpu_init();
  double t0 = peak_now();
  if (__builtin_cpu_supports("avx512f")) j->flops = peak_avx512(&j->sink);
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) j->flops = peak_avx2(&j->sink);
  else j->flops = peak_sse(&j->sink);
  j->seconds = peak_now() - t0;
  return NULL;
}

/* One measurement on `threads` threads at once: the sum of their rates. */
static double peak_once(int threads);

double cli_fma_peak_gflops(int threads, const char **isa) {
  if (threads < 1) threads = 1;
  if (threads > 64) threads = 64;
  __builtin_cpu_init();
  *isa = __builtin_cpu_supports("avx512f") ? "AVX-512 FMA"
         : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? "AVX2 FMA" : "SSE";
  double best = 0; /* the best of three: a peak is what the machine can do, not what it did while busy */
  for (int r = 0; r < 3; r++) {
    double g = peak_once(threads);
    if (g > best) best = g;
  }
  if (threads == 1) return best;
  double one = peak_once(1); /* more tries only when the threads clearly did not all run (SMT siblings may not) */
  for (int r = 0; r < 3 && best < 0.75 * threads * one; r++) {
    double g = peak_once(threads);
    if (g > best) best = g;
  }
  return best;
}

static double peak_once(int threads) {
  PeakJob jobs[64] = {{0, 0, 0}};
  pthread_t th[64];
  int started = 0;
  for (int i = 1; i < threads; i++)
    if (pthread_create(&th[i], NULL, peak_thread, &jobs[i]) == 0) started = i;
    else break;
  peak_thread(&jobs[0]);
  double total = jobs[0].seconds > 0 ? jobs[0].flops / jobs[0].seconds : 0;
  for (int i = 1; i <= started; i++) {
    pthread_join(th[i], NULL);
    if (jobs[i].seconds > 0) total += jobs[i].flops / jobs[i].seconds;
  }
  return total / 1e9;
}
