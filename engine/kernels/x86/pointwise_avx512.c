/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pointwise_avx512.c - 1x1 convolution (NHWC GEMM) with AVX-512 register blocking and the
 * epilogue fused: bias (as the accumulators' start value), SiLU, residual add.
 *
 * Micro-kernel: MR rows x NV zmm of output channels (NV * 16 couts) held in MR * NV
 * accumulators; per input channel it loads NV weight vectors (contiguous in the weight panel,
 * kernels.h; the zero padding makes them safe to load unmasked) and broadcasts one input value
 * per row. MR * NV <= 24 keeps accumulators + weights + broadcast inside the 32 zmm registers.
 * The last vector of a row is stored masked, so any cout works. The squeeze-excitation scale
 * is applied to the input rows in place first (allowed by the kernel contract).
 *
 * Loop nest: row panels of MC rows (MC * cin floats ~ 128 KiB, so the panel stays in L2 while
 * every weight panel sweeps it), then weight panels (48 couts), then MR-row micro-tiles. */
#include "kernels_x86.h"

#include <immintrin.h>

#include "silu_avx512.h"
#include "pointwise_store_avx512.h"

#define MAX_ACC 24

/* Cache lines a micro-tile prefetches into L2, one (extra: two) per input channel: the first
 * next_n lines at next (the next weight panel) and extra_n lines at extra (from the caller's
 * ens_pw_args.prefetch ranges). */
typedef struct {
  const char *next, *extra;
  int next_n, extra_n;
} pf_lines;

/* The prefetches of input channel k of a micro-tile. */
static inline __attribute__((always_inline)) void tile_prefetch(const pf_lines *pf, int k)
{
  if (k < pf->next_n)
    _mm_prefetch(pf->next + 64 * (size_t)k, _MM_HINT_T1);
  if (2 * k < pf->extra_n) {
    _mm_prefetch(pf->extra + 128 * (size_t)k, _MM_HINT_T1);
    if (2 * k + 1 < pf->extra_n)
      _mm_prefetch(pf->extra + 128 * (size_t)k + 64, _MM_HINT_T1);
  }
}

static inline __attribute__((always_inline)) void tile(const int MR, const int NV, const float *in,
                                                       int cin, const float *w, const float *bias,
                                                       const __mmask16 *mask, const pf_lines *pf,
                                                       __m512 *sums)
{
  __m512 acc[MAX_ACC];
  ens_pw_tile_load_bias(MR, NV, acc, bias, mask);

  for (int k = 0; k < cin; k++) {
    tile_prefetch(pf, k);
    __m512 wv[3];
    const float *wk = w + (size_t)k * ENS_PW_PANEL;
#pragma GCC unroll 3
    for (int j = 0; j < NV; j++)
      wv[j] = _mm512_loadu_ps(wk + 16 * j);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      const __m512 x = _mm512_set1_ps(in[(size_t)i * cin + k]);
#pragma GCC unroll 3
      for (int j = 0; j < NV; j++)
        acc[i * NV + j] = _mm512_fmadd_ps(x, wv[j], acc[i * NV + j]);
    }
  }
#pragma GCC unroll 24
  for (int i = 0; i < MR * NV; i++)
    sums[i] = acc[i];
}

/* A micro-tile whose last column block is at most 8 wide (cout 24, 40, ...): NF full vectors
 * plus one 256-bit half per row. On Zen 4 a 512-bit FMA takes both 256-bit halves of the FMA
 * pipes, so the half vector costs half: cout 24 needs 3/4 of the FMA work of two masked
 * 512-bit vectors. The epilogue is the full-vector one on the zero-extended halves. */
static inline __attribute__((always_inline)) void
tile_half(const int MR, const int NF, const float *in, int cin, const float *w, const float *bias,
          const __mmask16 *mask, const pf_lines *pf, __m512 *sums)
{
  __m512 acc[MAX_ACC];
  __m256 acch[16];
  ens_pw_tile_load_bias(MR, NF, acc, bias, mask);
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++)
    acch[i] = _mm256_maskz_loadu_ps((__mmask8)mask[NF], bias + 16 * NF);

  for (int k = 0; k < cin; k++) {
    tile_prefetch(pf, k);
    __m512 wv[2];
    const float *wk = w + (size_t)k * ENS_PW_PANEL;
#pragma GCC unroll 2
    for (int j = 0; j < NF; j++)
      wv[j] = _mm512_loadu_ps(wk + 16 * j);
    const __m256 wh = _mm256_loadu_ps(wk + 16 * NF);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      const __m512 x = _mm512_set1_ps(in[(size_t)i * cin + k]);
#pragma GCC unroll 2
      for (int j = 0; j < NF; j++)
        acc[i * NF + j] = _mm512_fmadd_ps(x, wv[j], acc[i * NF + j]);
      acch[i] = _mm256_fmadd_ps(_mm512_castps512_ps256(x), wh, acch[i]);
    }
  }

#pragma GCC unroll 16
  for (int i = 0; i < MR; i++) {
#pragma GCC unroll 2
    for (int j = 0; j < NF; j++)
      sums[i * (NF + 1) + j] = acc[i * NF + j];
    sums[i * (NF + 1) + NF] = _mm512_zextps256_ps512(acch[i]);
  }
}

#define TILE_CASE(MR, NV)                                                                          \
  case MR:                                                                                         \
    tile(MR, NV, in, cin, w, bias, mask, pf, sums);                                                \
    break;

/* nv counts the half vector: NF = nv - 1 full ones. */
#define TILE_HALF_CASE(MR, NV)                                                                     \
  case MR:                                                                                         \
    tile_half(MR, NV - 1, in, cin, w, bias, mask, pf, sums);                                       \
    break;

/* The multiply loop of one micro-tile of mr rows (1 <= mr <= ens_pw_mr_max(nv)) and nv vectors
 * (the last one at most 8 columns wide when half), compiled with constant bounds; the sums go
 * to memory for the epilogue. The loop and the epilogue are separate (not inlined) functions:
 * inlined together, gcc 12 kept the epilogue's SiLU constants in registers across the loop and
 * spilled 5-6 of the 24 accumulators to the stack on every input channel. */
static __attribute__((noinline)) void tile_multiply(int mr, int nv, int half, const float *in,
                                                    int cin, const float *w, const float *bias,
                                                    const __mmask16 *mask, const pf_lines *pf,
                                                    __m512 *sums)
{
  if (half) {
    ENS_PW_TILE_SWITCH(mr, nv, TILE_HALF_CASE)
  } else {
    ENS_PW_TILE_SWITCH(mr, nv, TILE_CASE)
  }
}

#define STORE_CASE(MR, NV)                                                                         \
  case MR:                                                                                         \
    ens_pw_tile_store(MR, NV, acc, out, cout, res, act, mask);                                     \
    break;

/* The epilogue of a micro-tile whose sums tile_multiply() left in memory. */
static __attribute__((noinline)) void tile_store(int mr, int nv, __m512 *acc, float *out, int cout,
                                                 const float *res, ens_act act,
                                                 const __mmask16 *mask)
{
  ENS_PW_TILE_SWITCH(mr, nv, STORE_CASE)
}

/* Rows [begin, end) of the input times their image's SE scale, in place. */
static void se_scale_rows(const ens_pw_args *a, int begin, int end)
{
  const int cin = a->cin, rpi = a->rows_per_image;
  for (int r = begin; r < end;) {
    const int img = r / rpi, stop = (img + 1) * rpi < end ? (img + 1) * rpi : end;
    ens_scale_channels_avx512(a->in + (size_t)r * cin, cin, stop - r, a->se + (size_t)img * cin, 0,
                              cin);
    r = stop;
  }
}

void ens_pointwise_avx512(const ens_pw_args *a, int begin, int end)
{
  ens_pw_assert(a, begin, end);
  assert(a->w);
  if (end <= begin)
    return;
  const int cin = a->cin, cout = a->cout;
  int col_begin, col_end;
  ens_pw_cols(a, &col_begin, &col_end);
  if (a->se)
    se_scale_rows(a, begin, end);

  int mc = (32768 / (cin > 0 ? cin : 1)) & ~15;
  if (mc < 16)
    mc = 16;

  /* The a->prefetch ranges (kernels.h) in order, as one list of lines spread evenly over the
   * tiles; a tile's share stops at the end of a range. */
  size_t range_end[ENS_PW_PREFETCH], extra_lines = 0;
  for (int i = 0; i < ENS_PW_PREFETCH; i++) {
    extra_lines += a->prefetch[i] ? a->prefetch_bytes[i] / 64 : 0;
    range_end[i] = extra_lines;
  }
  size_t per_tile = 0, tile_no = 0;
  if (extra_lines && col_end > col_begin) {
    size_t tiles = 0;
    for (int r0 = begin; r0 < end; r0 += mc)
      for (int c0 = col_begin, nc; c0 < col_end; c0 += nc) {
        nc = col_end - c0 < ENS_PW_PANEL - c0 % ENS_PW_PANEL ? col_end - c0
                                                             : ENS_PW_PANEL - c0 % ENS_PW_PANEL;
        tiles += (size_t)ens_pw_tiles((r0 + mc < end ? r0 + mc : end) - r0, (nc + 15) / 16);
      }
    per_tile = tiles ? (extra_lines + tiles - 1) / tiles : 0;
  }

  for (int r0 = begin; r0 < end; r0 += mc) {
    const int r1 = r0 + mc < end ? r0 + mc : end;
    /* column blocks never cross a weight panel */
    for (int c0 = col_begin, nc; c0 < col_end; c0 += nc) {
      const int in_panel = c0 % ENS_PW_PANEL;
      nc = col_end - c0 < ENS_PW_PANEL - in_panel ? col_end - c0 : ENS_PW_PANEL - in_panel;
      const int nv = (nc + 15) / 16, half = nc % 16 != 0 && nc % 16 <= 8;
      const float *wp = a->w + ens_pw_index(cin, 0, c0);
      __mmask16 mask[3];
      for (int j = 0; j < 3; j++)
        mask[j] = ens_pw_mask(nc - 16 * j);
      const int nrows = r1 - r0, ntiles = ens_pw_tiles(nrows, nv);
      /* The first tile pulls the weight panel in (at batch 1 the late layers' weights come
       * from memory); the others run from cache and prefetch the next panel into L2 in equal
       * parts, one line per input channel, so its first tile does not wait on memory. */
      const char *next =
          c0 + nc < col_end ? (const char *)(a->w + ens_pw_index(cin, 0, c0 + nc)) : NULL;
      const int panel_lines = (int)(sizeof(float) * ENS_PW_PANEL * cin / 64);
      const int pf_chunk = ntiles > 1 ? (panel_lines + ntiles - 2) / (ntiles - 1) : 0;
      int r = r0;
      for (int t = 0; t < ntiles; t++, tile_no++) {
        const int mr = ens_pw_tile_height(nrows, ntiles, t);
        const int pf_first = (t - 1) * pf_chunk;
        pf_lines pf = {0};
        if (next && t > 0 && pf_first < panel_lines) {
          pf.next = next + 64 * (size_t)pf_first;
          pf.next_n = panel_lines - pf_first < pf_chunk ? panel_lines - pf_first : pf_chunk;
        }
        const size_t e0 = tile_no * per_tile;
        for (int i = 0; i < ENS_PW_PREFETCH; i++)
          if (e0 < range_end[i]) {
            const size_t first = i ? range_end[i - 1] : 0;
            pf.extra = (const char *)a->prefetch[i] + 64 * (e0 - first);
            pf.extra_n = (int)(range_end[i] - e0 < per_tile ? range_end[i] - e0 : per_tile);
            break;
          }
        __m512 sums[MAX_ACC];
        tile_multiply(mr, nv, half, a->in + (size_t)r * cin, cin, wp, a->bias + c0, mask, &pf,
                      sums);
        tile_store(mr, nv, sums, a->out + (size_t)r * cout + c0, cout,
                   a->residual ? a->residual + (size_t)r * cout + c0 : NULL, a->act, mask);
        r += mr;
      }
    }
  }
}
