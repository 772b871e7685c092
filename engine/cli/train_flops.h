/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_flops.h - the arithmetic of a tf_efficientnet training step, for benchmarks: FLOPs of
 * the convolutions and the classifier (one multiply-add = 2 FLOPs; BatchNorm, SiLU, the SE
 * gate product, pooling and the optimizer are not counted). */
#ifndef ENS_TRAIN_FLOPS_H
#define ENS_TRAIN_FLOPS_H

#include "train_arch.h"

/* Forward GFLOP of one image at h x w:
 *   stem 27*stem_chs per output pixel (3x3 stride 2, TF SAME: out = ceil(in / 2));
 *   per block at input H x W, output OH x OW = ceil(H / stride) x ceil(W / stride):
 *     IR expand in*mid*H*W; depthwise k*k*mid*OH*OW; SE 2*mid*se_rd; project mid*out*OH*OW
 *     (DS blocks: no expand, mid = in);
 *   head last*head_chs per pixel; classifier head_chs*num_classes;
 * all multiply-adds times 2 (the same count as ens_net_gflops for inference). */
double ens_train_forward_gflop(const ens_train_arch *a, int h, int w);

/* A train step per image: forward + the two backward products of every layer (input
 * gradient and weight gradient, each as many multiply-adds as the forward) = 3 x forward. */
double ens_train_step_gflop(const ens_train_arch *a, int h, int w);

#endif
