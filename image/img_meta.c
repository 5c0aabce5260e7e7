/* A model's preprocessing from its metadata (the `vitc.*` keys, docs/image.md):
 * one rule for the CLI, C programs and the Python module. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "img_internal.h"

/* The value of key in meta[0..n), NULL when absent. */
static const char *meta_get(const VitimgMeta *meta, int n, const char *key) {
  for (int i = 0; i < n; i++)
    if (meta[i].key && meta[i].value && strcmp(meta[i].key, key) == 0) return meta[i].value;
  return NULL;
}

VITIMG_API int vitimg_parse_channels(const char *s, int is_std, float v[3]) {
  float x[3];
  int n = 0;
  for (const char *p = s;;) {
    char *end;
    double d = strtod(p, &end);
    if (n == 3 || end == p || !isfinite(d) || (is_std && !(d >= VITIMG_MIN_STD))) return -1;
    x[n++] = (float)d;
    if (*end == 0) break;
    if (*end != ',') return -1;
    p = end + 1;
  }
  if (n == 2) return -1;
  for (int c = 0; c < 3; c++) v[c] = x[n == 3 ? c : 0];
  return 0;
}

/* Parses a whole number from 1 to 16384; -1 when s is not one. */
static int parse_side(const char *s) {
  char *end;
  long v = strtol(s, &end, 10);
  return (*s && !*end && v >= 1 && v <= 16384) ? (int)v : -1;
}

/* Sets *dst from an integer key when present. */
static int meta_side(const VitimgMeta *m, int n, const char *key, int *dst, char *err, size_t errlen) {
  const char *s = meta_get(m, n, key);
  if (s && (*dst = parse_side(s)) < 0)
    return img_fail(err, errlen, "metadata", "%s = '%s' is not an integer from 1 to 16384", key, s);
  return 0;
}

/* Sets dst[3] from a 1-or-3-floats key when present. */
static int meta_floats(const VitimgMeta *m, int n, const char *key, float *dst, int positive, char *err,
                       size_t errlen) {
  const char *s = meta_get(m, n, key);
  if (s && vitimg_parse_channels(s, positive, dst))
    return img_fail(err, errlen, "metadata", "%s = '%s' is not 1 or 3 finite numbers%s", key, s,
                    positive ? " of at least 1e-6" : "");
  return 0;
}

VITIMG_API int vitimg_prep_from_metadata(const VitimgMeta *meta, int n, int in_channels, int in_size,
                                         VitimgPrep *p, char *err, size_t errlen) {
  VitimgPrep q = vitimg_prep_default();
  if (!p || (n > 0 && !meta) || (in_channels != 1 && in_channels != 3) || in_size < 1)
    return img_fail(err, errlen, "metadata", "needs a model input of 1 or 3 channels and a positive size");
  if (n < 0) n = 0;
  const char *size = meta_get(meta, n, "vitc.image_size"), *color = meta_get(meta, n, "vitc.color");
  const char *resize = meta_get(meta, n, "vitc.resize");
  if (size) q.resize_size = 0; /* the image size unless vitc.resize_size says otherwise */
  if (meta_side(meta, n, "vitc.image_size", &q.size, err, errlen) ||
      meta_side(meta, n, "vitc.resize_size", &q.resize_size, err, errlen) ||
      meta_floats(meta, n, "vitc.mean", q.mean, 0, err, errlen) || meta_floats(meta, n, "vitc.std", q.std, 1, err, errlen))
    return -1;
  if (!size) { /* the model's own size, with ImageNet's resize ratio */
    q.resize_size = (int)((double)in_size * q.resize_size / q.size + 0.5);
    q.size = in_size;
  } else if (q.resize_size == 0) {
    q.resize_size = q.size;
  }
  if (q.size != in_size)
    return img_fail(err, errlen, "metadata", "vitc.image_size = %d, but the model's input is %dx%d", q.size, in_size,
                    in_size);
  if (color && strcmp(color, "grayscale") == 0) q.color = VITIMG_GRAY;
  else if (color && strcmp(color, "rgb") != 0)
    return img_fail(err, errlen, "metadata", "vitc.color = '%s' is not rgb or grayscale", color);
  if (resize && strcmp(resize, "bicubic") == 0) q.resize = VITIMG_BICUBIC;
  else if (resize && strcmp(resize, "bilinear") != 0)
    return img_fail(err, errlen, "metadata", "vitc.resize = '%s' is not bilinear or bicubic", resize);
  if (in_channels == 1) q.color = VITIMG_GRAY;
  *p = q;
  return 0;
}
