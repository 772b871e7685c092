/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hub_export.c - a trained graph as a hub-layout directory: model.safetensors in timm's key
 * names (F32) and config.json (timm's save_config_for_hf fields), both written atomically. */
#include "hub_export.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

static const struct {
  const char *name;
  double width, depth;
} standard_shapes[] = {
    {"tf_efficientnet_b0", 1.0, 1.0}, {"tf_efficientnet_b1", 1.0, 1.1},
    {"tf_efficientnet_b2", 1.1, 1.2}, {"tf_efficientnet_b3", 1.2, 1.4},
    {"tf_efficientnet_b4", 1.4, 1.8}, {"tf_efficientnet_b5", 1.6, 2.2},
    {"tf_efficientnet_b6", 1.8, 2.6}, {"tf_efficientnet_b7", 2.0, 3.1},
    {"tf_efficientnet_l2", 4.3, 5.3},
};

const char *ens_train_arch_standard_name(const ens_train_arch *a)
{
  for (size_t i = 0; i < sizeof standard_shapes / sizeof standard_shapes[0]; i++) {
    ens_train_arch s;
    ens_error err;
    if (ens_train_arch_from_mult(standard_shapes[i].width, standard_shapes[i].depth, a->num_classes,
                                 &s, &err) == ENS_OK &&
        ens_train_arch_equal(a, &s))
      return standard_shapes[i].name;
  }
  return NULL;
}

/* A JSON string literal (RFC 8259 escapes) onto f. */
static void json_string(FILE *f, const char *s)
{
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p == '\n')
      fputs("\\n", f);
    else if (*p == '\t')
      fputs("\\t", f);
    else if (*p < 0x20)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

static ens_status write_config(const char *path, const ens_train_arch *a,
                               const ens_hub_export_info *h, ens_error *err)
{
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
    return ens_fail(err, ENS_ERR_ARG, "output path too long: %s", path);
  FILE *f = fopen(tmp, "w");
  if (!f)
    return ens_fail(err, ENS_ERR_IO, "cannot create '%s': %s", tmp, strerror(errno));
  const char *std_name = ens_train_arch_standard_name(a);
  fputs("{\n  \"architecture\": ", f);
  if (std_name) {
    json_string(f, std_name);
  } else {
    /* Not a timm entrypoint: ens (and timm's _gen_efficientnet with these multipliers) build
     * it from the tensor shapes. */
    char name[96];
    snprintf(name, sizeof name, "tf_efficientnet w%g d%g", h->width, h->depth);
    json_string(f, name);
    fprintf(f, ",\n  \"channel_multiplier\": %g,\n  \"depth_multiplier\": %g", h->width, h->depth);
  }
  fprintf(f, ",\n  \"num_classes\": %d,\n  \"num_features\": %d,\n  \"global_pool\": \"avg\"",
          a->num_classes, a->head_chs);
  if (h->class_names) {
    fputs(",\n  \"label_names\": [", f);
    for (int i = 0; i < a->num_classes; i++) {
      if (i)
        fputs(", ", f);
      json_string(f, h->class_names[i]);
    }
    fputc(']', f);
  }
  fputs(",\n  \"pretrained_cfg\": {\n    \"tag\": ", f);
  json_string(f, h->tag ? h->tag : "ens_train");
  fprintf(f,
          ",\n    \"input_size\": [3, %d, %d],\n    \"interpolation\": \"%s\",\n"
          "    \"crop_pct\": %.7g,\n    \"crop_mode\": \"center\",\n"
          "    \"mean\": [%.6g, %.6g, %.6g],\n    \"std\": [%.6g, %.6g, %.6g],\n"
          "    \"num_classes\": %d\n  }",
          h->input_size, h->input_size,
          h->interpolation == ENS_INTERP_BILINEAR ? "bilinear" : "bicubic", (double)h->crop_pct,
          (double)h->mean[0], (double)h->mean[1], (double)h->mean[2], (double)h->std[0],
          (double)h->std[1], (double)h->std[2], a->num_classes);
  if (h->extra_json)
    fprintf(f, ",\n  %s", h->extra_json);
  fputs("\n}\n", f);
  int bad = ferror(f);
  bad |= fflush(f) != 0;
  bad |= fsync(fileno(f)) != 0;
  int saved = errno;
  bad |= fclose(f) != 0;
  if (bad) {
    unlink(tmp);
    return ens_fail(err, ENS_ERR_IO, "cannot write '%s': %s", path, strerror(saved ? saved : EIO));
  }
  if (rename(tmp, path) != 0) {
    saved = errno;
    unlink(tmp);
    return ens_fail(err, ENS_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(saved));
  }
  return ENS_OK;
}

ens_status ens_hub_export(const char *dir, const ens_train_graph *g, const ens_hub_export_info *h,
                          ens_error *err)
{
  if (mkdir(dir, 0777) != 0 && errno != EEXIST)
    return ens_fail(err, ENS_ERR_IO, "cannot create output directory '%s': %s", dir,
                    strerror(errno));
  struct stat sb;
  if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return ens_fail(err, ENS_ERR_IO, "output '%s' is not a directory", dir);
  char path[4096];
  if (snprintf(path, sizeof path, "%s/model.safetensors", dir) >= (int)sizeof path)
    return ens_fail(err, ENS_ERR_ARG, "output path too long: %s", dir);
  ens_status st = ens_tg_save(g, path, err);
  if (st != ENS_OK)
    return st;
  snprintf(path, sizeof path, "%s/config.json", dir);
  return write_config(path, ens_tg_arch(g), h, err);
}
