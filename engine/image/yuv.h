/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* yuv.h - frame validation and conversion of any ens_image format to packed RGB (internal). */
#ifndef ENS_YUV_H
#define ENS_YUV_H

#include <stddef.h>
#include <stdint.h>

#include "ens.h"

/* Bytes per pixel of a packed format (3 or 4), 0 for the planar YUV formats. */
int ens_pixel_format_bpp(ens_pixel_format f);

/* Checks format, sizes, plane pointers and strides of img; name is used in messages. */
ens_status ens_image_validate(const ens_image *img, ens_error *err);

/* Writes the w x h rectangle at (x, y) of a validated img (rectangle inside it) as packed RGB
 * into dst (rows dst_stride bytes apart).
 * Packed formats: channels are reordered, alpha / padding bytes dropped (like PIL's
 * convert('RGB') of RGBA, which ignores alpha).
 * I420 / NV12: chroma is upsampled by replication (each chroma sample covers its 2x2 luma
 * block, chroma size ceil(w/2) x ceil(h/2)); the matrix and range come from img->yuv_matrix;
 * each channel is computed in 16.16 fixed point, rounded to nearest and clamped to 0..255. */
void ens_image_to_rgb(const ens_image *img, int x, int y, int w, int h, uint8_t *dst,
                      size_t dst_stride);

#endif
