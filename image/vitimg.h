/* vitimg: image I/O and preprocessing for ViT inputs (PNG and JPEG in, PNG out, torchvision-style resize,
 * centre crop and normalisation, heat-map rendering). Every function that can fail returns 0 on success and
 * -1 on failure; those with an err buffer put one line there, "PATH: what is wrong" ("preprocess: ..." when
 * there is no file). Nothing here prints, exits or aborts. Thread-safe: no global state. */
#ifndef VITIMG_H
#define VITIMG_H

#include <stddef.h>

#if defined(__GNUC__)
#define VITIMG_API __attribute__((visibility("default")))
#else
#define VITIMG_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The largest image (width * height) any function accepts or makes: 2^28 pixels. */
#define VITIMG_MAX_PIXELS (1L << 28)

/* An 8-bit image, interleaved rows, channels 1 (grey) or 3 (RGB). */
typedef struct VitimgU8 {
  int width, height, channels;
  unsigned char *px;
} VitimgU8;
/* Frees px and zeroes the struct (NULL is fine). */
VITIMG_API void vitimg_free(VitimgU8 *img);

typedef enum VitimgResize { VITIMG_BILINEAR, VITIMG_BICUBIC } VitimgResize;
typedef enum VitimgColor { VITIMG_RGB, VITIMG_GRAY } VitimgColor;

/* How an image becomes a model input tensor. */
typedef struct VitimgPrep {
  int size;          /* output is size x size */
  int resize_size;   /* the short side is resized to this (aspect kept), then centre-cropped to size; <= 0: = size */
  VitimgColor color; /* RGB: 3 channels; GRAY: 1 channel (luma BT.601 0.299/0.587/0.114 from RGB) */
  VitimgResize resize;
  float mean[3], std[3]; /* per channel, on values scaled to [0,1]; GRAY uses [0] */
} VitimgPrep;
/* ImageNet defaults: 224, resize 256, RGB, bilinear, mean 0.485/0.456/0.406, std 0.229/0.224/0.225. */
VITIMG_API VitimgPrep vitimg_prep_default(void);

/* The smallest normalisation std accepted (smaller ones blow the inputs up to overflow). */
#define VITIMG_MIN_STD 1e-6f

/* Parses a per-channel normalisation value: 1 or 3 comma-separated finite numbers (one fills all three),
 * each at least VITIMG_MIN_STD when is_std, into v; 0, or -1 with v untouched. The rule for vitc.mean and
 * vitc.std and for the CLI's --mean and --std alike. */
VITIMG_API int vitimg_parse_channels(const char *s, int is_std, float v[3]);

/* One key/value pair of a model's metadata; laid out as the compiled model's VitcMetadata (vitc_abi.h). */
typedef struct VitimgMeta {
  const char *key, *value;
} VitimgMeta;
/* The preprocessing a model asks for in its metadata (docs/image.md), for a model whose input 0 is
 * [N, in_channels, in_size, in_size]: ImageNet defaults (vitimg_prep_default), overridden by vitc.image_size,
 * vitc.resize_size (default: image_size when image_size is given), vitc.mean, vitc.std (1 or 3
 * comma-separated finite numbers; std at least VITIMG_MIN_STD), vitc.color (rgb | grayscale) and vitc.resize (bilinear | bicubic). Without
 * vitc.image_size the size is the model's, and the resize keeps ImageNet's ratio (256/224). A 1-channel
 * model gets GRAY. Fails ("metadata KEY = 'V' ...") on a malformed value or an image size that is not the
 * model's. meta may be NULL when n is 0. */
VITIMG_API int vitimg_prep_from_metadata(const VitimgMeta *meta, int n, int in_channels, int in_size,
                                         VitimgPrep *p, char *err, size_t errlen);

/* Decodes a PNG or JPEG file (chosen by its magic bytes, not its name) to 8-bit grey (channels 1) or RGB
 * (channels 3). Alpha: grey+alpha and RGBA (and palette or tRNS transparency) are composited onto WHITE,
 * out = (c*a + 255*(255-a)) / 255 rounded, which is what image viewers show; fully opaque pixels are
 * unchanged, so opaque images decode exactly as PIL's convert("RGB") does (PIL drops alpha instead).
 * PNG: palette, grey of 1/2/4 bits (expanded), 16 bits (the high byte is kept, as PIL does) and interlaced
 * images are read; gamma and colour profiles are ignored. JPEG: grey stays grey, YCbCr becomes RGB (libjpeg,
 * default islow DCT and fancy upsampling, as PIL), CMYK/YCCK is converted to RGB here (Adobe files store
 * inverted CMYK). EXIF orientation is ignored: pixels come out in stored order, as PIL's Image.open does.
 * A truncated or corrupt file is an error, never a partly grey image. On failure *out is zeroed. */
VITIMG_API int vitimg_load(const char *path, VitimgU8 *out, char *err, size_t errlen);
/* Writes img as a PNG (grey or RGB) to a temporary name in the same folder and renames it into place, so a
 * failed write leaves nothing (and an existing file at path stays as it was). */
VITIMG_API int vitimg_write_png(const char *path, const VitimgU8 *img, char *err, size_t errlen);

/* Resize short side + centre crop + colour conversion + normalisation -> out: planar CHW floats,
 * channels = 1 (GRAY) or 3 (RGB), size*size each. Matches torchvision's Resize(resize_size) +
 * CenterCrop(size) + ToTensor + Normalize on a PIL image:
 * - the long side becomes int(long * resize_size / short) (truncated, as torchvision computes it);
 * - resampling is PIL's: pixel centres at (i+0.5)*scale-0.5, bilinear (triangle) or bicubic (a = -0.5),
 *   the filter widened by the factor when shrinking (antialias), taps past the edge dropped and the rest
 *   renormalised, 8-bit fixed-point arithmetic with a rounded 8-bit result after the horizontal and then the
 *   vertical pass; an axis whose size does not change is not resampled, so an image that already is
 *   size x size with resize_size == size keeps its exact values;
 * - the crop offset is round((W - size) / 2) with ties to even (Python's round);
 * - a resized image smaller than size (resize_size < size) is padded with black (value 0) on each side,
 *   (size - W) / 2 before and the rest after, as torchvision pads; padded values then go through the
 *   normalisation like any other, (0 - mean) / std;
 * - GRAY from an RGB image converts first, in 8 bits, as PIL's convert("L"): (R*19595 + G*38470 + B*7471 +
 *   32768) >> 16; RGB from a grey image repeats the grey value;
 * - each value v becomes (v / 255.0f - mean[c]) / std[c] in float. */
VITIMG_API int vitimg_preprocess(const VitimgU8 *img, const VitimgPrep *p, float *out, char *err, size_t errlen);
/* vitimg_load + vitimg_preprocess (errors are "PATH: ..."). */
VITIMG_API int vitimg_load_tensor(const char *path, const VitimgPrep *p, float *out, char *err, size_t errlen);

/* Resizes img to w x h (bilinear, PIL's, antialiased when shrinking; nearest when nearest != 0: source pixel
 * floor((i + 0.5) * in / out)) into out (allocated; same channels). */
VITIMG_API int vitimg_resize_u8(const VitimgU8 *img, int w, int h, int nearest, VitimgU8 *out);
/* A perceptual colour map, dark blue -> teal -> green -> yellow, luminance rising monotonically with t, for
 * t in [0,1] (clamped); NaN -> grey (128,128,128). */
VITIMG_API void vitimg_colormap(float t, unsigned char rgb[3]);
/* Heat map overlay: heat is hh x hw floats (any range; normalised min..max to 0..1 inside, a constant map is
 * all 0; non-finite values are left out of min..max), upsampled bilinearly (PIL's filter) to base's size,
 * coloured with the map and alpha-blended onto base (converted to RGB): out = (1-alpha)*base + alpha*colour,
 * alpha clamped to [0,1]. out allocated, RGB. */
VITIMG_API int vitimg_heat_overlay(const VitimgU8 *base, const float *heat, int hh, int hw, float alpha,
                                   VitimgU8 *out);
/* A grid of small heat maps: tiles[(r*cols + c)*th*tw + y*tw + x], rows x cols tiles of th x tw values, each
 * value mapped from [vmin, vmax] through the colour map (vmin == vmax maps everything to 0; vmin > vmax or
 * non-finite bounds fail), every tile pixel drawn as scale x scale pixels, gap pixels of white between tiles
 * and around the edge: out is (cols*tw*scale + (cols+1)*gap) x (rows*th*scale + (rows+1)*gap). out
 * allocated, RGB. */
VITIMG_API int vitimg_tile_grid(const float *tiles, int rows, int cols, int th, int tw, float vmin, float vmax,
                                int scale, int gap, VitimgU8 *out);

#ifdef __cplusplus
}
#endif

#endif
