/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* randaugment_pixel.c - RandAugment's lookup-table ops, as Pillow 9.4's ImageOps computes
 * them: AutoContrast, Equalize, Invert, Posterize, Solarize, and timm's SolarizeAdd. Each
 * channel gets its own table from its own histogram; table entries are clipped to 0..255 as
 * Image.point does. */
#include <stdint.h>
#include <string.h>

#include "randaugment.h"

/* Pillow's arithmetic is unfused; clang would fuse a * b + c on FMA targets (GCC does not
 * in ISO C mode), which changes roundings. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

typedef uint8_t lut256[256];

static void histogram(const uint8_t *img, size_t npix, int c, int ch, uint64_t h[256])
{
  memset(h, 0, 256 * sizeof h[0]);
  for (size_t i = 0; i < npix; i++)
    h[img[i * (size_t)c + (size_t)ch]]++;
}

static void apply_luts(uint8_t *img, size_t npix, int c, const lut256 *luts)
{
  for (size_t i = 0; i < npix; i++)
    for (int ch = 0; ch < c; ch++)
      img[i * (size_t)c + (size_t)ch] = luts[ch][img[i * (size_t)c + (size_t)ch]];
}

static void apply_one_lut(uint8_t *img, size_t n, const lut256 lut)
{
  for (size_t i = 0; i < n; i++)
    img[i] = lut[img[i]];
}

static void identity(lut256 lut)
{
  for (int i = 0; i < 256; i++)
    lut[i] = (uint8_t)i;
}

static uint8_t clip8(int64_t v)
{
  return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Darkest value -> 0, brightest -> 255, linear in between with truncation toward zero of
 * the double product; a one-value channel is left alone. */
void ens_ra_autocontrast(uint8_t *img, int w, int h, int c)
{
  size_t npix = (size_t)w * (size_t)h;
  lut256 luts[3];
  for (int ch = 0; ch < c; ch++) {
    uint64_t hist[256];
    histogram(img, npix, c, ch, hist);
    int lo = 0, hi = 255;
    while (lo < 255 && !hist[lo])
      lo++;
    while (hi > 0 && !hist[hi])
      hi--;
    if (hi <= lo) {
      identity(luts[ch]);
      continue;
    }
    double scale = 255.0 / (double)(hi - lo);
    double offset = (double)-lo * scale;
    for (int i = 0; i < 256; i++)
      luts[ch][i] = clip8((int64_t)((double)i * scale + offset));
  }
  apply_luts(img, npix, c, luts);
}

/* Pillow's equalize: step = (pixels - pixels of the last used value) / 255 (floor); value i
 * maps to (step / 2 + pixels below i) / step. Channels with one used value, or step 0, are
 * left alone. */
void ens_ra_equalize(uint8_t *img, int w, int h, int c)
{
  size_t npix = (size_t)w * (size_t)h;
  lut256 luts[3];
  for (int ch = 0; ch < c; ch++) {
    uint64_t hist[256];
    histogram(img, npix, c, ch, hist);
    int used = 0;
    uint64_t total = 0, last = 0;
    for (int i = 0; i < 256; i++)
      if (hist[i]) {
        used++;
        total += hist[i];
        last = hist[i];
      }
    uint64_t step = used > 1 ? (total - last) / 255 : 0;
    if (!step) {
      identity(luts[ch]);
      continue;
    }
    uint64_t n = step / 2;
    for (int i = 0; i < 256; i++) {
      luts[ch][i] = clip8((int64_t)(n / step));
      n += hist[i];
    }
  }
  apply_luts(img, npix, c, luts);
}

void ens_ra_invert(uint8_t *img, int w, int h, int c)
{
  size_t n = (size_t)w * (size_t)h * (size_t)c;
  for (size_t i = 0; i < n; i++)
    img[i] = (uint8_t)(255 - img[i]);
}

/* Keeps the top `bits` bits; bits <= 0 gives black (Pillow's mask ~(2^(8-bits) - 1) keeps
 * nothing of a byte then), bits >= 8 changes nothing. */
void ens_ra_posterize(uint8_t *img, int w, int h, int c, int bits)
{
  if (bits >= 8)
    return;
  uint8_t mask = bits <= 0 ? 0 : (uint8_t)(0xffu << (8 - bits));
  size_t n = (size_t)w * (size_t)h * (size_t)c;
  for (size_t i = 0; i < n; i++)
    img[i] &= mask;
}

/* Values >= threshold are inverted. */
void ens_ra_solarize(uint8_t *img, int w, int h, int c, int threshold)
{
  lut256 lut;
  for (int i = 0; i < 256; i++)
    lut[i] = (uint8_t)(i < threshold ? i : 255 - i);
  apply_one_lut(img, (size_t)w * (size_t)h * (size_t)c, lut);
}

/* timm's solarize_add: values below threshold get `add` added, saturating at 255. */
void ens_ra_solarize_add(uint8_t *img, int w, int h, int c, int add, int threshold)
{
  lut256 lut;
  for (int i = 0; i < 256; i++)
    lut[i] = i < threshold ? clip8((int64_t)i + add) : (uint8_t)i;
  apply_one_lut(img, (size_t)w * (size_t)h * (size_t)c, lut);
}
