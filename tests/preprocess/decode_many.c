/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decode_many.c - ens_image_load on many files in one process (test_png_pil.py: hundreds of
 * files, where one process per file is too slow under the sanitizers).
 *
 *   decode_many FILE...   for each FILE: writes FILE.rgb and prints "ok W H", or prints
 *                         "err MESSAGE"; one line per file, in order. Exit 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ens.h"

int main(int argc, char **argv)
{
  for (int i = 1; i < argc; i++) {
    ens_rgb_image im;
    ens_error err = {0};
    if (ens_image_load(argv[i], &im, &err) != ENS_OK) {
      printf("err %s\n", err.message);
      continue;
    }
    size_t n = (size_t)im.width * (size_t)im.height * 3, len = strlen(argv[i]);
    char *out = malloc(len + 5);
    memcpy(out, argv[i], len);
    memcpy(out + len, ".rgb", 5);
    FILE *f = fopen(out, "wb");
    int ok = f && fwrite(im.rgb, 1, n, f) == n;
    if (f)
      ok &= fclose(f) == 0;
    printf(ok ? "ok %d %d\n" : "err cannot write %d %d\n", im.width, im.height);
    free(out);
    ens_rgb_image_free(&im);
  }
  return 0;
}
