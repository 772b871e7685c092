/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* yuv.c - any ens_image format -> packed RGB uint8 (see yuv.h for the conventions). */
#include "yuv.h"

#include <string.h>

#include "error.h"
#include "yuv_row.h"

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
  ens_yuv_coeffs c;
  ens_yuv_coeffs_init(img->yuv_matrix, &c);
  for (int r = 0; r < h; r++) {
    int ay = y + r;
    const uint8_t *yp = img->planes[0] + (size_t)ay * img->strides[0] + x;
    uint8_t *d = dst + (size_t)r * dst_stride;
    if (img->format == ENS_PIXEL_I420) {
      const uint8_t *u = img->planes[1] + (size_t)(ay >> 1) * img->strides[1];
      const uint8_t *v = img->planes[2] + (size_t)(ay >> 1) * img->strides[2];
      /* pass chroma rows based at column 0; ens_yuv_row indexes with the absolute column */
      ens_yuv_row(&c, yp, u, v, 1, x, w, d);
    } else {
      const uint8_t *uv = img->planes[1] + (size_t)(ay >> 1) * img->strides[1];
      ens_yuv_row(&c, yp, uv, uv + 1, 2, x, w, d);
    }
  }
}
