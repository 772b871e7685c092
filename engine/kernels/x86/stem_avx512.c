/* stem_avx512.c - the k x k stem convolution (NCHW 3-channel input -> NHWC) with AVX-512,
 * bias + SiLU fused.
 *
 * Per output row: blocks of 8 output columns x up to 2 zmm (32) output channels in 16
 * accumulators; per tap (ky, kx, ci) the input values of the 8 columns are broadcast (0 for
 * taps in the SAME padding) against 1-2 weight vectors. Any cout works (masked last vector). */
#include "kernels_x86.h"

#include <immintrin.h>

#include "silu_avx512.h"

#define PX 8

void ens_stem_avx512(const ens_stem_args *a, int begin, int end)
{
  const int k = a->k, s = a->stride, cin = a->cin, cout = a->cout, iw = a->iw, ih = a->ih;
  const size_t plane = (size_t)ih * iw;
  for (int item = begin; item < end; item++) {
    const int n = item / a->oh, oy = item % a->oh;
    const float *img = a->in + (size_t)n * cin * plane;
    float *orow = a->out + ((size_t)n * a->oh + oy) * a->ow * cout;
    for (int c0 = 0; c0 < cout; c0 += 32) {
      const int nc = cout - c0 < 32 ? cout - c0 : 32;
      const __mmask16 m0 = nc >= 16 ? 0xFFFF : (__mmask16)((1u << nc) - 1);
      const __mmask16 m1 = nc >= 32 ? 0xFFFF : nc > 16 ? (__mmask16)((1u << (nc - 16)) - 1) : 0;
      const __m512 b0 = _mm512_maskz_loadu_ps(m0, a->bias + c0);
      const __m512 b1 = _mm512_maskz_loadu_ps(m1, a->bias + c0 + 16);
      for (int ox = 0; ox < a->ow; ox += PX) {
        const int np = a->ow - ox < PX ? a->ow - ox : PX;
        /* All PX columns and taps inside the image: no per-tap checks. */
        const int ix_first = ox * s - a->pad_left,
                  ix_last = (ox + PX - 1) * s + k - 1 - a->pad_left;
        const int inside = np == PX && ix_first >= 0 && ix_last < iw;
        __m512 acc0[PX], acc1[PX];
#pragma GCC unroll 8
        for (int p = 0; p < PX; p++) {
          acc0[p] = b0;
          acc1[p] = b1;
        }
        for (int ky = 0; ky < k; ky++) {
          const int iy = oy * s + ky - a->pad_top;
          if (iy < 0 || iy >= ih)
            continue;
          for (int kx = 0; kx < k; kx++) {
            for (int ci = 0; ci < cin; ci++) {
              const float *src = img + ci * plane + (size_t)iy * iw;
              const float *w = a->w + ((size_t)(ky * k + kx) * cin + ci) * cout + c0;
              const __m512 w0 = _mm512_maskz_loadu_ps(m0, w);
              const __m512 w1 = _mm512_maskz_loadu_ps(m1, w + 16);
              if (inside) {
                const float *xs = src + ix_first + kx;
#pragma GCC unroll 8
                for (int p = 0; p < PX; p++) {
                  const __m512 x = _mm512_set1_ps(xs[p * s]);
                  acc0[p] = _mm512_fmadd_ps(x, w0, acc0[p]);
                  acc1[p] = _mm512_fmadd_ps(x, w1, acc1[p]);
                }
              } else {
#pragma GCC unroll 8
                for (int p = 0; p < PX; p++) {
                  const int ix = (ox + p) * s + kx - a->pad_left;
                  const float xv = (p < np && ix >= 0 && ix < iw) ? src[ix] : 0.0f;
                  const __m512 x = _mm512_set1_ps(xv);
                  acc0[p] = _mm512_fmadd_ps(x, w0, acc0[p]);
                  acc1[p] = _mm512_fmadd_ps(x, w1, acc1[p]);
                }
              }
            }
          }
        }
        /* Constant trip count (fully unrolled) so acc0/acc1 stay in registers. */
#pragma GCC unroll 8
        for (int p = 0; p < PX; p++) {
          if (p >= np)
            break;
          __m512 v0 = acc0[p], v1 = acc1[p];
          if (a->act == ENS_ACT_SILU) {
            v0 = ens_silu_avx512(v0);
            v1 = ens_silu_avx512(v1);
          }
          float *o = orow + (size_t)(ox + p) * cout + c0;
          /* Masked stores are slow on Zen 4: plain ones for full vectors. */
          if (m0 == 0xFFFF)
            _mm512_storeu_ps(o, v0);
          else
            _mm512_mask_storeu_ps(o, m0, v0);
          if (m1 == 0xFFFF)
            _mm512_storeu_ps(o + 16, v1);
          else if (m1)
            _mm512_mask_storeu_ps(o + 16, m1, v1);
        }
      }
    }
  }
}
