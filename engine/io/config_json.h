/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config_json.h - the hub-layout config.json timm writes beside model.safetensors (internal).
 *
 * Layout (timm save_config_for_hf):
 *   {"architecture": "tf_efficientnet_b0", "num_classes": 1000, "num_features": 1280,
 *    "global_pool": "avg", "label_names": [...] or {"<id>": name, ...},
 *    "pretrained_cfg": {"tag": "ns_jft_in1k", "input_size": [3, 224, 224],
 *                       "interpolation": "bicubic", "crop_pct": 0.875, "crop_mode": "center",
 *                       "mean": [..3], "std": [..3], "num_classes": 1000, ...}}
 * Older single-dict files (no "pretrained_cfg") hold the pretrained fields at the top level and
 * may call label_names "labels"; both are read. Unknown keys are ignored; a known key with the
 * wrong type or an impossible value is an error naming the file and the key.
 */
#ifndef ENS_CONFIG_JSON_H
#define ENS_CONFIG_JSON_H

#include "ens.h"

typedef struct {
  int has_architecture;
  char architecture[128]; /* e.g. "tf_efficientnet_b0" */
  int has_channel_multiplier, has_depth_multiplier;
  double channel_multiplier, depth_multiplier; /* top-level; custom shapes (ens-train) */
  int has_tag;
  char tag[64]; /* pretrained_cfg.tag, e.g. "ns_jft_in1k" */
  int has_num_classes;
  int num_classes; /* top-level, else pretrained_cfg.num_classes */
  int has_num_features;
  int num_features;
  int has_input_size;
  int input_size[3]; /* C, H, W */
  int has_crop_pct;
  float crop_pct;
  int has_interpolation;
  ens_interp interpolation; /* BICUBIC or BILINEAR (others are rejected) */
  int has_crop_mode;
  char crop_mode[32]; /* "center", "squash", "border" (kept as written) */
  int has_mean;
  float mean[3];
  int has_std;
  float std[3];
  int has_label_names;
  char **label_names; /* label_count entries, owned; a dict with id gaps fills them "class_<id>" */
  int label_count;
} ens_hub_config;

/* Read path into *out (zeroed first). On failure *out is empty (safe to free). */
ens_status ens_hub_config_load(const char *path, ens_hub_config *out, ens_error *err);

/* Parse config text already in memory; name_for_errors is used in messages. */
ens_status ens_hub_config_parse(const char *text, size_t len, const char *name_for_errors,
                                ens_hub_config *out, ens_error *err);

void ens_hub_config_free(ens_hub_config *c);

#endif
