/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* yuv_row.h - one row of 4:2:0 YUV to packed RGB in 16.16 fixed point (internal): the
 * vectorised row used by ens_image_to_rgb and the scalar reference it must equal byte for byte
 * (tests/preprocess/test_yuv_row.c). */
#ifndef ENS_YUV_ROW_H
#define ENS_YUV_ROW_H

#include <stdint.h>

#include "ens.h"

/* 16.16 fixed-point YUV -> RGB coefficients of one matrix and range. */
typedef struct {
  int32_t y_off, cy, crv, cgu, cgv, cbu;
} ens_yuv_coeffs;

void ens_yuv_coeffs_init(ens_yuv_matrix m, ens_yuv_coeffs *c);

/* Pixels [0, w) of a row: luma y[i]; the chroma of absolute column x0 + i at
 * u[((x0 + i) >> 1) * cstep] and v[...] (cstep 1: I420 planes, 2: NV12's interleaved UV);
 * d receives w packed RGB pixels, each channel rounded to nearest and clamped to 0..255. */
void ens_yuv_row(const ens_yuv_coeffs *c, const uint8_t *y, const uint8_t *u, const uint8_t *v,
                 int cstep, int x0, int w, uint8_t *d);

/* The same, one pixel at a time: the definition ens_yuv_row is tested against. */
void ens_yuv_row_ref(const ens_yuv_coeffs *c, const uint8_t *y, const uint8_t *u, const uint8_t *v,
                     int cstep, int x0, int w, uint8_t *d);

#endif
