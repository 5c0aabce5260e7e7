/* The score chain of an attention match (fuse_attention.h): what lies between Q K^T and the softmax.
 * Steps that leave every score where it is are allowed: multiplications or divisions by a known scalar,
 * reshapes that keep the last two dims (regrouping batch dims, as Swin does to add its per-window mask),
 * and additions of a known tensor (Swin's relative-position bias, its shifted-window mask). Running the
 * chain on Q K^T's shape gives softmax input = scale * Q K^T + bias; scale goes into the attention's
 * scale, bias into its score-bias input, laid out per (batch, head) by attn_score_bias. */
#include "fuse_attention.h"
#include <stdlib.h>
#include <string.h>

/* One step of the chain, in data-flow order. */
typedef enum ChainKind { CHAIN_SCALE, CHAIN_RESHAPE, CHAIN_ADD } ChainKind;
typedef struct ChainStep {
  Node *n;
  ChainKind kind;
  int data;        /* the operand the scores flow through */
  double factor;   /* CHAIN_SCALE */
} ChainStep;

/* Whether n is a reshape-like op whose result keeps v's last two dims and elements in order. */
static int keeps_rows(const Node *n, const Value *v) {
  if (n->op != OP_RESHAPE && n->op != OP_FLATTEN && n->op != OP_SQUEEZE && n->op != OP_UNSQUEEZE) return 0;
  const Tensor *i = &v->t, *o = &n->out[0]->t;
  return n->in[0] == v && i->rank >= 2 && o->rank >= 2 && i->dims[i->rank - 1] == o->dims[o->rank - 1] &&
         i->dims[i->rank - 2] == o->dims[o->rank - 2] && tensor_numel(i) == tensor_numel(o);
}

/* Classifies the node defining v as a chain step (data operand and factor set), or returns 0. */
static int chain_step(Value *v, ChainStep *s) {
  Node *n = v->kind == VK_NODE ? v->def : NULL;
  if (!n || n->n_out != 1 || n->out[0] != v) return 0;
  *s = (ChainStep){n, CHAIN_RESHAPE, 0, 1};
  if (n->n_in >= 1 && n->in[0] && keeps_rows(n, n->in[0])) return 1;
  if ((n->op != OP_MUL && n->op != OP_DIV && n->op != OP_ADD) || n->n_in != 2 || !n->in[0] || !n->in[1]) return 0;
  for (int i = 0; i < 2; i++) {
    const Value *c = n->in[1 - i];
    const Tensor *ct = fuse_data(c);
    double x;
    if (!ct || c->t.dtype != DT_F32 || !tensor_same_type(&n->in[i]->t, &v->t)) continue;
    s->data = i;
    if (n->op == OP_ADD) {
      s->kind = CHAIN_ADD;
      return 1;
    }
    if (!fuse_scalar(c, &x) || (n->op == OP_DIV && (i == 1 || x == 0))) return 0; /* c / s is not a scale */
    s->kind = CHAIN_SCALE;
    s->factor = n->op == OP_DIV ? 1.0 / x : x;
    return 1;
  }
  return 0;
}

/* The flat index into constant dims cd (rank cr, broadcast from the right) of element e of dims od (rank or). */
static int64_t bcast_index(int64_t e, const int64_t *od, int or, const int64_t *cd, int cr) {
  int64_t idx = 0, stride = 1;
  for (int a = or - 1, b = cr - 1; a >= 0; a--, b--) {
    int64_t i = e % od[a];
    e /= od[a];
    if (b >= 0) {
      idx += (cd[b] == 1 ? 0 : i) * stride;
      stride *= cd[b];
    }
  }
  return idx;
}

/* Adds constant c broadcast over the chain's current shape od to bias (n elements). */
static void add_const(double *bias, int64_t n, const int64_t *od, int or, const Tensor *c) {
  const float *cv = c->data;
  for (int64_t e = 0; e < n; e++) bias[e] += cv[bcast_index(e, od, or, c->dims, c->rank)];
}

int attn_score_chain(Attn *a, Value *scores) {
  ChainStep rev[FUSE_MAX_STEPS];
  int k = 0, adds = 0;
  Value *v = scores;
  while (k < FUSE_MAX_STEPS && chain_step(v, &rev[k])) {
    adds += rev[k].kind == CHAIN_ADD;
    v = rev[k].n->in[rev[k].data];
    k++;
  }
  a->qk = v->kind == VK_NODE ? v->def : NULL;
  if (!a->qk || a->qk->op != OP_MATMUL) {
    if (v->kind == VK_NODE && v->def && fuse_is_layout(v->def))
      return attn_fail(a, "a layout op that moves scores sits between Q K^T and the softmax");
    return attn_fail(a, v->kind == VK_NODE && v->def && v->def->op == OP_ADD
                            ? "a run-time addition (not a known tensor) sits between Q K^T and the softmax"
                            : "the softmax input is not a MatMul (Q K^T)");
  }
  int64_t n = tensor_numel(&v->t);
  a->scale = 1;
  free(a->bias);
  a->bias = NULL;
  if (adds && !(a->bias = calloc((size_t)(n > 0 ? n : 1), sizeof *a->bias))) return attn_fail(a, "out of memory");
  for (int i = k - 1; i >= 0; i--) { /* data-flow order: scale * qk + bias through each step */
    const ChainStep *s = &rev[i];
    const Tensor *out = &s->n->out[0]->t;
    fuse_match_add(&a->m, s->n);
    if (s->kind == CHAIN_SCALE) {
      a->scale *= s->factor;
      for (int64_t e = 0; a->bias && e < n; e++) a->bias[e] *= s->factor;
    } else if (s->kind == CHAIN_ADD) {
      add_const(a->bias, n, out->dims, out->rank, fuse_data(s->n->in[1 - s->data]));
    }
  }
  return 1;
}

int64_t attn_period(const float *full, int64_t b, int64_t per) {
  for (int64_t p = 1; p < b; p++) {
    if (b % p) continue;
    int same = 1;
    for (int64_t s = p; s < b && same; s++) same = !memcmp(full + s * per, full + (s % p) * per, (size_t)per * sizeof *full);
    if (same) return p;
  }
  return b > 0 ? b : 1;
}

int attn_score_bias(const Attn *a, const int64_t *krows, const int64_t *qrows, int64_t b, float **out,
                    int64_t *groups) {
  int64_t m = a->nq, n = a->n, per = a->heads * m * n, total = b * per;
  float *full = malloc((size_t)(total > 0 ? total : 1) * sizeof *full);
  if (!full) return -1;
  for (int64_t g = 0; g < a->g; g++)
    for (int64_t i = 0; i < m; i++) {
      int64_t q = qrows[a->qrow[g * m + i]], s = q / m;
      for (int64_t j = 0; j < n; j++) {
        int64_t kj = krows[a->krow[g * n + j]] % n;
        full[((s * a->heads + a->ghead[g]) * m + q % m) * n + kj] = (float)a->bias[(g * m + i) * n + j];
      }
    }
  /* The shortest period over the batches: Swin's mask repeats per image (G = windows per image). */
  *out = full;
  *groups = attn_period(full, b, per);
  return 0;
}
