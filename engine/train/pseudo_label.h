/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pseudo_label.h - the teacher step of Noisy Student (internal): from the teacher's softmax on
 * unlabeled images, the pseudo-labeled training set — soft (the full distribution) or hard
 * (one-hot of the argmax) targets, a confidence threshold, and the paper's class balancing
 * (per predicted class keep the most confident images; duplicate them for short classes). */
#ifndef ENS_PSEUDO_LABEL_H
#define ENS_PSEUDO_LABEL_H

#include "dataset.h"

typedef struct {
  int hard;        /* 1: one-hot targets of the argmax; 0: the teacher's softmax */
  float threshold; /* keep images whose top probability is >= threshold (0: all) */
  int per_class;   /* > 0: exactly this many images per predicted class (the most confident
                    * first; a class with fewer is repeated from its most confident image on,
                    * a class with none stays empty); 0: no balancing */
} ens_pseudo_config;

typedef struct {
  int input;        /* unlabeled images given */
  int above;        /* of those, with top probability >= threshold */
  int kept;         /* images in the output (with duplicates) */
  int unique;       /* distinct images in the output */
  double mean_conf; /* mean top probability over all input images */
  double acc_input; /* argmax vs the true labels over the input (-1: no labels) */
  double acc_kept;  /* the same over the output rows (duplicates counted) */
} ens_pseudo_stats;

/* probs [unlabeled->n, K] (rows sum to 1). out: the chosen images of unlabeled (in order of
 * class, then confidence), labels = the argmax, and with soft targets the probability rows.
 * unlabeled's own labels, if any (>= 0), are used only for the statistics. */
ens_status ens_pseudo_label(const ens_dataset *unlabeled, const float *probs,
                            const ens_pseudo_config *c, ens_dataset *out, ens_pseudo_stats *stats,
                            ens_error *err);

#endif
