/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_random_variant.c - a random-weights model of a big variant stays finite with a sane
 * logit spread (the GAIN scaling of the identity-skip blocks' last conv).
 * Usage: test_random_variant <variant> [input size]. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"

int main(int argc, char **argv)
{
  if (argc < 2)
    return 2;
  ens_options o;
  ens_options_init(&o);
  if (argc > 2)
    o.input_height = o.input_width = atoi(argv[2]);
  ens_error err;
  ens_model *m = NULL;
  CHECK_OK(ens_model_new_random(argv[1], 1000, 1, &o, &m, &err), &err);
  const ens_model_info *in = ens_model_get_info(m);
  const size_t n = (size_t)3 * in->input_height * in->input_width;
  float *x = malloc(sizeof(float) * n), *l = malloc(sizeof(float) * 1000);
  uint64_t s = 99;
  for (size_t i = 0; i < n; i++) { /* uniform [-2, 2): a normalised-image-like range */
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x[i] = (float)((double)(s >> 11) * 0x1.0p-53 * 4.0 - 2.0);
  }
  CHECK_OK(ens_model_forward(m, x, 1, l, NULL, &err), &err);
  int finite;
  const double sd = ens_test_std(l, 1000, &finite);
  printf("random %s @%d: logits std %.3f, %.1f GFLOP\n", argv[1], in->input_height, sd, in->gflops);
  CHECK(finite && sd > 0.05 && sd < 1000, "logits finite %d, std %g", finite, sd);
  free(x);
  free(l);
  ens_model_free(m);
  return ens_test_finish("random_variant");
}
