/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dw_wgrad_avx512.c - depthwise convolution weight gradient with AVX-512:
 * dw[kh*k+kw, c] = sum_{n,oh,ow} dy[n,oh,ow,c] * x[n, oh*s-pt+kh, ow*s-pl+kw, c].
 * For each 16-channel block, the k*k tap sums of one output row live in registers (K is a
 * compile-time 3 or 5: 9 or 25 zmm); each dy vector feeds all taps; at the end of the row the
 * float row sums are added to double totals, as the reference does, so long reductions keep
 * their precision. */
#include <immintrin.h>
#include <string.h>

#include "train_kernels.h"

static inline __attribute__((always_inline)) void wgrad_block(const int K, const ens_dw_shape *s,
                                                              const float *dy, const float *x,
                                                              float *dw, int c0, __mmask16 m)
{
  const int C = s->C;
  double tot[ENS_DW_MAX_K * ENS_DW_MAX_K][16];
  memset(tot, 0, sizeof tot);
  for (int n = 0; n < s->N; n++)
    for (int oh = 0; oh < s->OH; oh++) {
      __m512 acc[K * K];
#pragma GCC unroll 25
      for (int t = 0; t < K * K; t++)
        acc[t] = _mm512_setzero_ps();
      const int ih0 = oh * s->s - s->pt;
      for (int ow = 0; ow < s->OW; ow++) {
        __m512 g = _mm512_maskz_loadu_ps(m, dy + (((size_t)n * s->OH + oh) * s->OW + ow) * C + c0);
        const int iw0 = ow * s->s - s->pl;
#pragma GCC unroll 5
        for (int kh = 0; kh < K; kh++) {
          int ih = ih0 + kh;
          if (ih < 0 || ih >= s->H)
            continue;
          const float *xr = x + (((size_t)n * s->H + ih) * s->W) * C + c0;
#pragma GCC unroll 5
          for (int kw = 0; kw < K; kw++) {
            int iw = iw0 + kw;
            if (iw < 0 || iw >= s->W)
              continue;
            __m512 xv = _mm512_maskz_loadu_ps(m, xr + (size_t)iw * C);
            acc[kh * K + kw] = _mm512_fmadd_ps(g, xv, acc[kh * K + kw]);
          }
        }
      }
#pragma GCC unroll 25
      for (int t = 0; t < K * K; t++) {
        __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(acc[t]));
        __m512d hi =
            _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[t]), 1)));
        _mm512_storeu_pd(tot[t], _mm512_add_pd(_mm512_loadu_pd(tot[t]), lo));
        _mm512_storeu_pd(tot[t] + 8, _mm512_add_pd(_mm512_loadu_pd(tot[t] + 8), hi));
      }
    }
  for (int t = 0; t < K * K; t++) {
    __m256 lo = _mm512_cvtpd_ps(_mm512_loadu_pd(tot[t]));
    __m256 hi = _mm512_cvtpd_ps(_mm512_loadu_pd(tot[t] + 8));
    __m512 v = _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
    _mm512_mask_storeu_ps(dw + (size_t)t * C + c0, m, v);
  }
}

void ens_tg_dw_wgrad_avx512(const ens_dw_shape *s, const float *dy, const float *x, float *dw,
                            int b0, int b1)
{
  for (int b = b0; b < b1; b++) {
    int c0 = b * 16, cn = s->C - c0 < 16 ? s->C - c0 : 16;
    __mmask16 m = (__mmask16)((1u << cn) - 1u);
    if (s->k == 3)
      wgrad_block(3, s, dy, x, dw, c0, m);
    else if (s->k == 5)
      wgrad_block(5, s, dy, x, dw, c0, m);
    else if (s->k == 1)
      wgrad_block(1, s, dy, x, dw, c0, m);
    else
      wgrad_block(7, s, dy, x, dw, c0, m);
  }
}
