/* cg_blob: the model's weights (constants and their packed copies), streamed to a file as they are placed.
 * For a shared library or an object file the file is an x86-64 ELF relocatable object whose one section,
 * `.lrodata.vitc_weights` (SHF_X86_64_LARGE, 64-byte aligned, 2 MiB from CG_BLOB_HUGE_BYTES), defines the hidden symbol `vitc_weights`:
 * the linker puts large sections after everything else, so code and data stay within the 2 GiB reach of
 * the small code model however big the weights are (a .so over 2 GiB links). For `--emit asm` and
 * `--emit llvm` it is the raw bytes (OUT.weights, pulled in with `.incbin`). */
#ifndef VITC_CG_BLOB_H
#define VITC_CG_BLOB_H

#include "ir.h"
#include <stdint.h>

/* Weights of at least this size are aligned to 2 MiB in the file and in memory (the .so is linked with a
 * 2 MiB max page size), so the kernel can map them with huge pages (the runtime asks it to): fewer page
 * walks while a large model streams its weights (ViT-L/16: 1.5-2 % faster; ViT-B/16's 330 MB: no change).
 * The 2 MiB alignment pads the file by 4-8 MB (mostly holes on disk), so smaller models keep 64-byte
 * alignment and files of their own size. */
#define CG_BLOB_HUGE_BYTES ((uint64_t)512 << 20)
#define CG_BLOB_HUGE_ALIGN ((uint64_t)2 << 20)
/* Whether weights of that many bytes get the huge-page layout. */
static inline int cg_blob_huge(uint64_t bytes) { return bytes >= CG_BLOB_HUGE_BYTES; }

/* An ELF weights object holds the ELF header, then the section's bytes. */
#define CG_BLOB_ELF_BASE 64
/* The size of the stand-in weights section a shared library is first linked with (cg_blob_write_stub). */
#define CG_BLOB_STUB_BYTES 64

typedef struct CgBlobPiece {
  uint64_t offset, bytes, hash; /* hash: of the bytes, when pieces are shared */
} CgBlobPiece;

typedef struct CgBlob {
  int fd;            /* -1 when not open */
  const char *path;  /* not owned */
  int elf;           /* an ELF object (else raw bytes) */
  int dedup;         /* share identical pieces (the same weight packed alike for several variants or CPUs) */
  uint64_t base;     /* file offset of the weights' byte 0 */
  uint64_t bytes;    /* the weights' size so far */
  CgBlobPiece *pieces;
  int n_pieces, cap_pieces;
  int err;           /* errno of the first failure */
} CgBlob;

/* Creates path (truncating it) for the weights; elf: as an ELF object. */
int cg_blob_open(CgBlob *b, const char *path, int elf, int dedup, Diag *d);
/* Writes `bytes` bytes at the next 64-byte boundary (or finds an identical piece when dedup); the offset,
 * or -1 (cg_blob_error then says why). The caller keeps data. */
int64_t cg_blob_add(CgBlob *b, const void *data, uint64_t bytes);
/* Fills d with why the last cg_blob_add failed (file names the model, for "out of memory"). */
int cg_blob_error(const CgBlob *b, const char *file, Diag *d);
/* Finishes the file (the ELF tables and header) and closes it. */
int cg_blob_close(CgBlob *b, Diag *d);
/* Writes to path an ELF object like b's but whose weights are CG_BLOB_STUB_BYTES zeros (same alignment):
 * the shared library is linked with it and the weights attached afterwards (cg_attach_weights), so the
 * linker does not copy them. */
int cg_blob_write_stub(const CgBlob *b, const char *path, Diag *d);
/* pwrite of all n bytes of p at file offset off (in chunks of at most 1 GiB); 0, or -1 with errno set. */
int cg_pwrite_all(int fd, const void *p, uint64_t n, uint64_t off);
/* Closes the file if still open and frees the piece list (the caller removes the file). */
void cg_blob_free(CgBlob *b);

#endif
