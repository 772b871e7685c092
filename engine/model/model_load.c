/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* model_load.c - ens_model_load: a timm .safetensors file or a hub directory
 * (model.safetensors + config.json). The variant is detected from tensor shapes only; every
 * expected tensor is validated (shape, float dtype) and every tensor in the file must be used
 * (as timm's strict load_state_dict), except BatchNorm num_batches_tracked counters. */
#include "model_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "safetensors.h"
#include "variant_custom.h"

typedef struct {
  const ens_safetensors *st;
  const char *path;
  unsigned char *used; /* per tensor of st */
} file_source;

static void format_shape(char *buf, size_t size, int ndim, const long long *shape)
{
  size_t n = (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < ndim && n < size; i++)
    n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? ", " : "", shape[i]);
  if (n < size)
    snprintf(buf + n, size - n, "]");
}

static ens_status file_read(void *ctx, const char *key, int ndim, const long long *shape,
                            float *dst, ens_error *err)
{
  file_source *fs = ctx;
  char want[96], got[96];
  format_shape(want, sizeof want, ndim, shape);
  const ens_st_tensor *t = ens_st_find(fs->st, key);
  if (!t)
    return ens_fail(err, ENS_ERR_MODEL, "%s: missing tensor %s (expected shape %s)", fs->path, key,
                    want);
  long long have[ENS_ST_MAX_DIMS];
  for (int i = 0; i < t->ndim; i++)
    have[i] = (long long)t->shape[i];
  int same = t->ndim == ndim;
  for (int i = 0; same && i < ndim; i++)
    same = have[i] == shape[i];
  if (!same) {
    format_shape(got, sizeof got, t->ndim, have);
    return ens_fail(err, ENS_ERR_MODEL, "%s: tensor %s has shape %s, expected %s", fs->path, key,
                    got, want);
  }
  if (t->dtype != ENS_DT_F32 && t->dtype != ENS_DT_F16 && t->dtype != ENS_DT_BF16 &&
      t->dtype != ENS_DT_F64)
    return ens_fail(err, ENS_ERR_MODEL,
                    "%s: tensor %s has dtype %s, expected F32, F16, BF16 or F64", fs->path, key,
                    ens_dtype_name(t->dtype));
  fs->used[t - fs->st->tensors] = 1;
  ens_status s = ens_st_read_f32(fs->st, t, dst, err);
  if (s != ENS_OK)
    return s;
  /* NaN / Inf weights would silently give NaN logits: refuse them by name. */
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < (size_t)t->numel; i++)
    if (!isfinite(dst[i]) && bad++ == 0)
      first = i;
  if (bad)
    return ens_fail(err, ENS_ERR_MODEL,
                    "%s: tensor %s has %zu non-finite value%s (NaN or Inf; first at element %zu = "
                    "%g)",
                    fs->path, key, bad, bad == 1 ? "" : "s", first, (double)dst[first]);
  return ENS_OK;
}

/* Leading dim of a weight that must be present with ndim dims; `want` describes the expected
 * shape for the message. */
static ens_status dim0(const ens_safetensors *st, const char *path, const char *key, int ndim,
                       const char *want, int *out, ens_error *err)
{
  const ens_st_tensor *t = ens_st_find(st, key);
  if (!t)
    return ens_fail(err, ENS_ERR_MODEL, "%s: missing tensor %s: not a timm tf_efficientnet file",
                    path, key);
  if (t->ndim != ndim || t->shape[0] < 1 || t->shape[0] > (1 << 24)) {
    long long have[ENS_ST_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++)
      have[i] = (long long)t->shape[i];
    char got[96];
    format_shape(got, sizeof got, t->ndim, have);
    return ens_fail(err, ENS_ERR_MODEL, "%s: tensor %s has shape %s, expected %s", path, key, got,
                    want);
  }
  *out = (int)t->shape[0];
  return ENS_OK;
}

ens_status ens_model_detect(const ens_safetensors *st, const char *path,
                            const ens_variant_def **vout, ens_variant_dims *dout, int *num_classes,
                            ens_error *err)
{
  int stem = 0, head = 0, repeats[ENS_NUM_STAGES + 1] = {0}, stages = 0;
  ens_status s;
  if ((s = dim0(st, path, "conv_stem.weight", 4, "[C, 3, 3, 3] with 1 <= C <= 16777216", &stem,
                err)) ||
      (s = dim0(st, path, "conv_head.weight", 4, "[C, C_in, 1, 1] with 1 <= C <= 16777216", &head,
                err)))
    return s;
  char want_cls[96];
  snprintf(want_cls, sizeof want_cls, "[K, %d] with 1 <= K <= 16777216 classes", head);
  if ((s = dim0(st, path, "classifier.weight", 2, want_cls, num_classes, err)))
    return s;
  char key[64];
  for (stages = 0; stages <= ENS_NUM_STAGES; stages++) {
    int j = 0;
    for (;; j++) {
      snprintf(key, sizeof key, "blocks.%d.%d.conv_dw.weight", stages, j);
      if (!ens_st_find(st, key))
        break;
    }
    if (j == 0)
      break;
    repeats[stages] = j;
  }
  for (int i = 0; stages == ENS_NUM_STAGES && i < ens_variant_count(); i++) {
    const ens_variant_def *v = ens_variant_at(i);
    ens_variant_dims d;
    ens_variant_dims_of(v, &d);
    if (d.stem_chs != stem || d.head_chs != head)
      continue;
    if (memcmp(d.repeats, repeats, sizeof d.repeats) != 0)
      continue;
    const ens_st_tensor *cls = ens_st_find(st, "classifier.weight");
    if (cls->shape[1] != head)
      return ens_fail(err, ENS_ERR_MODEL,
                      "%s: tensor classifier.weight has shape [%lld, %lld], expected "
                      "[num_classes, %d] (conv_head has %d channels)",
                      path, (long long)cls->shape[0], (long long)cls->shape[1], head, head);
    *vout = v;
    *dout = d;
    return ENS_OK;
  }
  if (stages == ENS_NUM_STAGES) { /* any other width / depth of the family */
    *vout = NULL;
    return ens_variant_dims_from_st(st, path, dout, err);
  }
  char found[128];
  size_t n = 0;
  for (int i = 0; i < stages && n < sizeof found; i++)
    n += (size_t)snprintf(found + n, sizeof found - n, "%s%d", i ? " " : "", repeats[i]);
  if (stages == 0)
    snprintf(found, sizeof found, "none");
  return ens_fail(err, ENS_ERR_MODEL,
                  "%s: no tf_efficientnet variant (b0..b7, l2 or another width / depth) has "
                  "conv_stem %d channels, conv_head %d channels and %d stages of [%s] blocks",
                  path, stem, head, stages, found);
}

/* Every tensor must have been used, except num_batches_tracked of a BatchNorm we read. */
static ens_status check_unused(const file_source *fs, const ens_variant_def *v, ens_error *err)
{
  static const char suffix[] = ".num_batches_tracked";
  const size_t sl = sizeof suffix - 1;
  for (int i = 0; i < fs->st->count; i++) {
    if (fs->used[i])
      continue;
    const char *name = fs->st->tensors[i].name;
    size_t len = strlen(name);
    if (len > sl && strcmp(name + len - sl, suffix) == 0 && len - sl < 200) {
      char mean_key[256];
      snprintf(mean_key, sizeof mean_key, "%.*s.running_mean", (int)(len - sl), name);
      const ens_st_tensor *m = ens_st_find(fs->st, mean_key);
      if (m && fs->used[m - fs->st->tensors] && fs->st->tensors[i].numel <= 1)
        continue;
    }
    return ens_fail(err, ENS_ERR_MODEL,
                    "%s: unexpected tensor %s (not part of tf_efficientnet%s%s as detected)",
                    fs->path, name, v ? "_" : " (custom width / depth)", v ? v->name : "");
  }
  return ENS_OK;
}

/* A custom width / depth has no pretrained config of its own: the input size and mean/std
 * must come from config.json or the options, and what the config says must fit the shapes. */
static ens_status check_custom_config(const char *path, const ens_variant_dims *dims,
                                      const ens_options *opt, const ens_hub_config *cfg,
                                      const char *cfg_path, ens_error *err)
{
  const int blocks = ens_variant_dims_blocks(dims);
  if (cfg && cfg->has_architecture && strncmp(cfg->architecture, "tf_efficientnet_", 16) == 0 &&
      ens_variant_find(cfg->architecture + 16))
    return ens_fail(err, ENS_ERR_MODEL,
                    "%s: architecture %s, but the tensor shapes are those of another width / "
                    "depth (conv_stem %d, conv_head %d channels, %d blocks)",
                    cfg_path, cfg->architecture, dims->stem_chs, dims->head_chs, blocks);
  if (cfg && cfg->has_channel_multiplier && cfg->has_depth_multiplier) {
    const ens_variant_def def = {.width_mult = cfg->channel_multiplier,
                                 .depth_mult = cfg->depth_multiplier};
    ens_variant_dims want;
    ens_variant_dims_of(&def, &want);
    if (memcmp(&want, dims, sizeof want) != 0)
      return ens_fail(err, ENS_ERR_MODEL,
                      "%s: channel_multiplier %g, depth_multiplier %g give conv_stem %d, "
                      "conv_head %d channels and %d blocks, but %s has %d, %d and %d",
                      cfg_path, def.width_mult, def.depth_mult, want.stem_chs, want.head_chs,
                      ens_variant_dims_blocks(&want), path, dims->stem_chs, dims->head_chs, blocks);
  }
  const int have_size = (cfg && cfg->has_input_size) || (opt && opt->input_height > 0);
  const int have_norm = (cfg && cfg->has_mean && cfg->has_std) || (opt && opt->override_mean_std);
  if (!have_size || !have_norm)
    return ens_fail(
        err, ENS_ERR_MODEL,
        "model %s is not one of tf_efficientnet b0..b7, l2 (conv_stem %d, conv_head %d "
        "channels, %d blocks), so it has no default preprocessing: %s must give "
        "pretrained_cfg.%s, or pass %s in the options",
        path, dims->stem_chs, dims->head_chs, blocks,
        cfg ? "its config.json" : "a config.json beside it (hub directory)",
        !have_size ? (!have_norm ? "input_size, mean and std" : "input_size") : "mean and std",
        !have_size ? (!have_norm ? "an input size and mean/std" : "an input size") : "mean/std");
  return ENS_OK;
}

static ens_status load_file(const char *path, const ens_options *opt, const ens_hub_config *cfg,
                            const char *cfg_path, ens_model **out, ens_error *err)
{
  ens_safetensors st;
  ens_status s = ens_st_open(path, &st, err);
  if (s)
    return s;
  const ens_variant_def *v = NULL;
  ens_variant_dims dims;
  int num_classes = 0;
  ens_net net;
  memset(&net, 0, sizeof net);
  file_source fs = {.st = &st, .path = path, .used = calloc((size_t)st.count + 1, 1)};
  if (!fs.used) {
    ens_st_close(&st);
    return ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", path);
  }
  ens_weight_source src = {.read = file_read, .ctx = &fs};
  if (!(s = ens_model_detect(&st, path, &v, &dims, &num_classes, err)) &&
      !(s = v ? ENS_OK : check_custom_config(path, &dims, opt, cfg, cfg_path, err)) &&
      !(s = ens_net_build(&net, v, &dims, num_classes, &src, err)) &&
      (s = check_unused(&fs, v, err)) != ENS_OK)
    ens_net_free(&net);
  size_t bytes = st.map_len;
  free(fs.used);
  ens_st_close(&st);
  if (s)
    return s;
  return ens_model_create(&net, opt, cfg, cfg_path, bytes, 0, out, err);
}

ens_status ens_model_load(const char *path, const ens_options *opt, ens_model **out, ens_error *err)
{
  if (!out)
    return ens_fail(err, ENS_ERR_ARG, "ens_model_load: NULL output pointer");
  *out = NULL;
  if (!path)
    return ens_fail(err, ENS_ERR_ARG, "ens_model_load: NULL path");
  struct stat sb;
  if (stat(path, &sb) != 0)
    return ens_fail(err, ENS_ERR_IO, "cannot open model '%s': %s", path, strerror(errno));
  if (!S_ISDIR(sb.st_mode))
    return load_file(path, opt, NULL, NULL, out, err);

  /* hub layout */
  size_t n = strlen(path) + 32;
  char *weights = malloc(n), *config = malloc(n);
  if (!weights || !config) {
    free(weights);
    free(config);
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory");
  }
  snprintf(weights, n, "%s/model.safetensors", path);
  snprintf(config, n, "%s/config.json", path);
  ens_status s;
  ens_hub_config cfg;
  memset(&cfg, 0, sizeof cfg);
  int have_cfg = stat(config, &sb) == 0;
  if (stat(weights, &sb) != 0)
    s = ens_fail(err, ENS_ERR_IO, "cannot open model '%s': %s", weights, strerror(errno));
  else if (have_cfg && (s = ens_hub_config_load(config, &cfg, err)) != ENS_OK)
    ;
  else
    s = load_file(weights, opt, have_cfg ? &cfg : NULL, config, out, err);
  ens_hub_config_free(&cfg);
  free(weights);
  free(config);
  return s;
}
