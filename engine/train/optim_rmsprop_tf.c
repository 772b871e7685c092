/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* optim_rmsprop_tf.c - timm's RMSpropTF update over one range (see optim_update.h). */
#include <math.h>

#include "optim_update.h"

void ens_rmsprop_tf_update(const ens_rmsprop_tf_scalars *s, float *p, const float *grad,
                           float *square_avg, float *momentum_buffer, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    float g = grad[i];
    if (s->weight_decay != 0.0f)
      g = g + s->weight_decay * p[i]; /* coupled L2: uses p before this update */
    /* TensorFlow's order: sa + (g^2 - sa) * (1 - alpha), not alpha * sa + (1 - alpha) * g^2 */
    float sa = square_avg[i] + s->one_minus_alpha * (g * g - square_avg[i]);
    square_avg[i] = sa;
    float avg = sqrtf(sa + s->eps); /* eps inside the sqrt */
    if (momentum_buffer) {
      /* the lr is folded into the buffer, so an lr change affects only new contributions */
      float buf = momentum_buffer[i] * s->momentum + s->lr * g / avg; /* addcdiv order */
      momentum_buffer[i] = buf;
      p[i] = p[i] - buf;
    } else {
      p[i] = p[i] + -s->lr * g / avg;
    }
  }
}
