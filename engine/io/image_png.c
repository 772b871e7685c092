/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image_png.c - PNG through libpng, matching Pillow 9.4's Image.open(f).convert('RGB'):
 *
 *   gray 1/2/4/8-bit   -> scaled to 0..255 (x255, x85, x17, x1), copied to R, G, B;
 *   palette 1..8-bit   -> the palette's RGB (transparency ignored);
 *   RGB 8-bit          -> as is; any tRNS colour key is ignored, as Pillow's RGB mode does;
 *   alpha (GA, RGBA)   -> dropped, no compositing (convert('RGB') from LA / RGBA);
 *   16-bit             -> the high byte of each sample (Pillow unpacks RGB;16B, RGBA;16B,
 *                         LA;16B that way); 16-bit *gray* alone differs: Pillow opens it as
 *                         mode "I" and convert('RGB') clips at 255 (65535 -> 255, 256 -> 255),
 *                         ens takes the high byte like the other 16-bit kinds and like its
 *                         16-bit PGM decoder rescales, so such pictures stay usable;
 *   interlaced (Adam7) -> decoded whole by libpng.
 * No gamma / ICC / sRGB handling, as Pillow's convert('RGB'). libpng reports errors through
 * an error callback that longjmps back here; everything changed after setjmp that the error
 * path frees is volatile. Warnings are dropped. Pixel data ending early is an error (Pillow
 * raises too); chunks after the image data are not read. */
#include "image_png.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "error.h"

typedef struct {
  const uint8_t *data;
  size_t len, pos;
  char message[200];
} png_source;

static void png_on_error(png_structp png, png_const_charp msg)
{
  png_source *src = png_get_error_ptr(png);
  snprintf(src->message, sizeof src->message, "%s", msg ? msg : "unknown libpng error");
  png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
  (void)png;
  (void)msg;
}

static void png_read_memory(png_structp png, png_bytep dst, size_t n)
{
  png_source *src = png_get_io_ptr(png);
  if (n > src->len - src->pos)
    png_error(png, "unexpected end of file (truncated PNG)");
  memcpy(dst, src->data + src->pos, n);
  src->pos += n;
}

/* One decoded row of `channels` 8-bit samples (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) to RGB. */
static void row_to_rgb(const uint8_t *in, int channels, int width, uint8_t *rgb)
{
  for (int x = 0; x < width; x++, in += channels, rgb += 3) {
    if (channels <= 2) {
      rgb[0] = rgb[1] = rgb[2] = in[0];
    } else {
      rgb[0] = in[0];
      rgb[1] = in[1];
      rgb[2] = in[2];
    }
  }
}

ens_status ens_decode_png(const uint8_t *data, size_t len, const char *name, uint64_t max_pixels,
                          ens_rgb_image *out, ens_error *err)
{
  png_source src = {data, len, 0, {0}};
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_on_error, png_on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!png || !info) {
    png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
    return ens_fail(err, ENS_ERR_NOMEM, "%s: cannot allocate the PNG decoder", name);
  }
  uint8_t *volatile rgb = NULL;
  uint8_t *volatile rows = NULL; /* decoded samples: one row, or all (interlaced) */
  png_bytep *volatile row_ptrs = NULL;
  volatile ens_status code = ENS_ERR_FORMAT;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, NULL);
    free(rgb);
    free(rows);
    free(row_ptrs);
    if (code == ENS_ERR_FORMAT)
      return ens_fail(err, code, "%s: corrupt or truncated PNG: %s", name, src.message);
    return ens_fail(err, code, "%s: %s", name, src.message);
  }
  png_set_read_fn(png, &src, png_read_memory);
  png_read_info(png, info);
  png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
  if ((uint64_t)w * h > max_pixels) {
    code = ENS_ERR_UNSUPPORTED;
    snprintf(src.message, sizeof src.message, "PNG of %ux%u pixels exceeds the %llu pixel limit",
             (unsigned)w, (unsigned)h, (unsigned long long)max_pixels);
    png_longjmp(png, 1);
  }
  if (depth == 16)
    png_set_strip_16(png); /* high byte, as Pillow's ;16B unpackers */
  if (color == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb(png); /* may add alpha from tRNS: dropped below */
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8)
    png_set_expand_gray_1_2_4_to_8(png); /* no tRNS expansion: a colour key is ignored */
  int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  int channels = png_get_channels(png, info);
  size_t rowbytes = png_get_rowbytes(png, info);
  if (png_get_bit_depth(png, info) != 8 || channels < 1 || channels > 4 ||
      rowbytes != (size_t)w * (size_t)channels) {
    snprintf(src.message, sizeof src.message, "unexpected decoded layout (%d channels, %d bits)",
             channels, png_get_bit_depth(png, info));
    png_longjmp(png, 1);
  }
  size_t stride = (size_t)w * 3;
  rgb = malloc(stride * h);
  rows = malloc(rowbytes * (passes > 1 ? (size_t)h : 1));
  row_ptrs = passes > 1 ? malloc((size_t)h * sizeof *row_ptrs) : NULL;
  if (!rgb || !rows || (passes > 1 && !row_ptrs)) {
    code = ENS_ERR_NOMEM;
    snprintf(src.message, sizeof src.message, "cannot allocate a %ux%u image", (unsigned)w,
             (unsigned)h);
    png_longjmp(png, 1);
  }
  if (passes > 1) {
    for (png_uint_32 y = 0; y < h; y++)
      row_ptrs[y] = rows + (size_t)y * rowbytes;
    png_read_image(png, row_ptrs);
    for (png_uint_32 y = 0; y < h; y++)
      row_to_rgb(row_ptrs[y], channels, (int)w, rgb + (size_t)y * stride);
  } else {
    for (png_uint_32 y = 0; y < h; y++) {
      png_read_row(png, rows, NULL);
      row_to_rgb(rows, channels, (int)w, rgb + (size_t)y * stride);
    }
  }
  png_destroy_read_struct(&png, &info, NULL);
  free(rows);
  free(row_ptrs);
  out->width = (int)w;
  out->height = (int)h;
  out->rgb = rgb;
  return ENS_OK;
}
