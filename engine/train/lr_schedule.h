/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lr_schedule.h - per-step learning rate: linear warm-up then cosine decay, as timm's
 * CosineLRScheduler stepped on updates (t_in_epochs=False, one cycle, no noise, k_decay 1)
 * (internal).
 *
 * Convention (timm's train.py): the optimizer step that follows t completed updates uses
 * lr(t); t = 0 for the first step. timm's train.py defaults: warmup_lr 1e-5 (the
 * CosineLRScheduler class itself defaults to 0), min_lr 0, warmup_prefix off, which means the
 * cosine runs over all total_steps from t = 0 and the warm-up only replaces its first
 * warmup_steps values (so lr(warmup_steps) is slightly below base_lr). With warmup_prefix the
 * cosine starts after the warm-up and lasts total_steps more steps. */
#ifndef ENS_LR_SCHEDULE_H
#define ENS_LR_SCHEDULE_H

#include "ens.h"

typedef struct {
  double base_lr;         /* peak lr (timm --lr) */
  double warmup_lr_init;  /* lr at t = 0 when warmup_steps > 0 (timm --warmup-lr) */
  double min_lr;          /* floor of the cosine (timm --min-lr) */
  long long warmup_steps; /* timm warmup_t: warmup_epochs * updates_per_epoch */
  long long total_steps;  /* timm t_initial: epochs * updates_per_epoch (> 0) */
  int warmup_prefix;      /* timm --warmup-prefix */
} ens_lr_schedule;

ens_status ens_lr_schedule_check(const ens_lr_schedule *s, ens_error *err);

/* Learning rate of the step after t completed updates (t >= 0); min_lr after the cycle. */
double ens_lr_at(const ens_lr_schedule *s, long long t);

#endif
