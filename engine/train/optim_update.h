/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* optim_update.h - the elementwise update of each optimizer over one range of one tensor
 * (internal; optim.c runs them over params and threads, tests call them directly).
 *
 * Scalars are float32 as PyTorch uses them on float tensors; the caller derives them in
 * double, as Python does (e.g. 1 - alpha, AdamW's bias corrections). Operation order follows
 * the reference implementations so results agree to an ulp or two. */
#ifndef ENS_OPTIM_UPDATE_H
#define ENS_OPTIM_UPDATE_H

#include <stddef.h>

/* timm RMSpropTF (centered=False, decoupled_decay=False, lr_in_momentum=True):
 *   g = grad + wd * p;  sa += (g*g - sa) * one_minus_alpha;  avg = sqrt(sa + eps)
 *   momentum > 0: buf = momentum * buf + lr * g / avg;  p -= buf
 *   momentum = 0: p -= lr * g / avg  (buf unused, may be NULL) */
typedef struct {
  float lr, weight_decay, one_minus_alpha, eps, momentum;
} ens_rmsprop_tf_scalars;
void ens_rmsprop_tf_update(const ens_rmsprop_tf_scalars *s, float *p, const float *grad,
                           float *square_avg, float *momentum_buffer, size_t n);

/* torch SGD, dampening 0:  g = grad + wd * p
 *   momentum > 0: buf = momentum * buf + g (buf starts at 0, so step 1 gives buf = g as torch's
 *   clone does);  g = nesterov ? g + momentum * buf : buf
 *   p -= lr * g */
typedef struct {
  float lr, weight_decay, momentum;
  int nesterov;
} ens_sgd_scalars;
void ens_sgd_update(const ens_sgd_scalars *s, float *p, const float *grad, float *momentum_buffer,
                    size_t n);

/* torch AdamW (amsgrad=False), step t >= 1:
 *   p *= decay_factor (= 1 - lr * wd);  m = beta1 * m + one_minus_beta1 * g
 *   v = beta2 * v + one_minus_beta2 * g * g
 *   p -= step_size * m / (sqrt(v) / bias_correction2_sqrt + eps)
 * with step_size = lr / (1 - beta1^t), bias_correction2_sqrt = sqrt(1 - beta2^t). */
typedef struct {
  float decay_factor, beta1, one_minus_beta1, beta2, one_minus_beta2;
  float step_size, bias_correction2_sqrt, eps;
} ens_adamw_scalars;
void ens_adamw_update(const ens_adamw_scalars *s, float *p, const float *grad, float *exp_avg,
                      float *exp_avg_sq, size_t n);

#endif
