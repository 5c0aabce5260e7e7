/* `vitc run MODEL --image FILE --attention-map OUT.png`: attention rollout
 * (Abnar & Zuidema) through the reference interpreter. An observer collects
 * the softmax probabilities of every fused self-`attention` node for the first
 * image; per layer the heads are averaged, the identity added (the residual
 * path) and the rows renormalised; the layers' matrices are multiplied in
 * order. The class token's row over the patch tokens, laid out as the patch
 * grid, is blended onto the image as the model saw it (centre crop). */
#include "image_cli.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Rollout state: r = A_L ... A_1 over nt tokens. */
typedef struct Rollout {
  int64_t images; /* the model's batch: an attention over more sequences attends within windows */
  int64_t nt;
  double *r, *tmp;
  int layers;
} Rollout;

/* Folds one attention node's probabilities (image 0, heads averaged) into the rollout. */
static int rollout_layer(Rollout *ro, const float *probs, int64_t heads, int64_t nt, Diag *d) {
  if (!ro->r) {
    ro->nt = nt;
    ro->r = calloc((size_t)(nt * nt), sizeof *ro->r);
    ro->tmp = calloc((size_t)(nt * nt), sizeof *ro->tmp);
    if (!ro->r || !ro->tmp) return ir_error(d, NULL, NULL, "out of memory");
    for (int64_t i = 0; i < nt; i++) ro->r[i * nt + i] = 1;
  } else if (nt != ro->nt) {
    return ir_error(d, NULL, NULL, "--attention-map: attention layers over %lld and %lld tokens; rollout needs one "
                    "token count", (long long)ro->nt, (long long)nt);
  }
  double *a = malloc((size_t)(nt * nt) * sizeof *a);
  if (!a) return ir_error(d, NULL, NULL, "out of memory");
  for (int64_t i = 0; i < nt; i++) {
    double sum = 0;
    for (int64_t j = 0; j < nt; j++) {
      double v = i == j; /* identity for the residual connection */
      for (int64_t h = 0; h < heads; h++) v += probs[(h * nt + i) * nt + j] / (double)heads;
      a[i * nt + j] = v;
      sum += v;
    }
    for (int64_t j = 0; j < nt; j++) a[i * nt + j] /= sum;
  }
  for (int64_t i = 0; i < nt; i++) /* tmp = a @ r */
    for (int64_t j = 0; j < nt; j++) {
      double v = 0;
      for (int64_t k = 0; k < nt; k++) v += a[i * nt + k] * ro->r[k * nt + j];
      ro->tmp[i * nt + j] = v;
    }
  double *t = ro->r;
  ro->r = ro->tmp;
  ro->tmp = t;
  ro->layers++;
  free(a);
  return 0;
}

/* Interpreter observer: every attention node's probabilities into the rollout. */
static int observe_attention(void *ctx, const Node *n, const Tensor *in, const Tensor *out, Diag *d) {
  if (n->op != OP_ATTENTION) return 0;
  if (n->n_in > 4 && n->in[4]) return 0; /* cross-attention (a pooling head) maps no token to a token: not rolled out */
  int64_t b = out->dims[0], nt = out->dims[1], heads = ir_attr_i(n, "heads", 1);
  Rollout *ro = ctx;
  if (b != ro->images) /* Swin, MaxViT: each sequence is a window or grid cell, not an image's tokens */
    return ir_error(d, NULL, n, "--attention-map: this attention runs over %lld sequences for %lld image(s), "
                    "windows of %lld tokens, not over each image's tokens; rollout needs global attention (ViT, "
                    "DeiT, CLIP)", (long long)b, (long long)ro->images, (long long)nt);
  float *probs = malloc((size_t)(b * heads * nt * nt) * sizeof *probs);
  if (!probs) return ir_error(d, NULL, n, "out of memory");
  int rc = ir_attention_probs(n, in, out, probs, d);
  if (!rc) rc = rollout_layer(ctx, probs, heads, nt, d); /* image 0 is the first B*... block */
  free(probs);
  return rc;
}

int cli_patch_grid(int64_t nt, int64_t *side, int64_t *extra) {
  int64_t s = (int64_t)sqrt((double)nt);
  while (s * s > nt) s--;
  while ((s + 1) * (s + 1) <= nt) s++;
  *side = s;
  *extra = nt - s * s;
  return s >= 1 && *extra <= 8 ? 0 : -1;
}

/* The heat map over the patches: the class token's rollout row, or, without
 * extra tokens, the attention each patch receives averaged over all queries. */
static float *patch_heat(const Rollout *ro, int64_t side, int64_t extra) {
  float *h = malloc((size_t)(side * side) * sizeof *h);
  if (!h) return NULL;
  for (int64_t p = 0; p < side * side; p++) {
    double v = 0;
    if (extra) v = ro->r[extra + p];
    else
      for (int64_t i = 0; i < ro->nt; i++) v += ro->r[i * ro->nt + p] / (double)ro->nt;
    h[p] = (float)v;
  }
  return h;
}

/* The part of img the model saw (the centre crop, in original pixels), scaled to about 448 pixels. */
static int seen_region(const VitimgU8 *img, const VitimgPrep *p, VitimgU8 *out) {
  int shortest = img->width < img->height ? img->width : img->height;
  int resize = p->resize_size > 0 ? p->resize_size : p->size;
  int side = (int)((double)shortest * p->size / resize + 0.5);
  if (side > shortest) side = shortest;
  if (side < 1) side = 1;
  VitimgU8 crop = {side, side, img->channels, malloc((size_t)side * (size_t)side * (size_t)img->channels)};
  if (!crop.px) return -1;
  int x0 = (img->width - side) / 2, y0 = (img->height - side) / 2;
  for (int y = 0; y < side; y++)
    memcpy(crop.px + (size_t)y * side * img->channels,
           img->px + ((size_t)(y0 + y) * img->width + x0) * img->channels, (size_t)side * img->channels);
  int shown = side >= 448 ? side : 448;
  int rc = vitimg_resize_u8(&crop, shown, shown, side * 4 <= shown, out); /* small images: crisp pixels */
  vitimg_free(&crop);
  return rc;
}

/* left | gap | right, both RGB of the same height, on white. */
static int side_by_side(const VitimgU8 *l, const VitimgU8 *r, int gap, VitimgU8 *out) {
  int w = l->width + gap + r->width, h = l->height;
  *out = (VitimgU8){w, h, 3, malloc((size_t)w * (size_t)h * 3)};
  if (!out->px) return -1;
  memset(out->px, 255, (size_t)w * (size_t)h * 3);
  for (int y = 0; y < h; y++) {
    unsigned char *row = out->px + (size_t)y * w * 3;
    for (int x = 0; x < l->width; x++)
      for (int c = 0; c < 3; c++) row[x * 3 + c] = l->px[((size_t)y * l->width + x) * l->channels + (l->channels == 3 ? c : 0)];
    memcpy(row + (size_t)(l->width + gap) * 3, r->px + (size_t)y * r->width * 3, (size_t)r->width * 3);
  }
  return 0;
}

/* Draws heat over the image's seen region and writes left: image, right: overlay. */
static int write_overlay(const char *image, const VitimgPrep *p, const float *heat, int64_t side, const char *out_png,
                         Diag *d) {
  VitimgU8 img = {0}, seen = {0}, over = {0}, both = {0};
  char err[512];
  int rc = vitimg_load(image, &img, err, sizeof err) ? ir_error(d, NULL, NULL, "%s", err) : 0;
  if (!rc && seen_region(&img, p, &seen)) rc = ir_error(d, image, NULL, "out of memory");
  if (!rc && vitimg_heat_overlay(&seen, heat, (int)side, (int)side, 0.55f, &over))
    rc = ir_error(d, image, NULL, "cannot draw the heat map");
  if (!rc && side_by_side(&seen, &over, 8, &both)) rc = ir_error(d, NULL, NULL, "out of memory");
  if (!rc && vitimg_write_png(out_png, &both, err, sizeof err)) rc = ir_error(d, NULL, NULL, "%s", err);
  vitimg_free(&img), vitimg_free(&seen), vitimg_free(&over), vitimg_free(&both);
  return rc;
}

int cli_check_png_output(const char *path, const char *model, const ImageOptions *o, Diag *d) {
  size_t n = strlen(path);
  if (n < 5 || strcasecmp(path + n - 4, ".png") != 0)
    return ir_error(d, path, NULL, "pictures are written as PNG: name the file *.png");
  if (model && ir_same_file(path, model)) return ir_error(d, path, NULL, "is the model; not overwriting it");
  for (int i = 0; o && i < o->n_images; i++)
    if (ir_same_file(path, o->images[i])) return ir_error(d, path, NULL, "is an input image; not overwriting it");
  return 0;
}

int cli_attention_map(const Graph *g, const VitimgPrep *p, const char *image, const float *x, const char *out_png,
                      FILE *report, Diag *d) {
  const Value *in0 = g->inputs[0];
  Tensor *in = calloc((size_t)g->n_inputs, sizeof *in), *out = calloc((size_t)g->n_outputs, sizeof *out);
  Rollout ro = {0};
  int rc = in && out ? 0 : ir_error(d, NULL, NULL, "out of memory");
  if (!rc && g->n_inputs != 1) rc = ir_error(d, g->file, NULL, "--attention-map needs a model with one input");
  if (!rc) ro.images = in0->t.rank ? in0->t.dims[0] : 1;
  if (!rc) {
    in[0] = in0->t;
    in[0].data = calloc((size_t)tensor_numel(&in0->t), sizeof(float)); /* image 0, zero padding after it */
    if (!in[0].data) rc = ir_error(d, NULL, NULL, "out of memory");
    else memcpy(in[0].data, x, (size_t)(tensor_numel(&in0->t) / in0->t.dims[0]) * sizeof(float));
  }
  if (!rc) rc = ir_interpret_observed(g, in, out, observe_attention, &ro, d);
  if (!rc && ro.layers == 0)
    rc = ir_error(d, g->file, NULL, "--attention-map: no fused attention node in the optimized graph "
                  "(vitc ir --explain-fusion says why)");
  int64_t side = 0, extra = 0;
  if (!rc && cli_patch_grid(ro.nt, &side, &extra))
    rc = ir_error(d, g->file, NULL, "--attention-map: %lld tokens are not a square patch grid after a few extra "
                  "tokens", (long long)ro.nt);
  float *heat = rc ? NULL : patch_heat(&ro, side, extra);
  if (!rc && !heat) rc = ir_error(d, NULL, NULL, "out of memory");
  if (!rc) rc = write_overlay(image, p, heat, side, out_png, d);
  if (!rc)
    fprintf(report, "attention map: %s (rollout over %d layers, heads averaged, %s to %lldx%lld patches)\n", out_png,
            ro.layers, extra ? "class token" : "mean attention received", (long long)side, (long long)side);
  free(heat);
  if (in) free(in[0].data);
  for (int j = 0; out && j < g->n_outputs; j++) free(out[j].data);
  free(in), free(out), free(ro.r), free(ro.tmp);
  return rc;
}
