/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pointwise_pack.c - the column-panel layout of 1x1 convolution weights (kernels.h). */
#include "kernels.h"

void ens_pw_pack(const float *w, int cin, int cout, float *dst)
{
  const int padded = (int)(ens_pw_packed_floats(cin, cout) / (cin > 0 ? (size_t)cin : 1));
  for (int k = 0; k < cin; k++)
    for (int c = 0; c < padded; c++)
      dst[ens_pw_index(cin, k, c)] = c < cout ? w[(size_t)k * cout + c] : 0.0f;
}
