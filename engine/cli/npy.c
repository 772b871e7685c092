/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* npy.c - see npy.h. */
#include "npy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* numpy.lib.format: header + magic aligned to 64 bytes; 21 spare characters minus the width
 * of shape[0] so the array can be grown in place (numpy >= 1.23 writes this). */
#define NPY_ALIGN 64
#define NPY_GROWTH_DIGITS 21
#define NPY_PREAMBLE 10 /* magic (6) + version (2) + u16 header length */

/* Data is written straight from memory as '<f4'. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c writes host floats as little-endian"
#endif

/* Builds the unpadded dict text; returns its length, or -1 if it does not fit. */
static int npy_dict(char *buf, size_t cap, const int64_t *shape, int ndim)
{
  char tuple[ENS_NPY_MAX_DIMS * 24 + 4];
  size_t t = 0;
  tuple[t++] = '(';
  for (int i = 0; i < ndim; i++)
    t += (size_t)snprintf(tuple + t, sizeof tuple - t, i ? ", %" PRId64 : "%" PRId64, shape[i]);
  if (ndim == 1)
    tuple[t++] = ',';
  tuple[t++] = ')';
  tuple[t] = '\0';

  int n = snprintf(buf, cap, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", tuple);
  if (n < 0 || (size_t)n >= cap)
    return -1;
  if (ndim > 0) {
    char first[24];
    int w = snprintf(first, sizeof first, "%" PRId64, shape[0]);
    for (int i = w; i < NPY_GROWTH_DIGITS && (size_t)n + 1 < cap; i++)
      buf[n++] = ' ';
    buf[n] = '\0';
  }
  return n;
}

int ens_npy_write_f32(FILE *f, const char *path, const float *data, const int64_t *shape, int ndim,
                      char *errbuf, size_t errlen)
{
  if (ndim < 0 || ndim > ENS_NPY_MAX_DIMS) {
    snprintf(errbuf, errlen, "%s: cannot write a %d-dimensional array", path, ndim);
    return -1;
  }
  size_t numel = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0) {
      snprintf(errbuf, errlen, "%s: negative dimension %" PRId64, path, shape[i]);
      return -1;
    }
    numel *= (size_t)shape[i];
  }

  char header[512];
  int n = npy_dict(header, sizeof header - NPY_ALIGN - 1, shape, ndim);
  if (n < 0) {
    snprintf(errbuf, errlen, "%s: shape too long for an .npy header", path);
    return -1;
  }
  /* Pad with spaces, end with '\n', so that preamble + header is a multiple of 64. */
  size_t hlen = (size_t)n + 1;
  size_t pad = NPY_ALIGN - (NPY_PREAMBLE + hlen) % NPY_ALIGN;
  memset(header + n, ' ', pad);
  header[n + pad] = '\n';
  hlen += pad;

  uint8_t pre[NPY_PREAMBLE] = {
      0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (uint8_t)(hlen & 0xff), (uint8_t)(hlen >> 8)};

  int ok = fwrite(pre, 1, sizeof pre, f) == sizeof pre && fwrite(header, 1, hlen, f) == hlen;
  if (ok && numel)
    ok = fwrite(data, sizeof(float), numel, f) == numel;
  if (!ok) {
    snprintf(errbuf, errlen, "%s: write failed: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}
