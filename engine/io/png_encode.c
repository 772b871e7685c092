/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* png_encode.c - see png_encode.h. libpng reports errors by longjmp: everything that must be
 * freed afterwards lives in a struct reached through a pointer that does not change after
 * setjmp. */
#include "png_encode.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

typedef struct {
  uint8_t *data;
  size_t size, cap;
  int nomem;
  char message[200];
} png_sink;

static void on_error(png_structp png, png_const_charp msg)
{
  png_sink *s = png_get_error_ptr(png);
  snprintf(s->message, sizeof s->message, "%s", msg);
  png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
  (void)png;
  (void)msg;
}

static void on_write(png_structp png, png_bytep data, png_size_t len)
{
  png_sink *s = png_get_io_ptr(png);
  if (len > s->cap - s->size) {
    size_t cap = s->cap ? s->cap : 4096;
    while (cap - s->size < len) {
      if (cap > SIZE_MAX / 2) {
        s->nomem = 1;
        png_error(png, "PNG too large");
      }
      cap *= 2;
    }
    uint8_t *p = realloc(s->data, cap);
    if (!p) {
      s->nomem = 1;
      png_error(png, "out of memory");
    }
    s->data = p;
    s->cap = cap;
  }
  memcpy(s->data + s->size, data, len);
  s->size += len;
}

static void on_flush(png_structp png)
{
  (void)png;
}

ens_status ens_png_encode(const uint8_t *pixels, int w, int h, int c, const char *name,
                          uint8_t **out, size_t *size, ens_error *err)
{
  *out = NULL;
  *size = 0;
  if (!pixels || w < 1 || h < 1 || (c != 1 && c != 3))
    return ens_fail(err, ENS_ERR_ARG, "%s: cannot encode a %dx%dx%d picture", name, w, h, c);
  png_sink *sink = calloc(1, sizeof *sink);
  if (!sink)
    return ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory for the PNG encoder", name);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, sink, on_error, on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!png || !info) {
    png_destroy_write_struct(&png, &info);
    free(sink);
    return ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory for the PNG encoder", name);
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    ens_status st = ens_fail(err, sink->nomem ? ENS_ERR_NOMEM : ENS_ERR_IO,
                             "%s: cannot encode PNG: %s", name, sink->message);
    free(sink->data);
    free(sink);
    return st;
  }
  png_set_write_fn(png, sink, on_write, on_flush);
  png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8,
               c == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < h; y++)
    png_write_row(png, pixels + (size_t)y * (size_t)w * (size_t)c);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  *out = sink->data;
  *size = sink->size;
  free(sink);
  return ENS_OK;
}
