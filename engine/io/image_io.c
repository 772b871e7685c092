/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image_io.c - JPEG (libjpeg-turbo), PNM and PNG (libpng, image_png.c) decoding to packed
 * 8-bit RGB.
 *
 * JPEG: libjpeg's default decompression settings (JDCT_ISLOW, fancy upsampling), output
 * JCS_RGB, which is what PIL gets from the same library: byte-identical to
 * Image.open(f).convert('RGB') for YCbCr and grayscale JPEGs. Errors longjmp out of libjpeg
 * and become ENS_ERR_FORMAT with libjpeg's message. A truncated file (libjpeg's "Premature
 * end of JPEG file" warning, after which it would pad the picture with grey) is an error,
 * as in PIL; other corrupt-data warnings are tolerated, as PIL tolerates them. CMYK / YCCK
 * JPEGs are refused (ENS_ERR_UNSUPPORTED) rather than converted approximately.
 *
 * PNM: P2 / P3 (plain) and P5 / P6 (binary), '#' comments in the header, maxval 1..65535;
 * samples are rescaled to 8 bits as Pillow 9.4's PPM decoder does:
 * min(255, round(v / maxval * 255)) with round-half-even (maxval 255 is taken as is). A
 * plain sample above maxval is an error (Pillow raises too); binary ones saturate. Pillow
 * decodes 16-bit *gray* files to mode "I" and convert('RGB') then clips at 255; ens rescales
 * those like everything else. PBM (P1 / P4) is not supported.
 */
#include <math.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h> /* needs size_t and FILE first */
#include <jerror.h>

#include "ens.h"
#include "error.h"
#include "image_png.h"
#include "read_file.h"

#define MAX_PIXELS ((uint64_t)1 << 27)       /* 134 Mpixel, 402 MB of RGB */
#define MAX_FILE_BYTES ((uint64_t)1 << 31)   /* ens_image_load refuses bigger files */
#define JPEG_MAX_MEMORY (512L * 1024 * 1024) /* libjpeg's own buffers (progressive files) */

static const char *name_or(const char *name)
{
  return name && *name ? name : "<memory>";
}

/* ---------------------------------------------------------------- JPEG */

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
} jpeg_err;

static void jpeg_on_error(j_common_ptr cinfo)
{
  jpeg_err *e = (jpeg_err *)cinfo->err;
  cinfo->err->format_message(cinfo, e->message);
  longjmp(e->jump, 1);
}

/* Warnings (level -1) are counted as usual; running out of data is fatal. Trace messages
 * (level >= 0) are dropped; nothing is printed. */
static void jpeg_on_message(j_common_ptr cinfo, int level)
{
  if (level >= 0)
    return;
  cinfo->err->num_warnings++;
  if (cinfo->err->msg_code == JWRN_JPEG_EOF)
    jpeg_on_error(cinfo);
}

static ens_status decode_jpeg(const uint8_t *data, size_t len, const char *name, ens_rgb_image *out,
                              ens_error *err)
{
  struct jpeg_decompress_struct cinfo;
  jpeg_err jerr;
  uint8_t *volatile rgb = NULL;
  volatile ens_status code = ENS_ERR_FORMAT;

  if (len > (size_t)0xffffffffu)
    return ens_fail(err, ENS_ERR_UNSUPPORTED, "%s: JPEG data of %zu bytes is too large", name, len);
  memset(&jerr, 0, sizeof jerr);
  cinfo.err = jpeg_std_error(&jerr.pub);
  jerr.pub.error_exit = jpeg_on_error;
  jerr.pub.emit_message = jpeg_on_message;
  if (setjmp(jerr.jump)) {
    jpeg_destroy_decompress(&cinfo);
    free(rgb);
    if (code == ENS_ERR_FORMAT)
      return ens_fail(err, code, "%s: corrupt or truncated JPEG: %s", name, jerr.message);
    return ens_fail(err, code, "%s: %s", name, jerr.message);
  }
  jpeg_create_decompress(&cinfo);
  cinfo.mem->max_memory_to_use = JPEG_MAX_MEMORY;
  jpeg_mem_src(&cinfo, data, (unsigned long)len);
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    jpeg_destroy_decompress(&cinfo);
    return ens_fail(err, ENS_ERR_UNSUPPORTED, "%s: CMYK/YCCK JPEGs are not supported", name);
  }
  if (cinfo.image_width < 1 || cinfo.image_height < 1 ||
      (uint64_t)cinfo.image_width * cinfo.image_height > MAX_PIXELS) {
    jpeg_destroy_decompress(&cinfo);
    return ens_fail(err, ENS_ERR_UNSUPPORTED, "%s: JPEG of %ux%u pixels exceeds the %llu limit",
                    name, cinfo.image_width, cinfo.image_height, (unsigned long long)MAX_PIXELS);
  }
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  if (cinfo.output_components != 3) {
    jpeg_destroy_decompress(&cinfo);
    return ens_fail(err, ENS_ERR_UNSUPPORTED, "%s: JPEG decodes to %d components, not RGB", name,
                    cinfo.output_components);
  }
  size_t stride = (size_t)cinfo.output_width * 3;
  rgb = malloc(stride * cinfo.output_height);
  if (!rgb) {
    jpeg_destroy_decompress(&cinfo);
    return ens_fail(err, ENS_ERR_NOMEM, "%s: cannot allocate a %ux%u RGB image", name,
                    cinfo.output_width, cinfo.output_height);
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = rgb + (size_t)cinfo.output_scanline * stride;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  out->width = (int)cinfo.output_width;
  out->height = (int)cinfo.output_height;
  out->rgb = rgb;
  jpeg_destroy_decompress(&cinfo);
  return ENS_OK;
}

/* ---------------------------------------------------------------- PNM */

typedef struct {
  const uint8_t *p, *end;
} cursor;

static int is_space(int c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Skips whitespace and '#' comments (to end of line). */
static void skip_space_comments(cursor *c)
{
  while (c->p < c->end) {
    if (is_space(*c->p)) {
      c->p++;
    } else if (*c->p == '#') {
      while (c->p < c->end && *c->p != '\n' && *c->p != '\r')
        c->p++;
    } else {
      break;
    }
  }
}

/* Unsigned decimal token (at most 10 digits, like Pillow); -1 if absent / malformed. */
static int64_t read_number(cursor *c)
{
  skip_space_comments(c);
  int64_t v = 0;
  int digits = 0;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    if (++digits > 10)
      return -1;
    v = v * 10 + (*c->p - '0');
    c->p++;
  }
  if (!digits)
    return -1;
  if (c->p < c->end && !is_space(*c->p) && *c->p != '#')
    return -1;
  return v;
}

static uint8_t scale_sample(uint32_t v, uint32_t maxval)
{
  if (maxval == 255)
    return (uint8_t)v;
  double s = nearbyint((double)v / maxval * 255.0); /* Python: round(value / maxval * 255) */
  return s > 255.0 ? 255 : (uint8_t)s;
}

static ens_status decode_pnm(const uint8_t *data, size_t len, const char *name, ens_rgb_image *out,
                             ens_error *err)
{
  char kind = (char)data[1];
  if (kind == '1' || kind == '4')
    return ens_fail(err, ENS_ERR_UNSUPPORTED, "%s: PBM bitmaps (P%c) are not supported", name,
                    kind);
  if (kind != '2' && kind != '3' && kind != '5' && kind != '6')
    return ens_fail(err, ENS_ERR_FORMAT, "%s: unknown PNM type 'P%c'", name, kind);
  int channels = (kind == '3' || kind == '6') ? 3 : 1;
  int plain = kind == '2' || kind == '3';
  cursor c = {data + 2, data + len};
  if (c.p < c.end && !is_space(*c.p) && *c.p != '#')
    return ens_fail(err, ENS_ERR_FORMAT, "%s: malformed PNM magic", name);
  int64_t w = read_number(&c), h = read_number(&c), maxval = read_number(&c);
  if (w < 0 || h < 0 || maxval < 0)
    return ens_fail(err, ENS_ERR_FORMAT, "%s: malformed or truncated PNM header", name);
  if (w == 0 || h == 0)
    return ens_fail(err, ENS_ERR_FORMAT, "%s: PNM has zero size (%lldx%lld)", name, (long long)w,
                    (long long)h);
  if (maxval < 1 || maxval > 65535)
    return ens_fail(err, ENS_ERR_FORMAT, "%s: PNM maxval %lld is outside 1..65535", name,
                    (long long)maxval);
  if (w > INT32_MAX || h > INT32_MAX || (uint64_t)w * (uint64_t)h > MAX_PIXELS)
    return ens_fail(err, ENS_ERR_UNSUPPORTED,
                    "%s: PNM of %lldx%lld pixels exceeds the %llu pixel limit", name, (long long)w,
                    (long long)h, (unsigned long long)MAX_PIXELS);
  uint64_t samples = (uint64_t)w * (uint64_t)h * (uint64_t)channels;
  int bps = maxval < 256 ? 1 : 2;
  if (!plain) {
    /* exactly one whitespace byte separates maxval from the raster */
    if (c.p >= c.end || !is_space(*c.p))
      return ens_fail(err, ENS_ERR_FORMAT, "%s: PNM header is not followed by whitespace", name);
    c.p++;
    if ((uint64_t)(c.end - c.p) < samples * (uint64_t)bps)
      return ens_fail(err, ENS_ERR_FORMAT,
                      "%s: truncated PNM: %lldx%lld needs %llu bytes of samples, %zu present", name,
                      (long long)w, (long long)h, (unsigned long long)(samples * (uint64_t)bps),
                      (size_t)(c.end - c.p));
  } else if ((uint64_t)(c.end - c.p) < samples) {
    /* each plain sample needs a digit and a separator: cheap early rejection */
    return ens_fail(err, ENS_ERR_FORMAT, "%s: truncated PNM: %llu samples cannot fit in %zu bytes",
                    name, (unsigned long long)samples, (size_t)(c.end - c.p));
  }
  uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
  if (!rgb)
    return ens_fail(err, ENS_ERR_NOMEM, "%s: cannot allocate a %lldx%lld RGB image", name,
                    (long long)w, (long long)h);
  size_t npix = (size_t)w * (size_t)h;
  for (size_t i = 0; i < npix; i++) {
    for (int ch = 0; ch < channels; ch++) {
      uint32_t v;
      if (plain) {
        int64_t t = read_number(&c);
        if (t < 0) {
          free(rgb);
          return ens_fail(err, ENS_ERR_FORMAT, "%s: PNM sample %zu is missing or malformed", name,
                          i * channels + ch);
        }
        if (t > maxval) {
          free(rgb);
          return ens_fail(err, ENS_ERR_FORMAT, "%s: PNM sample %lld exceeds maxval %lld", name,
                          (long long)t, (long long)maxval);
        }
        v = (uint32_t)t;
      } else if (bps == 1) {
        v = *c.p++;
      } else {
        v = (uint32_t)c.p[0] << 8 | c.p[1];
        c.p += 2;
      }
      if (v > (uint32_t)maxval)
        v = (uint32_t)maxval; /* binary: Pillow's min(out_max, ...) saturates */
      uint8_t s = scale_sample(v, (uint32_t)maxval);
      if (channels == 1)
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = s;
      else
        rgb[3 * i + ch] = s;
    }
  }
  out->width = (int)w;
  out->height = (int)h;
  out->rgb = rgb;
  return ENS_OK;
}

/* ---------------------------------------------------------------- API */

ens_status ens_image_decode(const uint8_t *data, size_t len, const char *name_for_errors,
                            ens_rgb_image *out, ens_error *err)
{
  const char *name = name_or(name_for_errors);
  if (!out)
    return ens_fail(err, ENS_ERR_ARG, "%s: output image is NULL", name);
  out->width = out->height = 0;
  out->rgb = NULL;
  if (!data && len)
    return ens_fail(err, ENS_ERR_ARG, "%s: data is NULL", name);
  if (len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
    return decode_jpeg(data, len, name, out, err);
  if (len >= 2 && data[0] == 'P' && data[1] >= '1' && data[1] <= '7')
    return decode_pnm(data, len, name, out, err);
  if (len >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0)
    return ens_decode_png(data, len, name, MAX_PIXELS, out, err);
  return ens_fail(err, ENS_ERR_FORMAT, "%s: not a JPEG, PNG or PNM image (%zu bytes)", name, len);
}

ens_status ens_image_load(const char *path, ens_rgb_image *out, ens_error *err)
{
  if (!path || !out)
    return ens_fail(err, ENS_ERR_ARG, "ens_image_load: NULL argument");
  out->width = out->height = 0;
  out->rgb = NULL;
  char *buf = NULL;
  size_t len = 0;
  ens_status st =
      ens_read_file(path, MAX_FILE_BYTES, ENS_ERR_UNSUPPORTED, "image", &buf, &len, err);
  if (st != ENS_OK)
    return st;
  st = ens_image_decode((const uint8_t *)buf, len, path, out, err);
  free(buf);
  return st;
}

void ens_rgb_image_free(ens_rgb_image *img)
{
  if (!img)
    return;
  free(img->rgb);
  img->rgb = NULL;
  img->width = img->height = 0;
}

ens_image ens_rgb_image_view(const ens_rgb_image *img)
{
  ens_image v;
  memset(&v, 0, sizeof v);
  v.format = ENS_PIXEL_RGB;
  if (img) {
    v.width = img->width;
    v.height = img->height;
    v.planes[0] = img->rgb;
    v.strides[0] = img->width * 3;
  }
  return v;
}
