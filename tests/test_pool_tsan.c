/* The thread pool under ThreadSanitizer (built with -fsanitize=thread with
 * the pool's sources, tests/CMakeLists.txt): two threads run jobs on one
 * shared pool at once (sessions sharing a pool), pools are created and
 * destroyed in a loop, nested calls run inline. Any data race fails the run
 * (TSAN_OPTIONS=halt_on_error=1); the counts check every index ran once. */
#include "rt.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

enum { N = 1000, ROUNDS = 200 };

typedef struct Job {
  VitcRunCtx ctx;
  _Atomic int count[N];
  int failures;
} Job;

/* Counts the slice's indices. */
static void count_slice(void *arg, int64_t begin, int64_t end) {
  Job *j = arg;
  for (int64_t i = begin; i < end; i++) atomic_fetch_add_explicit(&j->count[i], 1, memory_order_relaxed);
}

/* A session's caller: ROUNDS jobs on the shared pool, each index counted once per round. */
static void *caller(void *arg) {
  Job *j = arg;
  for (int r = 0; r < ROUNDS; r++) rt_parallel_for(&j->ctx, N, count_slice, j);
  for (int i = 0; i < N; i++)
    if (atomic_load(&j->count[i]) != ROUNDS) j->failures++;
  return NULL;
}

int main(void) {
  RtPool *pool = rt_pool_create(3);
  if (!pool) return 1;
  static Job jobs[2];
  pthread_t th[2];
  for (int k = 0; k < 2; k++) {
    jobs[k].ctx.pool = pool;
    if (pthread_create(&th[k], NULL, caller, &jobs[k])) return 1;
  }
  for (int k = 0; k < 2; k++) pthread_join(th[k], NULL);
  rt_pool_destroy(pool);
  int failures = jobs[0].failures + jobs[1].failures;
  for (int r = 0; r < 50; r++) { /* create, use, destroy */
    static Job j;
    j.ctx.pool = rt_pool_create(1 + r % 4);
    if (!j.ctx.pool) return 1;
    for (int i = 0; i < N; i++) atomic_store(&j.count[i], 0);
    rt_parallel_for(&j.ctx, N, count_slice, &j);
    for (int i = 0; i < N; i++) failures += atomic_load(&j.count[i]) != 1;
    rt_pool_destroy(j.ctx.pool);
  }
  printf("shared pool: 2 callers x %d jobs, 50 pool lifetimes: %d wrong counts\n", ROUNDS, failures);
  return failures != 0;
}
