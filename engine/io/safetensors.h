/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* safetensors.h - strict reader of the safetensors format (internal).
 *
 * Layout: u64 little-endian header length N, N bytes of UTF-8 JSON
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 *  "__metadata__": {"k": "v"}}, then the data block; offsets are relative to the data block.
 * Validation is strict (see ens_st_parse): every problem is an error naming the file and
 * the tensor, never an abort.
 */
#ifndef ENS_SAFETENSORS_H
#define ENS_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "ens.h"

#define ENS_ST_MAX_DIMS 8

typedef enum {
  ENS_DT_F32 = 0,
  ENS_DT_F16,
  ENS_DT_BF16,
  ENS_DT_F64,
  ENS_DT_I64,
  ENS_DT_I32,
  ENS_DT_I16,
  ENS_DT_I8,
  ENS_DT_U8,
  ENS_DT_BOOL,
} ens_dtype;

typedef struct {
  char *name;
  ens_dtype dtype;
  int ndim;
  int64_t shape[ENS_ST_MAX_DIMS];
  int64_t numel;
  const uint8_t *data; /* points into the mapping */
  size_t nbytes;
} ens_st_tensor;

typedef struct {
  char *path; /* for error messages */
  void *map;  /* mmap of the file (NULL when parsed from a caller's buffer) */
  size_t map_len;
  ens_st_tensor *tensors;
  int count;
  char **meta_keys, **meta_values; /* __metadata__, string values only */
  int meta_count;
  int *name_index; /* tensor indices sorted by name (binary search in ens_st_find) */
} ens_safetensors;

/* Bytes per element of a dtype. */
size_t ens_dtype_size(ens_dtype dt);
const char *ens_dtype_name(ens_dtype dt);

/* mmap path read-only and parse it. On failure *st is left empty (safe to close). */
ens_status ens_st_open(const char *path, ens_safetensors *st, ens_error *err);

/* Parse a whole file held in buf (not copied: tensors point into buf). name_for_errors is
 * used in messages. Used by ens_st_open and the fuzzer. */
ens_status ens_st_parse(const uint8_t *buf, size_t len, const char *name_for_errors,
                        ens_safetensors *st, ens_error *err);

void ens_st_close(ens_safetensors *st);

/* NULL if absent. */
const ens_st_tensor *ens_st_find(const ens_safetensors *st, const char *name);

/* __metadata__ value or NULL. */
const char *ens_st_meta(const ens_safetensors *st, const char *key);

/* Convert a float tensor (F32, F16, BF16, F64) to float32 into dst (numel floats). F16 and
 * BF16 widen exactly. Other dtypes: ENS_ERR_MODEL naming the tensor. */
ens_status ens_st_read_f32(const ens_safetensors *st, const ens_st_tensor *t, float *dst,
                           ens_error *err);

#endif
