/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* scale_channels_ref.c - reference channel scaling (kernels.h). */
#include "kernels.h"

void ens_scale_channels_ref(float *x, size_t stride, int rows, const float *s, int c0, int c1)
{
  assert(x && s && rows >= 0 && 0 <= c0 && c0 <= c1 && (size_t)c1 <= stride);
  for (int r = 0; r < rows; r++, x += stride)
    for (int c = c0; c < c1; c++)
      x[c] *= s[c];
}
