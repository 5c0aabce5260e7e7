/* vitimg: rendering for attention and saliency maps: a colour map, a heat-map overlay and a grid of tiles. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "img_internal.h"

/* Control points of the colour map, evenly spaced in t: dark blue, blue, teal, green, yellow. Their BT.601
 * luma rises (22, 45, 67, 83, 98, 118, 148, 182, 214), and so does every linear blend between them. */
static const unsigned char img_cmap[9][3] = {
  {20, 12, 80},   {35, 35, 125},  {40, 65, 145},  {35, 95, 145}, {30, 125, 140},
  {45, 155, 120}, {100, 185, 85}, {175, 210, 55}, {250, 230, 40},
};

/* Colour of t in [0,1] (clamped), linear between control points; NaN is mid grey. */
VITIMG_API void vitimg_colormap(float t, unsigned char rgb[3]) {
  if (isnan(t)) {
    rgb[0] = rgb[1] = rgb[2] = 128;
    return;
  }
  float u = (t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t) * 8.0f;
  int i = (int)u;
  if (i > 7)
    i = 7;
  float f = u - (float)i;
  for (int c = 0; c < 3; c++) {
    float v = (1.0f - f) * img_cmap[i][c] + f * img_cmap[i + 1][c];
    rgb[c] = (unsigned char)(v + 0.5f);
  }
}

/* Scales heat to 0..1 by its finite min..max (a constant map becomes 0; non-finite values stay). */
static void img_heat_normalise(const float *heat, size_t n, float *t) {
  float lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < n; i++)
    if (isfinite(heat[i])) {
      lo = heat[i] < lo ? heat[i] : lo;
      hi = heat[i] > hi ? heat[i] : hi;
    }
  double range = (double)hi - (double)lo;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(heat[i]))
      t[i] = heat[i];
    else
      t[i] = range > 0.0 ? (float)(((double)heat[i] - lo) / range) : 0.0f;
  }
}

/* Heat map hh x hw upsampled (bilinear) to base's size, coloured and blended onto base: out allocated, RGB. */
VITIMG_API int vitimg_heat_overlay(const VitimgU8 *base, const float *heat, int hh, int hw, float alpha,
                                   VitimgU8 *out) {
  if (!out)
    return -1;
  memset(out, 0, sizeof *out);
  if (img_check_image(base) || !heat || img_check_size(hw, hh) || isnan(alpha))
    return -1;
  alpha = alpha < 0.0f ? 0.0f : alpha > 1.0f ? 1.0f : alpha;
  size_t nh = (size_t)hh * (size_t)hw, n = (size_t)base->width * (size_t)base->height;
  float *t = malloc(sizeof *t * nh), *up = malloc(sizeof *up * n);
  int rc = -1;
  if (!t || !up || img_alloc(out, base->width, base->height, 3))
    goto done;
  img_heat_normalise(heat, nh, t);
  if (img_resample_f32(t, hw, hh, base->width, base->height, up))
    goto done;
  for (size_t i = 0; i < n; i++) {
    unsigned char col[3];
    vitimg_colormap(up[i], col);
    for (int c = 0; c < 3; c++) {
      float b = base->px[i * (size_t)base->channels + (base->channels == 3 ? (size_t)c : 0)];
      float v = (1.0f - alpha) * b + alpha * col[c] + 0.5f;
      out->px[3 * i + (size_t)c] = (unsigned char)(v > 255.0f ? 255.0f : v);
    }
  }
  rc = 0;
done:
  free(t);
  free(up);
  if (rc)
    vitimg_free(out);
  return rc;
}

/* One axis of the grid: n tiles of len values at scale, gap between and around; -1 when over 2^28. */
static long img_grid_extent(int n, int len, int scale, int gap) {
  long long e = (long long)len * scale;
  if (e > VITIMG_MAX_PIXELS || (e *= n) > VITIMG_MAX_PIXELS)
    return -1;
  e += ((long long)n + 1) * gap;
  return e > VITIMG_MAX_PIXELS ? -1 : (long)e;
}

/* Draws rows x cols tiles of th x tw values, each value a scale x scale block, white gaps: out allocated, RGB. */
VITIMG_API int vitimg_tile_grid(const float *tiles, int rows, int cols, int th, int tw, float vmin, float vmax,
                                int scale, int gap, VitimgU8 *out) {
  if (!out)
    return -1;
  memset(out, 0, sizeof *out);
  if (!tiles || rows < 1 || cols < 1 || th < 1 || tw < 1 || scale < 1 || gap < 0 || gap > VITIMG_MAX_PIXELS)
    return -1;
  if (!isfinite(vmin) || !isfinite(vmax) || vmin > vmax)
    return -1;
  long w = img_grid_extent(cols, tw, scale, gap), h = img_grid_extent(rows, th, scale, gap);
  if (w < 0 || h < 0 || img_alloc(out, (int)w, (int)h, 3))
    return -1;
  memset(out->px, 255, (size_t)w * (size_t)h * 3);
  double range = (double)vmax - (double)vmin;
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) {
      const float *tile = tiles + ((size_t)r * (size_t)cols + (size_t)c) * (size_t)th * (size_t)tw;
      size_t x0 = (size_t)gap + (size_t)c * ((size_t)tw * (size_t)scale + (size_t)gap);
      size_t y0 = (size_t)gap + (size_t)r * ((size_t)th * (size_t)scale + (size_t)gap);
      for (int y = 0; y < th * scale; y++)
        for (int x = 0; x < tw * scale; x++) {
          float v = tile[(size_t)(y / scale) * (size_t)tw + (size_t)(x / scale)];
          float t = range > 0.0 ? (float)(((double)v - vmin) / range) : (isnan(v) ? v : 0.0f);
          vitimg_colormap(t, out->px + ((y0 + (size_t)y) * (size_t)w + x0 + (size_t)x) * 3);
        }
    }
  return 0;
}
