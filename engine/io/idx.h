/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* idx.h - reading IDX files (the MNIST / Fashion-MNIST format), plain or gzip'd (internal).
 *
 * Layout: 2 zero bytes, a type byte (only 0x08 = uint8 is accepted), the number of
 * dimensions, that many big-endian uint32 sizes, then the samples. Images are 3-D
 * (magic 0x00000803: count x rows x cols), labels 1-D (0x00000801: count). The file must
 * hold exactly the samples its header announces. */
#ifndef ENS_IDX_H
#define ENS_IDX_H

#include <stdint.h>

#include "ens.h"

#define ENS_IDX_MAX_DIMS 4

typedef struct {
  int ndim;
  int dims[ENS_IDX_MAX_DIMS];
  uint8_t *data; /* malloc'd, dims[0] x ... x dims[ndim-1] bytes */
} ens_idx_array;

/* Reads path (gzip'd or not: zlib tells them apart) and checks that it is a uint8 IDX file
 * of want_ndim dimensions. Errors name path: ENS_ERR_IO (cannot open / read), ENS_ERR_FORMAT
 * (wrong magic, type or dimension count, truncated or trailing data, corrupt gzip data),
 * ENS_ERR_UNSUPPORTED (more than 2^32 bytes), ENS_ERR_NOMEM. */
ens_status ens_idx_load(const char *path, int want_ndim, ens_idx_array *out, ens_error *err);

/* An images file (count x rows x cols) and, if labels_path is not NULL, its labels file,
 * whose count must match. *labels is NULL when labels_path is NULL. */
ens_status ens_idx_load_pair(const char *images_path, const char *labels_path,
                             ens_idx_array *images, ens_idx_array *labels, ens_error *err);

void ens_idx_free(ens_idx_array *a);

#endif
