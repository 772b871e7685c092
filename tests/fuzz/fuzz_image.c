/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz_image.c - libFuzzer target: ens_image_decode on arbitrary bytes (JPEG via libjpeg-turbo,
 * PNG via libpng, PNM). Any status is fine; crashes, leaks, sanitizer reports and an inconsistent
 * result (success without pixels, failure with pixels) are not. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ens.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ens_rgb_image im;
  ens_error err;
  ens_status st = ens_image_decode(data, size, "fuzz", &im, &err);
  if (st == ENS_OK) {
    if (!im.rgb || im.width < 1 || im.height < 1)
      abort();
    /* touch every byte: catches short allocations under ASan */
    volatile unsigned sum = 0;
    for (size_t i = 0; i < (size_t)im.width * im.height * 3; i++)
      sum += im.rgb[i];
    (void)sum;
    ens_rgb_image_free(&im);
  } else if (im.rgb || !err.message[0]) {
    abort();
  }
  return 0;
}
