/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* optim_sgd.c - torch SGD (momentum, Nesterov, dampening 0) over one range (see
 * optim_update.h). */
#include "optim_update.h"

void ens_sgd_update(const ens_sgd_scalars *s, float *p, const float *grad, float *momentum_buffer,
                    size_t n)
{
  for (size_t i = 0; i < n; i++) {
    float g = grad[i];
    if (s->weight_decay != 0.0f)
      g = g + s->weight_decay * p[i];
    if (momentum_buffer) {
      float buf = momentum_buffer[i] * s->momentum + g;
      momentum_buffer[i] = buf;
      g = s->nesterov ? g + s->momentum * buf : buf;
    }
    p[i] = p[i] + (-s->lr) * g;
  }
}
