/* Runs a graph through the backend in one call: compile to DIR/model.so,
 * load it with vitrt, run once with checked buffers, unload (used by
 * `vitc test-onnx --compiled`). */
#include "cg.h"
#include "cli.h"
#include "vitrt.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RC_MAX_IO 64

/* Allocates out[j] (type of graph output j, zeroed, at least one byte) and its VitrtTensor. */
static int rc_outputs(const Graph *g, Tensor *out, VitrtTensor *vout, Diag *d) {
  for (int j = 0; j < g->n_outputs; j++) {
    out[j] = g->outputs[j]->t;
    if (!(out[j].data = calloc(1, tensor_bytes(&out[j]) + 1))) return ir_error(d, NULL, NULL, "out of memory");
    vout[j] = (VitrtTensor){dt_to_onnx(out[j].dtype), out[j].rank, out[j].dims, out[j].data};
  }
  return 0;
}

/* Loads so_path, runs it on in with n_threads and fills out. */
static int rc_run_so(const Graph *g, const char *so_path, int n_threads, const Tensor *in, Tensor *out, Diag *d) {
  VitrtTensor vin[RC_MAX_IO], vout[RC_MAX_IO];
  char err[1024];
  VitrtModel *m = vitrt_open(so_path, err, sizeof err);
  if (!m) return ir_error(d, NULL, NULL, "%s", err);
  int st = VITC_OK;
  VitrtSession *s = vitrt_session_create(m, n_threads, &st);
  int rc = s ? 0 : cli_session_error(m, so_path, st, d);
  for (int i = 0; !rc && i < g->n_inputs; i++) {
    if (!in[i].data) rc = ir_error(d, NULL, NULL, "input %d has no data", i);
    vin[i] = (VitrtTensor){dt_to_onnx(in[i].dtype), in[i].rank, in[i].dims, in[i].data};
  }
  if (!rc) rc = rc_outputs(g, out, vout, d);
  if (!rc && vitrt_run_checked(s, g->n_inputs, vin, g->n_outputs, vout, err, sizeof err))
    rc = ir_error(d, so_path, NULL, "%s", err);
  vitrt_session_destroy(s);
  vitrt_close(m);
  return rc;
}

int cli_run_compiled(const Graph *g, const char *dir, int opt_level, const Tensor *in, Tensor *out, Diag *d) {
  if (g->n_inputs > RC_MAX_IO || g->n_outputs > RC_MAX_IO)
    return ir_error(d, g->file, NULL, "too many inputs or outputs");
  char so[4096], hdr[4096];
  snprintf(so, sizeof so, "%s/model.so", dir);
  snprintf(hdr, sizeof hdr, "%s/model.h", dir);
  CompileOptions o = {.output = so, .opt_level = opt_level, .emit = CG_EMIT_SO};
  int rc = cg_compile(g, &o, d);
  if (!rc) rc = rc_run_so(g, so, 2, in, out, d);
  unlink(so);
  unlink(hdr);
  return rc;
}

void cli_remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[4096];
  while (d && (e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && snprintf(path, sizeof path, "%s/%s", dir, e->d_name) > 0)
      unlink(path);
  if (d) closedir(d);
  rmdir(dir);
}
