/* `vitc run MODEL --image FILE...`: every image decoded and preprocessed up
 * front, run in batches of the model's batch, printed as `FILE: LABEL (PCT%)`
 * with the runners-up indented below. */
#include "cli.h"
#include "image_cli.h"
#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double cli_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* qsort order for doubles. */
static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

void cli_print_latency(FILE *out, double *ms, int n) {
  qsort(ms, (size_t)n, sizeof *ms, cmp_double);
  double median = n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
  fprintf(out, "latency_ms min=%.3f median=%.3f runs=%d\n", ms[0], median, n);
}

/* Class labels: --labels FILE (one per line), else metadata vitc.labels
 * (newline-separated), else none (classes print as their index). */
typedef struct Labels {
  char *text;     /* owned copy the entries point into */
  char **name;
  int n;
} Labels;

static void labels_free(Labels *l) {
  free(l->text);
  free(l->name);
  memset(l, 0, sizeof *l);
}

/* Splits text (taken over) into lines; '\r' and trailing empty lines are dropped, an empty line
 * between labels is an error (src names the file or model). */
static int labels_split(Labels *l, char *text, const char *src, Diag *d) {
  l->text = text;
  size_t len = strlen(text);
  while (len && (text[len - 1] == '\n' || text[len - 1] == '\r')) text[--len] = 0;
  int cap = 1;
  for (char *p = text; *p; p++) cap += *p == '\n';
  if (!(l->name = malloc((size_t)cap * sizeof *l->name))) return ir_error(d, NULL, NULL, "out of memory");
  for (char *p = text; *p;) {
    char *nl = strchr(p, '\n');
    if (nl) *nl = 0;
    size_t len = strlen(p);
    if (len && p[len - 1] == '\r') p[len - 1] = 0;
    if (!*p) return ir_error(d, src, NULL, "label %d (line %d) is empty", l->n + 1, l->n + 1);
    l->name[l->n++] = p;
    if (!nl) break;
    p = nl + 1;
  }
  return 0;
}

/* Reads the labels and checks their count against the model's classes. */
static int labels_load(const ImageModel *m, const ImageOptions *o, int64_t classes, Labels *l, Diag *d) {
  const char *src = o->labels_file;
  char *text = NULL;
  if (src) {
    struct stat st;
    if (stat(src, &st) != 0) return ir_error(d, src, NULL, "cannot open the labels file: %s", strerror(errno));
    if (!S_ISREG(st.st_mode)) return ir_error(d, src, NULL, "the labels file is not a regular file");
    if (st.st_size > (64 << 20)) return ir_error(d, src, NULL, "the labels file is over 64 MiB");
    size_t len;
    if (!(text = cli_read_file(src, &len, d))) return -1;
    if (strlen(text) != len) return free(text), ir_error(d, src, NULL, "the labels file contains a NUL byte");
  } else {
    const char *meta = cli_image_meta(m, "vitc.labels");
    if (!meta) return 0;
    src = m->path;
    if (!(text = strdup(meta))) return ir_error(d, NULL, NULL, "out of memory");
  }
  if (labels_split(l, text, src, d)) return -1;
  if (l->n != classes)
    return ir_error(d, src, NULL, "%s %d labels, the model has %lld classes",
                    o->labels_file ? "has" : "metadata vitc.labels has", l->n, (long long)classes);
  return 0;
}

/* Whether every row of y [rows, k] already is a probability distribution. */
static int is_probability(const float *y, int64_t rows, int64_t k) {
  for (int64_t r = 0; r < rows; r++) {
    double sum = 0;
    for (int64_t j = 0; j < k; j++) {
      float v = y[r * k + j];
      if (!(v >= 0 && v <= 1)) return 0;
      sum += v;
    }
    if (fabs(sum - 1) > 1e-3) return 0;
  }
  return 1;
}

/* Softmax of row in place (max subtracted first). */
static void softmax_row(float *row, int64_t k) {
  double mx = -INFINITY, sum = 0;
  for (int64_t j = 0; j < k; j++) mx = row[j] > mx ? row[j] : mx;
  for (int64_t j = 0; j < k; j++) sum += exp((double)row[j] - mx);
  for (int64_t j = 0; j < k; j++) row[j] = (float)(exp((double)row[j] - mx) / sum);
}

/* Prints the top classes of one image's probabilities. */
static void print_top(FILE *out, const char *file, float *p, int64_t k, int top, const Labels *l) {
  for (int t = 0; t < top && t < k; t++) {
    int64_t best = -1;
    for (int64_t j = 0; j < k; j++)
      if (p[j] >= 0 && (best < 0 || p[j] > p[best])) best = j;
    if (best < 0) break;
    if (t == 0) fprintf(out, "%s: ", file);
    else fprintf(out, "  ");
    if (l->n) fprintf(out, "%s (%.1f%%)\n", l->name[best], 100.0 * p[best]);
    else fprintf(out, "%lld (%.1f%%)\n", (long long)best, 100.0 * p[best]);
    p[best] = -1; /* taken */
  }
}

/* An image library error ("PATH: what") as a diagnostic naming the image only. */
static int image_error(Diag *d, const char *path, const char *err) {
  size_t n = strlen(path);
  if (strncmp(err, path, n) == 0 && strncmp(err + n, ": ", 2) == 0) err += n + 2;
  return ir_error(d, path, NULL, "%s", err);
}

int cli_image_load(const char *path, const VitimgPrep *p, int channels, float *x, Diag *d) {
  char err[512];
  if (vitimg_load_tensor(path, p, x, err, sizeof err)) return image_error(d, path, err);
  if (channels == 3 && p->color == VITIMG_GRAY) { /* grey on an RGB model: the plane repeated */
    size_t plane = (size_t)p->size * (size_t)p->size;
    memcpy(x + plane, x, plane * sizeof *x);
    memcpy(x + 2 * plane, x, plane * sizeof *x);
  }
  return 0;
}

/* Times o->bench runs of the first batch. */
static int bench_batch(const ImageModel *m, int runs, const float *x, float *y, FILE *out, Diag *d) {
  double *ms = malloc((size_t)runs * sizeof *ms);
  if (!ms) return ir_error(d, NULL, NULL, "out of memory");
  for (int r = -1; r < runs; r++) { /* one warm-up */
    double t0 = cli_now_ms();
    if (m->run(m->run_ctx, x, y, d)) return free(ms), -1;
    if (r >= 0) ms[r] = cli_now_ms() - t0;
  }
  cli_print_latency(out, ms, runs);
  free(ms);
  return 0;
}

/* Runs the images in batches and prints their classes. */
static int classify(const ImageModel *m, const ImageOptions *o, const float *all, const Labels *l, FILE *out, Diag *d) {
  int64_t batch = m->input.dims[0], per = tensor_numel(&m->input) / batch;
  int64_t classes = tensor_numel(&m->output) / batch;
  float *x = calloc((size_t)tensor_numel(&m->input), sizeof *x);
  float *y = malloc((size_t)tensor_numel(&m->output) * sizeof *y);
  int rc = x && y ? 0 : ir_error(d, NULL, NULL, "out of memory");
  for (int first = 0; !rc && first < o->n_images; first += (int)batch) {
    int64_t n = o->n_images - first < batch ? o->n_images - first : batch;
    memcpy(x, all + first * per, (size_t)(n * per) * sizeof *x);
    memset(x + n * per, 0, (size_t)((batch - n) * per) * sizeof *x); /* padding rows, not printed */
    if ((rc = m->run(m->run_ctx, x, y, d))) break;
    int probs = is_probability(y, n, classes);
    for (int64_t i = 0; i < n && !rc; i++) {
      float *row = y + i * classes;
      if (!probs) softmax_row(row, classes);
      for (int64_t j = 0; j < classes && !rc; j++)
        if (!isfinite(row[j]))
          rc = ir_error(d, o->images[first + i], NULL, "the model's output is not finite (NaN or infinity); check the "
                        "preprocessing (--mean, --std, metadata vitc.mean and vitc.std)");
      if (!rc) print_top(out, o->images[first + i], row, classes, o->top ? o->top : 1, l);
    }
  }
  if (!rc && o->bench) { /* the first batch again, timed */
    int64_t n = o->n_images < batch ? o->n_images : batch;
    memcpy(x, all, (size_t)(n * per) * sizeof *x);
    memset(x + n * per, 0, (size_t)((batch - n) * per) * sizeof *x);
    rc = bench_batch(m, o->bench, x, y, out, d);
  }
  free(x);
  free(y);
  return rc;
}

int cli_classify_images(const ImageModel *m, const ImageOptions *o, FILE *out, Diag *d) {
  VitimgPrep p;
  if (cli_image_prep(m, o, &p, d)) return -1;
  const Tensor *y = &m->output;
  int64_t batch = m->input.dims[0];
  if (y->dtype != DT_F32 || y->rank < 1 || batch < 1 || y->dims[0] != batch || tensor_numel(y) / batch < 1) {
    char t[128];
    return ir_error(d, m->path, NULL, "--image needs a first output f32[N,classes] with the input's batch; this one is %s",
                    tensor_type_str(y, t, sizeof t));
  }
  Labels l = {0};
  if (labels_load(m, o, tensor_numel(y) / batch, &l, d)) return labels_free(&l), -1;
  int64_t per = tensor_numel(&m->input) / batch;
  float *all = malloc((size_t)(per * o->n_images) * sizeof *all);
  int rc = all ? 0 : ir_error(d, NULL, NULL, "out of memory for %d images", o->n_images);
  for (int i = 0; !rc && i < o->n_images; i++) rc = cli_image_load(o->images[i], &p, (int)m->input.dims[1], all + i * per, d);
  if (!rc) rc = classify(m, o, all, &l, out, d);
  free(all);
  labels_free(&l);
  return rc;
}
