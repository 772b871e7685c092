/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pp_tool.c - command-line access to the resampler and ens_preprocess for
 * test_pil_crosscheck.py, which compares them with Pillow / torchvision themselves.
 *
 *   pp_tool resize IN_W IN_H OUT_W OUT_H bicubic|bilinear IN.rgb OUT.rgb [X Y W H]
 *   pp_tool preprocess IN_W IN_H OUT_H OUT_W CROP_PCT default|bicubic|bilinear IN.rgb OUT.f32
 *   pp_tool decode IMAGE OUT.rgb          (prints "WIDTH HEIGHT")
 *
 * IN.rgb is tightly packed RGB; OUT.rgb the (window of the) resized image; OUT.f32 float32
 * CHW with ImageNet mean/std. Exit 0 on success, 1 with a message otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preprocess_internal.h"
#include "resize_pil.h"

static uint8_t *read_all(const char *path, size_t want)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  uint8_t *b = malloc(want ? want : 1);
  size_t got = b ? fread(b, 1, want, f) : 0;
  fclose(f);
  if (got != want) {
    free(b);
    return NULL;
  }
  return b;
}

static int write_all(const char *path, const void *data, size_t n)
{
  FILE *f = fopen(path, "wb");
  if (!f)
    return 0;
  int ok = fwrite(data, 1, n, f) == n;
  return fclose(f) == 0 && ok;
}

static int usage(void)
{
  fprintf(stderr, "usage: pp_tool resize IN_W IN_H OUT_W OUT_H FILTER IN OUT [X Y W H]\n"
                  "       pp_tool preprocess IN_W IN_H OUT_H OUT_W CROP_PCT INTERP IN OUT\n"
                  "       pp_tool decode IMAGE OUT\n");
  return 1;
}

int main(int argc, char **argv)
{
  ens_error err = {0};
  if (argc >= 9 && strcmp(argv[1], "resize") == 0) {
    int iw = atoi(argv[2]), ih = atoi(argv[3]), ow = atoi(argv[4]), oh = atoi(argv[5]);
    ens_pil_filter f = strcmp(argv[6], "bilinear") == 0 ? ENS_PIL_BILINEAR : ENS_PIL_BICUBIC;
    ens_rect win = {0, 0, ow, oh};
    if (argc >= 13)
      win = (ens_rect){atoi(argv[9]), atoi(argv[10]), atoi(argv[11]), atoi(argv[12])};
    uint8_t *in = read_all(argv[7], (size_t)iw * ih * 3);
    if (!in)
      return fprintf(stderr, "cannot read %s\n", argv[7]), 1;
    size_t n = (size_t)win.width * win.height * 3;
    uint8_t *out = malloc(n);
    if (ens_pil_resize_alloc(in, iw, ih, (size_t)iw * 3, ow, oh, &win, f, out,
                             (size_t)win.width * 3, &err) != ENS_OK)
      return fprintf(stderr, "%s\n", err.message), 1;
    int ok = write_all(argv[8], out, n);
    free(in);
    free(out);
    return ok ? 0 : 1;
  }
  if (argc == 10 && strcmp(argv[1], "preprocess") == 0) {
    int iw = atoi(argv[2]), ih = atoi(argv[3]);
    ens_preprocess_params p = {.out_height = atoi(argv[4]),
                               .out_width = atoi(argv[5]),
                               .crop_pct = strtof(argv[6], NULL),
                               .mean = {0.485f, 0.456f, 0.406f},
                               .std = {0.229f, 0.224f, 0.225f}};
    p.interpolation = strcmp(argv[7], "bicubic") == 0    ? ENS_INTERP_BICUBIC
                      : strcmp(argv[7], "bilinear") == 0 ? ENS_INTERP_BILINEAR
                                                         : ENS_INTERP_DEFAULT;
    uint8_t *in = read_all(argv[8], (size_t)iw * ih * 3);
    if (!in)
      return fprintf(stderr, "cannot read %s\n", argv[8]), 1;
    ens_image img = {
        .format = ENS_PIXEL_RGB, .width = iw, .height = ih, .planes = {in}, .strides = {iw * 3}};
    size_t n = (size_t)3 * p.out_height * p.out_width;
    float *out = malloc(n * sizeof(float));
    if (ens_preprocess(&p, &img, NULL, out, &err) != ENS_OK)
      return fprintf(stderr, "%s\n", err.message), 1;
    int ok = write_all(argv[9], out, n * sizeof(float));
    free(in);
    free(out);
    return ok ? 0 : 1;
  }
  if (argc == 4 && strcmp(argv[1], "decode") == 0) {
    ens_rgb_image im;
    if (ens_image_load(argv[2], &im, &err) != ENS_OK)
      return fprintf(stderr, "%s\n", err.message), 1;
    int ok = write_all(argv[3], im.rgb, (size_t)im.width * im.height * 3);
    printf("%d %d\n", im.width, im.height);
    ens_rgb_image_free(&im);
    return ok ? 0 : 1;
  }
  return usage();
}
