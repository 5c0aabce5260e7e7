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

/* ---- thread pool (runtime/rt_pool.c) ---- */

typedef struct RtPool RtPool;

/* Starts n_threads - 1 workers (the caller is the n-th); NULL when out of
 * memory or a thread cannot be started. */
RtPool *rt_pool_create(int n_threads);
void rt_pool_destroy(RtPool *p);
int rt_pool_threads(const RtPool *p);

/* What generated code receives: the pool of the session that runs it. */
typedef struct VitcRunCtx {
  RtPool *pool;
} VitcRunCtx;

/* A kernel's slice of work: indices [begin, end) of the range given to rt_parallel_for. */
typedef void (*RtTaskFn)(void *arg, int64_t begin, int64_t end);

/* Calls fn on disjoint slices covering [0, n) exactly once, spread over the
 * session's threads; the caller works too and returns when all are done.
 * Runs inline with one thread, a NULL ctx, or when called from inside a task. */
void rt_parallel_for(VitcRunCtx *ctx, int64_t n, RtTaskFn fn, void *arg);

/* ---- defined by the generated object (hidden) ---- */

RT_HIDDEN extern const VitcModelInfo vitc_generated_info;
RT_HIDDEN void vitc_generated_run(VitcRunCtx *ctx, const void *const *inputs, void *const *outputs,
                                  uint8_t *workspace, const uint8_t *weights);
RT_HIDDEN extern const uint8_t vitc_weights[];

#endif
