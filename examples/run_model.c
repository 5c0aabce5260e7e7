/* Runs a model compiled by vitc, linked directly (no dlopen):
 *
 *   vitc compile vit.onnx --batch 1 -o model.so     # writes model.so and model.h
 *   cc -I. -o run_model examples/run_model.c ./model.so -Wl,-rpath,'$ORIGIN'
 *   ./run_model [THREADS]
 *
 * Every input is filled with a small ramp; prints each output's type and
 * first values. Works with any model: buffer sizes come from vitc_model_info(). */
#include "model.h"
#include <stdio.h>
#include <stdlib.h>

/* Bytes per element of a VITC_DTYPE_* type. */
static size_t dtype_size(int32_t dtype) {
  return dtype == VITC_DTYPE_I64 ? 8 : dtype == VITC_DTYPE_BOOL ? 1 : 4;
}

/* Element count of a tensor description. */
static int64_t numel(const VitcTensorInfo *t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) n *= t->dims[i];
  return n;
}

/* Fills a buffer with a ramp (or 0/1 for bools). */
static void fill(void *p, const VitcTensorInfo *t) {
  for (int64_t i = 0; i < numel(t); i++) {
    if (t->dtype == VITC_DTYPE_F32) ((float *)p)[i] = (float)(i % 17) / 16.0f;
    else if (t->dtype == VITC_DTYPE_I64) ((int64_t *)p)[i] = i % 7 + 1;
    else if (t->dtype == VITC_DTYPE_I32) ((int32_t *)p)[i] = (int32_t)(i % 7 + 1);
    else ((uint8_t *)p)[i] = (uint8_t)(i & 1);
  }
}

/* Prints "name f32[1,1000]: v0 v1 ..." with up to 5 values. */
static void show(const void *p, const VitcTensorInfo *t) {
  printf("%s dtype=%d rank=%d:", t->name, (int)t->dtype, (int)t->rank);
  for (int64_t i = 0; i < numel(t) && i < 5; i++) {
    if (t->dtype == VITC_DTYPE_F32) printf(" %g", (double)((const float *)p)[i]);
    else if (t->dtype == VITC_DTYPE_I64) printf(" %lld", (long long)((const int64_t *)p)[i]);
    else if (t->dtype == VITC_DTYPE_I32) printf(" %d", (int)((const int32_t *)p)[i]);
    else printf(" %d", (int)((const uint8_t *)p)[i]);
  }
  printf("\n");
}

int main(int argc, char **argv) {
  const VitcModelInfo *info = vitc_model_info();
  if (info->abi_version != VITC_ABI_VERSION) return fprintf(stderr, "ABI mismatch\n"), 1;
  enum { MAX_IO = MODEL_N_INPUTS + MODEL_N_OUTPUTS + 1 };
  const void *in[MAX_IO];
  void *out[MAX_IO];
  int st = VITC_OK;
  for (int i = 0; i < info->n_inputs && st == VITC_OK; i++) {
    void *p = malloc((size_t)numel(&info->inputs[i]) * dtype_size(info->inputs[i].dtype) + 1);
    if (!p) st = VITC_ERR_NOMEM;
    else fill(p, &info->inputs[i]);
    in[i] = p;
  }
  for (int j = 0; j < info->n_outputs && st == VITC_OK; j++)
    if (!(out[j] = malloc((size_t)numel(&info->outputs[j]) * dtype_size(info->outputs[j].dtype) + 1))) st = VITC_ERR_NOMEM;
  VitcSession *s = st == VITC_OK ? vitc_session_create(argc > 1 ? atoi(argv[1]) : 0, &st) : NULL;
  if (s) st = vitc_session_run(s, in, out);
  if (st != VITC_OK) return fprintf(stderr, "vitc: %s\n", vitc_status_string(st)), 1;
  for (int j = 0; j < info->n_outputs; j++) show(out[j], &info->outputs[j]);
  vitc_session_destroy(s);
  for (int i = 0; i < info->n_inputs; i++) free((void *)in[i]);
  for (int j = 0; j < info->n_outputs; j++) free(out[j]);
  return 0;
}
