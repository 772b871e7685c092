/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_preprocess_formats.c - ens_preprocess on every pixel format, padded strides, ROIs,
 * odd sizes and bad arguments, plus the resampler against a slow double-precision restatement
 * of Pillow's formula.
 *
 *   test_preprocess_formats synthetic   (suite unit: a generated picture)
 *   test_preprocess_formats dog         (suite parity: a crop of goldens/dog_decoded)
 *
 * Packed formats must give bit-identical results to RGB. YUV input is checked two ways:
 * the converter against a double-precision reference of the same YUV planes (<= 1 level),
 * and the whole transform of the YUV frame against the transform of that reference RGB. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"
#include "preprocess_internal.h"
#include "resize_pil.h"
#include "yuv.h"

static const ens_preprocess_params B0 = {
    .out_height = 224,
    .out_width = 224,
    .crop_pct = 0.875f,
    .interpolation = ENS_INTERP_BICUBIC,
    .mean = {0.485f, 0.456f, 0.406f},
    .std = {0.229f, 0.224f, 0.225f},
};

static uint32_t rng_state = 12345;
static uint32_t rnd(void)
{
  rng_state = rng_state * 1664525u + 1013904223u;
  return rng_state >> 8;
}

typedef struct {
  int w, h;
  uint8_t *rgb; /* tight */
} picture;

static picture synthetic(int w, int h)
{
  picture p = {w, h, malloc((size_t)w * h * 3 + 1)};
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      uint8_t *q = p.rgb + ((size_t)y * w + x) * 3;
      q[0] = (uint8_t)(x * 255 / (w > 1 ? w - 1 : 1));
      q[1] = (uint8_t)((y * 3 + (x / 8 % 2) * 90) & 255);
      q[2] = (uint8_t)(((x ^ y) * 5 + (rnd() & 31)) & 255);
    }
  return p;
}

static ens_image rgb_view(const picture *p)
{
  return (ens_image){.format = ENS_PIXEL_RGB,
                     .width = p->w,
                     .height = p->h,
                     .planes = {p->rgb},
                     .strides = {p->w * 3}};
}

static int same_floats(const float *a, const float *b, size_t n)
{
  return memcmp(a, b, n * sizeof(float)) == 0;
}

/* ------------------------------------------------------------ packed formats + strides */

static void test_packed(const picture *p, const float *ref, const ens_preprocess_params *pp)
{
  static const struct {
    ens_pixel_format f;
    const char *name;
    int r, g, b, bpp;
  } fmts[] = {
      {ENS_PIXEL_RGB, "RGB", 0, 1, 2, 3},   {ENS_PIXEL_BGR, "BGR", 2, 1, 0, 3},
      {ENS_PIXEL_RGBA, "RGBA", 0, 1, 2, 4}, {ENS_PIXEL_BGRA, "BGRA", 2, 1, 0, 4},
      {ENS_PIXEL_RGBX, "RGBx", 0, 1, 2, 4}, {ENS_PIXEL_BGRX, "BGRx", 2, 1, 0, 4},
      {ENS_PIXEL_ARGB, "ARGB", 1, 2, 3, 4}, {ENS_PIXEL_ABGR, "ABGR", 3, 2, 1, 4},
      {ENS_PIXEL_XRGB, "xRGB", 1, 2, 3, 4}, {ENS_PIXEL_XBGR, "xBGR", 3, 2, 1, 4},
  };
  size_t n = (size_t)3 * pp->out_height * pp->out_width;
  float *out = malloc(n * sizeof(float));
  ens_error err;
  for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
    int stride = p->w * fmts[i].bpp + 1 + (int)(i * 7); /* padded, odd strides */
    uint8_t *buf = malloc((size_t)stride * p->h);
    for (size_t k = 0; k < (size_t)stride * p->h; k++)
      buf[k] = (uint8_t)rnd(); /* junk in alpha / x / padding bytes */
    for (int y = 0; y < p->h; y++)
      for (int x = 0; x < p->w; x++) {
        const uint8_t *s = p->rgb + ((size_t)y * p->w + x) * 3;
        uint8_t *d = buf + (size_t)y * stride + (size_t)x * fmts[i].bpp;
        d[fmts[i].r] = s[0];
        d[fmts[i].g] = s[1];
        d[fmts[i].b] = s[2];
      }
    ens_image img = {
        .format = fmts[i].f, .width = p->w, .height = p->h, .planes = {buf}, .strides = {stride}};
    CHECK_OK(ens_preprocess(pp, &img, NULL, out, &err), &err);
    CHECK(same_floats(out, ref, n), "%s (stride %d) differs from RGB", fmts[i].name, stride);
    free(buf);
  }
  printf("packed: 10 formats with padded strides bit-identical to RGB (%dx%d)\n", p->w, p->h);
  free(out);
}

/* ------------------------------------------------------------ ROI */

static void test_roi(const picture *p, const float *ref, const ens_preprocess_params *pp)
{
  const int ox = 37, oy = 11, cw = p->w + 53, ch = p->h + 29;
  uint8_t *canvas = malloc((size_t)cw * ch * 3);
  for (size_t k = 0; k < (size_t)cw * ch * 3; k++)
    canvas[k] = (uint8_t)rnd();
  for (int y = 0; y < p->h; y++)
    memcpy(canvas + ((size_t)(y + oy) * cw + ox) * 3, p->rgb + (size_t)y * p->w * 3,
           (size_t)p->w * 3);
  ens_image img = {
      .format = ENS_PIXEL_RGB, .width = cw, .height = ch, .planes = {canvas}, .strides = {cw * 3}};
  size_t n = (size_t)3 * pp->out_height * pp->out_width;
  float *out = malloc(n * sizeof(float));
  ens_error err;
  ens_rect roi = {ox, oy, p->w, p->h};
  CHECK_OK(ens_preprocess(pp, &img, &roi, out, &err), &err);
  CHECK(same_floats(out, ref, n), "ROI of a canvas differs from the picture itself");

  /* an ROI reaching outside is clipped to the image */
  ens_image pic = rgb_view(p);
  ens_rect big = {-50, -7, p->w + 500, p->h + 70};
  CHECK_OK(ens_preprocess(pp, &pic, &big, out, &err), &err);
  CHECK(same_floats(out, ref, n), "clipped ROI differs from the whole picture");

  /* BGRx canvas with the same ROI: ROI + swizzle together */
  int stride = cw * 4 + 12;
  uint8_t *bgrx = malloc((size_t)stride * ch);
  for (int y = 0; y < ch; y++)
    for (int x = 0; x < cw; x++) {
      const uint8_t *s = canvas + ((size_t)y * cw + x) * 3;
      uint8_t *d = bgrx + (size_t)y * stride + (size_t)x * 4;
      d[0] = s[2], d[1] = s[1], d[2] = s[0], d[3] = 0x5a;
    }
  ens_image bimg = {
      .format = ENS_PIXEL_BGRX, .width = cw, .height = ch, .planes = {bgrx}, .strides = {stride}};
  CHECK_OK(ens_preprocess(pp, &bimg, &roi, out, &err), &err);
  CHECK(same_floats(out, ref, n), "BGRx ROI differs");

  /* empty / outside ROIs are argument errors */
  ens_rect outside = {cw + 5, 0, 10, 10}, empty = {0, 0, 0, 10};
  CHECK(ens_preprocess(pp, &img, &outside, out, &err) == ENS_ERR_ARG, "outside ROI accepted");
  printf("roi outside: %s\n", err.message);
  CHECK(ens_preprocess(pp, &img, &empty, out, &err) == ENS_ERR_ARG, "empty ROI accepted");
  printf("roi: canvas ROI, clipped ROI and BGRx ROI bit-identical\n");
  free(bgrx);
  free(canvas);
  free(out);
}

/* ------------------------------------------------------------ YUV */

typedef struct {
  double kr, kb;
  int full;
} matrix_def;

static matrix_def matrix_of(ens_yuv_matrix m)
{
  int bt709 = m == ENS_YUV_BT709 || m == ENS_YUV_BT709_FULL;
  matrix_def d = {bt709 ? 0.2126 : 0.299, bt709 ? 0.0722 : 0.114,
                  m == ENS_YUV_BT601_FULL || m == ENS_YUV_BT709_FULL};
  return d;
}

static uint8_t clamp_round(double v)
{
  v = floor(v + 0.5);
  return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

/* exact YUV -> RGB of one sample, rounded */
static void ref_yuv_to_rgb(matrix_def m, int Y, int U, int V, uint8_t rgb[3])
{
  double kg = 1 - m.kr - m.kb;
  double y = m.full ? Y : (Y - 16) * 255.0 / 219.0;
  double u = m.full ? U - 128 : (U - 128) * 255.0 / 224.0;
  double v = m.full ? V - 128 : (V - 128) * 255.0 / 224.0;
  rgb[0] = clamp_round(y + 2 * (1 - m.kr) * v);
  rgb[1] = clamp_round(y - 2 * m.kb * (1 - m.kb) / kg * u - 2 * m.kr * (1 - m.kr) / kg * v);
  rgb[2] = clamp_round(y + 2 * (1 - m.kb) * u);
}

static void test_yuv(const picture *p, const ens_preprocess_params *pp, int natural)
{
  static const ens_yuv_matrix mats[] = {ENS_YUV_BT601, ENS_YUV_BT709, ENS_YUV_BT601_FULL,
                                        ENS_YUV_BT709_FULL};
  static const char *mat_names[] = {"BT601", "BT709", "BT601_FULL", "BT709_FULL"};
  int w = p->w, h = p->h, cw = (w + 1) / 2, chh = (h + 1) / 2;
  int ys = w + 5, us = cw + 3, uvs = 2 * cw + 6;
  uint8_t *Y = malloc((size_t)ys * h), *U = malloc((size_t)us * chh), *V = malloc((size_t)us * chh),
          *UV = malloc((size_t)uvs * chh);
  uint8_t *refrgb = malloc((size_t)w * h * 3), *got = malloc((size_t)w * h * 3);
  size_t n = (size_t)3 * pp->out_height * pp->out_width;
  size_t nc = (size_t)3 * pp->out_height * pp->out_width;
  uint8_t *crop_yuv = malloc(nc), *crop_ref = malloc(nc);
  float *out_yuv = malloc(n * sizeof(float)), *out_nv12 = malloc(n * sizeof(float));
  ens_error err;
  for (int mi = 0; mi < 4; mi++) {
    matrix_def m = matrix_of(mats[mi]);
    double kg = 1 - m.kr - m.kb;
    double ysc = m.full ? 1 : 219.0 / 255.0, csc = m.full ? 1 : 224.0 / 255.0;
    double yoff = m.full ? 0 : 16;
    /* RGB -> Y (full res) and 2x2-averaged chroma, rounded: what an encoder would produce */
    memset(Y, 0x11, (size_t)ys * h);
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        const uint8_t *s = p->rgb + ((size_t)y * w + x) * 3;
        double yy = m.kr * s[0] + kg * s[1] + m.kb * s[2];
        Y[(size_t)y * ys + x] = clamp_round(yoff + ysc * yy);
      }
    for (int cy = 0; cy < chh; cy++)
      for (int cx = 0; cx < cw; cx++) {
        double su = 0, sv = 0;
        int cnt = 0;
        for (int dy = 0; dy < 2; dy++)
          for (int dx = 0; dx < 2; dx++) {
            int x = 2 * cx + dx, y = 2 * cy + dy;
            if (x >= w || y >= h)
              continue;
            const uint8_t *s = p->rgb + ((size_t)y * w + x) * 3;
            double yy = m.kr * s[0] + kg * s[1] + m.kb * s[2];
            su += (s[2] - yy) / (2 * (1 - m.kb));
            sv += (s[0] - yy) / (2 * (1 - m.kr));
            cnt++;
          }
        uint8_t u = clamp_round(128 + csc * su / cnt), v = clamp_round(128 + csc * sv / cnt);
        U[(size_t)cy * us + cx] = u;
        V[(size_t)cy * us + cx] = v;
        UV[(size_t)cy * uvs + 2 * cx] = u;
        UV[(size_t)cy * uvs + 2 * cx + 1] = v;
      }
    /* reference RGB of these planes (replicated chroma, exact arithmetic) */
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        ref_yuv_to_rgb(m, Y[(size_t)y * ys + x], U[(size_t)(y / 2) * us + x / 2],
                       V[(size_t)(y / 2) * us + x / 2], refrgb + ((size_t)y * w + x) * 3);
    ens_image i420 = {.format = ENS_PIXEL_I420,
                      .width = w,
                      .height = h,
                      .planes = {Y, U, V},
                      .strides = {ys, us, us},
                      .yuv_matrix = mats[mi]};
    ens_image nv12 = {.format = ENS_PIXEL_NV12,
                      .width = w,
                      .height = h,
                      .planes = {Y, UV},
                      .strides = {ys, uvs},
                      .yuv_matrix = mats[mi]};
    /* 1. the converter: <= 1 level from exact, rarely off */
    CHECK_OK(ens_image_validate(&i420, &err), &err);
    ens_image_to_rgb(&i420, 0, 0, w, h, got, (size_t)w * 3);
    int maxd = 0;
    size_t off = 0, roundtrip = 0;
    for (size_t k = 0; k < (size_t)w * h * 3; k++) {
      int d = abs(got[k] - refrgb[k]);
      maxd = d > maxd ? d : maxd;
      off += d != 0;
      roundtrip += (size_t)abs(got[k] - p->rgb[k]);
    }
    printf("yuv %s: converter vs exact max|diff| %d (%zu of %zu samples off by 1); "
           "round trip RGB->I420->RGB mean|diff| %.3f levels\n",
           mat_names[mi], maxd, off, (size_t)w * h * 3, (double)roundtrip / ((double)w * h * 3));
    CHECK(maxd <= 1, "%s converter off by %d", mat_names[mi], maxd);
    CHECK(off * 100 <= (size_t)w * h * 3, "%s converter off too often", mat_names[mi]);
    /* 4:2:0 loses chroma detail: only a natural picture gives a meaningful bound */
    if (natural)
      CHECK((double)roundtrip / ((double)w * h * 3) < 2.0, "%s round trip too lossy",
            mat_names[mi]);
    /* sub-rectangle starting at an odd column/row: same bytes as the full conversion */
    if (w > 3 && h > 3) {
      uint8_t *sub = malloc((size_t)(w - 3) * (h - 3) * 3);
      ens_image_to_rgb(&nv12, 3, 3, w - 3, h - 3, sub, (size_t)(w - 3) * 3);
      int same = 1;
      for (int y = 0; y < h - 3; y++)
        same &= memcmp(sub + (size_t)y * (w - 3) * 3, got + ((size_t)(y + 3) * w + 3) * 3,
                       (size_t)(w - 3) * 3) == 0;
      CHECK(same, "%s NV12 odd-offset sub-rectangle differs from I420 full conversion",
            mat_names[mi]);
      free(sub);
    }
    /* 2. whole transform: YUV frame vs the exact RGB of the same planes */
    picture rp = {w, h, refrgb};
    ens_image rimg = rgb_view(&rp);
    CHECK_OK(ens_preprocess_cropped_u8(pp, &i420, NULL, crop_yuv, &err), &err);
    CHECK_OK(ens_preprocess_cropped_u8(pp, &rimg, NULL, crop_ref, &err), &err);
    int cmax = 0;
    for (size_t k = 0; k < nc; k++) {
      int d = abs(crop_yuv[k] - crop_ref[k]);
      cmax = d > cmax ? d : cmax;
    }
    CHECK_OK(ens_preprocess(pp, &i420, NULL, out_yuv, &err), &err);
    CHECK_OK(ens_preprocess(pp, &nv12, NULL, out_nv12, &err), &err);
    CHECK(same_floats(out_yuv, out_nv12, n), "%s: I420 and NV12 differ", mat_names[mi]);
    float *out_ref = malloc(n * sizeof(float));
    CHECK_OK(ens_preprocess(pp, &rimg, NULL, out_ref, &err), &err);
    double fd = ens_test_max_abs_diff(out_yuv, out_ref, n);
    printf("yuv %s: transform of I420 vs of exact RGB: crop max|diff| %d levels, input "
           "max|diff| %.4g\n",
           mat_names[mi], cmax, fd);
    /* a 1-level input error grows by at most the filter's sum |k| (< 1.3) + rounding */
    CHECK(cmax <= 2, "%s: crop differs by %d levels", mat_names[mi], cmax);
    CHECK(fd <= 2.0 / 255.0 / 0.224 + 1e-6, "%s: input differs by %g", mat_names[mi], fd);
    free(out_ref);
  }
  free(Y), free(U), free(V), free(UV), free(refrgb), free(got), free(crop_yuv), free(crop_ref);
  free(out_yuv), free(out_nv12);
}

/* ------------------------------------------------------------ odd sizes */

static void test_odd_sizes(void)
{
  static const int sizes[][2] = {{1, 1}, {7, 5}, {5, 7}, {4095, 1}, {1, 4095}, {2, 2}, {3, 1}};
  size_t n = (size_t)3 * 224 * 224;
  float *out = malloc(n * sizeof(float));
  ens_error err;
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    int w = sizes[s][0], h = sizes[s][1];
    /* constant picture -> exactly constant output (coefficients sum to 1) */
    uint8_t *buf = malloc((size_t)w * h * 4);
    for (size_t k = 0; k < (size_t)w * h; k++)
      buf[4 * k] = 200, buf[4 * k + 1] = 17, buf[4 * k + 2] = 99, buf[4 * k + 3] = 1;
    ens_image img = {
        .format = ENS_PIXEL_RGBA, .width = w, .height = h, .planes = {buf}, .strides = {w * 4}};
    for (int interp = ENS_INTERP_BICUBIC; interp <= ENS_INTERP_BILINEAR; interp++) {
      ens_preprocess_params pp = B0;
      pp.interpolation = (ens_interp)interp;
      CHECK_OK(ens_preprocess(&pp, &img, NULL, out, &err), &err);
      int ok = 1;
      const uint8_t v[3] = {200, 17, 99};
      for (int c = 0; c < 3; c++) {
        float want = ((float)v[c] / 255.0f - pp.mean[c]) / pp.std[c];
        for (size_t i = 0; i < n / 3; i++)
          ok &= out[c * (n / 3) + i] == want;
      }
      CHECK(ok, "constant %dx%d picture does not give a constant output", w, h);
    }
    /* a varying single row: every output row equal (vertical upscale of one row) */
    if (h == 1) {
      for (int x = 0; x < w; x++)
        buf[4 * x] = (uint8_t)(x * 7), buf[4 * x + 1] = (uint8_t)(x * 13), buf[4 * x + 2] = 5;
      CHECK_OK(ens_preprocess(&B0, &img, NULL, out, &err), &err);
      int ok = 1;
      for (int c = 0; c < 3; c++)
        for (int y = 1; y < 224; y++)
          ok &= memcmp(out + (size_t)c * 224 * 224 + (size_t)y * 224, out + (size_t)c * 224 * 224,
                       224 * sizeof(float)) == 0;
      CHECK(ok, "%dx1 strip: output rows differ", w);
      ens_preprocess_plan plan;
      CHECK_OK(ens_preprocess_make_plan(&B0, w, h, &plan, &err), &err);
      printf("odd %dx%d: resized to %dx%d, crop at (%d,%d)\n", w, h, plan.resized_width,
             plan.resized_height, plan.crop_x, plan.crop_y);
    }
    free(buf);
  }
  printf("odd sizes: 1x1 7x5 5x7 4095x1 1x4095 2x2 3x1 fine\n");
  free(out);
}

/* ------------------------------------------------------------ plan arithmetic */

static void test_plan(void)
{
  ens_error err;
  ens_preprocess_plan pl;
  ens_preprocess_params p = B0;
  CHECK_OK(ens_preprocess_make_plan(&p, 1546, 1213, &pl, &err), &err);
  CHECK(pl.resized_width == 326 && pl.resized_height == 256 && pl.crop_x == 51 && pl.crop_y == 16,
        "dog b0 plan %dx%d (%d,%d)", pl.resized_width, pl.resized_height, pl.crop_x, pl.crop_y);
  p.out_width = p.out_height = 300;
  p.crop_pct = 0.904f;
  CHECK_OK(ens_preprocess_make_plan(&p, 1546, 1213, &pl, &err), &err);
  CHECK(pl.resized_width == 421 && pl.resized_height == 331 && pl.crop_x == 60 && pl.crop_y == 16,
        "dog b3 plan %dx%d (%d,%d): left must be round(60.5) = 60", pl.resized_width,
        pl.resized_height, pl.crop_x, pl.crop_y);
  /* 224 / 0.8 is 280 in Python (0.8 as a double); the float 0.8f would give 279 */
  p.out_width = p.out_height = 224;
  p.crop_pct = 0.8f;
  CHECK_OK(ens_preprocess_make_plan(&p, 500, 400, &pl, &err), &err);
  CHECK(pl.resized_height == 280, "224/0.8 -> %d, want 280", pl.resized_height);
  CHECK(ens_crop_pct_as_double(0.904f) == 0.904, "crop_pct 0.904f not recovered");
  /* crop larger than the resized image: zero padding, origin negative */
  p.crop_pct = 1.25f;
  CHECK_OK(ens_preprocess_make_plan(&p, 100, 100, &pl, &err), &err);
  CHECK(pl.resized_width == 179 && pl.crop_x == -22, "pad plan %d %d", pl.resized_width, pl.crop_x);
  /* non-square: timm ResizeKeepRatio, bilinear by default */
  p = B0;
  p.out_height = 240, p.out_width = 320, p.interpolation = ENS_INTERP_DEFAULT;
  CHECK_OK(ens_preprocess_make_plan(&p, 640, 480, &pl, &err), &err);
  CHECK(pl.resized_width == 365 && pl.resized_height == 274 && pl.filter == ENS_PIL_BILINEAR,
        "non-square plan %dx%d filter %d", pl.resized_width, pl.resized_height, pl.filter);
}

/* ------------------------------------------------------------ bad arguments */

static void test_bad_args(const picture *p)
{
  float *out = malloc((size_t)3 * 224 * 224 * sizeof(float));
  ens_error err;
  ens_image img = rgb_view(p);
  ens_preprocess_params pp = B0;
  CHECK(ens_preprocess(&pp, NULL, NULL, out, &err) == ENS_ERR_ARG, "NULL image");
  CHECK(ens_preprocess(NULL, &img, NULL, out, &err) == ENS_ERR_ARG, "NULL params");
  CHECK(ens_preprocess(&pp, &img, NULL, NULL, &err) == ENS_ERR_ARG, "NULL out");
  ens_image bad = img;
  bad.strides[0] = p->w * 3 - 1;
  CHECK(ens_preprocess(&pp, &bad, NULL, out, &err) == ENS_ERR_ARG, "short stride");
  printf("short stride: %s\n", err.message);
  bad = img;
  bad.format = (ens_pixel_format)99;
  CHECK(ens_preprocess(&pp, &bad, NULL, out, &err) == ENS_ERR_ARG, "bad format");
  bad = img;
  bad.width = 0;
  CHECK(ens_preprocess(&pp, &bad, NULL, out, &err) == ENS_ERR_ARG, "zero width");
  bad = img;
  bad.planes[0] = NULL;
  CHECK(ens_preprocess(&pp, &bad, NULL, out, &err) == ENS_ERR_ARG, "NULL plane");
  bad = img;
  bad.format = ENS_PIXEL_I420;
  bad.strides[1] = bad.strides[2] = p->w;
  CHECK(ens_preprocess(&pp, &bad, NULL, out, &err) == ENS_ERR_ARG, "I420 without chroma");
  bad.planes[1] = bad.planes[2] = p->rgb;
  bad.yuv_matrix = (ens_yuv_matrix)9;
  CHECK(ens_preprocess(&pp, &bad, NULL, out, &err) == ENS_ERR_ARG, "bad matrix");
  ens_preprocess_params bp = pp;
  bp.crop_pct = 0;
  CHECK(ens_preprocess(&bp, &img, NULL, out, &err) == ENS_ERR_ARG, "crop_pct 0");
  bp = pp;
  bp.std[1] = 0;
  CHECK(ens_preprocess(&bp, &img, NULL, out, &err) == ENS_ERR_ARG, "std 0");
  bp = pp;
  bp.out_width = 0;
  CHECK(ens_preprocess(&bp, &img, NULL, out, &err) == ENS_ERR_ARG, "out 0");
  bp = pp;
  bp.interpolation = (ens_interp)7;
  CHECK(ens_preprocess(&bp, &img, NULL, out, &err) == ENS_ERR_ARG, "bad interpolation");
  free(out);
}

/* ------------------------------------------------------------ resampler vs slow reference */

static double ref_filter(double x, int bicubic)
{
  x = fabs(x);
  if (bicubic) {
    if (x < 1)
      return (1.5 * x - 2.5) * x * x + 1;
    if (x < 2)
      return (((x - 5) * x + 8) * x - 4) * -0.5;
    return 0;
  }
  return x < 1 ? 1 - x : 0;
}

/* one axis of Pillow's formula in unquantised double; src/dst rows of 3 channels */
static void ref_axis(const uint8_t *src, int in, int sstep, uint8_t *dst, int out, int dstep,
                     int bicubic)
{
  double scale = (double)in / out, fs = scale < 1 ? 1 : scale, sup = (bicubic ? 2 : 1) * fs;
  for (int i = 0; i < out; i++) {
    double c = (i + 0.5) * scale, acc[3] = {0, 0, 0}, ws = 0;
    int lo = (int)(c - sup + 0.5), hi = (int)(c + sup + 0.5);
    lo = lo < 0 ? 0 : lo;
    hi = hi > in ? in : hi;
    for (int j = lo; j < hi; j++) {
      double w = ref_filter((j - c + 0.5) / fs, bicubic);
      ws += w;
      for (int k = 0; k < 3; k++)
        acc[k] += w * src[(size_t)j * sstep + k];
    }
    for (int k = 0; k < 3; k++)
      dst[(size_t)i * dstep + k] = clamp_round(acc[k] / ws);
  }
}

static void test_resampler_reference(void)
{
  static const int cases[][4] = {{64, 48, 20, 15},     {33, 17, 100, 71}, {200, 3, 31, 9},
                                 {5, 90, 5, 40},       {90, 5, 40, 5},    {1, 1, 9, 4},
                                 {640, 480, 326, 256}, {17, 29, 17, 29}};
  for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
    int iw = cases[t][0], ih = cases[t][1], ow = cases[t][2], oh = cases[t][3];
    /* noise: a smooth ramp has many exact .5 ties, where quantisation decides */
    picture p = {iw, ih, malloc((size_t)iw * ih * 3)};
    for (size_t k = 0; k < (size_t)iw * ih * 3; k++)
      p.rgb[k] = (uint8_t)rnd();
    for (int bicubic = 0; bicubic <= 1; bicubic++) {
      uint8_t *mid = malloc((size_t)ow * ih * 3), *want = malloc((size_t)ow * oh * 3),
              *got = malloc((size_t)ow * oh * 3);
      for (int y = 0; y < ih; y++) /* rows */
        if (ow != iw)
          ref_axis(p.rgb + (size_t)y * iw * 3, iw, 3, mid + (size_t)y * ow * 3, ow, 3, bicubic);
        else
          memcpy(mid + (size_t)y * ow * 3, p.rgb + (size_t)y * iw * 3, (size_t)iw * 3);
      for (int x = 0; x < ow; x++) /* columns */
        if (oh != ih)
          ref_axis(mid + (size_t)x * 3, ih, ow * 3, want + (size_t)x * 3, oh, ow * 3, bicubic);
        else
          for (int y = 0; y < oh; y++)
            memcpy(want + ((size_t)y * ow + x) * 3, mid + ((size_t)y * ow + x) * 3, 3);
      ens_error err;
      CHECK_OK(ens_pil_resize_alloc(p.rgb, iw, ih, (size_t)iw * 3, ow, oh, NULL,
                                    bicubic ? ENS_PIL_BICUBIC : ENS_PIL_BILINEAR, got,
                                    (size_t)ow * 3, &err),
               &err);
      int maxd = 0;
      size_t off = 0, total = (size_t)ow * oh * 3;
      for (size_t k = 0; k < total; k++) {
        int d = abs(got[k] - want[k]);
        maxd = d > maxd ? d : maxd;
        off += d != 0;
      }
      /* 22-bit coefficients and the uint8 intermediate can move a .5 tie by one level */
      CHECK(maxd <= 1 && off * 50 <= total + 50, "%s %dx%d->%dx%d: max %d, %zu of %zu off",
            bicubic ? "bicubic" : "bilinear", iw, ih, ow, oh, maxd, off, total);
      if (t == 6)
        printf("resampler vs double reference %s 640x480->326x256: max|diff| %d, %zu of %zu "
               "off by one\n",
               bicubic ? "bicubic" : "bilinear", maxd, off, total);
      free(mid), free(want), free(got);
    }
    free(p.rgb);
  }
}

/* ens_pil_resize_from on just the source rectangle == ens_pil_resize on the whole input, for
 * both passes, one pass (either axis) and none; and a picture whose short side already is
 * the resize target goes through the copy path: its crop is the picture's own pixels. */
static void test_source_rect(void)
{
  static const int cases[][8] = {
      /* in_w in_h out_w out_h  win x y w h */
      {300, 200, 150, 90, 20, 10, 100, 50},  {300, 200, 120, 200, 7, 33, 90, 101},
      {300, 200, 300, 77, 40, 5, 201, 60},   {300, 200, 300, 200, 13, 17, 100, 100},
      {97, 61, 333, 250, 100, 50, 200, 180},
  };
  ens_error err;
  picture p = synthetic(300, 200);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const int *t = cases[c];
    ens_rect win = {t[4], t[5], t[6], t[7]}, sr;
    for (int f = ENS_PIL_BILINEAR; f <= ENS_PIL_BICUBIC; f++) {
      CHECK(ens_pil_resize_source_rect(t[0], t[1], t[2], t[3], &win, f, &sr), "source rect");
      uint8_t *part = malloc((size_t)sr.width * sr.height * 3);
      for (int y = 0; y < sr.height; y++)
        memcpy(part + (size_t)y * sr.width * 3, p.rgb + ((size_t)(sr.y + y) * p.w + sr.x) * 3,
               (size_t)sr.width * 3);
      size_t n = (size_t)win.width * win.height * 3;
      uint8_t *a = malloc(n), *b = malloc(n);
      void *scratch = malloc(ens_pil_resize_scratch_size(t[0], t[1], t[2], t[3], &win, f));
      ens_pil_resize_from(part, sr.x, sr.y, t[0], t[1], (size_t)sr.width * 3, t[2], t[3], &win, f,
                          a, (size_t)win.width * 3, scratch);
      CHECK_OK(ens_pil_resize_alloc(p.rgb, t[0], t[1], (size_t)p.w * 3, t[2], t[3], &win, f, b,
                                    (size_t)win.width * 3, &err),
               &err);
      CHECK(memcmp(a, b, n) == 0, "resize_from case %zu filter %d differs", c, f);
      free(part), free(a), free(b), free(scratch);
    }
  }
  free(p.rgb);

  /* 256x300 at b0: shorter side is already 256, so no resampling at all */
  picture q = synthetic(256, 300);
  uint8_t *crop = malloc(224 * 224 * 3);
  ens_image qi = rgb_view(&q);
  int stride = 256 * 4 + 3;
  uint8_t *xbgr = malloc((size_t)stride * 300);
  for (int y = 0; y < 300; y++)
    for (int x = 0; x < 256; x++) {
      const uint8_t *s = q.rgb + ((size_t)y * 256 + x) * 3;
      uint8_t *d = xbgr + (size_t)y * stride + x * 4;
      d[0] = 0, d[1] = s[2], d[2] = s[1], d[3] = s[0];
    }
  ens_image xi = {
      .format = ENS_PIXEL_XBGR, .width = 256, .height = 300, .planes = {xbgr}, .strides = {stride}};
  const ens_image *imgs[2] = {&qi, &xi};
  for (int k = 0; k < 2; k++) {
    CHECK_OK(ens_preprocess_cropped_u8(&B0, imgs[k], NULL, crop, &err), &err);
    int same = 1; /* top = round(76 / 2) = 38, left = 16 */
    for (int y = 0; y < 224; y++)
      same &= memcmp(crop + (size_t)y * 224 * 3, q.rgb + ((size_t)(y + 38) * 256 + 16) * 3,
                     224 * 3) == 0;
    CHECK(same, "%s: copy-path crop is not the picture's own pixels", k ? "xBGR" : "RGB");
  }
  free(xbgr), free(crop), free(q.rgb);
  printf("source rectangles and copy path fine\n");
}

int main(int argc, char **argv)
{
  picture p;
  int dog = argc > 1 && strcmp(argv[1], "dog") == 0;
  if (dog) {
    /* a 401x333 crop of the decoded dog, odd width and height */
    const char *path = ens_test_shared_path("goldens/dog_decoded.safetensors");
    int64_t shape[4];
    size_t n;
    uint8_t *all = ens_test_load_u8(path, "rgb_u8", &n, shape);
    p = (picture){401, 333, malloc((size_t)401 * 333 * 3)};
    for (int y = 0; y < p.h; y++)
      memcpy(p.rgb + (size_t)y * p.w * 3, all + ((size_t)(y + 400) * shape[1] + 600) * 3,
             (size_t)p.w * 3);
    free(all);
  } else {
    p = synthetic(253, 181);
  }
  size_t n = (size_t)3 * 224 * 224;
  float *ref = malloc(n * sizeof(float));
  ens_error err;
  ens_image img = rgb_view(&p);
  CHECK_OK(ens_preprocess(&B0, &img, NULL, ref, &err), &err);

  test_packed(&p, ref, &B0);
  test_roi(&p, ref, &B0);
  test_yuv(&p, &B0, dog);
  if (!dog) {
    /* the same on an odd-sized, upscaled picture and a non-square crop */
    picture q = synthetic(99, 67);
    ens_preprocess_params ns = B0;
    ns.out_height = 160, ns.out_width = 224, ns.interpolation = ENS_INTERP_DEFAULT;
    float *r2 = malloc(n * sizeof(float));
    ens_image qi = rgb_view(&q);
    CHECK_OK(ens_preprocess(&ns, &qi, NULL, r2, &err), &err);
    test_packed(&q, r2, &ns);
    test_yuv(&q, &ns, 0);
    free(r2);
    free(q.rgb);
    test_odd_sizes();
    test_plan();
    test_bad_args(&p);
    test_resampler_reference();
    test_source_rect();
  }
  free(ref);
  free(p.rgb);
  return ens_test_finish(dog ? "test_preprocess_formats dog" : "test_preprocess_formats");
}
