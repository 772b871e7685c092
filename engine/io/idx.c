/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* idx.c - IDX (MNIST-format) reader through zlib's gz* functions, which read gzip'd and
 * plain files alike (see idx.h). */
#include "idx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "error.h"

#define IDX_TYPE_U8 0x08
#define IDX_MAX_BYTES ((uint64_t)1 << 32)
#define READ_CHUNK (1u << 24)

/* zlib's message without the "path: " prefix gzerror() puts on it. */
static const char *zlib_message(gzFile f, const char *path, int *zerr)
{
  const char *msg = gzerror(f, zerr);
  size_t n = strlen(path);
  if (msg && strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
    msg += n + 2;
  return msg ? msg : "unknown zlib error";
}

/* Reads up to len bytes; returns the count, or -1 with *st and err filled on a zlib / IO
 * error. */
static int64_t read_some(gzFile f, const char *path, uint8_t *buf, uint64_t len, ens_status *st,
                         ens_error *err)
{
  uint64_t got = 0;
  while (got < len) {
    uint64_t want = len - got < READ_CHUNK ? len - got : READ_CHUNK;
    int n = gzread(f, buf + got, (unsigned)want);
    if (n < 0) {
      int zerr = 0;
      const char *msg = zlib_message(f, path, &zerr);
      if (zerr == Z_ERRNO)
        *st = ens_fail(err, ENS_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
      else
        *st = ens_fail(err, ENS_ERR_FORMAT, "%s: corrupt gzip data: %s", path, msg);
      return -1;
    }
    if (n == 0)
      break;
    got += (uint64_t)n;
  }
  /* a gzip stream cut short reads as a short count with Z_BUF_ERROR set */
  int zerr = 0;
  const char *msg = zlib_message(f, path, &zerr);
  if (zerr != Z_OK && zerr != Z_BUF_ERROR) {
    *st = ens_fail(err, zerr == Z_ERRNO ? ENS_ERR_IO : ENS_ERR_FORMAT, "%s: cannot read: %s", path,
                   msg);
    return -1;
  }
  return (int64_t)got;
}

static ens_status load_open(gzFile f, const char *path, int want_ndim, ens_idx_array *out,
                            ens_error *err)
{
  uint8_t head[4 + 4 * ENS_IDX_MAX_DIMS];
  ens_status st = ENS_OK;
  int64_t n = read_some(f, path, head, 4, &st, err);
  if (n < 0)
    return st;
  const unsigned want_magic = 0x800u | (unsigned)want_ndim;
  unsigned magic =
      n == 4 ? (unsigned)head[0] << 24 | (unsigned)head[1] << 16 | (unsigned)head[2] << 8 | head[3]
             : 0;
  if (n < 4 || head[0] || head[1])
    return ens_fail(err, ENS_ERR_FORMAT, "%s: not an IDX file (magic 0x%08x, want 0x%08x)", path,
                    magic, want_magic);
  if (head[2] != IDX_TYPE_U8)
    return ens_fail(err, ENS_ERR_FORMAT,
                    "%s: IDX data type 0x%02x is not supported (only uint8, 0x08)", path, head[2]);
  if (head[3] != want_ndim)
    return ens_fail(err, ENS_ERR_FORMAT,
                    "%s: IDX magic 0x%08x has %d dimensions, want %d (magic 0x%08x)", path, magic,
                    head[3], want_ndim, want_magic);
  n = read_some(f, path, head + 4, 4u * (unsigned)want_ndim, &st, err);
  if (n < 0)
    return st;
  if (n < 4 * want_ndim)
    return ens_fail(err, ENS_ERR_FORMAT, "%s: truncated IDX header", path);
  uint64_t total = 1;
  out->ndim = want_ndim;
  for (int d = 0; d < want_ndim; d++) {
    const uint8_t *p = head + 4 + 4 * d;
    uint32_t v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    if (v > INT32_MAX)
      return ens_fail(err, ENS_ERR_FORMAT, "%s: IDX dimension %d is %u, too large", path, d, v);
    out->dims[d] = (int)v;
    total *= v;
    if (total > IDX_MAX_BYTES)
      return ens_fail(err, ENS_ERR_UNSUPPORTED, "%s: IDX data exceeds %llu bytes", path,
                      (unsigned long long)IDX_MAX_BYTES);
  }
  /* one spare byte: reading it detects trailing data */
  out->data = malloc(total + 1);
  if (!out->data)
    return ens_fail(err, ENS_ERR_NOMEM, "%s: cannot allocate %llu bytes", path,
                    (unsigned long long)total);
  n = read_some(f, path, out->data, total + 1, &st, err);
  if (n < 0)
    return st;
  if ((uint64_t)n < total)
    return ens_fail(err, ENS_ERR_FORMAT,
                    "%s: truncated IDX file: the header announces %llu bytes of data, %lld present",
                    path, (unsigned long long)total, (long long)n);
  if ((uint64_t)n > total)
    return ens_fail(err, ENS_ERR_FORMAT,
                    "%s: IDX file has data beyond the %llu bytes its header announces", path,
                    (unsigned long long)total);
  return ENS_OK;
}

ens_status ens_idx_load(const char *path, int want_ndim, ens_idx_array *out, ens_error *err)
{
  if (!out || !path || want_ndim < 1 || want_ndim > ENS_IDX_MAX_DIMS)
    return ens_fail(err, ENS_ERR_ARG, "ens_idx_load: bad argument");
  memset(out, 0, sizeof *out);
  errno = 0;
  gzFile f = gzopen(path, "rb");
  if (!f)
    return ens_fail(err, ENS_ERR_IO, "%s: cannot open: %s", path,
                    errno ? strerror(errno) : "out of memory");
  ens_status st = load_open(f, path, want_ndim, out, err);
  gzclose(f);
  if (st != ENS_OK)
    ens_idx_free(out);
  return st;
}

ens_status ens_idx_load_pair(const char *images_path, const char *labels_path,
                             ens_idx_array *images, ens_idx_array *labels, ens_error *err)
{
  if (!images || !labels)
    return ens_fail(err, ENS_ERR_ARG, "ens_idx_load_pair: NULL output");
  memset(labels, 0, sizeof *labels);
  ens_status st = ens_idx_load(images_path, 3, images, err);
  if (st != ENS_OK || !labels_path)
    return st;
  st = ens_idx_load(labels_path, 1, labels, err);
  if (st == ENS_OK && labels->dims[0] != images->dims[0])
    st = ens_fail(err, ENS_ERR_FORMAT, "%s: %d labels for the %d images of %s", labels_path,
                  labels->dims[0], images->dims[0], images_path);
  if (st != ENS_OK) {
    ens_idx_free(images);
    ens_idx_free(labels);
  }
  return st;
}

void ens_idx_free(ens_idx_array *a)
{
  if (!a)
    return;
  free(a->data);
  memset(a, 0, sizeof *a);
}
