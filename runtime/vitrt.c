/* The model loader: dlopen, entry points by dlsym, ABI check, checked runs. */
#include "vitrt.h"
#include "rt.h"
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VITRT_MAX_IO 64

struct VitrtModel {
  void *handle;
  const VitcEntryPoints *ep;
  const VitcModelInfo *info;
};

struct VitrtSession {
  VitrtModel *model;
  VitcSession *session;
};

/* printf into err when the caller gave room for a message. */
static void vitrt_msg(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || errlen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* dlerror()'s reason, without the "FILE: " it usually starts with. */
static const char *vitrt_dlerror(const char *file) {
  const char *why = dlerror();
  size_t n = strlen(file);
  if (!why) return "unknown error";
  return strncmp(why, file, n) == 0 && why[n] == ':' && why[n + 1] == ' ' ? why + n + 2 : why;
}

/* The model behind handle h: its entry points (any prefix) after the ABI check; NULL with a message. */
static VitrtModel *vitrt_bind(void *h, const char *path, char *err, size_t errlen) {
  const VitcEntryPoints *ep = dlsym(h, VITC_ENTRY_POINTS_SYMBOL);
  if (!ep) { /* a model from before ABI 3 has no descriptor, only vitc_model_info */
    const VitcModelInfo *(*old)(void) = (const VitcModelInfo *(*)(void))dlsym(h, "vitc_model_info");
    const VitcModelInfo *info = old ? old() : NULL;
    if (info)
      vitrt_msg(err, errlen, "%s: model was built for vitc ABI version %u, this runtime supports version %d", path,
                (unsigned)info->abi_version, VITC_ABI_VERSION);
    else
      vitrt_msg(err, errlen, "%s: not a vitc model (no symbol '%s')", path, VITC_ENTRY_POINTS_SYMBOL);
    return NULL;
  }
  if (ep->abi_version != VITC_ABI_VERSION) {
    vitrt_msg(err, errlen, "%s: model was built for vitc ABI version %u, this runtime supports version %d", path,
              (unsigned)ep->abi_version, VITC_ABI_VERSION);
    return NULL;
  }
  VitrtModel *m = calloc(1, sizeof *m);
  if (!m) {
    vitrt_msg(err, errlen, "%s: out of memory", path);
    return NULL;
  }
  m->handle = h;
  m->ep = ep;
  m->info = ep->model_info();
  return m;
}

VitrtModel *vitrt_open(const char *path, char *err, size_t errlen) {
  if (!path) {
    vitrt_msg(err, errlen, "cannot load model: no path");
    return NULL;
  }
  /* dlopen searches the library path for a bare name; a model is a file. */
  char buf[4096];
  const char *file = path;
  if (!strchr(path, '/') && snprintf(buf, sizeof buf, "./%s", path) < (int)sizeof buf) file = buf;
  void *h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    vitrt_msg(err, errlen, "%s: cannot load model: %s", path, vitrt_dlerror(file));
    return NULL;
  }
  VitrtModel *m = vitrt_bind(h, path, err, errlen);
  if (!m) dlclose(h);
  return m;
}

const VitcModelInfo *vitrt_info(const VitrtModel *m) { return m ? m->info : NULL; }

const VitcEntryPoints *vitrt_entry_points(const VitrtModel *m) { return m ? m->ep : NULL; }

int vitrt_cpu_check(const VitrtModel *m, char *msg, size_t size) {
  return m ? m->ep->cpu_check(msg, size) : VITC_ERR_ARG;
}

const char *vitrt_status_string(int status) { return rt_status_string(status); }

int vitrt_session_profile(VitrtSession *s, VitcProfile *out, int reset) {
  return s ? s->model->ep->session_profile(s->session, out, reset) : VITC_ERR_ARG;
}

const char *vitrt_meta(const VitrtModel *m, const char *key) {
  if (!m || !key) return NULL;
  for (int32_t i = 0; i < m->info->n_metadata; i++)
    if (m->info->metadata[i].key && strcmp(m->info->metadata[i].key, key) == 0) return m->info->metadata[i].value;
  return NULL;
}

void vitrt_close(VitrtModel *m) {
  if (!m) return;
  dlclose(m->handle);
  free(m);
}

VitrtSession *vitrt_session_create(VitrtModel *m, int n_threads, int *status) {
  int st = VITC_ERR_ARG;
  VitrtSession *s = m ? calloc(1, sizeof *s) : NULL;
  if (m && !s) st = VITC_ERR_NOMEM;
  if (s && !(s->session = m->ep->session_create(n_threads, &st))) {
    free(s);
    s = NULL;
  }
  if (s) s->model = m, st = VITC_OK;
  if (status) *status = st;
  return s;
}

void vitrt_session_destroy(VitrtSession *s) {
  if (!s) return;
  s->model->ep->session_destroy(s->session);
  free(s);
}

int vitrt_run(VitrtSession *s, int n_inputs, const void *const *inputs, int n_outputs, void *const *outputs) {
  if (!s || n_inputs != s->model->info->n_inputs || n_outputs != s->model->info->n_outputs) return VITC_ERR_ARG;
  return s->model->ep->session_run(s->session, inputs, outputs);
}

const char *vitrt_dtype_name(int32_t dtype) {
  switch (dtype) {
  case VITC_DTYPE_F32: return "f32";
  case VITC_DTYPE_I64: return "i64";
  case VITC_DTYPE_I32: return "i32";
  case VITC_DTYPE_BOOL: return "bool";
  default: return "?";
  }
}

size_t vitrt_dtype_size(int32_t dtype) {
  switch (dtype) {
  case VITC_DTYPE_F32: case VITC_DTYPE_I32: return 4;
  case VITC_DTYPE_I64: return 8;
  case VITC_DTYPE_BOOL: return 1;
  default: return 0;
  }
}

/* "f32[1,3,224,224]" into buf. */
static const char *vitrt_type_str(int32_t dtype, int32_t rank, const int64_t *dims, char *buf, size_t n) {
  size_t len = (size_t)snprintf(buf, n, "%s[", vitrt_dtype_name(dtype));
  for (int i = 0; i < rank && i < 8 && dims && len < n; i++)
    len += (size_t)snprintf(buf + len, n - len, i ? ",%lld" : "%lld", (long long)dims[i]);
  if (len < n) snprintf(buf + len, n - len, "]");
  return buf;
}

/* Checks one buffer against its info entry, its first dim against batch when batch > 0 (a dynamic-batch
 * model); 0 when it matches. */
static int vitrt_check(const char *kind, int i, const VitrtTensor *t, const VitcTensorInfo *want, int64_t batch,
                       char *err, size_t errlen) {
  int ok = t->data && t->dtype == want->dtype && t->rank == want->rank && (t->rank == 0 || t->dims);
  for (int k = 0; ok && k < t->rank; k++) ok = t->dims[k] == (k == 0 && batch > 0 ? batch : want->dims[k]);
  if (ok) return 0;
  char got[160], exp[160];
  VitcTensorInfo shown = *want;
  if (batch > 0) shown.dims[0] = batch;
  want = &shown;
  if (!t->data)
    vitrt_msg(err, errlen, "%s %d ('%s'): no buffer", kind, i, want->name);
  else
    vitrt_msg(err, errlen, "%s %d ('%s') is %s, the model expects %s", kind, i, want->name,
              vitrt_type_str(t->dtype, t->rank, t->dims, got, sizeof got),
              vitrt_type_str(want->dtype, want->rank, want->dims, exp, sizeof exp));
  return -1;
}

int vitrt_run_checked(VitrtSession *s, int n_inputs, const VitrtTensor *inputs, int n_outputs,
                      const VitrtTensor *outputs, char *err, size_t errlen) {
  const VitcModelInfo *info = s ? s->model->info : NULL;
  if (!info || (n_inputs && !inputs) || (n_outputs && !outputs)) {
    vitrt_msg(err, errlen, "NULL argument");
    return VITC_ERR_ARG;
  }
  if (n_inputs != info->n_inputs || n_outputs != info->n_outputs || n_inputs > VITRT_MAX_IO ||
      n_outputs > VITRT_MAX_IO) {
    vitrt_msg(err, errlen, "model takes %d inputs and %d outputs, got %d and %d", info->n_inputs, info->n_outputs,
              n_inputs, n_outputs);
    return VITC_ERR_ARG;
  }
  const void *in[VITRT_MAX_IO];
  void *out[VITRT_MAX_IO];
  /* A dynamic-batch model takes the batch of input 0; every other buffer must agree. */
  int64_t batch = info->batch_dynamic && n_inputs && inputs[0].rank > 0 && inputs[0].dims ? inputs[0].dims[0] : 0;
  if (info->batch_dynamic && (batch < 1 || (info->max_batch > 0 && batch > info->max_batch))) {
    if (info->max_batch > 0)
      vitrt_msg(err, errlen, "batch %lld is outside the model's 1..%lld", (long long)batch, (long long)info->max_batch);
    else
      vitrt_msg(err, errlen, "batch %lld: the batch must be at least 1", (long long)batch);
    return VITC_ERR_ARG;
  }
  for (int i = 0; i < n_inputs; i++) {
    if (vitrt_check("input", i, &inputs[i], &info->inputs[i], batch, err, errlen)) return VITC_ERR_ARG;
    in[i] = inputs[i].data;
  }
  for (int i = 0; i < n_outputs; i++) {
    if (vitrt_check("output", i, &outputs[i], &info->outputs[i], batch, err, errlen)) return VITC_ERR_ARG;
    out[i] = outputs[i].data;
  }
  int st = batch > 0 ? s->model->ep->session_run_batch(s->session, batch, in, out)
                     : s->model->ep->session_run(s->session, in, out);
  if (st != VITC_OK) vitrt_msg(err, errlen, "run failed: %s", vitrt_status_string(st));
  return st;
}

int vitrt_run_batch(VitrtSession *s, int64_t batch, int n_inputs, const void *const *inputs, int n_outputs,
                    void *const *outputs) {
  if (!s || n_inputs != s->model->info->n_inputs || n_outputs != s->model->info->n_outputs) return VITC_ERR_ARG;
  return s->model->ep->session_run_batch(s->session, batch, inputs, outputs);
}
