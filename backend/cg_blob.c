/* The weights blob, written to its file as the emitters produce it (cg_blob.h). Nothing is kept in memory
 * but the offsets and hashes of the pieces, so a model's packed weights are never all in memory at once. */
#include "cg_blob.h"
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SHF_X86_64_LARGE
#define SHF_X86_64_LARGE 0x10000000 /* x86-64 psABI: a section the linker places beyond the 2 GiB code model */
#endif

enum { CG_BLOB_ALIGN = 64 };

int cg_pwrite_all(int fd, const void *p, uint64_t n, uint64_t off) {
  const char *s = p;
  while (n) {
    size_t chunk = n > (1u << 30) ? (1u << 30) : (size_t)n;
    ssize_t w = pwrite(fd, s, chunk, (off_t)off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (w == 0) errno = EIO;
      return -1;
    }
    s += w, off += (uint64_t)w, n -= (uint64_t)w;
  }
  return 0;
}

/* Whether the n bytes at blob offset off equal data (read back from the file). */
static int cg_blob_equal(CgBlob *b, uint64_t off, const void *data, uint64_t n) {
  char buf[1 << 16];
  const char *p = data;
  for (uint64_t at = 0; at < n;) {
    size_t chunk = n - at < sizeof buf ? (size_t)(n - at) : sizeof buf;
    ssize_t r = pread(b->fd, buf, chunk, (off_t)(b->base + off + at));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0 || memcmp(buf, p + at, (size_t)r) != 0) return 0;
    at += (uint64_t)r;
  }
  return 1;
}

int cg_blob_open(CgBlob *b, const char *path, int elf, int dedup, Diag *d) {
  memset(b, 0, sizeof *b);
  b->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (b->fd < 0) return ir_error(d, path, NULL, "cannot create the weights file: %s", strerror(errno));
  b->path = path, b->elf = elf, b->dedup = dedup;
  b->base = elf ? CG_BLOB_ELF_BASE : 0;
  return 0;
}

int64_t cg_blob_add(CgBlob *b, const void *data, uint64_t bytes) {
  uint64_t hash = b->dedup ? ir_fnv1a(IR_DIGEST_INIT, data, (size_t)bytes) : 0;
  for (int i = 0; b->dedup && i < b->n_pieces; i++) {
    const CgBlobPiece *p = &b->pieces[i];
    if (p->bytes == bytes && p->hash == hash && cg_blob_equal(b, p->offset, data, bytes)) return (int64_t)p->offset;
  }
  if (b->n_pieces == b->cap_pieces) {
    int cap = b->cap_pieces * 2 + 16;
    CgBlobPiece *p = realloc(b->pieces, (size_t)cap * sizeof *p);
    if (!p) return b->err = ENOMEM, -1;
    b->pieces = p, b->cap_pieces = cap;
  }
  uint64_t off = (b->bytes + CG_BLOB_ALIGN - 1) & ~(uint64_t)(CG_BLOB_ALIGN - 1); /* the gap reads as zeros */
  if (bytes && cg_pwrite_all(b->fd, data, bytes, b->base + off)) return b->err = errno, -1;
  b->pieces[b->n_pieces++] = (CgBlobPiece){off, bytes, hash};
  b->bytes = off + bytes;
  return (int64_t)off;
}

int cg_blob_error(const CgBlob *b, const char *file, Diag *d) {
  if (b->err == ENOMEM) return ir_error(d, file, NULL, "out of memory");
  return ir_error(d, b->path, NULL, "cannot write the weights: %s", strerror(b->err));
}

/* The section, symbol and string tables after a weights section of `size` bytes (already written at
 * CG_BLOB_ELF_BASE), then the ELF header: an x86-64 relocatable object defining vitc_weights. */
static int cg_elf_object_tables(int fd, uint64_t size, uint64_t align) {
  static const char shstrtab[] = "\0.lrodata.vitc_weights\0.symtab\0.strtab\0.shstrtab\0.note.GNU-stack";
  static const char strtab[] = "\0vitc_weights";
  enum { SH_WEIGHTS = 1, SH_SYMTAB, SH_STRTAB, SH_SHSTRTAB, SH_NOTE_STACK, SH_COUNT };
  uint64_t symtab = (CG_BLOB_ELF_BASE + size + 7) & ~7ull;
  Elf64_Sym syms[2] = {{0},
                       {.st_name = 1,
                        .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT),
                        .st_other = STV_HIDDEN,
                        .st_shndx = SH_WEIGHTS,
                        .st_size = size}};
  uint64_t str = symtab + sizeof syms, shstr = str + sizeof strtab;
  uint64_t shoff = (shstr + sizeof shstrtab + 7) & ~7ull;
  Elf64_Shdr sh[SH_COUNT] = {{0}};
  sh[SH_WEIGHTS] = (Elf64_Shdr){.sh_name = 1, .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_X86_64_LARGE,
                                .sh_offset = CG_BLOB_ELF_BASE, .sh_size = size, .sh_addralign = align};
  sh[SH_SYMTAB] = (Elf64_Shdr){.sh_name = 23, .sh_type = SHT_SYMTAB, .sh_offset = symtab, .sh_size = sizeof syms,
                               .sh_link = SH_STRTAB, .sh_info = 1 /* first global */, .sh_addralign = 8,
                               .sh_entsize = sizeof(Elf64_Sym)};
  sh[SH_STRTAB] = (Elf64_Shdr){.sh_name = 31, .sh_type = SHT_STRTAB, .sh_offset = str, .sh_size = sizeof strtab,
                               .sh_addralign = 1};
  sh[SH_SHSTRTAB] = (Elf64_Shdr){.sh_name = 39, .sh_type = SHT_STRTAB, .sh_offset = shstr,
                                 .sh_size = sizeof shstrtab, .sh_addralign = 1};
  /* no executable stack wanted (else `cc -r` marks the joined object as needing one) */
  sh[SH_NOTE_STACK] = (Elf64_Shdr){.sh_name = 49, .sh_type = SHT_PROGBITS, .sh_offset = shstr, .sh_addralign = 1};
  Elf64_Ehdr eh = {.e_type = ET_REL, .e_machine = EM_X86_64, .e_version = EV_CURRENT, .e_shoff = shoff,
                   .e_ehsize = sizeof eh, .e_shentsize = sizeof(Elf64_Shdr), .e_shnum = SH_COUNT,
                   .e_shstrndx = SH_SHSTRTAB};
  memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64, eh.e_ident[EI_DATA] = ELFDATA2LSB, eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
  return cg_pwrite_all(fd, syms, sizeof syms, symtab) || cg_pwrite_all(fd, strtab, sizeof strtab, str) ||
                 cg_pwrite_all(fd, shstrtab, sizeof shstrtab, shstr) || cg_pwrite_all(fd, sh, sizeof sh, shoff) ||
                 cg_pwrite_all(fd, &eh, sizeof eh, 0)
             ? -1
             : 0;
}

/* The weights section's alignment for weights of that many bytes. */
static uint64_t cg_blob_align(uint64_t bytes) { return cg_blob_huge(bytes) ? CG_BLOB_HUGE_ALIGN : CG_BLOB_ALIGN; }

/* Pads the weights to CG_BLOB_STUB_BYTES (never an empty symbol) and writes the object's tables. */
static int cg_blob_write_elf(CgBlob *b) {
  static const char zeros[CG_BLOB_STUB_BYTES];
  uint64_t size = b->bytes < sizeof zeros ? sizeof zeros : b->bytes;
  if (b->bytes < size && cg_pwrite_all(b->fd, zeros, size - b->bytes, b->base + b->bytes)) return -1;
  return cg_elf_object_tables(b->fd, size, cg_blob_align(b->bytes));
}

int cg_blob_write_stub(const CgBlob *b, const char *path, Diag *d) {
  static const char zeros[CG_BLOB_STUB_BYTES];
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ir_error(d, path, NULL, "cannot create the weights stub: %s", strerror(errno));
  int rc = cg_pwrite_all(fd, zeros, sizeof zeros, CG_BLOB_ELF_BASE) ||
           cg_elf_object_tables(fd, sizeof zeros, cg_blob_align(b->bytes));
  int err = errno;
  if (close(fd) != 0 && !rc) rc = -1, err = errno;
  return rc ? ir_error(d, path, NULL, "cannot write the weights stub: %s", strerror(err)) : 0;
}

int cg_blob_close(CgBlob *b, Diag *d) {
  int rc = b->elf ? cg_blob_write_elf(b) : 0;
  if (rc) b->err = errno;
  if (close(b->fd) != 0 && !rc) rc = -1, b->err = errno;
  b->fd = -1;
  return rc ? cg_blob_error(b, NULL, d) : 0;
}

void cg_blob_free(CgBlob *b) {
  if (b->fd >= 0 && b->path) close(b->fd);
  free(b->pieces);
  memset(b, 0, sizeof *b);
  b->fd = -1;
}
