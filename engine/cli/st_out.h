/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* st_out.h - a minimal safetensors writer for the CLI's outputs: float32 tensors only,
 * written atomically (temp file in the same directory, then rename). Private to engine/cli
 * until the shared writer (engine/io) lands. */
#ifndef ENS_CLI_ST_OUT_H
#define ENS_CLI_ST_OUT_H

#include <stddef.h>
#include <stdint.h>

#define ENS_ST_OUT_MAX_DIMS 4

typedef struct {
  const char *name; /* JSON-safe: letters, digits, '.', '_' */
  const float *data;
  int ndim;
  int64_t shape[ENS_ST_OUT_MAX_DIMS];
} ens_st_out_tensor;

/* Writes the n tensors to path in the order given. Returns 0, or -1 with one line naming
 * path and the problem in errbuf (path is then untouched: only the temp file is removed). */
int ens_st_out_write_f32(const char *path, const ens_st_out_tensor *t, int n, char *errbuf,
                         size_t errlen);

#endif
