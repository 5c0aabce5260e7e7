/* vitimg: PNG decoding with libpng from a memory buffer; libpng errors come back through longjmp. */
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "img_internal.h"

/* What one decode owns; it lives in img_png_decode's frame, outside the setjmp, so a longjmp keeps it. */
typedef struct PngRead {
  const unsigned char *buf;
  size_t n, pos;
  char msg[200];      /* libpng's error text, or ours */
  int truncated;      /* the data ran out */
  int too_large;      /* the size limit, with w and h */
  png_uint_32 w, h;
  unsigned char *px;  /* decoded rows, 1..4 channels */
  png_bytep *rows;
  int channels;
} PngRead;

/* libpng error callback: keeps the message and jumps back to the setjmp in png_run. */
static void png_on_error(png_structp png, png_const_charp msg) {
  PngRead *r = png_get_error_ptr(png);
  if (!r->msg[0])
    snprintf(r->msg, sizeof r->msg, "%s", msg ? msg : "unknown libpng error");
  png_longjmp(png, 1);
}

/* libpng warning callback: warnings (bad ancillary chunks, sRGB profiles) do not stop decoding. */
static void png_on_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg;
}

/* libpng read callback over the buffer; running out of data is a truncation error. */
static void png_on_read(png_structp png, png_bytep data, size_t len) {
  PngRead *r = png_get_io_ptr(png);
  if (len > r->n - r->pos) {
    r->truncated = 1;
    png_error(png, "truncated PNG data");
  }
  memcpy(data, r->buf + r->pos, len);
  r->pos += len;
}

/* Sets up the 8-bit grey/GA/RGB/RGBA transforms, checks the size and reads every row into r->px. */
static int png_run(png_structp png, png_infop info, PngRead *r) {
  if (setjmp(png_jmpbuf(png)))
    return -1;
  png_set_read_fn(png, r, png_on_read);
  png_read_info(png, info);
  r->w = png_get_image_width(png, info);
  r->h = png_get_image_height(png, info);
  if (img_check_size((long)r->w, (long)r->h)) {
    r->too_large = 1;
    return -1;
  }
  png_set_expand(png);   /* palette -> RGB, grey < 8 bits -> 8, tRNS -> alpha */
  png_set_strip_16(png); /* 16 -> 8 bits: the high byte */
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  r->channels = png_get_channels(png, info);
  size_t rowbytes = png_get_rowbytes(png, info);
  if (r->channels < 1 || r->channels > 4 || rowbytes != (size_t)r->w * (size_t)r->channels)
    png_error(png, "unexpected PNG layout after conversion to 8 bits");
  r->px = malloc(rowbytes * r->h);
  r->rows = malloc(sizeof *r->rows * r->h);
  if (!r->px || !r->rows)
    png_error(png, "out of memory");
  for (png_uint_32 y = 0; y < r->h; y++)
    r->rows[y] = r->px + (size_t)y * rowbytes;
  png_read_image(png, r->rows);
  png_read_end(png, NULL);
  return 0;
}

/* Decodes a PNG held in buf into out (grey or RGB; alpha composited onto white). */
int img_png_decode(const unsigned char *buf, size_t n, const char *name, VitimgU8 *out, char *err, size_t errlen) {
  PngRead r = {.buf = buf, .n = n};
  memset(out, 0, sizeof *out);
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, png_on_error, png_on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!info) {
    png_destroy_read_struct(&png, NULL, NULL);
    return img_fail(err, errlen, name, "out of memory");
  }
  int rc = png_run(png, info, &r);
  png_destroy_read_struct(&png, &info, NULL);
  free(r.rows);
  if (rc) {
    free(r.px);
    return img_decode_error(err, errlen, name, "PNG", r.too_large, (unsigned long)r.w, (unsigned long)r.h, r.truncated,
                            r.msg);
  }
  if (r.channels == 2 || r.channels == 4)
    img_flatten_alpha(r.px, (size_t)r.w * r.h, r.channels);
  out->width = (int)r.w;
  out->height = (int)r.h;
  out->channels = r.channels >= 3 ? 3 : 1;
  out->px = r.px;
  if (r.channels == 2 || r.channels == 4) {
    unsigned char *smaller = realloc(r.px, (size_t)r.w * r.h * (size_t)out->channels);
    if (smaller)
      out->px = smaller;
  }
  return 0;
}
