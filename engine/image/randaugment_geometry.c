/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* randaugment_geometry.c - RandAugment's geometric ops as Pillow 9.4 resamples them:
 * Image.transform(size, AFFINE, a, resample, fillcolor) and Image.rotate(deg, resample,
 * fillcolor) on L and RGB images. Pillow runs three different engines, and so does this file:
 *   - NEAREST without rotation / shear: a scale engine that steps a double per column / row
 *     and truncates (ImagingScaleAffine);
 *   - NEAREST otherwise: 16.16 fixed-point stepping (affine_fixed), when the corners fit;
 *   - BILINEAR / BICUBIC: every pixel mapped in double through its centre, sampled with
 *     edge-clamped taps and truncated to a byte (ImagingGenericTransform).
 * Pixels that map outside the input keep the fill colour (Pillow passes fill=0 when a
 * fillcolor is given: the new image starts as that colour). */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "randaugment.h"

/* Pillow's arithmetic is unfused; clang would fuse a * b + c on FMA targets (GCC does not
 * in ISO C mode), which changes roundings. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

static void fill_image(uint8_t *dst, size_t npix, int c, const uint8_t fill[3])
{
  for (size_t i = 0; i < npix; i++)
    memcpy(dst + i * (size_t)c, fill, (size_t)c);
}

/* Pillow's COORD: -1 for negatives (so -0.5 is outside), truncation otherwise; saturated
 * (and NaN sent outside) so that no coordinate overflows the conversion. */
static inline int coord(double v)
{
  return !(v >= 0.0) ? -1 : v >= 2147483647.0 ? INT_MAX : (int)v;
}

/* Pillow's FLOOR as used by the filters. */
static inline int floor_int(double v)
{
  return v < 0.0 ? (int)floor(v) : (int)v;
}

static inline int clampi(int v, int lo, int hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

/* ---- nearest, pure scale / translation: columns and rows step a double each, as
 * ImagingScaleAffine does (the column positions are re-stepped identically per row). */
static void nearest_scale(const uint8_t *src, uint8_t *dst, int w, int h, int c, const double a[6])
{
  double yo = a[5] + a[4] * 0.5;
  for (int y = 0; y < h; y++, yo += a[4]) {
    int yi = coord(yo);
    if (yi < 0 || yi >= h)
      continue;
    double xo = a[2] + a[0] * 0.5;
    for (int x = 0; x < w; x++, xo += a[0]) {
      int xi = coord(xo);
      if (xi >= 0 && xi < w)
        memcpy(dst + ((size_t)y * w + x) * c, src + ((size_t)yi * w + xi) * c, (size_t)c);
    }
  }
}

/* ---- nearest, general affine in 16.16 fixed point */
static int fits_fixed(const double a[6], int x, int y)
{
  return fabs(x * a[0] + y * a[1] + a[2]) < 32768.0 && fabs(x * a[3] + y * a[4] + a[5]) < 32768.0;
}

/* Only called for values that fits_fixed() bounded (|v| < 32768). */
static int64_t to_fixed(double v)
{
  return (int64_t)floor_int(v * 65536.0 + 0.5);
}

/* Floor division by 65536 (Pillow's arithmetic >> 16 on its int accumulators). */
static inline int64_t fixed_int(int64_t v)
{
  return (v - (v & 0xffff)) / 65536;
}

/* Pillow's affine_fixed: coefficients rounded to 16.16 once, then stepped; 64-bit here so
 * the accumulators cannot overflow at the edge of the range. */
static void nearest_fixed(const uint8_t *src, uint8_t *dst, int w, int h, int c, const double a[6])
{
  int64_t a0 = to_fixed(a[0]), a1 = to_fixed(a[1]), a3 = to_fixed(a[3]), a4 = to_fixed(a[4]);
  int64_t a2 = to_fixed(a[2] + a[0] * 0.5 + a[1] * 0.5);
  int64_t a5 = to_fixed(a[5] + a[3] * 0.5 + a[4] * 0.5);
  for (int y = 0; y < h; y++, a2 += a1, a5 += a4) {
    int64_t xx = a2, yy = a5;
    for (int x = 0; x < w; x++, xx += a0, yy += a3) {
      int64_t xi = fixed_int(xx), yi = fixed_int(yy);
      if (xi >= 0 && xi < w && yi >= 0 && yi < h)
        memcpy(dst + ((size_t)y * w + x) * c, src + ((size_t)yi * w + (size_t)xi) * c, (size_t)c);
    }
  }
}

/* ---- nearest, general affine in double (corners beyond the fixed-point range) */
static void nearest_float(const uint8_t *src, uint8_t *dst, int w, int h, int c, const double a[6])
{
  double xo = a[2] + a[1] * 0.5 + a[0] * 0.5;
  double yo = a[5] + a[4] * 0.5 + a[3] * 0.5;
  for (int y = 0; y < h; y++, xo += a[1], yo += a[4]) {
    double xx = xo, yy = yo;
    for (int x = 0; x < w; x++, xx += a[0], yy += a[3]) {
      int xi = coord(xx), yi = coord(yy);
      if (xi >= 0 && xi < w && yi >= 0 && yi < h)
        memcpy(dst + ((size_t)y * w + x) * c, src + ((size_t)yi * w + xi) * c, (size_t)c);
    }
  }
}

/* ---- bilinear / bicubic through pixel centres */

/* Pillow's cubic with a = -1 through v1..v4 at fraction d between v2 and v3. */
static inline double cubic(double v1, double v2, double v3, double v4, double d)
{
  double p1 = v2;
  double p2 = -v1 + v3;
  double p3 = 2 * (v1 - v2) + v3 - v4;
  double p4 = -v1 + v2 - v3 + v4;
  return p1 + d * (p2 + d * (p3 + d * p4));
}

static void sample_bilinear(const uint8_t *src, int w, int h, int c, double xin, double yin,
                            uint8_t *out)
{
  xin -= 0.5;
  yin -= 0.5;
  int x = floor_int(xin), y = floor_int(yin);
  double dx = xin - x, dy = yin - y;
  int x0 = clampi(x, 0, w - 1), x1 = clampi(x + 1, 0, w - 1);
  const uint8_t *r0 = src + (size_t)clampi(y, 0, h - 1) * w * c;
  const uint8_t *r1 = src + (size_t)clampi(y + 1, 0, h - 1) * w * c;
  for (int k = 0; k < c; k++) {
    double a = r0[x0 * c + k], b = r0[x1 * c + k];
    double v1 = a + (b - a) * dx;
    a = r1[x0 * c + k];
    b = r1[x1 * c + k];
    double v2 = a + (b - a) * dx;
    double v = v1 + (v2 - v1) * dy;
    out[k] = (uint8_t)v;
  }
}

static void sample_bicubic(const uint8_t *src, int w, int h, int c, double xin, double yin,
                           uint8_t *out)
{
  xin -= 0.5;
  yin -= 0.5;
  int x = floor_int(xin), y = floor_int(yin);
  double dx = xin - x, dy = yin - y;
  int xs[4];
  const uint8_t *rows[4];
  for (int j = 0; j < 4; j++) {
    xs[j] = clampi(x - 1 + j, 0, w - 1) * c;
    rows[j] = src + (size_t)clampi(y - 1 + j, 0, h - 1) * w * c;
  }
  for (int k = 0; k < c; k++) {
    double v[4];
    for (int j = 0; j < 4; j++) {
      const uint8_t *r = rows[j] + k;
      v[j] = cubic(r[xs[0]], r[xs[1]], r[xs[2]], r[xs[3]], dx);
    }
    double s = cubic(v[0], v[1], v[2], v[3], dy);
    out[k] = s <= 0.0 ? 0 : s >= 255.0 ? 255 : (uint8_t)s;
  }
}

static void filtered(const uint8_t *src, uint8_t *dst, int w, int h, int c, const double a[6],
                     ens_ra_resample resample)
{
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w; x++) {
      double xc = x + 0.5, yc = y + 0.5;
      double xin = a[0] * xc + a[1] * yc + a[2];
      double yin = a[3] * xc + a[4] * yc + a[5];
      if (!(xin >= 0.0 && xin < w && yin >= 0.0 && yin < h))
        continue; /* keeps the fill */
      uint8_t *out = dst + ((size_t)y * w + x) * c;
      if (resample == ENS_RA_BICUBIC)
        sample_bicubic(src, w, h, c, xin, yin, out);
      else
        sample_bilinear(src, w, h, c, xin, yin, out);
    }
  }
}

void ens_ra_affine(const uint8_t *src, uint8_t *dst, int w, int h, int c, const double a[6],
                   ens_ra_resample resample, const uint8_t fill[3])
{
  fill_image(dst, (size_t)w * (size_t)h, c, fill);
  if (resample != ENS_RA_NEAREST)
    filtered(src, dst, w, h, c, a, resample);
  else if (a[1] == 0 && a[3] == 0)
    nearest_scale(src, dst, w, h, c, a);
  else if (fits_fixed(a, 0, 0) && fits_fixed(a, w, h) && fits_fixed(a, 0, h) && fits_fixed(a, w, 0))
    nearest_fixed(src, dst, w, h, c, a);
  else
    nearest_float(src, dst, w, h, c, a);
}

/* Python's round(v, 15): the double nearest the decimal rounded to 15 places. glibc's
 * printf rounds the exact binary value, as CPython's dtoa does. */
static double round15(double v)
{
  char buf[64];
  snprintf(buf, sizeof buf, "%.15f", v);
  return strtod(buf, NULL);
}

/* Exact quarter turns Pillow does with transpose instead of resampling. */
static void rotate_180(const uint8_t *src, uint8_t *dst, int w, int h, int c)
{
  size_t npix = (size_t)w * (size_t)h;
  for (size_t i = 0; i < npix; i++)
    memcpy(dst + i * c, src + (npix - 1 - i) * c, (size_t)c);
}

/* Counter-clockwise 90 (ccw = 1) or 270 degrees on a square picture. */
static void rotate_90(const uint8_t *src, uint8_t *dst, int n, int c, int ccw)
{
  for (int y = 0; y < n; y++)
    for (int x = 0; x < n; x++) {
      int sx = ccw ? n - 1 - y : y, sy = ccw ? x : n - 1 - x;
      memcpy(dst + ((size_t)y * n + x) * c, src + ((size_t)sy * n + sx) * c, (size_t)c);
    }
}

void ens_ra_rotate(const uint8_t *src, uint8_t *dst, int w, int h, int c, double degrees,
                   ens_ra_resample resample, const uint8_t fill[3])
{
  /* Python's float modulo: the result takes the sign of 360. */
  double angle = fmod(degrees, 360.0);
  if (angle != 0.0 && angle < 0.0)
    angle += 360.0;
  if (angle == 0.0) {
    memcpy(dst, src, (size_t)w * h * c);
    return;
  }
  if (angle == 180.0) {
    rotate_180(src, dst, w, h, c);
    return;
  }
  if ((angle == 90.0 || angle == 270.0) && w == h) {
    rotate_90(src, dst, w, c, angle == 90.0);
    return;
  }
  /* Inverse matrix about the centre (w / 2, h / 2), entries rounded to 15 decimals as
   * Image.rotate does; math.radians multiplies by the constant pi / 180. */
  double rad = -(angle * (3.141592653589793 / 180.0));
  double m[6] = {round15(cos(rad)),  round15(sin(rad)), 0.0,
                 round15(-sin(rad)), round15(cos(rad)), 0.0};
  double cx = w / 2.0, cy = h / 2.0;
  m[2] = m[0] * -cx + m[1] * -cy + 0.0;
  m[5] = m[3] * -cx + m[4] * -cy + 0.0;
  m[2] += cx;
  m[5] += cy;
  ens_ra_affine(src, dst, w, h, c, m, resample, fill);
}
