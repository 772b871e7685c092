/* silu_avx512.h - float32 exp / SiLU on 16 lanes for the AVX-512 kernels (internal).
 *
 * exp(x) = 2^n * p(r), n = round(x / ln2), r = x - n ln2 (Cody-Waite, two-part ln2), p the
 * degree-7 Taylor polynomial of exp on |r| <= ln2/2 (truncation error < 1e-8 relative, so
 * the result is within ~1-2 ulp of expf). 2^n is applied with vscalefps, which saturates to
 * 0 / +inf at the ends of the float range. Accuracy matters here: intermediate errors compound
 * through the blocks and the parity bound is 1e-4 on the logits (the unit test holds SiLU to
 * 3 ulp of double precision). */
#ifndef ENS_SILU_AVX512_H
#define ENS_SILU_AVX512_H

#include <immintrin.h>

static inline __m512 ens_exp_avx512(__m512 x)
{
  const __m512 log2e = _mm512_set1_ps(1.44269504088896341f);
  const __m512 ln2_hi = _mm512_set1_ps(0.693359375f);
  const __m512 ln2_lo = _mm512_set1_ps(-2.12194440e-4f);
  /* Beyond these exp is 0 / inf anyway; clamping keeps r small so p(r) stays finite. */
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(89.0f));
  /* n = round-to-nearest(x * log2e), kept as a float: vscalefps takes it as is. */
  __m512 n =
      _mm512_roundscale_ps(_mm512_mul_ps(x, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, ln2_hi, x);
  r = _mm512_fnmadd_ps(n, ln2_lo, r);
  /* Horner, 1 + r + r^2/2 + ... + r^7/5040 */
  __m512 p = _mm512_set1_ps(1.98412698e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.38888889e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.33333333e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.16666667e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.66666667e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

/* x * sigmoid(x) = x / (1 + exp(-x)), with a true IEEE divide: -0 for very negative x (exp
 * saturates to +inf), x for very positive x, NaN stays NaN. */
static inline __m512 ens_silu_avx512(__m512 x)
{
  __m512 e = ens_exp_avx512(_mm512_sub_ps(_mm512_setzero_ps(), x));
  return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

#endif
