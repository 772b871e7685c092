/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* preprocess_internal.h - the steps of ens_preprocess(), exposed for tests (internal).
 *
 * timm's eval transform (transforms_imagenet_eval, crop_mode 'center') on a PIL image:
 *   square crop n x n:   Resize(S), S = floor(n / crop_pct): shorter side -> S, longer side
 *                        -> int(S * long / short) (torchvision, truncation);
 *   non-square h x w:    ResizeKeepRatio((floor(h / crop_pct), floor(w / crop_pct))):
 *                        ratio = min(H / th, W / tw), size = (round(H / ratio), round(W / ratio))
 *                        with Python's round-half-to-even; timm builds it without passing the
 *                        interpolation, so timm itself uses bilinear there;
 *   then CenterCrop: zero padding (left/top = (n - size) // 2) on an axis shorter than the
 *   crop, otherwise offset int(round((size - n) / 2)) (half-to-even); ToTensor; Normalize.
 */
#ifndef ENS_PREPROCESS_INTERNAL_H
#define ENS_PREPROCESS_INTERNAL_H

#include <stdint.h>

#include "ens.h"
#include "resize_pil.h"

typedef struct {
  int src_width, src_height;         /* the (ROI-clipped) input */
  int resized_width, resized_height; /* after Resize */
  int crop_x, crop_y;                /* crop origin in the resized image; negative = zero padding */
  ens_pil_filter filter;             /* resolved interpolation */
} ens_preprocess_plan;

/* Sizes, crop offsets and filter for a src_width x src_height input.
 * p->interpolation DEFAULT means timm's choice: bicubic (the NS configs) for square crops,
 * bilinear for non-square ones (see above); BICUBIC / BILINEAR are used as given. */
ens_status ens_preprocess_make_plan(const ens_preprocess_params *p, int src_width, int src_height,
                                    ens_preprocess_plan *plan, ens_error *err);

/* The crop_pct a Python config would hold: the shortest decimal that rounds to the float
 * (0.8f -> 0.8, not 0.800000011920929), so floor(size / crop_pct) agrees with timm. */
double ens_crop_pct_as_double(float crop_pct);

/* Step 1+2: the whole resized image (resized_height x resized_width x 3, tightly packed) of
 * img restricted to roi (NULL = whole image). out: malloc'd, free() it. */
ens_status ens_preprocess_resized_u8(const ens_preprocess_params *p, const ens_image *img,
                                     const ens_rect *roi, uint8_t **out, int *width, int *height,
                                     ens_error *err);

/* Steps 1-3: the center crop (out_height x out_width x 3 into out, tightly packed). */
ens_status ens_preprocess_cropped_u8(const ens_preprocess_params *p, const ens_image *img,
                                     const ens_rect *roi, uint8_t *out, ens_error *err);

/* Steps 4-5: HWC uint8 crop -> CHW float32 ((x / 255) - mean) / std, in float32 like torch. */
void ens_preprocess_normalize(const ens_preprocess_params *p, const uint8_t *crop, float *out);

#endif
