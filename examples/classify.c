/* Classifies images with a model compiled by vitc, linked directly (no dlopen):
 *
 *   vitc compile vit.onnx --batch 1 -o model.so      # writes model.so and model.h
 *   cc -I. -o classify examples/classify.c ./model.so -Wl,-rpath,'$ORIGIN'
 *   ./classify image.npy [THREADS]
 *
 * The input is a float32 .npy (little-endian, C order) or a raw float32 file
 * with exactly the model's input 0 element count (see MODEL_INPUT0_SHAPE).
 * Prints `class K score S` for each row of the output (the logits): the index
 * of the largest and its value. */
#include "model.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if MODEL_N_INPUTS != 1 || MODEL_N_OUTPUTS != 1 || MODEL_INPUT0_DTYPE != VITC_DTYPE_F32 || \
    MODEL_OUTPUT0_DTYPE != VITC_DTYPE_F32
#error "classify.c expects one f32 input (the images) and one f32 output (the logits)"
#endif

static float image[MODEL_INPUT0_NUMEL], logits[MODEL_OUTPUT0_NUMEL];

/* Skips a .npy header (after checking it describes little-endian float32 data); 0 or -1. */
static int skip_npy_header(FILE *f) {
  unsigned char pre[10];
  if (fread(pre, 1, 10, f) != 10 || pre[6] != 1) return -1; /* format version 1.0 */
  size_t len = (size_t)pre[8] | (size_t)pre[9] << 8;
  char header[65536];
  if (fread(header, 1, len, f) != len) return -1;
  header[len] = 0;
  return strstr(header, "'<f4'") && strstr(header, "'fortran_order': False") ? 0 : -1;
}

/* Reads exactly n floats from path (.npy or raw) into x; 0 or -1 with a message. */
static int read_image(const char *path, float *x, size_t n) {
  FILE *f = fopen(path, "rb");
  if (!f) return fprintf(stderr, "classify: cannot open %s\n", path), -1;
  char magic[6] = {0};
  int npy = fread(magic, 1, 6, f) == 6 && memcmp(magic, "\x93NUMPY", 6) == 0;
  rewind(f);
  int ok = (!npy || skip_npy_header(f) == 0) && fread(x, sizeof *x, n, f) == n && fgetc(f) == EOF;
  fclose(f);
  if (!ok) fprintf(stderr, "classify: %s is not %lld float32 values%s\n", path, (long long)n, npy ? " (.npy)" : "");
  return ok ? 0 : -1;
}

/* Index of the largest of x[0..n). */
static long argmax(const float *x, long n) {
  long best = 0;
  for (long i = 1; i < n; i++)
    if (x[i] > x[best]) best = i;
  return best;
}

int main(int argc, char **argv) {
  if (argc < 2) return fprintf(stderr, "usage: classify IMAGE.npy [THREADS]\n"), 2;
  if (read_image(argv[1], image, MODEL_INPUT0_NUMEL)) return 1;
  int st;
  VitcSession *s = vitc_session_create(argc > 2 ? atoi(argv[2]) : 0, &st);
  if (s) {
    const void *in[1] = {image};
    void *out[1] = {logits};
    st = vitc_session_run(s, in, out);
    vitc_session_destroy(s);
  }
  if (st != VITC_OK) return fprintf(stderr, "classify: %s\n", vitc_status_string(st)), 1;
  static const int64_t shape[] = MODEL_OUTPUT0_SHAPE;
  long classes = (long)shape[MODEL_OUTPUT0_RANK - 1];
  for (long row = 0; row < MODEL_OUTPUT0_NUMEL / classes; row++) {
    long k = argmax(logits + row * classes, classes);
    printf("class %ld score %.6f\n", k, (double)logits[row * classes + k]);
  }
  return 0;
}
