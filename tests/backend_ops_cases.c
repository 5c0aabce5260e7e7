/* The cases of the differential backend test: for each op a generator that
 * writes case k as IR text with seeded random shapes (not multiples of 16),
 * broadcasting and attribute variants. Node outputs are left `undef[]`:
 * shape inference types them. The node under test is named "t". */
#include "backend_ops.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

uint64_t rng_next(Rng *r) {
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

int64_t rng_int(Rng *r, int64_t lo, int64_t hi) { return lo + (int64_t)(rng_next(r) % (uint64_t)(hi - lo + 1)); }

void case_put(Case *cs, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(cs->text + cs->len, sizeof cs->text - cs->len, fmt, ap);
  va_end(ap);
  if (n > 0) cs->len += (size_t)n;
  if (cs->len >= sizeof cs->text) cs->len = sizeof cs->text - 1;
}

/* A dim in [2, 37] that is not a multiple of 16. */
static int rdim(Rng *r) {
  int d = (int)rng_int(r, 2, 37);
  return d % 16 ? d : d + 1;
}

/* The dtype of case k among the list (cycling). */
static const char *pick(int k, const char *const *list, int n) { return list[k % n]; }
static const char *const NUM[] = {"f32", "i64", "i32"};

/* ---- elementwise ---- */

/* x OP y over five broadcasting layouts (k % 5); the dtype cycles with k / 5 through dts. */
static void binary(Case *cs, Rng *r, int k, const char *op, const char *const *dts, int n_dts) {
  int a = rdim(r), b = rdim(r), c = rdim(r);
  const char *dt = pick(k / 5, dts, n_dts);
  char x[64], y[64];
  switch (k % 5) {
  case 0: snprintf(x, 64, "%d,%d", a, b), snprintf(y, 64, "%d,%d", a, b); break;
  case 1: snprintf(x, 64, "%d,%d,%d", a, b, c), snprintf(y, 64, "%d", c); break;
  case 2: snprintf(x, 64, "%d,1,%d", a, c), snprintf(y, 64, "%d,1", b); break;
  case 3: snprintf(x, 64, "%s", ""), snprintf(y, 64, "%d,%d", a, b); break;
  default: snprintf(x, 64, "7,9731"), snprintf(y, 64, "7,1"); break; /* big enough to run threaded */
  }
  case_put(cs, "input %%x: %s[%s]\ninput %%y: %s[%s]\n%%z: undef[] = %s(%%x, %%y) @\"t\"\noutput %%z\n", dt, x, dt,
           y, op);
}

#define BINARY(name, dts)                                                                                    \
  static void gen_##name(Case *cs, Rng *r, int k) { binary(cs, r, k, #name, dts, sizeof dts / sizeof *dts); }
BINARY(add, NUM)
BINARY(sub, NUM)
BINARY(mul, NUM)
BINARY(div, NUM)
static const char *const F32[] = {"f32"};
BINARY(pow, F32)
static const char *const EQ[] = {"f32", "i64", "bool", "i32"};
BINARY(equal, EQ)

/* OP(x) over three shapes (k % 3); the dtype cycles with k / 3 through dts. */
static void unary(Case *cs, Rng *r, int k, const char *op, const char *attrs, const char *const *dts, int n_dts) {
  int a = rdim(r), b = rdim(r), c = rdim(r);
  const char *dt = pick(k / 3, dts, n_dts);
  if (k % 3 == 0) case_put(cs, "input %%x: %s[%d,%d]\n", dt, a, b);
  else if (k % 3 == 1) case_put(cs, "input %%x: %s[%d,%d,%d]\n", dt, a, b, c);
  else case_put(cs, "input %%x: %s[5,13331]\n", dt);
  case_put(cs, "%%y: undef[] = %s(%%x)%s @\"t\"\noutput %%y\n", op, attrs);
}

#define UNARY(name, attrs, dts)                                                                                   \
  static void gen_##name(Case *cs, Rng *r, int k) { unary(cs, r, k, #name, attrs, dts, sizeof dts / sizeof *dts); }
UNARY(neg, "", NUM)
UNARY(abs, "", NUM)
UNARY(relu, "", NUM)
UNARY(sqrt, "", F32)
UNARY(reciprocal, "", F32)
UNARY(exp, "", F32)
UNARY(erf, "", F32)
UNARY(tanh, "", F32)
UNARY(sigmoid, "", F32)
UNARY(ceil, "", F32)
static const char *const ALL[] = {"f32", "i64", "i32", "bool"};
UNARY(identity, "", ALL)

static void gen_gelu(Case *cs, Rng *r, int k) {
  unary(cs, r, k, "gelu", k < 3 ? "" : " {approximate=\"tanh\"}", F32, 1);
}

/* where(cond, x, y) with each operand broadcast somewhere; f32 or i64 values. */
static void gen_where(Case *cs, Rng *r, int k) {
  int a = rdim(r), b = rdim(r), c = rdim(r);
  const char *dt = k % 2 ? "i64" : "f32";
  if (k < 2) case_put(cs, "input %%c: bool[%d,1,%d]\ninput %%x: %s[%d,%d]\ninput %%y: %s[]\n", a, c, dt, b, c, dt);
  else case_put(cs, "input %%c: bool[%d]\ninput %%x: %s[%d,%d]\ninput %%y: %s[%d,1]\n", b, dt, a, b, dt, a);
  case_put(cs, "%%z: undef[] = where(%%c, %%x, %%y) @\"t\"\noutput %%z\n");
}

/* cast from ALL[k / 4] to ALL[k % 4] (ONNX numbers 1, 7, 6, 9). */
static void gen_cast(Case *cs, Rng *r, int k) {
  static const int onnx[] = {1, 7, 6, 9};
  case_put(cs, "input %%x: %s[%d,%d]\n%%y: undef[] = cast(%%x) {to=%d} @\"t\"\noutput %%y\n", ALL[k / 4], rdim(r),
           rdim(r), onnx[k % 4]);
}

/* Dropout in inference mode: with and without the mask, with a ratio and training_mode=0. */
static void gen_dropout(Case *cs, Rng *r, int k) {
  case_put(cs, "input %%x: f32[%d,%d]\nconst %%ratio: f32[] = [0.25]\nconst %%tm: bool[] = [0]\n", rdim(r), rdim(r));
  if (k == 0) case_put(cs, "%%y: undef[], %%m: undef[] = dropout(%%x) @\"t\"\noutput %%y\noutput %%m\n");
  else if (k == 1) case_put(cs, "%%y: undef[] = dropout(%%x) @\"t\"\noutput %%y\n");
  else case_put(cs, "%%y: undef[], %%m: undef[] = dropout(%%x, %%ratio, %%tm) @\"t\"\noutput %%m\noutput %%y\n");
}

/* ---- linear algebra ---- */

/* matmul: 2-D, batched x 2-D, broadcast batches, vector operands, a long K; weights constant in odd cases. */
static void gen_matmul(Case *cs, Rng *r, int k) {
  int m = rdim(r), q = rdim(r), n = rdim(r);
  const char *w = k % 2 ? "c_w" : "w";
  static const char *const fmt[] = {
    "input %%x: f32[%d,%d]\ninput %%%s: f32[%d,%d]\n", "input %%x: f32[3,%d,%d]\ninput %%%s: f32[%d,%d]\n",
    "input %%x: f32[2,1,%d,%d]\ninput %%%s: f32[3,%d,%d]\n", "input %%x: f32[%d]\ninput %%%s: f32[%d,%d]\n",
    "input %%x: f32[%d,%d]\ninput %%%s: f32[%d]\n"};
  if (k == 3) case_put(cs, fmt[3], q, w, q, n);
  else if (k == 4) case_put(cs, fmt[4], m, q, w, q);
  else if (k == 5) case_put(cs, "input %%x: f32[1,197,192]\ninput %%c_w: f32[192,64]\n"), w = "c_w";
  /* K over every target's K block (kc <= 768): partial sums through y, then the last block; an activation
   * b copied panel by panel, and packed weights with an edge panel */
  else if (k == 6) case_put(cs, "input %%x: f32[2,21,1600]\ninput %%w: f32[1600,45]\n");
  else if (k == 7) case_put(cs, "input %%x: f32[1,19,1600]\ninput %%c_w: f32[1600,70]\n"), w = "c_w";
  else case_put(cs, fmt[k], m, q, w, q, n);
  case_put(cs, "%%y: undef[] = matmul(%%x, %%%s) @\"t\"\noutput %%y\n", w);
}

/* gemm with transA / transB, alpha, beta and C of [N], [M,N], [1] or absent. */
static void gen_gemm(Case *cs, Rng *r, int k) {
  int m = rdim(r), q = rdim(r), n = rdim(r), ta = k & 1, tb = (k >> 1) & 1;
  case_put(cs, "input %%a: f32[%d,%d]\ninput %%c_b: f32[%d,%d]\n", ta ? q : m, ta ? m : q, tb ? n : q, tb ? q : n);
  static const char *const cshape[] = {"%d", "%d,%d", "1", NULL};
  if (cshape[k % 4]) {
    case_put(cs, "input %%c: f32[");
    case_put(cs, cshape[k % 4], k % 4 == 1 ? m : n, n);
    case_put(cs, "]\n");
  }
  case_put(cs, "%%y: undef[] = gemm(%%a, %%c_b%s) {alpha=%s, beta=%s, transA=%d, transB=%d} @\"t\"\noutput %%y\n",
           cshape[k % 4] ? ", %c" : "", k > 3 ? "0.5" : "1", k > 3 ? "2" : "1", ta, tb);
}

/* conv: patch embedding (kernel = stride), padded 3x3 with stride 2, grouped, dilated; two with enough
 * input channels for the GEMM form; depthwise with strides 2 and 3; pointwise, also on 1x1 images. */
static void gen_conv(Case *cs, Rng *r, int k) {
  int h = rdim(r) + 8, w = rdim(r) + (k == 6 || k == 7 ? 40 : 8);
  static const char *const v[] = {
    "input %%x: f32[1,3,32,32]\ninput %%c_w: f32[8,3,8,8]\ninput %%c_b: f32[8]\n"
    "%%y: undef[] = conv(%%x, %%c_w, %%c_b) {kernel_shape=[8,8], strides=[8,8]} @\"t\"\n",
    "input %%x: f32[2,3,%d,%d]\ninput %%c_w: f32[5,3,3,3]\n"
    "%%y: undef[] = conv(%%x, %%c_w) {pads=[1,1,1,1], strides=[2,2]} @\"t\"\n",
    "input %%x: f32[1,6,%d,%d]\ninput %%c_w: f32[6,2,3,3]\ninput %%c_b: f32[6]\n"
    "%%y: undef[] = conv(%%x, %%c_w, %%c_b) {group=3, pads=[0,1,2,1]} @\"t\"\n",
    "input %%x: f32[1,2,%d,%d]\ninput %%c_w: f32[4,2,3,2]\n"
    "%%y: undef[] = conv(%%x, %%c_w) {dilations=[2,3], auto_pad=\"SAME_UPPER\"} @\"t\"\n",
    /* enough channels for the GEMM form (emit_conv.c): 3x3, bias, an edge tile of output channels */
    "input %%x: f32[2,16,%d,%d]\ninput %%c_w: f32[13,16,3,3]\ninput %%c_b: f32[13]\n"
    "%%y: undef[] = conv(%%x, %%c_w, %%c_b) {pads=[1,1,1,1]} @\"t\"\n",
    /* ... strided, padded unevenly, 2x3 taps, an activation weight */
    "input %%x: f32[1,20,%d,%d]\ninput %%w: f32[7,20,2,3]\n"
    "%%y: undef[] = conv(%%x, %%w) {pads=[1,0,2,2], strides=[2,2]} @\"t\"\n",
    /* depthwise (MaxViT's MBConv), stride 2 and 3: strided taps are read by consecutive loads and a shuffle
     * (cg_load_cols); the width + 40 makes rows of several vectors */
    "input %%x: f32[2,5,%d,%d]\ninput %%c_w: f32[5,1,3,3]\ninput %%c_b: f32[5]\n"
    "%%y: undef[] = conv(%%x, %%c_w, %%c_b) {group=5, pads=[1,1,1,1], strides=[2,2]} @\"t\"\n",
    "input %%x: f32[1,4,%d,%d]\ninput %%c_w: f32[4,1,3,3]\n"
    "%%y: undef[] = conv(%%x, %%c_w) {group=4, pads=[0,2,1,1], strides=[1,3]} @\"t\"\n",
    /* pointwise (1x1), as one product per image (conv_pointwise): a batch, a bias, an edge tile of 13
     * output channels; and without a bias */
    "input %%x: f32[2,20,%d,%d]\ninput %%c_w: f32[13,20,1,1]\ninput %%c_b: f32[13]\n"
    "%%y: undef[] = conv(%%x, %%c_w, %%c_b) @\"t\"\n",
    "input %%x: f32[1,5,%d,%d]\ninput %%w: f32[17,5,1,1]\n"
    "%%y: undef[] = conv(%%x, %%w) {kernel_shape=[1,1], pads=[0,0,0,0], strides=[1,1]} @\"t\"\n",
    /* ... on 1x1 images (squeeze-excitation), run transposed: packed constant weights, then activation ones */
    "input %%x: f32[3,24,1,1]\ninput %%c_w: f32[40,24,1,1]\ninput %%c_b: f32[40]\n"
    "%%y: undef[] = conv(%%x, %%c_w, %%c_b) @\"t\"\n",
    "input %%x: f32[2,7,1,1]\ninput %%w: f32[9,7,1,1]\ninput %%c_b: f32[9]\n"
    "%%y: undef[] = conv(%%x, %%w, %%c_b) @\"t\"\n"};
  case_put(cs, v[k], h, w);
  case_put(cs, "output %%y\n");
}

/* linear(x, w, bias?, residual?) {act}: every optional part and activation. */
static void gen_linear(Case *cs, Rng *r, int k) {
  int a = rdim(r), b = rdim(r), q = k == 13 ? 1600 : rdim(r), n = rdim(r); /* 13: bias, GELU, residual after K blocks */
  static const char *const act[] = {"none", "gelu", "gelu_tanh", "quick_gelu", "silu", "relu"};
  case_put(cs, "input %%x: f32[%d,%d,%d]\ninput %%c_w: f32[%d,%d]\ninput %%c_b: f32[%d]\ninput %%res: f32[%d,%d,%d]\n",
           a, b, q, q, n, n, a, b, n);
  const char *bias = k % 2 ? ", %c_b" : k >= 2 ? ", _" : "";
  case_put(cs, "%%y: undef[] = linear(%%x, %%c_w%s%s) {act=\"%s\"} @\"t\"\noutput %%y\n", bias, k >= 2 ? ", %res" : "",
           act[k % 6]);
}

/* attention(x [B,N,C], w_qkv [C,3E], b_qkv?, bias?) {heads, scale?}; cases 3 and 4 add a score bias
 * [G, heads or 1, N, N] repeating over B = 4 with period G = 2 (Swin's windows) or 1. Cases 5 to 9 are
 * cross-attention: a query q [1 or B, M, E] (a constant, as a learned probe folds to, or a run-time input),
 * w_qkv [C, 2E] (k | v), M = 1 (MAP heads), 2, 7 or 19 (a block and a ragged edge of query rows), case 8
 * with a score bias [G, heads or 1, M, N]. */
static void gen_attention(Case *cs, Rng *r, int k) {
  int heads = k % 3 + 1, hd = (int)rng_int(r, 3, 9), nt = rdim(r), c = rdim(r), bt = k >= 3 ? 4 : 2;
  if (k >= 5) {
    static const int ms[] = {1, 2, 7, 19, 1};
    int m = ms[k - 5], e = heads * hd, bq = k % 2 ? bt : 1;
    case_put(cs, "input %%x: f32[%d,%d,%d]\ninput %%c_w: f32[%d,%d]\ninput %%c_b: f32[%d]\ninput %%%s: f32[%d,%d,%d]\n",
             bt, nt, c, c, 2 * e, 2 * e, k == 7 ? "q" : "c_q", bq, m, e);
    if (k == 8) case_put(cs, "input %%c_s: f32[2,%d,%d,%d]\n", heads, m, nt);
    case_put(cs, "%%y: undef[] = attention(%%x, %%c_w, %s, %s, %%%s) {heads=%d%s} @\"t\"\noutput %%y\n",
             k == 6 ? "_" : "%c_b", k == 8 ? "%c_s" : "_", k == 7 ? "q" : "c_q", heads, k == 6 ? ", scale=0.25" : "");
    return;
  }
  case_put(cs, "input %%x: f32[%d,%d,%d]\ninput %%c_w: f32[%d,%d]\ninput %%c_b: f32[%d]\n", bt, nt, c, c,
           3 * heads * hd, 3 * heads * hd);
  if (k >= 3) case_put(cs, "input %%c_s: f32[%d,%d,%d,%d]\n", k == 3 ? 2 : 1, k == 3 ? heads : 1, nt, nt);
  case_put(cs, "%%y: undef[] = attention(%%x, %%c_w%s%s) {heads=%d%s} @\"t\"\noutput %%y\n", k ? ", %c_b" : "",
           k >= 3 ? ", %c_s" : "", heads, k == 2 ? ", scale=0.25" : "");
}

/* ---- normalization and reductions ---- */

static void gen_softmax(Case *cs, Rng *r, int k) {
  static const int axis[] = {-1, 1, 0};
  case_put(cs, "input %%x: f32[%d,%d,%d]\n%%y: undef[] = softmax(%%x) {axis=%d} @\"t\"\noutput %%y\n", rdim(r),
           k == 1 ? 197 : rdim(r), rdim(r), axis[k]);
}

static void gen_layer_norm(Case *cs, Rng *r, int k) {
  int a = rdim(r), b = rdim(r), c = k == 2 ? 192 : rdim(r);
  if (k == 1)
    case_put(cs, "input %%x: f32[%d,%d,%d]\ninput %%s: f32[%d,%d]\ninput %%bias: f32[%d,%d]\n", a, b, c, b, c, b, c);
  else case_put(cs, "input %%x: f32[%d,%d,%d]\ninput %%s: f32[%d]\ninput %%bias: f32[%d]\n", a, b, c, c, c);
  case_put(cs, "%%y: undef[] = layer_norm(%%x, %%s%s) {axis=%d, epsilon=0.00001} @\"t\"\noutput %%y\n",
           k == 0 ? "" : ", %bias", k == 1 ? -2 : -1);
}

/* reduce over the last axis (keepdims), two axes (dropped), all axes; f32 and i64. */
static void reduce(Case *cs, Rng *r, int k, const char *op) {
  static const char *const axes[] = {"const %%ax: i64[1] = [-1]\n", "const %%ax: i64[2] = [0,2]\n", ""};
  case_put(cs, "input %%x: %s[%d,%d,%d]\n", k == 3 ? "i64" : "f32", rdim(r), rdim(r), rdim(r));
  case_put(cs, axes[k % 3], 0);
  case_put(cs, "%%y: undef[] = %s(%%x%s) {keepdims=%d} @\"t\"\noutput %%y\n", op, k % 3 == 2 ? "" : ", %ax",
           k % 2 == 0);
}
static void gen_reduce_mean(Case *cs, Rng *r, int k) { reduce(cs, r, k, "reduce_mean"); }
static void gen_reduce_sum(Case *cs, Rng *r, int k) { reduce(cs, r, k, "reduce_sum"); }
static void gen_reduce_max(Case *cs, Rng *r, int k) { reduce(cs, r, k, "reduce_max"); }

/* ---- layout ---- */

/* op(x, ...) both as a graph output (a copy) and feeding neg (an alias). */
static void layout(Case *cs, const char *x, const char *consts, const char *call) {
  case_put(cs, "input %%x: %s\n%s%%y: undef[] = %s @\"t\"\n%%n: undef[] = neg(%%y) @\"n\"\noutput %%y\noutput %%n\n", x,
           consts, call);
}

static void gen_reshape(Case *cs, Rng *r, int k) {
  int a = rdim(r), b = rdim(r), c = rdim(r);
  char x[64], sh[96];
  snprintf(x, sizeof x, "f32[%d,%d,%d]", a, b, c);
  snprintf(sh, sizeof sh, k ? "const %%s: i64[2] = [0,-1]\n" : "const %%s: i64[2] = [%d,%d]\n", a * b, c);
  layout(cs, x, sh, "reshape(%x, %s)");
}

static void gen_flatten(Case *cs, Rng *r, int k) {
  char x[64], call[64];
  snprintf(x, sizeof x, "f32[%d,%d,%d]", rdim(r), rdim(r), rdim(r));
  snprintf(call, sizeof call, "flatten(%%x) {axis=%d}", k);
  layout(cs, x, "", call);
}

static void gen_squeeze(Case *cs, Rng *r, int k) {
  char x[64];
  snprintf(x, sizeof x, "f32[1,%d,1,%d]", rdim(r), rdim(r));
  layout(cs, x, k ? "const %a: i64[1] = [-2]\n" : "", k ? "squeeze(%x, %a)" : "squeeze(%x)");
}

static void gen_unsqueeze(Case *cs, Rng *r, int k) {
  char x[64];
  snprintf(x, sizeof x, "f32[%d,%d]", rdim(r), rdim(r));
  layout(cs, x, k ? "const %a: i64[2] = [0,-1]\n" : "const %a: i64[1] = [1]\n", "unsqueeze(%x, %a)");
}

/* ---- data movement ---- */

static void gen_transpose(Case *cs, Rng *r, int k) {
  int a = rdim(r), b = rdim(r), c = rdim(r);
  static const char *const v[] = {
    "input %%x: f32[%d,%d]\n%%y: undef[] = transpose(%%x) {perm=[1,0]} @\"t\"\n",
    "input %%x: f32[1,197,12,64]\n%%y: undef[] = transpose(%%x) {perm=[0,2,1,3]} @\"t\"\n",
    "input %%x: f32[2,%d,%d,%d]\n%%y: undef[] = transpose(%%x) {perm=[0,1,3,2]} @\"t\"\n",
    "input %%x: i64[%d,%d,%d]\n%%y: undef[] = transpose(%%x) {perm=[2,0,1]} @\"t\"\n",
    "input %%x: bool[%d,%d,%d]\n%%y: undef[] = transpose(%%x) @\"t\"\n",
    "input %%x: f32[300,%d7]\n%%y: undef[] = transpose(%%x) @\"t\"\n",
    "input %%x: i32[%d,1,%d,3]\n%%y: undef[] = transpose(%%x) {perm=[3,1,2,0]} @\"t\"\n",
    "input %%x: f32[2,48,40]\n%%y: undef[] = transpose(%%x) {perm=[0,2,1]} @\"t\"\n"};
  case_put(cs, v[k], a, b, c);
  case_put(cs, "output %%y\n");
}

static void gen_expand(Case *cs, Rng *r, int k) {
  int a = rdim(r), b = rdim(r), c = rdim(r);
  static const char *const v[] = {
    "input %%x: f32[%d,1]\nconst %%s: i64[2] = [%d,%d]\n", "input %%x: i64[1]\nconst %%s: i64[3] = [%d,%d,%d]\n",
    "input %%x: f32[%d]\nconst %%s: i64[3] = [2,%d,1]\n", "input %%x: f32[%d,1,%d]\nconst %%s: i64[3] = [1,%d,1]\n",
    "input %%x: bool[%d,1]\nconst %%s: i64[2] = [1,9001]\n"};
  if (k == 0) case_put(cs, v[0], a, a, b);
  else if (k == 1) case_put(cs, v[1], a, b, c);
  else if (k == 2) case_put(cs, v[2], c, a);
  else if (k == 3) case_put(cs, v[3], a, c, b);
  else case_put(cs, v[4], a);
  case_put(cs, "%%y: undef[] = expand(%%x, %%s) @\"t\"\noutput %%y\n");
}

static void gen_slice(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "const %%st: i64[2] = [1,-3]\nconst %%en: i64[2] = [9223372036854775807,-1]\nconst %%ax: i64[2] = [0,2]\n"
    "%%y: undef[] = slice(%%x, %%st, %%en, %%ax) @\"t\"\n",
    "const %%st: i64[1] = [-1]\nconst %%en: i64[1] = [-9223372036854775807]\nconst %%ax: i64[1] = [1]\n"
    "const %%sp: i64[1] = [-1]\n%%y: undef[] = slice(%%x, %%st, %%en, %%ax, %%sp) @\"t\"\n",
    "const %%st: i64[3] = [0,1,30]\nconst %%en: i64[3] = [5,100,0]\nconst %%sp: i64[3] = [2,3,-4]\n"
    "%%y: undef[] = slice(%%x, %%st, %%en, _, %%sp) @\"t\"\n",
    "const %%st: i64[1] = [0]\nconst %%en: i64[1] = [1]\nconst %%ax: i64[1] = [1]\n"
    "%%y: undef[] = slice(%%x, %%st, %%en, %%ax) @\"t\"\n",
    /* steps past any axis, both ways: one element each, no overflow */
    "const %%st: i64[2] = [1,-1]\nconst %%en: i64[2] = [9223372036854775807,-9223372036854775807]\n"
    "const %%ax: i64[2] = [0,2]\nconst %%sp: i64[2] = [9223372036854775807,-9223372036854775808]\n"
    "%%y: undef[] = slice(%%x, %%st, %%en, %%ax, %%sp) @\"t\"\n"};
  case_put(cs, "input %%x: %s[%d,%d,%d]\n", k == 3 ? "i64" : "f32", rdim(r), rdim(r), rdim(r));
  case_put(cs, v[k], 0);
  case_put(cs, "output %%y\n");
}

/* gather: constant and run-time indices (i64, i32, negative ones), several axes and index ranks. */
static void gen_gather(Case *cs, Rng *r, int k) {
  int a = rdim(r), b = rdim(r), c = rdim(r), dims[3] = {a, b, c};
  static const int axis[] = {0, 1, -1, 1, 0};
  static const char *const idx[] = {"c_i: i64[5]", "i: i32[2,3]", "c_i: i64[]", "i: i64[]", "i: i64[4]"};
  int ax = axis[k] < 0 ? 2 : axis[k];
  cs->int_lo = -dims[ax], cs->int_hi = dims[ax] - 1, cs->int_nonzero = 0;
  case_put(cs, "input %%x: %s[%d,%d,%d]\ninput %%%s\n", k == 4 ? "i32" : "f32", a, b, c, idx[k]);
  case_put(cs, "%%y: undef[] = gather(%%x, %%%s) {axis=%d} @\"t\"\noutput %%y\n", k % 2 || k == 4 ? "i" : "c_i",
           axis[k]);
}

/* concat of three operands along axis 1, 0, -1 (one of them empty) and -1 with i64. */
static void gen_concat(Case *cs, Rng *r, int k) {
  int a = rdim(r), b = rdim(r), c = rdim(r), e = rdim(r);
  char s[3][48];
  if (k == 0)
    snprintf(s[0], 48, "%d,%d,%d", a, b, c), snprintf(s[1], 48, "%d,%d,%d", a, e, c), snprintf(s[2], 48, "%d,1,%d", a, c);
  else if (k == 1) snprintf(s[0], 48, "%d,%d", a, b), snprintf(s[1], 48, "%d,%d", c, b), snprintf(s[2], 48, "1,%d", b);
  else if (k == 2) snprintf(s[0], 48, "%d,%d", a, b), snprintf(s[1], 48, "%d,1", a), snprintf(s[2], 48, "%d,0", a);
  else
    snprintf(s[0], 48, "%d,%d,%d", a, b, c), snprintf(s[1], 48, "%d,%d,%d", a, b, e), snprintf(s[2], 48, "%d,%d,1", a, b);
  for (int i = 0; i < 3; i++) case_put(cs, "input %%%c: %s[%s]\n", "xyz"[i], k == 3 ? "i64" : "f32", s[i]);
  case_put(cs, "%%o: undef[] = concat(%%x, %%y, %%z) {axis=%d} @\"t\"\noutput %%o\n", k == 0 ? 1 : k == 1 ? 0 : -1);
}

static void gen_split(Case *cs, Rng *r, int k) {
  int a = rdim(r), b = rdim(r) + 3, c = rdim(r);
  case_put(cs, "input %%x: %s[%d,%d,%d]\n", k == 2 ? "bool" : "f32", a, b, c);
  if (k == 0) case_put(cs, "const %%s: i64[3] = [2,%d,1]\n%%p: undef[], %%q: undef[], %%u: undef[] = split(%%x, %%s) "
                       "{axis=1} @\"t\"\n", b - 3);
  else if (k == 1)
    case_put(cs, "%%p: undef[], %%q: undef[], %%u: undef[] = split(%%x) {axis=-1, num_outputs=3} @\"t\"\n");
  else case_put(cs, "%%p: undef[], %%q: undef[], %%u: undef[] = split(%%x) {axis=0} @\"t\"\n");
  case_put(cs, "output %%u\noutput %%p\noutput %%q\n");
}

static void gen_shape(Case *cs, Rng *r, int k) {
  static const char *const attrs[] = {"", " {start=1}", " {start=-3, end=-1}"};
  case_put(cs, "input %%x: f32[%d,%d,%d,%d]\n%%y: undef[] = shape(%%x)%s @\"t\"\noutput %%y\n", rdim(r), rdim(r),
           rdim(r), rdim(r), attrs[k]);
}

static void gen_size(Case *cs, Rng *r, int k) {
  case_put(cs, "input %%x: %s[%d,%d]\n%%y: undef[] = size(%%x) @\"t\"\noutput %%y\n", k ? "i64" : "f32", rdim(r),
           rdim(r));
}

static void gen_constant_of_shape(Case *cs, Rng *r, int k) {
  static const char *const value[] = {"", " {value=f32[1] [1.5]}", " {value=i64[1] [-7]}", " {value=bool[1] [1]}",
                                      " {value=i32[1] [-3]}"};
  case_put(cs, "const %%s: i64[3] = [%d,%d,%d]\n%%y: undef[] = constant_of_shape(%%s)%s @\"t\"\noutput %%y\n",
           rdim(r), rdim(r), k == 1 ? 2000 : rdim(r), value[k]);
}

static void gen_range(Case *cs, Rng *r, int k) {
  static const char *const v[] = {"i64[] = [0]\nconst %%l: i64[] = [%d]\nconst %%d: i64[] = [3]\n",
                                  "f32[] = [0.5]\nconst %%l: f32[] = [%d.3]\nconst %%d: f32[] = [0.7]\n",
                                  "i32[] = [%d]\nconst %%l: i32[] = [-5]\nconst %%d: i32[] = [-2]\n"};
  case_put(cs, "const %%s: ");
  case_put(cs, v[k], rdim(r));
  case_put(cs, "%%y: undef[] = range(%%s, %%l, %%d) @\"t\"\noutput %%y\n");
}

/* ---- issue 12's elementwise ops (comparisons, logical ops, mod, min, max, clip, hard sigmoid and swish) ---- */

static const char *const BOOLS[] = {"bool"};
BINARY(less, NUM)
BINARY(less_or_equal, NUM)
BINARY(greater, NUM)
BINARY(greater_or_equal, NUM)
BINARY(and, BOOLS)
BINARY(or, BOOLS)
BINARY(xor, BOOLS)
UNARY(not, "", BOOLS)

/* mod: binary()'s layouts and dtypes, fmod=0 for k < 15 and fmod=1 after (f32 divisors include 0: NaN). */
static void gen_mod(Case *cs, Rng *r, int k) {
  binary(cs, r, k, "mod", NUM, 3);
  char *call = strstr(cs->text, "(%x, %y)");
  const char *attr = k < 15 ? " {fmod=0}" : " {fmod=1}";
  if (!call || cs->len + strlen(attr) >= sizeof cs->text) return;
  call += strlen("(%x, %y)");
  memmove(call + strlen(attr), call, strlen(call) + 1);
  memcpy(call, attr, strlen(attr));
  cs->len += strlen(attr);
}

/* min / max over 1, 2, 3 and 5 broadcast operands (k % 4), the dtype cycling with k / 4; case 12 is big
 * enough to run threaded. */
static void min_max(Case *cs, Rng *r, int k, const char *op) {
  int a = rdim(r), b = rdim(r), c = rdim(r);
  const char *dt = pick(k / 4, NUM, 3);
  static const char *const calls[] = {"(%%x)", "(%%x, %%y)", "(%%x, %%y, %%w)", "(%%x, %%y, %%u, %%v, %%w)"};
  if (k == 12) {
    case_put(cs, "input %%x: f32[7,9731]\ninput %%y: f32[7,1]\n%%z: undef[] = %s(%%x, %%y) @\"t\"\noutput %%z\n", op);
    return;
  }
  if (k % 4 == 2) case_put(cs, "input %%x: %s[%d,1,%d]\ninput %%y: %s[%d,1]\ninput %%w: %s[]\n", dt, a, c, dt, b, dt);
  else case_put(cs, "input %%x: %s[%d,%d]\ninput %%y: %s[%d]\n", dt, a, b, dt, b);
  if (k % 4 == 3) case_put(cs, "input %%u: %s[%d,%d]\ninput %%v: %s[%d,1]\ninput %%w: %s[]\n", dt, a, b, dt, a, dt);
  case_put(cs, "%%z: undef[] = %s", op);
  case_put(cs, calls[k % 4], 0);
  case_put(cs, " @\"t\"\noutput %%z\n");
}
static void gen_min(Case *cs, Rng *r, int k) { min_max(cs, r, k, "min"); }
static void gen_max(Case *cs, Rng *r, int k) { min_max(cs, r, k, "max"); }

/* clip(x, min?, max?): both bounds, one, none; run-time and constant bounds (which may cross: then max wins);
 * f32, i64 and i32; case 5 is big enough to run threaded. */
static void gen_clip(Case *cs, Rng *r, int k) {
  int a = rdim(r), b = rdim(r), c = rdim(r);
  static const char *const v[] = {
    "input %%x: f32[%d,%d]\ninput %%c_lo: f32[]\ninput %%c_hi: f32[]\n%%y: undef[] = clip(%%x, %%c_lo, %%c_hi)",
    "input %%x: f32[%d,%d,%d]\ninput %%lo: f32[]\n%%y: undef[] = clip(%%x, %%lo)",
    "input %%x: f32[%d,%d]\ninput %%hi: f32[]\n%%y: undef[] = clip(%%x, _, %%hi)",
    "input %%x: i64[%d,%d]\ninput %%lo: i64[]\ninput %%hi: i64[]\n%%y: undef[] = clip(%%x, %%lo, %%hi)",
    "input %%x: i32[%d,%d]\ninput %%c_lo: i32[1]\n%%y: undef[] = clip(%%x, %%c_lo, _)",
    "input %%x: f32[5,13331]\ninput %%lo: f32[]\ninput %%hi: f32[]\n%%y: undef[] = clip(%%x, %%lo, %%hi)",
    "input %%x: f32[%d,%d]\n%%y: undef[] = clip(%%x)"};
  case_put(cs, v[k], a, b, c);
  case_put(cs, " @\"t\"\noutput %%y\n");
}

/* hard_sigmoid / hard_swish (op) of x scaled by 4 (so that both ends clamp), with attrs, over unary()'s
 * shapes. */
static void hard(Case *cs, Rng *r, int k, const char *op, const char *attrs) {
  int a = rdim(r), b = rdim(r), c = rdim(r);
  if (k % 3 == 0) case_put(cs, "input %%x: f32[%d,%d]\n", a, b);
  else if (k % 3 == 1) case_put(cs, "input %%x: f32[%d,%d,%d]\n", a, b, c);
  else case_put(cs, "input %%x: f32[5,13331]\n");
  case_put(cs, "const %%four: f32[] = [4]\n%%s: undef[] = mul(%%x, %%four) @\"s\"\n");
  case_put(cs, "%%y: undef[] = %s(%%s)%s @\"t\"\noutput %%y\n", op, attrs);
}
static void gen_hard_sigmoid(Case *cs, Rng *r, int k) {
  hard(cs, r, k, "hard_sigmoid", k < 3 ? "" : " {alpha=0.3, beta=0.6}");
}
static void gen_hard_swish(Case *cs, Rng *r, int k) { hard(cs, r, k, "hard_swish", ""); }

/* ---- issue 12's data ops: pad, scatter_nd, global_average_pool ---- */

/* pad in every mode: pads on all axes with a run-time constant, reflect and wrap past the axis (repeated),
 * edge over axes, negative pads (cropping), only the middle axis padded (blocks), a threaded case, a scalar. */
static void gen_pad(Case *cs, Rng *r, int k) {
  int a = rdim(r), b = rdim(r), c = rdim(r);
  static const char *const v[] = {
    "input %%x: f32[%d,%d,%d]\ninput %%v: f32[]\nconst %%p: i64[6] = [1,0,2,0,3,1]\n"
    "%%y: undef[] = pad(%%x, %%p, %%v) @\"t\"\n",
    "input %%x: f32[%d,%d]\nconst %%p: i64[4] = [2,%d,40,1]\n%%y: undef[] = pad(%%x, %%p) {mode=\"reflect\"} @\"t\"\n",
    "input %%x: i64[%d,%d,%d]\nconst %%p: i64[4] = [3,2,1,4]\nconst %%ax: i64[2] = [-1,0]\n"
    "%%y: undef[] = pad(%%x, %%p, _, %%ax) {mode=\"edge\"} @\"t\"\n",
    "input %%x: bool[%d,%d]\nconst %%p: i64[4] = [-1,2,1,-2]\n%%y: undef[] = pad(%%x, %%p) @\"t\"\n",
    "input %%x: f32[2,%d,%d,%d]\nconst %%p: i64[4] = [5,1,2,40]\nconst %%ax: i64[2] = [1,3]\n"
    "%%y: undef[] = pad(%%x, %%p, _, %%ax) {mode=\"wrap\"} @\"t\"\n",
    "input %%x: f32[3,300,70]\ninput %%c_v: f32[]\nconst %%p: i64[6] = [0,1,1,0,2,2]\n"
    "%%y: undef[] = pad(%%x, %%p, %%c_v) @\"t\"\n",
    "input %%x: i32[%d,%d,%d]\ninput %%v: i32[1]\nconst %%p: i64[2] = [1,3]\nconst %%ax: i64[1] = [1]\n"
    "%%y: undef[] = pad(%%x, %%p, %%v, %%ax) {mode=\"reflect\"} @\"t\"\n",
    "input %%x: f32[]\nconst %%p: i64[0] = []\n%%y: undef[] = pad(%%x, %%p) @\"t\"\n"};
  case_put(cs, v[k], a, b, c);
  case_put(cs, "output %%y\n");
}

/* scatter_nd: constant and run-time indices, slices and single elements, every reduction, every dtype,
 * repeated indices (applied in order), a slice long enough to run threaded. */
static void gen_scatter_nd(Case *cs, Rng *r, int k) {
  int a = rdim(r), b = rdim(r), c = rdim(r);
  static const char *const v[] = {
    "input %%x: f32[%d,%d,%d]\ninput %%c_i: i64[2,1]\ninput %%u: f32[2,%d,%d]\n%%y: undef[] = scatter_nd(%%x, %%c_i, %%u)",
    "input %%x: f32[%d,%d,%d]\ninput %%i: i64[3,2]\ninput %%u: f32[3,%d]\n"
    "%%y: undef[] = scatter_nd(%%x, %%i, %%u) {reduction=\"add\"}",
    "input %%x: i64[%d,%d]\ninput %%i: i64[4,2]\ninput %%u: i64[4]\n"
    "%%y: undef[] = scatter_nd(%%x, %%i, %%u) {reduction=\"mul\"}",
    "input %%x: f32[%d,%d]\ninput %%i: i64[2,1]\ninput %%u: f32[2,%d]\n"
    "%%y: undef[] = scatter_nd(%%x, %%i, %%u) {reduction=\"max\"}",
    "input %%x: i32[%d,%d]\ninput %%i: i64[5,1]\ninput %%u: i32[5,%d]\n"
    "%%y: undef[] = scatter_nd(%%x, %%i, %%u) {reduction=\"min\"}",
    "input %%x: f32[%d,%d]\ninput %%i: i64[2,3,1]\ninput %%u: f32[2,3,%d]\n%%y: undef[] = scatter_nd(%%x, %%i, %%u)",
    "input %%x: f32[%d,20000]\ninput %%i: i64[3,1]\ninput %%u: f32[3,20000]\n"
    "%%y: undef[] = scatter_nd(%%x, %%i, %%u) {reduction=\"add\"}",
    "input %%x: bool[%d,%d]\ninput %%i: i64[3,1]\ninput %%u: bool[3,%d]\n%%y: undef[] = scatter_nd(%%x, %%i, %%u)"};
  cs->int_lo = -a, cs->int_hi = a - 1, cs->int_nonzero = 0;
  if (k == 0) case_put(cs, v[0], a, b, c, b, c);
  else if (k == 1) case_put(cs, v[1], a, a, c, c);
  else if (k == 2) case_put(cs, v[2], a, a);
  else if (k == 6) case_put(cs, v[6], a);
  else case_put(cs, v[k], a, b, b);
  case_put(cs, " @\"t\"\noutput %%y\n");
}

/* global_average_pool over 2-D, 1-D and 3-D spatial axes; a case big enough to run threaded. */
static void gen_global_average_pool(Case *cs, Rng *r, int k) {
  int a = rdim(r), b = rdim(r), c = rdim(r);
  static const char *const v[] = {"input %%x: f32[2,%d,%d,%d]\n", "input %%x: f32[1,%d,%d]\n",
                                  "input %%x: f32[1,3,%d,%d,%d]\n", "input %%x: f32[1,64,40,41]\n"};
  case_put(cs, v[k], a, b, c);
  case_put(cs, "%%y: undef[] = global_average_pool(%%x) @\"t\"\noutput %%y\n");
}

/* average_pool / max_pool (op) with the attributes of case k (attrs[k]) on 2-D or 1-D inputs (shape[k]). */
static void pool_case(Case *cs, Rng *r, int k, const char *op, const char *const *shape, const char *const *attrs) {
  int h = rdim(r) + 6, w = rdim(r) + 6;
  case_put(cs, "input %%x: f32[");
  case_put(cs, shape[k], h, w);
  case_put(cs, "]\n%%y: undef[] = %s(%%x) {%s} @\"t\"\noutput %%y\n", op, attrs[k]);
}

/* average_pool: pads with and without count_include_pad, ceil_mode, 1-D, auto_pad, dilations, threaded. */
static void gen_average_pool(Case *cs, Rng *r, int k) {
  static const char *const shape[] = {"2,3,%d,%d", "2,3,%d,%d", "1,4,%d", "1,2,%d,%d", "1,16,64,70", "1,3,%d,%d"};
  static const char *const attrs[] = {
    "kernel_shape=[3,3], pads=[1,1,1,1], strides=[2,2]",
    "ceil_mode=1, count_include_pad=1, kernel_shape=[3,3], pads=[1,1,1,1], strides=[2,2]",
    "kernel_shape=[5], pads=[2,2]",
    "auto_pad=\"SAME_UPPER\", kernel_shape=[2,3], strides=[2,2]",
    "kernel_shape=[2,2], strides=[2,2]",
    "ceil_mode=1, dilations=[2,1], kernel_shape=[3,3], pads=[0,1,2,1], strides=[1,3]"};
  pool_case(cs, r, k, "average_pool", shape, attrs);
}

/* max_pool: pads, 1-D with ceil_mode, dilations, auto_pad, threaded, pads next to every edge. */
static void gen_max_pool(Case *cs, Rng *r, int k) {
  static const char *const shape[] = {"2,3,%d,%d", "1,4,%d", "1,2,%d,%d", "1,2,%d,%d", "1,16,64,70", "2,2,%d,%d",
                                      "1,3,%d,70"};
  static const char *const attrs[] = {
    "kernel_shape=[3,3], pads=[1,1,1,1], strides=[2,2]",
    "ceil_mode=1, kernel_shape=[3], strides=[2]",
    "dilations=[2,2], kernel_shape=[2,2]",
    "auto_pad=\"SAME_LOWER\", kernel_shape=[3,2], strides=[2,1]",
    "kernel_shape=[3,3], pads=[1,1,1,1], strides=[2,2]",
    "kernel_shape=[3,3], pads=[2,2,2,2]",
    "ceil_mode=1, kernel_shape=[2,5], pads=[0,3,0,1], strides=[2,4]"}; /* stride 4, the widest shuffled read */
  pool_case(cs, r, k, "max_pool", shape, attrs);
}

/* batch_norm: NCHW, [N, C] and [N, C, L]; parameters as inputs or constants, var through abs (>= 0);
 * case 3 big enough to run threaded. */
static void gen_batch_norm(Case *cs, Rng *r, int k) {
  static const char *const shape[] = {"2,%d,%d,%d", "%d,%d", "1,%d,%d", "2,24,70,70", "1,%d,%d,%d"};
  int c = k == 3 ? 24 : rdim(r), h = rdim(r), w = rdim(r);
  const char *p = k >= 3 ? "c_" : "";
  case_put(cs, "input %%x: f32[");
  if (k == 1) case_put(cs, shape[k], h, c);
  else if (k == 2) case_put(cs, shape[k], c, w);
  else case_put(cs, shape[k], c, h, w);
  case_put(cs, "]\ninput %%%ss: f32[%d]\ninput %%%sb: f32[%d]\ninput %%%sm: f32[%d]\ninput %%%sv: f32[%d]\n", p, c, p, c,
           p, c, p, c);
  case_put(cs, "%%va: undef[] = abs(%%%sv) @\"va\"\n%%y: undef[] = batch_norm(%%x, %%%ss, %%%sb, %%%sm, %%va) "
           "{epsilon=%s} @\"t\"\noutput %%y\n", p, p, p, p, k % 2 ? "0.01" : "0.1");
}

/* arg_max / arg_min: axis 1 kept, the last axis dropped with select_last_index, the default axis 0, i64 and
 * i32, a long threaded row; k/64 data makes ties common. */
static void arg_case(Case *cs, Rng *r, int k, const char *op) {
  static const char *const attrs[] = {"axis=1", "axis=-1, keepdims=0, select_last_index=1", "keepdims=0",
                                      "axis=2, select_last_index=1", "axis=0", "axis=1, keepdims=0"};
  static const char *const dts[] = {"f32", "f32", "f32", "i64", "i32", "f32"};
  if (k == 5) case_put(cs, "input %%x: f32[7,9731]\n");
  else case_put(cs, "input %%x: %s[%d,%d,%d]\n", dts[k], rdim(r), rdim(r), rdim(r));
  case_put(cs, "%%y: undef[] = %s(%%x) {%s} @\"t\"\noutput %%y\n", op, attrs[k]);
}
static void gen_arg_max(Case *cs, Rng *r, int k) { arg_case(cs, r, k, "arg_max"); }
static void gen_arg_min(Case *cs, Rng *r, int k) { arg_case(cs, r, k, "arg_min"); }

/* top_k: largest and smallest along each axis, without the indices output (scratch), i64 and i32, k equal
 * to the axis (a full sort), k = 1, a threaded case; ties are common (k/64 data, small integer ranges). */
static void gen_top_k(Case *cs, Rng *r, int k) {
  static const char *const attrs[] = {"axis=1", "largest=0", "axis=0", "axis=-1, largest=0", "axis=1",
                                      "sorted=1", "axis=2", "largest=0"};
  static const char *const dts[] = {"f32", "f32", "i64", "f32", "i32", "f32", "f32", "f32"};
  int a = rdim(r), b = rdim(r), c = rdim(r);
  int64_t dims[3] = {a, b, c};
  static const int axis[] = {1, 2, 0, 2, 1, 2, 2, 0};
  int64_t kk = k == 3 ? dims[2] : k == 5 ? 1 : dims[axis[k]] / 3 + 1;
  cs->int_lo = -4, cs->int_hi = 4;
  if (k == 7) case_put(cs, "input %%x: f32[9000,8]\n"), kk = 5;
  else case_put(cs, "input %%x: %s[%d,%d,%d]\n", dts[k], a, b, c);
  case_put(cs, "const %%k: i64[1] = [%lld]\n", (long long)kk);
  if (k == 1) case_put(cs, "%%v: undef[] = top_k(%%x, %%k) {%s} @\"t\"\noutput %%v\n", attrs[k]);
  else case_put(cs, "%%v: undef[], %%i: undef[] = top_k(%%x, %%k) {%s} @\"t\"\noutput %%v\noutput %%i\n", attrs[k]);
}

/* resize: nearest in each nearest_mode, linear and cubic (cubic_coeff_a, exclude_outside) in each coordinate
 * mode, from scales and from sizes, up and down, rank 2 and 3, a threaded case. */
static void gen_resize(Case *cs, Rng *r, int k) {
  static const char *const attrs[] = {
    "", "coordinate_transformation_mode=\"pytorch_half_pixel\", mode=\"linear\"",
    "coordinate_transformation_mode=\"align_corners\", mode=\"cubic\"",
    "coordinate_transformation_mode=\"asymmetric\", cubic_coeff_a=-0.5, exclude_outside=1, mode=\"cubic\"",
    "coordinate_transformation_mode=\"asymmetric\", nearest_mode=\"floor\"",
    "coordinate_transformation_mode=\"align_corners\", nearest_mode=\"round_prefer_ceil\"",
    "mode=\"linear\"", "mode=\"cubic\", nearest_mode=\"ceil\"", "mode=\"nearest\", nearest_mode=\"ceil\"",
    "coordinate_transformation_mode=\"tf_half_pixel_for_nn\""};
  int h = rdim(r), w = rdim(r), h2 = rdim(r), w2 = rdim(r);
  switch (k) {
  case 1: case 3: /* sizes */
    case_put(cs, "input %%x: f32[2,3,%d,%d]\nconst %%sz: i64[4] = [2,3,%d,%d]\n", h, w, h2, w2);
    case_put(cs, "%%y: undef[] = resize(%%x, _, _, %%sz) {%s} @\"t\"\noutput %%y\n", attrs[k]);
    return;
  case 5: case 7: /* rank 3 and rank 2 */
    case_put(cs, k == 5 ? "input %%x: f32[2,%d,%d]\nconst %%sc: f32[3] = [1,1,1.75]\n"
                        : "input %%x: f32[%d,%d]\nconst %%sc: f32[2] = [0.6,2.5]\n", h, w);
    break;
  case 6:
    case_put(cs, "input %%x: f32[1,16,64,70]\nconst %%sc: f32[4] = [1,1,2,2]\n");
    break;
  default:
    case_put(cs, "input %%x: f32[1,2,%d,%d]\nconst %%sc: f32[4] = [1,1,%s]\n", h, w,
             k == 2 ? "1.5,0.75" : k == 4 ? "0.5,3" : k == 8 ? "1.3,0.8" : "2,2");
  }
  case_put(cs, "%%y: undef[] = resize(%%x, _, %%sc)%s%s%s @\"t\"\noutput %%y\n", *attrs[k] ? " {" : "", attrs[k],
           *attrs[k] ? "}" : "");
}

/* ---- zero-size cases ----
 * Every op again with a dimension of 0 somewhere: a batch of 0, an empty axis
 * reduced, contracted, sliced or split, empty indices, an empty shape. The
 * text states every node output's type, which inference must give exactly
 * (numpy's and ONNX's shape); where an output is not empty, its data must agree
 * too (a sum over nothing is 0, a max -inf, a mean NaN, a product over an empty
 * inner dimension 0). */

/* x OP y: an empty batch, 0 broadcast against 1, a scalar against an empty
 * tensor; the dtype cycles with k / 3 through dts; the result is bool for a
 * comparison (cmp), else of the operands' type. */
static void zero_binary(Case *cs, int k, const char *op, const char *const *dts, int n_dts, int cmp) {
  const char *dt = pick(k / 3, dts, n_dts), *out = cmp ? "bool" : dt;
  static const char *const v[] = {
    "input %%x: %s[0,5]\ninput %%y: %s[5]\n%%z: %s[0,5] = %s(%%x, %%y) @\"t\"\noutput %%z\n",
    "input %%x: %s[3,1]\ninput %%y: %s[1,0]\n%%z: %s[3,0] = %s(%%x, %%y) @\"t\"\noutput %%z\n",
    "input %%x: %s[]\ninput %%y: %s[2,0,4]\n%%z: %s[2,0,4] = %s(%%x, %%y) @\"t\"\noutput %%z\n"};
  case_put(cs, v[k % 3], dt, dt, out, op);
}
#define ZERO_BINARY(name, dts, cmp)                                                                      \
  static void zero_##name(Case *cs, Rng *r, int k) {                                                      \
    (void)r, zero_binary(cs, k, #name, dts, sizeof dts / sizeof *dts, cmp);                               \
  }
ZERO_BINARY(add, NUM, 0)
ZERO_BINARY(sub, NUM, 0)
ZERO_BINARY(mul, NUM, 0)
ZERO_BINARY(div, NUM, 0)
ZERO_BINARY(pow, F32, 0)
ZERO_BINARY(equal, EQ, 1)
ZERO_BINARY(less, NUM, 1)
ZERO_BINARY(less_or_equal, NUM, 1)
ZERO_BINARY(greater, NUM, 1)
ZERO_BINARY(greater_or_equal, NUM, 1)
ZERO_BINARY(and, BOOLS, 0)
ZERO_BINARY(or, BOOLS, 0)
ZERO_BINARY(xor, BOOLS, 0)
ZERO_BINARY(mod, NUM, 0)

/* OP(x) on an empty batch and an empty middle axis; the dtype cycles with k / 2 through dts. */
static void zero_unary(Case *cs, int k, const char *op, const char *attrs, const char *const *dts, int n_dts) {
  const char *dt = pick(k / 2, dts, n_dts), *shape = k % 2 ? "3,0,2" : "0,7";
  case_put(cs, "input %%x: %s[%s]\n%%y: %s[%s] = %s(%%x)%s @\"t\"\noutput %%y\n", dt, shape, dt, shape, op, attrs);
}
#define ZERO_UNARY(name, attrs, dts)                                                                            \
  static void zero_##name(Case *cs, Rng *r, int k) {                                                            \
    (void)r, zero_unary(cs, k, #name, attrs, dts, sizeof dts / sizeof *dts);                                     \
  }
ZERO_UNARY(neg, "", NUM)
ZERO_UNARY(abs, "", NUM)
ZERO_UNARY(relu, "", NUM)
ZERO_UNARY(sqrt, "", F32)
ZERO_UNARY(reciprocal, "", F32)
ZERO_UNARY(exp, "", F32)
ZERO_UNARY(erf, "", F32)
ZERO_UNARY(tanh, "", F32)
ZERO_UNARY(sigmoid, "", F32)
ZERO_UNARY(ceil, "", F32)
ZERO_UNARY(identity, "", ALL)
ZERO_UNARY(not, "", BOOLS)
ZERO_UNARY(hard_sigmoid, " {alpha=0.3, beta=0.6}", F32)
ZERO_UNARY(hard_swish, "", F32)

/* min / max: one empty operand, an empty one broadcast against others, 0 against 1; f32 and i64. */
static void zero_min_max(Case *cs, int k, const char *op) {
  static const char *const v[] = {
    "input %%x: f32[0,5]\n%%z: f32[0,5] = %s(%%x) @\"t\"\n",
    "input %%x: f32[0,1]\ninput %%y: f32[3]\n%%z: f32[0,3] = %s(%%x, %%y) @\"t\"\n",
    "input %%x: i64[2,0]\ninput %%y: i64[1]\ninput %%w: i64[]\n%%z: i64[2,0] = %s(%%x, %%y, %%w) @\"t\"\n",
    "input %%x: f32[3,1]\ninput %%y: f32[1,0]\n%%z: f32[3,0] = %s(%%x, %%y) @\"t\"\n"};
  case_put(cs, v[k], op);
  case_put(cs, "output %%z\n");
}
static void zero_min(Case *cs, Rng *r, int k) { (void)r, zero_min_max(cs, k, "min"); }
static void zero_max(Case *cs, Rng *r, int k) { (void)r, zero_min_max(cs, k, "max"); }

/* clip of an empty tensor: both bounds, none, the upper one alone (an empty bound is not allowed: ONNX's are
 * scalars). */
static void zero_clip(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "input %%x: f32[0,5]\ninput %%lo: f32[]\ninput %%c_hi: f32[]\n%%y: f32[0,5] = clip(%%x, %%lo, %%c_hi)",
    "input %%x: i64[3,0]\n%%y: i64[3,0] = clip(%%x)",
    "input %%x: f32[2,0,3]\ninput %%hi: f32[]\n%%y: f32[2,0,3] = clip(%%x, _, %%hi)"};
  (void)r;
  case_put(cs, v[k]);
  case_put(cs, " @\"t\"\noutput %%y\n");
}

static void zero_gelu(Case *cs, Rng *r, int k) {
  (void)r, zero_unary(cs, k, "gelu", k < 2 ? "" : " {approximate=\"tanh\"}", F32, 1);
}

/* where: an empty condition broadcast against values, values empty where the condition is not. */
static void zero_where(Case *cs, Rng *r, int k) {
  (void)r;
  if (k == 0)
    case_put(cs, "input %%c: bool[0,1]\ninput %%x: f32[3]\ninput %%y: f32[]\n"
                 "%%z: f32[0,3] = where(%%c, %%x, %%y) @\"t\"\n");
  else
    case_put(cs, "input %%c: bool[1,3]\ninput %%x: i64[0,3]\ninput %%y: i64[2,1,1]\n"
                 "%%z: i64[2,0,3] = where(%%c, %%x, %%y) @\"t\"\n");
  case_put(cs, "output %%z\n");
}

/* cast of an empty tensor from ALL[k] to ALL[(k + 1) % 4]. */
static void zero_cast(Case *cs, Rng *r, int k) {
  static const int onnx[] = {1, 7, 6, 9};
  (void)r;
  case_put(cs, "input %%x: %s[0,3]\n%%y: %s[0,3] = cast(%%x) {to=%d} @\"t\"\noutput %%y\n", ALL[k], ALL[(k + 1) % 4],
           onnx[(k + 1) % 4]);
}

static void zero_dropout(Case *cs, Rng *r, int k) {
  (void)r;
  case_put(cs, "input %%x: f32[0,5]\nconst %%ratio: f32[] = [0.25]\nconst %%tm: bool[] = [0]\n");
  if (k == 0) case_put(cs, "%%y: f32[0,5], %%m: bool[0,5] = dropout(%%x) @\"t\"\noutput %%y\noutput %%m\n");
  else case_put(cs, "%%y: f32[0,5], %%m: bool[0,5] = dropout(%%x, %%ratio, %%tm) @\"t\"\noutput %%m\noutput %%y\n");
}

/* matmul with an empty row, inner (a zero result), column and batch dimension; vectors; empty weights. */
static void zero_matmul(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "input %%x: f32[0,4]\ninput %%w: f32[4,5]\n%%y: f32[0,5]",
    "input %%x: f32[3,0]\ninput %%w: f32[0,5]\n%%y: f32[3,5]",
    "input %%x: f32[3,4]\ninput %%w: f32[4,0]\n%%y: f32[3,0]",
    "input %%x: f32[0,3,4]\ninput %%w: f32[4,5]\n%%y: f32[0,3,5]",
    "input %%x: f32[2,1,3,0]\ninput %%w: f32[5,0,4]\n%%y: f32[2,5,3,4]",
    "input %%x: f32[0]\ninput %%w: f32[0,5]\n%%y: f32[5]",
    "input %%x: f32[3,0]\ninput %%c_w: f32[0,6]\n%%y: f32[3,6]",
    "input %%x: f32[2,4]\ninput %%c_w: f32[4,0]\n%%y: f32[2,0]"};
  (void)r;
  case_put(cs, v[k]);
  case_put(cs, " = matmul(%%x, %%%s) @\"t\"\noutput %%y\n", k >= 6 ? "c_w" : "w");
}

/* gemm: no rows (C broadcast to none), an empty inner dimension (beta * C), no columns, transposed. */
static void zero_gemm(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "input %%a: f32[0,4]\ninput %%c_b: f32[4,5]\ninput %%c: f32[5]\n"
    "%%y: f32[0,5] = gemm(%%a, %%c_b, %%c) @\"t\"\n",
    "input %%a: f32[3,0]\ninput %%c_b: f32[0,5]\ninput %%c: f32[3,5]\n"
    "%%y: f32[3,5] = gemm(%%a, %%c_b, %%c) {beta=2} @\"t\"\n",
    "input %%a: f32[3,4]\ninput %%c_b: f32[0,4]\ninput %%c: f32[1]\n"
    "%%y: f32[3,0] = gemm(%%a, %%c_b, %%c) {transB=1} @\"t\"\n",
    "input %%a: f32[0,3]\ninput %%c_b: f32[0,5]\n%%y: f32[3,5] = gemm(%%a, %%c_b) {alpha=0.5, transA=1} @\"t\"\n"};
  (void)r;
  case_put(cs, v[k]);
  case_put(cs, "output %%y\n");
}

/* conv: a batch of 0, no output channels, no input channels (the bias alone), a patch embedding of no images. */
static void zero_conv(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "input %%x: f32[0,3,8,8]\ninput %%c_w: f32[4,3,3,3]\ninput %%c_b: f32[4]\n"
    "%%y: f32[0,4,6,6] = conv(%%x, %%c_w, %%c_b) @\"t\"\n",
    "input %%x: f32[2,3,8,8]\ninput %%c_w: f32[0,3,3,3]\ninput %%c_b: f32[0]\n"
    "%%y: f32[2,0,8,8] = conv(%%x, %%c_w, %%c_b) {pads=[1,1,1,1]} @\"t\"\n",
    "input %%x: f32[1,0,8,8]\ninput %%c_w: f32[4,0,3,3]\ninput %%c_b: f32[4]\n"
    "%%y: f32[1,4,3,3] = conv(%%x, %%c_w, %%c_b) {strides=[2,2]} @\"t\"\n",
    "input %%x: f32[0,3,16,16]\ninput %%c_w: f32[8,3,8,8]\ninput %%c_b: f32[8]\n"
    "%%y: f32[0,8,2,2] = conv(%%x, %%c_w, %%c_b) {kernel_shape=[8,8], strides=[8,8]} @\"t\"\n"};
  (void)r;
  case_put(cs, v[k]);
  case_put(cs, "output %%y\n");
}

/* linear: no rows, an empty inner dimension (act(bias) + residual), no columns. */
static void zero_linear(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "input %%x: f32[0,4,5]\ninput %%c_w: f32[5,6]\ninput %%c_b: f32[6]\n"
    "%%y: f32[0,4,6] = linear(%%x, %%c_w, %%c_b) {act=\"gelu\"} @\"t\"\n",
    "input %%x: f32[2,3,0]\ninput %%c_w: f32[0,6]\ninput %%c_b: f32[6]\ninput %%res: f32[2,3,6]\n"
    "%%y: f32[2,3,6] = linear(%%x, %%c_w, %%c_b, %%res) {act=\"quick_gelu\"} @\"t\"\n",
    "input %%x: f32[2,3,0]\ninput %%c_w: f32[0,6]\n%%y: f32[2,3,6] = linear(%%x, %%c_w) @\"t\"\n",
    "input %%x: f32[2,5]\ninput %%c_w: f32[5,0]\ninput %%c_b: f32[0]\n"
    "%%y: f32[2,0] = linear(%%x, %%c_w, %%c_b) {act=\"relu\"} @\"t\"\n"};
  (void)r;
  case_put(cs, v[k]);
  case_put(cs, "output %%y\n");
}

/* attention: a batch of 0, no tokens, no input channels (q, k and v are the bias); cross-attention with no
 * keys (every output 0), no queries, no batches. */
static void zero_attention(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "input %%x: f32[0,5,8]\ninput %%c_w: f32[8,24]\ninput %%c_b: f32[24]\n"
    "%%y: f32[0,5,8] = attention(%%x, %%c_w, %%c_b) {heads=2} @\"t\"\n",
    "input %%x: f32[2,0,8]\ninput %%c_w: f32[8,24]\n%%y: f32[2,0,8] = attention(%%x, %%c_w) {heads=4} @\"t\"\n",
    "input %%x: f32[2,3,0]\ninput %%c_w: f32[0,12]\ninput %%c_b: f32[12]\n"
    "%%y: f32[2,3,4] = attention(%%x, %%c_w, %%c_b) {heads=2, scale=0.5} @\"t\"\n",
    "input %%x: f32[0,3,8]\ninput %%c_w: f32[8,24]\ninput %%c_s: f32[2,2,3,3]\n" /* a score bias, no batches */
    "%%y: f32[0,3,8] = attention(%%x, %%c_w, _, %%c_s) {heads=2} @\"t\"\n",
    /* cross-attention: no keys (every output 0), no queries, no batches */
    "input %%x: f32[2,0,8]\ninput %%c_w: f32[8,16]\ninput %%c_b: f32[16]\ninput %%c_q: f32[1,3,8]\n"
    "%%y: f32[2,3,8] = attention(%%x, %%c_w, %%c_b, _, %%c_q) {heads=2} @\"t\"\n",
    "input %%x: f32[2,5,8]\ninput %%c_w: f32[8,16]\ninput %%q: f32[2,0,8]\n"
    "%%y: f32[2,0,8] = attention(%%x, %%c_w, _, _, %%q) {heads=4} @\"t\"\n",
    "input %%x: f32[0,5,8]\ninput %%c_w: f32[8,16]\ninput %%c_q: f32[1,1,8]\n"
    "%%y: f32[0,1,8] = attention(%%x, %%c_w, _, _, %%c_q) {heads=2} @\"t\"\n"};
  (void)r;
  case_put(cs, v[k]);
  case_put(cs, "output %%y\n");
}

/* softmax over a non-empty axis of an empty tensor, over an empty axis, opset 11's 2-D coercion. */
static void zero_softmax(Case *cs, Rng *r, int k) {
  static const char *const v[] = {"0,5] {axis=-1}", "3,0] {axis=-1}", "2,0,4] {axis=1}",
                                  "2,0,3] {axis=1, coerce_2d=1}"};
  const char *shape = v[k];
  int len = (int)(strchr(shape, ']') - shape);
  (void)r;
  case_put(cs, "input %%x: f32[%.*s]\n%%y: f32[%.*s] = softmax(%%x)%s @\"t\"\noutput %%y\n", len, shape, len, shape,
           shape + len + 1);
}

/* layer_norm: no rows; an empty normalized axis (mean and inverse deviation of nothing are NaN). */
static void zero_layer_norm(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "input %%x: f32[0,5]\ninput %%c_s: f32[5]\ninput %%c_b: f32[5]\n"
    "%%y: f32[0,5] = layer_norm(%%x, %%c_s, %%c_b) {axis=-1} @\"t\"\noutput %%y\n",
    "input %%x: f32[2,0,4]\ninput %%c_s: f32[4]\n"
    "%%y: f32[2,0,4], %%m: f32[2,0,1], %%i: f32[2,0,1] = layer_norm(%%x, %%c_s) {axis=-1} @\"t\"\n"
    "output %%y\noutput %%m\noutput %%i\n",
    "input %%x: f32[3,0]\ninput %%c_s: f32[0]\ninput %%c_b: f32[0]\n"
    "%%y: f32[3,0], %%m: f32[3,1], %%i: f32[3,1] = layer_norm(%%x, %%c_s, %%c_b) {axis=-1} @\"t\"\n"
    "output %%y\noutput %%m\noutput %%i\n"};
  (void)r;
  case_put(cs, v[k]);
}

/* reduce: a non-empty axis of an empty tensor; an empty axis (the empty set: sum 0, max -inf, mean NaN),
 * every axis of an empty tensor, an empty axes list (all axes, or none with noop_with_empty_axes). */
static void zero_reduce(Case *cs, int k, const char *op) {
  static const char *const v[] = {
    "input %%x: f32[0,5]\nconst %%ax: i64[1] = [-1]\n%%y: f32[0,1] = %s(%%x, %%ax) @\"t\"\n",
    "input %%x: f32[0,5]\nconst %%ax: i64[1] = [0]\n%%y: f32[5] = %s(%%x, %%ax) {keepdims=0} @\"t\"\n",
    "input %%x: f32[3,0,2]\n%%y: f32[] = %s(%%x) {keepdims=0} @\"t\"\n",
    "input %%x: f32[3,0,2]\nconst %%ax: i64[0] = []\n%%y: f32[1,1,1] = %s(%%x, %%ax) @\"t\"\n",
    "input %%x: f32[3,0,2]\nconst %%ax: i64[0] = []\n%%y: f32[3,0,2] = %s(%%x, %%ax) {noop_with_empty_axes=1} @\"t\"\n",
    "input %%x: i64[4,0]\nconst %%ax: i64[1] = [1]\n%%y: i64[4,1] = %s(%%x, %%ax) @\"t\"\n",
    "input %%x: i64[0,4]\nconst %%ax: i64[1] = [1]\n%%y: i64[0] = %s(%%x, %%ax) {keepdims=0} @\"t\"\n"};
  case_put(cs, v[k], op);
  case_put(cs, "output %%y\n");
}
/* The mean of an empty set of integers has no value: reduce_mean's i64 case keeps its axis non-empty. */
static void zero_reduce_mean(Case *cs, Rng *r, int k) { (void)r, zero_reduce(cs, k == 5 ? 6 : k, "reduce_mean"); }
static void zero_reduce_sum(Case *cs, Rng *r, int k) { (void)r, zero_reduce(cs, k, "reduce_sum"); }
static void zero_reduce_max(Case *cs, Rng *r, int k) { (void)r, zero_reduce(cs, k, "reduce_max"); }

/* op(x, ...) as a graph output and feeding neg, as layout() above, with the result's type stated. */
static void zero_layout(Case *cs, const char *x, const char *consts, const char *y, const char *call) {
  case_put(cs, "input %%x: f32[%s]\n%s%%y: f32[%s] = %s @\"t\"\n", x, consts, y, call);
  case_put(cs, "%%n: f32[%s] = neg(%%y) @\"n\"\noutput %%y\noutput %%n\n", y);
}

/* reshape of no elements: -1 inferred as 0, a 0 copied from the input, a 0 kept (allowzero). */
static void zero_reshape(Case *cs, Rng *r, int k) {
  static const char *const v[][4] = {
    {"0,5", "const %s: i64[2] = [-1,5]\n", "0,5", "reshape(%x, %s)"},
    {"0,5", "const %s: i64[2] = [5,-1]\n", "5,0", "reshape(%x, %s)"},
    {"0,5", "const %s: i64[3] = [0,5,1]\n", "0,5,1", "reshape(%x, %s)"},
    {"2,0,3", "const %s: i64[2] = [0,6]\n", "0,6", "reshape(%x, %s) {allowzero=1}"}};
  (void)r;
  zero_layout(cs, v[k][0], v[k][1], v[k][2], v[k][3]);
}

static void zero_flatten(Case *cs, Rng *r, int k) {
  static const char *const v[][3] = {{"0,3,4", "0,12", "flatten(%x) {axis=1}"},
                                     {"0,3,4", "1,0", "flatten(%x) {axis=0}"},
                                     {"3,0,4", "0,4", "flatten(%x) {axis=2}"}};
  (void)r;
  zero_layout(cs, v[k][0], "", v[k][1], v[k][2]);
}

static void zero_squeeze(Case *cs, Rng *r, int k) {
  (void)r;
  if (k == 0) zero_layout(cs, "1,0,1,3", "", "0,3", "squeeze(%x)");
  else zero_layout(cs, "1,0,1,3", "const %a: i64[1] = [-2]\n", "1,0,3", "squeeze(%x, %a)");
}

static void zero_unsqueeze(Case *cs, Rng *r, int k) {
  (void)r;
  if (k == 0) zero_layout(cs, "0,3", "const %a: i64[2] = [0,-1]\n", "1,0,3,1", "unsqueeze(%x, %a)");
  else zero_layout(cs, "3,0", "const %a: i64[1] = [1]\n", "3,1,0", "unsqueeze(%x, %a)");
}

static void zero_transpose(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "input %%x: f32[0,3,4]\n%%y: f32[4,0,3] = transpose(%%x) {perm=[2,0,1]} @\"t\"\n",
    "input %%x: i64[3,0]\n%%y: i64[0,3] = transpose(%%x) @\"t\"\n",
    "input %%x: bool[2,3,0,5]\n%%y: bool[2,0,3,5] = transpose(%%x) {perm=[0,2,1,3]} @\"t\"\n"};
  (void)r;
  case_put(cs, v[k]);
  case_put(cs, "output %%y\n");
}

/* expand: an empty input broadcast, a 1 expanded to 0, an empty shape entry ahead of the input's. */
static void zero_expand(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "input %%x: f32[0,1]\nconst %%s: i64[2] = [1,5]\n%%y: f32[0,5]",
    "input %%x: i64[3,1]\nconst %%s: i64[2] = [3,0]\n%%y: i64[3,0]",
    "input %%x: f32[2]\nconst %%s: i64[3] = [0,1,2]\n%%y: f32[0,1,2]",
    "input %%x: bool[1]\nconst %%s: i64[1] = [0]\n%%y: bool[0]"};
  (void)r;
  case_put(cs, v[k]);
  case_put(cs, " = expand(%%x, %%s) @\"t\"\noutput %%y\n");
}

/* slice: of an empty tensor, to nothing (start = end, start past end), backwards over an empty axis. */
static void zero_slice(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "input %%x: f32[0,5]\nconst %%st: i64[1] = [1]\nconst %%en: i64[1] = [3]\nconst %%ax: i64[1] = [1]\n"
    "%%y: f32[0,2] = slice(%%x, %%st, %%en, %%ax) @\"t\"\n",
    "input %%x: f32[4,5]\nconst %%st: i64[1] = [2]\nconst %%en: i64[1] = [2]\n"
    "%%y: f32[0,5] = slice(%%x, %%st, %%en) @\"t\"\n",
    "input %%x: i64[4,5]\nconst %%st: i64[1] = [3]\nconst %%en: i64[1] = [1]\nconst %%ax: i64[1] = [-1]\n"
    "%%y: i64[4,0] = slice(%%x, %%st, %%en, %%ax) @\"t\"\n",
    "input %%x: f32[4,0]\nconst %%st: i64[1] = [-1]\nconst %%en: i64[1] = [-9223372036854775807]\n"
    "const %%ax: i64[1] = [1]\nconst %%sp: i64[1] = [-1]\n%%y: f32[4,0] = slice(%%x, %%st, %%en, %%ax, %%sp) @\"t\"\n"};
  (void)r;
  case_put(cs, v[k]);
  case_put(cs, "output %%y\n");
}

/* gather: from an empty tensor along a non-empty axis, no indices (constant and run-time), an empty index row. */
static void zero_gather(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "input %%x: f32[0,5]\ninput %%c_i: i64[2]\n%%y: f32[0,2] = gather(%%x, %%c_i) {axis=1} @\"t\"\n",
    "input %%x: f32[4,5]\ninput %%c_i: i64[0]\n%%y: f32[0,5] = gather(%%x, %%c_i) {axis=0} @\"t\"\n",
    "input %%x: i32[4,5]\ninput %%i: i64[3,0]\n%%y: i32[4,3,0] = gather(%%x, %%i) {axis=1} @\"t\"\n",
    "input %%x: f32[4,5]\ninput %%i: i32[0]\n%%y: f32[4,0] = gather(%%x, %%i) {axis=-1} @\"t\"\n"};
  (void)r;
  cs->int_lo = -5, cs->int_hi = 4, cs->int_nonzero = 0;
  case_put(cs, v[k]);
  case_put(cs, "output %%y\n");
}

/* concat: of empty tensors along a non-empty axis, empty ones around a non-empty one, all empty. */
static void zero_concat(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "input %%x: f32[0,3]\ninput %%y: f32[0,4]\n%%o: f32[0,7] = concat(%%x, %%y) {axis=1} @\"t\"\n",
    "input %%x: f32[0,3]\ninput %%y: f32[2,3]\ninput %%z: f32[0,3]\n"
    "%%o: f32[2,3] = concat(%%x, %%y, %%z) {axis=0} @\"t\"\n",
    "input %%x: i64[0,2]\ninput %%y: i64[0,2]\n%%o: i64[0,2] = concat(%%x, %%y) {axis=-2} @\"t\"\n"};
  (void)r;
  case_put(cs, v[k]);
  case_put(cs, "output %%o\n");
}

/* split: an empty tensor into equal parts, a non-empty axis into parts of 0, an empty axis into two. */
static void zero_split(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "input %%x: f32[0,6]\n%%p: f32[0,2], %%q: f32[0,2], %%u: f32[0,2] = split(%%x) {axis=1, num_outputs=3} @\"t\"\n",
    "input %%x: f32[4,3]\nconst %%s: i64[3] = [0,4,0]\n"
    "%%p: f32[0,3], %%q: f32[4,3], %%u: f32[0,3] = split(%%x, %%s) @\"t\"\n",
    "input %%x: bool[0,4]\nconst %%s: i64[3] = [0,0,0]\n"
    "%%p: bool[0,4], %%q: bool[0,4], %%u: bool[0,4] = split(%%x, %%s) {axis=0} @\"t\"\n"};
  (void)r;
  case_put(cs, v[k]);
  case_put(cs, "output %%u\noutput %%p\noutput %%q\n");
}

static void zero_shape(Case *cs, Rng *r, int k) {
  (void)r;
  case_put(cs, "input %%x: f32[0,3,4]\n%%y: i64[%d] = shape(%%x)%s @\"t\"\noutput %%y\n", k ? 2 : 3,
           k ? " {start=1}" : "");
}

static void zero_size(Case *cs, Rng *r, int k) {
  (void)r;
  case_put(cs, "input %%x: %s[3,0]\n%%y: i64[] = size(%%x) @\"t\"\noutput %%y\n", k ? "i64" : "f32");
}

/* constant_of_shape: a shape with a 0, and an empty shape (a scalar: one element). */
static void zero_constant_of_shape(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "const %%s: i64[2] = [0,3]\n%%y: f32[0,3] = constant_of_shape(%%s) @\"t\"\n",
    "const %%s: i64[0] = []\n%%y: f32[] = constant_of_shape(%%s) {value=f32[1] [1.5]} @\"t\"\n",
    "const %%s: i64[3] = [2,0,4]\n%%y: i64[2,0,4] = constant_of_shape(%%s) {value=i64[1] [-7]} @\"t\"\n"};
  (void)r;
  case_put(cs, v[k]);
  case_put(cs, "output %%y\n");
}

/* range with no elements: start = limit, start past limit, and the other way round for a negative delta. */
static void zero_range(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "const %%s: i64[] = [5]\nconst %%l: i64[] = [5]\nconst %%d: i64[] = [1]\n%%y: i64[0]",
    "const %%s: f32[] = [1]\nconst %%l: f32[] = [0]\nconst %%d: f32[] = [0.5]\n%%y: f32[0]",
    "const %%s: i32[] = [-3]\nconst %%l: i32[] = [4]\nconst %%d: i32[] = [-2]\n%%y: i32[0]"};
  (void)r;
  case_put(cs, v[k]);
  case_put(cs, " = range(%%s, %%l, %%d) @\"t\"\noutput %%y\n");
}

/* pad: to an empty result, an empty input padded with the constant, cropped to nothing, edge padding next to
 * an empty axis. */
static void zero_pad(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "input %%x: f32[0,5]\nconst %%p: i64[4] = [0,1,0,1]\n%%y: f32[0,7] = pad(%%x, %%p) @\"t\"\n",
    "input %%x: f32[0,3]\ninput %%v: f32[]\nconst %%p: i64[4] = [2,0,1,0]\n%%y: f32[3,3] = pad(%%x, %%p, %%v) @\"t\"\n",
    "input %%x: i64[4,0]\nconst %%p: i64[4] = [0,0,0,0]\n%%y: i64[4,0] = pad(%%x, %%p) @\"t\"\n",
    "input %%x: f32[3,4]\nconst %%p: i64[4] = [0,-2,0,-2]\n%%y: f32[3,0] = pad(%%x, %%p) @\"t\"\n",
    "input %%x: f32[2,0,3]\nconst %%p: i64[2] = [1,1]\nconst %%ax: i64[1] = [0]\n"
    "%%y: f32[4,0,3] = pad(%%x, %%p, _, %%ax) {mode=\"edge\"} @\"t\"\n"};
  (void)r;
  case_put(cs, v[k]);
  case_put(cs, "output %%y\n");
}

/* scatter_nd: empty data, no index tuples (constant and run-time: a copy), empty slices. */
static void zero_scatter_nd(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "input %%x: f32[0,5]\ninput %%i: i64[0,1]\ninput %%u: f32[0,5]\n%%y: f32[0,5] = scatter_nd(%%x, %%i, %%u)",
    "input %%x: f32[4,5]\ninput %%c_i: i64[0,1]\ninput %%u: f32[0,5]\n%%y: f32[4,5] = scatter_nd(%%x, %%c_i, %%u)",
    "input %%x: f32[4,0]\ninput %%i: i64[2,1]\ninput %%u: f32[2,0]\n%%y: f32[4,0] = scatter_nd(%%x, %%i, %%u)",
    "input %%x: i64[3,4]\ninput %%i: i64[2,0,2]\ninput %%u: i64[2,0]\n"
    "%%y: i64[3,4] = scatter_nd(%%x, %%i, %%u) {reduction=\"add\"}"};
  (void)r;
  cs->int_lo = -3, cs->int_hi = 2, cs->int_nonzero = 0;
  case_put(cs, v[k]);
  case_put(cs, " @\"t\"\noutput %%y\n");
}

/* global_average_pool: no batch, empty spatial axes (the mean of nothing: NaN), no channels. */
static void zero_global_average_pool(Case *cs, Rng *r, int k) {
  static const char *const v[] = {"f32[0,3,4,4]", "f32[0,3,1,1]", "f32[2,3,0,4]", "f32[2,3,1,1]", "f32[2,0,5]",
                                  "f32[2,0,1]"};
  (void)r;
  case_put(cs, "input %%x: %s\n%%y: %s = global_average_pool(%%x) @\"t\"\noutput %%y\n", v[2 * k], v[2 * k + 1]);
}

/* average_pool / max_pool: no batch (2-D), no channels (1-D). */
static void zero_pool(Case *cs, int k, const char *op) {
  static const char *const v[] = {
    "input %%x: f32[0,3,5,5]\n%%y: f32[0,3,4,4] = %s(%%x) {kernel_shape=[2,2]} @\"t\"\n",
    "input %%x: f32[2,0,5]\n%%y: f32[2,0,3] = %s(%%x) {kernel_shape=[3]} @\"t\"\n"};
  case_put(cs, v[k], op);
  case_put(cs, "output %%y\n");
}
static void zero_average_pool(Case *cs, Rng *r, int k) { (void)r, zero_pool(cs, k, "average_pool"); }
static void zero_max_pool(Case *cs, Rng *r, int k) { (void)r, zero_pool(cs, k, "max_pool"); }

/* batch_norm: no batch, an empty plane. */
static void zero_batch_norm(Case *cs, Rng *r, int k) {
  static const char *const x[] = {"0,3,5,5", "2,3,0,4"};
  (void)r;
  case_put(cs, "input %%x: f32[%s]\ninput %%s: f32[3]\ninput %%b: f32[3]\ninput %%m: f32[3]\ninput %%v: f32[3]\n"
           "%%y: f32[%s] = batch_norm(%%x, %%s, %%b, %%m, %%v) {epsilon=0.01} @\"t\"\noutput %%y\n", x[k], x[k]);
}

/* arg_max / arg_min: no rows, an empty axis kept as 1 of no rows. top_k: no rows, k = 0. */
static void zero_arg(Case *cs, int k, const char *op) {
  static const char *const v[] = {"input %%x: f32[0,5]\n%%y: i64[0,1] = %s(%%x) {axis=1} @\"t\"\n",
                                  "input %%x: f32[3,0,2]\n%%y: i64[1,0,2] = %s(%%x) @\"t\"\n"};
  case_put(cs, v[k], op);
  case_put(cs, "output %%y\n");
}
static void zero_arg_max(Case *cs, Rng *r, int k) { (void)r, zero_arg(cs, k, "arg_max"); }
static void zero_arg_min(Case *cs, Rng *r, int k) { (void)r, zero_arg(cs, k, "arg_min"); }
static void zero_top_k(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "input %x: f32[0,5]\nconst %k: i64[1] = [2]\n%v: f32[0,2], %i: i64[0,2] = top_k(%x, %k) @\"t\"\n",
    "input %x: f32[3,5]\nconst %k: i64[1] = [0]\n%v: f32[3,0], %i: i64[3,0] = top_k(%x, %k) @\"t\"\n"};
  (void)r;
  case_put(cs, "%s", v[k]);
  case_put(cs, "output %%v\noutput %%i\n");
}

/* resize: no batch, an empty axis scaled. */
static void zero_resize(Case *cs, Rng *r, int k) {
  static const char *const v[] = {
    "input %x: f32[0,3,4,4]\nconst %sc: f32[4] = [1,1,2,2]\n%y: f32[0,3,8,8] = resize(%x, _, %sc) @\"t\"\n",
    "input %x: f32[2,3,0,4]\nconst %sc: f32[4] = [1,1,2,0.5]\n%y: f32[2,3,0,2] = resize(%x, _, %sc) {mode=\"linear\"} @\"t\"\n"};
  (void)r;
  case_put(cs, "%s", v[k]);
  case_put(cs, "output %%y\n");
}

/* Every op's zero-size cases; the tolerances are the ones of backend_op_cases. An
 * op of ops.def missing here fails the test unless its zero-size skip list names it. */
const OpCases backend_zero_cases[] = {
  {"add", TOL_EXACT, 9, zero_add}, {"sub", TOL_EXACT, 9, zero_sub}, {"mul", TOL_EXACT, 9, zero_mul},
  {"div", TOL_EXACT, 9, zero_div}, {"pow", TOL_MATH, 3, zero_pow}, {"equal", TOL_EXACT, 12, zero_equal},
  {"where", TOL_EXACT, 2, zero_where}, {"neg", TOL_EXACT, 6, zero_neg}, {"abs", TOL_EXACT, 6, zero_abs},
  {"sqrt", TOL_EXACT, 2, zero_sqrt}, {"reciprocal", TOL_EXACT, 2, zero_reciprocal}, {"exp", TOL_MATH, 2, zero_exp},
  {"erf", TOL_MATH, 2, zero_erf}, {"tanh", TOL_MATH, 2, zero_tanh}, {"sigmoid", TOL_MATH, 2, zero_sigmoid},
  {"relu", TOL_EXACT, 6, zero_relu}, {"ceil", TOL_EXACT, 2, zero_ceil}, {"cast", TOL_EXACT, 4, zero_cast},
  {"identity", TOL_EXACT, 8, zero_identity}, {"dropout", TOL_EXACT, 2, zero_dropout},
  {"matmul", TOL_LINALG, 8, zero_matmul}, {"gemm", TOL_LINALG, 4, zero_gemm}, {"conv", TOL_LINALG, 4, zero_conv},
  {"softmax", TOL_REDUCE, 4, zero_softmax}, {"layer_norm", TOL_REDUCE, 3, zero_layer_norm},
  {"reduce_mean", TOL_REDUCE, 6, zero_reduce_mean}, {"reduce_sum", TOL_REDUCE, 7, zero_reduce_sum},
  {"reduce_max", TOL_EXACT, 7, zero_reduce_max}, {"reshape", TOL_EXACT, 4, zero_reshape},
  {"flatten", TOL_EXACT, 3, zero_flatten}, {"squeeze", TOL_EXACT, 2, zero_squeeze},
  {"unsqueeze", TOL_EXACT, 2, zero_unsqueeze}, {"transpose", TOL_EXACT, 3, zero_transpose},
  {"expand", TOL_EXACT, 4, zero_expand}, {"slice", TOL_EXACT, 4, zero_slice}, {"gather", TOL_EXACT, 4, zero_gather},
  {"concat", TOL_EXACT, 3, zero_concat}, {"split", TOL_EXACT, 3, zero_split}, {"shape", TOL_EXACT, 2, zero_shape},
  {"size", TOL_EXACT, 2, zero_size}, {"constant_of_shape", TOL_EXACT, 3, zero_constant_of_shape},
  {"range", TOL_EXACT, 3, zero_range}, {"gelu", TOL_MATH, 4, zero_gelu}, {"linear", TOL_LINALG, 4, zero_linear},
  {"attention", TOL_LINALG, 7, zero_attention},
  {"less", TOL_EXACT, 9, zero_less}, {"less_or_equal", TOL_EXACT, 9, zero_less_or_equal},
  {"greater", TOL_EXACT, 9, zero_greater}, {"greater_or_equal", TOL_EXACT, 9, zero_greater_or_equal},
  {"not", TOL_EXACT, 2, zero_not}, {"and", TOL_EXACT, 3, zero_and}, {"or", TOL_EXACT, 3, zero_or},
  {"xor", TOL_EXACT, 3, zero_xor}, {"mod", TOL_EXACT, 9, zero_mod}, {"min", TOL_EXACT, 4, zero_min},
  {"max", TOL_EXACT, 4, zero_max}, {"clip", TOL_EXACT, 3, zero_clip},
  {"hard_sigmoid", TOL_EXACT, 2, zero_hard_sigmoid}, {"hard_swish", TOL_EXACT, 2, zero_hard_swish},
  {"pad", TOL_EXACT, 5, zero_pad}, {"scatter_nd", TOL_EXACT, 4, zero_scatter_nd},
  {"global_average_pool", TOL_REDUCE, 3, zero_global_average_pool},
  {"average_pool", TOL_REDUCE, 2, zero_average_pool}, {"max_pool", TOL_EXACT, 2, zero_max_pool},
  {"batch_norm", TOL_REDUCE, 2, zero_batch_norm},
  {"arg_max", TOL_EXACT, 2, zero_arg_max}, {"arg_min", TOL_EXACT, 2, zero_arg_min}, {"top_k", TOL_EXACT, 2, zero_top_k},
  {"resize", TOL_REDUCE, 2, zero_resize},
};
const int backend_n_zero_cases = (int)(sizeof backend_zero_cases / sizeof backend_zero_cases[0]);

/* Every op's cases. An op of ops.def missing here fails the test unless it is
 * in the skip list of test_backend_ops.c. */
const OpCases backend_op_cases[] = {
  {"add", TOL_EXACT, 15, gen_add}, {"sub", TOL_EXACT, 15, gen_sub}, {"mul", TOL_EXACT, 15, gen_mul},
  {"div", TOL_EXACT, 15, gen_div}, {"pow", TOL_MATH, 5, gen_pow}, {"equal", TOL_EXACT, 20, gen_equal},
  {"where", TOL_EXACT, 4, gen_where}, {"neg", TOL_EXACT, 9, gen_neg}, {"abs", TOL_EXACT, 9, gen_abs},
  {"sqrt", TOL_EXACT, 3, gen_sqrt}, {"reciprocal", TOL_EXACT, 3, gen_reciprocal}, {"exp", TOL_MATH, 3, gen_exp},
  {"erf", TOL_MATH, 3, gen_erf}, {"tanh", TOL_MATH, 3, gen_tanh}, {"sigmoid", TOL_MATH, 3, gen_sigmoid},
  {"relu", TOL_EXACT, 9, gen_relu}, {"ceil", TOL_EXACT, 3, gen_ceil}, {"cast", TOL_EXACT, 16, gen_cast},
  {"identity", TOL_EXACT, 12, gen_identity}, {"dropout", TOL_EXACT, 3, gen_dropout},
  {"matmul", TOL_LINALG, 8, gen_matmul}, {"gemm", TOL_LINALG, 8, gen_gemm}, {"conv", TOL_LINALG, 12, gen_conv},
  {"softmax", TOL_REDUCE, 3, gen_softmax}, {"layer_norm", TOL_REDUCE, 3, gen_layer_norm},
  {"reduce_mean", TOL_REDUCE, 4, gen_reduce_mean}, {"reduce_sum", TOL_REDUCE, 4, gen_reduce_sum},
  {"reduce_max", TOL_EXACT, 4, gen_reduce_max}, {"reshape", TOL_EXACT, 2, gen_reshape},
  {"flatten", TOL_EXACT, 3, gen_flatten}, {"squeeze", TOL_EXACT, 2, gen_squeeze},
  {"unsqueeze", TOL_EXACT, 2, gen_unsqueeze}, {"transpose", TOL_EXACT, 8, gen_transpose},
  {"expand", TOL_EXACT, 5, gen_expand}, {"slice", TOL_EXACT, 5, gen_slice}, {"gather", TOL_EXACT, 5, gen_gather},
  {"concat", TOL_EXACT, 4, gen_concat}, {"split", TOL_EXACT, 3, gen_split}, {"shape", TOL_EXACT, 3, gen_shape},
  {"size", TOL_EXACT, 2, gen_size}, {"constant_of_shape", TOL_EXACT, 5, gen_constant_of_shape},
  {"range", TOL_EXACT, 3, gen_range}, {"gelu", TOL_MATH, 6, gen_gelu}, {"linear", TOL_LINALG, 14, gen_linear},
  {"attention", TOL_LINALG, 10, gen_attention},
  /* issue 12's elementwise ops */
  {"less", TOL_EXACT, 15, gen_less}, {"less_or_equal", TOL_EXACT, 15, gen_less_or_equal},
  {"greater", TOL_EXACT, 15, gen_greater}, {"greater_or_equal", TOL_EXACT, 15, gen_greater_or_equal},
  {"not", TOL_EXACT, 3, gen_not}, {"and", TOL_EXACT, 5, gen_and}, {"or", TOL_EXACT, 5, gen_or},
  {"xor", TOL_EXACT, 5, gen_xor}, {"mod", TOL_EXACT, 30, gen_mod}, {"min", TOL_EXACT, 13, gen_min},
  {"max", TOL_EXACT, 13, gen_max}, {"clip", TOL_EXACT, 7, gen_clip}, {"hard_sigmoid", TOL_EXACT, 6, gen_hard_sigmoid},
  {"hard_swish", TOL_EXACT, 3, gen_hard_swish},
  /* issue 12's data ops */
  {"pad", TOL_EXACT, 8, gen_pad}, {"scatter_nd", TOL_EXACT, 8, gen_scatter_nd},
  {"global_average_pool", TOL_REDUCE, 4, gen_global_average_pool},
  {"average_pool", TOL_REDUCE, 6, gen_average_pool}, {"max_pool", TOL_EXACT, 7, gen_max_pool},
  {"batch_norm", TOL_REDUCE, 5, gen_batch_norm},
  {"arg_max", TOL_EXACT, 6, gen_arg_max}, {"arg_min", TOL_EXACT, 6, gen_arg_min}, {"top_k", TOL_EXACT, 8, gen_top_k},
  {"resize", TOL_REDUCE, 10, gen_resize},
};
const int backend_n_op_cases = (int)(sizeof backend_op_cases / sizeof backend_op_cases[0]);
