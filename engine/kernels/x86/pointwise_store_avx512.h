/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pointwise_store_avx512.h - the parts of a 1x1-conv micro-tile that do not depend on the operand
 * type: bias start, fused epilogue (SiLU, residual add, store) and the tile-shape dispatch, shared
 * by the float32 and bf16 kernels. Include after silu_avx512.h. */
#ifndef ENS_POINTWISE_STORE_AVX512_H
#define ENS_POINTWISE_STORE_AVX512_H

#include <immintrin.h>

/* Starts every row's accumulators at the bias (the bias add of the epilogue, done for free). */
static inline __attribute__((always_inline)) void ens_pw_tile_load_bias(const int MR, const int NV,
                                                                        __m512 *acc,
                                                                        const float *bias,
                                                                        const __mmask16 *mask)
{
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 3
    for (int j = 0; j < NV; j++)
      acc[i * NV + j] = _mm512_maskz_loadu_ps(mask[j], bias + 16 * j);
}

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
      else if (act == ENS_ACT_SIGMOID)
        v = ens_sigmoid_avx512(v);
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

/* Largest row count of a micro-tile of nv vectors (nv * mr accumulators <= 24 of 32 zmm). */
static inline int ens_pw_mr_max(int nv)
{
  return nv == 1 ? 16 : nv == 2 ? 12 : 8;
}

/* Micro-tiles for nrows rows of nv vectors: as few as ens_pw_mr_max allows, with heights
 * balanced (25 rows = 7+6+6+6, not 8+8+8+1: a short tile streams the whole weight panel for
 * little work). Tile t has ens_pw_tile_height() rows. */
static inline int ens_pw_tiles(int nrows, int nv)
{
  const int m = ens_pw_mr_max(nv);
  return (nrows + m - 1) / m;
}

static inline int ens_pw_tile_height(int nrows, int ntiles, int t)
{
  return nrows / ntiles + (t < nrows % ntiles);
}

/* The lanes of a vector that still has `left` valid columns (0 when none). */
static inline __mmask16 ens_pw_mask(int left)
{
  return left >= 16 ? 0xFFFF : left > 0 ? (__mmask16)((1u << left) - 1) : 0;
}

/* The body of a tile dispatcher: a switch over every (mr, nv) micro-tile shape the kernels use
 * (nv 3: mr <= 8, nv 2: mr <= 12, nv 1: mr <= 16), each case expanding the includer's
 * CASE(MR, NV) so the tile is compiled with constant bounds. */
/* clang-format off */
#define ENS_PW_TILE_SWITCH(mr, nv, CASE)                                                               \
  if ((nv) == 3) {                                                                             \
    switch (mr) {                                                                              \
      CASE(1, 3) CASE(2, 3) CASE(3, 3) CASE(4, 3)                          \
      CASE(5, 3) CASE(6, 3) CASE(7, 3) CASE(8, 3)                          \
    }                                                                                          \
  } else if ((nv) == 2) {                                                                      \
    switch (mr) {                                                                              \
      CASE(1, 2) CASE(2, 2) CASE(3, 2) CASE(4, 2)                          \
      CASE(5, 2) CASE(6, 2) CASE(7, 2) CASE(8, 2)                          \
      CASE(9, 2) CASE(10, 2) CASE(11, 2) CASE(12, 2)                       \
    }                                                                                          \
  } else {                                                                                     \
    switch (mr) {                                                                              \
      CASE(1, 1) CASE(2, 1) CASE(3, 1) CASE(4, 1)                          \
      CASE(5, 1) CASE(6, 1) CASE(7, 1) CASE(8, 1)                          \
      CASE(9, 1) CASE(10, 1) CASE(11, 1) CASE(12, 1)                       \
      CASE(13, 1) CASE(14, 1) CASE(15, 1) CASE(16, 1)                      \
    }                                                                                          \
  }
/* clang-format on */

#endif
