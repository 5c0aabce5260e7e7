/* vitimg: separable resampling as PIL's Image.resize does it (Resample.c): per output sample a window of
 * input samples around its centre (i + 0.5) * scale, the filter widened by the scale when shrinking, taps
 * outside the image dropped and the rest renormalised; 8-bit images use 22-bit fixed-point weights and round
 * to 8 bits after the horizontal and then the vertical pass, exactly like PIL. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "img_internal.h"

/* PIL's PRECISION_BITS for 8-bit images: 32 - 8 - 2. */
#define IMG_PRECISION_BITS 22

/* The triangle filter (bilinear), support 1. */
static double img_filter_bilinear(double x) {
  if (x < 0.0)
    x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

/* Keys' cubic with a = -0.5 (PIL's bicubic), support 2. */
static double img_filter_bicubic(double x) {
  const double a = -0.5;
  if (x < 0.0)
    x = -x;
  if (x < 1.0)
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0)
    return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

/* Frees the taps and zeroes them. */
void img_taps_free(ImgTaps *t) {
  free(t->start);
  free(t->len);
  free(t->off);
  free(t->w);
  free(t->k);
  memset(t, 0, sizeof *t);
}

/* Builds the taps of outputs first..first+count-1 for in_size -> out_size (PIL's precompute_coeffs, with the
 * weights of each output stored back to back instead of in a fixed-width table). */
int img_taps_make(ImgTaps *t, int in_size, int out_size, int first, int count, VitimgResize filter) {
  memset(t, 0, sizeof *t);
  double (*f)(double) = filter == VITIMG_BICUBIC ? img_filter_bicubic : img_filter_bilinear;
  double scale = (double)in_size / out_size;
  double fscale = scale < 1.0 ? 1.0 : scale;
  double support = (filter == VITIMG_BICUBIC ? 2.0 : 1.0) * fscale;
  double ss = 1.0 / fscale;
  t->count = count;
  t->start = malloc(sizeof *t->start * (size_t)count);
  t->len = malloc(sizeof *t->len * (size_t)count);
  t->off = malloc(sizeof *t->off * (size_t)count);
  if (!t->start || !t->len || !t->off)
    goto oom;
  size_t total = 0;
  for (int j = 0; j < count; j++) {
    double centre = (first + j + 0.5) * scale;
    int lo = (int)(centre - support + 0.5), hi = (int)(centre + support + 0.5);
    lo = lo < 0 ? 0 : lo;
    hi = hi > in_size ? in_size : hi;
    t->start[j] = lo;
    t->len[j] = hi > lo ? hi - lo : 0;
    t->off[j] = total;
    total += (size_t)t->len[j];
  }
  t->w = malloc(sizeof *t->w * (total ? total : 1));
  t->k = malloc(sizeof *t->k * (total ? total : 1));
  if (!t->w || !t->k)
    goto oom;
  for (int j = 0; j < count; j++) {
    double centre = (first + j + 0.5) * scale, sum = 0.0;
    double *w = t->w + t->off[j];
    for (int x = 0; x < t->len[j]; x++) {
      w[x] = f((x + t->start[j] - centre + 0.5) * ss);
      sum += w[x];
    }
    for (int x = 0; x < t->len[j]; x++) {
      if (sum != 0.0)
        w[x] /= sum;
      double fixed = w[x] * (1 << IMG_PRECISION_BITS);
      t->k[t->off[j] + x] = (int32_t)(w[x] < 0 ? fixed - 0.5 : fixed + 0.5);
    }
  }
  return 0;
oom:
  img_taps_free(t);
  return -1;
}

/* A fixed-point sum back to 8 bits, clamped (PIL's clip8). */
static unsigned char img_clip8(int32_t v) {
  if (v >= (int32_t)1 << IMG_PRECISION_BITS << 8)
    return 255;
  if (v <= 0)
    return 0;
  return (unsigned char)(v >> IMG_PRECISION_BITS);
}

/* Horizontal pass: rows of src (ch channels, sstride bytes apart) -> t->count samples per row into dst. */
static void img_pass_h(const unsigned char *src, size_t sstride, int rows, int ch, const ImgTaps *t,
                       unsigned char *dst) {
  size_t dstride = (size_t)t->count * (size_t)ch;
  for (int y = 0; y < rows; y++) {
    const unsigned char *s = src + (size_t)y * sstride;
    unsigned char *d = dst + (size_t)y * dstride;
    for (int j = 0; j < t->count; j++) {
      const int32_t *k = t->k + t->off[j];
      const unsigned char *sp = s + (size_t)t->start[j] * (size_t)ch;
      int32_t acc[3] = {1 << (IMG_PRECISION_BITS - 1), 1 << (IMG_PRECISION_BITS - 1), 1 << (IMG_PRECISION_BITS - 1)};
      for (int x = 0; x < t->len[j]; x++)
        for (int c = 0; c < ch; c++)
          acc[c] += sp[x * ch + c] * k[x];
      for (int c = 0; c < ch; c++)
        d[(size_t)j * (size_t)ch + (size_t)c] = img_clip8(acc[c]);
    }
  }
}

/* Vertical pass: src rows (row0 is the first held) of nbytes bytes -> t->count rows into dst. */
static int img_pass_v(const unsigned char *src, size_t sstride, int row0, size_t nbytes, const ImgTaps *t,
                      unsigned char *dst) {
  int32_t *acc = malloc(sizeof *acc * nbytes);
  if (!acc)
    return -1;
  for (int i = 0; i < t->count; i++) {
    for (size_t b = 0; b < nbytes; b++)
      acc[b] = 1 << (IMG_PRECISION_BITS - 1);
    const int32_t *k = t->k + t->off[i];
    for (int y = 0; y < t->len[i]; y++) {
      const unsigned char *s = src + (size_t)(t->start[i] + y - row0) * sstride;
      for (size_t b = 0; b < nbytes; b++)
        acc[b] += s[b] * k[y];
    }
    unsigned char *d = dst + (size_t)i * nbytes;
    for (size_t b = 0; b < nbytes; b++)
      d[b] = img_clip8(acc[b]);
  }
  free(acc);
  return 0;
}

/* The window x0.., y0.. (cw x ch) of img resized to out_w x out_h, horizontal pass first as PIL does. */
int img_resample_u8(const VitimgU8 *img, int out_w, int out_h, int x0, int y0, int cw, int chh,
                    VitimgResize filter, VitimgU8 *out) {
  int ch = img->channels, rc = -1;
  int need_h = out_w != img->width, need_v = out_h != img->height;
  ImgTaps th = {0}, tv = {0};
  unsigned char *tmp = NULL;
  if (img_alloc(out, cw, chh, ch))
    return -1;
  int r0 = y0, r1 = y0 + chh; /* input rows the vertical pass reads */
  if (need_v) {
    if (img_taps_make(&tv, img->height, out_h, y0, chh, filter))
      goto done;
    r0 = tv.start[0];
    r1 = tv.start[0];
    for (int i = 0; i < chh; i++) {
      r0 = tv.start[i] < r0 ? tv.start[i] : r0;
      r1 = tv.start[i] + tv.len[i] > r1 ? tv.start[i] + tv.len[i] : r1;
    }
  }
  size_t in_stride = (size_t)img->width * (size_t)ch, row_bytes = (size_t)cw * (size_t)ch;
  const unsigned char *rows = img->px + (size_t)r0 * in_stride + (size_t)x0 * (size_t)ch;
  size_t stride = in_stride;
  if (need_h) {
    tmp = malloc(row_bytes * (size_t)(r1 > r0 ? r1 - r0 : 1));
    if (!tmp || img_taps_make(&th, img->width, out_w, x0, cw, filter))
      goto done;
    img_pass_h(img->px + (size_t)r0 * in_stride, in_stride, r1 - r0, ch, &th, tmp);
    rows = tmp;
    stride = row_bytes;
  }
  if (need_v) {
    if (img_pass_v(rows, stride, r0, row_bytes, &tv, out->px))
      goto done;
  } else {
    for (int y = 0; y < chh; y++)
      memcpy(out->px + (size_t)y * row_bytes, rows + (size_t)y * stride, row_bytes);
  }
  rc = 0;
done:
  img_taps_free(&th);
  img_taps_free(&tv);
  free(tmp);
  if (rc)
    vitimg_free(out);
  return rc;
}

/* Bilinear float resize: PIL's taps in double precision, horizontal then vertical, no rounding between. */
int img_resample_f32(const float *in, int iw, int ih, int ow, int oh, float *out) {
  ImgTaps th = {0}, tv = {0};
  double *tmp = malloc(sizeof *tmp * (size_t)ih * (size_t)ow);
  int rc = -1;
  if (!tmp || img_taps_make(&th, iw, ow, 0, ow, VITIMG_BILINEAR) ||
      img_taps_make(&tv, ih, oh, 0, oh, VITIMG_BILINEAR))
    goto done;
  for (int y = 0; y < ih; y++)
    for (int j = 0; j < ow; j++) {
      const float *s = in + (size_t)y * (size_t)iw;
      double acc = 0.0;
      if (iw == ow)
        acc = s[j];
      else
        for (int x = 0; x < th.len[j]; x++)
          acc += s[th.start[j] + x] * th.w[th.off[j] + x];
      tmp[(size_t)y * (size_t)ow + (size_t)j] = acc;
    }
  for (int i = 0; i < oh; i++)
    for (int j = 0; j < ow; j++) {
      double acc = 0.0;
      if (ih == oh)
        acc = tmp[(size_t)i * (size_t)ow + (size_t)j];
      else
        for (int y = 0; y < tv.len[i]; y++)
          acc += tmp[(size_t)(tv.start[i] + y) * (size_t)ow + (size_t)j] * tv.w[tv.off[i] + y];
      out[(size_t)i * (size_t)ow + (size_t)j] = (float)acc;
    }
  rc = 0;
done:
  img_taps_free(&th);
  img_taps_free(&tv);
  free(tmp);
  return rc;
}
