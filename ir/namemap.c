/* A string-keyed hash map (open addressing, FNV-1a, power-of-two capacity):
 * value names to values, for the ONNX importer and the IR text parser. */
#include "ir.h"
#include <stdlib.h>
#include <string.h>

/* FNV-1a hash of a C string. */
static uint64_t hash_str(const char *s) {
  uint64_t h = IR_DIGEST_INIT; /* ir_fnv1a's loop, without a strlen pass first */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * IR_FNV1A_PRIME;
  return h;
}

/* Allocates an empty table with room for about `expected` keys. */
int name_map_init(NameMap *m, size_t expected) {
  size_t cap = 16;
  while (cap < expected * 2) cap *= 2;
  m->keys = calloc(cap, sizeof *m->keys);
  m->vals = calloc(cap, sizeof *m->vals);
  m->cap = cap;
  m->n = 0;
  if (!m->keys || !m->vals) {
    name_map_free(m);
    return -1;
  }
  return 0;
}

/* Slot holding `key`, or the empty slot where it would go. */
static size_t name_map_slot(const NameMap *m, const char *key) {
  size_t i = (size_t)hash_str(key) & (m->cap - 1);
  while (m->keys[i] && strcmp(m->keys[i], key) != 0) i = (i + 1) & (m->cap - 1);
  return i;
}

/* Looks a key up; NULL when absent. */
void *name_map_get(const NameMap *m, const char *key) {
  if (!m->cap) return NULL;
  size_t i = name_map_slot(m, key);
  return m->keys[i] ? m->vals[i] : NULL;
}

/* Doubles the table, re-inserting every key. */
static int name_map_grow(NameMap *m) {
  NameMap big;
  if (name_map_init(&big, m->cap) < 0) return -1;
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->keys[i]) continue;
    size_t j = name_map_slot(&big, m->keys[i]);
    big.keys[j] = m->keys[i];
    big.vals[j] = m->vals[i];
  }
  big.n = m->n;
  name_map_free(m);
  *m = big;
  return 0;
}

/* Inserts key -> val unless the key is present; see the header for results. */
int name_map_put(NameMap *m, const char *key, void *val) {
  if ((m->n + 1) * 2 > m->cap && name_map_grow(m) < 0) return -1;
  size_t i = name_map_slot(m, key);
  if (m->keys[i]) return 1;
  m->keys[i] = key;
  m->vals[i] = val;
  m->n++;
  return 0;
}

/* Frees the table (not the keys or values). */
void name_map_free(NameMap *m) {
  free(m->keys);
  free(m->vals);
  m->keys = NULL;
  m->vals = NULL;
  m->cap = m->n = 0;
}
