/* vitimg internals: error lines, checked allocation, the decoders and the PIL-style resampler. */
#ifndef IMG_INTERNAL_H
#define IMG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "vitimg.h"

/* Puts "NAME: what" (printf-style what) into err when err is given; always returns -1. */
int img_fail(char *err, size_t errlen, const char *name, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The error line of a failed decode of `format` ("PNG", "JPEG") and returns -1: the size limit, truncation,
 * out of memory, or the library's message. */
int img_decode_error(char *err, size_t errlen, const char *name, const char *format, int too_large, unsigned long w,
                     unsigned long h, int truncated, const char *msg);
/* 0 when w x h is a usable image size: both >= 1 and at most VITIMG_MAX_PIXELS pixels in all. */
int img_check_size(long w, long h);
/* 0 when img is a well-formed image: a usable size, 1 or 3 channels and pixels. */
int img_check_image(const VitimgU8 *img);
/* Allocates img's pixels for w x h x channels (size checked); 0, or -1 with img zeroed. */
int img_alloc(VitimgU8 *img, int w, int h, int channels);

/* Decodes PNG bytes (signature already checked); name is used in error lines. */
int img_png_decode(const unsigned char *buf, size_t n, const char *name, VitimgU8 *out, char *err, size_t errlen);
/* Decodes JPEG bytes (signature already checked); name is used in error lines. */
int img_jpeg_decode(const unsigned char *buf, size_t n, const char *name, VitimgU8 *out, char *err, size_t errlen);
/* Composites grey+alpha (channels 2) or RGBA (4) rows onto white into grey or RGB, in place. */
void img_flatten_alpha(unsigned char *px, size_t npix, int channels);

/* Resampling taps of one axis for outputs first..first+count-1, PIL's precompute_coeffs: output j takes
 * len[j] input samples from start[j] with weights w[off[j] ..] (doubles) or k[off[j] ..] (fixed point). */
typedef struct ImgTaps {
  int count;
  int *start, *len;
  size_t *off;
  double *w;
  int32_t *k;
} ImgTaps;
/* Builds taps for in_size -> out_size; 0, or -1 when out of memory. */
int img_taps_make(ImgTaps *t, int in_size, int out_size, int first, int count, VitimgResize filter);
/* Frees taps. */
void img_taps_free(ImgTaps *t);

/* PIL's 8-bit resize of img to out_w x out_h, computing only the window x0..x0+cw-1, y0..y0+ch-1 of that
 * result (inside it) into out (allocated, cw x ch). Axes whose size is unchanged are copied. 0 or -1 (memory). */
int img_resample_u8(const VitimgU8 *img, int out_w, int out_h, int x0, int y0, int cw, int ch,
                    VitimgResize filter, VitimgU8 *out);
/* vitimg_preprocess with errors reported as "NAME: ...". */
int img_preprocess_named(const VitimgU8 *img, const VitimgPrep *p, float *out, const char *name, char *err,
                         size_t errlen);
/* Bilinear resize (PIL's taps, double arithmetic) of a iw x ih float plane to ow x oh into out. 0 or -1. */
int img_resample_f32(const float *in, int iw, int ih, int ow, int oh, float *out);

#endif
