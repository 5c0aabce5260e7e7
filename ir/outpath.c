/* Where an output file goes. Every writer writes a temporary file beside the
 * target and renames it into place (nothing half-written is ever left), which
 * would replace a symbolic link or destroy a device node or FIFO at the path:
 * so a link is followed to the file it names, and an existing path that is
 * not a regular file is refused. */
#include "ir.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *ir_output_path(const char *path, Diag *d) {
  struct stat st;
  char *r = NULL;
  if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && stat(path, &st) == 0 && !(r = realpath(path, NULL))) {
    ir_error(d, path, NULL, "cannot resolve the link: %s", strerror(errno));
    return NULL;
  }
  if (!r && lstat(path, &st) != 0) st.st_mode = S_IFREG; /* a new file (or a dangling link, replaced) */
  if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
    free(r);
    ir_error(d, path, NULL, "exists and is not a regular file; not replacing it");
    return NULL;
  }
  if (!r && !(r = strdup(path))) ir_error(d, NULL, NULL, "out of memory");
  return r;
}

int ir_same_file(const char *a, const char *b) {
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
