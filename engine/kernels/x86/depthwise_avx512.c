/* depthwise_avx512.c - k x k depthwise convolution over NHWC rows with AVX-512, bias + SiLU
 * fused and the squeeze-excitation row sums accumulated on the fly.
 *
 * For each output row and 16-channel block the row is swept: interior output positions (all
 * taps inside the image) go P = 8 at a time without bounds checks, so 8 independent FMA chains
 * hide the FMA latency, and each input vector is loaded once for every output of the 8 it
 * feeds (kx = j - p * stride) while the k weights of the current tap row sit in registers;
 * the few border positions (SAME padding) take a checked path. k = 3, 5 and stride 1, 2 get
 * specialised copies; other k <= 5 use the same code with run-time bounds, k > 5 (not in
 * EfficientNet) falls back to the reference kernel. */
#include "kernels_x86.h"

#include <immintrin.h>
#include <string.h>

#include "silu_avx512.h"

/* Masked stores are several times slower than plain ones on Zen 4: use them for tails only. */
static inline void store16(float *p, __mmask16 m, __m512 v)
{
  if (m == 0xFFFF)
    _mm512_storeu_ps(p, v);
  else
    _mm512_mask_storeu_ps(p, m, v);
}

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
  /* Tap weights are read from a->w (L1-resident, k*k*16 floats per block) right where they
   * are used: keeping all 25 of a 5x5 in registers spilled them anyway. */
  const float *wb = a->w + cb;
#define WTAP(t) _mm512_maskz_loadu_ps(m, wb + (size_t)(t)*c)
  const __m512 bias = _mm512_maskz_loadu_ps(m, a->bias + cb);
  const int silu = a->act == ENS_ACT_SILU;
  __m512 sum = _mm512_setzero_ps();
  const float *base = img + cb;

  /* Interior output columns [ox_lo, ox_hi): every tap's ix is inside [0, iw). */
  int ox_lo = (a->pad_left + S - 1) / S;
  int ox_hi = (iw - K + a->pad_left) / S + 1;
  if (iw - K + a->pad_left < 0)
    ox_hi = 0;
  if (ox_hi > ow)
    ox_hi = ow;
  if (ox_lo > ox_hi)
    ox_lo = ox_hi;

  int ox = 0;
  for (int part = 0; part < 2; part++) {
    /* Checked path: border columns [0, ox_lo), then [ox_hi, ow). */
    const int stop = part ? ow : ox_lo;
    for (; ox < stop; ox++) {
      const int ix0 = ox * S - a->pad_left;
      __m512 acc = bias;
#pragma GCC unroll 5
      for (int ky = 0; ky < K; ky++) {
        if (ky < ky0 || ky >= ky1)
          continue;
        const float *row = base + (size_t)(iy0 + ky) * iw * c;
#pragma GCC unroll 5
        for (int kx = 0; kx < K; kx++) {
          const int ix = ix0 + kx;
          if (ix < 0 || ix >= iw)
            continue;
          acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, row + (size_t)ix * c), WTAP(ky * K + kx),
                                acc);
        }
      }
      if (silu)
        acc = ens_silu_avx512(acc);
      sum = _mm512_add_ps(sum, acc);
      store16(orow + (size_t)ox * c + cb, m, acc);
    }
    if (part)
      break;
    /* Interior: P columns at a time, then one at a time up to ox_hi. */
    for (; ox < ox_hi;) {
      const int np = ox_hi - ox >= P ? P : 1;
      __m512 acc[12];
      const int ix0 = ox * S - a->pad_left;
      if (np == P) {
#pragma GCC unroll 8
        for (int p = 0; p < P; p++)
          acc[p] = bias;
#pragma GCC unroll 5
        for (int ky = 0; ky < K; ky++) {
          if (ky < ky0 || ky >= ky1)
            continue;
          const float *row = base + ((size_t)(iy0 + ky) * iw + ix0) * c;
          __m512 wk[5];
#pragma GCC unroll 5
          for (int kx = 0; kx < K; kx++)
            wk[kx] = WTAP(ky * K + kx);
            /* Each input column of the window is loaded once and feeds every output column
             * it overlaps (kx = j - p * S), in kx order per output as in the checked path. */
#pragma GCC unroll 20
          for (int j = 0; j < (P - 1) * S + K; j++) {
            const __m512 xv = _mm512_maskz_loadu_ps(m, row + (size_t)j * c);
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
          __m512 v = silu ? ens_silu_avx512(acc[p]) : acc[p];
          sum = _mm512_add_ps(sum, v);
          store16(orow + (size_t)(ox + p) * c + cb, m, v);
        }
        ox += P;
      } else {
        __m512 v = bias;
#pragma GCC unroll 5
        for (int ky = 0; ky < K; ky++) {
          if (ky < ky0 || ky >= ky1)
            continue;
          const float *row = base + ((size_t)(iy0 + ky) * iw + ix0) * c;
#pragma GCC unroll 5
          for (int kx = 0; kx < K; kx++)
            v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, row + (size_t)kx * c), WTAP(ky * K + kx),
                                v);
        }
        if (silu)
          v = ens_silu_avx512(v);
        sum = _mm512_add_ps(sum, v);
        store16(orow + (size_t)ox * c + cb, m, v);
        ox++;
      }
    }
  }
  if (sums)
    _mm512_mask_storeu_ps(sums + cb, m, sum);
#undef WTAP
}

#define DW_CASE(K, S, P)                                                                           \
  for (int cb = c0; cb < c1; cb += 16) {                                                           \
    const int left = c1 - cb;                                                                      \
    const __mmask16 m = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);                       \
    dw_row(K, S, P, a, img, oy, orow, sums, cb, m);                                                \
  }

void ens_depthwise_avx512(const ens_dw_args *a, int begin, int end)
{
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
    if (k == 3 && s == 1) {
      DW_CASE(3, 1, 8)
    } else if (k == 3 && s == 2) {
      DW_CASE(3, 2, 8)
    } else if (k == 5 && s == 1) {
      DW_CASE(5, 1, 8)
    } else if (k == 5 && s == 2) {
      DW_CASE(5, 2, 8)
    } else {
      DW_CASE(k, s, 4)
    }
  }
}
