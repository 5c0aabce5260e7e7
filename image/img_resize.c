/* vitimg: resizing a whole 8-bit image (PIL's bilinear, or nearest neighbour). */
#include <stdint.h>
#include <string.h>

#include "img_internal.h"

/* Nearest neighbour: output i takes input floor((i + 0.5) * in / out), computed exactly in integers. */
static int img_resize_nearest(const VitimgU8 *img, int w, int h, VitimgU8 *out) {
  if (img_alloc(out, w, h, img->channels))
    return -1;
  size_t ch = (size_t)img->channels;
  for (int y = 0; y < h; y++) {
    int64_t sy = ((2 * (int64_t)y + 1) * img->height) / (2 * (int64_t)h);
    const unsigned char *srow = img->px + (size_t)sy * (size_t)img->width * ch;
    unsigned char *drow = out->px + (size_t)y * (size_t)w * ch;
    for (int x = 0; x < w; x++) {
      int64_t sx = ((2 * (int64_t)x + 1) * img->width) / (2 * (int64_t)w);
      memcpy(drow + (size_t)x * ch, srow + (size_t)sx * ch, ch);
    }
  }
  return 0;
}

/* Resizes img to w x h into out (allocated): bilinear (antialiased when shrinking) or nearest. */
VITIMG_API int vitimg_resize_u8(const VitimgU8 *img, int w, int h, int nearest, VitimgU8 *out) {
  if (!out)
    return -1;
  memset(out, 0, sizeof *out);
  if (img_check_image(img) || img_check_size(w, h))
    return -1;
  if (nearest)
    return img_resize_nearest(img, w, h, out);
  return img_resample_u8(img, w, h, 0, 0, w, h, VITIMG_BILINEAR, out);
}
