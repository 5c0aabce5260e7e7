/* The entry points every model .so exports: they wrap the generated code
 * (vitc_generated_*) with a session that owns the workspace and the pool. */
#include "rt.h"
#include <stdlib.h>

struct VitcSession {
  VitcRunCtx ctx;
  uint8_t *workspace;
};

RT_EXPORT const VitcModelInfo *vitc_model_info(void) { return &vitc_generated_info; }

/* Stores a status where the caller asked for one. */
static void rt_set_status(int *status, int value) {
  if (status) *status = value;
}

RT_EXPORT VitcSession *vitc_session_create(int n_threads, int *status) {
  VitcSession *s = calloc(1, sizeof *s);
  if (!s) {
    rt_set_status(status, VITC_ERR_NOMEM);
    return NULL;
  }
  uint64_t bytes = vitc_generated_info.workspace_bytes;
  if (bytes) {
    uint64_t rounded = (bytes + RT_ALIGN - 1) & ~(uint64_t)(RT_ALIGN - 1);
    s->workspace = rounded == (size_t)rounded ? aligned_alloc(RT_ALIGN, (size_t)rounded) : NULL;
  }
  s->ctx.pool = (bytes == 0 || s->workspace) ? rt_pool_create(n_threads) : NULL;
  if (!s->ctx.pool) {
    vitc_session_destroy(s);
    rt_set_status(status, VITC_ERR_NOMEM);
    return NULL;
  }
  rt_set_status(status, VITC_OK);
  return s;
}

RT_EXPORT int vitc_session_run(VitcSession *s, const void *const *inputs, void *const *outputs) {
  const VitcModelInfo *info = &vitc_generated_info;
  if (!s || (info->n_inputs > 0 && !inputs) || (info->n_outputs > 0 && !outputs)) return VITC_ERR_ARG;
  for (int i = 0; i < info->n_inputs; i++)
    if (!inputs[i]) return VITC_ERR_ARG;
  for (int i = 0; i < info->n_outputs; i++)
    if (!outputs[i]) return VITC_ERR_ARG;
  vitc_generated_run(&s->ctx, inputs, outputs, s->workspace, vitc_weights);
  return VITC_OK;
}

RT_EXPORT void vitc_session_destroy(VitcSession *s) {
  if (!s) return;
  rt_pool_destroy(s->ctx.pool);
  free(s->workspace);
  free(s);
}
