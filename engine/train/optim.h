/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* optim.h - optimizers over arrays of ens_param: timm's RMSpropTF, SGD with Nesterov momentum
 * and AdamW (PyTorch 1.13 semantics), their state and its export for checkpoints (internal).
 *
 * The caller owns the params (data, grad) and sets the learning rate before every step (the
 * schedule lives in lr_schedule.h). Buffers (is_buffer or grad == NULL) are never touched.
 * All state tensors live in one allocation; a step is elementwise, so its result does not
 * depend on the thread pool or its thread count. */
#ifndef ENS_OPTIM_H
#define ENS_OPTIM_H

#include <stddef.h>

#include "ens.h"
#include "param.h"
#include "threadpool.h"

typedef enum {
  ENS_OPTIM_RMSPROP_TF = 0, /* timm RMSpropTF, centered=False, decoupled_decay=False,
                               lr_in_momentum=True: state square_avg (starts at 1),
                               momentum_buffer (if momentum > 0) */
  ENS_OPTIM_SGD = 1,        /* torch.optim.SGD, dampening 0: state momentum_buffer
                               (if momentum > 0) */
  ENS_OPTIM_ADAMW = 2,      /* torch.optim.AdamW, amsgrad=False: state exp_avg, exp_avg_sq */
} ens_optim_kind;

typedef struct {
  ens_optim_kind kind;
  double lr;           /* the learning rate until ens_optim_set_lr changes it */
  double weight_decay; /* RMSpropTF / SGD: coupled (g += wd * p); AdamW: p *= 1 - lr * wd */
  /* 1: params with no_weight_decay get weight decay 0 (timm's param_groups_weight_decay, what
   * create_optimizer_v2 does); 0: every param gets weight_decay (one torch param group). */
  int exclude_no_weight_decay;
  double momentum;     /* RMSpropTF, SGD */
  double alpha;        /* RMSpropTF smoothing constant of square_avg */
  double eps;          /* RMSpropTF (inside the sqrt), AdamW (outside) */
  int nesterov;        /* SGD (requires momentum > 0) */
  double beta1, beta2; /* AdamW */
} ens_optim_config;

/* Defaults of the constructors (timm RMSpropTF: lr 1e-2, alpha 0.9, eps 1e-10, momentum 0;
 * torch SGD: momentum 0, nesterov off; torch AdamW: lr 1e-3, betas (0.9, 0.999), eps 1e-8,
 * weight_decay 1e-2). Weight decay exclusion off, like a bare torch constructor. */
ens_optim_config ens_optim_config_default(ens_optim_kind kind);

typedef struct ens_optimizer ens_optimizer;

/* params stays owned by the caller and must outlive the optimizer; its data / grad pointers are
 * read at every step. State is created here: RMSpropTF square_avg = 1, everything else 0. */
ens_status ens_optim_new(const ens_optim_config *cfg, ens_param *params, int n_params,
                         ens_optimizer **out, ens_error *err);
void ens_optim_free(ens_optimizer *opt);

void ens_optim_set_lr(ens_optimizer *opt, double lr);
double ens_optim_lr(const ens_optimizer *opt);

/* One update of every trainable param from its grad (grads are not cleared). pool may be NULL
 * (runs on the calling thread). */
void ens_optim_step(ens_optimizer *opt, ens_threadpool *pool);

/* Number of steps taken (AdamW's bias correction uses it); set when restoring a checkpoint. */
long long ens_optim_steps(const ens_optimizer *opt);
void ens_optim_set_steps(ens_optimizer *opt, long long steps);

/* State tensors, named "<param name>.<state>" with <state> one of square_avg,
 * momentum_buffer, exp_avg, exp_avg_sq (PyTorch's optimizer state keys); shape = the param's. */
typedef struct {
  char name[ENS_PARAM_NAME_MAX + 24];
  const ens_param *param; /* the param it belongs to (shape, layout) */
  float *data;            /* inside the optimizer's one allocation */
  size_t numel;
} ens_optim_state;

int ens_optim_state_count(const ens_optimizer *opt);
const ens_optim_state *ens_optim_state_at(const ens_optimizer *opt, int i);
/* NULL if no state tensor has that name. */
const ens_optim_state *ens_optim_state_find(const ens_optimizer *opt, const char *name);
/* Copies numel floats into the state tensor `name` (checkpoint restore). */
ens_status ens_optim_state_import(ens_optimizer *opt, const char *name, const float *data,
                                  size_t numel, ens_error *err);

#endif
