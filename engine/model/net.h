/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* net.h - the network as the forward pass sees it (internal).
 *
 * Plain structs of packed float32 weights with every BatchNorm folded into the preceding
 * convolution (weight * gamma / sqrt(var + eps), bias = beta - mean * that scale). The convs
 * followed by a SiLU (stem, expansions, depthwise, conv_head) are also scaled by
 * ENS_SILU_PRESCALE = -log2(e), which ENS_ACT_SILU expects (kernels.h): their raw outputs are
 * not the network's pre-activations. Layouts are the ones kernels/kernels.h documents:
 *   stem      [3, 3, 3, stem_chs]       (ky, kx, cin, cout)
 *   1x1 conv  [cin, cout]               (GEMM B operand, in column panels: ens_pw_index)
 *   depthwise [k * k, chs]              (tap-major)
 *   SE reduce [mid, se_chs] (row-major); SE expand [se_chs, mid] and classifier
 *   [num_features, num_classes] in column panels, like the 1x1 convs (the pointwise kernel
 *   runs them).
 * All weights live in one allocation (ens_net.weights); a block's depthwise, SE and
 * projection weights are contiguous in it, dw_w first and proj_w last (the forward prefetches
 * them as one range).
 *
 * The forward that runs it is engine/infer/forward.h. */
#ifndef ENS_NET_H
#define ENS_NET_H

#include <stddef.h>

#include "ens.h"
#include "kernels/kernels.h"
#include "variant.h"

#define ENS_BN_EPS 1e-3

typedef enum {
  ENS_BLOCK_DS = 0, /* conv_dw -> bn1+SiLU -> se -> conv_pw -> bn2 (+x) */
  ENS_BLOCK_IR = 1, /* conv_pw -> bn1+SiLU -> conv_dw -> bn2+SiLU -> se -> conv_pwl -> bn3 (+x) */
} ens_block_type;

typedef struct {
  ens_block_type type;
  int stage, index; /* blocks.<stage>.<index> */
  int in_chs, mid_chs, out_chs, se_chs;
  int k, stride;
  int skip;               /* identity residual: stride 1 and in == out */
  float *exp_w, *exp_b;   /* IR only: [in, mid] */
  float *dw_w, *dw_b;     /* [k * k, mid] */
  float *se_rw, *se_rb;   /* [mid, se], [se] */
  float *se_ew, *se_eb;   /* [se, mid] (column panels), [mid] */
  float *proj_w, *proj_b; /* [mid, out]: DS conv_pw, IR conv_pwl */
} ens_block;

typedef struct {
  const ens_variant_def *variant;
  ens_variant_dims dims;
  int num_classes;
  int stem_chs;
  float *stem_w, *stem_b;
  ens_block *blocks;
  int num_blocks;
  int head_in, head_chs; /* head_chs = num_features */
  float *head_w, *head_b;
  float *cls_w, *cls_b;
  float *weights; /* the single allocation behind every pointer above */
  size_t weight_floats;
} ens_net;

/* Where raw (timm-layout, unfolded) tensors come from while building: a safetensors file or
 * the random initialiser. read() fills dst with the tensor `key` of the given shape (numel
 * floats, PyTorch layout) or fails naming the key. */
typedef struct {
  ens_status (*read)(void *ctx, const char *key, int ndim, const long long *shape, float *dst,
                     ens_error *err);
  void *ctx;
} ens_weight_source;

/* Builds net (structure from dims + num_classes, weights from src, BN folded in double).
 * On failure net is left empty (safe to free). */
ens_status ens_net_build(ens_net *net, const ens_variant_def *v, const ens_variant_dims *dims,
                         int num_classes, const ens_weight_source *src, ens_error *err);
void ens_net_free(ens_net *net);

/* Multiply-adds x 2 of one image at ih x iw (from the plan, engine/infer/plan.c). */
double ens_net_gflops(const ens_net *net, int ih, int iw);

/* Debug hook: called after each named step with its NHWC output [n, h, w, c]; names as the
 * goldens: "stem", "blocks.i.j", "blocks.i" (stage output), "head", "features" (h = w = 1),
 * "logits" (h = w = 1). */
typedef void (*ens_net_hook)(void *user, const char *name, const float *nhwc, int n, int h, int w,
                             int c);

#endif
