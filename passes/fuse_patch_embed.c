/* fuse_patch_embed: a Conv whose kernel equals its stride (no padding,
 * dilation 1, group 1, constant weight) cuts the image into P x Q patches
 * and projects each one: it becomes
 *   reshape(x, [B, Ci, Hp, P, Wp, Q]) -> transpose [0,2,4,1,3,5]
 *   -> reshape [B, Hp*Wp, Ci*P*Q] -> linear(w [Ci*P*Q, Co], bias) -> [B, Np, Co]
 * with the weight reshaped and transposed at compile time. When the Conv's
 * result only goes through layout ops that produce [B, Np, Co] in that order
 * (torchvision's reshape + permute, timm's flatten(2).transpose(1, 2)), those
 * are absorbed; otherwise the result is put back into [B, Co, Hp, Wp], except
 * that a 1x1 Conv then stays: the backend computes it as w @ x per image,
 * without the two transposes (MaxViT's MBConv expansions and projections).
 * When the image is not a multiple of the patch (SigLIP's 384 / 14), the
 * Conv ignores the last rows and columns: the image is first sliced to
 * [B, Ci, Hp*P, Wp*Q]. */
#include "fuse_util.h"
#include <stdlib.h>
#include <string.h>

/* Conv geometry once the checks passed. */
typedef struct Patch {
  int64_t b, ci, h, w, co, p, q, hp, wp;
} Patch;

/* Whether ints attribute `name` is absent or every entry equals v[i % n]. */
static int ints_are(const Node *n, const char *name, const int64_t *v, int count) {
  int64_t a[8];
  int k = ir_attr_ints(n, name, a, 8);
  if (k < 0) return 1;
  if (k != count) return 0;
  for (int i = 0; i < k; i++)
    if (a[i] != v[i]) return 0;
  return 1;
}

/* Checks Conv cv is a patch embedding; NULL or the first failed condition. */
static const char *check(const Node *cv, Patch *pt) {
  const Tensor *x = &cv->in[0]->t, *w = fuse_data(cv->in[1]);
  if (!w || cv->in[1]->kind != VK_CONST) return "the weight is not a constant";
  if (x->rank != 4 || w->rank != 4) return "not a 2-D convolution";
  *pt = (Patch){x->dims[0], x->dims[1], x->dims[2], x->dims[3], w->dims[0], w->dims[2], w->dims[3], 0, 0};
  int64_t stride[2] = {pt->p, pt->q}, ones[2] = {1, 1}, zeros[4] = {0, 0, 0, 0};
  if (ir_attr_i(cv, "group", 1) != 1) return "group is not 1";
  if (!ints_are(cv, "dilations", ones, 2)) return "dilation is not 1";
  if (ir_attr_ints(cv, "strides", (int64_t[2]){0}, 2) < 0 || !ints_are(cv, "strides", stride, 2))
    return "the stride is not the kernel size";
  const char *ap = ir_attr_s(cv, "auto_pad", "NOTSET");
  if ((strcmp(ap, "NOTSET") && strcmp(ap, "VALID")) || !ints_are(cv, "pads", zeros, 4)) return "the input is padded";
  if (pt->p < 1 || pt->q < 1 || pt->h < pt->p || pt->w < pt->q) return "the image is smaller than one patch";
  if (cv->n_in > 2 && cv->in[2] && (cv->in[2]->kind != VK_CONST || !fuse_data(cv->in[2]))) return "the bias is not a constant";
  pt->hp = pt->h / pt->p;
  pt->wp = pt->w / pt->q;
  return NULL;
}

/* Whether an index map over the Conv result [B, Co, Np] reads it as [B, Np, Co]. */
static int is_token_major(const int32_t *map, const Patch *pt) {
  int64_t np = pt->hp * pt->wp;
  for (int64_t b = 0, e = 0; b < pt->b; b++)
    for (int64_t p = 0; p < np; p++)
      for (int64_t o = 0; o < pt->co; o++, e++)
        if (map[e] != (b * pt->co + o) * np + p) return 0;
  return 1;
}

/* How many of the layout steps after the Conv end in [B, Np, Co] order (0: none do). */
static int absorbed_steps(const Value *y, const FuseStep *steps, Value **vals, int n, const Patch *pt) {
  for (int k = n; k > 0; k--) {
    if (tensor_numel(&vals[k - 1]->t) != tensor_numel(&y->t)) continue;
    int32_t *map = fuse_index_map(y, steps, k);
    int ok = map && is_token_major(map, pt);
    free(map);
    if (ok) return k;
  }
  return 0;
}

/* The linear's weight [Ci*P*Q, Co]: the Conv weight [Co, Ci*P*Q] transposed. */
static Value *weight(Graph *g, const Value *wv, const Patch *pt, Diag *d) {
  int64_t k = pt->ci * pt->p * pt->q, dims[2] = {k, pt->co};
  Value *v = fuse_const_alloc(g, wv->name, DT_F32, 2, dims, d);
  if (!v) return NULL;
  const float *s = wv->t.data;
  float *o = v->t.data;
  for (int64_t r = 0; r < k; r++)
    for (int64_t c = 0; c < pt->co; c++) o[r * pt->co + c] = s[c * k + r];
  return v;
}

/* x [B, Ci, H, W] cut to [B, Ci, Hp*P, Wp*Q] (what the Conv reads), or x when that is all of it. */
static Value *crop(Graph *g, Node *cv, const Patch *pt, Diag *d) {
  Value *x = cv->in[0];
  if (pt->h == pt->hp * pt->p && pt->w == pt->wp * pt->q) return x;
  int64_t two = 2, dims[4] = {pt->b, pt->ci, pt->hp * pt->p, pt->wp * pt->q};
  const int64_t vals[3][2] = {{0, 0}, {dims[2], dims[3]}, {2, 3}};
  static const char *const what[3] = {"patch_crop_starts", "patch_crop_ends", "patch_crop_axes"};
  const char *name = fuse_name(g, cv->name, "patch_crop", d);
  Value *in[4] = {x, NULL, NULL, NULL};
  for (int i = 0; i < 3 && name; i++) {
    const char *cn = fuse_name(g, cv->name, what[i], d);
    if (!cn || !(in[i + 1] = fuse_const_alloc(g, cn, DT_I64, 1, &two, d))) return NULL;
    memcpy(in[i + 1]->t.data, vals[i], sizeof vals[i]);
  }
  Value *y = name ? fuse_value(g, name, 4, dims, d) : NULL;
  return y && fuse_emit(g, OP_SLICE, name, in, 4, y, d) ? y : NULL;
}

/* Emits the patch split and the linear; the result is written into `out`
 * when its shape is [B, Np, Co]-compatible, else into a fresh value. */
static Value *emit(Graph *g, Node *cv, const Patch *pt, Value *out, Diag *d) {
  int64_t np = pt->hp * pt->wp, k = pt->ci * pt->p * pt->q;
  int64_t d6[6] = {pt->b, pt->ci, pt->hp, pt->p, pt->wp, pt->q}, perm[6] = {0, 2, 4, 1, 3, 5};
  int64_t d3[3] = {pt->b, np, k}, o3[3] = {pt->b, np, pt->co};
  const char *n1 = fuse_name(g, cv->name, "patches", d), *n2 = fuse_name(g, cv->name, "patches_t", d);
  const char *n3 = fuse_name(g, cv->name, "patch_rows", d), *n4 = fuse_name(g, cv->name, "patch_linear", d);
  if (!n1 || !n2 || !n3 || !n4) return NULL;
  Value *x = crop(g, cv, pt, d);
  Value *r1 = x ? fuse_reshape(g, n1, x, 6, d6, NULL, d) : NULL;
  Value *t = r1 ? fuse_transpose(g, n2, r1, perm, NULL, d) : NULL;
  Value *r2 = t ? fuse_reshape(g, n3, t, 3, d3, NULL, d) : NULL;
  int direct = out->t.rank == 3 && out->t.dims[1] == np && out->t.dims[2] == pt->co;
  Value *w = r2 ? weight(g, cv->in[1], pt, d) : NULL;
  Value *y = !w ? NULL : direct ? out : fuse_value(g, n4, 3, o3, d);
  if (!y) return NULL;
  Value *in[3] = {r2, w, cv->n_in > 2 ? cv->in[2] : NULL};
  if (!fuse_emit(g, OP_LINEAR, n4, in, in[2] ? 3 : 2, y, d)) return NULL;
  if (direct) return out;
  const char *n5 = fuse_name(g, cv->name, "patch_tokens", d);
  return n5 ? fuse_reshape(g, n5, y, out->t.rank, out->t.dims, out, d) : NULL;
}

/* Tries Conv cv; 1 when fused. */
static int fuse_at(Graph *g, PassCtx *ctx, const FuseUsers *u, Node *cv, Diag *d) {
  Patch pt;
  const char *why = check(cv, &pt);
  if (why) {
    pass_explain(ctx, "patch_embed", cv, "%s", why);
    return 0;
  }
  FuseStep steps[FUSE_MAX_STEPS];
  Value *vals[FUSE_MAX_STEPS], *y = cv->out[0];
  int n = fuse_trace_fwd(u, y, steps, vals, FUSE_MAX_STEPS);
  int k = absorbed_steps(y, steps, vals, n, &pt);
  if (!k && pt.p == 1 && pt.q == 1) { /* the backend runs it as one product per image (emit_conv.c) */
    pass_explain(ctx, "patch_embed", cv, "a 1x1 conv whose result stays channels-first is a product in place");
    return 0;
  }
  for (int i = 0; i < k; i++) ir_node_remove(steps[i].n);
  ir_node_remove(cv);
  if (k) return emit(g, cv, &pt, vals[k - 1], d) ? 1 : -1;
  /* Nothing to absorb: back to [B, Co, Hp, Wp] through [B, Co, Np]. */
  int64_t o3[3] = {pt.b, pt.hp * pt.wp, pt.co}, perm[3] = {0, 2, 1};
  const char *name = fuse_name(g, cv->name, "patch_channels", d);
  Value *lin = name ? fuse_value(g, name, 3, o3, d) : NULL;
  Value *t = lin && emit(g, cv, &pt, lin, d) ? fuse_transpose(g, name, lin, perm, NULL, d) : NULL;
  return t && fuse_reshape(g, name, t, 4, y->t.dims, y, d) ? 1 : -1;
}

static int is_anchor(const Node *n) { return n->op == OP_CONV; }

/* Tries every Conv. */
int pass_fuse_patch_embed(Graph *g, PassCtx *ctx, Diag *d) {
  int changed = fuse_each(g, ctx, is_anchor, fuse_at, d);
  return changed < 0 ? -1 : fuse_finish(g, changed, d);
}
