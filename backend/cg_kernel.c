/* Kernel functions: one per distinct op signature, cached by a string key,
 * called from the run function; big ones split their outer loop across the
 * session's threads with rt_parallel_for. */
#include "cg_ctx.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LLVMValueRef cg_kernel_find(CgCtx *c, const char *key) {
  for (int i = 0; i < c->n_kernels; i++)
    if (strcmp(c->kernels[i].key, key) == 0) return c->kernels[i].fn;
  return NULL;
}

/* Adds the attributes every generated function carries (no unwinding). */
static void cg_fn_attrs(CgCtx *c, LLVMValueRef fn, int noinline) {
  const char *names[2] = {"nounwind", "noinline"};
  for (int i = 0; i < 1 + noinline; i++) {
    unsigned kind = LLVMGetEnumAttributeKindForName(names[i], strlen(names[i]));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c->ctx, kind, 0));
  }
}

LLVMValueRef cg_kernel_begin(CgCtx *c, const char *key, int n_args, Diag *d) {
  LLVMTypeRef params[CG_MAX_ARGS + 1];
  char name[512];
  if (n_args > CG_MAX_ARGS) {
    ir_error(d, c->g->file, NULL, "kernel %s: too many arguments", key);
    return NULL;
  }
  if (c->n_kernels == c->cap_kernels) {
    int cap = c->cap_kernels * 2 + 16;
    CgKernel *k = realloc(c->kernels, (size_t)cap * sizeof *k);
    if (k) c->kernels = k, c->cap_kernels = cap;
  }
  if (c->n_kernels == c->cap_kernels || !(c->key = strdup(key))) {
    ir_error(d, c->g->file, NULL, "out of memory");
    return NULL;
  }
  for (int i = 0; i <= n_args; i++) params[i] = c->t_ptr;
  snprintf(name, sizeof name, "k.%s", key);
  c->kernel = c->fn = LLVMAddFunction(c->mod, name, LLVMFunctionType(c->t_void, params, (unsigned)n_args + 1, 0));
  LLVMSetLinkage(c->fn, LLVMInternalLinkage);
  cg_fn_attrs(c, c->fn, 1);
  LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->ctx, c->fn, "entry"));
  c->kctx = LLVMGetParam(c->fn, 0);
  c->n_args = n_args;
  for (int i = 0; i < n_args; i++) c->args[i] = LLVMGetParam(c->fn, (unsigned)i + 1);
  return c->fn;
}

void cg_kernel_end(CgCtx *c) {
  LLVMBuildRetVoid(c->b);
  c->kernels[c->n_kernels++] = (CgKernel){c->key, c->kernel};
  c->key = NULL;
  c->fn = c->kernel = NULL;
}

void cg_kernel_parallel(CgCtx *c, int64_t n, int64_t work_per_item, LLVMValueRef *begin, LLVMValueRef *end) {
  char name[520];
  LLVMTypeRef arr = LLVMArrayType(c->t_ptr, (unsigned)(c->n_args ? c->n_args : 1));
  LLVMValueRef closure = LLVMBuildAlloca(c->b, arr, "closure");
  for (int i = 0; i < c->n_args; i++)
    LLVMBuildStore(c->b, c->args[i], cg_ptr_slot(c, c->b, closure, i));
  snprintf(name, sizeof name, "k.%s.task", c->key);
  LLVMValueRef task = LLVMAddFunction(c->mod, name, c->t_task);
  LLVMSetLinkage(task, LLVMInternalLinkage);
  cg_fn_attrs(c, task, 0);
  if (n * work_per_item >= CG_PAR_MIN_WORK) {
    LLVMValueRef args[4] = {c->kctx, cg_i64(c, n), task, closure};
    LLVMBuildCall2(c->b, c->t_parallel_for, c->parallel_for, args, 4, "");
  } else {
    LLVMValueRef args[3] = {closure, cg_i64(c, 0), cg_i64(c, n)};
    LLVMBuildCall2(c->b, c->t_task, task, args, 3, "");
  }
  LLVMBuildRetVoid(c->b);
  c->fn = task;
  LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->ctx, task, "entry"));
  LLVMValueRef cl = LLVMGetParam(task, 0);
  for (int i = 0; i < c->n_args; i++)
    c->args[i] = LLVMBuildLoad2(c->b, c->t_ptr, cg_ptr_slot(c, c->b, cl, i), "");
  *begin = LLVMGetParam(task, 1);
  *end = LLVMGetParam(task, 2);
}

int cg_kernel_call(CgCtx *c, LLVMValueRef fn, const Node *n, int n_in, Diag *d) {
  LLVMValueRef args[CG_MAX_ARGS + 1];
  int k = 0;
  args[k++] = c->run_ctx;
  for (int i = 0; i < n_in; i++)
    if (!(args[k++] = n->in[i] ? cg_value_ptr(c, n->in[i], d) : LLVMConstNull(c->t_ptr))) return -1;
  for (int j = 0; j < n->n_out; j++)
    if (!(args[k++] = n->out[j] ? cg_value_ptr(c, n->out[j], d) : LLVMConstNull(c->t_ptr))) return -1;
  LLVMBuildCall2(c->rb, LLVMGlobalGetValueType(fn), fn, args, (unsigned)k, "");
  return 0;
}

void cg_kernel_call_args(CgCtx *c, LLVMValueRef fn, LLVMValueRef *args, int n) {
  LLVMValueRef all[CG_MAX_ARGS + 1];
  all[0] = c->run_ctx;
  for (int i = 0; i < n && i < CG_MAX_ARGS; i++) all[i + 1] = args[i];
  LLVMBuildCall2(c->rb, LLVMGlobalGetValueType(fn), fn, all, (unsigned)(n < CG_MAX_ARGS ? n : CG_MAX_ARGS) + 1, "");
}

void cg_key_tensor(char *buf, size_t cap, size_t *len, const Tensor *t) {
  if (*len < cap) *len += (size_t)snprintf(buf + *len, cap - *len, "%s_", dt_name(t->dtype));
  if (t->rank == 0 && *len < cap) *len += (size_t)snprintf(buf + *len, cap - *len, "s");
  for (int i = 0; i < t->rank && *len < cap; i++)
    *len += (size_t)snprintf(buf + *len, cap - *len, i ? "x%lld" : "%lld", (long long)t->dims[i]);
}
