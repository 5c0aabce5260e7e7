/* vitimg: error lines, size checks and checked allocation shared by every part. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "img_internal.h"

/* Formats "NAME: what" into err (truncated to errlen); returns -1 so callers can `return img_fail(...)`. */
int img_fail(char *err, size_t errlen, const char *name, const char *fmt, ...) {
  if (!err || errlen == 0)
    return -1;
  int n = snprintf(err, errlen, "%s: ", name ? name : "image");
  if (n < 0 || (size_t)n >= errlen)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

/* Checks 1 <= w, 1 <= h and w*h <= VITIMG_MAX_PIXELS without overflow. */
int img_check_size(long w, long h) {
  if (w < 1 || h < 1 || w > VITIMG_MAX_PIXELS || h > VITIMG_MAX_PIXELS)
    return -1;
  return w > VITIMG_MAX_PIXELS / h ? -1 : 0;
}

/* Checks the fields of an image the caller hands in. */
int img_check_image(const VitimgU8 *img) {
  if (!img || !img->px || (img->channels != 1 && img->channels != 3))
    return -1;
  return img_check_size(img->width, img->height);
}

/* Allocates w*h*channels bytes for img (sizes checked first; channels 1..4). */
int img_alloc(VitimgU8 *img, int w, int h, int channels) {
  memset(img, 0, sizeof *img);
  if (img_check_size(w, h) || channels < 1 || channels > 4)
    return -1;
  img->px = malloc((size_t)w * (size_t)h * (size_t)channels);
  if (!img->px)
    return -1;
  img->width = w;
  img->height = h;
  img->channels = channels;
  return 0;
}

/* Frees the pixels and zeroes the struct. */
VITIMG_API void vitimg_free(VitimgU8 *img) {
  if (!img)
    return;
  free(img->px);
  memset(img, 0, sizeof *img);
}

/* Composites onto white: c' = (c*a + 255*(255-a) + 127) / 255, grey+alpha -> grey, RGBA -> RGB, in place. */
void img_flatten_alpha(unsigned char *px, size_t npix, int channels) {
  int colours = channels - 1;
  for (size_t i = 0; i < npix; i++) {
    const unsigned char *s = px + i * (size_t)channels;
    unsigned a = s[colours];
    unsigned char *d = px + i * (size_t)colours;
    for (int c = 0; c < colours; c++)
      d[c] = (unsigned char)((s[c] * a + 255u * (255u - a) + 127u) / 255u);
  }
}

int img_decode_error(char *err, size_t errlen, const char *name, const char *format, int too_large, unsigned long w,
                     unsigned long h, int truncated, const char *msg) {
  if (too_large) return img_fail(err, errlen, name, "image size %lux%lu is zero or over 2^28 pixels", w, h);
  if (truncated) return img_fail(err, errlen, name, "truncated %s data", format);
  if (!strcasecmp(msg, "out of memory")) return img_fail(err, errlen, name, "out of memory");
  return img_fail(err, errlen, name, "invalid %s data (%s)", format, msg[0] ? msg : "unknown library error");
}
