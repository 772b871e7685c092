/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* depthwise_avx512.c - k x k depthwise convolution over NHWC rows with AVX-512, bias + SiLU
 * fused and the squeeze-excitation row sums accumulated on the fly.
 *
 * For each output row and 16-channel block the row is swept P output columns at a time, so P
 * independent FMA chains hide the FMA latency; each input vector of the window is loaded once
 * and feeds every one of the P outputs it overlaps (kx = j - p * stride), while the k weights
 * of the current tap row sit in registers. Input columns in the SAME padding are skipped (as
 * the reference skips them), so border columns take the same fast path: at 14x14 and 7x7 a
 * checked one-output-at-a-time border path (a 25-FMA dependency chain per output) used to cost
 * more than the interior. When ow is not a multiple of P the last block is shifted left to end
 * at ow: it recomputes (and rewrites, identically) a few outputs, which are not summed again.
 * k = 3, 5 and stride 1, 2 get specialised copies with P = 8, 7, 4, 2 or 1 (see DW_CASES);
 * other k <= 5 use the same code with run-time bounds, k > 5 (not in EfficientNet) falls back
 * to the reference kernel. */
#include "kernels_x86.h"

#include <immintrin.h>

#include "silu_avx512.h"

/* Masked stores are several times slower than plain ones on Zen 4: use them for tails only. */
static inline void store16(float *p, __mmask16 m, __m512 v)
{
  if (m == 0xFFFF)
    _mm512_storeu_ps(p, v);
  else
    _mm512_mask_storeu_ps(p, m, v);
}

/* One output row oy, channels [cb, cb + 16) under mask m; P <= ow. */
static inline __attribute__((always_inline)) void dw_row(const int K, const int S, const int P,
                                                         const ens_dw_args *a, const float *img,
                                                         int oy, float *orow, float *sums, int cb,
                                                         __mmask16 m)
{
  const int c = a->c, iw = a->iw, ow = a->ow;
  const int iy0 = oy * S - a->pad_top;
  /* Taps ky in [ky0, ky1) fall inside the image. */
  const int ky0 = iy0 < 0 ? -iy0 : 0;
  const int ky1 = a->ih - iy0 < K ? a->ih - iy0 : K;
  const float *wb = a->w + cb;
  const __m512 bias = _mm512_maskz_loadu_ps(m, a->bias + cb);
  const int silu = a->act == ENS_ACT_SILU;
  __m512 sum = _mm512_setzero_ps();
  const float *base = img + cb;

  for (int ox = 0, done = 0; done < ow; ox += P) {
    if (ox + P > ow)
      ox = ow - P; /* last block: ends at ow, outputs below `done` are already summed */
    const int ix0 = ox * S - a->pad_left;
    __m512 acc[8];
#pragma GCC unroll 8
    for (int p = 0; p < P; p++)
      acc[p] = bias;
#pragma GCC unroll 5
    for (int ky = 0; ky < K; ky++) {
      if (ky < ky0 || ky >= ky1)
        continue;
      const float *row = base + (size_t)(iy0 + ky) * iw * c;
      __m512 wk[5] = {
          0}; /* (only K are used; the zeros keep -Wmaybe-uninitialized quiet for run-time K) */
#pragma GCC unroll 5
      for (int kx = 0; kx < K; kx++)
        wk[kx] = _mm512_maskz_loadu_ps(m, wb + (size_t)(ky * K + kx) * c);
        /* Each input column of the window is loaded once and feeds every output column it
         * overlaps, in kx order per output as in the reference. */
#pragma GCC unroll 20
      for (int j = 0; j < (P - 1) * S + K; j++) {
        const int ix = ix0 + j;
        if (ix < 0 || ix >= iw)
          continue;
        const __m512 xv = _mm512_maskz_loadu_ps(m, row + (size_t)ix * c);
#pragma GCC unroll 8
        for (int p = 0; p < P; p++) {
          const int kx = j - p * S;
          if (kx >= 0 && kx < K)
            acc[p] = _mm512_fmadd_ps(xv, wk[kx], acc[p]);
        }
      }
    }
#pragma GCC unroll 8
    for (int p = 0; p < P; p++) {
      const __m512 v = silu ? ens_silu_avx512(acc[p]) : acc[p];
      if (ox + p >= done)
        sum = _mm512_add_ps(sum, v);
      store16(orow + (size_t)(ox + p) * c + cb, m, v);
    }
    done = ox + P;
  }
  if (sums)
    _mm512_mask_storeu_ps(sums + cb, m, sum);
}

#define DW_CASE(K, S, P)                                                                           \
  for (int cb = c0; cb < c1; cb += 16) {                                                           \
    const int left = c1 - cb;                                                                      \
    const __mmask16 m = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);                       \
    dw_row(K, S, P, a, img, oy, orow, sums, cb, m);                                                \
  }

/* The column block: the whole row at 7 wide (EfficientNet's last stages; measured: at 14 and
 * 28 wide, P = 8 with a shifted last block is faster than P = 7), else the widest of 8, 4, 2, 1
 * that fits. */
#define DW_CASES(K, S)                                                                             \
  if (ow == 7) {                                                                                   \
    DW_CASE(K, S, 7)                                                                               \
  } else if (ow >= 8) {                                                                            \
    DW_CASE(K, S, 8)                                                                               \
  } else if (ow >= 4) {                                                                            \
    DW_CASE(K, S, 4)                                                                               \
  } else if (ow >= 2) {                                                                            \
    DW_CASE(K, S, 2)                                                                               \
  } else {                                                                                         \
    DW_CASE(K, S, 1)                                                                               \
  }

void ens_depthwise_avx512(const ens_dw_args *a, int begin, int end)
{
  ens_dw_assert(a, begin, end);
  const int c = a->c, k = a->k, s = a->stride;
  int c0, c1;
  ens_dw_chans(a, &c0, &c1);
  if (k > 5) {
    ens_depthwise_ref(a, begin, end); /* no EfficientNet uses k > 5 */
    return;
  }
  for (int item = begin; item < end; item++) {
    const int n = item / a->oh, oy = item % a->oh;
    const float *img = a->in + (size_t)n * a->ih * a->iw * c;
    float *orow = a->out + ((size_t)n * a->oh + oy) * a->ow * c;
    float *sums = a->row_sums ? a->row_sums + (size_t)item * c : NULL;
    const int ow = a->ow;
    if (k == 3 && s == 1) {
      DW_CASES(3, 1)
    } else if (k == 3 && s == 2) {
      DW_CASES(3, 2)
    } else if (k == 5 && s == 1) {
      DW_CASES(5, 1)
    } else if (k == 5 && s == 2) {
      DW_CASES(5, 2)
    } else {
      DW_CASE(k, s, 1)
    }
  }
}
