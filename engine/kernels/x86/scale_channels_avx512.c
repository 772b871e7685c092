/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* scale_channels_avx512.c - channel scaling (kernels.h) 16 channels at a time, masked tail. */
#include "kernels_x86.h"

#include <immintrin.h>

void ens_scale_channels_avx512(float *x, size_t stride, int rows, const float *s, int c0, int c1)
{
  assert(x && s && rows >= 0 && 0 <= c0 && c0 <= c1 && (size_t)c1 <= stride);
  for (int r = 0; r < rows; r++, x += stride) {
    int c = c0;
    for (; c + 16 <= c1; c += 16)
      _mm512_storeu_ps(x + c, _mm512_mul_ps(_mm512_loadu_ps(x + c), _mm512_loadu_ps(s + c)));
    if (c < c1) {
      const __mmask16 m = (__mmask16)((1u << (c1 - c)) - 1);
      _mm512_mask_storeu_ps(
          x + c, m,
          _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + c), _mm512_maskz_loadu_ps(m, s + c)));
    }
  }
}
