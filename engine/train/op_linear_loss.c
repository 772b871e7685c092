/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op_linear_loss.c - the Linear classifier and the label-smoothed soft-target cross-entropy. */
#include <math.h>

#include "train_ops.h"

/* y[N,K] = x[N,F] . w[K,F]^T + b */
void linear_forward(float *y, const float *x, const float *w, const float *b, int N, int F, int K)
{
  for (int n = 0; n < N; n++)
    for (int k = 0; k < K; k++) {
      double s = b[k];
      for (int f = 0; f < F; f++)
        s += (double)x[(size_t)n * F + f] * w[(size_t)k * F + f];
      y[(size_t)n * K + k] = (float)s;
    }
}

/* dw[K,F] = dy^T . x; db = sum_n dy; dx[N,F] = dy . w */
void linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                     const float *w, int N, int F, int K)
{
  for (int k = 0; k < K; k++) {
    double sb = 0;
    for (int n = 0; n < N; n++)
      sb += dy[(size_t)n * K + k];
    db[k] = (float)sb;
    for (int f = 0; f < F; f++) {
      double s = 0;
      for (int n = 0; n < N; n++)
        s += (double)dy[(size_t)n * K + k] * x[(size_t)n * F + f];
      dw[(size_t)k * F + f] = (float)s;
    }
  }
  if (dx)
    for (int n = 0; n < N; n++)
      for (int f = 0; f < F; f++) {
        double s = 0;
        for (int k = 0; k < K; k++)
          s += (double)dy[(size_t)n * K + k] * w[(size_t)k * F + f];
        dx[(size_t)n * F + f] = (float)s;
      }
}

/* ts = (1-eps)*t + eps/K; loss = mean_n sum_k -ts*log_softmax(z); dz = (softmax - ts)/N */
float softmax_xent_forward_backward(float *dz, const float *z, const float *t, int N, int K,
                                    float smoothing)
{
  double total = 0;
  for (int n = 0; n < N; n++) {
    const float *zn = z + (size_t)n * K, *tn = t + (size_t)n * K;
    double mx = zn[0];
    for (int k = 1; k < K; k++)
      mx = zn[k] > mx ? zn[k] : mx;
    double se = 0;
    for (int k = 0; k < K; k++)
      se += exp(zn[k] - mx);
    double lse = mx + log(se);
    for (int k = 0; k < K; k++) {
      double ts = (1.0 - smoothing) * tn[k] + smoothing / K;
      total -= ts * (zn[k] - lse);
      if (dz)
        dz[(size_t)n * K + k] = (float)((exp(zn[k] - lse) - ts) / N);
    }
  }
  return (float)(total / N);
}
