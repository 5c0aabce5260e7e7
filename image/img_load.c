/* vitimg: reading an image file (PNG or JPEG by magic bytes) and the load-then-preprocess shortcut. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img_internal.h"

/* No image file vitimg accepts is larger than this (2^28 pixels of RGBA at no compression, plus headers). */
#define IMG_MAX_FILE_BYTES ((size_t)1 << 31)

/* Reads the whole regular file at path into *buf (malloc'd) and *n. Opened non-blocking, so a FIFO given by
 * mistake is refused instead of waited on. */
static int img_read_file(const char *path, unsigned char **buf, size_t *n, char *err, size_t errlen) {
  *buf = NULL;
  *n = 0;
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return img_fail(err, errlen, path, "cannot open: %s", strerror(errno));
  struct stat st;
  const char *what = NULL; /* what is wrong, or NULL */
  int e = 0;               /* or the errno of a failed fstat/read */
  if (fstat(fd, &st))
    e = errno;
  else if (S_ISDIR(st.st_mode))
    what = "is a folder, not an image";
  else if (!S_ISREG(st.st_mode))
    what = "not a regular file";
  else if (st.st_size == 0)
    what = "empty file";
  else if ((unsigned long long)st.st_size > IMG_MAX_FILE_BYTES)
    what = "file too large (over 2 GiB)";
  unsigned char *data = what || e ? NULL : malloc((size_t)st.st_size);
  if (!what && !e && !data)
    what = "out of memory";
  size_t got = 0;
  while (!what && !e && got < (size_t)st.st_size) {
    ssize_t r = read(fd, data + got, (size_t)st.st_size - got);
    if (r < 0 && errno != EINTR)
      e = errno;
    else if (r == 0)
      break; /* the file shrank: decode what there is (a decoder reports truncation) */
    else if (r > 0)
      got += (size_t)r;
  }
  close(fd);
  if (!what && !e && got == 0)
    what = "empty file";
  if (what || e) {
    free(data);
    return what ? img_fail(err, errlen, path, "%s", what) : img_fail(err, errlen, path, "cannot read: %s", strerror(e));
  }
  *buf = data;
  *n = got;
  return 0;
}

/* Loads a PNG or JPEG, chosen by the first bytes: 89 'PNG' 0D 0A 1A 0A or FF D8 FF. */
VITIMG_API int vitimg_load(const char *path, VitimgU8 *out, char *err, size_t errlen) {
  if (!out)
    return img_fail(err, errlen, path ? path : "(null)", "no output image given");
  memset(out, 0, sizeof *out);
  if (!path)
    return img_fail(err, errlen, "(null)", "no path given");
  unsigned char *buf;
  size_t n;
  if (img_read_file(path, &buf, &n, err, errlen))
    return -1;
  static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
  int rc;
  if (n >= 8 && !memcmp(buf, png_sig, 8))
    rc = img_png_decode(buf, n, path, out, err, errlen);
  else if (n >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff)
    rc = img_jpeg_decode(buf, n, path, out, err, errlen);
  else if (n < 8 && !memcmp(buf, png_sig, n))
    rc = img_fail(err, errlen, path, "truncated PNG data");
  else if (n < 3 && !memcmp(buf, "\xff\xd8\xff", n))
    rc = img_fail(err, errlen, path, "truncated JPEG data");
  else
    rc = img_fail(err, errlen, path, "not a PNG or JPEG image");
  free(buf);
  return rc;
}

/* Loads path and preprocesses it into out; preprocessing errors are reported against path too. */
VITIMG_API int vitimg_load_tensor(const char *path, const VitimgPrep *p, float *out, char *err, size_t errlen) {
  VitimgU8 img;
  if (vitimg_load(path, &img, err, errlen))
    return -1;
  int rc = img_preprocess_named(&img, p, out, path, err, errlen);
  vitimg_free(&img);
  return rc;
}
