/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op_misc.c - residual add with per-sample drop-path, global average pool, dropout. */
#include "train_ops.h"

/* y[n] = shortcut[n] + mask[n] * branch[n] (per sample of per_sample values) */
void residual_forward(float *y, const float *shortcut, const float *branch, const float *mask,
                      int N, size_t per_sample)
{
  for (int n = 0; n < N; n++) {
    float k = mask ? mask[n] : 1.0f;
    size_t o = (size_t)n * per_sample;
    for (size_t i = 0; i < per_sample; i++)
      y[o + i] = shortcut[o + i] + k * branch[o + i];
  }
}

/* dbranch = mask[n] * dy */
void residual_backward_branch(float *dbranch, const float *dy, const float *mask, int N,
                              size_t per_sample)
{
  for (int n = 0; n < N; n++) {
    float k = mask ? mask[n] : 1.0f;
    size_t o = (size_t)n * per_sample;
    for (size_t i = 0; i < per_sample; i++)
      dbranch[o + i] = k * dy[o + i];
  }
}

/* y[n,c] = mean_hw x[n,hw,c] */
void avgpool_forward(float *y, const float *x, int N, int HW, int C)
{
  for (int n = 0; n < N; n++)
    for (int ch = 0; ch < C; ch++) {
      double s = 0;
      for (int p = 0; p < HW; p++)
        s += x[((size_t)n * HW + p) * C + ch];
      y[(size_t)n * C + ch] = (float)(s / HW);
    }
}

/* dx[n,hw,c] = dy[n,c] / HW */
void avgpool_backward(float *dx, const float *dy, int N, int HW, int C)
{
  float inv = 1.0f / (float)HW;
  for (int n = 0; n < N; n++)
    for (int p = 0; p < HW; p++)
      for (int ch = 0; ch < C; ch++)
        dx[((size_t)n * HW + p) * C + ch] = dy[(size_t)n * C + ch] * inv;
}

void dropout_forward(float *y, const float *x, const float *mask, size_t n)
{
  for (size_t i = 0; i < n; i++)
    y[i] = x[i] * mask[i];
}

void dropout_backward(float *dx, const float *dy, const float *mask, size_t n)
{
  for (size_t i = 0; i < n; i++)
    dx[i] = dy[i] * mask[i];
}
