/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op_batchnorm.c - BatchNorm2d on NHWC [P, C]: train mode (batch statistics, running-stat
 * update), eval mode (running statistics) and the backward pass. Per-channel sums are taken
 * in double over all P rows by channel blocks, so they do not depend on the thread split. */
#include <math.h>
#include <string.h>

#include "train_ops.h"

#define BN_CBLOCK 64

typedef struct {
  float *y, *mean, *invstd, *var, *running_mean, *running_var;
  const float *x, *dy, *gamma, *beta;
  float *dgamma, *dbeta;
  const float *cmean, *cinvstd, *rm, *rv;
  int P, C;
  float eps, momentum;
} bn_ctx;

static void channel_range(const bn_ctx *c, int blk, int *c0, int *cn)
{
  *c0 = blk * BN_CBLOCK;
  *cn = c->C - *c0 < BN_CBLOCK ? c->C - *c0 : BN_CBLOCK;
}

/* mean, biased var (two passes in double), running-stat update. */
ENS_TG_CLONES static void stats_blocks(void *vctx, int b0, int b1)
{
  const bn_ctx *c = vctx;
  for (int blk = b0; blk < b1; blk++) {
    int c0, cn;
    channel_range(c, blk, &c0, &cn);
    double sum[BN_CBLOCK] = {0}, sq[BN_CBLOCK] = {0};
    for (int p = 0; p < c->P; p++) {
      const float *x = c->x + (size_t)p * c->C + c0;
      for (int i = 0; i < cn; i++)
        sum[i] += x[i];
    }
    for (int i = 0; i < cn; i++)
      sum[i] /= c->P;
    for (int p = 0; p < c->P; p++) {
      const float *x = c->x + (size_t)p * c->C + c0;
      for (int i = 0; i < cn; i++) {
        double d = x[i] - sum[i];
        sq[i] += d * d;
      }
    }
    for (int i = 0; i < cn; i++) {
      double var = sq[i] / c->P;
      int ch = c0 + i;
      c->mean[ch] = (float)sum[i];
      c->var[ch] = (float)var;
      c->invstd[ch] = (float)(1.0 / sqrt(var + c->eps));
      if (c->running_mean) {
        double unbiased = c->P > 1 ? var * c->P / (c->P - 1) : var;
        c->running_mean[ch] =
            (float)((1.0 - c->momentum) * c->running_mean[ch] + c->momentum * sum[i]);
        c->running_var[ch] =
            (float)((1.0 - c->momentum) * c->running_var[ch] + c->momentum * unbiased);
      }
    }
  }
}

/* y = (x - mean) * invstd * gamma + beta, rows split */
ENS_TG_CLONES static void normalize_rows(void *vctx, int p0, int p1)
{
  const bn_ctx *c = vctx;
  for (int p = p0; p < p1; p++) {
    const float *x = c->x + (size_t)p * c->C;
    float *y = c->y + (size_t)p * c->C;
    for (int ch = 0; ch < c->C; ch++)
      y[ch] = (x[ch] - c->cmean[ch]) * c->cinvstd[ch] * c->gamma[ch] + c->beta[ch];
  }
}

void batchnorm_train_forward(ens_threadpool *pool, float *y, float *mean, float *invstd, float *var,
                             const float *x, const float *gamma, const float *beta,
                             float *running_mean, float *running_var, int P, int C, float eps,
                             float momentum)
{
  bn_ctx c = {.y = y,
              .mean = mean,
              .invstd = invstd,
              .var = var,
              .running_mean = running_mean,
              .running_var = running_var,
              .x = x,
              .gamma = gamma,
              .beta = beta,
              .cmean = mean,
              .cinvstd = invstd,
              .P = P,
              .C = C,
              .eps = eps,
              .momentum = momentum};
  ens_tg_parallel(pool, (C + BN_CBLOCK - 1) / BN_CBLOCK, stats_blocks, &c);
  ens_tg_parallel(pool, P, normalize_rows, &c);
}

/* y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta */
void batchnorm_eval_forward(ens_threadpool *pool, float *y, const float *x, const float *gamma,
                            const float *beta, const float *running_mean, const float *running_var,
                            int P, int C, float eps)
{
  float inv[C > 0 ? C : 1];
  for (int ch = 0; ch < C; ch++)
    inv[ch] = (float)(1.0 / sqrt((double)running_var[ch] + eps));
  bn_ctx c = {.y = y,
              .x = x,
              .gamma = gamma,
              .beta = beta,
              .cmean = running_mean,
              .cinvstd = inv,
              .P = P,
              .C = C};
  ens_tg_parallel(pool, P, normalize_rows, &c);
}

/* dgamma = sum dy*xhat, dbeta = sum dy (double, channel blocks) */
ENS_TG_CLONES static void grad_sums_blocks(void *vctx, int b0, int b1)
{
  const bn_ctx *c = vctx;
  for (int blk = b0; blk < b1; blk++) {
    int c0, cn;
    channel_range(c, blk, &c0, &cn);
    double sg[BN_CBLOCK] = {0}, sb[BN_CBLOCK] = {0};
    for (int p = 0; p < c->P; p++) {
      const float *x = c->x + (size_t)p * c->C + c0;
      const float *dy = c->dy + (size_t)p * c->C + c0;
      for (int i = 0; i < cn; i++) {
        double xhat = ((double)x[i] - c->cmean[c0 + i]) * c->cinvstd[c0 + i];
        sg[i] += dy[i] * xhat;
        sb[i] += dy[i];
      }
    }
    for (int i = 0; i < cn; i++) {
      c->dgamma[c0 + i] = (float)sg[i];
      c->dbeta[c0 + i] = (float)sb[i];
    }
  }
}

/* dx = gamma*invstd*(dy - dbeta/P - xhat*dgamma/P), rows split */
ENS_TG_CLONES static void dx_rows(void *vctx, int p0, int p1)
{
  const bn_ctx *c = vctx;
  float inv_p = 1.0f / (float)c->P;
  for (int p = p0; p < p1; p++) {
    const float *x = c->x + (size_t)p * c->C;
    const float *dy = c->dy + (size_t)p * c->C;
    float *dx = c->y + (size_t)p * c->C;
    for (int ch = 0; ch < c->C; ch++) {
      float xhat = (x[ch] - c->cmean[ch]) * c->cinvstd[ch];
      dx[ch] = c->gamma[ch] * c->cinvstd[ch] *
               (dy[ch] - c->dbeta[ch] * inv_p - xhat * c->dgamma[ch] * inv_p);
    }
  }
}

void batchnorm_backward(ens_threadpool *pool, float *dx, float *dgamma, float *dbeta,
                        const float *dy, const float *x, const float *mean, const float *invstd,
                        const float *gamma, int P, int C)
{
  bn_ctx c = {.y = dx,
              .x = x,
              .dy = dy,
              .gamma = gamma,
              .dgamma = dgamma,
              .dbeta = dbeta,
              .cmean = mean,
              .cinvstd = invstd,
              .P = P,
              .C = C};
  ens_tg_parallel(pool, (C + BN_CBLOCK - 1) / BN_CBLOCK, grad_sums_blocks, &c);
  ens_tg_parallel(pool, P, dx_rows, &c);
}
