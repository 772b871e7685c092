/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* yuv_row.c - 4:2:0 YUV row -> packed RGB (yuv_row.h). The per-pixel chroma index keeps the
 * one-pixel loop scalar; the fast row first spreads a chunk's chroma to one value per pixel,
 * then converts with a loop the compiler vectorises (AVX2 clone on x86-64). Integer arithmetic
 * in the same order, so both rows give the same bytes. YUV->RGB was 12 % of the CPU of 6 live
 * 720p streams at capacity (perf) before this file. */
#include "yuv_row.h"

void ens_yuv_coeffs_init(ens_yuv_matrix m, ens_yuv_coeffs *c)
{
  int bt709 = m == ENS_YUV_BT709 || m == ENS_YUV_BT709_FULL;
  int full = m == ENS_YUV_BT601_FULL || m == ENS_YUV_BT709_FULL;
  double kr = bt709 ? 0.2126 : 0.299, kb = bt709 ? 0.0722 : 0.114, kg = 1.0 - kr - kb;
  double ys = full ? 1.0 : 255.0 / 219.0, cs = full ? 1.0 : 255.0 / 224.0;
  const double one = 65536.0;
  c->y_off = full ? 0 : 16;
  c->cy = (int32_t)(ys * one + 0.5);
  c->crv = (int32_t)(cs * 2.0 * (1.0 - kr) * one + 0.5);
  c->cbu = (int32_t)(cs * 2.0 * (1.0 - kb) * one + 0.5);
  c->cgu = (int32_t)(cs * 2.0 * kb * (1.0 - kb) / kg * one + 0.5);
  c->cgv = (int32_t)(cs * 2.0 * kr * (1.0 - kr) / kg * one + 0.5);
}

static inline uint8_t fix_to_u8(int32_t v)
{
  v += 1 << 15; /* round half up */
  if (v < 0)
    return 0;
  v >>= 16;
  return v > 255 ? 255 : (uint8_t)v;
}

void ens_yuv_row_ref(const ens_yuv_coeffs *c, const uint8_t *y, const uint8_t *u, const uint8_t *v,
                     int cstep, int x0, int w, uint8_t *d)
{
  for (int i = 0; i < w; i++) {
    int ax = x0 + i;
    int32_t yy = (y[i] - c->y_off) * c->cy;
    int32_t uu = u[(ax >> 1) * cstep] - 128, vv = v[(ax >> 1) * cstep] - 128;
    d[3 * i + 0] = fix_to_u8(yy + c->crv * vv);
    d[3 * i + 1] = fix_to_u8(yy - c->cgu * uu - c->cgv * vv);
    d[3 * i + 2] = fix_to_u8(yy + c->cbu * uu);
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && !defined(ENS_NO_VECTOR_CLONES)
#define ENS_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ENS_VECTOR_CLONES
#endif

#define CHUNK 64

/* An arithmetic shift, then the clamp: the same byte as fix_to_u8 (a negative sum after the
 * rounding offset shifts to a negative value and clamps to 0). */
static inline uint8_t clamp_u8(int32_t t)
{
  return (uint8_t)(t < 0 ? 0 : t > 255 ? 255 : t);
}

ENS_VECTOR_CLONES
static void convert(const ens_yuv_coeffs *c, const uint8_t *restrict y, const int32_t *restrict uu,
                    const int32_t *restrict vv, int n, uint8_t *restrict d)
{
  const int32_t yo = c->y_off, cy = c->cy, crv = c->crv, cgu = c->cgu, cgv = c->cgv, cbu = c->cbu;
  for (int i = 0; i < n; i++) {
    const int32_t yy = (y[i] - yo) * cy + (1 << 15);
    d[3 * i + 0] = clamp_u8((yy + crv * vv[i]) >> 16);
    d[3 * i + 1] = clamp_u8((yy - cgu * uu[i] - cgv * vv[i]) >> 16);
    d[3 * i + 2] = clamp_u8((yy + cbu * uu[i]) >> 16);
  }
}

/* out[i] = chroma of column x0 + i, minus 128, for i < n: pairs of pixels share a sample
 * (the first pixel alone if x0 is odd); c[j * cstep] is the sample of columns 2j, 2j + 1. */
ENS_VECTOR_CLONES
static void spread(const uint8_t *c, int cstep, int x0, int n, int32_t *restrict out)
{
  int i = 0;
  if (x0 & 1)
    out[i++] = c[(x0 >> 1) * cstep] - 128;
  const uint8_t *p = c + (size_t)((x0 + i) >> 1) * cstep;
  const int pairs = (n - i) / 2;
  if (cstep == 1)
    for (int j = 0; j < pairs; j++)
      out[i + 2 * j] = out[i + 2 * j + 1] = p[j] - 128;
  else
    for (int j = 0; j < pairs; j++)
      out[i + 2 * j] = out[i + 2 * j + 1] = p[2 * j] - 128;
  i += 2 * pairs;
  if (i < n)
    out[i] = p[(size_t)pairs * cstep] - 128;
}

void ens_yuv_row(const ens_yuv_coeffs *c, const uint8_t *y, const uint8_t *u, const uint8_t *v,
                 int cstep, int x0, int w, uint8_t *d)
{
  int32_t uu[CHUNK], vv[CHUNK];
  for (int i0 = 0; i0 < w; i0 += CHUNK) {
    const int n = w - i0 < CHUNK ? w - i0 : CHUNK;
    spread(u, cstep, x0 + i0, n, uu);
    spread(v, cstep, x0 + i0, n, vv);
    convert(c, y + i0, uu, vv, n, d + 3 * (size_t)i0);
  }
}
