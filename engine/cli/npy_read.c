/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* npy_read.c - see npy_read.h. */
#include "npy_read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy_read.c reads little-endian data into host floats"
#endif

#define NPY_MAX_HEADER 65536

/* The value text after 'key': in the header dict, or NULL. */
static const char *dict_value(const char *h, const char *key)
{
  char pat[32];
  snprintf(pat, sizeof pat, "'%s':", key);
  const char *p = strstr(h, pat);
  if (!p)
    return NULL;
  p += strlen(pat);
  while (*p == ' ')
    p++;
  return p;
}

static int fail(char *errbuf, size_t errlen, const char *path, const char *msg)
{
  snprintf(errbuf, errlen, "%s: %s", path, msg);
  return -1;
}

static int parse_header(const char *h, const char *path, int *is_f8, ens_npy_array *a, char *eb,
                        size_t el)
{
  const char *d = dict_value(h, "descr");
  if (!d)
    return fail(eb, el, path, "not an .npy header (no 'descr')");
  if (!strncmp(d, "'<f4'", 5))
    *is_f8 = 0;
  else if (!strncmp(d, "'<f8'", 5))
    *is_f8 = 1;
  else
    return fail(eb, el, path,
                "dtype is not little-endian float32/float64 ('<f4'/'<f8'); save "
                "it with arr.astype(numpy.float32)");
  const char *f = dict_value(h, "fortran_order");
  if (!f || strncmp(f, "False", 5))
    return fail(eb, el, path, "Fortran-ordered array; save a C-ordered (numpy.ascontiguousarray)");
  const char *s = dict_value(h, "shape");
  if (!s || *s != '(')
    return fail(eb, el, path, "no shape tuple in the header");
  s++;
  a->ndim = 0;
  a->numel = 1;
  for (;;) {
    while (*s == ' ')
      s++;
    if (*s == ')')
      break;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno || v < 0 || v > (1LL << 40))
      return fail(eb, el, path, "bad dimension in the shape tuple");
    if (a->ndim == ENS_NPY_MAX_DIMS)
      return fail(eb, el, path, "more than 8 dimensions");
    a->shape[a->ndim++] = v;
    a->numel *= (size_t)v;
    s = end;
    while (*s == ' ')
      s++;
    if (*s == ',')
      s++;
    else if (*s != ')')
      return fail(eb, el, path, "malformed shape tuple");
  }
  return 0;
}

int ens_npy_read_f32(const char *path, ens_npy_array *out, char *errbuf, size_t errlen)
{
  memset(out, 0, sizeof *out);
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    snprintf(errbuf, errlen, "%s: cannot open: %s", path, strerror(errno));
    return -1;
  }
  unsigned char pre[12];
  char *h = NULL;
  float *data = NULL;
  double *tmp = NULL;
  int rc = -1, is_f8 = 0;
  if (fread(pre, 1, 8, fp) != 8 || memcmp(pre, "\x93NUMPY", 6)) {
    fail(errbuf, errlen, path, "not an .npy file (bad magic)");
    goto out;
  }
  size_t hlen;
  if (pre[6] == 1) {
    if (fread(pre + 8, 1, 2, fp) != 2)
      goto truncated;
    hlen = pre[8] | (size_t)pre[9] << 8;
  } else if (pre[6] == 2 || pre[6] == 3) {
    if (fread(pre + 8, 1, 4, fp) != 4)
      goto truncated;
    hlen = pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
  } else {
    fail(errbuf, errlen, path, "unsupported .npy format version");
    goto out;
  }
  if (hlen == 0 || hlen > NPY_MAX_HEADER) {
    fail(errbuf, errlen, path, "implausible .npy header length");
    goto out;
  }
  h = malloc(hlen + 1);
  if (!h || fread(h, 1, hlen, fp) != hlen)
    goto truncated;
  h[hlen] = '\0';
  if (parse_header(h, path, &is_f8, out, errbuf, errlen))
    goto out;
  size_t esize = is_f8 ? 8 : 4;
  data = malloc(out->numel ? out->numel * sizeof *data : 1);
  if (!data) {
    fail(errbuf, errlen, path, "out of memory");
    goto out;
  }
  if (is_f8) {
    tmp = malloc(out->numel ? out->numel * esize : 1);
    if (!tmp || fread(tmp, esize, out->numel, fp) != out->numel)
      goto truncated;
    for (size_t i = 0; i < out->numel; i++)
      data[i] = (float)tmp[i];
  } else if (fread(data, esize, out->numel, fp) != out->numel) {
    goto truncated;
  }
  if (fgetc(fp) != EOF) {
    fail(errbuf, errlen, path, "trailing bytes after the array data (corrupt file?)");
    goto out;
  }
  out->data = data;
  data = NULL;
  rc = 0;
  goto out;
truncated:
  fail(errbuf, errlen, path, "truncated .npy file");
out:
  free(h);
  free(data);
  free(tmp);
  fclose(fp);
  return rc;
}

void ens_npy_free(ens_npy_array *a)
{
  free(a->data);
  a->data = NULL;
}
