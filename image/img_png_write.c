/* vitimg: writing a PNG safely: a temporary file in the target's folder, flushed, then renamed into place. */
#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img_internal.h"

/* What one write owns; it lives in vitimg_write_png's frame, outside the setjmp. */
typedef struct PngWrite {
  FILE *f;
  char msg[200];
  int io_errno; /* errno of a failed write, 0 when libpng itself failed */
} PngWrite;

/* libpng error callback: keeps the message and jumps back to png_emit. */
static void png_w_on_error(png_structp png, png_const_charp msg) {
  PngWrite *w = png_get_error_ptr(png);
  if (!w->msg[0])
    snprintf(w->msg, sizeof w->msg, "%s", msg ? msg : "unknown libpng error");
  png_longjmp(png, 1);
}

/* libpng warning callback: nothing to report. */
static void png_w_on_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg;
}

/* libpng write callback: a short write (disk full, file size limit) is an error with errno kept. */
static void png_w_on_write(png_structp png, png_bytep data, size_t len) {
  PngWrite *w = png_get_io_ptr(png);
  if (fwrite(data, 1, len, w->f) != len) {
    w->io_errno = errno ? errno : EIO;
    png_error(png, "write failed");
  }
}

/* libpng flush callback. */
static void png_w_on_flush(png_structp png) {
  PngWrite *w = png_get_io_ptr(png);
  if (fflush(w->f)) {
    w->io_errno = errno ? errno : EIO;
    png_error(png, "write failed");
  }
}

/* Encodes img into w->f; -1 after a libpng error or a failed write. */
static int png_emit(png_structp png, png_infop info, const VitimgU8 *img, PngWrite *w) {
  if (setjmp(png_jmpbuf(png)))
    return -1;
  png_set_write_fn(png, w, png_w_on_write, png_w_on_flush);
  png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
               img->channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  size_t stride = (size_t)img->width * (size_t)img->channels;
  for (int y = 0; y < img->height; y++)
    png_write_row(png, img->px + (size_t)y * stride);
  png_write_end(png, NULL);
  return 0;
}

/* Creates path.tmp-PID-N (O_EXCL, mode 0666 less the umask) beside path; the name goes to tmp. */
static FILE *img_open_temp(const char *path, char *tmp, size_t tmplen) {
  unsigned long seed = (unsigned long)getpid() * 2654435761ul ^ (unsigned long)time(NULL) ^ (unsigned long)clock();
  for (int attempt = 0; attempt < 100; attempt++) {
    seed = seed * 6364136223846793005ul + 1442695040888963407ul;
    int n = snprintf(tmp, tmplen, "%s.tmp-%ld-%08lx", path, (long)getpid(), (seed >> 32) & 0xfffffffful);
    if (n < 0 || (size_t)n >= tmplen) {
      errno = ENAMETOOLONG;
      return NULL;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      FILE *f = fdopen(fd, "wb");
      if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
      }
      return f;
    }
    if (errno != EEXIST)
      return NULL;
  }
  errno = EEXIST;
  return NULL;
}

static int img_write_png_to(const char *path, const char *shown, const VitimgU8 *img, char *err, size_t errlen);

/* The file to write for path: path itself, or what it links to (so a symlink is written through, not
 * replaced); NULL with err filled when path exists as something other than a regular file (a device, a
 * FIFO, a folder), which renaming over would destroy. *resolved is malloc'd when set. */
static const char *img_write_target(const char *path, char **resolved, char *err, size_t errlen) {
  struct stat st;
  *resolved = NULL;
  if (lstat(path, &st) != 0) return path; /* a new file */
  if (S_ISLNK(st.st_mode)) {
    if (stat(path, &st) != 0) return path; /* dangling: replaced like a new file */
    if (!(*resolved = realpath(path, NULL))) {
      img_fail(err, errlen, path, "cannot resolve the link: %s", strerror(errno));
      return NULL;
    }
  }
  if (!S_ISREG(st.st_mode)) {
    free(*resolved);
    *resolved = NULL;
    img_fail(err, errlen, path, "exists and is not a regular file; not replacing it");
    return NULL;
  }
  return *resolved ? *resolved : path;
}

/* Writes img as an 8-bit grey or RGB PNG at path, all or nothing. */
VITIMG_API int vitimg_write_png(const char *path, const VitimgU8 *img, char *err, size_t errlen) {
  if (!path)
    return img_fail(err, errlen, "(null)", "no path given");
  if (img_check_image(img))
    return img_fail(err, errlen, path, "not a valid image (size, channels 1 or 3, pixels)");
  char *resolved;
  const char *shown = path;
  if (!(path = img_write_target(path, &resolved, err, errlen))) return -1;
  int rc = img_write_png_to(path, shown, img, err, errlen);
  free(resolved);
  return rc;
}

/* vitimg_write_png to the file path (errors name `shown`, the path the caller gave). */
static int img_write_png_to(const char *path, const char *shown, const VitimgU8 *img, char *err, size_t errlen) {
  size_t tmplen = strlen(path) + 64;
  char *tmp = malloc(tmplen);
  if (!tmp)
    return img_fail(err, errlen, shown, "out of memory");
  PngWrite w = {0};
  w.f = img_open_temp(path, tmp, tmplen);
  if (!w.f) {
    img_fail(err, errlen, shown, "cannot create: %s", strerror(errno));
    free(tmp);
    return -1;
  }
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &w, png_w_on_error, png_w_on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  int rc = info ? png_emit(png, info, img, &w) : -1;
  png_destroy_write_struct(&png, &info);
  if (!png || !info)
    snprintf(w.msg, sizeof w.msg, "out of memory");
  if (!rc && (fflush(w.f) || fsync(fileno(w.f))))
    rc = -1, w.io_errno = errno ? errno : EIO;
  if (fclose(w.f) && !rc)
    rc = -1, w.io_errno = errno ? errno : EIO;
  if (!rc && rename(tmp, path))
    rc = -1, w.io_errno = errno ? errno : EIO;
  if (rc) {
    unlink(tmp);
    if (w.io_errno)
      img_fail(err, errlen, shown, "cannot write: %s", strerror(w.io_errno));
    else
      img_fail(err, errlen, shown, "cannot encode PNG (%s)", w.msg);
  }
  free(tmp);
  return rc;
}
