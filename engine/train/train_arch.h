/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_arch.h - the block list of a tf_efficientnet model for training (internal).
 *
 * Any _gen_efficientnet('tf_efficientnet_b0', channel_multiplier=W, depth_multiplier=D,
 * bn_eps=1e-3, pad_type='same', num_classes=K): built from (W, D, K) with timm's rounding, or
 * read back from the key names and weight shapes of a timm .safetensors file. */
#ifndef ENS_TRAIN_ARCH_H
#define ENS_TRAIN_ARCH_H

#include "ens.h"
#include "safetensors.h"

#define ENS_TRAIN_MAX_BLOCKS 128

typedef enum { ENS_BLOCK_DS = 0, ENS_BLOCK_IR = 1 } ens_block_type;

typedef struct {
  ens_block_type type;
  int stage, index; /* timm name blocks.<stage>.<index> */
  int in, mid, out; /* channels; DS: mid == in */
  int k, stride;    /* depthwise kernel and stride */
  int se_rd;        /* squeeze-excite reduced channels */
  int skip;         /* identity skip (stride 1 and in == out) */
} ens_train_block;

typedef struct {
  int stem_chs, head_chs, num_classes;
  int nblocks;
  ens_train_block blocks[ENS_TRAIN_MAX_BLOCKS];
} ens_train_arch;

/* From the multipliers: channels round_channels(c*W) (make_divisible 8), repeats ceil(r*D). */
ens_status ens_train_arch_from_mult(double width, double depth, int num_classes, ens_train_arch *a,
                                    ens_error *err);

/* From a timm state_dict: stage/block counts from key names, channels, SE width and kernel
 * size from weight shapes, DS vs IR from keys, strides from the EfficientNet stage table. */
ens_status ens_train_arch_from_st(const ens_safetensors *st, ens_train_arch *a, ens_error *err);

/* Nonzero if both describe the same network. */
int ens_train_arch_equal(const ens_train_arch *a, const ens_train_arch *b);

/* "blocks.<stage>.<index>" into buf. */
void ens_train_block_name(const ens_train_block *b, char *buf, size_t len);

#endif
