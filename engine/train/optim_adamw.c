/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* optim_adamw.c - torch AdamW (decoupled decay, bias correction, eps outside the sqrt) over
 * one range (see optim_update.h). */
#include <math.h>

#include "optim_update.h"

void ens_adamw_update(const ens_adamw_scalars *s, float *p, const float *grad, float *exp_avg,
                      float *exp_avg_sq, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    float g = grad[i];
    float w = p[i] * s->decay_factor; /* decoupled: not part of the gradient moments */
    float m = exp_avg[i] * s->beta1 + s->one_minus_beta1 * g;
    float v = exp_avg_sq[i] * s->beta2 + s->one_minus_beta2 * g * g; /* addcmul order */
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    float denom = sqrtf(v) / s->bias_correction2_sqrt + s->eps;
    p[i] = w + -s->step_size * m / denom; /* addcdiv order */
  }
}
