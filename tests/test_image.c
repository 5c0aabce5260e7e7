/* vitimg (image/): decoding of every PNG flavour and of JPEGs made here with libpng and libjpeg, clear errors
 * on bad files, PNG writing that leaves nothing behind on failure, and preprocessing against hand-computed and
 * PIL-computed values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

#include "vitimg.h"

static char g_dir[64]; /* the temp folder every test writes into */

/* g_dir/name into buf. */
static const char *tpath(char *buf, size_t n, const char *name) {
  snprintf(buf, n, "%s/%s", g_dir, name);
  return buf;
}

/* Deterministic test pixels. */
static unsigned char pattern(int x, int y, int c) {
  return (unsigned char)((x * 37 + y * 91 + c * 53 + ((x * y) % 7) * 11) & 255);
}

/* A w x h image with ch channels filled from pattern(). */
static VitimgU8 make_image(int w, int h, int ch) {
  VitimgU8 img = {w, h, ch, malloc((size_t)w * h * ch)};
  assert_non_null(img.px);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < ch; c++)
        img.px[((size_t)y * w + x) * ch + c] = pattern(x, y, c);
  return img;
}

/* Writes n bytes to path. */
static void write_bytes(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

/* Reads a whole file (malloc'd) and its size. */
static unsigned char *read_bytes(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc((size_t)len + 1);
  assert_non_null(b);
  assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
  fclose(f);
  *n = (size_t)len;
  return b;
}

/* Options of a raw PNG written straight with libpng. */
typedef struct RawPng {
  int w, h, depth, color, interlace;
  const unsigned char *rows; /* packed rows, stride bytes each */
  size_t stride;
  const png_color *palette;
  int npalette;
  const unsigned char *trns; /* palette alpha */
  int ntrns;
  const png_color_16 *trans; /* grey/RGB transparent colour */
} RawPng;

/* Writes a PNG with libpng exactly as described (any depth, colour type, interlace). */
static void write_raw_png(const char *path, const RawPng *r) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  assert_non_null(info);
  assert_int_equal(setjmp(png_jmpbuf(png)), 0);
  png_init_io(png, f);
  png_set_IHDR(png, info, r->w, r->h, r->depth, r->color, r->interlace, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (r->palette)
    png_set_PLTE(png, info, r->palette, r->npalette);
  if (r->trns || r->trans)
    png_set_tRNS(png, info, r->trns, r->ntrns, r->trans);
  png_write_info(png, info);
  if (r->depth == 16)
    png_set_swap(png); /* rows are given little-endian below */
  png_bytep *rows = malloc(sizeof *rows * r->h);
  for (int y = 0; y < r->h; y++)
    rows[y] = (png_bytep)r->rows + (size_t)y * r->stride;
  png_write_image(png, rows);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  free(rows);
  assert_int_equal(fclose(f), 0);
}

/* Loads path, expecting success, and checks the size and channels. */
static VitimgU8 load_ok(const char *path, int w, int h, int ch) {
  VitimgU8 img;
  char err[256] = "";
  int rc = vitimg_load(path, &img, err, sizeof err);
  if (rc)
    fail_msg("vitimg_load(%s): %s", path, err);
  assert_int_equal(img.width, w);
  assert_int_equal(img.height, h);
  assert_int_equal(img.channels, ch);
  return img;
}

/* Expects vitimg_load to fail with "PATH: want..." and a zeroed image. */
static void load_fails(const char *path, const char *want) {
  VitimgU8 img = {1, 1, 1, (unsigned char *)1};
  char err[256] = "", expect[512];
  if (vitimg_load(path, &img, err, sizeof err) != -1)
    fail_msg("vitimg_load(%s) succeeded; want '%s'", path, want);
  snprintf(expect, sizeof expect, "%s: %s", path, want);
  if (strncmp(err, expect, strlen(expect)))
    fail_msg("got '%s', want a message starting '%s'", err, expect);
  assert_null(img.px);
  assert_int_equal(img.width, 0);
  assert_null(strchr(err, '\n'));
}

/* A JPEG written with libjpeg: components 1 (grey), 3 (RGB) or 4 (CMYK, stored as given). */
static void write_jpeg(const char *path, int w, int h, int comps, const unsigned char *px, int quality,
                       int progressive) {
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  jpeg_stdio_dest(&c, f);
  c.image_width = w;
  c.image_height = h;
  c.input_components = comps;
  c.in_color_space = comps == 1 ? JCS_GRAYSCALE : comps == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  if (progressive)
    jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = (JSAMPROW)px + (size_t)c.next_scanline * w * comps;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  assert_int_equal(fclose(f), 0);
}

/* Largest absolute difference between two byte arrays. */
static int max_diff(const unsigned char *a, const unsigned char *b, size_t n) {
  int m = 0;
  for (size_t i = 0; i < n; i++) {
    int d = abs((int)a[i] - (int)b[i]);
    m = d > m ? d : m;
  }
  return m;
}

/* A smooth image that JPEG keeps well. */
static unsigned char smooth(int x, int y, int c) {
  return (unsigned char)(40 + c * 30 + x * 2 + y);
}

/* Grey and RGB images written with vitimg_write_png load back byte for byte. */
static void test_png_roundtrip_grey_rgb(void **state) {
  (void)state;
  char p[256];
  char err[256];
  for (int ch = 1; ch <= 3; ch += 2) {
    VitimgU8 img = make_image(13, 7, ch);
    tpath(p, sizeof p, ch == 1 ? "grey.png" : "rgb.png");
    assert_int_equal(vitimg_write_png(p, &img, err, sizeof err), 0);
    VitimgU8 back = load_ok(p, 13, 7, ch);
    assert_memory_equal(back.px, img.px, (size_t)13 * 7 * ch);
    vitimg_free(&back);
    assert_null(back.px);
    assert_int_equal(back.width, 0);
    vitimg_free(&img);
  }
  vitimg_free(NULL);
}

/* Palette PNGs (2-bit indices) expand to RGB; palette transparency is composited onto white. */
static void test_png_palette(void **state) {
  (void)state;
  char p[256];
  const png_color pal[4] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}};
  const unsigned char rows[2] = {0x1b, 0xe4}; /* 2-bit indices: 0 1 2 3 / 3 2 1 0 */
  RawPng r = {4, 2, 2, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, rows, 1, pal, 4, NULL, 0, NULL};
  write_raw_png(tpath(p, sizeof p, "pal.png"), &r);
  VitimgU8 img = load_ok(p, 4, 2, 3);
  const int idx[8] = {0, 1, 2, 3, 3, 2, 1, 0};
  for (int i = 0; i < 8; i++) {
    assert_int_equal(img.px[3 * i], pal[idx[i]].red);
    assert_int_equal(img.px[3 * i + 1], pal[idx[i]].green);
    assert_int_equal(img.px[3 * i + 2], pal[idx[i]].blue);
  }
  vitimg_free(&img);

  /* Palette transparency: index 1 fully transparent (white), index 2 half (composited onto white). */
  const unsigned char alpha[3] = {255, 0, 128};
  RawPng t = {4, 2, 2, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, rows, 1, pal, 4, alpha, 3, NULL};
  write_raw_png(tpath(p, sizeof p, "pal_trns.png"), &t);
  img = load_ok(p, 4, 2, 3);
  const unsigned char want[4][3] = {{255, 0, 0}, {255, 255, 255}, {127, 127, 255}, {10, 20, 30}};
  for (int i = 0; i < 4; i++)
    assert_memory_equal(img.px + 3 * i, want[i], 3);
  vitimg_free(&img);
}

/* 16-bit RGB and grey PNGs keep the high byte of each sample. */
static void test_png_16bit(void **state) {
  (void)state;
  char p[256];
  uint16_t rgb[2 * 3 * 3], grey[3 * 2];
  for (int i = 0; i < 18; i++)
    rgb[i] = (uint16_t)(i * 3631 + 255);
  for (int i = 0; i < 6; i++)
    grey[i] = (uint16_t)(65535 - i * 9000);
  RawPng r = {3, 2, 16, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, (unsigned char *)rgb, 3 * 3 * 2, NULL, 0, NULL, 0,
              NULL};
  write_raw_png(tpath(p, sizeof p, "rgb16.png"), &r);
  VitimgU8 img = load_ok(p, 3, 2, 3);
  for (int i = 0; i < 18; i++)
    assert_int_equal(img.px[i], rgb[i] >> 8);
  vitimg_free(&img);
  RawPng g = {3, 2, 16, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, (unsigned char *)grey, 3 * 2, NULL, 0, NULL, 0,
              NULL};
  write_raw_png(tpath(p, sizeof p, "grey16.png"), &g);
  img = load_ok(p, 3, 2, 1);
  for (int i = 0; i < 6; i++)
    assert_int_equal(img.px[i], grey[i] >> 8);
  vitimg_free(&img);
}

/* RGBA, grey+alpha and tRNS-keyed RGB PNGs are composited onto white. */
static void test_png_alpha(void **state) {
  (void)state;
  char p[256];
  /* RGBA: opaque stays, transparent is white, half alpha is (c*a + 255*(255-a) + 127) / 255. */
  const unsigned char rgba[3 * 4] = {10, 200, 30, 255, 10, 200, 30, 0, 0, 100, 200, 128};
  RawPng r = {3, 1, 8, PNG_COLOR_TYPE_RGBA, PNG_INTERLACE_NONE, rgba, 12, NULL, 0, NULL, 0, NULL};
  write_raw_png(tpath(p, sizeof p, "rgba.png"), &r);
  VitimgU8 img = load_ok(p, 3, 1, 3);
  const unsigned char want[9] = {10, 200, 30, 255, 255, 255, 127, 177, 227};
  assert_memory_equal(img.px, want, 9);
  vitimg_free(&img);
  /* Grey + alpha -> grey. */
  const unsigned char ga[3 * 2] = {50, 255, 50, 0, 0, 64};
  RawPng g = {3, 1, 8, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_INTERLACE_NONE, ga, 6, NULL, 0, NULL, 0, NULL};
  write_raw_png(tpath(p, sizeof p, "ga.png"), &g);
  img = load_ok(p, 3, 1, 1);
  const unsigned char gwant[3] = {50, 255, 191};
  assert_memory_equal(img.px, gwant, 3);
  vitimg_free(&img);
  /* RGB with a tRNS colour: that colour becomes white, others stay. */
  const unsigned char rgb[2 * 3] = {1, 2, 3, 4, 5, 6};
  png_color_16 key = {0, 1, 2, 3, 0};
  RawPng k = {2, 1, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, rgb, 6, NULL, 0, NULL, 0, &key};
  write_raw_png(tpath(p, sizeof p, "rgb_trns.png"), &k);
  img = load_ok(p, 2, 1, 3);
  const unsigned char kwant[6] = {255, 255, 255, 4, 5, 6};
  assert_memory_equal(img.px, kwant, 6);
  vitimg_free(&img);
}

/* 1-, 2- and 4-bit grey PNGs expand to 0..255 (v * 255 / (2^bits - 1)). */
static void test_png_low_bit_grey(void **state) {
  (void)state;
  char p[256];
  /* 8 pixels wide: 1 bit (0 1 0 1 1 0 0 1), 2 bits (0..3 twice), 4 bits (0, 5, 10, 15, 1, 2, 3, 4). */
  const unsigned char r1[1] = {0x59}, r2[2] = {0x1b, 0x1b}, r4[4] = {0x05, 0xaf, 0x12, 0x34};
  const unsigned char w1[8] = {0, 255, 0, 255, 255, 0, 0, 255}, w2[8] = {0, 85, 170, 255, 0, 85, 170, 255},
                      w4[8] = {0, 85, 170, 255, 17, 34, 51, 68};
  const struct {
    int depth;
    const unsigned char *row, *want;
  } cases[3] = {{1, r1, w1}, {2, r2, w2}, {4, r4, w4}};
  for (int i = 0; i < 3; i++) {
    RawPng r = {8, 1, cases[i].depth, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, cases[i].row, 8, NULL, 0, NULL, 0,
                NULL};
    write_raw_png(tpath(p, sizeof p, "lowbit.png"), &r);
    VitimgU8 img = load_ok(p, 8, 1, 1);
    assert_memory_equal(img.px, cases[i].want, 8);
    vitimg_free(&img);
  }
}

/* An Adam7-interlaced PNG decodes to the same pixels as the source. */
static void test_png_interlaced(void **state) {
  (void)state;
  char p[256];
  VitimgU8 src = make_image(19, 11, 3);
  RawPng r = {19, 11, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_ADAM7, src.px, 19 * 3, NULL, 0, NULL, 0, NULL};
  write_raw_png(tpath(p, sizeof p, "adam7.png"), &r);
  size_t n;
  unsigned char *bytes = read_bytes(p, &n);
  assert_int_equal(bytes[28], 1); /* the IHDR interlace byte: really Adam7 */
  free(bytes);
  VitimgU8 img = load_ok(p, 19, 11, 3);
  assert_memory_equal(img.px, src.px, (size_t)19 * 11 * 3);
  vitimg_free(&img);
  vitimg_free(&src);
}

/* Baseline, progressive, grey and CMYK JPEGs decode close to what was encoded. */
static void test_jpeg_decode(void **state) {
  (void)state;
  char p[256];
  enum { W = 40, H = 24 };
  unsigned char rgb[W * H * 3], grey[W * H], cmyk[W * H * 4];
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      for (int c = 0; c < 3; c++)
        rgb[(y * W + x) * 3 + c] = smooth(x, y, c);
      grey[y * W + x] = smooth(x, y, 1);
      /* Adobe (inverted) CMYK as Photoshop stores it: stored = 255 - ink; here K = 0, so RGB = stored CMY. */
      for (int c = 0; c < 3; c++)
        cmyk[(y * W + x) * 4 + c] = smooth(x, y, c);
      cmyk[(y * W + x) * 4 + 3] = 255;
    }
  for (int prog = 0; prog < 2; prog++) {
    write_jpeg(tpath(p, sizeof p, "rgb.jpg"), W, H, 3, rgb, 95, prog);
    VitimgU8 img = load_ok(p, W, H, 3);
    assert_true(max_diff(img.px, rgb, sizeof rgb) <= 6);
    vitimg_free(&img);
  }
  write_jpeg(tpath(p, sizeof p, "grey.jpg"), W, H, 1, grey, 95, 0);
  VitimgU8 img = load_ok(p, W, H, 1);
  assert_true(max_diff(img.px, grey, sizeof grey) <= 4);
  vitimg_free(&img);
  write_jpeg(tpath(p, sizeof p, "cmyk.jpg"), W, H, 4, cmyk, 95, 0);
  img = load_ok(p, W, H, 3);
  assert_true(max_diff(img.px, rgb, sizeof rgb) <= 6);
  vitimg_free(&img);
  /* The name does not matter, the magic bytes do. */
  size_t n;
  unsigned char *b = read_bytes(tpath(p, sizeof p, "rgb.jpg"), &n);
  write_bytes(tpath(p, sizeof p, "really_a_jpeg.png"), b, n);
  img = load_ok(p, W, H, 3);
  vitimg_free(&img);
  free(b);
}

/* Offset of the first SOF0/SOF2 marker's height field in a JPEG. */
static size_t jpeg_sof_dims(const unsigned char *b, size_t n) {
  for (size_t i = 2; i + 9 < n; i++)
    if (b[i] == 0xff && (b[i + 1] == 0xc0 || b[i + 1] == 0xc2))
      return i + 5;
  fail_msg("no SOF marker");
  return 0;
}

/* Re-computes the CRC of the PNG chunk whose type starts at b + at. */
static void png_fix_crc(unsigned char *b, size_t at, size_t len) {
  uLong crc = crc32(0, b + at, (uInt)(len + 4));
  for (int i = 0; i < 4; i++)
    b[at + 4 + len + i] = (unsigned char)(crc >> (24 - 8 * i));
}

/* Truncated, corrupt, oversized, empty, text and missing files, folders, FIFOs: -1, "PATH: what". */
static void test_bad_files(void **state) {
  (void)state;
  char p[256], q[256];
  char err[256];
  size_t n;
  /* Truncated PNG: cut in the middle of the pixel data. */
  VitimgU8 img = make_image(64, 64, 3);
  assert_int_equal(vitimg_write_png(tpath(p, sizeof p, "full.png"), &img, err, sizeof err), 0);
  unsigned char *b = read_bytes(p, &n);
  write_bytes(tpath(q, sizeof q, "cut.png"), b, n / 2);
  load_fails(q, "truncated PNG data");
  write_bytes(q, b, 5);
  load_fails(q, "truncated PNG data");
  write_bytes(q, b, n - 6); /* IEND chunk cut */
  load_fails(q, "truncated PNG data");
  b[n / 2] ^= 0x55; /* flipped bits in IDAT: a CRC error */
  write_bytes(q, b, n);
  load_fails(q, "invalid PNG data (");
  free(b);
  /* Zero width in a (correctly checksummed) IHDR. */
  b = read_bytes(p, &n);
  memset(b + 16, 0, 4);
  png_fix_crc(b, 12, 13);
  write_bytes(q, b, n);
  load_fails(q, "invalid PNG data (");
  /* 20000 x 20000 is over 2^28 pixels: refused before anything is allocated. */
  b[16] = 0, b[17] = 0, b[18] = 0x4e, b[19] = 0x20;
  memcpy(b + 20, b + 16, 4);
  png_fix_crc(b, 12, 13);
  write_bytes(q, b, n);
  load_fails(q, "image size 20000x20000 is zero or over 2^28 pixels");
  free(b);
  vitimg_free(&img);

  /* Truncated JPEG: libjpeg only warns (and pads with grey); vitimg makes it an error. */
  unsigned char px[32 * 32 * 3];
  for (int i = 0; i < 32 * 32 * 3; i++)
    px[i] = (unsigned char)(i * 7);
  write_jpeg(tpath(p, sizeof p, "full.jpg"), 32, 32, 3, px, 90, 0);
  b = read_bytes(p, &n);
  write_bytes(tpath(q, sizeof q, "cut.jpg"), b, n / 2);
  load_fails(q, "truncated JPEG data");
  write_bytes(q, b, n - 2); /* no EOI marker */
  load_fails(q, "truncated JPEG data");
  write_bytes(q, b, 3);
  load_fails(q, "truncated JPEG data");
  write_bytes(q, b, 2);
  load_fails(q, "truncated JPEG data");
  /* A bad marker length in the header. */
  size_t sof = jpeg_sof_dims(b, n);
  b[sof - 1] = 12; /* 12-bit samples: not what this libjpeg decodes */
  write_bytes(q, b, n);
  load_fails(q, "invalid JPEG data (Unsupported JPEG data precision 12)");
  b[sof - 1] = 8;
  /* An EOI marker in the middle of the entropy-coded data: libjpeg warns, vitimg fails. */
  size_t sos = 0;
  for (size_t i = 2; i + 1 < n && !sos; i++)
    sos = b[i] == 0xff && b[i + 1] == 0xda ? i : 0;
  assert_true(sos > 0 && sos + 40 < n);
  unsigned char saved[2] = {b[(sos + n) / 2], b[(sos + n) / 2 + 1]};
  b[(sos + n) / 2] = 0xff, b[(sos + n) / 2 + 1] = 0xd9;
  write_bytes(q, b, n);
  load_fails(q, "invalid JPEG data (Corrupt JPEG data");
  memcpy(b + (sos + n) / 2, saved, 2);
  /* Huge and zero dimensions in the SOF marker. */
  b[sof] = 0x4e, b[sof + 1] = 0x20, b[sof + 2] = 0x4e, b[sof + 3] = 0x20;
  write_bytes(q, b, n);
  load_fails(q, "image size 20000x20000 is zero or over 2^28 pixels");
  b[sof + 2] = 0, b[sof + 3] = 0;
  write_bytes(q, b, n);
  load_fails(q, "invalid JPEG data (");
  free(b);

  write_bytes(tpath(p, sizeof p, "empty.png"), "", 0);
  load_fails(p, "empty file");
  write_bytes(tpath(p, sizeof p, "text.png"), "hello, world\n", 13);
  load_fails(p, "not a PNG or JPEG image");
  load_fails(tpath(p, sizeof p, "missing.png"), "cannot open: No such file or directory");
  load_fails(g_dir, "is a folder, not an image");
  assert_int_equal(mkfifo(tpath(p, sizeof p, "fifo.png"), 0600), 0);
  load_fails(p, "not a regular file"); /* refused at once, not waited on */
  /* err may be NULL or tiny; still no crash, still -1. */
  assert_int_equal(vitimg_load(p, &img, NULL, 0), -1);
  char tiny[4];
  assert_int_equal(vitimg_load(p, &img, tiny, sizeof tiny), -1);
  assert_int_equal(tiny[3], '\0');
}

/* ((float)v / 255 - mean) / std, as torchvision computes it in float32. */
static float norm(unsigned v, float mean, float std) {
  return ((float)v / 255.0f - mean) / std;
}

/* An image already size x size (resize_size == size) is not resampled: (v/255 - mean)/std. */
static void test_preprocess_exact_size(void **state) {
  (void)state;
  char err[256];
  VitimgU8 img = make_image(224, 224, 3);
  VitimgPrep p = vitimg_prep_default();
  assert_int_equal(p.size, 224);
  assert_int_equal(p.resize_size, 256);
  p.resize_size = 224;
  float *out = malloc(sizeof *out * 3 * 224 * 224);
  assert_int_equal(vitimg_preprocess(&img, &p, out, err, sizeof err), 0);
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 224 * 224; i++)
      assert_true(out[c * 224 * 224 + i] == norm(img.px[3 * i + c], p.mean[c], p.std[c]));
  /* resize_size <= 0 means size: the same. */
  p.resize_size = 0;
  float *out2 = malloc(sizeof *out2 * 3 * 224 * 224);
  assert_int_equal(vitimg_preprocess(&img, &p, out2, err, sizeof err), 0);
  assert_memory_equal(out, out2, sizeof *out * 3 * 224 * 224);
  /* Grey in, grey out, with bicubic: still no resampling. */
  VitimgU8 grey = make_image(224, 224, 1);
  p.color = VITIMG_GRAY;
  p.resize = VITIMG_BICUBIC;
  assert_int_equal(vitimg_preprocess(&grey, &p, out, err, sizeof err), 0);
  for (int i = 0; i < 224 * 224; i++)
    assert_true(out[i] == norm(grey.px[i], p.mean[0], p.std[0]));
  /* Grey in, RGB out: the grey value in all three channels. */
  p.color = VITIMG_RGB;
  assert_int_equal(vitimg_preprocess(&grey, &p, out, err, sizeof err), 0);
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 224 * 224; i++)
      assert_true(out[c * 224 * 224 + i] == norm(grey.px[i], p.mean[c], p.std[c]));
  free(out);
  free(out2);
  vitimg_free(&img);
  vitimg_free(&grey);
}

/* Every resize (bilinear, nearest, bicubic; up and down) keeps a constant image constant. */
static void test_resize_constant(void **state) {
  (void)state;
  VitimgU8 img = {37, 23, 3, malloc(37 * 23 * 3)};
  for (int i = 0; i < 37 * 23; i++)
    img.px[3 * i] = 10, img.px[3 * i + 1] = 200, img.px[3 * i + 2] = 255;
  const int sizes[][2] = {{37, 23}, {5, 3}, {100, 61}, {1, 1}, {36, 24}, {300, 7}};
  for (int s = 0; s < 6; s++)
    for (int nearest = 0; nearest < 2; nearest++) {
      VitimgU8 out;
      assert_int_equal(vitimg_resize_u8(&img, sizes[s][0], sizes[s][1], nearest, &out), 0);
      assert_int_equal(out.width, sizes[s][0]);
      assert_int_equal(out.height, sizes[s][1]);
      for (int i = 0; i < out.width * out.height; i++) {
        assert_int_equal(out.px[3 * i], 10);
        assert_int_equal(out.px[3 * i + 1], 200);
        assert_int_equal(out.px[3 * i + 2], 255);
      }
      vitimg_free(&out);
    }
  /* Preprocess (bilinear and bicubic, shrink and enlarge) keeps a constant image constant too. */
  char err[256];
  float out[3 * 16 * 16];
  VitimgPrep p = vitimg_prep_default();
  p.size = 16;
  for (int f = 0; f < 2; f++)
    for (int rs = 16; rs <= 40; rs += 24) {
      p.resize = f ? VITIMG_BICUBIC : VITIMG_BILINEAR;
      p.resize_size = rs;
      assert_int_equal(vitimg_preprocess(&img, &p, out, err, sizeof err), 0);
      for (int i = 0; i < 16 * 16; i++) {
        assert_true(out[i] == norm(10, p.mean[0], p.std[0]));
        assert_true(out[256 + i] == norm(200, p.mean[1], p.std[1]));
        assert_true(out[512 + i] == norm(255, p.mean[2], p.std[2]));
      }
    }
  vitimg_free(&img);
}

/* Bilinear 4 -> 2 as PIL does it: scale 2 widens the triangle to support 2 around centres 1 and 3 (input
 * pixel centres at 0.5, 1.5, ...). Output 0 sees inputs 0, 1, 2 with weights 0.75, 0.75, 0.25 (the tap
 * before input 0 falls outside and the rest are renormalised): 3/7, 3/7, 1/7; output 1 sees 1, 2, 3 with
 * 1/7, 3/7, 3/7. With rows a + b[y], a = 0 70 140 210, b = 0 7 14 21: a -> 50 160, b -> 5 16. */
static void test_bilinear_downscale(void **state) {
  (void)state;
  const unsigned char a[4] = {0, 70, 140, 210}, b[4] = {0, 7, 14, 21};
  VitimgU8 img = {4, 4, 1, malloc(16)};
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 4; x++)
      img.px[y * 4 + x] = (unsigned char)(a[x] + b[y]);
  VitimgU8 out;
  assert_int_equal(vitimg_resize_u8(&img, 2, 2, 0, &out), 0);
  const unsigned char want[4] = {55, 165, 66, 176};
  assert_memory_equal(out.px, want, 4);
  vitimg_free(&out);
  /* Nearest 4 -> 2 takes inputs 1 and 3 (floor((i + 0.5) * 2)). */
  assert_int_equal(vitimg_resize_u8(&img, 2, 2, 1, &out), 0);
  const unsigned char nwant[4] = {77, 217, 91, 231};
  assert_memory_equal(out.px, nwant, 4);
  vitimg_free(&out);
  /* The same through preprocess: 4x4, resize to 2, crop 2, mean 0, std 1 -> v / 255. */
  VitimgPrep p = {.size = 2, .resize_size = 2, .color = VITIMG_GRAY, .resize = VITIMG_BILINEAR, .std = {1, 1, 1}};
  float t[4];
  char err[256];
  assert_int_equal(vitimg_preprocess(&img, &p, t, err, sizeof err), 0);
  for (int i = 0; i < 4; i++)
    assert_true(t[i] == (float)want[i] / 255.0f);
  vitimg_free(&img);
}

/* FNV-1a of n bytes. */
static uint32_t fnv1a(const unsigned char *b, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 16777619u;
  return h;
}

/* Reference outputs of PIL 9.4 (Image.resize, as torchvision calls it) on pattern() as a 13 x 9 RGB image:
 * w, h (or size, resize_size), bicubic, through preprocess, the first bytes and the FNV-1a of all bytes. */
typedef struct PilCase {
  int a, b, bicubic, prep;
  unsigned char head[12];
  uint32_t hash;
} PilCase;

/* vitimg_resize_u8 and vitimg_preprocess reproduce PIL's bytes exactly. */
static void test_matches_pil(void **state) {
  (void)state;
  VitimgU8 img = make_image(13, 9, 3);
  /* img.resize((w, h), Image.BILINEAR).tobytes() */
  static const PilCase resize[] = {
    {5, 4, 0, 0, {109, 134, 146, 124, 139, 157, 131, 125, 145, 122, 140, 146}, 0xbf056ba4u},
    {29, 20, 0, 0, {0, 53, 106, 6, 59, 112, 23, 76, 129, 40, 93, 146}, 0x54e1dc04u},
    {7, 9, 0, 0, {23, 76, 129, 83, 136, 189, 151, 204, 182, 161, 80, 72}, 0xff84d342u},
    {13, 3, 0, 0, {82, 135, 124, 133, 122, 175, 119, 172, 97, 160, 117, 138}, 0x7eb5d040u},
    {2, 1, 0, 0, {125, 139, 117, 130, 139, 115}, 0x7f849598u},
    {40, 4, 0, 0, {75, 128, 130, 75, 128, 130, 90, 127, 145, 105, 125, 160}, 0x99927f40u},
  };
  for (size_t i = 0; i < sizeof resize / sizeof resize[0]; i++) {
    VitimgU8 out;
    assert_int_equal(vitimg_resize_u8(&img, resize[i].a, resize[i].b, 0, &out), 0);
    size_t n = (size_t)out.width * out.height * 3;
    assert_memory_equal(out.px, resize[i].head, n < 12 ? n : 12);
    assert_int_equal(fnv1a(out.px, n), resize[i].hash);
    vitimg_free(&out);
  }
  /* Resize(resize_size, BICUBIC or BILINEAR) + CenterCrop(size) on the PIL image, bytes in CHW order; through
   * preprocess with mean 0 and std 1 every value must be exactly byte / 255. */
  static const PilCase prep[] = {
    {5, 6, 1, 1, {130, 155, 82, 89, 144, 111, 126, 164, 157, 127, 126, 137}, 0x1f87e762u},
    {5, 6, 0, 1, {129, 150, 89, 95, 139, 115, 129, 152, 151, 128, 125, 135}, 0x488cbce2u},
    {7, 20, 1, 1, {169, 183, 172, 144, 126, 117, 127, 229, 224, 167, 72, 24}, 0xcb3dd94fu},
    {4, 4, 1, 1, {105, 128, 129, 121, 132, 125, 122, 134, 114, 129, 128, 116}, 0x797646fcu},
    {9, 11, 1, 1, {208, 154, 50, 104, 142, 70, 93, 148, 206, 140, 121, 45}, 0x699c52dcu},
  };
  for (size_t i = 0; i < sizeof prep / sizeof prep[0]; i++) {
    int size = prep[i].a;
    VitimgPrep p = {.size = size, .resize_size = prep[i].b, .color = VITIMG_RGB, .std = {1, 1, 1},
                    .resize = prep[i].bicubic ? VITIMG_BICUBIC : VITIMG_BILINEAR};
    float t[3 * 11 * 11];
    unsigned char bytes[3 * 11 * 11];
    char err[256];
    assert_int_equal(vitimg_preprocess(&img, &p, t, err, sizeof err), 0);
    for (int k = 0; k < 3 * size * size; k++) {
      bytes[k] = (unsigned char)lrintf(t[k] * 255.0f);
      assert_true(t[k] == (float)bytes[k] / 255.0f);
    }
    assert_memory_equal(bytes, prep[i].head, 12);
    assert_int_equal(fnv1a(bytes, (size_t)3 * size * size), prep[i].hash);
  }
  vitimg_free(&img);
}

/* Centre crop picks the middle (Python's rounding), pads small images with black, keeps aspect. */
static void test_center_crop(void **state) {
  (void)state;
  char err[256];
  VitimgPrep p = {.size = 4, .resize_size = 4, .color = VITIMG_GRAY, .resize = VITIMG_BILINEAR, .std = {1, 1, 1}};
  float t[16];
  /* 10 x 4: the short side already is 4, so no resampling; columns 3..6 (offset (10-4)/2 = 3). */
  for (int w = 10; w <= 11; w++) {
    VitimgU8 img = {w, 4, 1, malloc((size_t)w * 4)};
    for (int y = 0; y < 4; y++)
      for (int x = 0; x < w; x++)
        img.px[y * w + x] = (unsigned char)(x * 20 + y);
    assert_int_equal(vitimg_preprocess(&img, &p, t, err, sizeof err), 0);
    int off = w == 10 ? 3 : 4; /* 11: round(3.5) = 4 (Python rounds halves to even) */
    for (int y = 0; y < 4; y++)
      for (int x = 0; x < 4; x++)
        assert_true(t[y * 4 + x] == (float)((x + off) * 20 + y) / 255.0f);
    vitimg_free(&img);
  }
  /* 4 x 9 (tall): rows 2..5 (round(2.5) = 2). */
  VitimgU8 tall = {4, 9, 1, malloc(36)};
  for (int i = 0; i < 36; i++)
    tall.px[i] = (unsigned char)(i * 5);
  assert_int_equal(vitimg_preprocess(&tall, &p, t, err, sizeof err), 0);
  for (int i = 0; i < 16; i++)
    assert_true(t[i] == (float)((i + 8) * 5) / 255.0f);
  vitimg_free(&tall);
  /* Smaller than the crop after resizing (resize 2, crop 4): black padding, 1 pixel each side. */
  VitimgU8 small = {2, 2, 1, malloc(4)};
  memcpy(small.px, "\x0a\x14\x1e\x28", 4);
  p.resize_size = 2;
  p.mean[0] = 0.5f;
  assert_int_equal(vitimg_preprocess(&small, &p, t, err, sizeof err), 0);
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 4; x++) {
      int inside = x >= 1 && x <= 2 && y >= 1 && y <= 2;
      unsigned v = inside ? small.px[(y - 1) * 2 + (x - 1)] : 0;
      assert_true(t[y * 4 + x] == norm(v, 0.5f, 1.0f));
    }
  vitimg_free(&small);
  /* Aspect: 300 x 200 resized to short side 20 is 30 x 20 (int(20 * 300 / 200)), crop 4 at (13, 8). A
   * horizontal ramp stays a ramp, so the crop's columns rise and its rows match. */
  VitimgU8 wide = {300, 200, 1, malloc(300 * 200)};
  for (int y = 0; y < 200; y++)
    for (int x = 0; x < 300; x++)
      wide.px[y * 300 + x] = (unsigned char)(x * 255 / 299);
  p.resize_size = 20;
  p.mean[0] = 0;
  assert_int_equal(vitimg_preprocess(&wide, &p, t, err, sizeof err), 0);
  for (int x = 0; x < 4; x++) {
    float want = ((x + 13) * 10 + 4.5f) * 255.0f / 299.0f / 255.0f; /* centre of the 10 source columns */
    assert_true(fabsf(t[x] - want) < 1.5f / 255.0f);
    for (int y = 1; y < 4; y++)
      assert_true(t[y * 4 + x] == t[x]);
  }
  vitimg_free(&wide);
}

/* GRAY from RGB is the BT.601 luma rounded to 8 bits. */
static void test_grey_luma(void **state) {
  (void)state;
  const unsigned char rgb[5][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}, {200, 100, 50}};
  VitimgU8 img = {5, 1, 3, malloc(15)};
  memcpy(img.px, rgb, 15);
  /* 5 x 1 with crop 1 and resize 1 would resample; use a 1 x 1 image per colour instead. */
  VitimgPrep p = {.size = 1, .resize_size = 1, .color = VITIMG_GRAY, .resize = VITIMG_BILINEAR, .std = {1, 1, 1}};
  char err[256];
  for (int i = 0; i < 5; i++) {
    VitimgU8 one = {1, 1, 3, img.px + 3 * i};
    float t;
    assert_int_equal(vitimg_preprocess(&one, &p, &t, err, sizeof err), 0);
    double luma = 0.299 * rgb[i][0] + 0.587 * rgb[i][1] + 0.114 * rgb[i][2];
    assert_true(fabs(t * 255.0 - luma) <= 0.5 + 1e-3);
    assert_true(t == (float)(int)(luma + 0.5) / 255.0f);
  }
  vitimg_free(&img);
}

/* BT.601 luma of a colour. */
static double luma(const unsigned char c[3]) {
  return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
}

/* The colour map runs dark blue to yellow with luminance rising, clamps t, and shows NaN as grey. */
static void test_colormap(void **state) {
  (void)state;
  unsigned char lo[3], hi[3], c[3], prev[3];
  vitimg_colormap(0.0f, lo);
  vitimg_colormap(1.0f, hi);
  assert_memory_not_equal(lo, hi, 3);
  assert_true(lo[2] > lo[0] && lo[2] > lo[1]); /* dark blue */
  assert_true(hi[0] > 200 && hi[1] > 200 && hi[2] < 100); /* yellow */
  memcpy(prev, lo, 3);
  for (int i = 1; i <= 100; i++) {
    vitimg_colormap(i / 100.0f, c);
    assert_true(luma(c) > luma(prev));
    memcpy(prev, c, 3);
  }
  vitimg_colormap(-3.0f, c);
  assert_memory_equal(c, lo, 3);
  vitimg_colormap(7.0f, c);
  assert_memory_equal(c, hi, 3);
  vitimg_colormap(NAN, c);
  assert_true(c[0] == 128 && c[1] == 128 && c[2] == 128);
}

/* Tile grid size, white gaps and tile colours; bad arguments fail. */
static void test_tile_grid(void **state) {
  (void)state;
  enum { R = 2, C = 3, TH = 2, TW = 3, S = 4, G = 2 };
  float tiles[R * C * TH * TW];
  for (int i = 0; i < R * C * TH * TW; i++)
    tiles[i] = (float)i / (R * C * TH * TW - 1);
  VitimgU8 out;
  assert_int_equal(vitimg_tile_grid(tiles, R, C, TH, TW, 0.0f, 1.0f, S, G, &out), 0);
  assert_int_equal(out.width, C * TW * S + (C + 1) * G);
  assert_int_equal(out.height, R * TH * S + (R + 1) * G);
  assert_int_equal(out.channels, 3);
  const unsigned char white[3] = {255, 255, 255};
  assert_memory_equal(out.px, white, 3);
  assert_memory_equal(out.px + ((size_t)out.height * out.width - 1) * 3, white, 3);
  unsigned char c0[3], clast[3];
  vitimg_colormap(0.0f, c0);
  vitimg_colormap(1.0f, clast);
  /* First value of tile 0 fills a S x S block at (G, G); the last value of the last tile ends at the far gap. */
  for (int y = 0; y < S; y++)
    for (int x = 0; x < S; x++)
      assert_memory_equal(out.px + ((size_t)(G + y) * out.width + G + x) * 3, c0, 3);
  assert_memory_equal(out.px + ((size_t)(out.height - G - 1) * out.width + out.width - G - 1) * 3, clast, 3);
  /* Gap column between tiles 0 and 1 of row 0. */
  assert_memory_equal(out.px + ((size_t)G * out.width + G + TW * S) * 3, white, 3);
  vitimg_free(&out);
  assert_int_equal(vitimg_tile_grid(tiles, R, C, TH, TW, 1.0f, 0.0f, S, G, &out), -1);
  assert_int_equal(vitimg_tile_grid(tiles, 0, C, TH, TW, 0.0f, 1.0f, S, G, &out), -1);
  assert_int_equal(vitimg_tile_grid(tiles, R, C, TH, TW, 0.0f, 1.0f, 1 << 20, 0, &out), -1);
  assert_null(out.px);
  assert_int_equal(vitimg_tile_grid(tiles, R, C, TH, TW, 0.5f, 0.5f, 1, 0, &out), 0); /* constant range */
  assert_memory_equal(out.px, c0, 3);
  vitimg_free(&out);
}

/* Heat overlay: alpha 0 is the base, alpha 1 the colour map of the normalised, upsampled heat. */
static void test_heat_overlay(void **state) {
  (void)state;
  VitimgU8 base = {8, 6, 1, malloc(48)};
  memset(base.px, 100, 48);
  const float heat[4] = {-2.0f, 0.0f, 0.0f, 6.0f}; /* normalised: 0, 0.25, 0.25, 1 */
  VitimgU8 out;
  assert_int_equal(vitimg_heat_overlay(&base, heat, 2, 2, 0.0f, &out), 0);
  assert_int_equal(out.width, 8);
  assert_int_equal(out.height, 6);
  assert_int_equal(out.channels, 3);
  for (int i = 0; i < 48 * 3; i++)
    assert_int_equal(out.px[i], 100);
  vitimg_free(&out);
  assert_int_equal(vitimg_heat_overlay(&base, heat, 2, 2, 1.0f, &out), 0);
  unsigned char c0[3], c1[3];
  vitimg_colormap(0.0f, c0);
  vitimg_colormap(1.0f, c1);
  assert_memory_equal(out.px, c0, 3);                /* top-left corner: the minimum */
  assert_memory_equal(out.px + (48 - 1) * 3, c1, 3); /* bottom-right corner: the maximum */
  vitimg_free(&out);
  /* Half: the mean of base and colour, rounded. */
  assert_int_equal(vitimg_heat_overlay(&base, heat, 2, 2, 0.5f, &out), 0);
  for (int c = 0; c < 3; c++)
    assert_int_equal(out.px[c], (int)((100 + c0[c]) / 2.0 + 0.5));
  vitimg_free(&out);
  assert_int_equal(vitimg_heat_overlay(&base, heat, 0, 2, 0.5f, &out), -1);
  assert_int_equal(vitimg_heat_overlay(&base, NULL, 2, 2, 0.5f, &out), -1);
  assert_null(out.px);
  vitimg_free(&base);
}

/* Number of entries in g_dir whose name starts with prefix. */
static int count_files(const char *prefix) {
  DIR *d = opendir(g_dir);
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    n += !strncmp(e->d_name, prefix, strlen(prefix));
  closedir(d);
  return n;
}

/* Failed PNG writes (missing folder, file size limit, bad image) leave no file, no temporary. */
static void test_write_png_failures(void **state) {
  (void)state;
  char p[256], err[256];
  VitimgU8 img = make_image(300, 300, 3);
  uint32_t lcg = 12345; /* noise, so the PNG stays far over the 4096-byte limit below */
  for (size_t i = 0; i < (size_t)300 * 300 * 3; i++)
    img.px[i] = (unsigned char)((lcg = lcg * 1664525u + 1013904223u) >> 24);
  /* A folder that does not exist. */
  tpath(p, sizeof p, "no/such/folder/out.png");
  assert_int_equal(vitimg_write_png(p, &img, err, sizeof err), -1);
  char want[512];
  snprintf(want, sizeof want, "%s: cannot create: No such file or directory", p);
  assert_string_equal(err, want);
  assert_int_not_equal(access(p, F_OK), 0);
  /* A read-only folder (root ignores permissions, so only as another user). */
  if (geteuid() != 0) {
    tpath(p, sizeof p, "ro");
    assert_int_equal(mkdir(p, 0500), 0);
    tpath(p, sizeof p, "ro/out.png");
    assert_int_equal(vitimg_write_png(p, &img, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot create: Permission denied"));
    assert_int_not_equal(access(p, F_OK), 0);
    rmdir(tpath(p, sizeof p, "ro"));
  }
  /* A write that fails half-way (file size limit): the old file stays, no temporary is left. */
  VitimgU8 small = make_image(3, 2, 1);
  tpath(p, sizeof p, "keep.png");
  assert_int_equal(vitimg_write_png(p, &small, err, sizeof err), 0);
  size_t n0;
  unsigned char *before = read_bytes(p, &n0);
  struct rlimit old;
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
  struct rlimit lim = {4096, old.rlim_max};
  void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
  int rc = vitimg_write_png(p, &img, err, sizeof err);
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, prev);
  assert_int_equal(rc, -1);
  snprintf(want, sizeof want, "%s: cannot write: File too large", p);
  assert_string_equal(err, want);
  size_t n1;
  unsigned char *after = read_bytes(p, &n1);
  assert_int_equal(n0, n1);
  assert_memory_equal(before, after, n0);
  assert_int_equal(count_files("keep.png"), 1);
  free(before);
  free(after);
  /* Bad images are refused before anything is created. */
  VitimgU8 two = {3, 2, 2, small.px};
  tpath(p, sizeof p, "bad.png");
  assert_int_equal(vitimg_write_png(p, &two, err, sizeof err), -1);
  assert_int_equal(count_files("bad.png"), 0);
  vitimg_free(&small);
  vitimg_free(&img);
}

/* vitimg_load_tensor equals load + preprocess; errors name the file, or "preprocess". */
static void test_load_tensor(void **state) {
  (void)state;
  char p[256], err[256];
  VitimgU8 img = make_image(40, 30, 3);
  assert_int_equal(vitimg_write_png(tpath(p, sizeof p, "t.png"), &img, err, sizeof err), 0);
  VitimgPrep prep = vitimg_prep_default();
  prep.size = 24;
  prep.resize_size = 28;
  prep.resize = VITIMG_BICUBIC;
  float a[3 * 24 * 24], b[3 * 24 * 24];
  assert_int_equal(vitimg_load_tensor(p, &prep, a, err, sizeof err), 0);
  assert_int_equal(vitimg_preprocess(&img, &prep, b, err, sizeof err), 0);
  assert_memory_equal(a, b, sizeof a);
  vitimg_free(&img);
  /* Errors name the file, or "preprocess" when there is none. */
  assert_int_equal(vitimg_load_tensor(tpath(p, sizeof p, "gone.png"), &prep, a, err, sizeof err), -1);
  assert_non_null(strstr(err, "gone.png: cannot open: "));
  prep.std[1] = 0.0f;
  assert_int_equal(vitimg_load_tensor(tpath(p, sizeof p, "t.png"), &prep, a, err, sizeof err), -1);
  char want[512];
  snprintf(want, sizeof want, "%s: std[1] is 0; it must be finite and non-zero", p);
  assert_string_equal(err, want);
  VitimgU8 none = {0};
  assert_int_equal(vitimg_preprocess(&none, &prep, a, err, sizeof err), -1);
  assert_int_equal(strncmp(err, "preprocess: ", 12), 0);
  prep = vitimg_prep_default();
  prep.size = 0;
  VitimgU8 one = make_image(1, 1, 3);
  assert_int_equal(vitimg_preprocess(&one, &prep, a, err, sizeof err), -1);
  assert_string_equal(err, "preprocess: crop size 0 is not in 1..16384");
  /* An extreme aspect ratio whose resized long side would pass 2^28. */
  VitimgU8 strip = {1 << 21, 1, 1, calloc(1, 1 << 21)};
  prep = vitimg_prep_default();
  float *big = malloc(sizeof *big * 3 * 224 * 224);
  assert_int_equal(vitimg_preprocess(&strip, &prep, big, err, sizeof err), -1);
  free(big);
  assert_non_null(strstr(err, "too long"));
  vitimg_free(&strip);
  vitimg_free(&one);
}

/* Removes every file in g_dir and g_dir itself. */
static int remove_dir(void **state) {
  (void)state;
  DIR *d = opendir(g_dir);
  if (!d)
    return 0;
  struct dirent *e;
  char p[512];
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
      unlink(p);
    }
  closedir(d);
  return rmdir(g_dir);
}

/* Creates the temp folder. */
static int make_dir(void **state) {
  (void)state;
  snprintf(g_dir, sizeof g_dir, "/tmp/vitimg_test_XXXXXX");
  return mkdtemp(g_dir) ? 0 : -1;
}

/* Runs every test in one temp folder, removed at the end. */
/* An existing output that is a link is written through (the link stays); a FIFO or a device is refused. */
static void test_write_png_targets(void **state) {
  (void)state;
  char target[256], link[256], fifo[256], err[256];
  VitimgU8 img = make_image(4, 3, 1), back = {0};
  tpath(target, sizeof target, "target.png");
  tpath(link, sizeof link, "link.png");
  tpath(fifo, sizeof fifo, "fifo.png");
  FILE *f = fopen(target, "w");
  assert_non_null(f);
  fputs("old", f);
  fclose(f);
  unlink(link);
  assert_int_equal(symlink("target.png", link), 0);
  assert_int_equal(vitimg_write_png(link, &img, err, sizeof err), 0);
  struct stat st;
  assert_int_equal(lstat(link, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  assert_int_equal(vitimg_load(target, &back, err, sizeof err), 0);
  assert_int_equal(back.width, 4);
  vitimg_free(&back);
  unlink(fifo);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  assert_int_equal(vitimg_write_png(fifo, &img, err, sizeof err), -1);
  assert_non_null(strstr(err, "exists and is not a regular file; not replacing it"));
  assert_int_equal(lstat(fifo, &st), 0);
  assert_true(S_ISFIFO(st.st_mode));
  assert_int_equal(vitimg_write_png("/dev/null", &img, err, sizeof err), -1);
  assert_int_equal(stat("/dev/null", &st), 0);
  assert_true(S_ISCHR(st.st_mode));
  vitimg_free(&img);
}

/* The preprocessing a model's metadata asks for: defaults, each key, and the errors. */
static void test_prep_from_metadata(void **state) {
  (void)state;
  VitimgPrep p;
  char err[256];
  /* No metadata: ImageNet's, at the model's size with ImageNet's 256/224 resize ratio. */
  assert_int_equal(vitimg_prep_from_metadata(NULL, 0, 3, 384, &p, err, sizeof err), 0);
  assert_int_equal(p.size, 384);
  assert_int_equal(p.resize_size, 439);
  assert_int_equal(p.color, VITIMG_RGB);
  assert_true(p.mean[0] == 0.485f && p.std[2] == 0.225f);
  VitimgMeta digits[] = {{"vitc.image_size", "8"}, {"vitc.mean", "0.5"}, {"vitc.std", "0.25"},
                         {"vitc.color", "grayscale"}, {"other", "x"}, {"vitc.resize", "bicubic"}};
  assert_int_equal(vitimg_prep_from_metadata(digits, 6, 3, 8, &p, err, sizeof err), 0);
  assert_int_equal(p.size, 8);
  assert_int_equal(p.resize_size, 8); /* image_size without resize_size: no crop margin */
  assert_int_equal(p.color, VITIMG_GRAY);
  assert_int_equal(p.resize, VITIMG_BICUBIC);
  assert_true(p.mean[0] == 0.5f && p.mean[2] == 0.5f && p.std[1] == 0.25f);
  VitimgMeta rgb[] = {{"vitc.image_size", "224"}, {"vitc.resize_size", "248"}, {"vitc.mean", "0.1,0.2,0.3"}};
  assert_int_equal(vitimg_prep_from_metadata(rgb, 3, 1, 224, &p, err, sizeof err), 0);
  assert_int_equal(p.resize_size, 248);
  assert_true(p.mean[1] == 0.2f);
  assert_int_equal(p.color, VITIMG_GRAY); /* a 1-channel model is grey whatever the metadata says */
  static const struct { VitimgMeta m; int size; const char *msg; } bad[] = {
    {{"vitc.image_size", "16"}, 8, "metadata: vitc.image_size = 16, but the model's input is 8x8"},
    {{"vitc.image_size", "x"}, 8, "metadata: vitc.image_size = 'x' is not an integer"},
    {{"vitc.mean", "0.1,0.2"}, 8, "metadata: vitc.mean = '0.1,0.2' is not 1 or 3 finite numbers"},
    {{"vitc.mean", "inf"}, 8, "metadata: vitc.mean = 'inf' is not 1 or 3 finite numbers"},
    {{"vitc.mean", "0.1,0.2,0.3,0.4"}, 8, "metadata: vitc.mean = '0.1,0.2,0.3,0.4' is not 1 or 3 finite numbers"},
    {{"vitc.std", "0"}, 8, "metadata: vitc.std = '0' is not 1 or 3 finite numbers of at least 1e-6"},
    {{"vitc.std", "1e-45"}, 8, "metadata: vitc.std = '1e-45' is not 1 or 3 finite numbers of at least 1e-6"},
    {{"vitc.color", "cmyk"}, 8, "metadata: vitc.color = 'cmyk' is not rgb or grayscale"},
    {{"vitc.resize", "lanczos"}, 8, "metadata: vitc.resize = 'lanczos' is not bilinear or bicubic"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(vitimg_prep_from_metadata(&bad[i].m, 1, 3, bad[i].size, &p, err, sizeof err), -1);
    if (strncmp(err, bad[i].msg, strlen(bad[i].msg)) != 0) fail_msg("case %zu: got '%s'", i, err);
  }
  assert_int_equal(vitimg_prep_from_metadata(NULL, 0, 2, 8, &p, err, sizeof err), -1);
  /* The channel parser both the metadata and --mean/--std use. */
  float v[3] = {9, 9, 9};
  assert_int_equal(vitimg_parse_channels("0.25", 0, v), 0);
  assert_true(v[0] == 0.25f && v[2] == 0.25f);
  assert_int_equal(vitimg_parse_channels("1,2,3", 1, v), 0);
  assert_true(v[1] == 2.0f);
  static const char *const bad_ch[] = {"", "1,", "1,2", "1,2,3,4", "x", "nan", "1e400"};
  for (size_t i = 0; i < sizeof bad_ch / sizeof bad_ch[0]; i++) assert_int_equal(vitimg_parse_channels(bad_ch[i], 0, v), -1);
  assert_int_equal(vitimg_parse_channels("0", 1, v), -1);
  assert_int_equal(vitimg_parse_channels("1,1,1e-7", 1, v), -1);
  assert_true(v[1] == 2.0f); /* untouched on failure */
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_png_roundtrip_grey_rgb),
    cmocka_unit_test(test_png_palette),
    cmocka_unit_test(test_png_16bit),
    cmocka_unit_test(test_png_alpha),
    cmocka_unit_test(test_png_low_bit_grey),
    cmocka_unit_test(test_png_interlaced),
    cmocka_unit_test(test_jpeg_decode),
    cmocka_unit_test(test_bad_files),
    cmocka_unit_test(test_preprocess_exact_size),
    cmocka_unit_test(test_resize_constant),
    cmocka_unit_test(test_bilinear_downscale),
    cmocka_unit_test(test_matches_pil),
    cmocka_unit_test(test_center_crop),
    cmocka_unit_test(test_grey_luma),
    cmocka_unit_test(test_colormap),
    cmocka_unit_test(test_tile_grid),
    cmocka_unit_test(test_heat_overlay),
    cmocka_unit_test(test_write_png_failures),
    cmocka_unit_test(test_load_tensor),
    cmocka_unit_test(test_prep_from_metadata),
    cmocka_unit_test(test_write_png_targets),
  };
  return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
