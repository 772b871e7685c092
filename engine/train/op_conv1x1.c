/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op_conv1x1.c - bias-free 1x1 convolution on NHWC activations as GEMMs. */
#include "train_ops.h"

/* y[P,Cout] = x[P,Cin] . w[Cout,Cin]^T */
void conv1x1_forward(ens_threadpool *pool, float *y, const float *x, const float *w, int P, int cin,
                     int cout)
{
  ens_tg_gemm(pool, 0, 1, P, cout, cin, x, cin, w, cin, 0.0f, y, cout);
}

/* dw[Cout,Cin] = dy[P,Cout]^T . x[P,Cin];  dx[P,Cin] = dy[P,Cout] . w[Cout,Cin] */
void conv1x1_backward(ens_threadpool *pool, float *dx, float *dw, const float *dy, const float *x,
                      const float *w, int P, int cin, int cout, int accumulate)
{
  ens_tg_gemm(pool, 1, 0, cout, cin, P, dy, cout, x, cin, 0.0f, dw, cin);
  if (dx)
    ens_tg_gemm(pool, 0, 0, P, cin, cout, dy, cout, w, cin, accumulate ? 1.0f : 0.0f, dx, cin);
}
