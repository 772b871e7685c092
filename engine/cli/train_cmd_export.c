/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_cmd_export.c - `ens-train export`: a hub model directory rewritten with its float
 * tensors in F16 or BF16 (half the bytes; what ships as the embedded default model). Integer
 * tensors (num_batches_tracked, I64) and the BN running statistics are kept, config.json is
 * copied. Every file is written atomically. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "read_file.h"
#include "safetensors.h"
#include "safetensors_write.h"
#include "train_cmds.h"

#define PROG "ens-train export"

static int is_float(ens_dtype dt)
{
  return dt == ENS_DT_F32 || dt == ENS_DT_F16 || dt == ENS_DT_BF16 || dt == ENS_DT_F64;
}

/* One float tensor narrowed to dtype into dst (numel 16-bit values). A finite value that
 * does not fit F16 would become Inf, which the loader refuses: an error naming the tensor. */
static ens_status narrow(const ens_safetensors *st, const ens_st_tensor *t, ens_dtype dtype,
                         uint16_t *dst, ens_error *err)
{
  float *f = malloc(sizeof(float) * (size_t)(t->numel ? t->numel : 1));
  if (!f)
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory converting tensor '%s'", t->name);
  ens_status s = ens_st_read_f32(st, t, f, err);
  for (int64_t i = 0; s == ENS_OK && i < t->numel; i++) {
    if (dtype == ENS_DT_BF16) {
      dst[i] = ens_st_f32_to_bf16(f[i]);
    } else {
      dst[i] = ens_st_f32_to_f16(f[i]);
      if (isfinite(f[i]) && (dst[i] & 0x7c00) == 0x7c00)
        s = ens_fail(err, ENS_ERR_MODEL, "tensor '%s': value %g does not fit F16 (use bf16)",
                     t->name, (double)f[i]);
    }
  }
  free(f);
  return s;
}

static ens_status write_model(const char *in, const char *out, ens_dtype dtype, ens_error *err)
{
  ens_safetensors st;
  ens_status s = ens_st_open(in, &st, err);
  if (s != ENS_OK)
    return s;
  ens_st_entry *e = calloc((size_t)(st.count ? st.count : 1), sizeof *e);
  uint16_t **half = calloc((size_t)(st.count ? st.count : 1), sizeof *half);
  if (!e || !half)
    s = ens_fail(err, ENS_ERR_NOMEM, "out of memory reading '%s'", in);
  for (int i = 0; s == ENS_OK && i < st.count; i++) {
    const ens_st_tensor *t = &st.tensors[i];
    e[i].name = t->name;
    e[i].ndim = t->ndim;
    memcpy(e[i].shape, t->shape, sizeof e[i].shape);
    if (!is_float(t->dtype)) { /* num_batches_tracked and other integers: unchanged */
      e[i].dtype = t->dtype;
      e[i].data = t->data;
      continue;
    }
    half[i] = malloc(sizeof(uint16_t) * (size_t)(t->numel ? t->numel : 1));
    if (!half[i]) {
      s = ens_fail(err, ENS_ERR_NOMEM, "out of memory converting tensor '%s'", t->name);
      break;
    }
    s = narrow(&st, t, dtype, half[i], err);
    e[i].dtype = dtype;
    e[i].data = half[i];
  }
  if (s == ENS_OK)
    s = ens_st_write(out, e, st.count, (const char *const *)st.meta_keys,
                     (const char *const *)st.meta_values, st.meta_count, err);
  for (int i = 0; half && i < st.count; i++)
    free(half[i]);
  free(half);
  free(e);
  ens_st_close(&st);
  return s;
}

/* config.json copied byte for byte, atomically (temp file in the same directory + rename). */
static ens_status copy_file(const char *in, const char *out, ens_error *err)
{
  char *data;
  size_t len;
  ens_status s = ens_read_file(in, 16u << 20, ENS_ERR_IO, "config", &data, &len, err);
  if (s != ENS_OK)
    return s;
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", out, (long)getpid()) >= (int)sizeof tmp) {
    free(data);
    return ens_fail(err, ENS_ERR_ARG, "output path too long: %s", out);
  }
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    free(data);
    return ens_fail(err, ENS_ERR_IO, "cannot create '%s': %s", tmp, strerror(errno));
  }
  int bad = fwrite(data, 1, len, f) != len;
  bad |= fflush(f) != 0;
  bad |= fsync(fileno(f)) != 0;
  int saved = errno;
  bad |= fclose(f) != 0;
  free(data);
  if (bad) {
    unlink(tmp);
    return ens_fail(err, ENS_ERR_IO, "cannot write '%s': %s", out, strerror(saved ? saved : EIO));
  }
  if (rename(tmp, out) != 0) {
    saved = errno;
    unlink(tmp);
    return ens_fail(err, ENS_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, out, strerror(saved));
  }
  return ENS_OK;
}

static int usage(FILE *f, int code)
{
  fprintf(f, "usage: " PROG " --model DIR --dtype f16|bf16 --out DIR2\n"
             "Rewrites the hub model directory DIR (model.safetensors + config.json) into DIR2\n"
             "with every float tensor in F16 or BF16 (round to nearest even); integer tensors\n"
             "(num_batches_tracked) are kept as they are and config.json is copied.\n");
  return code;
}

int ens_train_cmd_export(int argc, char **argv)
{
  const char *model = NULL, *out = NULL, *dtype_name = NULL;
  static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                       {"dtype", required_argument, 0, 'd'},
                                       {"out", required_argument, 0, 'o'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (o == 'm')
      model = optarg;
    else if (o == 'd')
      dtype_name = optarg;
    else if (o == 'o')
      out = optarg;
    else
      return usage(o == 'h' ? stdout : stderr, o == 'h' ? 0 : 2);
  }
  if (!model || !out || !dtype_name || optind < argc) {
    fprintf(stderr, PROG ": --model, --dtype and --out are required\n");
    return 2;
  }
  ens_dtype dtype;
  if (!strcmp(dtype_name, "f16"))
    dtype = ENS_DT_F16;
  else if (!strcmp(dtype_name, "bf16"))
    dtype = ENS_DT_BF16;
  else {
    fprintf(stderr, PROG ": --dtype '%s': use f16 or bf16\n", dtype_name);
    return 2;
  }
  if (mkdir(out, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, PROG ": cannot create output directory '%s': %s\n", out, strerror(errno));
    return 1;
  }
  char in_path[4096], out_path[4096];
  ens_error err;
  if (snprintf(in_path, sizeof in_path, "%s/model.safetensors", model) >= (int)sizeof in_path ||
      snprintf(out_path, sizeof out_path, "%s/model.safetensors", out) >= (int)sizeof out_path) {
    fprintf(stderr, PROG ": path too long\n");
    return 2;
  }
  if (write_model(in_path, out_path, dtype, &err) != ENS_OK) {
    fprintf(stderr, PROG ": %s\n", err.message);
    return 1;
  }
  snprintf(in_path, sizeof in_path, "%s/config.json", model);
  snprintf(out_path, sizeof out_path, "%s/config.json", out);
  if (copy_file(in_path, out_path, &err) != ENS_OK) {
    fprintf(stderr, PROG ": %s\n", err.message);
    return 1;
  }
  printf("%s/model.safetensors: %s\n", out, dtype_name);
  return 0;
}
