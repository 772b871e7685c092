/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crop_u8.c - the uint8 pictures a harvester saves (ens_harvest.h): the model's input crop
 * before normalisation, and a region of a frame as RGB at its own size. */
#include <stdlib.h>

#include "ens_harvest.h"
#include "error.h"
#include "preprocess_internal.h"
#include "yuv.h"

ens_status ens_preprocess_crop_u8(const ens_preprocess_params *p, const ens_image *img,
                                  const ens_rect *roi, uint8_t *out, ens_error *err)
{
  if (!p || !img)
    return ens_fail(err, ENS_ERR_ARG, "preprocess: params or image is NULL");
  return ens_preprocess_cropped_u8(p, img, roi, out, err);
}

ens_status ens_image_region_rgb(const ens_image *img, const ens_rect *roi, uint8_t **out,
                                int *width, int *height, ens_error *err)
{
  if (!img || !out || !width || !height)
    return ens_fail(err, ENS_ERR_ARG, "image region: NULL argument");
  *out = NULL;
  ens_status st = ens_image_validate(img, err);
  if (st != ENS_OK)
    return st;
  /* clipped as ens_preprocess clips a region of interest */
  int64_t x0 = 0, y0 = 0, x1 = img->width, y1 = img->height;
  if (roi) {
    x0 = roi->x > 0 ? roi->x : 0;
    y0 = roi->y > 0 ? roi->y : 0;
    int64_t rx1 = (int64_t)roi->x + roi->width, ry1 = (int64_t)roi->y + roi->height;
    x1 = rx1 < x1 ? rx1 : x1;
    y1 = ry1 < y1 ? ry1 : y1;
    if (roi->width < 1 || roi->height < 1 || x1 <= x0 || y1 <= y0)
      return ens_fail(err, ENS_ERR_ARG,
                      "image region (%d,%d %dx%d) is empty inside the %dx%d image", roi->x, roi->y,
                      roi->width, roi->height, img->width, img->height);
  }
  int w = (int)(x1 - x0), h = (int)(y1 - y0);
  uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
  if (!rgb)
    return ens_fail(err, ENS_ERR_NOMEM, "image region: cannot allocate %dx%d RGB", w, h);
  ens_image_to_rgb(img, (int)x0, (int)y0, w, h, rgb, (size_t)w * 3);
  *out = rgb;
  *width = w;
  *height = h;
  return ENS_OK;
}
