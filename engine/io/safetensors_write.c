/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* safetensors_write.c - atomic writer of .safetensors files (see safetensors_write.h). */
#define _POSIX_C_SOURCE 200809L
#include "safetensors_write.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

typedef struct {
  char *buf;
  size_t len, cap;
  int oom;
} sbuf;

static void sb_put(sbuf *s, const char *p, size_t n)
{
  if (s->oom)
    return;
  if (s->len + n + 1 > s->cap) {
    size_t cap = (s->cap ? s->cap * 2 : 4096) + n;
    char *b = realloc(s->buf, cap);
    if (!b) {
      s->oom = 1;
      return;
    }
    s->buf = b;
    s->cap = cap;
  }
  memcpy(s->buf + s->len, p, n);
  s->len += n;
  s->buf[s->len] = 0;
}

static void sb_str(sbuf *s, const char *p)
{
  sb_put(s, p, strlen(p));
}

/* JSON string with quotes, escaping " \ and control characters */
static void sb_json(sbuf *s, const char *p)
{
  sb_put(s, "\"", 1);
  for (; *p; p++) {
    unsigned char ch = (unsigned char)*p;
    char esc[8];
    if (ch == '"' || ch == '\\') {
      esc[0] = '\\';
      esc[1] = (char)ch;
      sb_put(s, esc, 2);
    } else if (ch < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", ch);
      sb_put(s, esc, 6);
    } else {
      sb_put(s, (const char *)p, 1);
    }
  }
  sb_put(s, "\"", 1);
}

static int64_t numel_of(const ens_st_entry *t)
{
  int64_t n = 1;
  for (int i = 0; i < t->ndim; i++)
    n *= t->shape[i];
  return n;
}

static ens_status build_header(const char *path, const ens_st_entry *t, int count,
                               const char *const *mk, const char *const *mv, int n_meta, sbuf *h,
                               ens_error *err)
{
  char num[64];
  uint64_t off = 0;
  sb_str(h, "{");
  if (n_meta > 0) {
    sb_str(h, "\"__metadata__\":{");
    for (int i = 0; i < n_meta; i++) {
      if (i)
        sb_str(h, ",");
      sb_json(h, mk[i]);
      sb_str(h, ":");
      sb_json(h, mv[i]);
    }
    sb_str(h, "}");
  }
  for (int i = 0; i < count; i++) {
    if (!t[i].name || !t[i].name[0] || !strcmp(t[i].name, "__metadata__"))
      return ens_fail(err, ENS_ERR_ARG, "%s: tensor %d has an empty or reserved name", path, i);
    if (t[i].ndim < 0 || t[i].ndim > ENS_ST_MAX_DIMS)
      return ens_fail(err, ENS_ERR_ARG, "%s: tensor '%s' has %d dims (0..%d)", path, t[i].name,
                      t[i].ndim, ENS_ST_MAX_DIMS);
    for (int d = 0; d < t[i].ndim; d++)
      if (t[i].shape[d] < 0)
        return ens_fail(err, ENS_ERR_ARG, "%s: tensor '%s' has a negative dim", path, t[i].name);
    for (int j = 0; j < i; j++)
      if (!strcmp(t[i].name, t[j].name))
        return ens_fail(err, ENS_ERR_ARG, "%s: tensor name '%s' given twice", path, t[i].name);
    uint64_t nbytes = (uint64_t)numel_of(&t[i]) * ens_dtype_size(t[i].dtype);
    if (i || n_meta > 0)
      sb_str(h, ",");
    sb_json(h, t[i].name);
    sb_str(h, ":{\"dtype\":\"");
    sb_str(h, ens_dtype_name(t[i].dtype));
    sb_str(h, "\",\"shape\":[");
    for (int d = 0; d < t[i].ndim; d++) {
      snprintf(num, sizeof num, "%s%lld", d ? "," : "", (long long)t[i].shape[d]);
      sb_str(h, num);
    }
    snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
             (unsigned long long)(off + nbytes));
    sb_str(h, num);
    off += nbytes;
  }
  sb_str(h, "}");
  while (h->len % 8) /* data block 8-byte aligned, as the reference writer does */
    sb_str(h, " ");
  if (h->oom)
    return ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory building the header", path);
  return ENS_OK;
}

static ens_status write_all(FILE *f, const void *p, size_t n, const char *path, ens_error *err)
{
  if (n && fwrite(p, 1, n, f) != n)
    return ens_fail(err, ENS_ERR_IO, "%s: write failed: %s", path, strerror(errno));
  return ENS_OK;
}

ens_status ens_st_write(const char *path, const ens_st_entry *tensors, int count,
                        const char *const *meta_keys, const char *const *meta_values, int n_meta,
                        ens_error *err)
{
  sbuf h = {0};
  ens_status st = build_header(path, tensors, count, meta_keys, meta_values, n_meta, &h, err);
  if (st != ENS_OK) {
    free(h.buf);
    return st;
  }
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 16);
  if (!tmp) {
    free(h.buf);
    return ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", path);
  }
  snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    st = ens_fail(err, ENS_ERR_IO, "%s: cannot create a file in its directory: %s", path,
                  strerror(errno));
    free(tmp);
    free(h.buf);
    return st;
  }
  FILE *f = fdopen(fd, "wb");
  if (!f) {
    close(fd);
    st = ens_fail(err, ENS_ERR_IO, "%s: %s", path, strerror(errno));
    goto fail;
  }
  uint8_t len8[8];
  for (int i = 0; i < 8; i++)
    len8[i] = (uint8_t)((uint64_t)h.len >> (8 * i));
  st = write_all(f, len8, 8, path, err);
  if (st == ENS_OK)
    st = write_all(f, h.buf, h.len, path, err);
  for (int i = 0; i < count && st == ENS_OK; i++)
    st = write_all(f, tensors[i].data,
                   (size_t)numel_of(&tensors[i]) * ens_dtype_size(tensors[i].dtype), path, err);
  if (st == ENS_OK && (fflush(f) != 0 || fsync(fileno(f)) != 0))
    st = ens_fail(err, ENS_ERR_IO, "%s: write failed: %s", path, strerror(errno));
  if (fclose(f) != 0 && st == ENS_OK)
    st = ens_fail(err, ENS_ERR_IO, "%s: write failed: %s", path, strerror(errno));
  if (st == ENS_OK && rename(tmp, path) != 0)
    st = ens_fail(err, ENS_ERR_IO, "%s: cannot rename the temporary file into place: %s", path,
                  strerror(errno));
  if (st == ENS_OK) {
    free(tmp);
    free(h.buf);
    return ENS_OK;
  }
fail:
  unlink(tmp);
  free(tmp);
  free(h.buf);
  return st;
}

uint16_t ens_st_f32_to_bf16(float f)
{
  uint32_t u;
  memcpy(&u, &f, 4);
  if (isnan(f))
    return (uint16_t)((u >> 16) | 0x40);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

uint16_t ens_st_f32_to_f16(float f)
{
  uint32_t u;
  memcpy(&u, &f, 4);
  uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
  uint32_t a = u & 0x7FFFFFFFu;
  if (a >= 0x7F800000u) /* inf / nan */
    return sign | (a > 0x7F800000u ? 0x7E00u : 0x7C00u);
  if (a >= 0x477FF000u) /* rounds to >= 65520: inf */
    return sign | 0x7C00u;
  if (a < 0x38800000u) { /* subnormal half (or zero): scale by 2^24 and round */
    float v;
    memcpy(&v, &a, 4);
    return sign | (uint16_t)lrintf(v * 16777216.0f);
  }
  uint32_t mant = a & 0x7FFFFFu;
  uint32_t exp = (a >> 23) - 112u;
  uint32_t h = (exp << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1FFFu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u)))
    h++; /* carries into the exponent correctly */
  return sign | (uint16_t)h;
}
