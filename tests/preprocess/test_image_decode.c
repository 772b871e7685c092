/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_image_decode.c - JPEG / PNM decoding and bad files.
 *
 *   test_image_decode unit   JPEGs made here with libjpeg, PNM cases, corrupt input
 *   test_image_decode dog    data/dog.jpg against goldens/dog_decoded (PIL's decode), exact;
 *                            truncations of it
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "ens_test.h"

/* ------------------------------------------------------------ helpers */

static void expect_fail(const char *what, const uint8_t *data, size_t len, ens_status want,
                        const char *needle)
{
  ens_rgb_image im = {1, 1, (uint8_t *)1};
  ens_error err = {0};
  ens_status st = ens_image_decode(data, len, what, &im, &err);
  CHECK(st == want, "%s: status %s (%s), want %s", what, ens_status_name(st), err.message,
        ens_status_name(want));
  CHECK(im.rgb == NULL && im.width == 0, "%s: output not cleared on failure", what);
  CHECK(strstr(err.message, what) != NULL, "%s: message '%s' does not name the input", what,
        err.message);
  if (needle)
    CHECK(strstr(err.message, needle) != NULL, "%s: message '%s' lacks '%s'", what, err.message,
          needle);
  printf("  %-28s -> %s: %s\n", what, ens_status_name(st), err.message);
  if (st == ENS_OK)
    ens_rgb_image_free(&im);
}

static uint8_t *encode_jpeg(const uint8_t *pix, int w, int h, int comps, J_COLOR_SPACE cs,
                            int progressive, size_t *len)
{
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);
  unsigned char *buf = NULL;
  unsigned long n = 0;
  jpeg_mem_dest(&c, &buf, &n);
  c.image_width = (JDIMENSION)w;
  c.image_height = (JDIMENSION)h;
  c.input_components = comps;
  c.in_color_space = cs;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 90, TRUE);
  if (progressive)
    jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = (JSAMPROW)(pix + (size_t)c.next_scanline * w * comps);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  *len = n;
  return buf;
}

/* libjpeg's own decode with default settings into RGB (the behaviour ens must reproduce) */
static uint8_t *plain_decode(const uint8_t *data, size_t len, int *w, int *h)
{
  struct jpeg_decompress_struct d;
  struct jpeg_error_mgr e;
  d.err = jpeg_std_error(&e);
  jpeg_create_decompress(&d);
  jpeg_mem_src(&d, data, (unsigned long)len);
  jpeg_read_header(&d, TRUE);
  d.out_color_space = JCS_RGB;
  jpeg_start_decompress(&d);
  *w = (int)d.output_width, *h = (int)d.output_height;
  uint8_t *out = malloc((size_t)*w * *h * 3);
  while (d.output_scanline < d.output_height) {
    JSAMPROW row = out + (size_t)d.output_scanline * *w * 3;
    jpeg_read_scanlines(&d, &row, 1);
  }
  jpeg_finish_decompress(&d);
  jpeg_destroy_decompress(&d);
  return out;
}

static void check_jpeg_roundtrip(const char *what, const uint8_t *jpg, size_t len)
{
  int w, h;
  uint8_t *want = plain_decode(jpg, len, &w, &h);
  ens_rgb_image im;
  ens_error err;
  CHECK_OK(ens_image_decode(jpg, len, what, &im, &err), &err);
  CHECK(im.width == w && im.height == h, "%s: size %dx%d, want %dx%d", what, im.width, im.height, w,
        h);
  CHECK(memcmp(im.rgb, want, (size_t)w * h * 3) == 0, "%s: pixels differ from libjpeg", what);
  ens_image v = ens_rgb_image_view(&im);
  CHECK(v.format == ENS_PIXEL_RGB && v.width == w && v.strides[0] == 3 * w && v.planes[0] == im.rgb,
        "%s: view", what);
  ens_rgb_image_free(&im);
  CHECK(im.rgb == NULL, "free clears");
  free(want);
}

/* ------------------------------------------------------------ JPEG (made here) */

static void test_jpeg_unit(void)
{
  const int w = 67, h = 45;
  uint8_t *rgb = malloc((size_t)w * h * 3), *gray = malloc((size_t)w * h),
          *cmyk = malloc((size_t)w * h * 4);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      uint8_t *p = rgb + ((size_t)y * w + x) * 3;
      p[0] = (uint8_t)(x * 3), p[1] = (uint8_t)(y * 5), p[2] = (uint8_t)((x * y) & 255);
      gray[(size_t)y * w + x] = (uint8_t)(x + y * 2);
      memset(cmyk + ((size_t)y * w + x) * 4, (x * 7) & 255, 4);
    }
  size_t len, glen, plen, clen;
  uint8_t *jpg = encode_jpeg(rgb, w, h, 3, JCS_RGB, 0, &len);
  uint8_t *gjpg = encode_jpeg(gray, w, h, 1, JCS_GRAYSCALE, 0, &glen);
  uint8_t *pjpg = encode_jpeg(rgb, w, h, 3, JCS_RGB, 1, &plen);
  uint8_t *cjpg = encode_jpeg(cmyk, w, h, 4, JCS_CMYK, 0, &clen);
  check_jpeg_roundtrip("baseline.jpg", jpg, len);
  check_jpeg_roundtrip("gray.jpg", gjpg, glen);
  check_jpeg_roundtrip("progressive.jpg", pjpg, plen);
  /* grayscale comes out as R = G = B */
  ens_rgb_image im;
  ens_error err;
  CHECK_OK(ens_image_decode(gjpg, glen, "gray.jpg", &im, &err), &err);
  int grey_ok = 1;
  for (size_t i = 0; i < (size_t)w * h; i++)
    grey_ok &= im.rgb[3 * i] == im.rgb[3 * i + 1] && im.rgb[3 * i] == im.rgb[3 * i + 2];
  CHECK(grey_ok, "grayscale JPEG not replicated to RGB");
  ens_rgb_image_free(&im);

  printf("bad JPEGs:\n");
  expect_fail("cmyk.jpg", cjpg, clen, ENS_ERR_UNSUPPORTED, "CMYK");
  expect_fail("truncated-half.jpg", jpg, len / 2, ENS_ERR_FORMAT, "Premature end");
  expect_fail("truncated-prog.jpg", pjpg, plen * 2 / 3, ENS_ERR_FORMAT, "Premature end");
  expect_fail("truncated-header.jpg", jpg, 40, ENS_ERR_FORMAT, NULL);
  expect_fail("soi-only.jpg", jpg, 3, ENS_ERR_FORMAT, NULL);
  uint8_t *junk = malloc(len);
  memcpy(junk, jpg, 3);
  for (size_t i = 3; i < len; i++)
    junk[i] = (uint8_t)(i * 131 + 7);
  expect_fail("garbage-after-soi.jpg", junk, len, ENS_ERR_FORMAT, NULL);
  free(junk);
  /* flipped bits in the entropy-coded data: decodes or fails, never crashes */
  uint8_t *flip = malloc(len);
  for (size_t pos = len / 3; pos < len; pos += len / 7) {
    memcpy(flip, jpg, len);
    flip[pos] ^= 0x5a;
    ens_rgb_image fi;
    if (ens_image_decode(flip, len, "flipped.jpg", &fi, &err) == ENS_OK)
      ens_rgb_image_free(&fi);
  }
  free(flip);
  free(jpg), free(gjpg), free(pjpg), free(cjpg), free(rgb), free(gray), free(cmyk);
}

/* ------------------------------------------------------------ PNM */

static ens_rgb_image decode_ok(const char *what, const void *data, size_t len)
{
  ens_rgb_image im = {0, 0, NULL};
  ens_error err;
  if (ens_image_decode(data, len, what, &im, &err) != ENS_OK) {
    fprintf(stderr, "%s: %s\n", what, err.message);
    ens_test_failures++;
  }
  return im;
}

static void test_pnm(void)
{
  /* P6 with comments, exact bytes */
  static const char p6[] = "P6\n# a comment\n3 2 # trailing\n255\n"
                           "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11"
                           "\x12";
  ens_rgb_image im = decode_ok("p6", p6, sizeof p6 - 1);
  CHECK(im.width == 3 && im.height == 2 && im.rgb && im.rgb[0] == 1 && im.rgb[17] == 18,
        "P6 decode");
  ens_rgb_image_free(&im);

  /* P5 gray -> R = G = B */
  static const char p5[] = "P5 2 2 255\n\x00\x40\x80\xff";
  im = decode_ok("p5", p5, sizeof p5 - 1);
  CHECK(im.width == 2 && im.rgb && im.rgb[3] == 0x40 && im.rgb[4] == 0x40 && im.rgb[11] == 0xff,
        "P5 decode");
  ens_rgb_image_free(&im);

  /* plain P3 / P2, maxval rescaling round(v / maxval * 255), half to even */
  static const char p3[] = "P3\n# c\n2 1\n1000\n0 500 1000  999 1 # end\n250\n";
  im = decode_ok("p3", p3, sizeof p3 - 1);
  /* 500/1000*255 = 127.5 -> 128 (even); 999 -> 254.745 -> 255; 1 -> 0.255 -> 0; 250 -> 63.75 */
  CHECK(im.rgb && im.rgb[0] == 0 && im.rgb[1] == 128 && im.rgb[2] == 255 && im.rgb[3] == 255 &&
            im.rgb[4] == 0 && im.rgb[5] == 64,
        "P3 maxval 1000: %d %d %d %d %d %d", im.rgb ? im.rgb[0] : -1, im.rgb ? im.rgb[1] : -1,
        im.rgb ? im.rgb[2] : -1, im.rgb ? im.rgb[3] : -1, im.rgb ? im.rgb[4] : -1,
        im.rgb ? im.rgb[5] : -1);
  ens_rgb_image_free(&im);
  static const char p2[] = "P2 3 1 1\n0 1 1\n";
  im = decode_ok("p2", p2, sizeof p2 - 1);
  CHECK(im.rgb && im.rgb[0] == 0 && im.rgb[3] == 255 && im.rgb[8] == 255, "P2 maxval 1");
  ens_rgb_image_free(&im);
  static const char p5_15[] = "P5 3 1 15\n\x00\x07\x0f";
  im = decode_ok("p5-15", p5_15, sizeof p5_15 - 1);
  CHECK(im.rgb && im.rgb[3] == 119 && im.rgb[6] == 255, "P5 maxval 15: 7 -> %d",
        im.rgb ? im.rgb[3] : -1);
  ens_rgb_image_free(&im);
  /* 16-bit big-endian; 65535 scale: v = 257 k -> k; a binary sample above maxval saturates */
  static const char p6_16[] = "P6 2 1 65535\n\x00\x00\x80\x80\xff\xff\x01\x01\x64\x64\x02\x02";
  im = decode_ok("p6-16", p6_16, sizeof p6_16 - 1);
  CHECK(im.rgb && im.rgb[0] == 0 && im.rgb[1] == 128 && im.rgb[2] == 255 && im.rgb[3] == 1 &&
            im.rgb[4] == 100 && im.rgb[5] == 2,
        "P6 16-bit");
  ens_rgb_image_free(&im);
  static const char p5_sat[] = "P5 2 1 100\n\x64\xc8";
  im = decode_ok("p5-saturate", p5_sat, sizeof p5_sat - 1);
  CHECK(im.rgb && im.rgb[0] == 255 && im.rgb[3] == 255, "binary sample above maxval");
  ens_rgb_image_free(&im);

  printf("bad PNMs:\n");
  static const struct {
    const char *name, *data;
    ens_status st;
    const char *needle;
  } bad[] = {
      {"zero-size.ppm", "P6 0 0 255\n", ENS_ERR_FORMAT, "zero size"},
      {"zero-width.pgm", "P5 0 7 255\n", ENS_ERR_FORMAT, "zero size"},
      {"huge.ppm", "P6 100000 100000 255\n\x01\x02", ENS_ERR_UNSUPPORTED, "limit"},
      {"huge-digits.ppm", "P6 99999999999 2 255\n", ENS_ERR_FORMAT, "header"},
      {"short-data.ppm", "P6 100 100 255\n\x01\x02\x03", ENS_ERR_FORMAT, "truncated"},
      {"short-16.pgm", "P5 2 2 65535\n\x01\x02\x03\x04\x05\x06", ENS_ERR_FORMAT, "truncated"},
      {"maxval0.pgm", "P5 1 1 0\n\x00", ENS_ERR_FORMAT, "maxval"},
      {"maxval70000.pgm", "P5 1 1 70000\n\x00\x00", ENS_ERR_FORMAT, "maxval"},
      {"no-maxval.ppm", "P6 2 2", ENS_ERR_FORMAT, "header"},
      {"letters.ppm", "P6 abc 2 255\n", ENS_ERR_FORMAT, "header"},
      {"negative.pgm", "P2 -3 2 255\n", ENS_ERR_FORMAT, "header"},
      {"no-space.ppm", "P6 1 1 255", ENS_ERR_FORMAT, "whitespace"},
      {"plain-over-max.pgm", "P2 2 1 10\n3 11\n", ENS_ERR_FORMAT, "exceeds maxval"},
      {"plain-short.ppm", "P3 2 1 255\n1 2 3 4 5\n", ENS_ERR_FORMAT, NULL},
      {"plain-junk.pgm", "P2 2 1 255\n1 x\n", ENS_ERR_FORMAT, "malformed"},
      {"pbm.pbm", "P1 1 1\n1\n", ENS_ERR_UNSUPPORTED, "PBM"},
      {"pam.pam", "P7\nWIDTH 1\n", ENS_ERR_FORMAT, NULL},
      {"bad-magic.ppm", "P6x 1 1 255\n\x00\x00\x00", ENS_ERR_FORMAT, NULL},
      {"png.png", "\x89PNG\r\n\x1a\n\x00\x00", ENS_ERR_FORMAT, "truncated PNG"},
      {"garbage.bin", "hello, world", ENS_ERR_FORMAT, "not a JPEG, PNG or PNM"},
      {"empty.bin", "", ENS_ERR_FORMAT, NULL},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t len = strlen(bad[i].data);
    if (strcmp(bad[i].name, "png.png") == 0)
      len = 10;
    expect_fail(bad[i].name, (const uint8_t *)bad[i].data, len, bad[i].st, bad[i].needle);
  }
  /* API misuse */
  ens_error err;
  CHECK(ens_image_decode(NULL, 5, "x", &im, &err) == ENS_ERR_ARG, "NULL data");
  CHECK(ens_image_decode((const uint8_t *)"P6", 2, "x", NULL, &err) == ENS_ERR_ARG, "NULL out");
  CHECK(ens_image_load("/nonexistent/dir/img.jpg", &im, &err) == ENS_ERR_IO &&
            strstr(err.message, "/nonexistent/dir/img.jpg"),
        "missing file: %s", err.message);
  CHECK(ens_image_load("/", &im, &err) != ENS_OK, "directory accepted");
  printf("  directory: %s\n", err.message);
}

/* ------------------------------------------------------------ dog.jpg vs PIL's decode */

static void test_dog(void)
{
  char *jpg_path = strdup(ens_test_shared_path("data/dog.jpg"));
  char *gold = strdup(ens_test_shared_path("goldens/dog_decoded.safetensors"));
  int64_t shape[4];
  size_t n;
  uint8_t *want = ens_test_load_u8(gold, "rgb_u8", &n, shape);
  ens_rgb_image im;
  ens_error err;
  CHECK_OK(ens_image_load(jpg_path, &im, &err), &err);
  CHECK(im.height == shape[0] && im.width == shape[1], "dog size %dx%d", im.width, im.height);
  size_t differ = 0;
  int maxd = 0;
  if (im.height == shape[0] && im.width == shape[1])
    for (size_t i = 0; i < n; i++) {
      int d = abs(im.rgb[i] - want[i]);
      differ += d != 0;
      maxd = d > maxd ? d : maxd;
    }
  printf("dog.jpg %dx%d vs PIL decode: %zu of %zu bytes differ, max|diff| %d\n", im.width,
         im.height, differ, n, maxd);
  CHECK(differ == 0, "dog.jpg decode is not byte-identical to PIL's");
  ens_rgb_image_free(&im);

  /* truncations of the real file: always an error naming the file, never a grey picture */
  size_t len;
  uint8_t *buf = (uint8_t *)ens_test_read_file(jpg_path, &len);
  CHECK_OK(ens_image_decode(buf, len, "dog.jpg", &im, &err), &err);
  CHECK(memcmp(im.rgb, want, n) == 0, "decode from memory differs");
  ens_rgb_image_free(&im);
  printf("truncated dog.jpg:\n");
  const double fracs[] = {0.05, 0.5, 0.99};
  for (int i = 0; i < 3; i++) {
    char name[64];
    snprintf(name, sizeof name, "dog.jpg[:%ld]", (long)(len * fracs[i]));
    expect_fail(name, buf, (size_t)(len * fracs[i]), ENS_ERR_FORMAT, "Premature end");
  }
  expect_fail("dog.jpg[:-2]", buf, len - 2, ENS_ERR_FORMAT, "Premature end");
  free(buf);
  free(want);
  free(gold);
  free(jpg_path);
}

int main(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "dog") == 0) {
    test_dog();
    return ens_test_finish("test_image_decode dog");
  }
  test_jpeg_unit();
  test_pnm();
  return ens_test_finish("test_image_decode");
}
