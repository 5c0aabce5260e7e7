/* Images in, predictions out: the `--image` side of `vitc run`, shared by the
 * interpreter (tools/cmd_run.c) and compiled models (tools/run_so.c). The
 * preprocessing comes from the model's `vitc.*` metadata, then the flags
 * (docs/image.md); decoding and resizing are image/vitimg.h's. */
#ifndef VITC_IMAGE_CLI_H
#define VITC_IMAGE_CLI_H
#include "ir.h"
#include "vitimg.h"
#include <stdio.h>

/* The image options of `vitc run`. */
typedef struct ImageOptions {
  const char **images;
  int n_images, cap_images;
  const char *labels_file;    /* --labels FILE */
  int top;                    /* --top K (0: 1) */
  int size;                   /* --size N (checked against the model's input) */
  int has_mean, has_std;      /* --mean / --std given: mean[], std[] hold their three channels */
  float mean[3], std[3];
  int resize;                 /* --resize: -1 unset, else a VitimgResize */
  int grayscale;              /* --grayscale */
  const char *attention_map;  /* --attention-map OUT.png */
  int bench;                  /* --bench N: time N runs of the first batch */
} ImageOptions;

/* Consumes argv[*i] and its values when it is an image option (`--image`
 * takes every following argument up to the next option); 1 if consumed, 0 if
 * not, -1 on a bad value (d filled). o->resize must start at -1
 * (cli_image_options_init). */
void cli_image_options_init(ImageOptions *o);
int cli_image_option(int argc, char **argv, int *i, ImageOptions *o, Diag *d);
void cli_image_options_free(ImageOptions *o);

/* What classification needs of a model, whatever runs it. */
typedef struct ImageModel {
  const char *path;
  const VitimgMeta *meta;     /* the model's metadata (MetaProp and VitcMetadata have this layout) */
  int n_meta;
  Tensor input, output;       /* types of input 0 and output 0 (no data) */
  /* Runs one batch: x is input 0's data, y receives output 0's. */
  int (*run)(void *ctx, const float *x, float *y, Diag *d);
  void *run_ctx;
} ImageModel;

/* The value of metadata key, NULL when absent. */
const char *cli_image_meta(const ImageModel *m, const char *key);

/* The preprocessing for model m under options o: metadata, then flags,
 * checked against the model's input [B, C, S, S]. */
int cli_image_prep(const ImageModel *m, const ImageOptions *o, VitimgPrep *p, Diag *d);

/* Loads and preprocesses every image (all before any runs, so a bad file
 * stops the command before anything is printed), runs them in batches of the
 * model's batch, prints `FILE: LABEL (PCT%)` and K-1 indented runners-up per
 * image. */
int cli_classify_images(const ImageModel *m, const ImageOptions *o, FILE *out, Diag *d);

/* Decodes image path and preprocesses it into x (channels*S*S floats) for a
 * model input of `channels` channels (grey is repeated for --grayscale on an
 * RGB model). */
int cli_image_load(const char *path, const VitimgPrep *p, int channels, float *x, Diag *d);

/* The interpreter path's extra picture: attention rollout of the first image
 * blended onto it (tools/attention_map.c). x is the preprocessed image. */
int cli_attention_map(const Graph *g, const VitimgPrep *p, const char *image, const float *x, const char *out_png,
                      FILE *report, Diag *d);
/* Checks an output picture path before any work: it ends in .png and is not one of the inputs. */
int cli_check_png_output(const char *path, const char *model, const ImageOptions *o, Diag *d);

/* The patch grid of nt tokens: side*side patches after `extra` leading tokens (class, distillation,
 * register tokens; at most 8); -1 when nt does not look like that (tools/attention_map.c). */
int cli_patch_grid(int64_t nt, int64_t *side, int64_t *extra);

/* Latency summary of n timed runs (sorts ms): `latency_ms min=X median=Y runs=N`. */
void cli_print_latency(FILE *out, double *ms, int n);
/* Milliseconds on a monotonic clock. */
double cli_now_ms(void);

#endif
