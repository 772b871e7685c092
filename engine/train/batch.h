/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* batch.h - assembling training / evaluation batches from a dataset (internal).
 *
 * Per sample (HWC uint8 image of the dataset, H x W x C):
 *   train only:  random crop with zero padding (torchvision RandomCrop((H, W), padding):
 *                pad crop_padding px of 0 on every side, take the H x W window at a uniform
 *                offset in [0, 2 x padding] on each axis, rows first), then horizontal flip
 *                with probability hflip_prob, then the augment hook (RandAugment) on the
 *                uint8 image;
 *   always:      zero border of `border` px (H + 2 border = W + 2 border = size), /255 and
 *                (x - mean[c]) / std[c] in float32 as torch does (a 1-channel image uses
 *                mean[0] / std[0] and is copied to the 3 output channels);
 *   targets:     the sample's soft row when the dataset flags it soft, otherwise one-hot of its
 *                label smoothed as timm's LabelSmoothingCrossEntropy: 1 - eps + eps / K on
 *                the label, eps / K elsewhere.
 * Randomness: sample i of the dataset in epoch e draws from its own ens_rng stream derived
 * from (seed, e, i), in the order crop row, crop column, flip, then the hook; so a batch is
 * the same whatever the thread count or the batch it lands in. */
#ifndef ENS_BATCH_H
#define ENS_BATCH_H

#include <stdint.h>

#include "dataset.h"
#include "rng.h"
#include "threadpool.h"

/* An augmentation on a uint8 HWC image in place (w x h x c, c = 1 or 3). */
typedef void (*ens_augment_fn)(void *ctx, uint8_t *img, int w, int h, int c, ens_rng *rng);

typedef struct {
  int size;               /* output is [B, 3, size, size] */
  int border;             /* zero border added after augmentation (px per side) */
  float mean[3], std[3];  /* per output channel, on x / 255 */
  float label_smoothing;  /* eps for one-hot targets */
  int train;              /* 0: no augmentation (evaluation / pseudo-labelling) */
  int crop_padding;       /* RandomCrop padding; 0 = no random crop */
  float hflip_prob;       /* 0.5 in the recipes; 0 = no flip (no draw) */
  ens_augment_fn augment; /* NULL = none */
  void *augment_ctx;
  uint64_t seed;
} ens_batch_config;

/* The reference Fashion-MNIST recipe: 28x28 gray -> flip p 0.5 (+ hook) -> border 2 ->
 * 32x32, mean 0.2860, std 0.3530, label smoothing 0.1, no random crop. */
void ens_batch_config_fashion_mnist(ens_batch_config *c);

/* Generic RGB: size = the dataset's, ImageNet mean / std, flip p 0.5, smoothing 0.1. */
void ens_batch_config_imagenet(ens_batch_config *c, int size);

/* Fills x [b, 3, size, size] and y [b, d->num_classes] (y may be NULL) for the samples
 * idx[0..b) of d in epoch `epoch`, in parallel on pool (NULL = this thread). Errors:
 * ENS_ERR_ARG for sizes that do not match, an index out of range, an unlabeled sample
 * without a soft row when y is wanted. */
ens_status ens_batch_fill(const ens_batch_config *c, const ens_dataset *d, const int *idx, int b,
                          int epoch, ens_threadpool *pool, float *x, float *y, ens_error *err);

/* The sample order of an epoch: order[0..n) = a permutation of [0, n) drawn from
 * (seed, epoch) (shuffle 0: identity). */
void ens_epoch_order(int n, uint64_t seed, int epoch, int shuffle, int *order);

/* Batches per epoch: n / batch with drop_last, else rounded up. */
int ens_epoch_batches(int n, int batch, int drop_last);

#endif
