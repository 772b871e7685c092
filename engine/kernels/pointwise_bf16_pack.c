/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pointwise_bf16_pack.c - the bf16 pair layout of 1x1 convolution weights (kernels.h):
 * rounding float32 to bf16 and packing a column-panel matrix into pairs of input channels. */
#include <string.h>

#include "kernels.h"

uint16_t ens_f32_to_bf16(float x)
{
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) /* NaN: keep it a (quiet) NaN */
    return (uint16_t)((u >> 16) | 0x40);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

size_t ens_bf16_packed_size(int cin, int cout)
{
  return (size_t)((cin + 1) / 2) * ((cout + 15) & ~15) * 2;
}

void ens_bf16_pack(const float *W, int cin, int cout, uint16_t *dst, ens_bf16_mat *m)
{
  const int kp = (cin + 1) / 2, np = (cout + 15) & ~15;
  for (int kk = 0; kk < kp; kk++)
    for (int co = 0; co < np; co++)
      for (int p = 0; p < 2; p++) {
        const int k = 2 * kk + p;
        dst[((size_t)kk * np + co) * 2 + p] =
            k < cin && co < cout ? ens_f32_to_bf16(W[ens_pw_index(cin, k, co)]) : 0;
      }
  *m = (ens_bf16_mat){.w = dst, .cin = cin, .cout = cout, .kp = kp, .np = np};
}
