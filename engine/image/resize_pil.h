/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* resize_pil.h - Pillow's antialiased separable resampler on 8-bit, 3-channel images
 * (internal).
 *
 * Bit-exact to Pillow 9.4 Image.resize(size, BICUBIC | BILINEAR) of an "RGB" image
 * (src/libImaging/Resample.c): per-axis coefficients from the filter evaluated in double at
 * (j + lo - center + 0.5) / max(scale, 1), normalised to sum 1, rounded to 22-bit fixed point;
 * horizontal pass first into a rounded + clamped uint8 intermediate, then vertical. An axis
 * whose size does not change is not resampled at all (Pillow skips that pass).
 *
 * Every output pixel depends only on its own coefficients, so computing a window of the
 * output (the center crop) gives the same bytes as resizing everything and cropping after.
 */
#ifndef ENS_RESIZE_PIL_H
#define ENS_RESIZE_PIL_H

#include <stddef.h>
#include <stdint.h>

#include "ens.h"

typedef enum {
  ENS_PIL_BILINEAR = 0, /* triangle, support 1 */
  ENS_PIL_BICUBIC,      /* Keys cubic a = -0.5, support 2 */
} ens_pil_filter;

/* Bytes of scratch memory ens_pil_resize() needs for this resize and output window
 * (win NULL = the whole output). Returns 0 if a size is invalid or the amount overflows. */
size_t ens_pil_resize_scratch_size(int in_w, int in_h, int out_w, int out_h, const ens_rect *win,
                                   ens_pil_filter filter);

/* Resize src (in_w x in_h, 3 interleaved channels, rows src_stride bytes apart) to
 * out_w x out_h and store the window win of the result (NULL = all of it; it must lie inside
 * the output) into dst (win->width x win->height, rows dst_stride bytes apart).
 * scratch: ens_pil_resize_scratch_size() bytes, aligned like malloc's. Sizes must be >= 1. */
void ens_pil_resize(const uint8_t *src, int in_w, int in_h, size_t src_stride, int out_w, int out_h,
                    const ens_rect *win, ens_pil_filter filter, uint8_t *dst, size_t dst_stride,
                    void *scratch);

/* The rectangle of the input that ens_pil_resize() reads for this output window (win NULL =
 * whole output): only those pixels need to exist / be converted. Returns 0 on bad sizes. */
int ens_pil_resize_source_rect(int in_w, int in_h, int out_w, int out_h, const ens_rect *win,
                               ens_pil_filter filter, ens_rect *src_rect);

/* ens_pil_resize() when src holds only part of the in_w x in_h input: src points at input
 * pixel (x0, y0) and must cover ens_pil_resize_source_rect() (which must not start above or
 * left of (x0, y0)). */
void ens_pil_resize_from(const uint8_t *src, int x0, int y0, int in_w, int in_h, size_t src_stride,
                         int out_w, int out_h, const ens_rect *win, ens_pil_filter filter,
                         uint8_t *dst, size_t dst_stride, void *scratch);

/* Same as ens_pil_resize, allocating its own scratch memory. ENS_ERR_ARG on bad sizes,
 * ENS_ERR_NOMEM. */
ens_status ens_pil_resize_alloc(const uint8_t *src, int in_w, int in_h, size_t src_stride,
                                int out_w, int out_h, const ens_rect *win, ens_pil_filter filter,
                                uint8_t *dst, size_t dst_stride, ens_error *err);

#endif
