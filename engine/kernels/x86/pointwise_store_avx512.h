/* pointwise_store_avx512.h - the fused epilogue of a 1x1-conv micro-tile (SiLU, residual add,
 * store), shared by the float32 and bf16 kernels. Include after silu_avx512.h. */
#ifndef ENS_POINTWISE_STORE_AVX512_H
#define ENS_POINTWISE_STORE_AVX512_H

#include <immintrin.h>

/* acc holds MR x NV zmm of output channels (bias already included); mask[j] covers the valid
 * lanes of vector j of a row. */
static inline __attribute__((always_inline)) void
ens_pw_tile_store(const int MR, const int NV, __m512 *acc, float *out, int cout, const float *res,
                  ens_act act, const __mmask16 *mask)
{
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 3
    for (int j = 0; j < NV; j++) {
      __m512 v = acc[i * NV + j];
      if (act == ENS_ACT_SILU)
        v = ens_silu_avx512(v);
      float *o = out + (size_t)i * cout + 16 * j;
      if (res)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask[j], res + (size_t)i * cout + 16 * j));
      /* Masked stores are several times slower than plain ones on Zen 4: full vectors
       * take the plain store. */
      if (j < NV - 1 || mask[j] == 0xFFFF)
        _mm512_storeu_ps(o, v);
      else
        _mm512_mask_storeu_ps(o, mask[j], v);
    }
}

#endif
