/* Decoding ONNX TensorProto messages into vitc tensors, and the test-data
 * tensor file reader built on it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "ONNX raw_data is little-endian and is used in place");

/* IEEE half-precision bits to float (subnormals, infinities and NaNs included). */
float onnx_half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13); /* infinity, or NaN keeping its payload */
  } else if (exp != 0) {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  } else {
    float f = (float)man * 0x1p-24f; /* zero or subnormal: man * 2^-24, exact in float */
    return sign ? -f : f;
  }
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

/* Bytes per element of an ONNX dtype in raw_data, for the dtypes vitc reads. */
static size_t wire_size(int onnx_type) {
  switch (onnx_type) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return 8;
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: return 2;
  case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return 1;
  default: return 4; /* FLOAT, INT32 */
  }
}

/* Allocates n bytes (at least 1) where the sink says; NULL when out of memory. */
static void *sink_alloc(const TensorSink *sink, size_t n) {
  if (n == 0) n = 1;
  return sink->arena ? arena_alloc(sink->arena, n) : malloc(n);
}

/* Fills out->rank and out->dims from the proto (out->dtype is set); -1 on a bad or huge shape: the size
 * check is tensor_size_checked's, the one every stage uses (at most IR_MAX_TENSOR_BYTES). */
static int decode_shape(const Onnx__TensorProto *tp, Tensor *out, const char *file,
                        const char *what, Diag *d) {
  if (tp->n_dims > IR_MAX_RANK)
    return ir_error(d, file, NULL, "%s has rank %zu, vitc supports at most %d", what,
                    tp->n_dims, IR_MAX_RANK);
  for (size_t k = 0; k < tp->n_dims; k++) {
    int64_t dim = tp->dims[k];
    if (dim < 0) return ir_error(d, file, NULL, "%s has negative dim %lld", what, (long long)dim);
    out->dims[k] = dim;
  }
  out->rank = (int)tp->n_dims;
  if (tensor_size_checked(out, NULL, NULL))
    return ir_error(d, file, NULL, "%s is too large: over 2^40 bytes, the most vitc handles in one tensor", what);
  return 0;
}

/* Where a tensor's elements are in the message. */
typedef struct Source {
  const void *p;
  size_t bytes;  /* as the ONNX dtype counts them (wire_size per element) */
  int from_i32;  /* one element per int32_data entry (BOOL, FLOAT16) */
} Source;

/* Picks raw_data, or the typed field the dtype uses. */
static Source find_source(const Onnx__TensorProto *tp, int onnx_type) {
  Source s = {0};
  if (tp->has_raw_data) {
    s.p = tp->raw_data.data;
    s.bytes = tp->raw_data.len;
    return s;
  }
  switch (onnx_type) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
    s.p = tp->float_data;
    s.bytes = tp->n_float_data * sizeof(float);
    break;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
    s.p = tp->int64_data;
    s.bytes = tp->n_int64_data * sizeof(int64_t);
    break;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
    s.p = tp->int32_data;
    s.bytes = tp->n_int32_data * sizeof(int32_t);
    break;
  default: /* BOOL and FLOAT16 live in int32_data, one entry per element */
    s.p = tp->int32_data;
    s.bytes = tp->n_int32_data * wire_size(onnx_type);
    s.from_i32 = 1;
    break;
  }
  return s;
}

/* Converts elements that need it (FLOAT16 to f32, int32_data to bool bytes). */
static void convert_elements(const Source *s, int onnx_type, size_t numel, void *dst) {
  const int32_t *i32 = s->p;
  if (onnx_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16) {
    float *f = dst;
    for (size_t i = 0; i < numel; i++) {
      uint16_t h;
      if (s->from_i32) h = (uint16_t)i32[i];
      else memcpy(&h, (const unsigned char *)s->p + 2 * i, sizeof h);
      f[i] = onnx_half_to_float(h);
    }
  } else {
    uint8_t *b = dst;
    for (size_t i = 0; i < numel; i++) b[i] = i32[i] != 0;
  }
}

/* True when the tensor's data is in an external file (data_location EXTERNAL, or external_data entries). */
static int is_external(const Onnx__TensorProto *tp) {
  return (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
         tp->n_external_data;
}

/* True when the message itself carries data (raw_data or any typed field). */
static int has_inline_data(const Onnx__TensorProto *tp) {
  return tp->has_raw_data || tp->n_float_data || tp->n_int32_data || tp->n_int64_data || tp->n_double_data ||
         tp->n_uint64_data || tp->n_string_data;
}

/* Points out->data at the elements, in place when allowed, else a converted copy. External data is used in
 * place too, in its file's mapping (onnx_external.c), and copied under the same rules as raw_data. */
static int decode_data(const Onnx__TensorProto *tp, int onnx_type, const TensorSink *sink,
                       Tensor *out, const char *file, const char *what, Diag *d) {
  size_t numel = (size_t)tensor_numel(out); /* at most 2^40 bytes (decode_shape): need cannot overflow */
  size_t need = numel * wire_size(onnx_type);
  Source s = {0};
  if (is_external(tp)) {
    if (onnx_external_data(sink->external, tp, need, &s.p, what, d) < 0) return -1;
    s.bytes = need;
  } else {
    s = find_source(tp, onnx_type);
  }
  if (s.bytes != need)
    return ir_error(d, file, NULL, "%s has %zu bytes, shape needs %zu", what, s.bytes, need);
  int convert = onnx_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16 || s.from_i32;
  size_t align = dt_size(out->dtype);
  if (!convert && sink->borrow && s.p && (uintptr_t)s.p % align == 0) {
    out->data = (void *)s.p;
    return 0;
  }
  out->data = sink_alloc(sink, numel * dt_size(out->dtype));
  if (!out->data) return ir_error(d, file, NULL, "%s: out of memory", what);
  if (convert) convert_elements(&s, onnx_type, numel, out->data);
  else if (need) memcpy(out->data, s.p, need);
  onnx_release_pages(sink->mapped, s.p, need); /* a misaligned raw_data in the model's mapping: held once */
  return 0;
}

/* Decodes a TensorProto into *out; see onnx_internal.h. */
int onnx_decode_tensor(const Onnx__TensorProto *tp, const TensorSink *sink, Tensor *out,
                       const char *file, const char *what, Diag *d) {
  memset(out, 0, sizeof *out);
  if (is_external(tp) && !sink->external)
    return ir_error(d, file, NULL, "%s: external data is only read for a model's initializers and Constant values",
                    what);
  if (is_external(tp) && has_inline_data(tp))
    return ir_error(d, file, NULL, "%s: has both external data and data in the model", what);
  if (tp->segment) return ir_error(d, file, NULL, "%s: segmented tensors are not supported", what);
  int onnx_type = tp->has_data_type ? tp->data_type : 0;
  DType dt = onnx_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16 ? DT_F32 : dt_from_onnx(onnx_type);
  if (dt == DT_UNDEF) {
    d->unsupported_dtype = 1;
    ir_error(d, file, NULL, "%s: unsupported dtype %s", what, onnx_dtype_name(onnx_type));
    return ONNX_UNSUPPORTED_DTYPE;
  }
  out->dtype = dt;
  if (decode_shape(tp, out, file, what, d) < 0) return -1;
  return decode_data(tp, onnx_type, sink, out, file, what, d);
}

/* Reads a serialized TensorProto file; see onnx_import.h. */
int onnx_read_tensor_file(const char *path, Tensor *out, char **name, Diag *d) {
  memset(out, 0, sizeof *out);
  if (name) *name = NULL;
  Onnx__TensorProto *tp =
      (Onnx__TensorProto *)onnx_unpack_file(path, &onnx__tensor_proto__descriptor, "TensorProto", d);
  if (!tp) return -1;
  char what[300];
  if (tp->name && *tp->name) snprintf(what, sizeof what, "tensor '%.256s'", tp->name);
  else snprintf(what, sizeof what, "tensor");
  TensorSink sink = {NULL, 0, NULL, NULL};
  int rc = onnx_decode_tensor(tp, &sink, out, path, what, d);
  if (rc == 0 && name && tp->name && *tp->name && !(*name = strdup(tp->name))) {
    free(out->data);
    memset(out, 0, sizeof *out);
    rc = ir_error(d, path, NULL, "out of memory");
  }
  if (rc != 0) memset(out, 0, sizeof *out);
  onnx__tensor_proto__free_unpacked(tp, NULL);
  return rc;
}
