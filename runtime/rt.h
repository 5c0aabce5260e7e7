/* Private to the runtime and the code vitc generates: the thread pool and the
 * symbols the generated object defines. Nothing here is exported from a
 * model .so (the runtime is built with hidden visibility). */
#ifndef VITC_RT_H
#define VITC_RT_H

#include "vitc_abi.h"
#include <stddef.h>
#include <stdint.h>

#define RT_EXPORT __attribute__((visibility("default")))
#define RT_HIDDEN __attribute__((visibility("hidden")))
#define RT_ALIGN 64
#define RT_MAX_THREADS 256

/* ---- thread pool (runtime/rt_pool.c) ---- */

/* The ABI's VitcPool: one job at a time, so sessions sharing a pool take turns. */
typedef struct VitcPool RtPool;

/* Starts n_threads - 1 workers (the caller is the n-th; n_threads <= 0:
 * rt_default_threads()); NULL when out of memory or a thread cannot start. */
RtPool *rt_pool_create(int n_threads);
void rt_pool_destroy(RtPool *p);
int rt_pool_threads(const RtPool *p);
/* Whether p is a live pool made by this runtime version (a pool handed to a
 * session is checked before use). */
int rt_pool_valid(const RtPool *p);

/* ---- thread counts (runtime/rt_threads.c) ---- */

/* $VITC_NUM_THREADS, else the CPUs this thread may run on capped by the cgroup v2 CPU quota. */
int rt_default_threads(void);
/* Threads a cgroup v2 cpu.max line allows ("150000 100000" -> 2); 0 for "max" or anything unreadable. */
int rt_cpu_max_threads(const char *text);

/* ---- CPU features (runtime/rt_cpu.c) ---- */

/* VITC_OK when this CPU has every feature in the comma-separated list, else
 * VITC_ERR_CPU with "model needs X, Y; this CPU has Z" in msg (when size > 0). */
int rt_cpu_check(const char *features, char *msg, size_t size);
/* Whether this CPU has the named feature (LLVM's spelling: "avx2", "avx512f"); -1 when vitc cannot test it. */
int rt_cpu_has(const char *feature);

/* What generated code receives: the pool of the session that runs it. */
typedef struct VitcRunCtx {
  RtPool *pool;
  int32_t error; /* set (atomically, by any thread) when a kernel finds a bad run-time index; read after the run */
  int64_t *prof_ns;   /* --profile builds: wall ns per profile slot (vitc_generated_profile), summed */
  int64_t prof_last;  /* the time of the last mark */
} VitcRunCtx;

/* --profile builds call this from the run function: slot < 0 starts the clock, else the time since the
 * last mark is added to slot's total. */
void rt_profile_mark(VitcRunCtx *ctx, int64_t slot);

/* A kernel's slice of work: indices [begin, end) of the range given to rt_parallel_for. */
typedef void (*RtTaskFn)(void *arg, int64_t begin, int64_t end);

/* Calls fn on disjoint slices covering [0, n) exactly once, spread over the
 * session's threads; the caller works too and returns when all are done.
 * Runs inline with one thread, a NULL ctx, or when called from inside a task. */
void rt_parallel_for(VitcRunCtx *ctx, int64_t n, RtTaskFn fn, void *arg);

/* ---- the entry points (runtime/rt_session.c), exported by the generated
 * object as PREFIX_* wrappers and through vitc_entry_points ---- */

const VitcModelInfo *rt_model_info(void);
VitcSession *rt_session_create(int n_threads, int *status);
VitcSession *rt_session_create_with(const VitcSessionOptions *options, int *status);
int rt_session_run(VitcSession *s, const void *const *inputs, void *const *outputs);
int rt_session_run_batch(VitcSession *s, int64_t batch, const void *const *inputs, void *const *outputs);
void rt_session_destroy(VitcSession *s);
VitcPool *rt_vitc_pool_create(int n_threads, int *status);
void rt_vitc_pool_destroy(VitcPool *p);
int rt_model_cpu_check(char *message, size_t size);
const char *rt_status_string(int status);
int rt_session_profile(VitcSession *s, VitcProfile *out, int reset);

/* ---- defined by the generated object (hidden) ---- */

RT_HIDDEN extern const VitcModelInfo vitc_generated_info;
RT_HIDDEN extern const char vitc_generated_prefix[]; /* --prefix, also in the info */
/* One compiled batch: its run function (buffers of that batch, in info order). */
typedef void (*RtRunFn)(VitcRunCtx *ctx, const void *const *inputs, void *const *outputs, uint8_t *workspace,
                        const uint8_t *weights);
typedef struct RtVariant {
  int64_t batch;
  RtRunFn run;
  int32_t target; /* index into vitc_generated_targets */
} RtVariant;
/* Grouped by target, smallest batch first; a static single-target model has one, the info's batch. */
RT_HIDDEN extern const RtVariant vitc_generated_variants[];
RT_HIDDEN extern const int32_t vitc_generated_n_variants;
/* Each target's CPU features (--target-cpu A,B: one per CPU); a session runs the best this CPU has. */
RT_HIDDEN extern const char *const vitc_generated_targets[];
RT_HIDDEN extern const int32_t vitc_generated_n_targets;
/* --profile: one entry per profile slot (0 entries otherwise). */
RT_HIDDEN extern const VitcProfileNode vitc_generated_profile[];
RT_HIDDEN extern const int32_t vitc_generated_n_profile;
RT_HIDDEN extern const uint8_t vitc_weights[];

/* The exported PREFIX_* functions the backend generates for a model, for
 * models written by hand in C (the runtime's tests): each calls rt_*. */
#define RT_DEFINE_ENTRY_POINTS(P)                                                                                 \
  RT_EXPORT const VitcModelInfo *P##_model_info(void) { return rt_model_info(); }                               \
  RT_EXPORT VitcSession *P##_session_create(int n, int *st) { return rt_session_create(n, st); }                \
  RT_EXPORT VitcSession *P##_session_create_with(const VitcSessionOptions *o, int *st) {                        \
    return rt_session_create_with(o, st);                                                                        \
  }                                                                                                              \
  RT_EXPORT int P##_session_run(VitcSession *s, const void *const *i, void *const *o) { return rt_session_run(s, i, o); } \
  RT_EXPORT int P##_session_run_batch(VitcSession *s, int64_t b, const void *const *i, void *const *o) {       \
    return rt_session_run_batch(s, b, i, o);                                                                     \
  }                                                                                                              \
  RT_EXPORT void P##_session_destroy(VitcSession *s) { rt_session_destroy(s); }                                 \
  RT_EXPORT VitcPool *P##_pool_create(int n, int *st) { return rt_vitc_pool_create(n, st); }                    \
  RT_EXPORT void P##_pool_destroy(VitcPool *p) { rt_vitc_pool_destroy(p); }                                     \
  RT_EXPORT int P##_cpu_check(char *m, size_t n) { return rt_model_cpu_check(m, n); }                           \
  RT_EXPORT const char *P##_status_string(int st) { return rt_status_string(st); }                               \
  RT_EXPORT int P##_session_profile(VitcSession *s, VitcProfile *o, int r) { return rt_session_profile(s, o, r); }

#endif
