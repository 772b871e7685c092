/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_augment.h - RandAugment as the training batches' augmentation hook (internal).
 *
 * The student's input noise of Noisy Student: timm's rand_augment_transform policy string
 * with the hparams of the reference recipe (translate_const 12, fill 0 = the black
 * background). On 1-channel (gray) data Invert (it would flip the background) and Color (the
 * identity on gray) are left out of the op list, as in ../shared/reference. */
#ifndef ENS_TRAIN_AUGMENT_H
#define ENS_TRAIN_AUGMENT_H

#include "batch.h"

typedef struct ens_train_augment ens_train_augment;

ens_status ens_train_augment_new(const char *policy, int channels, ens_train_augment **out,
                                 ens_error *err);
void ens_train_augment_free(ens_train_augment *a);

/* Makes c apply a to every training sample (after crop / flip, before normalisation). */
void ens_train_augment_hook(ens_train_augment *a, ens_batch_config *c);

#endif
