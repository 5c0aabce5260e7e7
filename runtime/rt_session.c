/* The entry points of every model .so (their exported names are the
 * generated PREFIX_* wrappers and vitc_entry_points): sessions own or borrow
 * a workspace and a thread pool around the generated code (vitc_generated_*). */
#include "rt.h"
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct VitcSession {
  VitcRunCtx ctx;
  int64_t runs; /* since creation or the last profile reset */
  uint8_t *workspace;
  int owns_workspace, owns_pool;
  const RtVariant *variants; /* the chosen target's, smallest batch first */
  int n_variants;
};

/* Loaders find every entry point of a model here, whatever its prefix. */
RT_EXPORT const VitcEntryPoints vitc_entry_points = {
  VITC_ABI_VERSION,     vitc_generated_prefix, rt_model_info,        rt_session_create,
  rt_session_create_with, rt_session_run,    rt_session_run_batch, rt_session_destroy,
  rt_vitc_pool_create,  rt_vitc_pool_destroy,  rt_model_cpu_check,   rt_status_string,
  rt_session_profile,
};

const VitcModelInfo *rt_model_info(void) { return &vitc_generated_info; }

/* Stores a status where the caller asked for one; returns NULL for the callers' convenience. */
static void *rt_fail(int *status, int value) {
  if (status) *status = value;
  return NULL;
}

int rt_model_cpu_check(char *message, size_t size) {
  return rt_cpu_check(vitc_generated_info.cpu_features, message, size);
}

VitcSession *rt_session_create(int n_threads, int *status) {
  VitcSessionOptions o = VITC_SESSION_OPTIONS_INIT;
  o.n_threads = n_threads;
  return rt_session_create_with(&o, status);
}

/* The workspace: the caller's (checked) or a new aligned block; 0 or a status. */
static int rt_session_workspace(VitcSession *s, const VitcSessionOptions *o) {
  uint64_t bytes = vitc_generated_info.workspace_bytes;
  if (o->workspace) {
    if (o->workspace_bytes < bytes || ((uintptr_t)o->workspace & (RT_ALIGN - 1))) return VITC_ERR_ARG;
    s->workspace = o->workspace;
    return VITC_OK;
  }
  if (bytes == 0) return VITC_OK;
  uint64_t rounded = (bytes + RT_ALIGN - 1) & ~(uint64_t)(RT_ALIGN - 1);
  s->workspace = rounded == (size_t)rounded ? aligned_alloc(RT_ALIGN, (size_t)rounded) : NULL;
  s->owns_workspace = 1;
  return s->workspace ? VITC_OK : VITC_ERR_NOMEM;
}

/* The target this CPU runs best: of those whose features it has, the one that uses most; -1 when none. */
static int rt_pick_target(void) {
  int best = -1, best_n = -1;
  for (int t = 0; t < vitc_generated_n_targets; t++) {
    const char *f = vitc_generated_targets[t];
    int n = *f ? 1 : 0;
    for (const char *p = f; *p; p++) n += *p == ',';
    if (n > best_n && rt_cpu_check(f, NULL, 0) == VITC_OK) best = t, best_n = n;
  }
  return best;
}

/* Points s at target t's run functions. */
static void rt_session_target(VitcSession *s, int t) {
  for (int i = 0; i < vitc_generated_n_variants; i++)
    if (vitc_generated_variants[i].target == t) {
      if (!s->variants) s->variants = &vitc_generated_variants[i];
      s->n_variants++;
    }
}

/* Asks the kernel to back the weights with 2 MiB pages where it can (vitc compile aligns large weights to
 * 2 MiB in the file and in memory): a ViT-L streams 1.2 GB of weights per image, and 4 KiB pages make the
 * page walks of that stream a cost of their own. Only the whole 2 MiB blocks inside the weights; a
 * kernel without transparent huge pages for files says no, which changes nothing. */
static void rt_weights_hugepages(void) {
  const uintptr_t huge = (uintptr_t)2 << 20;
  uintptr_t begin = ((uintptr_t)vitc_weights + huge - 1) & ~(huge - 1);
  uintptr_t end = ((uintptr_t)vitc_weights + vitc_generated_info.weights_bytes) & ~(huge - 1);
  if (end > begin) (void)madvise((void *)begin, end - begin, MADV_HUGEPAGE);
}

VitcSession *rt_session_create_with(const VitcSessionOptions *caller, int *status) {
  /* The fields the caller's struct_size covers, the defaults for the rest (an older, smaller struct); a newer
   * caller's extra fields are not read. struct_size must cover n_threads at least. */
  if (!caller || caller->struct_size < offsetof(VitcSessionOptions, n_threads) + sizeof caller->n_threads)
    return rt_fail(status, VITC_ERR_ARG);
  VitcSessionOptions opts = VITC_SESSION_OPTIONS_INIT;
  memcpy(&opts, caller, caller->struct_size < sizeof opts ? caller->struct_size : sizeof opts);
  const VitcSessionOptions *o = &opts;
  rt_weights_hugepages();
  int target = rt_pick_target();
  if (target < 0) return rt_fail(status, VITC_ERR_CPU);
  if (o->pool && !rt_pool_valid(o->pool)) return rt_fail(status, VITC_ERR_ARG);
  VitcSession *s = calloc(1, sizeof *s);
  if (!s) return rt_fail(status, VITC_ERR_NOMEM);
  rt_session_target(s, target);
  int st = rt_session_workspace(s, o);
  if (st == VITC_OK && vitc_generated_n_profile > 0 &&
      !(s->ctx.prof_ns = calloc((size_t)vitc_generated_n_profile, sizeof *s->ctx.prof_ns)))
    st = VITC_ERR_NOMEM;
  if (st == VITC_OK && o->pool) {
    s->ctx.pool = o->pool;
  } else if (st == VITC_OK) {
    s->owns_pool = 1;
    if (!(s->ctx.pool = rt_pool_create(o->n_threads))) st = VITC_ERR_NOMEM;
  }
  if (st != VITC_OK) {
    rt_session_destroy(s);
    return rt_fail(status, st);
  }
  if (status) *status = VITC_OK;
  return s;
}

/* Whether the session and every buffer are there. */
static int rt_args_ok(const VitcSession *s, const void *const *inputs, void *const *outputs) {
  const VitcModelInfo *info = &vitc_generated_info;
  if (!s || (info->n_inputs > 0 && !inputs) || (info->n_outputs > 0 && !outputs)) return 0;
  for (int i = 0; i < info->n_inputs; i++)
    if (!inputs[i]) return 0;
  for (int i = 0; i < info->n_outputs; i++)
    if (!outputs[i]) return 0;
  return 1;
}

int rt_session_run(VitcSession *s, const void *const *inputs, void *const *outputs) {
  if (!rt_args_ok(s, inputs, outputs)) return VITC_ERR_ARG;
  s->ctx.error = 0;
  s->runs++;
  s->variants[s->n_variants - 1].run(&s->ctx, inputs, outputs, s->workspace, vitc_weights);
  return s->ctx.error ? VITC_ERR_INDEX : VITC_OK; /* the pool's join orders the kernels' stores before this */
}

/* Bytes of one sample of tensor t (its first dim taken as the batch). */
static uint64_t rt_sample_bytes(const VitcTensorInfo *t) {
  uint64_t n = t->dtype == VITC_DTYPE_I64 ? 8 : t->dtype == VITC_DTYPE_BOOL ? 1 : 4;
  for (int k = 1; k < t->rank; k++) n *= (uint64_t)t->dims[k];
  return n;
}

#define RT_MAX_IO 64
#define RT_MAX_TENSOR_BYTES (1ull << 40) /* the compiler's ceiling for one tensor (IR_MAX_TENSOR_BYTES) */

/* Whether batch samples of every input and output stay within the one-tensor ceiling (so the offsets below
 * cannot overflow, whatever batch a caller passes to an unbounded dynamic-batch model). */
static int rt_batch_fits(const VitcModelInfo *info, int64_t batch) {
  uint64_t bytes;
  for (int i = 0; i < info->n_inputs + info->n_outputs; i++) {
    const VitcTensorInfo *t = i < info->n_inputs ? &info->inputs[i] : &info->outputs[i - info->n_inputs];
    if (__builtin_mul_overflow((uint64_t)batch, rt_sample_bytes(t), &bytes) || bytes > RT_MAX_TENSOR_BYTES) return 0;
  }
  return 1;
}

int rt_session_run_batch(VitcSession *s, int64_t batch, const void *const *inputs, void *const *outputs) {
  const VitcModelInfo *info = &vitc_generated_info;
  if (!rt_args_ok(s, inputs, outputs)) return VITC_ERR_ARG;
  const RtVariant *v = s->variants;
  int nv = s->n_variants;
  if (batch < 1 || info->n_inputs > RT_MAX_IO || info->n_outputs > RT_MAX_IO)
    return VITC_ERR_ARG;
  if (!info->batch_dynamic) return batch == v[nv - 1].batch ? rt_session_run(s, inputs, outputs) : VITC_ERR_ARG;
  if ((info->max_batch > 0 && batch > info->max_batch) || !rt_batch_fits(info, batch)) return VITC_ERR_ARG;
  const void *in[RT_MAX_IO];
  void *out[RT_MAX_IO];
  s->ctx.error = 0;
  s->runs++;
  /* Batch-major buffers: a run of b samples is the next b samples of every input and output, so the batch
   * is covered by the largest compiled batches that fit (8 + 2 + 1 for 11 with 1, 2, 4, 8). */
  for (int64_t done = 0; done < batch;) {
    int k = nv - 1;
    while (k > 0 && v[k].batch > batch - done) k--;
    for (int i = 0; i < info->n_inputs; i++)
      in[i] = (const uint8_t *)inputs[i] + (uint64_t)done * rt_sample_bytes(&info->inputs[i]);
    for (int i = 0; i < info->n_outputs; i++)
      out[i] = (uint8_t *)outputs[i] + (uint64_t)done * rt_sample_bytes(&info->outputs[i]);
    v[k].run(&s->ctx, in, out, s->workspace, vitc_weights);
    done += v[k].batch;
  }
  return s->ctx.error ? VITC_ERR_INDEX : VITC_OK;
}

void rt_session_destroy(VitcSession *s) {
  if (!s) return;
  free(s->ctx.prof_ns);
  if (s->owns_pool) rt_pool_destroy(s->ctx.pool);
  if (s->owns_workspace) free(s->workspace);
  free(s);
}

VitcPool *rt_vitc_pool_create(int n_threads, int *status) {
  if (rt_cpu_check(vitc_generated_info.cpu_features, NULL, 0) != VITC_OK) return rt_fail(status, VITC_ERR_CPU);
  VitcPool *p = rt_pool_create(n_threads);
  if (!p) return rt_fail(status, VITC_ERR_NOMEM);
  if (status) *status = VITC_OK;
  return p;
}

void rt_vitc_pool_destroy(VitcPool *p) {
  if (rt_pool_valid(p)) rt_pool_destroy(p);
}

void rt_profile_mark(VitcRunCtx *ctx, int64_t slot) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
  if (slot >= 0 && ctx->prof_ns) ctx->prof_ns[slot] += now - ctx->prof_last;
  ctx->prof_last = now;
}

int rt_session_profile(VitcSession *s, VitcProfile *out, int reset) {
  if (!s || !out) return VITC_ERR_ARG;
  if (reset) { /* start a measurement */
    if (s->ctx.prof_ns) memset(s->ctx.prof_ns, 0, (size_t)vitc_generated_n_profile * sizeof *s->ctx.prof_ns);
    s->runs = 0;
  }
  *out = (VitcProfile){vitc_generated_profile, s->ctx.prof_ns, vitc_generated_n_profile, s->runs,
                       rt_pool_threads(s->ctx.pool)};
  return VITC_OK;
}
