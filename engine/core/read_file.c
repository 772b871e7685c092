/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* read_file.c - see read_file.h. Reads with stdio in growing chunks, so pipes and files whose
 * size stat gets wrong work too. */
#include "read_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

ens_status ens_read_file(const char *path, size_t max_bytes, ens_status too_big, const char *kind,
                         char **data, size_t *len, ens_error *err)
{
  *data = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f)
    return ens_fail(err, ENS_ERR_IO, "cannot open %s '%s': %s", kind, path, strerror(errno));
  char *buf = NULL;
  size_t n = 0, cap = 0;
  ens_status s = ENS_OK;
  for (;;) {
    if (n == cap) {
      if (cap >= max_bytes) {
        s = ens_fail(err, too_big, "%s '%s' is larger than %zu bytes, the limit", kind, path,
                     max_bytes);
        break;
      }
      size_t ncap = cap ? cap * 2 : 65536;
      char *nb = realloc(buf, ncap + 1);
      if (!nb) {
        s = ens_fail(err, ENS_ERR_NOMEM, "out of memory reading %s '%s' (%zu bytes)", kind, path,
                     ncap + 1);
        break;
      }
      buf = nb;
      cap = ncap;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) {
      if (ferror(f))
        s = ens_fail(err, ENS_ERR_IO, "cannot read %s '%s': %s", kind, path, strerror(errno));
      break;
    }
  }
  fclose(f);
  if (s != ENS_OK) {
    free(buf);
    return s;
  }
  *data = buf;
  *len = n;
  return ENS_OK;
}
