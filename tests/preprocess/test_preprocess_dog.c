/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_preprocess_dog.c - timm's eval transform on the dog photo, step by step, against
 * goldens/dog_b0 and dog_b3 (made by Pillow 9.4 + torchvision), starting from
 * dog_decoded.rgb_u8 so that the decoder is not under test here. Everything must be exact. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"
#include "preprocess_internal.h"

static int count_u8_diff(const uint8_t *a, const uint8_t *b, size_t n, int *maxd)
{
  int cnt = 0;
  *maxd = 0;
  for (size_t i = 0; i < n; i++) {
    int d = abs((int)a[i] - (int)b[i]);
    if (d) {
      cnt++;
      if (d > *maxd)
        *maxd = d;
    }
  }
  return cnt;
}

static void check_variant(const ens_image *img, const char *file, int size, float crop_pct)
{
  const char *path = ens_test_shared_path(file);
  char *gpath = strdup(path);
  ens_preprocess_params p = {
      .out_height = size,
      .out_width = size,
      .crop_pct = crop_pct,
      .interpolation = ENS_INTERP_BICUBIC,
      .mean = {0.485f, 0.456f, 0.406f},
      .std = {0.229f, 0.224f, 0.225f},
  };
  ens_error err;

  /* resized_u8 */
  int64_t shape[4];
  size_t n;
  uint8_t *want_r = ens_test_load_u8(gpath, "resized_u8", &n, shape);
  uint8_t *got_r = NULL;
  int rw = 0, rh = 0;
  CHECK_OK(ens_preprocess_resized_u8(&p, img, NULL, &got_r, &rw, &rh, &err), &err);
  CHECK(rh == shape[0] && rw == shape[1], "%s resized %dx%d, golden %lldx%lld", file, rw, rh,
        (long long)shape[1], (long long)shape[0]);
  if (rh == shape[0] && rw == shape[1]) {
    int maxd, cnt = count_u8_diff(got_r, want_r, n, &maxd);
    printf("%s resized_u8 %dx%d: %d bytes differ, max|diff| %d\n", file, rw, rh, cnt, maxd);
    CHECK(cnt == 0, "%s resized_u8 differs", file);
  }

  /* cropped_u8 (computed through the windowed path, not by cropping got_r) */
  uint8_t *want_c = ens_test_load_u8(gpath, "cropped_u8", &n, shape);
  CHECK(n == (size_t)size * size * 3, "%s cropped size", file);
  uint8_t *got_c = malloc(n);
  CHECK_OK(ens_preprocess_cropped_u8(&p, img, NULL, got_c, &err), &err);
  int maxd, cnt = count_u8_diff(got_c, want_c, n, &maxd);
  printf("%s cropped_u8 %dx%d: %d bytes differ, max|diff| %d\n", file, size, size, cnt, maxd);
  CHECK(cnt == 0, "%s cropped_u8 differs", file);

  /* input: float32 CHW, bit-exact */
  float *want_x = ens_test_load_f32(gpath, "input", &n, NULL);
  CHECK(n == (size_t)3 * size * size, "%s input size", file);
  float *got_x = malloc(n * sizeof(float));
  CHECK_OK(ens_preprocess(&p, img, NULL, got_x, &err), &err);
  size_t bits_differ = 0;
  for (size_t i = 0; i < n; i++)
    bits_differ += memcmp(&got_x[i], &want_x[i], sizeof(float)) != 0;
  double d = ens_test_max_abs_diff(got_x, want_x, n);
  printf("%s input: %zu of %zu floats differ in bits, max|diff| %g\n", file, bits_differ, n, d);
  CHECK(bits_differ == 0, "%s input not bit-exact", file);

  free(want_r);
  free(got_r);
  free(want_c);
  free(got_c);
  free(want_x);
  free(got_x);
  free(gpath);
}

int main(void)
{
  char *dec = strdup(ens_test_shared_path("goldens/dog_decoded.safetensors"));
  int64_t shape[4];
  size_t n;
  uint8_t *rgb = ens_test_load_u8(dec, "rgb_u8", &n, shape);
  ens_image img = {.format = ENS_PIXEL_RGB,
                   .width = (int)shape[1],
                   .height = (int)shape[0],
                   .planes = {rgb},
                   .strides = {(int)shape[1] * 3}};
  check_variant(&img, "goldens/dog_b0.safetensors", 224, 0.875f);
  check_variant(&img, "goldens/dog_b3.safetensors", 300, 0.904f);
  free(rgb);
  free(dec);
  return ens_test_finish("test_preprocess_dog");
}
