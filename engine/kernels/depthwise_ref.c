/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* depthwise_ref.c - reference depthwise k x k convolution over NHWC rows. */
#include "kernels.h"

void ens_depthwise_ref(const ens_dw_args *a, int begin, int end)
{
  ens_dw_assert(a, begin, end);
  const int c = a->c, k = a->k, s = a->stride;
  int c0, c1;
  ens_dw_chans(a, &c0, &c1);
  for (int item = begin; item < end; item++) {
    const int n = item / a->oh, oy = item % a->oh;
    const float *img = a->in + (size_t)n * a->ih * a->iw * c;
    float *orow = a->out + ((size_t)n * a->oh + oy) * a->ow * c;
    float *sums = a->row_sums ? a->row_sums + (size_t)item * c : NULL;
    if (sums)
      for (int ch = c0; ch < c1; ch++)
        sums[ch] = 0;
    for (int ox = 0; ox < a->ow; ox++) {
      float *o = orow + (size_t)ox * c;
      for (int ch = c0; ch < c1; ch++)
        o[ch] = a->bias[ch];
      for (int ky = 0; ky < k; ky++) {
        const int iy = oy * s + ky - a->pad_top;
        if (iy < 0 || iy >= a->ih)
          continue;
        for (int kx = 0; kx < k; kx++) {
          const int ix = ox * s + kx - a->pad_left;
          if (ix < 0 || ix >= a->iw)
            continue;
          const float *x = img + ((size_t)iy * a->iw + ix) * c;
          const float *w = a->w + (size_t)(ky * k + kx) * c;
          for (int ch = c0; ch < c1; ch++)
            o[ch] += x[ch] * w[ch];
        }
      }
      if (a->act == ENS_ACT_SILU)
        for (int ch = c0; ch < c1; ch++)
          o[ch] = ens_silu_prescaled(o[ch]);
      if (sums)
        for (int ch = c0; ch < c1; ch++)
          sums[ch] += o[ch];
    }
  }
}
