/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* st_write.c - see st_write.h. */
#include "st_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

st_entry *st_entries_of(const ens_safetensors *st)
{
  st_entry *e = calloc((size_t)st->count + 1, sizeof *e);
  for (int i = 0; i < st->count; i++) {
    const ens_st_tensor *t = &st->tensors[i];
    snprintf(e[i].name, sizeof e[i].name, "%s", t->name);
    e[i].dtype = ens_dtype_name(t->dtype);
    e[i].ndim = t->ndim;
    memcpy(e[i].shape, t->shape, sizeof t->shape);
    e[i].data = t->data;
    e[i].nbytes = t->nbytes;
  }
  return e;
}

int st_write_file(const char *path, const st_entry *e, int n)
{
  size_t cap = 4096 + (size_t)n * 256, len = 0, off = 0;
  char *h = malloc(cap);
  len += (size_t)snprintf(h + len, cap - len, "{\"__metadata__\":{\"format\":\"pt\"}");
  for (int i = 0; i < n; i++) {
    len += (size_t)snprintf(h + len, cap - len, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", e[i].name,
                            e[i].dtype);
    for (int d = 0; d < e[i].ndim; d++)
      len += (size_t)snprintf(h + len, cap - len, "%s%lld", d ? "," : "", (long long)e[i].shape[d]);
    len += (size_t)snprintf(h + len, cap - len, "],\"data_offsets\":[%zu,%zu]}", off,
                            off + e[i].nbytes);
    off += e[i].nbytes;
  }
  len += (size_t)snprintf(h + len, cap - len, "}");
  while (len % 8)
    h[len++] = ' ';
  FILE *f = fopen(path, "wb");
  if (!f) {
    free(h);
    return -1;
  }
  uint64_t hl = len;
  uint8_t le[8];
  for (int i = 0; i < 8; i++)
    le[i] = (uint8_t)(hl >> (8 * i));
  int ok = fwrite(le, 1, 8, f) == 8 && fwrite(h, 1, len, f) == len;
  for (int i = 0; ok && i < n; i++)
    ok = e[i].nbytes == 0 || fwrite(e[i].data, 1, e[i].nbytes, f) == e[i].nbytes;
  ok = fclose(f) == 0 && ok;
  free(h);
  return ok ? 0 : -1;
}
