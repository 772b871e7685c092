/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* st_write.h - writing small safetensors files from tests (to build broken / converted
 * models out of the synthetic weights). */
#ifndef ENS_TEST_ST_WRITE_H
#define ENS_TEST_ST_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "safetensors.h"

typedef struct {
  char name[160];
  const char *dtype; /* "F32", "F16", "BF16", "I64", ... */
  int ndim;
  int64_t shape[ENS_ST_MAX_DIMS];
  const void *data;
  size_t nbytes;
} st_entry;

/* Entries copied from an open file (data pointing into its mapping). Returns a malloc'd
 * array of st->count entries. */
st_entry *st_entries_of(const ens_safetensors *st);

/* Writes the entries (in order) as a safetensors file. Returns 0 on success. */
int st_write_file(const char *path, const st_entry *e, int n);

#endif
