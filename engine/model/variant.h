/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* variant.h - the tf_efficientnet_{b0..b7,l2} family: scaling rules and pretrained
 * configs (internal). Numbers from timm's _gen_efficientnet + the NS pretrained cfgs. */
#ifndef ENS_VARIANT_H
#define ENS_VARIANT_H

#include "ens.h"

#define ENS_NUM_STAGES 7

/* Stage table of the B0 base network (timm arch_def, SE ratio 0.25 everywhere). Stage 0 is
 * depthwise-separable ("ds"), the others inverted-residual ("ir"). */
extern const int ens_stage_kernel[ENS_NUM_STAGES];   /* 3 3 5 3 5 5 3 */
extern const int ens_stage_stride[ENS_NUM_STAGES];   /* 1 2 2 2 1 2 1 */
extern const int ens_stage_exp[ENS_NUM_STAGES];      /* 1 6 6 6 6 6 6 */
extern const int ens_stage_base_chs[ENS_NUM_STAGES]; /* 16 24 40 80 112 192 320 */
extern const int ens_stage_base_repeats[ENS_NUM_STAGES];

typedef struct {
  const char *name;  /* "b0" */
  double width_mult; /* channel multiplier */
  double depth_mult; /* repeats multiplier */
  int input_size;    /* pretrained input (square) */
  float crop_pct;    /* pretrained crop_pct */
  const char *tag;   /* pretrained tag, "ns_jft_in1k" */
} ens_variant_def;

/* The resolved widths and depths of one variant. */
typedef struct {
  int stem_chs, head_chs;
  int repeats[ENS_NUM_STAGES];
  int out_chs[ENS_NUM_STAGES];
} ens_variant_dims;

/* ImageNet mean / std (the NS configs use these, not the Inception 0.5 ones). */
extern const float ens_imagenet_mean[3], ens_imagenet_std[3];

int ens_variant_count(void);
const ens_variant_def *ens_variant_at(int i);
/* NULL if unknown. */
const ens_variant_def *ens_variant_find(const char *name);

/* timm make_divisible(c * mult, 8): max(8, int(c*mult + 4) // 8 * 8), + 8 if that is below
 * 0.9 * c * mult. */
int ens_round_channels(int chs, double mult);
/* ceil(repeats * depth_mult), as timm computes it (in double). */
int ens_round_repeats(int repeats, double mult);

/* timm's SqueezeExcite width of a block with mid_chs expanded channels (expansion exp):
 * round(mid_chs * 0.25 / exp), i.e. a quarter of the block input. */
int ens_block_se_chs(int mid_chs, int exp);

void ens_variant_dims_of(const ens_variant_def *v, ens_variant_dims *d);

/* TensorFlow "SAME" padding along one axis as timm applies it: stride 1 (odd k): static
 * symmetric (k-1)/2; stride > 1 (Conv2dSame): pad = max((ceil(in/s) - 1) * s + k - in, 0),
 * before = pad / 2, after = pad - before. Returns the output length. */
int ens_same_pad(int in, int k, int stride, int *before, int *after);

#endif
