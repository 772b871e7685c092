/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* safetensors_write.h - writer of the safetensors format (internal): any list of named
 * tensors (F32, F16, BF16, I64, ... as raw little-endian bytes) plus string __metadata__,
 * written atomically (temp file in the same directory, then rename). */
#ifndef ENS_SAFETENSORS_WRITE_H
#define ENS_SAFETENSORS_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "safetensors.h"

typedef struct {
  const char *name;
  ens_dtype dtype;
  int ndim; /* 0 = scalar */
  int64_t shape[ENS_ST_MAX_DIMS];
  const void *data; /* numel * ens_dtype_size(dtype) bytes, little-endian */
} ens_st_entry;

/* Writes the tensors in the given order with string metadata pairs (meta_keys[i] ->
 * meta_values[i]; n_meta may be 0). Names must be unique and non-empty. On failure nothing
 * is left at path (an existing file there is untouched) and err names the file and cause
 * (e.g. "No space left on device"). */
ens_status ens_st_write(const char *path, const ens_st_entry *tensors, int count,
                        const char *const *meta_keys, const char *const *meta_values, int n_meta,
                        ens_error *err);

/* float32 -> bfloat16 / float16 (round to nearest even) for writers of half dtypes. */
uint16_t ens_st_f32_to_bf16(float f);
uint16_t ens_st_f32_to_f16(float f);

#endif
