/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* yuv.c - any ens_image format -> packed RGB uint8 (see yuv.h for the conventions). */
#include "yuv.h"

#include <string.h>

#include "error.h"

int ens_pixel_format_bpp(ens_pixel_format f)
{
  switch (f) {
    case ENS_PIXEL_RGB:
    case ENS_PIXEL_BGR:
      return 3;
    case ENS_PIXEL_RGBA:
    case ENS_PIXEL_BGRA:
    case ENS_PIXEL_RGBX:
    case ENS_PIXEL_BGRX:
    case ENS_PIXEL_ARGB:
    case ENS_PIXEL_ABGR:
    case ENS_PIXEL_XRGB:
    case ENS_PIXEL_XBGR:
      return 4;
    case ENS_PIXEL_I420:
    case ENS_PIXEL_NV12:
      return 0;
  }
  return -1;
}

/* Byte offsets of R, G, B inside one pixel of a packed format. */
static void packed_offsets(ens_pixel_format f, int off[3])
{
  static const int table[][3] = {
      [ENS_PIXEL_RGB] = {0, 1, 2},  [ENS_PIXEL_BGR] = {2, 1, 0},  [ENS_PIXEL_RGBA] = {0, 1, 2},
      [ENS_PIXEL_BGRA] = {2, 1, 0}, [ENS_PIXEL_RGBX] = {0, 1, 2}, [ENS_PIXEL_BGRX] = {2, 1, 0},
      [ENS_PIXEL_ARGB] = {1, 2, 3}, [ENS_PIXEL_ABGR] = {3, 2, 1}, [ENS_PIXEL_XRGB] = {1, 2, 3},
      [ENS_PIXEL_XBGR] = {3, 2, 1},
  };
  memcpy(off, table[f], sizeof table[f]);
}

ens_status ens_image_validate(const ens_image *img, ens_error *err)
{
  if (!img)
    return ens_fail(err, ENS_ERR_ARG, "image: NULL");
  int bpp = ens_pixel_format_bpp(img->format);
  if (bpp < 0)
    return ens_fail(err, ENS_ERR_ARG, "image: unknown pixel format %d", (int)img->format);
  if (img->width < 1 || img->height < 1)
    return ens_fail(err, ENS_ERR_ARG, "image: invalid size %dx%d", img->width, img->height);
  int64_t w = img->width, cw = (w + 1) / 2;
  int nplanes = 1;
  int64_t min_stride[3] = {w * bpp, 0, 0};
  if (img->format == ENS_PIXEL_I420) {
    nplanes = 3;
    min_stride[0] = w;
    min_stride[1] = min_stride[2] = cw;
  } else if (img->format == ENS_PIXEL_NV12) {
    nplanes = 2;
    min_stride[0] = w;
    min_stride[1] = 2 * cw;
  }
  if (img->format == ENS_PIXEL_I420 || img->format == ENS_PIXEL_NV12) {
    if ((unsigned)img->yuv_matrix > ENS_YUV_BT709_FULL)
      return ens_fail(err, ENS_ERR_ARG, "image: unknown YUV matrix %d", (int)img->yuv_matrix);
  }
  for (int i = 0; i < nplanes; i++) {
    if (!img->planes[i])
      return ens_fail(err, ENS_ERR_ARG, "image: plane %d is NULL", i);
    if (img->strides[i] < min_stride[i])
      return ens_fail(err, ENS_ERR_ARG,
                      "image: plane %d stride %d is below the %lld bytes a %dx%d row needs", i,
                      img->strides[i], (long long)min_stride[i], img->width, img->height);
  }
  return ENS_OK;
}

/* 16.16 fixed-point YUV -> RGB coefficients. */
typedef struct {
  int32_t y_off, cy, crv, cgu, cgv, cbu;
} yuv_coeffs;

static void yuv_coeffs_init(ens_yuv_matrix m, yuv_coeffs *c)
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

/* One row: luma y[0..w), chroma sample for column x at u[(x >> 1) * cstep]. x0 is the
 * absolute column of the first pixel (for chroma phase). */
static void yuv_row(const yuv_coeffs *c, const uint8_t *y, const uint8_t *u, const uint8_t *v,
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

void ens_image_to_rgb(const ens_image *img, int x, int y, int w, int h, uint8_t *dst,
                      size_t dst_stride)
{
  int bpp = ens_pixel_format_bpp(img->format);
  if (bpp > 0) {
    int off[3];
    packed_offsets(img->format, off);
    for (int r = 0; r < h; r++) {
      const uint8_t *s = img->planes[0] + (size_t)(y + r) * img->strides[0] + (size_t)x * bpp;
      uint8_t *d = dst + (size_t)r * dst_stride;
      if (img->format == ENS_PIXEL_RGB) {
        memcpy(d, s, (size_t)w * 3);
        continue;
      }
      for (int i = 0; i < w; i++) {
        d[3 * i + 0] = s[bpp * i + off[0]];
        d[3 * i + 1] = s[bpp * i + off[1]];
        d[3 * i + 2] = s[bpp * i + off[2]];
      }
    }
    return;
  }
  yuv_coeffs c;
  yuv_coeffs_init(img->yuv_matrix, &c);
  for (int r = 0; r < h; r++) {
    int ay = y + r;
    const uint8_t *yp = img->planes[0] + (size_t)ay * img->strides[0] + x;
    uint8_t *d = dst + (size_t)r * dst_stride;
    if (img->format == ENS_PIXEL_I420) {
      const uint8_t *u = img->planes[1] + (size_t)(ay >> 1) * img->strides[1];
      const uint8_t *v = img->planes[2] + (size_t)(ay >> 1) * img->strides[2];
      /* pass chroma rows based at column 0; yuv_row indexes with the absolute column */
      yuv_row(&c, yp, u, v, 1, x, w, d);
    } else {
      const uint8_t *uv = img->planes[1] + (size_t)(ay >> 1) * img->strides[1];
      yuv_row(&c, yp, uv, uv + 1, 2, x, w, d);
    }
  }
}
