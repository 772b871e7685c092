/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image_write.c - see image_write.h. The temporary file is removed on every failure path. */
#include "image_write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "png_encode.h"

/* The PNG is encoded in memory by the engine (io/png_encode.c), then written out. */
static ens_status write_png(FILE *fp, const char *path, const uint8_t *pixels, int w, int h, int c,
                            ens_error *err)
{
  uint8_t *png = NULL;
  size_t size = 0;
  ens_status st = ens_png_encode(pixels, w, h, c, path, &png, &size, err);
  if (st == ENS_OK && fwrite(png, 1, size, fp) != size)
    st = ens_fail(err, ENS_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
  free(png);
  return st;
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
