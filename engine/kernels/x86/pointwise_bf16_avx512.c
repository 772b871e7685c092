/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pointwise_bf16_avx512.c - 1x1 convolution (NHWC GEMM) on bf16 operands with float32
 * accumulation (AVX512_BF16 vdpbf16ps), for ENS_PRECISION_BF16. Same contract and fused
 * epilogue as ens_pointwise_avx512 (kernels.h): bias as the accumulators' start value, SiLU,
 * residual add; the squeeze-excitation scale is applied while the input rows are converted,
 * so `in` is never written.
 *
 * Weights come packed at load (ens_bf16_mat, kernels.h): one 64-byte vector holds input channels
 * (k, k+1) of 16 output channels. Each row panel of MC input rows is first rounded to bf16 into a
 * stack buffer (cvtne2ps2bf16, round to nearest even; an odd cin gets a zero pad), where
 * consecutive channel pairs are one 32-bit word: the micro-kernel broadcasts that word and
 * does one vdpbf16ps per weight vector, i.e. two input channels per instruction.
 *
 * Micro-kernel: MR rows x NV zmm of output channels, MR * NV <= 24 accumulators, as in the
 * float32 kernel. The packed cout is padded to 16, so weight loads are never masked; only the
 * bias / residual loads and the last store of a row are. */
#include <assert.h>
#include <immintrin.h>
#include <stdint.h>

#include "kernels_x86.h"
#include "silu_avx512.h"
#include "pointwise_store_avx512.h"

#define MAX_ACC 24
/* bf16 pairs in the converted row panel: 64 KiB of stack (128 KiB measured no faster) */
#define PANEL_WORDS (ENS_BF16_MAX_CIN / 2)

static inline __attribute__((always_inline)) void
tile(const int MR, const int NV, const uint32_t *x, int kp, const uint16_t *w, int np,
     const float *bias, float *out, int cout, const float *res, ens_act act, const __mmask16 *mask)
{
  __m512 acc[MAX_ACC];
  ens_pw_tile_load_bias(MR, NV, acc, bias, mask);

  for (int kk = 0; kk < kp; kk++) {
    __m512bh wv[3];
    const uint16_t *wk = w + (size_t)kk * np * 2;
#pragma GCC unroll 3
    for (int j = 0; j < NV; j++)
      wv[j] = (__m512bh)_mm512_loadu_si512(wk + 32 * j);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      const __m512bh xv = (__m512bh)_mm512_set1_epi32((int)x[(size_t)i * kp + kk]);
#pragma GCC unroll 3
      for (int j = 0; j < NV; j++)
        acc[i * NV + j] = _mm512_dpbf16_ps(acc[i * NV + j], xv, wv[j]);
    }
  }

  ens_pw_tile_store(MR, NV, acc, out, cout, res, act, mask);
}

#define TILE_CASE(MR, NV)                                                                          \
  case MR:                                                                                         \
    tile(MR, NV, x, kp, w, np, bias, out, cout, res, act, mask);                                   \
    break;

static void tile_dispatch(int mr, int nv, const uint32_t *x, int kp, const uint16_t *w, int np,
                          const float *bias, float *out, int cout, const float *res, ens_act act,
                          const __mmask16 *mask)
{
  ENS_PW_TILE_SWITCH(mr, nv, TILE_CASE)
}

static inline __m512 load_scaled(const float *x, const float *s, __mmask16 m)
{
  const __m512 v = _mm512_maskz_loadu_ps(m, x);
  return s ? _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, s)) : v;
}

/* Rows [r0, r1) of the input, times the SE scale, rounded to bf16 into dst[(r - r0) * kp]. */
static void convert_rows(const ens_pw_args *a, int r0, int r1, int kp, uint32_t *dst)
{
  const int cin = a->cin;
  for (int r = r0; r < r1; r++) {
    const float *x = a->in + (size_t)r * cin;
    const float *s = a->se ? a->se + (size_t)(r / a->rows_per_image) * cin : NULL;
    uint16_t *d = (uint16_t *)(dst + (size_t)(r - r0) * kp);
    int c = 0;
    for (; c + 32 <= cin; c += 32) {
      const __m512 lo = load_scaled(x + c, s ? s + c : NULL, 0xFFFF);
      const __m512 hi = load_scaled(x + c + 16, s ? s + c + 16 : NULL, 0xFFFF);
      _mm512_storeu_si512(d + c, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
    }
    if (c < cin) { /* tail, zero-padded to the even kp * 2 */
      const __mmask16 mlo = ens_pw_mask(cin - c), mhi = ens_pw_mask(cin - c - 16);
      const __m512 lo = load_scaled(x + c, s ? s + c : NULL, mlo);
      const __m512 hi = load_scaled(x + c + 16, s ? s + c + 16 : NULL, mhi);
      const int words = kp * 2 - c; /* bf16 values left in the row, <= 32 */
      _mm512_mask_storeu_epi16(d + c, (__mmask32)(words >= 32 ? ~0u : (1u << words) - 1),
                               (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
    }
  }
}

void ens_pointwise_bf16_avx512(const ens_pw_args *a, const ens_bf16_mat *wb, int begin, int end)
{
  ens_pw_assert(a, begin, end);
  if (end <= begin)
    return;
  const int kp = wb->kp, np = wb->np, cout = a->cout;
  int col_begin, col_end;
  ens_pw_cols(a, &col_begin, &col_end);
  uint32_t panel[PANEL_WORDS];

  /* row panels: the converted panel (<= 128 KiB) stays in L2 while cout blocks sweep it */
  int mc = PANEL_WORDS / (kp > 0 ? kp : 1);
  if (mc >= 16)
    mc &= ~15;
  assert(kp <= PANEL_WORDS && wb->cin == a->cin && wb->cout == a->cout);
  if (mc < 1) /* cin > ENS_BF16_MAX_CIN: ens_net_bf16_new refuses such a net */
    return;
  for (int r0 = begin; r0 < end; r0 += mc) {
    const int r1 = r0 + mc < end ? r0 + mc : end;
    convert_rows(a, r0, r1, kp, panel);
    for (int c0 = col_begin; c0 < col_end; c0 += 48) {
      const int nc = col_end - c0 < 48 ? col_end - c0 : 48;
      const int nv = (nc + 15) / 16;
      __mmask16 mask[3];
      for (int j = 0; j < 3; j++)
        mask[j] = ens_pw_mask(nc - 16 * j);
      const int nrows = r1 - r0, ntiles = ens_pw_tiles(nrows, nv);
      int r = r0;
      for (int t = 0; t < ntiles; t++) {
        const int mr = ens_pw_tile_height(nrows, ntiles, t);
        tile_dispatch(mr, nv, panel + (size_t)(r - r0) * kp, kp, wb->w + (size_t)c0 * 2, np,
                      a->bias + c0, a->out + (size_t)r * cout + c0, cout,
                      a->residual ? a->residual + (size_t)r * cout + c0 : NULL, a->act, mask);
        r += mr;
      }
    }
  }
}
