/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lr_schedule.c - timm CosineLRScheduler's per-update learning rate (see lr_schedule.h). */
#include <math.h>

#include "error.h"
#include "lr_schedule.h"

ens_status ens_lr_schedule_check(const ens_lr_schedule *s, ens_error *err)
{
  if (s->total_steps <= 0)
    return ens_fail(err, ENS_ERR_ARG, "lr schedule: total steps %lld must be > 0", s->total_steps);
  if (s->warmup_steps < 0)
    return ens_fail(err, ENS_ERR_ARG, "lr schedule: warm-up steps %lld must be >= 0",
                    s->warmup_steps);
  if (!(s->base_lr >= 0) || !(s->min_lr >= 0) || !(s->warmup_lr_init >= 0))
    return ens_fail(err, ENS_ERR_ARG, "lr schedule: lr %g, min lr %g, warm-up lr %g must be >= 0",
                    s->base_lr, s->min_lr, s->warmup_lr_init);
  return ENS_OK;
}

double ens_lr_at(const ens_lr_schedule *s, long long t)
{
  if (t < s->warmup_steps) {
    /* timm keeps the per-step increment and multiplies it by t */
    double inc = (s->base_lr - s->warmup_lr_init) / (double)s->warmup_steps;
    return s->warmup_lr_init + (double)t * inc;
  }
  if (s->warmup_prefix)
    t -= s->warmup_steps;
  if (t >= s->total_steps) /* one cycle (timm cycle_limit 1): past it, the floor */
    return s->min_lr;
  const double pi = 3.14159265358979323846;
  return s->min_lr +
         0.5 * (s->base_lr - s->min_lr) * (1.0 + cos(pi * (double)t / (double)s->total_steps));
}
