/* vitimg: an image to a model input tensor, as torchvision's Resize + CenterCrop + ToTensor + Normalize do it
 * on a PIL image (see vitimg.h for the exact rules). Only the part of the resized image that the crop keeps is
 * computed; that is exact, since every output sample has its own taps. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "img_internal.h"

/* The ImageNet defaults most ViT checkpoints use. */
VITIMG_API VitimgPrep vitimg_prep_default(void) {
  VitimgPrep p = {.size = 224,
                  .resize_size = 256,
                  .color = VITIMG_RGB,
                  .resize = VITIMG_BILINEAR,
                  .mean = {0.485f, 0.456f, 0.406f},
                  .std = {0.229f, 0.224f, 0.225f}};
  return p;
}

/* Python's round(d / 2) for d >= 0: halves go to the even neighbour. */
static long img_half_even(long d) {
  long q = d / 2;
  return (d % 2 && q % 2) ? q + 1 : q;
}

/* Crop of `size` from a resized axis of length len: first resized index of output 0 (negative: padding). */
static long img_crop_offset(long len, long size) {
  return len >= size ? img_half_even(len - size) : -((size - len) / 2);
}

/* PIL's convert("L"): ITU-R 601-2 luma in 16-bit fixed point, rounded. */
static int img_to_grey(const VitimgU8 *img, VitimgU8 *grey) {
  if (img_alloc(grey, img->width, img->height, 1))
    return -1;
  size_t n = (size_t)img->width * (size_t)img->height;
  for (size_t i = 0; i < n; i++) {
    const unsigned char *s = img->px + 3 * i;
    grey->px[i] = (unsigned char)((s[0] * 19595u + s[1] * 38470u + s[2] * 7471u + 0x8000u) >> 16);
  }
  return 0;
}

/* Checks the preprocessing options; the message names the first bad one. */
static int img_check_prep(const VitimgPrep *p, const char *name, char *err, size_t errlen) {
  if (!p)
    return img_fail(err, errlen, name, "no preprocessing options given");
  if (p->size < 1 || p->size > 16384)
    return img_fail(err, errlen, name, "crop size %d is not in 1..16384", p->size);
  if (p->resize_size > VITIMG_MAX_PIXELS)
    return img_fail(err, errlen, name, "resize size %d is over 2^28", p->resize_size);
  if (p->color != VITIMG_RGB && p->color != VITIMG_GRAY)
    return img_fail(err, errlen, name, "unknown colour mode %d", (int)p->color);
  if (p->resize != VITIMG_BILINEAR && p->resize != VITIMG_BICUBIC)
    return img_fail(err, errlen, name, "unknown resize filter %d", (int)p->resize);
  for (int c = 0; c < (p->color == VITIMG_RGB ? 3 : 1); c++) {
    if (!isfinite(p->mean[c]))
      return img_fail(err, errlen, name, "mean[%d] is not finite", c);
    if (!isfinite(p->std[c]) || p->std[c] == 0.0f)
      return img_fail(err, errlen, name, "std[%d] is %g; it must be finite and non-zero", c, (double)p->std[c]);
  }
  return 0;
}

/* Writes the normalised crop: output (x, y) is window pixel (x + ox - wx, y + oy - wy), or black outside it. */
static void img_write_tensor(const VitimgU8 *win, long wx, long wy, long ox, long oy, const VitimgPrep *p,
                             float *out) {
  int oc = p->color == VITIMG_RGB ? 3 : 1;
  long s = p->size;
  for (int c = 0; c < oc; c++) {
    float lut[256];
    for (int v = 0; v < 256; v++)
      lut[v] = ((float)v / 255.0f - p->mean[c]) / p->std[c];
    int src_c = win->channels == 1 ? 0 : c;
    float *plane = out + (size_t)c * (size_t)s * (size_t)s;
    for (long y = 0; y < s; y++) {
      long wyy = y + oy - wy;
      for (long x = 0; x < s; x++) {
        long wxx = x + ox - wx;
        int inside = wyy >= 0 && wyy < win->height && wxx >= 0 && wxx < win->width;
        unsigned v = inside ? win->px[((size_t)wyy * (size_t)win->width + (size_t)wxx) * (size_t)win->channels +
                                      (size_t)src_c]
                            : 0;
        plane[(size_t)y * (size_t)s + (size_t)x] = lut[v];
      }
    }
  }
}

/* Resize short side, centre crop, colour, normalise; errors say "NAME: ...". */
int img_preprocess_named(const VitimgU8 *img, const VitimgPrep *p, float *out, const char *name, char *err,
                         size_t errlen) {
  if (img_check_image(img))
    return img_fail(err, errlen, name, "not a valid image (size, channels 1 or 3, pixels)");
  if (img_check_prep(p, name, err, errlen))
    return -1;
  if (!out)
    return img_fail(err, errlen, name, "no output tensor given");
  long w = img->width, h = img->height, rs = p->resize_size > 0 ? p->resize_size : p->size;
  long shortest = w <= h ? w : h, longest = w <= h ? h : w;
  long long nl = (long long)rs * longest / shortest; /* torchvision: int(size * long / short) */
  if (nl > VITIMG_MAX_PIXELS)
    return img_fail(err, errlen, name, "a %ldx%ld image resized to %ld on its short side is too long (%lld)", w, h,
                    rs, nl);
  long nw = w <= h ? rs : (long)nl, nh = w <= h ? (long)nl : rs;
  long ox = img_crop_offset(nw, p->size), oy = img_crop_offset(nh, p->size);
  long wx = ox > 0 ? ox : 0, wy = oy > 0 ? oy : 0;
  long ww = (ox + p->size < nw ? ox + p->size : nw) - wx, wh = (oy + p->size < nh ? oy + p->size : nh) - wy;

  VitimgU8 grey = {0}, win = {0};
  const VitimgU8 *src = img;
  if (p->color == VITIMG_GRAY && img->channels == 3) {
    if (img_to_grey(img, &grey))
      return img_fail(err, errlen, name, "out of memory");
    src = &grey;
  }
  int rc = img_resample_u8(src, (int)nw, (int)nh, (int)wx, (int)wy, (int)ww, (int)wh, p->resize, &win);
  vitimg_free(&grey);
  if (rc)
    return img_fail(err, errlen, name, "out of memory");
  img_write_tensor(&win, wx, wy, ox, oy, p, out);
  vitimg_free(&win);
  return 0;
}

/* Public entry: errors say "preprocess: ...". */
VITIMG_API int vitimg_preprocess(const VitimgU8 *img, const VitimgPrep *p, float *out, char *err, size_t errlen) {
  return img_preprocess_named(img, p, out, "preprocess", err, errlen);
}
