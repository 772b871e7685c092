/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stem_ref.c - reference stem convolution: NCHW network input to NHWC activations. */
#include "kernels.h"

void ens_stem_ref(const ens_stem_args *a, int begin, int end)
{
  ens_stem_assert(a, begin, end);
  const int k = a->k, s = a->stride, cin = a->cin, cout = a->cout;
  const size_t plane = (size_t)a->ih * a->iw;
  for (int item = begin; item < end; item++) {
    const int n = item / a->oh, oy = item % a->oh;
    const float *img = a->in + (size_t)n * cin * plane;
    float *orow = a->out + ((size_t)n * a->oh + oy) * a->ow * cout;
    for (int ox = 0; ox < a->ow; ox++) {
      float *o = orow + (size_t)ox * cout;
      for (int co = 0; co < cout; co++)
        o[co] = a->bias[co];
      for (int ky = 0; ky < k; ky++) {
        const int iy = oy * s + ky - a->pad_top;
        if (iy < 0 || iy >= a->ih)
          continue;
        for (int kx = 0; kx < k; kx++) {
          const int ix = ox * s + kx - a->pad_left;
          if (ix < 0 || ix >= a->iw)
            continue;
          for (int ci = 0; ci < cin; ci++) {
            const float x = img[ci * plane + (size_t)iy * a->iw + ix];
            const float *w = a->w + ((size_t)(ky * k + kx) * cin + ci) * cout;
            for (int co = 0; co < cout; co++)
              o[co] += x * w[co];
          }
        }
      }
      if (a->act == ENS_ACT_SILU)
        for (int co = 0; co < cout; co++)
          o[co] = ens_silu_prescaled(o[co]);
    }
  }
}
