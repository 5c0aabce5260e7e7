/* The image options of `vitc run` and the preprocessing they resolve to:
 * ImageNet defaults, then the model's `vitc.*` metadata, then the flags. */
#include "image_cli.h"
#include "vitc_abi.h"
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ImageModel.meta points at a graph's MetaProp array or a compiled model's VitcMetadata array. */
_Static_assert(sizeof(MetaProp) == sizeof(VitimgMeta) && offsetof(MetaProp, value) == offsetof(VitimgMeta, value) &&
                   sizeof(VitcMetadata) == sizeof(VitimgMeta) && offsetof(VitcMetadata, value) == offsetof(VitimgMeta, value),
               "metadata entries must share one layout");

void cli_image_options_init(ImageOptions *o) {
  memset(o, 0, sizeof *o);
  o->resize = -1;
}

void cli_image_options_free(ImageOptions *o) {
  free(o->images);
  o->images = NULL;
  o->n_images = o->cap_images = 0;
}

/* Parses a whole positive int no larger than max; -1 when s is not one. */
static int parse_int_max(const char *s, int max) {
  char *end;
  long v = strtol(s, &end, 10);
  return (*s && !*end && v >= 1 && v <= max) ? (int)v : -1;
}

/* Appends path to the image list. */
static int add_image(ImageOptions *o, const char *path, Diag *d) {
  if (o->n_images == o->cap_images) {
    int cap = o->cap_images ? 2 * o->cap_images : 16;
    const char **p = realloc(o->images, (size_t)cap * sizeof *p);
    if (!p) return ir_error(d, NULL, NULL, "out of memory");
    o->images = p;
    o->cap_images = cap;
  }
  o->images[o->n_images++] = path;
  return 0;
}

/* Whether s names a model rather than an image (so `--image a.png model.so` works). */
static int looks_like_model(const char *s) {
  static const char *const ext[] = {".onnx", ".so", ".vir"};
  size_t n = strlen(s);
  for (size_t k = 0; k < sizeof ext / sizeof ext[0]; k++) {
    size_t e = strlen(ext[k]);
    if (n > e && strcmp(s + n - e, ext[k]) == 0) return 1;
  }
  return 0;
}

int cli_image_option(int argc, char **argv, int *i, ImageOptions *o, Diag *d) {
  const char *a = argv[*i], *val = *i + 1 < argc ? argv[*i + 1] : NULL;
  if (strcmp(a, "--grayscale") == 0) return o->grayscale = 1, 1;
  if (strcmp(a, "--image") == 0) {
    if (!val || val[0] == '-') return ir_error(d, NULL, NULL, "--image needs at least one image file");
    while (*i + 1 < argc && argv[*i + 1][0] != '-' && !looks_like_model(argv[*i + 1]))
      if (add_image(o, argv[++*i], d)) return -1;
    return 1;
  }
  static const char *const with_value[] = {"--labels", "--top", "--size", "--mean", "--std", "--resize",
                                           "--attention-map", "--bench"};
  int k = -1;
  for (int j = 0; j < (int)(sizeof with_value / sizeof with_value[0]); j++)
    if (strcmp(a, with_value[j]) == 0) k = j;
  if (k < 0) return 0;
  if (!val) return ir_error(d, NULL, NULL, "%s needs a value", a);
  ++*i;
  switch (k) {
  case 0: o->labels_file = val; return 1;
  case 1:
    if ((o->top = parse_int_max(val, 1000000)) < 0) return ir_error(d, NULL, NULL, "--top needs a positive integer, got '%s'", val);
    return 1;
  case 2:
    if ((o->size = parse_int_max(val, 16384)) < 0)
      return ir_error(d, NULL, NULL, "--size needs an integer from 1 to 16384, got '%s'", val);
    return 1;
  case 3:
  case 4: {
    if (vitimg_parse_channels(val, k == 4, k == 3 ? o->mean : o->std)) /* metadata's rule */
      return ir_error(d, NULL, NULL, "%s needs 1 or 3 comma-separated finite numbers%s, got '%s'", a,
                      k == 4 ? " of at least 1e-6" : "", val);
    *(k == 3 ? &o->has_mean : &o->has_std) = 1;
    return 1;
  }
  case 5:
    if (strcmp(val, "bilinear") == 0) o->resize = VITIMG_BILINEAR;
    else if (strcmp(val, "bicubic") == 0) o->resize = VITIMG_BICUBIC;
    else return ir_error(d, NULL, NULL, "--resize must be bilinear or bicubic, got '%s'", val);
    return 1;
  case 6: o->attention_map = val; return 1;
  default:
    if ((o->bench = parse_int_max(val, 1000000)) < 0)
      return ir_error(d, NULL, NULL, "--bench needs a positive integer, got '%s'", val);
    return 1;
  }
}

const char *cli_image_meta(const ImageModel *m, const char *key) {
  for (int i = 0; i < m->n_meta; i++)
    if (strcmp(m->meta[i].key, key) == 0) return m->meta[i].value;
  return NULL;
}

int cli_image_prep(const ImageModel *m, const ImageOptions *o, VitimgPrep *p, Diag *d) {
  const Tensor *in = &m->input;
  char err[512];
  if (in->dtype != DT_F32 || in->rank != 4 || (in->dims[1] != 1 && in->dims[1] != 3) || in->dims[2] != in->dims[3] ||
      in->dims[2] > 16384) {
    char t[128];
    return ir_error(d, m->path, NULL, "--image needs a model whose first input is f32[N,C,S,S] with C = 1 or 3; "
                    "this one is %s", tensor_type_str(in, t, sizeof t));
  }
  if (vitimg_prep_from_metadata(m->meta, m->n_meta, (int)in->dims[1], (int)in->dims[2], p, err, sizeof err))
    return ir_error(d, m->path, NULL, "%s", err);
  if (o->size && o->size != p->size)
    return ir_error(d, m->path, NULL, "--size %d: the model's input is %lldx%lld", o->size, (long long)in->dims[2],
                    (long long)in->dims[3]);
  if (o->has_mean) memcpy(p->mean, o->mean, sizeof p->mean);
  if (o->has_std) memcpy(p->std, o->std, sizeof p->std);
  if (o->resize >= 0) p->resize = (VitimgResize)o->resize;
  if (o->grayscale) p->color = VITIMG_GRAY;
  return 0;
}
