/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stem_avx512.c - EfficientNet's stem convolution (3x3, stride 2, 3 input channels, NCHW input
 * -> NHWC) with AVX-512, bias + SiLU fused. Other shapes go to the reference kernel.
 *
 * Per output row: blocks of PX = 8 output columns x up to 2 zmm (32) output channels in 16
 * accumulators; all 27 taps (ky, kx, ci) are unrolled, each broadcasting the 8 columns' input
 * values (immediate offsets from one pointer per input row) against 1-2 weight vectors. A
 * block whose window reaches into the SAME padding (or past the right edge of a row whose
 * width is not a multiple of 8) first copies its window into a zero-padded local patch and
 * runs the same code on that; zero taps add nothing. Any cout works (masked last vector). */
#include "kernels_x86.h"

#include <immintrin.h>
#include <string.h>

#include "silu_avx512.h"

#define K 3
#define S 2
#define CIN 3
#define PX 8
#define SPAN ((PX - 1) * S + K) /* input columns one block reads */

/* One block: rows[ky * CIN + ci] points at input column ix_first of that input row. Writes
 * the first np (<= PX) output columns. */
static inline __attribute__((always_inline)) void block(const int NV, const float *const *rows,
                                                        const float *w, int cout, __m512 b0,
                                                        __m512 b1, __mmask16 m0, __mmask16 m1,
                                                        ens_act act, float *out, int np)
{
  __m512 acc0[PX], acc1[PX];
#pragma GCC unroll 8
  for (int p = 0; p < PX; p++) {
    acc0[p] = b0;
    acc1[p] = b1;
  }
#pragma GCC unroll 3
  for (int ky = 0; ky < K; ky++)
#pragma GCC unroll 3
    for (int kx = 0; kx < K; kx++)
#pragma GCC unroll 3
      for (int ci = 0; ci < CIN; ci++) {
        const float *x = rows[ky * CIN + ci] + kx;
        const float *wt = w + (size_t)((ky * K + kx) * CIN + ci) * cout;
        const __m512 w0 = _mm512_maskz_loadu_ps(m0, wt);
        const __m512 w1 = NV > 1 ? _mm512_maskz_loadu_ps(m1, wt + 16) : w0;
#pragma GCC unroll 8
        for (int p = 0; p < PX; p++) {
          const __m512 xv = _mm512_set1_ps(x[p * S]);
          acc0[p] = _mm512_fmadd_ps(xv, w0, acc0[p]);
          if (NV > 1)
            acc1[p] = _mm512_fmadd_ps(xv, w1, acc1[p]);
        }
      }
#pragma GCC unroll 8
  for (int p = 0; p < PX; p++) {
    if (p >= np)
      break;
    __m512 v0 = acc0[p];
    if (act == ENS_ACT_SILU)
      v0 = ens_silu_avx512(v0);
    float *o = out + (size_t)p * cout;
    /* Masked stores are slow on Zen 4: plain ones for full vectors. */
    if (m0 == 0xFFFF)
      _mm512_storeu_ps(o, v0);
    else
      _mm512_mask_storeu_ps(o, m0, v0);
    if (NV > 1) {
      __m512 v1 = acc1[p];
      if (act == ENS_ACT_SILU)
        v1 = ens_silu_avx512(v1);
      if (m1 == 0xFFFF)
        _mm512_storeu_ps(o + 16, v1);
      else
        _mm512_mask_storeu_ps(o + 16, m1, v1);
    }
  }
}

static void stem_3x3s2(const ens_stem_args *a, int begin, int end)
{
  const int cout = a->cout, iw = a->iw, ih = a->ih;
  const size_t plane = (size_t)ih * iw;
  for (int item = begin; item < end; item++) {
    const int n = item / a->oh, oy = item % a->oh;
    const float *img = a->in + (size_t)n * CIN * plane;
    float *orow = a->out + ((size_t)n * a->oh + oy) * a->ow * cout;
    const int iy0 = oy * S - a->pad_top;
    const int rows_inside = iy0 >= 0 && iy0 + K <= ih;
    for (int ox = 0; ox < a->ow; ox += PX) {
      const int np = a->ow - ox < PX ? a->ow - ox : PX;
      const int ix0 = ox * S - a->pad_left;
      const float *rows[K * CIN];
      float patch[K * CIN][SPAN];
      if (rows_inside && ix0 >= 0 && ix0 + SPAN <= iw) {
        for (int r = 0; r < K * CIN; r++)
          rows[r] = img + (r % CIN) * plane + (size_t)(iy0 + r / CIN) * iw + ix0;
      } else {
        memset(patch, 0, sizeof patch);
        for (int r = 0; r < K * CIN; r++) {
          const int iy = iy0 + r / CIN;
          rows[r] = patch[r];
          if (iy < 0 || iy >= ih)
            continue;
          const float *src = img + (r % CIN) * plane + (size_t)iy * iw;
          for (int j = 0; j < SPAN; j++)
            if (ix0 + j >= 0 && ix0 + j < iw)
              patch[r][j] = src[ix0 + j];
        }
      }
      for (int c0 = 0; c0 < cout; c0 += 32) {
        const int nc = cout - c0 < 32 ? cout - c0 : 32;
        const __mmask16 m0 = nc >= 16 ? 0xFFFF : (__mmask16)((1u << nc) - 1);
        const __mmask16 m1 = nc >= 32 ? 0xFFFF : nc > 16 ? (__mmask16)((1u << (nc - 16)) - 1) : 0;
        const __m512 b0 = _mm512_maskz_loadu_ps(m0, a->bias + c0);
        const __m512 b1 = _mm512_maskz_loadu_ps(m1, a->bias + c0 + 16);
        float *o = orow + (size_t)ox * cout + c0;
        if (nc > 16)
          block(2, rows, a->w + c0, cout, b0, b1, m0, m1, a->act, o, np);
        else
          block(1, rows, a->w + c0, cout, b0, b1, m0, m1, a->act, o, np);
      }
    }
  }
}

void ens_stem_avx512(const ens_stem_args *a, int begin, int end)
{
  ens_stem_assert(a, begin, end);
  if (a->k == K && a->stride == S && a->cin == CIN)
    stem_3x3s2(a, begin, end);
  else
    ens_stem_ref(a, begin, end); /* not an EfficientNet stem */
}
