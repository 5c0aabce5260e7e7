/* A copy of a serialized ModelProto without its initializers' raw_data, and where those bytes are in the
 * original. protobuf-c copies every bytes field it unpacks, so unpacking a mapped model holds its weights
 * twice (the mapping and the copies); unpacking the stripped copy instead and pointing each initializer's
 * raw_data into the mapping holds them once.
 *
 * Only the path to the weights is walked (ONNX field numbers): ModelProto.graph (7) -> GraphProto.initializer
 * (5) -> TensorProto.raw_data (9). Everything else is copied byte for byte; each stripped raw_data stays as
 * an empty field, so the tensor still says its data is raw. Anything unexpected on that path (a group, a
 * truncated field, a second graph or raw_data, whose merge rules protobuf-c would apply) makes the caller
 * unpack the original instead, which then reports what is wrong as before. */
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_LEN = 2, WT_FIXED32 = 5 };
enum { MODEL_GRAPH = 7, GRAPH_INITIALIZER = 5, TENSOR_RAW_DATA = 9 };

/* A growing output buffer; err is set when it cannot grow. */
typedef struct Out {
  uint8_t *p;
  size_t n, cap;
  int err;
} Out;

static void out_put(Out *o, const void *src, size_t n) {
  if (o->err) return;
  if (o->n + n > o->cap) {
    size_t cap = o->cap ? o->cap : 4096;
    while (cap < o->n + n) cap *= 2;
    uint8_t *p = realloc(o->p, cap);
    if (!p) {
      o->err = 1;
      return;
    }
    o->p = p, o->cap = cap;
  }
  if (n) memcpy(o->p + o->n, src, n);
  o->n += n;
}

static void out_varint(Out *o, uint64_t v) {
  uint8_t b[10];
  int n = 0;
  do {
    b[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v);
  out_put(o, b, (size_t)n);
}

/* Reads a varint of at most max_bytes at *p (< end); -1 when truncated or longer. protobuf-c reads tags and
 * length prefixes of at most 5 bytes and values of at most 10: the same limits here, so nothing it would
 * refuse is re-encoded into something it accepts. */
static int read_varint(const uint8_t **p, const uint8_t *end, int max_bytes, uint64_t *v) {
  *v = 0;
  for (int i = 0; i < max_bytes && *p < end; i++) {
    uint8_t b = *(*p)++;
    *v |= (uint64_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) return 0;
  }
  return -1;
}

/* One field of a message in [p, end): its number, wire type, and its bytes from the tag on [*start, *next);
 * for a length-delimited field also the payload [*val, *next). -1 when malformed or a group. */
typedef struct Field {
  uint64_t num;
  int wt;
  const uint8_t *start, *val, *next;
} Field;

static int next_field(const uint8_t *p, const uint8_t *end, Field *f) {
  uint64_t tag, len;
  f->start = p;
  if (read_varint(&p, end, 5, &tag) || tag > UINT32_MAX) return -1;
  f->num = tag >> 3;
  f->wt = (int)(tag & 7);
  f->val = p;
  switch (f->wt) {
  case WT_VARINT:
    if (read_varint(&p, end, 10, &len)) return -1;
    break;
  case WT_FIXED64:
    if (end - p < 8) return -1;
    p += 8;
    break;
  case WT_FIXED32:
    if (end - p < 4) return -1;
    p += 4;
    break;
  case WT_LEN:
    if (read_varint(&p, end, 5, &len) || len > UINT32_MAX || len > (uint64_t)(end - p)) return -1;
    f->val = p;
    p += len;
    break;
  default:
    return -1;
  }
  f->next = p;
  return 0;
}

/* Appends a span; -1 when out of memory. */
static int span_push(OnnxRawSpans *s, const uint8_t *p, size_t len) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 64;
    OnnxRawSpan *v = realloc(s->v, cap * sizeof *v);
    if (!v) return -1;
    s->v = v, s->cap = cap;
  }
  s->v[s->n++] = (OnnxRawSpan){p, len};
  return 0;
}

/* Copies one TensorProto without its raw_data (an empty field in its place, the span appended to *s). */
static int strip_tensor(const uint8_t *p, const uint8_t *end, Out *o, OnnxRawSpans *s) {
  int seen = 0;
  for (Field f; p < end; p = f.next) {
    if (next_field(p, end, &f)) return -1;
    if (f.num != TENSOR_RAW_DATA || f.wt != WT_LEN) {
      out_put(o, f.start, (size_t)(f.next - f.start));
      continue;
    }
    if (seen++ || span_push(s, f.val, (size_t)(f.next - f.val))) return -1;
    out_varint(o, TENSOR_RAW_DATA << 3 | WT_LEN);
    out_varint(o, 0);
  }
  return seen ? 0 : span_push(s, NULL, 0); /* none: an empty span keeps spans and initializers in step */
}

/* Writes field num (length-delimited) whose payload is what strip(p, end) writes. */
static int put_stripped(Out *o, uint64_t num, const uint8_t *p, const uint8_t *end, OnnxRawSpans *s,
                        int (*strip)(const uint8_t *, const uint8_t *, Out *, OnnxRawSpans *)) {
  Out inner = {0};
  int rc = strip(p, end, &inner, s);
  if (!rc && !inner.err) {
    out_varint(o, num << 3 | WT_LEN);
    out_varint(o, inner.n);
    out_put(o, inner.p, inner.n);
  }
  free(inner.p);
  return rc || inner.err ? -1 : 0;
}

/* Copies one GraphProto, its initializers stripped. */
static int strip_graph(const uint8_t *p, const uint8_t *end, Out *o, OnnxRawSpans *s) {
  for (Field f; p < end; p = f.next) {
    if (next_field(p, end, &f)) return -1;
    if (f.num == GRAPH_INITIALIZER && f.wt == WT_LEN) {
      if (put_stripped(o, f.num, f.val, f.next, s, strip_tensor)) return -1;
    } else {
      out_put(o, f.start, (size_t)(f.next - f.start));
    }
  }
  return 0;
}

int onnx_strip_raw_data(const void *buf, size_t len, uint8_t **out, size_t *out_len, OnnxRawSpans *spans) {
  const uint8_t *p = buf, *end = p + len;
  Out o = {0};
  int graphs = 0, rc = 0;
  memset(spans, 0, sizeof *spans);
  for (Field f; p < end; p = f.next) {
    if (next_field(p, end, &f)) {
      rc = -1;
      break;
    }
    if (f.num == MODEL_GRAPH && f.wt == WT_LEN) rc = graphs++ ? -1 : put_stripped(&o, f.num, f.val, f.next, spans, strip_graph);
    else out_put(&o, f.start, (size_t)(f.next - f.start));
    if (rc) break;
  }
  if (rc || o.err || !graphs) {
    free(o.p);
    free(spans->v);
    memset(spans, 0, sizeof *spans);
    return -1;
  }
  *out = o.p;
  *out_len = o.n;
  return 0;
}
