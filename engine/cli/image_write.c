/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image_write.c - see image_write.h. libpng reports errors by longjmp; the temporary file is
 * removed on every failure path. */
#include "image_write.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

typedef struct {
  char message[200];
} png_failure;

static void on_png_error(png_structp png, png_const_charp msg)
{
  png_failure *f = png_get_error_ptr(png);
  snprintf(f->message, sizeof f->message, "%s", msg);
  png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
  (void)png;
  (void)msg;
}

/* 0 on success, else fills err. */
static ens_status write_png(FILE *fp, const char *path, const uint8_t *pixels, int w, int h, int c,
                            ens_error *err)
{
  png_failure failure = {{0}};
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, &failure, on_png_error, on_png_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!png || !info) {
    png_destroy_write_struct(&png, &info);
    return ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory for the PNG writer", path);
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return ens_fail(err, ENS_ERR_IO, "%s: cannot write PNG: %s", path, failure.message);
  }
  png_init_io(png, fp);
  png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8,
               c == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < h; y++)
    png_write_row(png, pixels + (size_t)y * (size_t)w * (size_t)c);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return ENS_OK;
}

static ens_status write_pnm(FILE *fp, const char *path, const uint8_t *pixels, int w, int h, int c,
                            ens_error *err)
{
  size_t n = (size_t)w * (size_t)h * (size_t)c;
  if (fprintf(fp, "P%c\n%d %d\n255\n", c == 1 ? '5' : '6', w, h) < 0 ||
      fwrite(pixels, 1, n, fp) != n)
    return ens_fail(err, ENS_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
  return ENS_OK;
}

ens_status ens_image_write(const char *path, ens_write_format fmt, const uint8_t *pixels, int w,
                           int h, int c, ens_error *err)
{
  if (w < 1 || h < 1 || (c != 1 && c != 3))
    return ens_fail(err, ENS_ERR_ARG, "%s: cannot write a %dx%dx%d picture", path, w, h, c);
  /* the temporary name: same directory, so rename() is atomic */
  size_t len = strlen(path);
  char *tmp = malloc(len + 16);
  if (!tmp)
    return ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", path);
  snprintf(tmp, len + 16, "%s.tmp.XXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    ens_status st =
        ens_fail(err, ENS_ERR_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
    free(tmp);
    return st;
  }
  /* mkstemp makes the file 0600; a picture to look at gets the usual 0666 & ~umask */
  mode_t mask = umask(0);
  umask(mask);
  (void)fchmod(fd, 0666 & ~mask); /* best effort: the picture is written either way */
  FILE *fp = fdopen(fd, "wb");
  if (!fp) {
    close(fd);
    unlink(tmp);
    free(tmp);
    return ens_fail(err, ENS_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
  }
  ens_status st = fmt == ENS_WRITE_PNG ? write_png(fp, path, pixels, w, h, c, err)
                                       : write_pnm(fp, path, pixels, w, h, c, err);
  if (fflush(fp) != 0 && st == ENS_OK)
    st = ens_fail(err, ENS_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
  if (fclose(fp) != 0 && st == ENS_OK)
    st = ens_fail(err, ENS_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
  if (st == ENS_OK && rename(tmp, path) != 0)
    st = ens_fail(err, ENS_ERR_IO, "%s: cannot rename the temporary file into place: %s", path,
                  strerror(errno));
  if (st != ENS_OK)
    unlink(tmp);
  free(tmp);
  return st;
}
