/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_preprocess_window.c - ens_preprocess_source_rect / ens_preprocess_window: a copy of just
 * the source rectangle of a frame (as ensclassify's async mode keeps) preprocesses to exactly
 * what the whole frame does, for packed RGB, a 4-byte packed format, I420 and NV12, odd frame
 * sizes, square bicubic and non-square bilinear crops, the whole frame and ROIs inside, across
 * and outside the border; a window one pixel short of the rectangle, an odd YUV origin and a
 * window outside its frame are refused with ENS_ERR_ARG. */
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"

typedef struct {
  ens_pixel_format format;
  const char *name;
  int bpp; /* packed bytes per pixel; 0: YUV 4:2:0 */
} format_case;

static unsigned rng = 7;

static uint8_t next_byte(void)
{
  rng = rng * 1103515245u + 12345u;
  return (uint8_t)(rng >> 16);
}

/* A frame of random bytes with padded strides, its planes in one malloc (*mem). */
static ens_image make_frame(const format_case *fc, int w, int h, uint8_t **mem)
{
  ens_image img = {.format = fc->format, .width = w, .height = h, .yuv_matrix = ENS_YUV_BT709};
  const int cw = (w + 1) / 2, ch = (h + 1) / 2;
  int rows[3] = {h, 0, 0}, n = 1;
  if (fc->bpp) {
    img.strides[0] = w * fc->bpp + 5;
  } else if (fc->format == ENS_PIXEL_I420) {
    img.strides[0] = w + 3, img.strides[1] = img.strides[2] = cw + 1;
    rows[1] = rows[2] = ch, n = 3;
  } else {
    img.strides[0] = w + 3, img.strides[1] = 2 * cw + 2;
    rows[1] = ch, n = 2;
  }
  size_t total = 0;
  for (int p = 0; p < n; p++)
    total += (size_t)img.strides[p] * rows[p];
  *mem = malloc(total);
  for (size_t i = 0; i < total; i++)
    (*mem)[i] = next_byte();
  size_t off = 0;
  for (int p = 0; p < n; p++) {
    img.planes[p] = *mem + off;
    off += (size_t)img.strides[p] * rows[p];
  }
  return img;
}

/* Copies rectangle r of img into a tight window (as the plugin does), planes in *mem. */
static ens_image copy_window(const format_case *fc, const ens_image *img, ens_rect r, uint8_t **mem)
{
  ens_image win = *img;
  win.width = r.width;
  win.height = r.height;
  int n = fc->bpp ? 1 : fc->format == ENS_PIXEL_I420 ? 3 : 2;
  size_t off = 0, bytes[3], rows[3], x0[3], y0[3];
  for (int p = 0; p < n; p++) {
    const int sub = fc->bpp == 0 && p > 0; /* chroma: half size, rounded up */
    const size_t px = sub ? (size_t)(r.x + r.width + 1) / 2 - (size_t)r.x / 2 : (size_t)r.width;
    const size_t per = fc->bpp ? (size_t)fc->bpp : (fc->format == ENS_PIXEL_NV12 && p == 1) ? 2 : 1;
    bytes[p] = px * per;
    rows[p] = sub ? (size_t)(r.y + r.height + 1) / 2 - (size_t)r.y / 2 : (size_t)r.height;
    x0[p] = (sub ? (size_t)r.x / 2 : (size_t)r.x) * per;
    y0[p] = sub ? (size_t)r.y / 2 : (size_t)r.y;
    off += bytes[p] * rows[p];
  }
  *mem = malloc(off);
  off = 0;
  for (int p = 0; p < n; p++) {
    for (size_t y = 0; y < rows[p]; y++)
      memcpy(*mem + off + y * bytes[p], img->planes[p] + (y0[p] + y) * img->strides[p] + x0[p],
             bytes[p]);
    win.planes[p] = *mem + off;
    win.strides[p] = (int)bytes[p];
    off += bytes[p] * rows[p];
  }
  return win;
}

static void check_case(const format_case *fc, int w, int h, const ens_preprocess_params *pp,
                       const ens_rect *roi, int *smaller)
{
  char what[160];
  snprintf(what, sizeof what, "%s %dx%d -> %dx%d roi %s(%d,%d %dx%d)", fc->name, w, h,
           pp->out_width, pp->out_height, roi ? "" : "none ", roi ? roi->x : 0, roi ? roi->y : 0,
           roi ? roi->width : w, roi ? roi->height : h);
  uint8_t *frame_mem, *win_mem;
  ens_image img = make_frame(fc, w, h, &frame_mem);
  const size_t n = (size_t)3 * pp->out_width * pp->out_height;
  float *want = malloc(sizeof(float) * n), *got = malloc(sizeof(float) * n);
  ens_error err;
  ens_rect r;
  ens_status st = ens_preprocess(pp, &img, roi, want, &err);
  if (st != ENS_OK) { /* a ROI outside this frame: both refuse it alike */
    CHECK(ens_preprocess_source_rect(pp, w, h, roi, &r, &err) == st,
          "%s: source rect of a "
          "roi ens_preprocess refuses",
          what);
    free(frame_mem), free(want), free(got);
    return;
  }
  CHECK_OK(ens_preprocess_source_rect(pp, w, h, roi, &r, &err), &err);
  CHECK(r.x >= 0 && r.y >= 0 && r.width >= 1 && r.height >= 1 && r.x + r.width <= w &&
            r.y + r.height <= h,
        "%s: source rect (%d,%d %dx%d) outside the frame", what, r.x, r.y, r.width, r.height);
  if (!fc->bpp) { /* 4:2:0: the window starts on a chroma sample */
    r.width += r.x % 2, r.x -= r.x % 2;
    r.height += r.y % 2, r.y -= r.y % 2;
  }
  *smaller += r.width < w || r.height < h;
  ens_image win = copy_window(fc, &img, r, &win_mem);
  CHECK_OK(ens_preprocess_window(pp, &win, r.x, r.y, w, h, roi, got, &err), &err);
  CHECK(memcmp(got, want, sizeof(float) * n) == 0, "%s: window differs from the whole frame", what);
  free(win_mem);

  /* one column or row short of the rectangle: refused, naming the missing pixels */
  ens_rect shorter[2] = {{r.x, r.y, r.width - 1, r.height}, {r.x, r.y, r.width, r.height - 1}};
  for (int k = 0; k < 2; k++) {
    if (shorter[k].width < 1 || shorter[k].height < 1)
      continue;
    win = copy_window(fc, &img, shorter[k], &win_mem);
    st = ens_preprocess_window(pp, &win, r.x, r.y, w, h, roi, got, &err);
    CHECK(st == ENS_ERR_ARG && strstr(err.message, "does not hold"),
          "%s: a window short by one %s was accepted (%s)", what, k ? "row" : "column",
          st ? err.message : "ok");
    free(win_mem);
  }
  free(frame_mem);
  free(want);
  free(got);
}

int main(void)
{
  static const format_case formats[] = {{ENS_PIXEL_RGB, "RGB", 3},
                                        {ENS_PIXEL_BGRX, "BGRx", 4},
                                        {ENS_PIXEL_I420, "I420", 0},
                                        {ENS_PIXEL_NV12, "NV12", 0}};
  ens_preprocess_params square = {.out_height = 56,
                                  .out_width = 56,
                                  .crop_pct = 0.875f,
                                  .interpolation = ENS_INTERP_DEFAULT,
                                  .mean = {0.485f, 0.456f, 0.406f},
                                  .std = {0.229f, 0.224f, 0.225f}};
  ens_preprocess_params wide = square;
  wide.out_height = 40, wide.out_width = 72, wide.crop_pct = 0.95f;
  const ens_preprocess_params *params[] = {&square, &wide};
  static const int sizes[][2] = {{320, 181}, {97, 255}, {40, 31}};
  const ens_rect rois[] = {{31, 17, 101, 77}, {-20, 150, 90, 80}, {5, 3, 8, 9}};
  int smaller = 0;
  for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++)
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
      for (size_t p = 0; p < 2; p++) {
        check_case(&formats[f], sizes[s][0], sizes[s][1], params[p], NULL, &smaller);
        for (size_t r = 0; r < sizeof rois / sizeof rois[0]; r++)
          check_case(&formats[f], sizes[s][0], sizes[s][1], params[p], &rois[r], &smaller);
      }
  /* the point: a center crop or a small ROI needs less than the frame */
  CHECK(smaller > 40, "only %d cases needed less than the whole frame", smaller);

  /* bad windows */
  uint8_t *mem;
  ens_image img = make_frame(&formats[2], 64, 48, &mem);
  ens_image win = img;
  win.width = 32, win.height = 24;
  float out[3 * 56 * 56];
  ens_error err;
  CHECK(ens_preprocess_window(&square, &win, 3, 2, 64, 48, NULL, out, &err) == ENS_ERR_ARG &&
            strstr(err.message, "even"),
        "odd I420 origin accepted");
  CHECK(ens_preprocess_window(&square, &win, 40, 0, 64, 48, NULL, out, &err) == ENS_ERR_ARG &&
            strstr(err.message, "not inside"),
        "window outside its frame accepted");
  ens_rect r;
  const ens_rect empty = {100, 100, 5, 5};
  CHECK(ens_preprocess_source_rect(&square, 64, 48, &empty, &r, &err) == ENS_ERR_ARG,
        "roi outside the frame accepted");
  free(mem);
  return ens_test_finish("preprocess_window");
}
