/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_data.h - the data options shared by the ens-train subcommands: which files or
 * folders, the Fashion-MNIST shortcut and its labeled split, and the batch preprocessing that
 * matches what inference does to a frame. */
#ifndef ENS_TRAIN_DATA_H
#define ENS_TRAIN_DATA_H

#include "batch.h"
#include "dataset.h"

#define ENS_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

typedef struct {
  const char *data;       /* folder tree, IDX images file, or "fashion-mnist[:DIR]" */
  const char *labels;     /* IDX labels file (default: derived from the images file name) */
  const char *val_data;   /* as data; default for fashion-mnist: its t10k test set */
  const char *val_labels; /* as labels */
  const char *subset;     /* NULL, "labeled" or "unlabeled" (Fashion-MNIST's 6,000 / 54,000) */
  double val_split;       /* folder trees without train/ + val/ */
  int input_size;         /* 0: 32 for 28x28 IDX images, 224 for folders */
  float crop_pct;         /* folders: 0 = 1.0 (the whole picture) */
  int skip_bad;
  uint64_t seed;
  int no_val;    /* 1: do not load a validation set */
  int limit;     /* > 0: only the first `limit` training images (quick runs, tests) */
  int val_limit; /* > 0: only the first `val_limit` validation images */
} ens_data_args;

typedef struct {
  ens_dataset train, val;
  int has_val;
  int input_size;
  float crop_pct; /* what the exported config.json must say so inference matches */
  ens_interp interp;
  ens_batch_config train_b, eval_b;
  char tag[64]; /* pretrained_cfg.tag of an exported model */
} ens_data;

/* Loads train (and val) and sets the batch configs: IDX images are zero-bordered to the input
 * size (crop_pct = input / image size, i.e. timm's CenterCrop padding) and normalised with the
 * training set's own mean / std (Fashion-MNIST: 0.2860 / 0.3530); folder images are stored as
 * inference preprocesses a frame and normalised with ImageNet's mean / std. The train config
 * has horizontal flip p 0.5 and label smoothing 0.1 until the caller changes them. */
ens_status ens_data_load(const ens_data_args *a, ens_data *d, ens_error *err);
void ens_data_free(ens_data *d);

/* The unlabeled samples of a harvest folder (ensharvest; ens_data_load refuses one) stored like
 * the images of like (size, channels, and the zero border IDX images get in the batch), so
 * the two sets can be trained on together: a sample saved at the model's input size is
 * mapped back to a stored image, one saved at its original size is stored as an image-folder
 * picture. limit > 0 keeps the first limit samples. Prints how many samples were skipped
 * and how many carry the harvesting model's full distribution. */
ens_status ens_data_load_harvest(const char *dir, const ens_data *like, int limit, ens_dataset *out,
                                 ens_error *err);

#endif
