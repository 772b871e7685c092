/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* variant.c - the variant table and timm's scaling rules. */
#include "variant.h"

#include <math.h>
#include <string.h>

const int ens_stage_kernel[ENS_NUM_STAGES] = {3, 3, 5, 3, 5, 5, 3};
const int ens_stage_stride[ENS_NUM_STAGES] = {1, 2, 2, 2, 1, 2, 1};
const int ens_stage_exp[ENS_NUM_STAGES] = {1, 6, 6, 6, 6, 6, 6};
const int ens_stage_base_chs[ENS_NUM_STAGES] = {16, 24, 40, 80, 112, 192, 320};
const int ens_stage_base_repeats[ENS_NUM_STAGES] = {1, 2, 2, 3, 3, 4, 1};

const float ens_imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
const float ens_imagenet_std[3] = {0.229f, 0.224f, 0.225f};

static const ens_variant_def variants[] = {
    {"b0", 1.0, 1.0, 224, 0.875f, "ns_jft_in1k"}, {"b1", 1.0, 1.1, 240, 0.882f, "ns_jft_in1k"},
    {"b2", 1.1, 1.2, 260, 0.890f, "ns_jft_in1k"}, {"b3", 1.2, 1.4, 300, 0.904f, "ns_jft_in1k"},
    {"b4", 1.4, 1.8, 380, 0.922f, "ns_jft_in1k"}, {"b5", 1.6, 2.2, 456, 0.934f, "ns_jft_in1k"},
    {"b6", 1.8, 2.6, 528, 0.942f, "ns_jft_in1k"}, {"b7", 2.0, 3.1, 600, 0.949f, "ns_jft_in1k"},
    {"l2", 4.3, 5.3, 800, 0.960f, "ns_jft_in1k"},
};

int ens_variant_count(void)
{
  return (int)(sizeof variants / sizeof variants[0]);
}

const ens_variant_def *ens_variant_at(int i)
{
  return i >= 0 && i < ens_variant_count() ? &variants[i] : NULL;
}

const ens_variant_def *ens_variant_find(const char *name)
{
  for (int i = 0; name && i < ens_variant_count(); i++)
    if (strcmp(variants[i].name, name) == 0)
      return &variants[i];
  return NULL;
}

int ens_round_channels(int chs, double mult)
{
  double v = chs * mult;
  int r = (int)(v + 4.0) / 8 * 8;
  if (r < 8)
    r = 8;
  if (r < 0.9 * v)
    r += 8;
  return r;
}

int ens_round_repeats(int repeats, double mult)
{
  return (int)ceil(repeats * mult);
}

int ens_block_se_chs(int mid_chs, int exp)
{
  return (int)lround(mid_chs * 0.25 / exp);
}

void ens_variant_dims_of(const ens_variant_def *v, ens_variant_dims *d)
{
  d->stem_chs = ens_round_channels(32, v->width_mult);
  d->head_chs = ens_round_channels(1280, v->width_mult);
  for (int s = 0; s < ENS_NUM_STAGES; s++) {
    d->repeats[s] = ens_round_repeats(ens_stage_base_repeats[s], v->depth_mult);
    d->out_chs[s] = ens_round_channels(ens_stage_base_chs[s], v->width_mult);
  }
}

int ens_same_pad(int in, int k, int stride, int *before, int *after)
{
  if (stride == 1) {
    *before = *after = (k - 1) / 2;
    return in + 2 * ((k - 1) / 2) - k + 1;
  }
  int out = (in + stride - 1) / stride;
  int pad = (out - 1) * stride + k - in;
  if (pad < 0)
    pad = 0;
  *before = pad / 2;
  *after = pad - pad / 2;
  return out;
}
