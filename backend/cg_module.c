/* The LLVM module around the kernels: the run function that calls them in
 * graph order, the addresses of values (caller buffers, workspace, weights),
 * the model info global and the weights blob pulled in with .incbin. */
#include "cg_ctx.h"
#include "vitc_abi.h"
#include <errno.h>
#include <llvm-c/Analysis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cg_module_begin(CgCtx *c, Diag *d) {
  c->mod = LLVMModuleCreateWithNameInContext("vitc", c->ctx);
  char *triple = LLVMGetTargetMachineTriple(c->tm);
  LLVMSetTarget(c->mod, triple);
  LLVMDisposeMessage(triple);
  c->td = LLVMCreateTargetDataLayout(c->tm);
  LLVMSetModuleDataLayout(c->mod, c->td);
  c->t_void = LLVMVoidTypeInContext(c->ctx);
  c->t_i1 = LLVMInt1TypeInContext(c->ctx);
  c->t_i8 = LLVMInt8TypeInContext(c->ctx);
  c->t_i32 = LLVMInt32TypeInContext(c->ctx);
  c->t_i64 = LLVMInt64TypeInContext(c->ctx);
  c->t_f32 = LLVMFloatTypeInContext(c->ctx);
  c->t_ptr = LLVMPointerTypeInContext(c->ctx, 0);
  LLVMTypeRef task_params[3] = {c->t_ptr, c->t_i64, c->t_i64};
  c->t_task = LLVMFunctionType(c->t_void, task_params, 3, 0);
  LLVMTypeRef pf_params[4] = {c->t_ptr, c->t_i64, c->t_ptr, c->t_ptr};
  c->t_parallel_for = LLVMFunctionType(c->t_void, pf_params, 4, 0);
  c->parallel_for = LLVMAddFunction(c->mod, "rt_parallel_for", c->t_parallel_for);
  LLVMSetVisibility(c->parallel_for, LLVMHiddenVisibility);
  c->rb = LLVMCreateBuilderInContext(c->ctx);
  c->b = LLVMCreateBuilderInContext(c->ctx);
  c->variant_fn = calloc((size_t)(c->n_variants * c->n_targets), sizeof *c->variant_fn);
  if (!c->variant_fn) return ir_error(d, c->g->file, NULL, "out of memory");
  (void)d;
  return 0;
}

int cg_run_begin(CgCtx *c, int k, Diag *d) {
  char name[64];
  snprintf(name, sizeof name, "vitc_generated_run_%d", k);
  LLVMTypeRef run_params[5] = {c->t_ptr, c->t_ptr, c->t_ptr, c->t_ptr, c->t_ptr};
  c->run_fn = c->variant_fn[k] = LLVMAddFunction(c->mod, name, LLVMFunctionType(c->t_void, run_params, 5, 0));
  LLVMSetVisibility(c->run_fn, LLVMHiddenVisibility);
  unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
  LLVMAddAttributeAtIndex(c->run_fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c->ctx, nounwind, 0));
  LLVMPositionBuilderAtEnd(c->rb, LLVMAppendBasicBlockInContext(c->ctx, c->run_fn, "entry"));
  c->run_ctx = LLVMGetParam(c->run_fn, 0);
  c->run_inputs = LLVMGetParam(c->run_fn, 1);
  c->run_outputs = LLVMGetParam(c->run_fn, 2);
  c->run_workspace = LLVMGetParam(c->run_fn, 3);
  c->run_weights = LLVMGetParam(c->run_fn, 4);
  free(c->value_ptr);
  free(c->weight_offset);
  c->value_ptr = calloc((size_t)c->g->n_values + 1, sizeof *c->value_ptr);
  c->weight_offset = malloc(((size_t)c->g->n_values + 1) * sizeof *c->weight_offset);
  if (!c->value_ptr || !c->weight_offset) return ir_error(d, c->g->file, NULL, "out of memory");
  for (int i = 0; i < c->g->n_values; i++) c->weight_offset[i] = -1;
  return 0;
}

void cg_run_end(CgCtx *c) { LLVMBuildRetVoid(c->rb); }

/* Loads element i of a pointer array (the run function's inputs or outputs). */
static LLVMValueRef cg_load_ptr_elem(CgCtx *c, LLVMValueRef array, int64_t i) {
  LLVMValueRef p = cg_ptr_slot(c, c->rb, array, i);
  return LLVMBuildLoad2(c->rb, c->t_ptr, p, "");
}

/* Byte offset of constant v in the blob, writing it there on first use; -1 with d filled. */
static int64_t cg_weight_offset(CgCtx *c, const Value *v, Diag *d) {
  if (c->weight_offset[v->id] < 0) {
    c->weight_offset[v->id] = cg_blob_add(&c->blob, v->t.data, tensor_bytes(&v->t));
    if (c->weight_offset[v->id] < 0) cg_blob_error(&c->blob, c->g->file, d);
  }
  return c->weight_offset[v->id];
}

int64_t cg_weights_add(CgCtx *c, void *data, uint64_t bytes, Diag *d) {
  int64_t off = data ? cg_blob_add(&c->blob, data, bytes) : (c->blob.err = ENOMEM, -1);
  free(data);
  return off >= 0 ? off : cg_blob_error(&c->blob, c->g->file, d);
}

LLVMValueRef cg_weights_ptr(CgCtx *c, int64_t off) {
  LLVMValueRef o = LLVMConstInt(c->t_i64, (unsigned long long)off, 0);
  return LLVMBuildInBoundsGEP2(c->rb, c->t_i8, c->run_weights, &o, 1, "packed");
}

LLVMValueRef cg_scratch_ptr(CgCtx *c, const Node *n, Diag *d) {
  for (int i = 0; i < c->g->n_nodes; i++) {
    if (c->g->nodes[i] != n || c->plan.scratch[i] < 0) continue;
    LLVMValueRef o = LLVMConstInt(c->t_i64, (unsigned long long)c->plan.scratch[i], 0);
    return LLVMBuildInBoundsGEP2(c->rb, c->t_i8, c->run_workspace, &o, 1, "scratch");
  }
  ir_error(d, c->g->file, n, "internal error: the node has no scratch memory");
  return NULL;
}

int cg_value_is_const(const CgCtx *c, const Value *v) {
  return c->plan.loc[v->id].kind == CG_LOC_WEIGHTS && v->t.data;
}

LLVMValueRef cg_value_ptr(CgCtx *c, const Value *v, Diag *d) {
  const CgLoc *l = &c->plan.loc[v->id];
  const Value *root = l->root;
  if (c->value_ptr[root->id]) return c->value_ptr[root->id];
  LLVMValueRef p = NULL;
  LLVMValueRef off;
  switch (l->kind) {
  case CG_LOC_INPUT: p = cg_load_ptr_elem(c, c->run_inputs, l->index); break;
  case CG_LOC_OUTPUT: p = cg_load_ptr_elem(c, c->run_outputs, l->index); break;
  case CG_LOC_WORKSPACE:
    off = LLVMConstInt(c->t_i64, (unsigned long long)l->index, 0);
    p = LLVMBuildInBoundsGEP2(c->rb, c->t_i8, c->run_workspace, &off, 1, v->name);
    break;
  case CG_LOC_WEIGHTS:
    if (!root->t.data) {
      ir_error(d, c->g->file, root->def, "constant '%s' has no data (IR text elides large constants)", root->name);
      return NULL;
    }
    if (cg_weight_offset(c, root, d) < 0) return NULL;
    off = LLVMConstInt(c->t_i64, (unsigned long long)cg_weight_offset(c, root, d), 0);
    p = LLVMBuildInBoundsGEP2(c->rb, c->t_i8, c->run_weights, &off, 1, root->name);
    break;
  default: ir_error(d, c->g->file, NULL, "internal error: value '%s' has no place in memory", v->name); return NULL;
  }
  return c->value_ptr[root->id] = p;
}

int cg_module_outputs(CgCtx *c, Diag *d) {
  for (int k = 0; k < c->g->n_outputs; k++) {
    const Value *v = c->g->outputs[k];
    const CgLoc *l = &c->plan.loc[v->id];
    if (l->kind == CG_LOC_OUTPUT && l->index == k) continue;
    LLVMValueRef src = cg_value_ptr(c, v, d);
    if (!src) return -1;
    LLVMValueRef dst = cg_load_ptr_elem(c, c->run_outputs, k);
    LLVMBuildMemCpy(c->rb, dst, 1, src, 1, LLVMConstInt(c->t_i64, tensor_bytes(&v->t), 0));
  }
  return 0;
}

/* A private constant C string. */
static LLVMValueRef cg_cstring(CgCtx *c, const char *s) {
  LLVMValueRef init = LLVMConstStringInContext(c->ctx, s, (unsigned)strlen(s), 0);
  LLVMValueRef g = LLVMAddGlobal(c->mod, LLVMTypeOf(init), "name");
  LLVMSetInitializer(g, init);
  LLVMSetGlobalConstant(g, 1);
  LLVMSetLinkage(g, LLVMPrivateLinkage);
  LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
  return g;
}

/* A private constant array of VitcTensorInfo for values vs[0..n); null when n == 0. */
static LLVMValueRef cg_tensor_infos(CgCtx *c, LLVMTypeRef ti, Value *const *vs, int n, const char *name) {
  if (n == 0) return LLVMConstNull(c->t_ptr);
  LLVMValueRef *elems = calloc((size_t)n, sizeof *elems);
  if (!elems) return NULL;
  for (int i = 0; i < n; i++) {
    LLVMValueRef dims[8];
    for (int k = 0; k < 8; k++) dims[k] = cg_i64(c, k < vs[i]->t.rank ? vs[i]->t.dims[k] : 0);
    LLVMValueRef f[4] = {cg_cstring(c, vs[i]->name), LLVMConstInt(c->t_i32, (unsigned)dt_to_onnx(vs[i]->t.dtype), 0),
                         LLVMConstInt(c->t_i32, (unsigned)vs[i]->t.rank, 0), LLVMConstArray2(c->t_i64, dims, 8)};
    elems[i] = LLVMConstNamedStruct(ti, f, 4);
  }
  LLVMValueRef init = LLVMConstArray2(ti, elems, (uint64_t)n);
  free(elems);
  LLVMValueRef g = LLVMAddGlobal(c->mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(g, init);
  LLVMSetGlobalConstant(g, 1);
  LLVMSetLinkage(g, LLVMPrivateLinkage);
  return g;
}

/* A private constant array of VitcMetadata for the graph's metadata; null when there is none. */
static LLVMValueRef cg_metadata(CgCtx *c, LLVMTypeRef mt) {
  const Graph *g = c->g;
  if (g->n_meta == 0) return LLVMConstNull(c->t_ptr);
  LLVMValueRef *elems = calloc((size_t)g->n_meta, sizeof *elems);
  if (!elems) return NULL;
  for (int i = 0; i < g->n_meta; i++) {
    LLVMValueRef f[2] = {cg_cstring(c, g->meta[i].key), cg_cstring(c, g->meta[i].value)};
    elems[i] = LLVMConstNamedStruct(mt, f, 2);
  }
  LLVMValueRef init = LLVMConstArray2(mt, elems, (uint64_t)g->n_meta);
  free(elems);
  LLVMValueRef gv = LLVMAddGlobal(c->mod, LLVMTypeOf(init), "vitc_metadata");
  LLVMSetInitializer(gv, init);
  LLVMSetGlobalConstant(gv, 1);
  LLVMSetLinkage(gv, LLVMPrivateLinkage);
  return gv;
}

/* A hidden constant global `name` initialized with init, for the runtime to read. */
static LLVMValueRef cg_hidden_const(CgCtx *c, const char *name, LLVMValueRef init) {
  LLVMValueRef g = LLVMAddGlobal(c->mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(g, init);
  LLVMSetGlobalConstant(g, 1);
  LLVMSetVisibility(g, LLVMHiddenVisibility);
  return g;
}

/* The hidden tables the runtime picks run functions from: `vitc_generated_variants`, {batch, run function,
 * target} per variant (per target, smallest batch first), and `vitc_generated_targets`, each target's
 * CPU features; with their counts. */
static void cg_variants_table(CgCtx *c) {
  LLVMTypeRef vt = LLVMStructTypeInContext(c->ctx, (LLVMTypeRef[]){c->t_i64, c->t_ptr, c->t_i32}, 3, 0);
  LLVMValueRef rows[CG_MAX_TARGETS * 16], feats[CG_MAX_TARGETS];
  int n = c->n_variants * c->n_targets;
  for (int i = 0; i < n; i++) {
    LLVMValueRef f[3] = {cg_i64(c, cg_graph_batch(c->variants[i % c->n_variants])), c->variant_fn[i], LLVMConstInt(c->t_i32, (unsigned)(i / c->n_variants), 0)};
    rows[i] = LLVMConstStructInContext(c->ctx, f, 3, 0);
  }
  for (int t = 0; t < c->n_targets; t++) feats[t] = cg_cstring(c, c->targets[t].features);
  cg_hidden_const(c, "vitc_generated_targets", LLVMConstArray2(c->t_ptr, feats, (uint64_t)c->n_targets));
  cg_hidden_const(c, "vitc_generated_n_targets", LLVMConstInt(c->t_i32, (unsigned)c->n_targets, 0));
  cg_hidden_const(c, "vitc_generated_variants", LLVMConstArray2(vt, rows, (uint64_t)n));
  cg_hidden_const(c, "vitc_generated_n_variants", LLVMConstInt(c->t_i32, (unsigned)n, 0));
}

int cg_profile_mark(CgCtx *c, const Node *n, Diag *d) {
  if (!c->prof_mark) {
    LLVMTypeRef params[2] = {c->t_ptr, c->t_i64};
    c->prof_mark = LLVMAddFunction(c->mod, "rt_profile_mark", LLVMFunctionType(c->t_void, params, 2, 0));
    LLVMSetVisibility(c->prof_mark, LLVMHiddenVisibility);
  }
  int64_t slot = -1;
  if (n) {
    if (c->n_prof == c->cap_prof) {
      int cap = c->cap_prof * 2 + 64;
      struct CgProfSlot *p = realloc(c->prof, (size_t)cap * sizeof *p);
      if (!p) return ir_error(d, c->g->file, NULL, "out of memory");
      c->prof = p, c->cap_prof = cap;
    }
    c->prof[c->n_prof] = (struct CgProfSlot){n, cg_graph_batch(c->g)};
    slot = c->n_prof++;
  }
  LLVMValueRef args[2] = {c->run_ctx, cg_i64(c, slot)};
  LLVMBuildCall2(c->rb, LLVMGlobalGetValueType(c->prof_mark), c->prof_mark, args, 2, "");
  return 0;
}

/* `vitc_generated_profile`: {name, op, batch, flops} per profile slot, and its count (0 without --profile). */
static void cg_profile_table(CgCtx *c) {
  LLVMTypeRef pt = LLVMStructTypeInContext(c->ctx, (LLVMTypeRef[]){c->t_ptr, c->t_ptr, c->t_i64,
                                           LLVMDoubleTypeInContext(c->ctx)}, 4, 0);
  LLVMValueRef *rows = calloc((size_t)(c->n_prof ? c->n_prof : 1), sizeof *rows);
  for (int i = 0; rows && i < c->n_prof; i++) {
    const Node *n = c->prof[i].node;
    LLVMValueRef f[4] = {cg_cstring(c, n->name), cg_cstring(c, ir_ops[n->op].name), cg_i64(c, c->prof[i].batch),
                         LLVMConstReal(LLVMDoubleTypeInContext(c->ctx), ir_node_flops(n))};
    rows[i] = LLVMConstStructInContext(c->ctx, f, 4, 0);
  }
  int n = rows ? c->n_prof : 0;
  cg_hidden_const(c, "vitc_generated_profile", LLVMConstArray2(pt, rows, (uint64_t)n));
  cg_hidden_const(c, "vitc_generated_n_profile", LLVMConstInt(c->t_i32, (unsigned)n, 0));
  free(rows);
}

/* A hidden constant C string named name (the prefix, which the runtime's descriptor points at). */
static LLVMValueRef cg_named_cstring(CgCtx *c, const char *name, const char *s) {
  return cg_hidden_const(c, name, LLVMConstStringInContext(c->ctx, s, (unsigned)strlen(s), 0));
}

/* Defines `vitc_generated_info` (hidden), laid out as VitcModelInfo, and `vitc_generated_prefix`. */
static int cg_info_global(CgCtx *c, Diag *d) {
  LLVMTypeRef ti = LLVMStructCreateNamed(c->ctx, "VitcTensorInfo");
  LLVMTypeRef ti_fields[4] = {c->t_ptr, c->t_i32, c->t_i32, LLVMArrayType2(c->t_i64, 8)};
  LLVMStructSetBody(ti, ti_fields, 4, 0);
  LLVMTypeRef mt = LLVMStructCreateNamed(c->ctx, "VitcMetadata");
  LLVMTypeRef mt_fields[2] = {c->t_ptr, c->t_ptr};
  LLVMStructSetBody(mt, mt_fields, 2, 0);
  LLVMTypeRef mi = LLVMStructCreateNamed(c->ctx, "VitcModelInfo");
  LLVMTypeRef mi_fields[14] = {c->t_i32, c->t_i32, c->t_i32, c->t_ptr, c->t_ptr, c->t_i64, c->t_i64,
                               c->t_i32, c->t_ptr, c->t_ptr, c->t_ptr, c->t_ptr, c->t_i32, c->t_i64};
  LLVMStructSetBody(mi, mi_fields, 14, 0);
  LLVMValueRef ins = cg_tensor_infos(c, ti, c->g->inputs, c->g->n_inputs, "vitc_inputs");
  LLVMValueRef outs = cg_tensor_infos(c, ti, c->g->outputs, c->g->n_outputs, "vitc_outputs");
  LLVMValueRef meta = cg_metadata(c, mt);
  if (!ins || !outs || !meta) return ir_error(d, c->g->file, NULL, "out of memory");
  LLVMValueRef prefix = cg_named_cstring(c, "vitc_generated_prefix", cg_prefix(c->opt));
  LLVMValueRef f[14] = {LLVMConstInt(c->t_i32, VITC_ABI_VERSION, 0), LLVMConstInt(c->t_i32, (unsigned)c->g->n_inputs, 0),
                        LLVMConstInt(c->t_i32, (unsigned)c->g->n_outputs, 0), ins, outs,
                        LLVMConstInt(c->t_i64, c->workspace_bytes, 0), LLVMConstInt(c->t_i64, c->blob.bytes, 0),
                        LLVMConstInt(c->t_i32, (unsigned)c->g->n_meta, 0), meta, prefix, cg_cstring(c, cg_target_list(c)),
                        cg_cstring(c, c->targets[c->base].features), LLVMConstInt(c->t_i32, (unsigned)c->dynamic_batch, 0),
                        LLVMConstInt(c->t_i64, (unsigned long long)c->opt->max_batch, 0)};
  LLVMValueRef g = LLVMAddGlobal(c->mod, mi, "vitc_generated_info");
  LLVMSetInitializer(g, LLVMConstNamedStruct(mi, f, 14));
  LLVMSetGlobalConstant(g, 1);
  LLVMSetVisibility(g, LLVMHiddenVisibility);
  return 0;
}

int64_t cg_graph_batch(const Graph *g) { return g->n_inputs && g->inputs[0]->t.rank ? g->inputs[0]->t.dims[0] : 1; }

const char *cg_prefix(const CompileOptions *o) { return o->prefix ? o->prefix : "vitc"; }

const char *cg_target_list(CgCtx *c) {
  size_t len = 0;
  c->target_list[0] = 0;
  for (int t = 0; t < c->n_targets; t++)
    len += (size_t)snprintf(c->target_list + len, sizeof c->target_list - len, "%s%s", t ? "," : "", c->targets[t].cpu);
  return c->target_list;
}

/* The exported entry points: PREFIX_NAME calls the runtime's rt_NAME. Types: v void, p pointer, i int32,
 * l int64 (size_t); the first letter is the result. */
static const struct { const char *name, *rt, *sig; } cg_entry_points[] = {
  {"model_info", "rt_model_info", "p"},
  {"session_create", "rt_session_create", "pip"},
  {"session_create_with", "rt_session_create_with", "ppp"},
  {"session_run", "rt_session_run", "ippp"},
  {"session_run_batch", "rt_session_run_batch", "iplpp"},
  {"session_destroy", "rt_session_destroy", "vp"},
  {"pool_create", "rt_vitc_pool_create", "pip"},
  {"pool_destroy", "rt_vitc_pool_destroy", "vp"},
  {"cpu_check", "rt_model_cpu_check", "ipl"},
  {"status_string", "rt_status_string", "pi"},
  {"session_profile", "rt_session_profile", "ippi"},
};

/* The LLVM type of signature letter ch. */
static LLVMTypeRef cg_sig_type(CgCtx *c, char ch) {
  return ch == 'v' ? c->t_void : ch == 'i' ? c->t_i32 : ch == 'l' ? c->t_i64 : c->t_ptr;
}

/* Defines PREFIX_NAME for every entry point (default visibility), each a tail call of its rt_ function. */
static void cg_entry_wrappers(CgCtx *c) {
  LLVMBuilderRef b = LLVMCreateBuilderInContext(c->ctx);
  for (size_t i = 0; i < sizeof cg_entry_points / sizeof cg_entry_points[0]; i++) {
    const char *sig = cg_entry_points[i].sig;
    LLVMTypeRef params[5];
    unsigned n = (unsigned)strlen(sig) - 1;
    for (unsigned k = 0; k < n; k++) params[k] = cg_sig_type(c, sig[k + 1]);
    LLVMTypeRef ft = LLVMFunctionType(cg_sig_type(c, sig[0]), params, n, 0);
    LLVMValueRef rt = LLVMAddFunction(c->mod, cg_entry_points[i].rt, ft);
    LLVMSetVisibility(rt, LLVMHiddenVisibility);
    char name[160];
    snprintf(name, sizeof name, "%s_%s", cg_prefix(c->opt), cg_entry_points[i].name);
    LLVMValueRef fn = LLVMAddFunction(c->mod, name, ft);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c->ctx, fn, "entry"));
    LLVMValueRef args[5];
    for (unsigned k = 0; k < n; k++) args[k] = LLVMGetParam(fn, k);
    LLVMValueRef r = LLVMBuildCall2(b, ft, rt, args, n, "");
    LLVMSetTailCall(r, 1);
    if (sig[0] == 'v') LLVMBuildRetVoid(b);
    else LLVMBuildRet(b, r);
  }
  LLVMDisposeBuilder(b);
}

char *cg_weights_asm(const CgCtx *c, const char *blob_path) {
  size_t n = blob_path ? strlen(blob_path) : 0, len = 0;
  char *s = malloc(2 * n + 512);
  if (!s) return NULL;
  len += (size_t)sprintf(s, ".pushsection .lrodata.vitc_weights,\"al\",@progbits\n.p2align 6\n.globl vitc_weights\n"
                            ".hidden vitc_weights\n.type vitc_weights,@object\nvitc_weights:\n");
  if (blob_path) {
    len += (size_t)sprintf(s + len, ".incbin \"");
    for (size_t i = 0; i < n; i++) {
      if (blob_path[i] == '"' || blob_path[i] == '\\') s[len++] = '\\';
      s[len++] = blob_path[i];
    }
    sprintf(s + len, "\"\n.size vitc_weights, %llu\n.popsection\n", (unsigned long long)c->blob.bytes);
  } else {
    sprintf(s + len, ".zero 64\n.size vitc_weights, 64\n.popsection\n");
  }
  return s;
}

int cg_module_end(CgCtx *c, int weights_asm, const char *blob_path, Diag *d) {
  if (cg_info_global(c, d)) return -1;
  cg_variants_table(c);
  cg_profile_table(c);
  cg_entry_wrappers(c);
  if (weights_asm) {
    char *text = cg_weights_asm(c, blob_path);
    if (!text) return ir_error(d, c->g->file, NULL, "out of memory");
    LLVMAppendModuleInlineAsm(c->mod, text, strlen(text));
    free(text);
  }
  char *msg = NULL;
  if (LLVMVerifyModule(c->mod, LLVMReturnStatusAction, &msg)) {
    char *nl = msg ? strchr(msg, '\n') : NULL;
    if (nl) *nl = 0;
    ir_error(d, c->g->file, NULL, "internal error: generated LLVM IR is invalid: %s", msg ? msg : "?");
    LLVMDisposeMessage(msg);
    return -1;
  }
  LLVMDisposeMessage(msg);
  return 0;
}
