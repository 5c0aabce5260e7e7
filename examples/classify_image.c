/* Classifies image files with any model compiled by vitc, loaded at run time,
 * preprocessed the way the model's metadata asks (the same code as
 * `vitc run MODEL.so --image`). Built against an installed vitc:
 *
 *   cc -o classify_image examples/classify_image.c $(pkg-config --cflags --libs vitrt)
 *   ./classify_image model.so cat.png dog.jpg
 *
 * Prints `FILE: LABEL (PCT%)` per image (softmax of the first output). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vitimg.h"
#include "vitrt.h"

/* The index'th line of the newline-separated labels (written into buf), or the index as text. */
static const char *label_of(const char *labels, int index, char *buf, size_t n) {
  for (int i = 0; labels && i < index; i++) {
    labels = strchr(labels, '\n');
    if (labels) labels++;
  }
  if (!labels) snprintf(buf, n, "%d", index);
  else snprintf(buf, n, "%.*s", (int)strcspn(labels, "\n"), labels);
  return buf;
}

/* Classifies one image with session s; 0 or -1 (message printed). */
static int classify(VitrtSession *s, int channels, const VitimgPrep *prep, const char *labels, const char *path,
                    float *x, float *y, long classes) {
  char err[512], name[256];
  if (vitimg_load_tensor(path, prep, x, err, sizeof err)) return fprintf(stderr, "classify_image: %s\n", err), -1;
  size_t plane = (size_t)prep->size * (size_t)prep->size;
  if (channels == 3 && prep->color == VITIMG_GRAY) /* grey metadata on an RGB model: repeat the plane */
    for (int c = 1; c < 3; c++) memcpy(x + c * plane, x, plane * sizeof *x);
  const void *in[1] = {x};
  void *out[1] = {y};
  int st = vitrt_run_batch(s, 1, 1, in, 1, out);
  if (st) return fprintf(stderr, "classify_image: %s: %s\n", path, vitrt_status_string(st)), -1;
  long best = 0;
  double sum = 0;
  for (long j = 1; j < classes; j++)
    if (y[j] > y[best]) best = j;
  for (long j = 0; j < classes; j++) sum += exp((double)y[j] - y[best]);
  if (!isfinite(sum)) return fprintf(stderr, "classify_image: %s: the model's output is not finite\n", path), -1;
  printf("%s: %s (%.1f%%)\n", path, label_of(labels, (int)best, name, sizeof name), 100.0 / sum);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) return fprintf(stderr, "usage: classify_image MODEL.so IMAGE...\n"), 2;
  char err[1024];
  VitrtModel *m = vitrt_open(argv[1], err, sizeof err);
  if (!m) return fprintf(stderr, "classify_image: %s\n", err), 1;
  const VitcModelInfo *info = vitrt_info(m);
  const VitcTensorInfo *in = &info->inputs[0], *out = &info->outputs[0];
  /* One image per run: a batch-1 model, or a dynamic-batch one run at batch 1. */
  if (info->n_inputs != 1 || info->n_outputs != 1 || in->rank != 4 || (in->dims[0] != 1 && !info->batch_dynamic) ||
      in->dims[2] != in->dims[3]) {
    fprintf(stderr, "classify_image: %s: expects one input [1, C, S, S] (or a dynamic batch) and one output\n", argv[1]);
    vitrt_close(m);
    return 1;
  }
  VitimgPrep prep;
  if (vitimg_prep_from_metadata((const VitimgMeta *)info->metadata, info->n_metadata, (int)in->dims[1],
                                (int)in->dims[2], &prep, err, sizeof err)) {
    fprintf(stderr, "classify_image: %s: %s\n", argv[1], err);
    vitrt_close(m);
    return 1;
  }
  long classes = (long)out->dims[out->rank - 1];
  float *x = malloc((size_t)(in->dims[1] * in->dims[2] * in->dims[3]) * sizeof *x);
  float *y = malloc((size_t)classes * sizeof *y);
  int st, rc = 0;
  VitrtSession *s = x && y ? vitrt_session_create(m, 0, &st) : NULL;
  if (!s && st == VITC_ERR_CPU && vitrt_cpu_check(m, err, sizeof err) == VITC_ERR_CPU)
    rc = (fprintf(stderr, "classify_image: %s: %s\n", argv[1], err), 1);
  else if (!s)
    rc = (fprintf(stderr, "classify_image: cannot create a session: %s\n", vitrt_status_string(st)), 1);
  for (int i = 2; i < argc && !rc; i++)
    if (classify(s, (int)in->dims[1], &prep, vitrt_meta(m, "vitc.labels"), argv[i], x, y, classes)) rc = 1;
  vitrt_session_destroy(s);
  vitrt_close(m);
  free(x);
  free(y);
  return rc;
}
