/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* randaugment_enhance.c - RandAugment's ImageEnhance ops (Color, Contrast, Brightness,
 * Sharpness) as Pillow 9.4 computes them: Image.blend(degenerate, image, factor) in single
 * precision, truncated, clipped only when the factor is outside [0, 1]. The degenerate
 * images: Color - the picture converted to L (ITU-R 601 in 16-bit fixed point) and back;
 * Contrast - a flat grey at the rounded mean of that L picture; Brightness - black;
 * Sharpness - the picture through Pillow's SMOOTH 3x3 kernel (border pixels kept). */
#include <stdint.h>
#include <string.h>

#include "randaugment.h"

/* Pillow's arithmetic is unfused; clang would fuse a * b + c on FMA targets (GCC does not
 * in ISO C mode), which changes roundings. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* Pillow's blend of one byte: in1 + alpha * (in2 - in1) in float. Inside [0, 1] the result
 * cannot leave 0..255, so it is only truncated (as Pillow does); outside it is clipped. */
static inline uint8_t blend_px(int degenerate, int image, float alpha, int extrapolate)
{
  float v = (float)degenerate + alpha * (float)(image - degenerate);
  if (!extrapolate)
    return (uint8_t)v;
  if (v <= 0.0f)
    return 0;
  if (v >= 255.0f)
    return 255;
  return (uint8_t)v;
}

static int extrapolates(float alpha)
{
  return !(alpha >= 0.0f && alpha <= 1.0f);
}

/* RGB -> L as Pillow's convert("L"): (19595 R + 38470 G + 7471 B + 0x8000) >> 16. */
static inline uint8_t luma(const uint8_t *px)
{
  return (uint8_t)(((uint32_t)px[0] * 19595u + (uint32_t)px[1] * 38470u + (uint32_t)px[2] * 7471u +
                    0x8000u) >>
                   16);
}

void ens_ra_color(uint8_t *img, int w, int h, int c, double factor)
{
  if (c != 3)
    return; /* grey converted to grey is the picture itself: the blend is the identity */
  float alpha = (float)factor;
  int ex = extrapolates(alpha);
  size_t npix = (size_t)w * (size_t)h;
  for (size_t i = 0; i < npix; i++) {
    uint8_t *px = img + 3 * i;
    int l = luma(px);
    for (int k = 0; k < 3; k++)
      px[k] = blend_px(l, px[k], alpha, ex);
  }
}

void ens_ra_contrast(uint8_t *img, int w, int h, int c, double factor)
{
  size_t npix = (size_t)w * (size_t)h;
  if (!npix)
    return;
  /* ImageStat's mean of the L picture: a double division of integer sums, rounded by
   * int(mean + 0.5). */
  uint64_t sum = 0;
  for (size_t i = 0; i < npix; i++)
    sum += c == 3 ? luma(img + 3 * i) : img[i];
  int mean = (int)((double)sum / (double)npix + 0.5);
  float alpha = (float)factor;
  int ex = extrapolates(alpha);
  size_t n = npix * (size_t)c;
  for (size_t i = 0; i < n; i++)
    img[i] = blend_px(mean, img[i], alpha, ex);
}

void ens_ra_brightness(uint8_t *img, int w, int h, int c, double factor)
{
  float alpha = (float)factor;
  int ex = extrapolates(alpha);
  size_t n = (size_t)w * (size_t)h * (size_t)c;
  for (size_t i = 0; i < n; i++)
    img[i] = blend_px(0, img[i], alpha, ex);
}

/* Pillow's ImagingFilter3x3 with SMOOTH (1 1 1 / 1 5 1 / 1 1 1, divided by 13 in float
 * first): the rows are summed bottom (y + 1) to top (y - 1), each row left to right, onto
 * 0.5, then truncated and clipped. Images under 3x3 and the one-pixel border are copied. */
static void smooth3x3(const uint8_t *src, uint8_t *dst, int w, int h, int c)
{
  size_t row = (size_t)w * (size_t)c;
  memcpy(dst, src, row * (size_t)h);
  if (w < 3 || h < 3)
    return;
  const float edge = 1.0f / 13.0f, centre = 5.0f / 13.0f;
  for (int y = 1; y < h - 1; y++) {
    const uint8_t *rows[3] = {src + (size_t)(y + 1) * row, src + (size_t)y * row,
                              src + (size_t)(y - 1) * row};
    uint8_t *out = dst + (size_t)y * row;
    for (int x = 1; x < w - 1; x++)
      for (int k = 0; k < c; k++) {
        size_t i = (size_t)x * (size_t)c + (size_t)k, l = i - (size_t)c, r = i + (size_t)c;
        float ss = 0.5f;
        for (int j = 0; j < 3; j++) {
          float kc = j == 1 ? centre : edge;
          ss += (float)rows[j][l] * edge + (float)rows[j][i] * kc + (float)rows[j][r] * edge;
        }
        out[i] = ss <= 0.0f ? 0 : ss >= 255.0f ? 255 : (uint8_t)ss;
      }
  }
}

void ens_ra_sharpness(uint8_t *img, int w, int h, int c, double factor, uint8_t *scratch)
{
  smooth3x3(img, scratch, w, h, c);
  float alpha = (float)factor;
  int ex = extrapolates(alpha);
  size_t n = (size_t)w * (size_t)h * (size_t)c;
  for (size_t i = 0; i < n; i++)
    img[i] = blend_px(scratch[i], img[i], alpha, ex);
}
