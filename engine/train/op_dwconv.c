/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op_dwconv.c - depthwise kxk convolution (stride 1 or 2, SAME pads) on NHWC, reference C.
 * Weights are tap-major w[k*k, C] so the channel loop is contiguous everywhere. */
#include <string.h>

#include "kernels/kernels.h"
#include "train_kernels.h"
#include "train_ops.h"

int ens_tg_use_avx512(void)
{
  return !strcmp(ens_kernels_get()->name, "avx512");
}

typedef struct {
  const ens_dw_shape *sh;
  float *out;
  const float *a, *b, *w;
  int accumulate;
} dw_ctx;

/* y[n,oh,ow,c] = sum_{kh,kw} w[kh*k+kw, c] * x[n, oh*s-pt+kh, ow*s-pl+kw, c]; rows n*OH+oh */
static void fwd_rows(void *vctx, int r0, int r1)
{
  const dw_ctx *c = vctx;
  const ens_dw_shape *s = c->sh;
  int C = s->C;
  for (int r = r0; r < r1; r++) {
    int n = r / s->OH, oh = r % s->OH;
    for (int ow = 0; ow < s->OW; ow++) {
      float *y = c->out + (((size_t)n * s->OH + oh) * s->OW + ow) * C;
      for (int ch = 0; ch < C; ch++)
        y[ch] = 0.0f;
      for (int kh = 0; kh < s->k; kh++) {
        int ih = oh * s->s - s->pt + kh;
        if (ih < 0 || ih >= s->H)
          continue;
        for (int kw = 0; kw < s->k; kw++) {
          int iw = ow * s->s - s->pl + kw;
          if (iw < 0 || iw >= s->W)
            continue;
          const float *x = c->a + (((size_t)n * s->H + ih) * s->W + iw) * C;
          const float *w = c->w + (size_t)(kh * s->k + kw) * C;
          for (int ch = 0; ch < C; ch++)
            y[ch] += w[ch] * x[ch];
        }
      }
    }
  }
}

typedef struct {
  ens_dw_args a;
  ens_depthwise_fn fn;
} fast_ctx;

static void fast_rows(void *vctx, int r0, int r1)
{
  const fast_ctx *c = vctx;
  c->fn(&c->a, r0, r1);
}

/* The inference engine's depthwise kernel (bias = zeros, no activation) on rows. */
static void fast_conv(ens_threadpool *pool, float *out, const float *in, const float *w,
                      const float *zeros, int N, int ih, int iw, int C, int oh, int ow, int k,
                      int s, int pt, int pl)
{
  fast_ctx c = {{in, w, zeros, out, NULL, N, ih, iw, C, oh, ow, k, s, pt, pl, 0, 0, ENS_ACT_NONE},
                ens_kernels_get()->depthwise};
  ens_tg_parallel(pool, N * oh, fast_rows, &c);
}

void dwconv_forward(ens_threadpool *pool, float *y, const float *x, const float *w,
                    const ens_dw_shape *sh)
{
  if (sh->zeros && ens_tg_use_avx512()) {
    fast_conv(pool, y, x, w, sh->zeros, sh->N, sh->H, sh->W, sh->C, sh->OH, sh->OW, sh->k, sh->s,
              sh->pt, sh->pl);
    return;
  }
  dw_ctx c = {sh, y, x, NULL, w, 0};
  ens_tg_parallel(pool, sh->N * sh->OH, fwd_rows, &c);
}

/* dx[n,ih,iw,c] = sum over (kh,kw) with oh = (ih+pt-kh)/s integral and in range of
 * w[kh*k+kw, c] * dy[n,oh,ow,c]; rows n*H+ih (gather: no write conflicts). */
static void bwd_dx_rows(void *vctx, int r0, int r1)
{
  const dw_ctx *c = vctx;
  const ens_dw_shape *s = c->sh;
  int C = s->C;
  for (int r = r0; r < r1; r++) {
    int n = r / s->H, ih = r % s->H;
    for (int iw = 0; iw < s->W; iw++) {
      float *dx = c->out + (((size_t)n * s->H + ih) * s->W + iw) * C;
      if (!c->accumulate)
        for (int ch = 0; ch < C; ch++)
          dx[ch] = 0.0f;
      for (int kh = 0; kh < s->k; kh++) {
        int th = ih + s->pt - kh;
        if (th < 0 || th % s->s)
          continue;
        int oh = th / s->s;
        if (oh >= s->OH)
          continue;
        for (int kw = 0; kw < s->k; kw++) {
          int tw = iw + s->pl - kw;
          if (tw < 0 || tw % s->s)
            continue;
          int ow = tw / s->s;
          if (ow >= s->OW)
            continue;
          const float *dy = c->a + (((size_t)n * s->OH + oh) * s->OW + ow) * C;
          const float *w = c->w + (size_t)(kh * s->k + kw) * C;
          for (int ch = 0; ch < C; ch++)
            dx[ch] += w[ch] * dy[ch];
        }
      }
    }
  }
}

#define DW_CBLOCK 16

/* dw[t, c] = sum_{n,oh,ow} dy[n,oh,ow,c] * x[n, ih(t), iw(t), c]; items are blocks of 16
 * channels, each summed over the whole batch in double (independent of the thread count). */
static void bwd_dw_blocks(void *vctx, int b0, int b1)
{
  const dw_ctx *c = vctx;
  const ens_dw_shape *s = c->sh;
  int C = s->C, kk = s->k * s->k;
  double acc[ENS_DW_MAX_K * ENS_DW_MAX_K * DW_CBLOCK];
  float row[ENS_DW_MAX_K * ENS_DW_MAX_K * DW_CBLOCK];
  for (int blk = b0; blk < b1; blk++) {
    int c0 = blk * DW_CBLOCK, cn = C - c0 < DW_CBLOCK ? C - c0 : DW_CBLOCK;
    memset(acc, 0, (size_t)kk * DW_CBLOCK * sizeof *acc);
    for (int n = 0; n < s->N; n++)
      for (int oh = 0; oh < s->OH; oh++) {
        /* one output row summed in float, then added to the double total */
        memset(row, 0, (size_t)kk * DW_CBLOCK * sizeof *row);
        for (int ow = 0; ow < s->OW; ow++) {
          const float *dy = c->a + (((size_t)n * s->OH + oh) * s->OW + ow) * C + c0;
          for (int kh = 0; kh < s->k; kh++) {
            int ih = oh * s->s - s->pt + kh;
            if (ih < 0 || ih >= s->H)
              continue;
            for (int kw = 0; kw < s->k; kw++) {
              int iw = ow * s->s - s->pl + kw;
              if (iw < 0 || iw >= s->W)
                continue;
              const float *x = c->b + (((size_t)n * s->H + ih) * s->W + iw) * C + c0;
              float *rw = row + (size_t)(kh * s->k + kw) * DW_CBLOCK;
              for (int ch = 0; ch < cn; ch++)
                rw[ch] += dy[ch] * x[ch];
            }
          }
        }
        for (int i = 0; i < kk * DW_CBLOCK; i++)
          acc[i] += row[i];
      }
    for (int t = 0; t < kk; t++)
      for (int ch = 0; ch < cn; ch++)
        c->out[(size_t)t * C + c0 + ch] = (float)acc[t * DW_CBLOCK + ch];
  }
}

typedef struct {
  const ens_dw_shape *sh;
  const float *dy, *x;
  float *dw;
} wgrad_ctx;

static void wgrad_avx512_blocks(void *vctx, int b0, int b1)
{
  const wgrad_ctx *c = vctx;
  ens_tg_dw_wgrad_avx512(c->sh, c->dy, c->x, c->dw, b0, b1);
}

void dwconv_backward(ens_threadpool *pool, float *dx, float *dw, const float *dy, const float *x,
                     const float *w, const ens_dw_shape *sh, int accumulate)
{
  int fast = sh->zeros && sh->wflip && ens_tg_use_avx512();
  if (fast && ens_tg_dw_wgrad_avx512) {
    wgrad_ctx cw = {sh, dy, x, dw};
    ens_tg_parallel(pool, (sh->C + 15) / 16, wgrad_avx512_blocks, &cw);
  } else {
    dw_ctx cw = {sh, dw, dy, x, w, 0};
    ens_tg_parallel(pool, (sh->C + DW_CBLOCK - 1) / DW_CBLOCK, bwd_dw_blocks, &cw);
  }
  if (dx && fast && sh->s == 1 && !accumulate) {
    /* stride 1: dx is the forward convolution of dy with the taps flipped and the pads
     * mirrored (k-1-pt before) */
    int kk = sh->k * sh->k;
    for (int t = 0; t < kk; t++)
      memcpy(sh->wflip + (size_t)(kk - 1 - t) * sh->C, w + (size_t)t * sh->C,
             (size_t)sh->C * sizeof *w);
    fast_conv(pool, dx, dy, sh->wflip, sh->zeros, sh->N, sh->OH, sh->OW, sh->C, sh->H, sh->W, sh->k,
              1, sh->k - 1 - sh->pt, sh->k - 1 - sh->pl);
    return;
  }
  if (dx) {
    dw_ctx cx = {sh, dx, dy, NULL, w, accumulate};
    ens_tg_parallel(pool, sh->N * sh->H, bwd_dx_rows, &cx);
  }
}
