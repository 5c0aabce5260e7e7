/* A persistent thread pool for rt_parallel_for: one job at a time, announced
 * by bumping a generation counter; workers spin briefly, then sleep on a
 * condition variable. Slices are claimed with an atomic counter, so no
 * allocation happens per call. Sessions may share a pool: callers from
 * different threads take turns (job_mu), so N sessions on a box use the
 * pool's threads, not N times as many. */
#include "rt.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define RT_POOL_MAGIC 0x7669746370303033ull /* "vitcp003": this runtime's pools (ABI 3) */
#define RT_SPIN 4000           /* polls of the generation before a worker sleeps */
#define RT_SLICES_PER_THREAD 4 /* slices per thread, for load balance */

struct VitcPool {
  uint64_t magic; /* RT_POOL_MAGIC while the pool lives */
  int n_threads; /* the caller included */
  pthread_mutex_t job_mu; /* held by the caller whose job the pool runs */
  pthread_t *threads;
  pthread_mutex_t mu;
  pthread_cond_t work_cv, done_cv;
  _Atomic uint64_t gen; /* bumped under mu when a job is posted */
  int stop;
  int n_busy; /* workers that have not finished the current job */
  /* The current job: written under mu before gen is bumped. */
  RtTaskFn fn;
  void *arg;
  int64_t n, n_slices;
  _Atomic int64_t next_slice;
};

/* Set on pool threads and on a caller inside a job: nested calls run inline. */
static _Thread_local int rt_in_task;

/* Hints the CPU that this is a spin-wait loop. */
static inline void rt_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* Claims slices of the current job until none are left. */
static void rt_run_slices(RtPool *p) {
  int64_t ns = p->n_slices, q = p->n / ns, r = p->n % ns;
  for (;;) {
    int64_t k = atomic_fetch_add_explicit(&p->next_slice, 1, memory_order_relaxed);
    if (k >= ns) return;
    int64_t begin = q * k + (k < r ? k : r);
    int64_t end = begin + q + (k < r ? 1 : 0);
    p->fn(p->arg, begin, end);
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
    if (--p->n_busy == 0) pthread_cond_signal(&p->done_cv);
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
  int64_t max_slices = (int64_t)p->n_threads * RT_SLICES_PER_THREAD;
  pthread_mutex_lock(&p->job_mu); /* another session's job on a shared pool finishes first */
  pthread_mutex_lock(&p->mu);
  p->fn = fn;
  p->arg = arg;
  p->n = n;
  p->n_slices = n < max_slices ? n : max_slices;
  atomic_store_explicit(&p->next_slice, 0, memory_order_relaxed);
  p->n_busy = p->n_threads - 1;
  atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
  pthread_cond_broadcast(&p->work_cv);
  pthread_mutex_unlock(&p->mu);
  rt_in_task = 1;
  rt_run_slices(p);
  rt_in_task = 0;
  pthread_mutex_lock(&p->mu);
  while (p->n_busy > 0) pthread_cond_wait(&p->done_cv, &p->mu);
  pthread_mutex_unlock(&p->mu);
  pthread_mutex_unlock(&p->job_mu);
}
