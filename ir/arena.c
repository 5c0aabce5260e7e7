/* Bump allocator: a graph's nodes, values, names and small constants live
 * here and are released together. */
#include "ir.h"
#include <stdlib.h>
#include <string.h>

struct ArenaBlock {
  ArenaBlock *next;
  size_t cap, used;
  _Alignas(64) unsigned char data[];
};

#define ARENA_BLOCK_MIN (64 * 1024)
#define ARENA_ALIGN 64

/* Returns `size` zeroed bytes aligned to 64, or NULL when out of memory. */
void *arena_alloc(Arena *a, size_t size) {
  size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  if (need == 0) need = ARENA_ALIGN;
  ArenaBlock *b = a->head;
  if (!b || b->cap - b->used < need) {
    size_t cap = need > ARENA_BLOCK_MIN ? need : ARENA_BLOCK_MIN;
    b = aligned_alloc(ARENA_ALIGN, (sizeof(ArenaBlock) + cap + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1));
    if (!b) return NULL;
    b->cap = cap;
    b->used = 0;
    /* Big one-off blocks go behind the head so the head keeps its free space. */
    if (a->head && need > ARENA_BLOCK_MIN) {
      b->next = a->head->next;
      a->head->next = b;
    } else {
      b->next = a->head;
      a->head = b;
    }
  }
  void *p = b->data + b->used;
  b->used += need;
  a->used_bytes += need;
  memset(p, 0, need);
  return p;
}

/* Copies a NUL-terminated string into the arena. */
char *arena_strdup(Arena *a, const char *s) {
  size_t n = strlen(s) + 1;
  char *p = arena_alloc(a, n);
  if (p) memcpy(p, s, n);
  return p;
}

int arena_release(Arena *a, const void *p) {
  for (ArenaBlock **at = &a->head; p && *at; at = &(*at)->next) {
    ArenaBlock *b = *at;
    if (b->cap <= ARENA_BLOCK_MIN || (const void *)b->data != p) continue;
    *at = b->next; /* a big block holds its one allocation and nothing else (it was full from the start) */
    a->used_bytes -= b->used;
    free(b);
    return 1;
  }
  return 0;
}

/* Frees every block. */
void arena_free_all(Arena *a) {
  ArenaBlock *b = a->head;
  while (b) {
    ArenaBlock *next = b->next;
    free(b);
    b = next;
  }
  a->head = NULL;
  a->used_bytes = 0;
}
