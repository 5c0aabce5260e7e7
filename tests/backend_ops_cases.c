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

/* matmul: 2-D, batched x 2-D, broadcast batches, vector operands; weights constant in odd cases. */
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

/* conv: patch embedding (kernel = stride), padded 3x3 with stride 2, grouped, dilated. */
static void gen_conv(Case *cs, Rng *r, int k) {
  int h = rdim(r) + 8, w = rdim(r) + 8;
  static const char *const v[] = {
    "input %%x: f32[1,3,32,32]\ninput %%c_w: f32[8,3,8,8]\ninput %%c_b: f32[8]\n"
    "%%y: undef[] = conv(%%x, %%c_w, %%c_b) {kernel_shape=[8,8], strides=[8,8]} @\"t\"\n",
    "input %%x: f32[2,3,%d,%d]\ninput %%c_w: f32[5,3,3,3]\n"
    "%%y: undef[] = conv(%%x, %%c_w) {pads=[1,1,1,1], strides=[2,2]} @\"t\"\n",
    "input %%x: f32[1,6,%d,%d]\ninput %%c_w: f32[6,2,3,3]\ninput %%c_b: f32[6]\n"
    "%%y: undef[] = conv(%%x, %%c_w, %%c_b) {group=3, pads=[0,1,2,1]} @\"t\"\n",
    "input %%x: f32[1,2,%d,%d]\ninput %%c_w: f32[4,2,3,2]\n"
    "%%y: undef[] = conv(%%x, %%c_w) {dilations=[2,3], auto_pad=\"SAME_UPPER\"} @\"t\"\n"};
  case_put(cs, v[k], h, w);
  case_put(cs, "output %%y\n");
}

/* linear(x, w, bias?, residual?) {act}: every optional part and activation. */
static void gen_linear(Case *cs, Rng *r, int k) {
  int a = rdim(r), b = rdim(r), q = rdim(r), n = rdim(r);
  static const char *const act[] = {"none", "gelu", "gelu_tanh", "quick_gelu", "silu", "relu"};
  case_put(cs, "input %%x: f32[%d,%d,%d]\ninput %%c_w: f32[%d,%d]\ninput %%c_b: f32[%d]\ninput %%res: f32[%d,%d,%d]\n",
           a, b, q, q, n, n, a, b, n);
  const char *bias = k % 2 ? ", %c_b" : k >= 2 ? ", _" : "";
  case_put(cs, "%%y: undef[] = linear(%%x, %%c_w%s%s) {act=\"%s\"} @\"t\"\noutput %%y\n", bias, k >= 2 ? ", %res" : "",
           act[k % 6]);
}

/* attention(x [B,N,C], w_qkv [C,3E], b_qkv?) {heads, scale?}. */
static void gen_attention(Case *cs, Rng *r, int k) {
  int heads = k + 1, hd = (int)rng_int(r, 3, 9), nt = rdim(r), c = rdim(r);
  case_put(cs, "input %%x: f32[%d,%d,%d]\ninput %%c_w: f32[%d,%d]\ninput %%c_b: f32[%d]\n", 2, nt, c, c,
           3 * heads * hd, 3 * heads * hd);
  case_put(cs, "%%y: undef[] = attention(%%x, %%c_w%s) {heads=%d%s} @\"t\"\noutput %%y\n", k ? ", %c_b" : "", heads,
           k == 2 ? ", scale=0.25" : "");
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
    "%%y: undef[] = slice(%%x, %%st, %%en, %%ax) @\"t\"\n"};
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
  {"matmul", TOL_LINALG, 6, gen_matmul}, {"gemm", TOL_LINALG, 8, gen_gemm}, {"conv", TOL_LINALG, 4, gen_conv},
  {"softmax", TOL_REDUCE, 3, gen_softmax}, {"layer_norm", TOL_REDUCE, 3, gen_layer_norm},
  {"reduce_mean", TOL_REDUCE, 4, gen_reduce_mean}, {"reduce_sum", TOL_REDUCE, 4, gen_reduce_sum},
  {"reduce_max", TOL_EXACT, 4, gen_reduce_max}, {"reshape", TOL_EXACT, 2, gen_reshape},
  {"flatten", TOL_EXACT, 3, gen_flatten}, {"squeeze", TOL_EXACT, 2, gen_squeeze},
  {"unsqueeze", TOL_EXACT, 2, gen_unsqueeze}, {"transpose", TOL_EXACT, 8, gen_transpose},
  {"expand", TOL_EXACT, 5, gen_expand}, {"slice", TOL_EXACT, 4, gen_slice}, {"gather", TOL_EXACT, 5, gen_gather},
  {"concat", TOL_EXACT, 4, gen_concat}, {"split", TOL_EXACT, 3, gen_split}, {"shape", TOL_EXACT, 3, gen_shape},
  {"size", TOL_EXACT, 2, gen_size}, {"constant_of_shape", TOL_EXACT, 5, gen_constant_of_shape},
  {"range", TOL_EXACT, 3, gen_range}, {"gelu", TOL_MATH, 6, gen_gelu}, {"linear", TOL_LINALG, 12, gen_linear},
  {"attention", TOL_LINALG, 3, gen_attention},
  /* issue 12's elementwise ops */
  {"less", TOL_EXACT, 15, gen_less}, {"less_or_equal", TOL_EXACT, 15, gen_less_or_equal},
  {"greater", TOL_EXACT, 15, gen_greater}, {"greater_or_equal", TOL_EXACT, 15, gen_greater_or_equal},
  {"not", TOL_EXACT, 3, gen_not}, {"and", TOL_EXACT, 5, gen_and}, {"or", TOL_EXACT, 5, gen_or},
  {"xor", TOL_EXACT, 5, gen_xor}, {"mod", TOL_EXACT, 30, gen_mod}, {"min", TOL_EXACT, 13, gen_min},
  {"max", TOL_EXACT, 13, gen_max}, {"clip", TOL_EXACT, 7, gen_clip}, {"hard_sigmoid", TOL_EXACT, 6, gen_hard_sigmoid},
  {"hard_swish", TOL_EXACT, 3, gen_hard_swish},
};
const int backend_n_op_cases = (int)(sizeof backend_op_cases / sizeof backend_op_cases[0]);
