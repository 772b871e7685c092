/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* silu_avx512.h - float32 SiLU and sigmoid on 16 lanes for the AVX-512 kernels (internal).
 *
 * exp(-x) = 2^n * q(r): n = round(-x / ln2), r = x + n ln2 (Cody-Waite, two-part ln2,
 * |r| <= ln2/2), q(r) = exp(-r) as a degree-5 polynomial (fitted for relative error on Chebyshev
 * nodes: 2.1e-7 evaluated in float), 2^n applied with vscalefps. x is clamped to [-89, 89] first
 * so r stays small: below -89 e is +inf as in the reference, above 89 e < 2^-127 and 1 + e
 * rounds to 1. The sigmoid (SE gate) is 1 / (1 + exp(-x)) this way.
 *
 * The SiLU takes its input pre-scaled by -log2(e) (ENS_ACT_SILU in kernels.h, folded into the
 * weights at load), which makes the range reduction exact and free: see ens_silu_avx512. The
 * divide is a true IEEE one. Accuracy matters: intermediate errors compound through the blocks
 * and the parity bound is 1e-4 on the logits; the unit test holds SiLU to 3 ulp of double
 * precision (measured worst 2.3e-7 relative, < 2 ulp; b0 logits vs timm ~4-5e-6).
 *
 * Cost on Zen 4, 16 lanes in a loop on its own: 10.6 cycles (13.4 with the exp(-x) route);
 * most of these operations share the two FMA pipes with the convolutions' FMAs, and b0 runs the
 * SiLU on ~5 M values per image. */
#ifndef ENS_SILU_AVX512_H
#define ENS_SILU_AVX512_H

#include <immintrin.h>

#include "../kernels.h" /* ENS_SILU_UNSCALE */

/* exp(-x), for x clamped as described above. */
static inline __m512 ens_exp_neg_avx512(__m512 x)
{
  /* sign(x) * min(|x|, 89) in one instruction (vrangeps: minimum magnitude, sign of x) */
  const __m512 xc = _mm512_range_ps(x, _mm512_set1_ps(89.0f), 0x2);
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(-1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(0.693359375f), xc);
  r = _mm512_fmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  /* exp(-r), Horner */
  __m512 q = _mm512_set1_ps(-0.008297717198729515f);
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(0.04191538691520691f));
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(-0.16667573153972626f));
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(0.49998894333839417f));
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(-0.9999997019767761f));
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0000001192092896f));
  return _mm512_scalef_ps(q, n);
}

/* ENS_ACT_SILU (kernels.h): silu(x) for the pre-scaled v = -x log2(e), as (v * -ln2) / (1 + 2^v).
 * 2^v = 2^n * p(v - n) with n = round(v): the subtraction is exact, so unlike exp(-x) above
 * there is no multiply by log2(e) and no two-step Cody-Waite reduction, which leaves 5 of the
 * FMA unit's operations (the polynomial) plus the multiply by -ln2: ~3 cycles less per 16
 * lanes on Zen 4. p(t) = q(-t ln2) for the polynomial q above (its coefficients times
 * (-ln2)^i: 1.2e-7 relative on [-1/2, 1/2]). v is clamped to +-128.5 first; beyond +-128 2^v
 * has overflowed to +inf or is below 2^-128, so silu is -0 for x < -88.7 and x for x > 88.7, as
 * in the reference, and a NaN stays NaN. */
static inline __m512 ens_silu_avx512(__m512 v)
{
  const __m512 vc = _mm512_range_ps(v, _mm512_set1_ps(128.5f), 0x2);
  const __m512 n = _mm512_roundscale_ps(vc, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_sub_ps(vc, n);
  __m512 q = _mm512_set1_ps(0.0013276571407914162f);
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(0.009675542823970318f));
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(0.055507127195596695f));
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(0.24022118747234344f));
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(0.6931470036506653f));
  q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0000001192092896f));
  const __m512 e = _mm512_scalef_ps(q, n);
  const __m512 x = _mm512_mul_ps(v, _mm512_set1_ps(ENS_SILU_UNSCALE));
  return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

/* sigmoid(x) = 1 / (1 + exp(-x)), the same way (the squeeze-excitation gate). */
static inline __m512 ens_sigmoid_avx512(__m512 x)
{
  return _mm512_div_ps(_mm512_set1_ps(1.0f),
                       _mm512_add_ps(_mm512_set1_ps(1.0f), ens_exp_neg_avx512(x)));
}

#endif
