/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dataset_harvest.h - unlabeled datasets from a harvest directory (internal): the samples
 * ensharvest saves from live video, <stem>.png + <stem>.json (format in ens_harvest.h). */
#ifndef ENS_DATASET_HARVEST_H
#define ENS_DATASET_HARVEST_H

#include "dataset.h"

typedef struct {
  int size;     /* stored images are size x size */
  int channels; /* 3, or 1 (Pillow's "L" of the RGB crop) */
  /* How a sample becomes a stored image (ens_preprocess up to the uint8 crop, as the folder
   * loader stores a picture). Samples saved at their original size are treated like an image
   * folder's pictures: crop_pct. Samples saved at the model's input size are network inputs
   * already: model_crop_pct, 1.0 when the dataset stores network inputs (image folders),
   * size / input size when the batch adds a zero border (IDX: 28 / 32 takes the 28x28 centre
   * of a 32x32 crop back out). */
  float crop_pct, model_crop_pct;
  ens_interp interpolation; /* DEFAULT = bicubic for a square crop, as inference */
} ens_harvest_options;

/* size 224, channels 3, crop_pct 1.0, model_crop_pct 1.0, DEFAULT interpolation. */
void ens_harvest_options_default(ens_harvest_options *o);

/* Nonzero if dir is a harvest directory: a folder whose first *.json file (in name order)
 * is an ens-harvest-1 sidecar. */
int ens_harvest_dir_detect(const char *dir);

/* Loads every sample of dir in name order: each <stem>.json with a readable ens-harvest-1
 * sidecar and its <stem>.png, stored as o says. Labels are -1 (unlabeled). When sidecars hold
 * the teacher's full distribution, num_classes is the first such sidecar's class count and the
 * samples with a distribution of that length get it as a soft row (statistics only: Noisy
 * Student relabels with its own teacher); otherwise num_classes is 0 and there are no soft
 * targets. A sidecar without its PNG (a harvester killed between the two renames), an
 * unreadable sidecar or a corrupt PNG is skipped and counted in *skipped (may be NULL);
 * temporary files (*.tmp.*) are ignored. Errors: dir missing, bad options, no usable sample. */
ens_status ens_dataset_from_harvest(const char *dir, const ens_harvest_options *o, ens_dataset *out,
                                    int *skipped, ens_error *err);

#endif
