/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* param.h - one trainable tensor as the optimizers, EMA and checkpoints see it (internal).
 *
 * The training graph owns the memory; data and grad share one layout, which may be the
 * graph's own (e.g. depthwise taps tap-major for NHWC) rather than PyTorch's: optimizers and
 * EMA are elementwise, and the graph converts to / from timm's layout when it loads and
 * saves. Buffers that are not trained (BN running statistics) are ens_param too, with
 * grad == NULL and is_buffer set: EMA averages them, optimizers skip them. */
#ifndef ENS_PARAM_H
#define ENS_PARAM_H

#include <stddef.h>

#define ENS_PARAM_NAME_MAX 96

typedef struct {
  char name[ENS_PARAM_NAME_MAX]; /* timm state_dict key, e.g. "blocks.1.0.conv_pw.weight" */
  int ndim;
  long long shape[4]; /* timm's (PyTorch) shape, whatever the layout of data */
  size_t numel;
  float *data;
  float *grad;         /* NULL for buffers */
  int is_buffer;       /* BN running_mean / running_var: averaged by EMA, never optimized */
  int no_weight_decay; /* timm's param_groups_weight_decay: 1-D tensors (biases, BN) */
} ens_param;

#endif
