/* Attaching the weights to a shared library linked with the stand-in weights object (cg_blob_write_stub).
 *
 * Copying hundreds of megabytes through the linker was most of a large model's compile time (ViT-B/16:
 * ld.bfd took 1.5-2.3 s of about 7 s for its 346 MB). The linker instead gets a weights section of
 * CG_BLOB_STUB_BYTES and, as with the real one, places it last in the address space in a read-only
 * PT_LOAD segment of its own. This file then moves that segment to the end of the file, copies the
 * weights there from the weights object (copy_file_range: inside the kernel, or shared blocks where the
 * file system can), and grows the segment, the section and the symbol to the weights' size. Every
 * assumption about the layout is checked first; when one does not hold nothing is changed and the caller
 * links the whole weights object as before. */
/* copy_file_range: _GNU_SOURCE, which the build defines */
#include "cg_ctx.h"
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ATTACH_MAX_HEADERS 4096     /* program or section headers: more means this is not ld's small .so */
#define ATTACH_MAX_TABLE (64 << 20) /* bytes of .symtab or its strings read to find vitc_weights */

/* What the linked library looks like: its headers and the weights' place in them. */
typedef struct SoLayout {
  int fd;
  Elf64_Ehdr eh;
  Elf64_Phdr *ph;
  Elf64_Shdr *sh;
  int seg, sec;       /* the PT_LOAD and the section holding the stand-in */
  uint64_t sym_at;    /* file offset of vitc_weights' Elf64_Sym */
  Elf64_Sym sym;
} SoLayout;

/* pread of exactly n bytes; 0 or -1 with errno set. */
static int read_at(int fd, void *p, uint64_t n, uint64_t off) {
  for (char *s = p; n;) {
    ssize_t r = pread(fd, s, n, (off_t)off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return r == 0 ? (errno = EIO, -1) : -1;
    s += r, off += (uint64_t)r, n -= (uint64_t)r;
  }
  return 0;
}

/* A malloc'd copy of n bytes at off; NULL (errno set) when it cannot be read. */
static void *read_table(int fd, uint64_t off, uint64_t n) {
  void *p = n <= ATTACH_MAX_TABLE ? malloc(n ? n : 1) : NULL;
  if (!p) errno = ENOMEM;
  if (p && read_at(fd, p, n, off)) free(p), p = NULL;
  return p;
}

/* Copies n bytes from in at in_off to out at out_off: copy_file_range, else through a buffer. */
static int copy_range(int in, uint64_t in_off, int out, uint64_t out_off, uint64_t n) {
  while (n) {
    loff_t a = (loff_t)in_off, b = (loff_t)out_off;
    ssize_t w = copy_file_range(in, &a, out, &b, n > (1u << 30) ? (1u << 30) : (size_t)n, 0);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break; /* not supported here (or the input ended): the plain copy says which */
    in_off += (uint64_t)w, out_off += (uint64_t)w, n -= (uint64_t)w;
  }
  size_t cap = 1 << 20;
  char *buf = n ? malloc(cap) : NULL;
  if (n && !buf) return errno = ENOMEM, -1;
  while (n) {
    size_t chunk = n < cap ? (size_t)n : cap;
    if (read_at(in, buf, chunk, in_off) || cg_pwrite_all(out, buf, chunk, out_off)) break;
    in_off += chunk, out_off += chunk, n -= chunk;
  }
  int err = errno;
  free(buf);
  return n ? (errno = err, -1) : 0;
}

/* Finds vitc_weights in .symtab: the stand-in's size, its value and where its entry is. NULL or why not. */
static const char *find_symbol(SoLayout *l) {
  static const char name[] = "vitc_weights";
  for (int i = 0; i < l->eh.e_shnum; i++) {
    const Elf64_Shdr *st = &l->sh[i];
    if (st->sh_type != SHT_SYMTAB || st->sh_entsize != sizeof(Elf64_Sym) || st->sh_link >= l->eh.e_shnum) continue;
    const Elf64_Shdr *ss = &l->sh[st->sh_link];
    Elf64_Sym *syms = read_table(l->fd, st->sh_offset, st->sh_size);
    char *str = syms ? read_table(l->fd, ss->sh_offset, ss->sh_size) : NULL;
    int found = -1;
    for (uint64_t k = 0; str && k < st->sh_size / sizeof *syms && found < 0; k++)
      if (syms[k].st_name < ss->sh_size && ss->sh_size - syms[k].st_name >= sizeof name &&
          memcmp(str + syms[k].st_name, name, sizeof name) == 0) /* with its terminating 0 */
        found = (int)k, l->sym = syms[k], l->sym_at = st->sh_offset + k * sizeof *syms;
    free(syms), free(str);
    if (found >= 0) return l->sym.st_size == CG_BLOB_STUB_BYTES ? NULL : "vitc_weights is not the stand-in";
  }
  return "no vitc_weights in .symtab";
}

/* Reads the headers and checks that the stand-in ends the last PT_LOAD, alone with what precedes it in
 * that segment, and ends the last allocated section. NULL, or why the weights cannot be attached. */
static const char *check_layout(SoLayout *l) {
  const Elf64_Ehdr *e = &l->eh;
  if (memcmp(e->e_ident, ELFMAG, SELFMAG) || e->e_ident[EI_CLASS] != ELFCLASS64 || e->e_ident[EI_DATA] != ELFDATA2LSB ||
      e->e_type != ET_DYN || e->e_machine != EM_X86_64)
    return "not an x86-64 ELF shared library";
  if (e->e_phentsize != sizeof(Elf64_Phdr) || e->e_shentsize != sizeof(Elf64_Shdr) || !e->e_phnum ||
      e->e_phnum > ATTACH_MAX_HEADERS || !e->e_shnum || e->e_shnum > ATTACH_MAX_HEADERS)
    return "unexpected header tables";
  if (!(l->ph = read_table(l->fd, e->e_phoff, (uint64_t)e->e_phnum * sizeof *l->ph)) ||
      !(l->sh = read_table(l->fd, e->e_shoff, (uint64_t)e->e_shnum * sizeof *l->sh)))
    return "cannot read the header tables";
  const char *why = find_symbol(l);
  if (why) return why;
  uint64_t w = l->sym.st_value, end = w + CG_BLOB_STUB_BYTES;
  l->seg = l->sec = -1;
  for (int i = 0; i < e->e_phnum; i++) {
    const Elf64_Phdr *p = &l->ph[i];
    if (p->p_type == PT_LOAD && p->p_vaddr <= w && w < p->p_vaddr + p->p_memsz) l->seg = i;
  }
  if (l->seg < 0) return "vitc_weights is in no PT_LOAD segment";
  const Elf64_Phdr *s = &l->ph[l->seg];
  if (s->p_vaddr + s->p_memsz != end || s->p_filesz != s->p_memsz || s->p_flags & PF_W ||
      !s->p_align || s->p_align & (s->p_align - 1) || s->p_offset % s->p_align != s->p_vaddr % s->p_align)
    return "the stand-in does not end a read-only segment of its own";
  for (int i = 0; i < e->e_phnum; i++) /* nothing else at or above that segment */
    if (i != l->seg && l->ph[i].p_memsz && l->ph[i].p_vaddr + l->ph[i].p_memsz > s->p_vaddr) return "a segment follows the stand-in";
  for (int i = 0; i < e->e_shnum; i++) {
    const Elf64_Shdr *h = &l->sh[i];
    if (!(h->sh_flags & SHF_ALLOC) || !h->sh_size) continue;
    if (h->sh_addr <= w && w < h->sh_addr + h->sh_size) l->sec = i;
    else if (h->sh_addr + h->sh_size > w) return "a section follows the stand-in";
  }
  if (l->sec < 0) return "vitc_weights is in no section";
  const Elf64_Shdr *h = &l->sh[l->sec];
  if (h->sh_type != SHT_PROGBITS || h->sh_addr + h->sh_size != end || h->sh_addr < s->p_vaddr ||
      h->sh_offset - h->sh_addr != s->p_offset - s->p_vaddr)
    return "the stand-in's section is not where its segment says";
  return NULL;
}

int cg_attach_weights(const char *so, const char *weights, uint64_t bytes, char *why, size_t why_len, Diag *d) {
  SoLayout l = {.fd = open(so, O_RDWR | O_CLOEXEC)};
  int in = -1, rc = -1;
  const char *no = NULL;
  struct stat st;
  if (l.fd < 0 || fstat(l.fd, &st) || read_at(l.fd, &l.eh, sizeof l.eh, 0)) goto io;
  if ((no = check_layout(&l))) {
    snprintf(why, why_len, "%s", no);
    rc = 1;
    goto done;
  }
  Elf64_Phdr *s = &l.ph[l.seg];
  Elf64_Shdr *h = &l.sh[l.sec];
  uint64_t head = l.sym.st_value - s->p_vaddr; /* the segment's bytes before the weights, kept */
  uint64_t at = ((uint64_t)st.st_size + s->p_align - 1) / s->p_align * s->p_align + s->p_vaddr % s->p_align;
  char *kept = read_table(l.fd, s->p_offset, head);
  int zeros = 1; /* padding before 2 MiB-aligned weights: left as a hole */
  for (uint64_t i = 0; kept && i < head && zeros; i++) zeros = !kept[i];
  int bad = !kept || (!zeros && cg_pwrite_all(l.fd, kept, head, at));
  free(kept);
  if (bad || (in = open(weights, O_RDONLY | O_CLOEXEC)) < 0 ||
      copy_range(in, CG_BLOB_ELF_BASE, l.fd, at + head, bytes))
    goto io;
  s->p_offset = at, s->p_filesz = s->p_memsz = head + bytes;
  h->sh_offset = at + (h->sh_addr - s->p_vaddr), h->sh_size = l.sym.st_value + bytes - h->sh_addr;
  l.sym.st_size = bytes;
  if (cg_pwrite_all(l.fd, l.ph, (uint64_t)l.eh.e_phnum * sizeof *l.ph, l.eh.e_phoff) ||
      cg_pwrite_all(l.fd, l.sh, (uint64_t)l.eh.e_shnum * sizeof *l.sh, l.eh.e_shoff) ||
      cg_pwrite_all(l.fd, &l.sym, sizeof l.sym, l.sym_at))
    goto io;
  rc = 0;
  goto done;
io:
  ir_error(d, so, NULL, "cannot attach the weights: %s", strerror(errno));
done:
  if (in >= 0) close(in);
  if (l.fd >= 0 && close(l.fd) != 0 && rc == 0) rc = ir_error(d, so, NULL, "cannot attach the weights: %s", strerror(errno));
  free(l.ph), free(l.sh);
  return rc;
}
