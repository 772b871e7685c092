/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ema.h - exponential moving average of the weights, timm's ModelEmaV2 (internal).
 *
 * Averages every param AND buffer (state_dict semantics: BN running statistics too):
 * ema = decay * ema + (1 - decay) * model, after each optimizer step. ModelEmaV2 has a fixed
 * decay; ens_ema_decay_at adds ModelEmaV3's optional warm-up of the decay (what timm's
 * train.py uses with --model-ema-warmup). The EMA copy is made from the model at creation
 * (V2's deepcopy). Values are kept in the params' own layout, so the swap helpers let an
 * evaluation run on the EMA weights in place. */
#ifndef ENS_EMA_H
#define ENS_EMA_H

#include <stddef.h>

#include "ens.h"
#include "param.h"

typedef struct ens_ema ens_ema;

/* Copies params' current values (params and buffers). */
ens_status ens_ema_new(const ens_param *params, int n_params, ens_ema **out, ens_error *err);
void ens_ema_free(ens_ema *ema);

/* ema = decay * ema + (1 - decay) * model over every tensor. params must be the same list
 * (count, names and sizes) as at creation. */
ens_status ens_ema_update(ens_ema *ema, const ens_param *params, int n_params, double decay,
                          ens_error *err);

/* ModelEmaV3.get_decay(step) with update_after_step 0, min_decay 0: 0 at step <= 1 (the first
 * update copies the model); with warmup, min(decay, 1 - (1 + (step - 1) / gamma)^-power)
 * (timm's defaults gamma 1, power 2/3); without, decay. step = updates done, counting this
 * one. For plain ModelEmaV2 pass decay to ens_ema_update directly. */
double ens_ema_decay_at(double decay, long long step, int warmup, double gamma, double power);

/* ModelEmaV2.set: ema = model. */
ens_status ens_ema_set(ens_ema *ema, const ens_param *params, int n_params, ens_error *err);

/* Exchanges the EMA values with the params' data (call again to swap back): evaluate on the
 * EMA weights without a second network. */
ens_status ens_ema_swap(ens_ema *ema, ens_param *params, int n_params, ens_error *err);

/* Averaged values of tensor i (same index, name and layout as params[i]), e.g. to write a
 * checkpoint's state_dict_ema or to restore it. */
float *ens_ema_tensor(const ens_ema *ema, int i, size_t *numel);
int ens_ema_count(const ens_ema *ema);

#endif
