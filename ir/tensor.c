/* Data types and dense tensors. */
#include "ir.h"
#include <stdio.h>
#include <string.h>

/* One row per IR dtype: its spelling, byte size and ONNX TensorProto number. */
static const struct { const char *name; size_t size; int onnx; } dtypes[DT_COUNT] = {
  [DT_UNDEF] = {"undef", 0, 0},
  [DT_F32] = {"f32", 4, 1},
  [DT_I64] = {"i64", 8, 7},
  [DT_I32] = {"i32", 4, 6},
  [DT_BOOL] = {"bool", 1, 9},
};

const char *dt_name(DType t) { return t < DT_COUNT ? dtypes[t].name : "?"; }
size_t dt_size(DType t) { return t < DT_COUNT ? dtypes[t].size : 0; }
int dt_to_onnx(DType t) { return t < DT_COUNT ? dtypes[t].onnx : 0; }

DType dt_from_name(const char *s) {
  for (int t = DT_F32; t < DT_COUNT; t++)
    if (strcmp(dtypes[t].name, s) == 0) return (DType)t;
  return DT_UNDEF;
}

DType dt_from_onnx(int onnx_type) {
  for (int t = DT_F32; t < DT_COUNT; t++)
    if (dtypes[t].onnx == onnx_type) return (DType)t;
  return DT_UNDEF;
}

/* ONNX TensorProto.DataType names, for messages about types vitc rejects. */
const char *onnx_dtype_name(int onnx_type) {
  static const char *names[] = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32",
                                "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64",
                                "COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ",
                                "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4"};
  if (onnx_type >= 0 && onnx_type < (int)(sizeof names / sizeof names[0])) return names[onnx_type];
  return "UNKNOWN";
}

int64_t tensor_numel(const Tensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) n *= t->dims[i];
  return n;
}

size_t tensor_bytes(const Tensor *t) { return (size_t)tensor_numel(t) * dt_size(t->dtype); }

int tensor_size_checked(const Tensor *t, int64_t *numel, uint64_t *bytes) {
  int64_t n = 1;
  uint64_t b;
  for (int i = 0; i < t->rank; i++) {
    if (t->dims[i] < 0) return -1;
    if (__builtin_mul_overflow(n, t->dims[i], &n)) return -2;
  }
  if (__builtin_mul_overflow((uint64_t)n, (uint64_t)(dt_size(t->dtype) ? dt_size(t->dtype) : 1), &b) ||
      b > IR_MAX_TENSOR_BYTES)
    return -2;
  if (numel) *numel = n;
  if (bytes) *bytes = b;
  return 0;
}

int tensor_same_type(const Tensor *a, const Tensor *b) {
  if (a->dtype != b->dtype || a->rank != b->rank) return 0;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return 0;
  return 1;
}

/* Element i of an integer, bool or float tensor, as int64. */
int64_t tensor_get_i64(const Tensor *t, int64_t i) {
  switch (t->dtype) {
  case DT_I64: return ((const int64_t *)t->data)[i];
  case DT_I32: return ((const int32_t *)t->data)[i];
  case DT_BOOL: return ((const uint8_t *)t->data)[i];
  case DT_F32: return (int64_t)((const float *)t->data)[i];
  default: return 0;
  }
}

uint64_t ir_fnv1a(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * IR_FNV1A_PRIME;
  return h;
}

uint64_t tensor_digest(const Tensor *t) { return ir_fnv1a(IR_DIGEST_INIT, t->data, t->data ? tensor_bytes(t) : 0); }

char *tensor_type_str(const Tensor *t, char *buf, size_t n) {
  size_t len = (size_t)snprintf(buf, n, "%s[", dt_name(t->dtype));
  for (int i = 0; i < t->rank && len < n; i++)
    len += (size_t)snprintf(buf + len, n - len, i ? ",%lld" : "%lld", (long long)t->dims[i]);
  if (len < n) snprintf(buf + len, n - len, "]");
  return buf;
}
