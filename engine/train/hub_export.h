/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hub_export.h - writing a trained model as a hub-layout directory that ens-classify,
 * ensclassify model=DIR and (for the standard b0..l2 shapes) timm load (internal). */
#ifndef ENS_HUB_EXPORT_H
#define ENS_HUB_EXPORT_H

#include "train_graph.h"

typedef struct {
  double width, depth;            /* the multipliers (named in config.json for custom shapes) */
  const char *const *class_names; /* num_classes names, or NULL */
  const char *tag;                /* pretrained_cfg.tag, e.g. "fashion_mnist" */
  int input_size;                 /* network input (square) */
  float crop_pct;                 /* timm eval transform: resize to input / crop_pct, crop */
  ens_interp interpolation;
  float mean[3], std[3];
  const char *extra_json; /* NULL, or more top-level members ("key": value, ...) */
} ens_hub_export_info;

/* Creates dir if needed and writes dir/model.safetensors (timm names, F32, BN buffers and
 * num_batches_tracked) and dir/config.json, each atomically. */
ens_status ens_hub_export(const char *dir, const ens_train_graph *g, const ens_hub_export_info *h,
                          ens_error *err);

/* "tf_efficientnet_b0" ... "tf_efficientnet_l2" when a has exactly that shape, else NULL. */
const char *ens_train_arch_standard_name(const ens_train_arch *a);

#endif
