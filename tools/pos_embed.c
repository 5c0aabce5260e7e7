/* `vitc inspect MODEL --pos-embed OUT.png`: the learned position embeddings
 * drawn as the grid of cosine similarities that ViT papers show. The table is
 * found in the graph after cleanup and constant folding (so a Gather from an
 * Embedding table counts): the first `add` of a constant [1, N, D] or [N, D]
 * to a computed value that ends in the same [N, D], N >= 4 (the token
 * sequence). Its last side*side rows are the patch positions (leading rows:
 * class and other extra tokens). Tile (r, c) shows the similarity of patch
 * (r, c) with every patch, on a fixed -1..1 colour scale. */
#include "cli.h"
#include "image_cli.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The position-embedding constant read by node n, or NULL. */
static const Value *pos_operand(const Node *n) {
  if (n->op != OP_ADD || !n->in[0] || !n->in[1]) return NULL;
  for (int k = 0; k < 2; k++) {
    const Value *c = n->in[k], *x = n->in[1 - k];
    int r = c->t.rank;
    if (c->kind != VK_CONST || x->kind == VK_CONST || c->t.dtype != DT_F32 || (r != 2 && r != 3)) continue;
    if (r == 3 && c->t.dims[0] != 1) continue;
    int64_t nt = c->t.dims[r - 2], dim = c->t.dims[r - 1];
    if (nt < 4 || dim < 2 || x->t.rank < 2) continue;
    if (x->t.dims[x->t.rank - 2] == nt && x->t.dims[x->t.rank - 1] == dim) return c;
  }
  return NULL;
}

/* Cosine similarity of rows a and b of length dim. */
static float cosine(const float *a, const float *b, int64_t dim) {
  double ab = 0, aa = 0, bb = 0;
  for (int64_t k = 0; k < dim; k++) {
    ab += (double)a[k] * b[k];
    aa += (double)a[k] * a[k];
    bb += (double)b[k] * b[k];
  }
  return aa > 0 && bb > 0 ? (float)(ab / sqrt(aa * bb)) : 0.0f;
}

int cli_pos_embed_map(const Graph *g, const char *out_png, Diag *d) {
  if (cli_check_png_output(out_png, g->file, NULL, d)) return -1;
  const Value *pe = NULL;
  const Node *at = NULL;
  for (int i = 0; i < g->n_nodes && !pe; i++)
    if ((pe = pos_operand(g->nodes[i]))) at = g->nodes[i];
  if (!pe)
    return ir_error(d, g->file, NULL, "--pos-embed: no learned position embedding found (looked for a constant "
                    "[1, N, D] added to the token sequence)");
  int64_t nt = pe->t.dims[pe->t.rank - 2], dim = pe->t.dims[pe->t.rank - 1];
  int64_t side, extra;
  if (cli_patch_grid(nt, &side, &extra) || side < 2)
    return ir_error(d, g->file, at, "--pos-embed: %lld positions are not a square patch grid after a few extra tokens",
                    (long long)nt);
  int64_t np = side * side;
  float *tiles = malloc((size_t)(np * np) * sizeof *tiles);
  if (!tiles) return ir_error(d, NULL, NULL, "out of memory");
  const float *rows = (const float *)pe->t.data + extra * dim;
  for (int64_t p = 0; p < np; p++)
    for (int64_t q = 0; q < np; q++) tiles[p * np + q] = cosine(rows + p * dim, rows + q * dim, dim);
  int scale = (int)(160 / side) > 1 ? (int)(160 / side) : 1; /* tiles of about 160 pixels at most */
  if (scale * side * side > 1600) scale = (int)(1600 / (side * side)) > 1 ? (int)(1600 / (side * side)) : 1;
  VitimgU8 img = {0};
  char err[512];
  int rc = 0;
  if (vitimg_tile_grid(tiles, (int)side, (int)side, (int)side, (int)side, -1.0f, 1.0f, scale, scale > 2 ? 2 : 1, &img))
    rc = ir_error(d, NULL, NULL, "cannot draw the position-embedding grid");
  if (!rc && vitimg_write_png(out_png, &img, err, sizeof err)) rc = ir_error(d, NULL, NULL, "%s", err);
  if (!rc)
    printf("position embeddings: %s ('%s', %lld positions = %lld extra + %lldx%lld patches, width %lld; cosine "
           "similarity, -1 dark blue .. 1 yellow)\n",
           out_png, pe->name, (long long)nt, (long long)extra, (long long)side, (long long)side, (long long)dim);
  vitimg_free(&img);
  free(tiles);
  return rc;
}
