/* vitimg: JPEG decoding with libjpeg(-turbo) from a memory buffer. libjpeg's default error handler calls
 * exit(), so errors longjmp back here; the warnings that mean missing or corrupt data are errors too. */
#include <stdio.h> /* jpeglib.h needs FILE and size_t first */

#include <jerror.h>
#include <jpeglib.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "img_internal.h"

/* The error manager plus what one decode owns; it lives in img_jpeg_decode's frame, outside the setjmp. */
typedef struct JpegRead {
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
  char msg[JMSG_LENGTH_MAX];
  int truncated, too_large;
  JDIMENSION w, h;
  unsigned char *px; /* the output image */
  unsigned char *cmyk; /* one CMYK scanline while converting */
} JpegRead;

/* libjpeg error_exit: keeps the message and jumps back instead of exiting. */
static void jpeg_on_error(j_common_ptr cinfo) {
  JpegRead *r = (JpegRead *)cinfo->err;
  if (!r->msg[0])
    cinfo->err->format_message(cinfo, r->msg);
  longjmp(r->jump, 1);
}

/* libjpeg emit_message: the warnings that mean pixels are missing or wrong (premature end of the file or of a
 * data segment, a bad Huffman code, lost restart markers) are fatal; libjpeg would fill in grey. Other warnings
 * (extraneous bytes before a marker, odd scan parameters, unknown JFIF versions) and trace messages are not. */
static void jpeg_on_message(j_common_ptr cinfo, int level) {
  JpegRead *r = (JpegRead *)cinfo->err;
  if (level >= 0)
    return;
  int code = cinfo->err->msg_code;
  if (code == JWRN_JPEG_EOF) {
    r->truncated = 1;
    longjmp(r->jump, 1);
  }
  if (code == JWRN_HIT_MARKER || code == JWRN_HUFF_BAD_CODE || code == JWRN_MUST_RESYNC) {
    cinfo->err->format_message(cinfo, r->msg);
    longjmp(r->jump, 1);
  }
}

/* CMYK (or inverted CMYK when an Adobe marker is present) scanline -> RGB: R = (255-C)(255-K)/255 rounded. */
static void jpeg_cmyk_row(const unsigned char *in, unsigned char *out, JDIMENSION w, int inverted) {
  for (JDIMENSION x = 0; x < w; x++) {
    unsigned c[4];
    for (int i = 0; i < 4; i++)
      c[i] = inverted ? in[4 * x + i] : 255u - in[4 * x + i];
    for (int i = 0; i < 3; i++)
      out[3 * x + i] = (unsigned char)((c[i] * c[3] + 127u) / 255u);
  }
}

/* Reads the header, picks grey/RGB/CMYK output, checks the size and decodes every scanline into r->px. */
static int jpeg_run(struct jpeg_decompress_struct *cinfo, JpegRead *r, const unsigned char *buf, size_t n) {
  if (setjmp(r->jump))
    return -1;
  jpeg_create_decompress(cinfo);
  jpeg_mem_src(cinfo, buf, (unsigned long)n);
  jpeg_read_header(cinfo, TRUE);
  int cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
  cinfo->out_color_space = cmyk ? JCS_CMYK : cinfo->jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
  r->w = cinfo->image_width;
  r->h = cinfo->image_height;
  if (img_check_size((long)r->w, (long)r->h)) {
    r->too_large = 1;
    return -1;
  }
  jpeg_start_decompress(cinfo);
  int ch = cmyk ? 3 : cinfo->output_components;
  if ((ch != 1 && ch != 3) || (cmyk && cinfo->output_components != 4) || cinfo->output_width != r->w ||
      cinfo->output_height != r->h) {
    snprintf(r->msg, sizeof r->msg, "unsupported JPEG colour layout");
    return -1;
  }
  size_t stride = (size_t)r->w * (size_t)ch;
  r->px = malloc(stride * r->h);
  r->cmyk = cmyk ? malloc((size_t)r->w * 4) : NULL;
  if (!r->px || (cmyk && !r->cmyk)) {
    snprintf(r->msg, sizeof r->msg, "out of memory");
    return -1;
  }
  while (cinfo->output_scanline < cinfo->output_height) {
    unsigned char *row = r->px + (size_t)cinfo->output_scanline * stride;
    JSAMPROW rows[1] = {cmyk ? r->cmyk : row};
    if (jpeg_read_scanlines(cinfo, rows, 1) != 1) {
      r->truncated = 1;
      return -1;
    }
    if (cmyk)
      jpeg_cmyk_row(r->cmyk, row, r->w, cinfo->saw_Adobe_marker);
  }
  jpeg_finish_decompress(cinfo);
  return 0;
}

/* Decodes a JPEG held in buf into out (grey or RGB). */
int img_jpeg_decode(const unsigned char *buf, size_t n, const char *name, VitimgU8 *out, char *err, size_t errlen) {
  struct jpeg_decompress_struct cinfo;
  JpegRead r;
  memset(&cinfo, 0, sizeof cinfo);
  memset(&r, 0, sizeof r);
  memset(out, 0, sizeof *out);
  cinfo.err = jpeg_std_error(&r.mgr);
  r.mgr.error_exit = jpeg_on_error;
  r.mgr.emit_message = jpeg_on_message;
  int rc = jpeg_run(&cinfo, &r, buf, n);
  int ch = cinfo.out_color_space == JCS_GRAYSCALE ? 1 : 3;
  jpeg_destroy_decompress(&cinfo);
  free(r.cmyk);
  if (rc) {
    free(r.px);
    return img_decode_error(err, errlen, name, "JPEG", r.too_large, (unsigned long)r.w, (unsigned long)r.h, r.truncated,
                            r.msg);
  }
  out->width = (int)r.w;
  out->height = (int)r.h;
  out->channels = ch;
  out->px = r.px;
  return 0;
}
