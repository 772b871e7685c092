/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* st_out.c - minimal float32 safetensors writer (st_out.h): an 8-byte little-endian header
 * length, the JSON header (name -> dtype, shape, data_offsets) padded with spaces to a
 * multiple of 8, then the tensors back to back. */
#include "st_out.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t numel(const ens_st_out_tensor *t)
{
  size_t n = 1;
  for (int d = 0; d < t->ndim; d++)
    n *= (size_t)t->shape[d];
  return n;
}

/* The JSON header, space-padded to a multiple of 8; NULL when out of memory. */
static char *header_json(const ens_st_out_tensor *t, int n, size_t *len)
{
  size_t cap = 64 + (size_t)n * (128 + ENS_ST_OUT_MAX_DIMS * 24), used = 0, offset = 0;
  char *h = malloc(cap);
  if (!h)
    return NULL;
  used += (size_t)snprintf(h + used, cap - used, "{\"__metadata__\":{\"format\":\"pt\"}");
  for (int i = 0; i < n; i++) {
    const size_t bytes = sizeof(float) * numel(&t[i]);
    used += (size_t)snprintf(h + used, cap - used, ",\"%.64s\":{\"dtype\":\"F32\",\"shape\":[",
                             t[i].name);
    for (int d = 0; d < t[i].ndim; d++)
      used += (size_t)snprintf(h + used, cap - used, d ? ",%" PRId64 : "%" PRId64, t[i].shape[d]);
    used += (size_t)snprintf(h + used, cap - used, "],\"data_offsets\":[%zu,%zu]}", offset,
                             offset + bytes);
    offset += bytes;
  }
  used += (size_t)snprintf(h + used, cap - used, "}");
  while (used % 8)
    h[used++] = ' ';
  *len = used;
  return h;
}

static int write_all(FILE *f, const ens_st_out_tensor *t, int n, const char *h, size_t hlen)
{
  uint8_t le[8];
  for (int i = 0; i < 8; i++)
    le[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
  if (fwrite(le, 1, 8, f) != 8 || fwrite(h, 1, hlen, f) != hlen)
    return 0;
  for (int i = 0; i < n; i++) {
    const size_t count = numel(&t[i]);
    if (count && fwrite(t[i].data, sizeof(float), count, f) != count)
      return 0;
  }
  return 1;
}

int ens_st_out_write_f32(const char *path, const ens_st_out_tensor *t, int n, char *errbuf,
                         size_t errlen)
{
  for (int i = 0; i < n; i++)
    if (t[i].ndim < 0 || t[i].ndim > ENS_ST_OUT_MAX_DIMS || strlen(t[i].name) > 64) {
      snprintf(errbuf, errlen, "%s: cannot write tensor %s", path, t[i].name);
      return -1;
    }
  size_t hlen;
  char *h = header_json(t, n, &hlen);
  char *tmp = malloc(strlen(path) + 16);
  if (!h || !tmp) {
    free(h);
    free(tmp);
    snprintf(errbuf, errlen, "%s: out of memory", path);
    return -1;
  }
  sprintf(tmp, "%s.tmpXXXXXX", path); /* same directory: rename stays atomic */
  const int fd = mkstemp(tmp);
  if (fd >= 0) { /* mkstemp makes it 0600: give it the mode fopen would */
    const mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
  }
  FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
  int ok = f != NULL, saved = errno;
  if (!f && fd >= 0)
    close(fd);
  if (ok) {
    ok = write_all(f, t, n, h, hlen);
    saved = errno;
    if (fclose(f) != 0 && ok) {
      ok = 0;
      saved = errno;
    }
    if (ok && rename(tmp, path) != 0) {
      ok = 0;
      saved = errno;
    }
    if (!ok)
      remove(tmp);
  }
  if (!ok)
    snprintf(errbuf, errlen, "%s: cannot write: %s", path, strerror(saved));
  free(h);
  free(tmp);
  return ok ? 0 : -1;
}
