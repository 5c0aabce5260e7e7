/* Shape inference for BatchNormalization, ArgMax/ArgMin, TopK and Resize, and Resize's geometry (the
 * per-axis index and weight tables the interpreter and the backend both read, ONNX's reference
 * interpolation written out). */
#include "shape_vision.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const Tensor *in_t(const Node *n, int i) { return i < n->n_in && n->in[i] ? &n->in[i]->t : NULL; }

static void set_out(Node *n, int i, DType dt, int rank, const int64_t *dims) {
  Tensor *o = &n->out[i]->t;
  o->dtype = dt;
  o->rank = rank;
  for (int k = 0; k < rank; k++) o->dims[k] = dims[k];
}

/* ---- batch_norm ---- */

/* BatchNormalization in inference form: x f32 [N, C, D1, ...], scale, B, mean and var f32 [C]. */
int shape_vision_batch_norm(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0);
  char ty[128];
  if (ir_attr_i(n, "training_mode", 0) != 0)
    return ir_error(d, NULL, n, "training_mode=1 is not supported: vitc compiles inference (export the model in "
                    "eval mode)");
  for (int j = 1; j < n->n_out; j++)
    if (n->out[j])
      return ir_error(d, NULL, n, "output %d (a running statistic of training) is not supported: vitc compiles "
                      "inference, which has output 0 only", j);
  if (ir_attr_i(n, "spatial", 1) != 1)
    return ir_error(d, NULL, n, "spatial=0 (statistics per element, before opset 9) is not supported");
  if (x->dtype != DT_F32) return ir_error(d, NULL, n, "input X must be f32, got %s", dt_name(x->dtype));
  if (x->rank < 2)
    return ir_error(d, NULL, n, "input X must be [N, C, ...] (rank >= 2), got %s", tensor_type_str(x, ty, sizeof ty));
  static const char *const what[] = {"", "scale", "B", "input_mean", "input_var"};
  for (int i = 1; i < 5; i++) {
    const Tensor *p = in_t(n, i);
    if (!p) return ir_error(d, NULL, n, "input %d (%s) is missing", i, what[i]);
    if (p->dtype != DT_F32 || p->rank != 1 || p->dims[0] != x->dims[1])
      return ir_error(d, NULL, n, "%s must be f32[%lld] (one per channel), got %s", what[i], (long long)x->dims[1],
                      tensor_type_str(p, ty, sizeof ty));
  }
  set_out(n, 0, DT_F32, x->rank, x->dims);
  return 0;
}

/* ---- arg_max, arg_min, top_k ---- */

/* The normalized `axis` (default def) of n against x's rank, or -1 with d filled; x must be numeric. */
static int select_axis(Node *n, const Tensor *x, int64_t def, Diag *d) {
  if (x->dtype != DT_F32 && x->dtype != DT_I64 && x->dtype != DT_I32)
    return ir_error(d, NULL, n, "input must be f32, i64 or i32, got %s", dt_name(x->dtype));
  int64_t axis = ir_attr_i(n, "axis", def);
  if (x->rank == 0) return ir_error(d, NULL, n, "input must have rank >= 1");
  if (axis < -x->rank || axis >= x->rank)
    return ir_error(d, NULL, n, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
  return (int)(axis < 0 ? axis + x->rank : axis);
}

/* ArgMax / ArgMin: i64 indices along `axis` (default 0), the axis kept as 1 (keepdims, default) or dropped. */
int shape_vision_arg(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0);
  int axis = select_axis(n, x, 0, d);
  if (axis < 0) return -1;
  int keep = ir_attr_i(n, "keepdims", 1) != 0;
  int64_t dims[IR_MAX_RANK], numel = 1;
  int r = 0;
  for (int a = 0; a < x->rank; a++) {
    if (a != axis) dims[r++] = x->dims[a], numel *= x->dims[a];
    else if (keep) dims[r++] = 1;
  }
  if (x->dims[axis] == 0 && numel > 0)
    return ir_error(d, NULL, n, "axis %d is empty: the index of the extreme of no elements is undefined", axis);
  set_out(n, 0, DT_I64, r, dims);
  return 0;
}

/* TopK: k (input 1, a known i64 [1] or scalar, 0 <= k <= the axis) largest or smallest elements along `axis`
 * (default -1): values of x's type and i64 indices, the axis of size k. */
int shape_vision_top_k(Node *n, Diag *d) {
  const Tensor *x = in_t(n, 0), *k = in_t(n, 1);
  int axis = select_axis(n, x, -1, d);
  if (axis < 0) return -1;
  if (!k->data)
    return ir_error(d, NULL, n, "k (input 1, '%s') must be known at compile time", n->in[1]->name);
  if (k->dtype != DT_I64 || tensor_numel(k) != 1 || k->rank > 1)
    return ir_error(d, NULL, n, "k must be an i64 tensor of one element, got %s", dt_name(k->dtype));
  int64_t kv = tensor_get_i64(k, 0);
  if (kv < 0 || kv > x->dims[axis])
    return ir_error(d, NULL, n, "k = %lld is outside [0, %lld] (the size of axis %d)", (long long)kv,
                    (long long)x->dims[axis], axis);
  int64_t dims[IR_MAX_RANK];
  for (int a = 0; a < x->rank; a++) dims[a] = a == axis ? kv : x->dims[a];
  set_out(n, 0, x->dtype, x->rank, dims);
  if (n->n_out > 1 && n->out[1]) set_out(n, 1, DT_I64, x->rank, dims);
  return 0;
}

/* ---- resize ---- */

typedef enum ResizeMode { RS_NEAREST, RS_LINEAR, RS_CUBIC } ResizeMode;
typedef enum ResizeCoord { RC_HALF_PIXEL, RC_PYTORCH_HALF_PIXEL, RC_ALIGN_CORNERS, RC_ASYMMETRIC, RC_TF_HALF_PIXEL } ResizeCoord;
typedef enum ResizeNearest { RN_ROUND_PREFER_FLOOR, RN_ROUND_PREFER_CEIL, RN_FLOOR, RN_CEIL } ResizeNearest;

/* Index of s in list (n names), or -1 with d filled naming what is supported. */
static int pick(const Node *n, const char *attr, const char *s, const char *const *list, int count, Diag *d) {
  for (int i = 0; i < count; i++)
    if (strcmp(s, list[i]) == 0) return i;
  return ir_error(d, NULL, n, "%s '%s' is not supported", attr, s);
}

/* The source coordinate of output index x along an axis (ONNX's coordinate_transformation_mode), with
 * scale s and lengths in and out; length_resized is in * s as ONNX's reference computes it. */
static double resize_coord(ResizeCoord m, double x, double s, int64_t in) {
  double len = s * (double)in;
  switch (m) {
  case RC_HALF_PIXEL: return (x + 0.5) / s - 0.5;
  case RC_PYTORCH_HALF_PIXEL: return len > 1 ? (x + 0.5) / s - 0.5 : 0.0;
  case RC_ALIGN_CORNERS: return len == 1 ? 0.0 : x * (double)(in - 1) / (len - 1);
  case RC_ASYMMETRIC: return x / s;
  default: return (x + 0.5) / s;
  }
}

/* Keys' cubic convolution weights of the 4 taps around a point `ratio` in (0, 1] past tap 1 (ONNX's). */
static void cubic_coeffs(double r, double a, double *w) {
  double t = r + 1, u = 1 - r, v = 2 - r;
  w[0] = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  w[1] = ((a + 2) * r - (a + 3)) * r * r + 1;
  w[2] = ((a + 2) * u - (a + 3)) * u * u + 1;
  w[3] = ((a * v - 5 * a) * v + 8 * a) * v - 4 * a;
}

/* The taps of axis a: for each output index the input indices (clamped) and weights, as ONNX's reference
 * interpolates: the taps nearest the source coordinate x are ceil(x) - taps/2 + j with ratio
 * x - (ceil(x) - 1) in (0, 1]; nearest picks one of ceil(x) - 1 and ceil(x) by nearest_mode. */
static void resize_axis(ResizeGeom *g, int a, ResizeMode mode, ResizeCoord cm, ResizeNearest nm, double s,
                        double cubic_a, int exclude) {
  int taps = g->taps[a];
  for (int64_t o = 0; o < g->out[a]; o++) {
    double x = resize_coord(cm, (double)o, s, g->in[a]), cx = ceil(x), r = x - (cx - 1);
    int64_t *idx = g->idx[a] + o * taps;
    double *w = g->w[a] + o * taps;
    if (mode == RS_NEAREST) {
      int hi = r == 1 || nm == RN_CEIL || (nm == RN_ROUND_PREFER_FLOOR && r > 0.5) ||
               (nm == RN_ROUND_PREFER_CEIL && r >= 0.5);
      idx[0] = (int64_t)cx - 1 + hi, w[0] = 1;
    } else {
      if (mode == RS_LINEAR) w[0] = 1 - r, w[1] = r;
      else cubic_coeffs(r, cubic_a, w);
      double sum = 0;
      for (int j = 0; j < taps; j++) {
        idx[j] = (int64_t)cx - taps / 2 + j;
        if (exclude && (idx[j] < 0 || idx[j] >= g->in[a])) w[j] = 0;
        sum += w[j];
      }
      if (exclude)
        for (int j = 0; j < taps; j++) w[j] /= sum;
    }
    for (int j = 0; j < taps; j++) idx[j] = idx[j] < 0 ? 0 : idx[j] >= g->in[a] ? g->in[a] - 1 : idx[j];
  }
}

/* Attributes vitc does not support at values other than their defaults. */
static int resize_unsupported(const Node *n, Diag *d) {
  if (ir_attr_i(n, "antialias", 0) != 0) return ir_error(d, NULL, n, "antialias=1 is not supported");
  if (ir_attr_find(n, "axes")) return ir_error(d, NULL, n, "the axes attribute (opset 18) is not supported");
  if (strcmp(ir_attr_s(n, "keep_aspect_ratio_policy", "stretch"), "stretch") != 0)
    return ir_error(d, NULL, n, "keep_aspect_ratio_policy '%s' is not supported (only stretch)",
                    ir_attr_s(n, "keep_aspect_ratio_policy", ""));
  return 0;
}

int ir_resize_geom(const Node *n, const Tensor *x, ResizeGeom *g, int tables, Diag *d) {
  static const char *const modes[] = {"nearest", "linear", "cubic"};
  static const char *const coords[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                       "tf_half_pixel_for_nn"};
  static const char *const nearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  memset(g, 0, sizeof *g);
  if (resize_unsupported(n, d)) return -1;
  int mode = pick(n, "mode", ir_attr_s(n, "mode", "nearest"), modes, 3, d);
  const char *cs = ir_attr_s(n, "coordinate_transformation_mode", "half_pixel");
  if (mode < 0) return -1;
  if (strcmp(cs, "tf_crop_and_resize") == 0)
    return ir_error(d, NULL, n, "coordinate_transformation_mode 'tf_crop_and_resize' (a crop by roi) is not supported");
  int cm = pick(n, "coordinate_transformation_mode", cs, coords, 5, d);
  int nm = pick(n, "nearest_mode", ir_attr_s(n, "nearest_mode", "round_prefer_floor"), nearest, 4, d);
  if (cm < 0 || nm < 0) return -1;
  if (x->dtype != DT_F32) return ir_error(d, NULL, n, "input X must be f32, got %s", dt_name(x->dtype));
  if (x->rank < 1) return ir_error(d, NULL, n, "input X must have rank >= 1");
  const Tensor *sc = in_t(n, 2), *sz = in_t(n, 3);
  if (sc && tensor_numel(sc) == 0) sc = NULL; /* an empty scales means "use sizes" */
  if (!!sc == !!sz) return ir_error(d, NULL, n, "exactly one of scales (input 2) and sizes (input 3) must be given");
  const Tensor *p = sc ? sc : sz;
  if (!p->data)
    return ir_error(d, NULL, n, "%s (input %d, '%s') must be known at compile time", sc ? "scales" : "sizes",
                    sc ? 2 : 3, n->in[sc ? 2 : 3]->name);
  if (tensor_numel(p) != x->rank || p->dtype != (sc ? DT_F32 : DT_I64))
    return ir_error(d, NULL, n, "%s must be %s with one entry per axis of X (%d)", sc ? "scales" : "sizes",
                    sc ? "f32" : "i64", x->rank);
  double scale[IR_MAX_RANK];
  g->rank = x->rank;
  g->outer = 1;
  for (int a = 0; a < x->rank; a++) {
    double s = sc ? ((const float *)sc->data)[a] : 0;
    int64_t out = sc ? (int64_t)floor(x->dims[a] * s) : tensor_get_i64(sz, a);
    if (sc && !(s > 0)) return ir_error(d, NULL, n, "scales[%d] = %g must be positive", a, s);
    if (out < 0 || (out == 0 && x->dims[a] > 0)) return ir_error(d, NULL, n, "the output size of axis %d is %lld", a, (long long)out);
    if (!sc) s = x->dims[a] ? (double)out / (double)x->dims[a] : 1;
    scale[a] = s;
    g->dims[a] = out;
    if (a < x->rank - 2) {
      if (out != x->dims[a] || s != 1)
        return ir_error(d, NULL, n, "only the last two axes can be resized; axis %d goes from %lld to %lld", a,
                        (long long)x->dims[a], (long long)out);
      g->outer *= out;
    }
  }
  for (int a = 0; a < 2; a++) { /* H (1 for a rank-1 x) and W */
    int xa = x->rank - 2 + a;
    g->in[a] = xa < 0 ? 1 : x->dims[xa], g->out[a] = xa < 0 ? 1 : g->dims[xa];
    g->taps[a] = mode == RS_NEAREST ? 1 : mode == RS_LINEAR ? 2 : 4;
  }
  if (!tables) return 0;
  for (int a = 0; a < 2; a++) {
    int64_t cnt = g->out[a] * g->taps[a];
    g->idx[a] = malloc(sizeof *g->idx[a] * (size_t)(cnt ? cnt : 1));
    g->w[a] = malloc(sizeof *g->w[a] * (size_t)(cnt ? cnt : 1));
    if (!g->idx[a] || !g->w[a]) {
      ir_resize_free(g);
      return ir_error(d, NULL, n, "out of memory");
    }
    int xa = x->rank - 2 + a;
    resize_axis(g, a, (ResizeMode)mode, (ResizeCoord)cm, (ResizeNearest)nm, xa < 0 ? 1 : scale[xa],
                ir_attr_f(n, "cubic_coeff_a", -0.75f), ir_attr_i(n, "exclude_outside", 0) != 0);
  }
  return 0;
}

void ir_resize_free(ResizeGeom *g) {
  for (int a = 0; a < 2; a++) free(g->idx[a]), free(g->w[a]), g->idx[a] = NULL, g->w[a] = NULL;
}

/* Resize: f32 X, the last two axes resized (ir_resize_geom). */
int shape_vision_resize(Node *n, Diag *d) {
  ResizeGeom g;
  if (ir_resize_geom(n, in_t(n, 0), &g, 0, d)) return -1;
  set_out(n, 0, DT_F32, g.rank, g.dims);
  return 0;
}
