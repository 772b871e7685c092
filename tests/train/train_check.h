/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_check.h - comparisons shared by the training tests. */
#ifndef ENS_TRAIN_CHECK_H
#define ENS_TRAIN_CHECK_H

#include <stddef.h>

#include "train_graph.h"

/* Per-tensor rule of goldens/train/README.md: max|c-g| <= rel * max|g| + atol. Prints a line
 * when verbose or failing; counts a failure in ens_test_failures. Returns max|c-g| / max|g|. */
double train_check_scaled(const char *what, const float *got, const float *want, size_t n,
                          double rel, double atol, int verbose);

/* Is name the last BN bias of a block (analytically zero gradient in train mode)? */
int train_is_zero_grad_bias(const char *name);

/* The parameter named name (NULL if none). */
ens_param *train_find_param(ens_train_graph *g, const char *name);

#endif
