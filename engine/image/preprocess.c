/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* preprocess.c - timm's eval transform on a frame: to RGB, PIL resize, center crop, normalise.
 *
 * Only the part of the resized image that survives the center crop is computed (Pillow's
 * coefficients are per output pixel, so this is bit-exact), which also keeps odd inputs such
 * as a 4095x1 strip (resized to ~1Mx256) cheap. Memory: two mallocs per call, the uint8
 * crop and one block holding the RGB conversion (skipped for packed RGB input, which is read
 * in place through its stride) plus the resampler's coefficients and intermediate band; a
 * caller-owned workspace would remove them if profiling ever shows they matter.
 */
#include "preprocess_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "yuv.h"

#define MAX_OUT_SIDE 16384
#define MAX_RESIZED_SIDE (1 << 28)

double ens_crop_pct_as_double(float crop_pct)
{
  char buf[64];
  for (int prec = 1; prec <= 9; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, (double)crop_pct);
    if (strtof(buf, NULL) == crop_pct)
      return strtod(buf, NULL);
  }
  return (double)crop_pct;
}

static ens_status check_params(const ens_preprocess_params *p, ens_error *err)
{
  if (!p)
    return ens_fail(err, ENS_ERR_ARG, "preprocess: params is NULL");
  if (p->out_width < 1 || p->out_height < 1 || p->out_width > MAX_OUT_SIDE ||
      p->out_height > MAX_OUT_SIDE)
    return ens_fail(err, ENS_ERR_ARG, "preprocess: output size %dx%d outside 1..%d", p->out_width,
                    p->out_height, MAX_OUT_SIDE);
  if (!(p->crop_pct > 0.0f) || !isfinite(p->crop_pct))
    return ens_fail(err, ENS_ERR_ARG, "preprocess: crop_pct %g must be a positive number",
                    (double)p->crop_pct);
  if (p->interpolation != ENS_INTERP_DEFAULT && p->interpolation != ENS_INTERP_BICUBIC &&
      p->interpolation != ENS_INTERP_BILINEAR)
    return ens_fail(err, ENS_ERR_ARG, "preprocess: unknown interpolation %d",
                    (int)p->interpolation);
  for (int c = 0; c < 3; c++)
    if (!(p->std[c] != 0.0f) || !isfinite(p->std[c]) || !isfinite(p->mean[c]))
      return ens_fail(err, ENS_ERR_ARG, "preprocess: mean/std of channel %d invalid (%g, %g)", c,
                      (double)p->mean[c], (double)p->std[c]);
  return ENS_OK;
}

/* Python's int(round(d / 2)) for an integer d >= 0 (round half to even). */
static int half_round_even(int d)
{
  int k = d / 2;
  if (d % 2 == 0)
    return k;
  return k % 2 == 0 ? k : k + 1;
}

/* Crop origin along one axis of length size for a crop of n (torchvision center_crop). */
static int crop_origin(int size, int n)
{
  if (n > size)
    return -((n - size) / 2); /* left/top zero padding */
  return half_round_even(size - n);
}

ens_status ens_preprocess_make_plan(const ens_preprocess_params *p, int src_width, int src_height,
                                    ens_preprocess_plan *plan, ens_error *err)
{
  ens_status st = check_params(p, err);
  if (st != ENS_OK)
    return st;
  if (src_width < 1 || src_height < 1)
    return ens_fail(err, ENS_ERR_ARG, "preprocess: empty input %dx%d", src_width, src_height);
  double pct = ens_crop_pct_as_double(p->crop_pct);
  int square = p->out_width == p->out_height;
  double rw, rh; /* resized size before the int conversion */
  if (square) {
    /* torchvision Resize(S): shorter side -> S, longer -> int(S * long / short) */
    double s = floor(p->out_width / pct);
    if (s < 1)
      s = 1;
    if (src_width <= src_height) {
      rw = s;
      rh = floor(s * src_height / src_width);
    } else {
      rh = s;
      rw = floor(s * src_width / src_height);
    }
  } else {
    /* timm ResizeKeepRatio(scale_size), longest = 0 */
    double th = floor(p->out_height / pct), tw = floor(p->out_width / pct);
    if (th < 1)
      th = 1;
    if (tw < 1)
      tw = 1;
    double ratio_h = src_height / th, ratio_w = src_width / tw;
    double ratio = ratio_h < ratio_w ? ratio_h : ratio_w;
    rh = nearbyint(src_height / ratio);
    rw = nearbyint(src_width / ratio);
    if (rh < 1)
      rh = 1;
    if (rw < 1)
      rw = 1;
  }
  if (rw > MAX_RESIZED_SIDE || rh > MAX_RESIZED_SIDE)
    return ens_fail(err, ENS_ERR_UNSUPPORTED,
                    "preprocess: input %dx%d is too elongated (resized to %.0fx%.0f)", src_width,
                    src_height, rw, rh);
  plan->src_width = src_width;
  plan->src_height = src_height;
  plan->resized_width = (int)rw;
  plan->resized_height = (int)rh;
  plan->crop_x = crop_origin(plan->resized_width, p->out_width);
  plan->crop_y = crop_origin(plan->resized_height, p->out_height);
  ens_interp in = p->interpolation;
  if (in == ENS_INTERP_DEFAULT)
    in = square ? ENS_INTERP_BICUBIC : ENS_INTERP_BILINEAR;
  plan->filter = in == ENS_INTERP_BILINEAR ? ENS_PIL_BILINEAR : ENS_PIL_BICUBIC;
  return ENS_OK;
}

/* ROI clipped to the fw x fh frame; error if nothing is left. */
static ens_status clip_roi(int fw, int fh, const ens_rect *roi, ens_rect *r, ens_error *err)
{
  if (!roi) {
    *r = (ens_rect){0, 0, fw, fh};
    return ENS_OK;
  }
  int64_t x0 = roi->x, y0 = roi->y;
  int64_t x1 = x0 + roi->width, y1 = y0 + roi->height;
  if (x0 < 0)
    x0 = 0;
  if (y0 < 0)
    y0 = 0;
  if (x1 > fw)
    x1 = fw;
  if (y1 > fh)
    y1 = fh;
  if (roi->width < 1 || roi->height < 1 || x1 <= x0 || y1 <= y0)
    return ens_fail(err, ENS_ERR_ARG,
                    "preprocess: roi (%d,%d %dx%d) is empty inside the %dx%d image", roi->x, roi->y,
                    roi->width, roi->height, fw, fh);
  *r = (ens_rect){(int)x0, (int)y0, (int)(x1 - x0), (int)(y1 - y0)};
  return ENS_OK;
}

/* Where the frame's pixels are: img holds the rectangle at (x, y) of a width x height frame
 * (the whole frame for ens_preprocess). */
typedef struct {
  const ens_image *img;
  int x, y, width, height;
} frame_window;

/* The RGB pixels the resampler reads: the source rectangle sr (relative to the ROI r, frame
 * coordinates r.x + sr.x ...) in place for packed RGB, otherwise converted into rgb_buf
 * (caller's). *x0, *y0: ROI coordinates of the returned pointer's pixel. */
static size_t rgb_copy_bytes(const ens_image *img, const ens_rect *sr)
{
  return img->format == ENS_PIXEL_RGB ? 0 : (size_t)sr->width * 3 * (size_t)sr->height;
}

static const uint8_t *rgb_source(const frame_window *f, const ens_rect *r, const ens_rect *sr,
                                 uint8_t *rgb_buf, size_t *stride, int *x0, int *y0)
{
  const ens_image *img = f->img;
  const int wx = r->x + sr->x - f->x, wy = r->y + sr->y - f->y; /* in the window */
  *x0 = sr->x;
  *y0 = sr->y;
  if (img->format == ENS_PIXEL_RGB) {
    *stride = (size_t)img->strides[0];
    return img->planes[0] + (size_t)wy * img->strides[0] + (size_t)wx * 3;
  }
  *stride = (size_t)sr->width * 3;
  ens_image_to_rgb(img, wx, wy, sr->width, sr->height, rgb_buf, *stride);
  return rgb_buf;
}

static size_t align64(size_t n)
{
  return (n + 63) & ~(size_t)63;
}

/* The part of the resized image the center crop keeps (resized coordinates). */
static ens_rect crop_window(const ens_preprocess_params *p, const ens_preprocess_plan *plan)
{
  int x0 = plan->crop_x > 0 ? plan->crop_x : 0, y0 = plan->crop_y > 0 ? plan->crop_y : 0;
  int x1 = plan->crop_x + p->out_width, y1 = plan->crop_y + p->out_height;
  if (x1 > plan->resized_width)
    x1 = plan->resized_width;
  if (y1 > plan->resized_height)
    y1 = plan->resized_height;
  return (ens_rect){x0, y0, x1 - x0, y1 - y0};
}

/* The source rectangle (relative to r) the resampler reads for the resized window win; 0 if
 * the sizes are beyond the resampler. */
static size_t source_rect(const ens_rect *r, const ens_preprocess_plan *plan, const ens_rect *win,
                          ens_rect *sr)
{
  size_t rs = ens_pil_resize_scratch_size(r->width, r->height, plan->resized_width,
                                          plan->resized_height, win, plan->filter);
  *sr = (ens_rect){0, 0, 0, 0};
  if (rs)
    ens_pil_resize_source_rect(r->width, r->height, plan->resized_width, plan->resized_height, win,
                               plan->filter, sr);
  return rs;
}

/* Resized-image window of the ROI (the crop's, or the whole resized image if want_full). */
static ens_status resize_window(const ens_preprocess_params *p, const frame_window *f,
                                const ens_rect *roi, int want_full, uint8_t **full_out,
                                uint8_t *crop_out, ens_preprocess_plan *plan, ens_error *err)
{
  const ens_image *img = f->img;
  ens_status st = ens_image_validate(img, err);
  if (st != ENS_OK)
    return st;
  ens_rect r = {0, 0, 0, 0};
  if ((st = clip_roi(f->width, f->height, roi, &r, err)) != ENS_OK)
    return st;
  if ((st = ens_preprocess_make_plan(p, r.width, r.height, plan, err)) != ENS_OK)
    return st;

  /* output window in resized coordinates and where it lands in the destination */
  ens_rect win;
  uint8_t *dst;
  size_t dst_stride;
  if (want_full) {
    win = (ens_rect){0, 0, plan->resized_width, plan->resized_height};
    if ((uint64_t)win.width * (uint64_t)win.height > ((uint64_t)1 << 31))
      return ens_fail(err, ENS_ERR_UNSUPPORTED, "preprocess: resized image %dx%d is too large",
                      win.width, win.height);
  } else {
    win = crop_window(p, plan);
  }

  ens_rect sr;
  size_t rs = source_rect(&r, plan, &win, &sr);
  size_t cb = rgb_copy_bytes(img, &sr);
  if (!rs || align64(cb) > SIZE_MAX / 2 - rs)
    return ens_fail(err, ENS_ERR_UNSUPPORTED, "preprocess: %dx%d -> %dx%d is too large", r.width,
                    r.height, plan->resized_width, plan->resized_height);
  const int sx = r.x + sr.x, sy = r.y + sr.y; /* frame coordinates */
  if (sx < f->x || sy < f->y || sx + sr.width > f->x + img->width ||
      sy + sr.height > f->y + img->height)
    return ens_fail(err, ENS_ERR_ARG,
                    "preprocess: the %dx%d window at (%d,%d) does not hold the %dx%d pixels at "
                    "(%d,%d) this roi needs (ens_preprocess_source_rect)",
                    img->width, img->height, f->x, f->y, sr.width, sr.height, sx, sy);

  if (want_full) {
    dst_stride = (size_t)win.width * 3;
    dst = malloc(dst_stride * (size_t)win.height);
    if (!dst)
      return ens_fail(err, ENS_ERR_NOMEM, "preprocess: cannot allocate the resized image");
    *full_out = dst;
  } else {
    dst_stride = (size_t)p->out_width * 3;
    if (win.width != p->out_width || win.height != p->out_height)
      memset(crop_out, 0, dst_stride * (size_t)p->out_height); /* CenterCrop's zero padding */
    dst =
        crop_out + (size_t)(win.y - plan->crop_y) * dst_stride + (size_t)(win.x - plan->crop_x) * 3;
  }
  uint8_t *scratch = malloc(align64(cb) + rs);
  if (!scratch) {
    if (want_full)
      free(*full_out);
    return ens_fail(err, ENS_ERR_NOMEM, "preprocess: cannot allocate %zu bytes", align64(cb) + rs);
  }
  size_t src_stride;
  int x0, y0;
  const uint8_t *src = rgb_source(f, &r, &sr, scratch, &src_stride, &x0, &y0);
  ens_pil_resize_from(src, x0, y0, r.width, r.height, src_stride, plan->resized_width,
                      plan->resized_height, &win, plan->filter, dst, dst_stride,
                      scratch + align64(cb));
  free(scratch);
  return ENS_OK;
}

/* The whole frame img. */
static frame_window whole(const ens_image *img)
{
  return (frame_window){img, 0, 0, img ? img->width : 0, img ? img->height : 0};
}

ens_status ens_preprocess_resized_u8(const ens_preprocess_params *p, const ens_image *img,
                                     const ens_rect *roi, uint8_t **out, int *width, int *height,
                                     ens_error *err)
{
  ens_preprocess_plan plan;
  *out = NULL;
  const frame_window f = whole(img);
  ens_status st = resize_window(p, &f, roi, 1, out, NULL, &plan, err);
  if (st != ENS_OK)
    return st;
  *width = plan.resized_width;
  *height = plan.resized_height;
  return ENS_OK;
}

ens_status ens_preprocess_cropped_u8(const ens_preprocess_params *p, const ens_image *img,
                                     const ens_rect *roi, uint8_t *out, ens_error *err)
{
  ens_preprocess_plan plan;
  if (!out)
    return ens_fail(err, ENS_ERR_ARG, "preprocess: output is NULL");
  const frame_window f = whole(img);
  return resize_window(p, &f, roi, 0, NULL, out, &plan, err);
}

void ens_preprocess_normalize(const ens_preprocess_params *p, const uint8_t *crop, float *out)
{
  size_t n = (size_t)p->out_width * (size_t)p->out_height;
  for (int c = 0; c < 3; c++) {
    /* torch: to_tensor divides by 255 in float32, Normalize does sub_(mean).div_(std) */
    const float mean = p->mean[c], std = p->std[c];
    float *o = out + (size_t)c * n;
    for (size_t i = 0; i < n; i++) {
      float x = (float)crop[3 * i + c] / 255.0f;
      o[i] = (x - mean) / std;
    }
  }
}

/* Crop, then normalise into out. */
static ens_status preprocess_frame(const ens_preprocess_params *p, const frame_window *f,
                                   const ens_rect *roi, float *out, ens_error *err)
{
  ens_status st = check_params(p, err);
  if (st != ENS_OK)
    return st;
  if (!out)
    return ens_fail(err, ENS_ERR_ARG, "preprocess: output is NULL");
  uint8_t *crop = malloc((size_t)p->out_width * (size_t)p->out_height * 3);
  if (!crop)
    return ens_fail(err, ENS_ERR_NOMEM, "preprocess: cannot allocate the %dx%d crop", p->out_width,
                    p->out_height);
  ens_preprocess_plan plan;
  st = resize_window(p, f, roi, 0, NULL, crop, &plan, err);
  if (st == ENS_OK)
    ens_preprocess_normalize(p, crop, out);
  free(crop);
  return st;
}

ens_status ens_preprocess(const ens_preprocess_params *p, const ens_image *img, const ens_rect *roi,
                          float *out, ens_error *err)
{
  const frame_window f = whole(img);
  return preprocess_frame(p, &f, roi, out, err);
}

ens_status ens_preprocess_window(const ens_preprocess_params *p, const ens_image *window, int x,
                                 int y, int frame_width, int frame_height, const ens_rect *roi,
                                 float *out, ens_error *err)
{
  if (!window)
    return ens_fail(err, ENS_ERR_ARG, "image: NULL");
  if (x < 0 || y < 0 || frame_width < 1 || frame_height < 1 ||
      (int64_t)x + window->width > frame_width || (int64_t)y + window->height > frame_height)
    return ens_fail(err, ENS_ERR_ARG,
                    "preprocess: a %dx%d window at (%d,%d) is not inside a %dx%d frame",
                    window->width, window->height, x, y, frame_width, frame_height);
  /* chroma is sampled per 2x2 luma pixels: an odd origin would shift it */
  if ((window->format == ENS_PIXEL_I420 || window->format == ENS_PIXEL_NV12) && (x % 2 || y % 2))
    return ens_fail(err, ENS_ERR_ARG,
                    "preprocess: a YUV 4:2:0 window must start at even "
                    "coordinates, not (%d,%d)",
                    x, y);
  const frame_window f = {window, x, y, frame_width, frame_height};
  return preprocess_frame(p, &f, roi, out, err);
}

ens_status ens_preprocess_source_rect(const ens_preprocess_params *p, int frame_width,
                                      int frame_height, const ens_rect *roi, ens_rect *out,
                                      ens_error *err)
{
  ens_status st = check_params(p, err);
  if (st != ENS_OK)
    return st;
  if (!out)
    return ens_fail(err, ENS_ERR_ARG, "preprocess: output is NULL");
  if (frame_width < 1 || frame_height < 1)
    return ens_fail(err, ENS_ERR_ARG, "image: invalid size %dx%d", frame_width, frame_height);
  ens_rect r = {0, 0, 0, 0};
  ens_preprocess_plan plan;
  if ((st = clip_roi(frame_width, frame_height, roi, &r, err)) != ENS_OK ||
      (st = ens_preprocess_make_plan(p, r.width, r.height, &plan, err)) != ENS_OK)
    return st;
  const ens_rect win = crop_window(p, &plan);
  ens_rect sr;
  if (!source_rect(&r, &plan, &win, &sr))
    return ens_fail(err, ENS_ERR_UNSUPPORTED, "preprocess: %dx%d -> %dx%d is too large", r.width,
                    r.height, plan.resized_width, plan.resized_height);
  *out = (ens_rect){r.x + sr.x, r.y + sr.y, sr.width, sr.height};
  return ENS_OK;
}
