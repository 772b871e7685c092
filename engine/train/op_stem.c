/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op_stem.c - the 3x3 stride-2 stem convolution (3 input channels, TF-SAME pads) via im2col:
 * the column buffer is kept for the weight gradient, and a GEMM does the arithmetic. */
#include <string.h>

#include "train_ops.h"

#define STEM_CIN 3
#define STEM_K 3
#define STEM_S 2
#define STEM_TAPS (STEM_CIN * STEM_K * STEM_K)

typedef struct {
  float *col, *dx;
  const float *x, *dcol;
  int N, H, W, OH, OW, pt, pl;
} stem_ctx;

/* col[(n,oh,ow), (ci,kh,kw)] = x[n, oh*2-pt+kh, ow*2-pl+kw, ci] or 0 outside. Rows = n*OH+oh. */
static void im2col_rows(void *vctx, int r0, int r1)
{
  const stem_ctx *c = vctx;
  for (int r = r0; r < r1; r++) {
    int n = r / c->OH, oh = r % c->OH;
    for (int ow = 0; ow < c->OW; ow++) {
      float *dst = c->col + ((size_t)r * c->OW + ow) * STEM_TAPS;
      for (int ci = 0; ci < STEM_CIN; ci++)
        for (int kh = 0; kh < STEM_K; kh++) {
          int ih = oh * STEM_S - c->pt + kh;
          for (int kw = 0; kw < STEM_K; kw++) {
            int iw = ow * STEM_S - c->pl + kw;
            int inside = ih >= 0 && ih < c->H && iw >= 0 && iw < c->W;
            dst[(ci * STEM_K + kh) * STEM_K + kw] =
                inside ? c->x[(((size_t)n * c->H + ih) * c->W + iw) * STEM_CIN + ci] : 0.0f;
          }
        }
    }
  }
}

/* y[P,Cout] = col[P,27] . w[Cout,27]^T */
void stem_forward(ens_threadpool *pool, float *y, float *col, const float *x, const float *w, int N,
                  int H, int W, int OH, int OW, int pt, int pl, int cout)
{
  stem_ctx c = {col, NULL, x, NULL, N, H, W, OH, OW, pt, pl};
  ens_tg_parallel(pool, N * OH, im2col_rows, &c);
  ens_tg_gemm(pool, 0, 1, N * OH * OW, cout, STEM_TAPS, col, STEM_TAPS, w, STEM_TAPS, 0.0f, y,
              cout);
}

/* dx[n] = sum over output pixels and taps of dcol (col2im), one sample per item. */
static void col2im_samples(void *vctx, int n0, int n1)
{
  const stem_ctx *c = vctx;
  size_t plane = (size_t)c->H * c->W * STEM_CIN;
  for (int n = n0; n < n1; n++) {
    float *dx = c->dx + (size_t)n * plane;
    memset(dx, 0, plane * sizeof *dx);
    for (int oh = 0; oh < c->OH; oh++)
      for (int ow = 0; ow < c->OW; ow++) {
        const float *src = c->dcol + (((size_t)n * c->OH + oh) * c->OW + ow) * STEM_TAPS;
        for (int ci = 0; ci < STEM_CIN; ci++)
          for (int kh = 0; kh < STEM_K; kh++) {
            int ih = oh * STEM_S - c->pt + kh;
            if (ih < 0 || ih >= c->H)
              continue;
            for (int kw = 0; kw < STEM_K; kw++) {
              int iw = ow * STEM_S - c->pl + kw;
              if (iw >= 0 && iw < c->W)
                dx[((size_t)ih * c->W + iw) * STEM_CIN + ci] +=
                    src[(ci * STEM_K + kh) * STEM_K + kw];
            }
          }
      }
  }
}

/* dw[Cout,27] = dy[P,Cout]^T . col[P,27]; dcol[P,27] = dy . w; dx = col2im(dcol) */
void stem_backward(ens_threadpool *pool, float *dx, float *dcol, float *dw, const float *dy,
                   const float *col, const float *w, int N, int H, int W, int OH, int OW, int pt,
                   int pl, int cout)
{
  int P = N * OH * OW;
  ens_tg_gemm(pool, 1, 0, cout, STEM_TAPS, P, dy, cout, col, STEM_TAPS, 0.0f, dw, STEM_TAPS);
  if (!dx)
    return;
  ens_tg_gemm(pool, 0, 0, P, STEM_TAPS, cout, dy, cout, w, STEM_TAPS, 0.0f, dcol, STEM_TAPS);
  stem_ctx c = {NULL, dx, NULL, dcol, N, H, W, OH, OW, pt, pl};
  ens_tg_parallel(pool, N, col2im_samples, &c);
}
