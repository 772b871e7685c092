/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* variant_custom.h - the widths and depths of ANY tf_efficientnet (timm's _gen_efficientnet
 * of tf_efficientnet_b0 with channel_multiplier W, depth_multiplier D) from the tensor shapes
 * of its state dict, for the models that are none of b0..b7, l2 (internal). */
#ifndef ENS_VARIANT_CUSTOM_H
#define ENS_VARIANT_CUSTOM_H

#include "safetensors.h"
#include "variant.h"

/* Block counts per stage from the key names, channels per stage, stem and head widths from
 * the weight shapes (read by the training code's shape parser, ens_train_arch_from_st), then
 * checked against what the inference network builds from those dims: every block's expansion,
 * depthwise kernel and squeeze-excite width as the EfficientNet arch_def gives them, and one
 * output width per stage. ENS_ERR_MODEL naming the first block that differs. */
ens_status ens_variant_dims_from_st(const ens_safetensors *st, const char *path,
                                    ens_variant_dims *d, ens_error *err);

/* Total blocks of dims. */
int ens_variant_dims_blocks(const ens_variant_dims *d);

#endif
