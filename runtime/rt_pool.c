/* A persistent thread pool for rt_parallel_for: one job at a time, announced
 * by bumping a generation counter; workers spin briefly, then sleep on a
 * condition variable, and the caller waits for them the same way. Items are
 * claimed in guided slices (a share of what is left) with one atomic
 * counter, so no allocation happens per call. Sessions may share a pool:
 * callers from different threads take turns (job_mu), so N sessions on a box
 * use the pool's threads, not N times as many. */
#include "rt.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define RT_POOL_MAGIC 0x7669746370303033ull /* "vitcp003": this runtime's pools (ABI 3) */
#define RT_SPIN 4000         /* polls of the generation before a worker sleeps */
#define RT_CALLER_SPIN 16000 /* polls of n_busy before the caller sleeps: about the wake-up it saves */

struct VitcPool {
  uint64_t magic; /* RT_POOL_MAGIC while the pool lives */
  int n_threads; /* the caller included */
  pthread_mutex_t job_mu; /* held by the caller whose job the pool runs */
  pthread_t *threads;
  pthread_mutex_t mu;
  pthread_cond_t work_cv, done_cv;
  _Atomic uint64_t gen; /* bumped under mu when a job is posted */
  int stop;
  _Atomic int n_busy; /* workers that have not finished the current job; decremented under mu */
  /* The current job: written under mu before gen is bumped. */
  RtTaskFn fn;
  void *arg;
  int64_t n;
  _Atomic int64_t next; /* the first item not yet claimed */
};

/* Set on pool threads and on a caller inside a job: nested calls run inline. */
static _Thread_local int rt_in_task;

/* Hints the CPU that this is a spin-wait loop. */
static inline void rt_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* Claims slices of the current job until none are left. A slice is 1 / (2 x threads) of the items left
 * (at least one): early slices are long runs of neighbouring items (a GEMM's macro tiles that share
 * weights), the last ones single items, so the threads finish within an item of each other. With fixed
 * slices of n / (4 x threads), ViT-B/16 on 2 threads idled 48-65 us per job (100 jobs a run); guided
 * slices and the caller's spin below halved that. */
static void rt_run_slices(RtPool *p) {
  int64_t cur = atomic_load_explicit(&p->next, memory_order_relaxed);
  for (;;) {
    int64_t left = p->n - cur;
    if (left <= 0) return;
    int64_t take = left / (2 * (int64_t)p->n_threads);
    if (take < 1) take = 1;
    if (atomic_compare_exchange_weak_explicit(&p->next, &cur, cur + take, memory_order_relaxed, memory_order_relaxed)) {
      p->fn(p->arg, cur, cur + take);
      cur = atomic_load_explicit(&p->next, memory_order_relaxed);
    } /* else cur now holds the counter's value: try again from there */
  }
}

/* Worker loop: wait for a new generation, help with it, report done. */
static void *rt_worker(void *arg) {
  RtPool *p = arg;
  uint64_t seen = 0;
  rt_in_task = 1;
  for (;;) {
    for (int i = 0; i < RT_SPIN && atomic_load_explicit(&p->gen, memory_order_relaxed) == seen; i++) rt_cpu_relax();
    pthread_mutex_lock(&p->mu);
    while (atomic_load_explicit(&p->gen, memory_order_relaxed) == seen && !p->stop)
      pthread_cond_wait(&p->work_cv, &p->mu);
    if (p->stop) {
      pthread_mutex_unlock(&p->mu);
      return NULL;
    }
    seen = atomic_load_explicit(&p->gen, memory_order_relaxed);
    pthread_mutex_unlock(&p->mu);
    rt_run_slices(p);
    pthread_mutex_lock(&p->mu);
    if (atomic_fetch_sub_explicit(&p->n_busy, 1, memory_order_release) == 1) pthread_cond_signal(&p->done_cv);
    pthread_mutex_unlock(&p->mu);
  }
}

/* Stops and joins the first n_started workers, then frees the pool. */
static void rt_pool_teardown(RtPool *p, int n_started) {
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  pthread_cond_broadcast(&p->work_cv);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < n_started; i++) pthread_join(p->threads[i], NULL);
  pthread_cond_destroy(&p->work_cv);
  pthread_cond_destroy(&p->done_cv);
  pthread_mutex_destroy(&p->mu);
  pthread_mutex_destroy(&p->job_mu);
  p->magic = 0;
  free(p->threads);
  free(p);
}

RtPool *rt_pool_create(int n_threads) {
  if (n_threads <= 0) n_threads = rt_default_threads();
  if (n_threads > RT_MAX_THREADS) n_threads = RT_MAX_THREADS;
  RtPool *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->magic = RT_POOL_MAGIC;
  p->n_threads = n_threads;
  p->threads = calloc((size_t)n_threads, sizeof *p->threads);
  if (!p->threads) {
    free(p);
    return NULL;
  }
  pthread_mutex_init(&p->mu, NULL);
  pthread_mutex_init(&p->job_mu, NULL);
  pthread_cond_init(&p->work_cv, NULL);
  pthread_cond_init(&p->done_cv, NULL);
  for (int i = 0; i < n_threads - 1; i++) {
    if (pthread_create(&p->threads[i], NULL, rt_worker, p) != 0) {
      rt_pool_teardown(p, i);
      return NULL;
    }
  }
  return p;
}

void rt_pool_destroy(RtPool *p) {
  if (p) rt_pool_teardown(p, p->n_threads - 1);
}

int rt_pool_threads(const RtPool *p) { return p ? p->n_threads : 1; }

int rt_pool_valid(const RtPool *p) { return p && p->magic == RT_POOL_MAGIC; }

void rt_parallel_for(VitcRunCtx *ctx, int64_t n, RtTaskFn fn, void *arg) {
  if (n <= 0) return;
  RtPool *p = ctx ? ctx->pool : NULL;
  if (!p || p->n_threads == 1 || n == 1 || rt_in_task) {
    fn(arg, 0, n);
    return;
  }
  pthread_mutex_lock(&p->job_mu); /* another session's job on a shared pool finishes first */
  pthread_mutex_lock(&p->mu);
  p->fn = fn;
  p->arg = arg;
  p->n = n;
  atomic_store_explicit(&p->next, 0, memory_order_relaxed);
  atomic_store_explicit(&p->n_busy, p->n_threads - 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
  pthread_cond_broadcast(&p->work_cv);
  pthread_mutex_unlock(&p->mu);
  rt_in_task = 1;
  rt_run_slices(p);
  rt_in_task = 0;
  /* The workers' last slices usually end within microseconds of ours: sleeping on done_cv then costs a
   * wake-up (tens of us on a VM), about half of ViT-B/16's wait per job on 2 threads. */
  for (int i = 0; i < RT_CALLER_SPIN && atomic_load_explicit(&p->n_busy, memory_order_acquire) > 0; i++) rt_cpu_relax();
  pthread_mutex_lock(&p->mu);
  while (atomic_load_explicit(&p->n_busy, memory_order_acquire) > 0) pthread_cond_wait(&p->done_cv, &p->mu);
  pthread_mutex_unlock(&p->mu);
  pthread_mutex_unlock(&p->job_mu);
}
