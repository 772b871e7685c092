/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* npy_read.h - strict reader of NumPy .npy files (format 1.0-3.0): little-endian float32
 * ('<f4') or float64 ('<f8', converted), C order. Anything else is an error naming the file
 * and the problem. */
#ifndef ENS_CLI_NPY_READ_H
#define ENS_CLI_NPY_READ_H

#include <stddef.h>
#include <stdint.h>

#include "npy.h"

typedef struct {
  int ndim;
  int64_t shape[ENS_NPY_MAX_DIMS];
  size_t numel;
  float *data; /* malloc'd */
} ens_npy_array;

/* Returns 0 on success; on failure -1 with one line in errbuf. */
int ens_npy_read_f32(const char *path, ens_npy_array *out, char *errbuf, size_t errlen);

void ens_npy_free(ens_npy_array *a);

#endif
