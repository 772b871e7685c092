/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pointwise_bf16_ref.c - reference bf16 1x1 convolution (kernels.h, ens_bf16_mat): the
 * arithmetic of vdpbf16ps in portable C, one output at a time. */
#include <assert.h>
#include <string.h>

#include "kernels.h"

static float bf16_to_f32(uint16_t h)
{
  const uint32_t u = (uint32_t)h << 16;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* vdpbf16ps treats bf16 subnormals as zero and flushes subnormal results to zero. */
static float flush(float x)
{
  return fabsf(x) < 1.17549435e-38f ? 0.0f * x : x;
}

static float epilogue(float v, ens_act act)
{
  if (act == ENS_ACT_SILU)
    return ens_silu_prescaled(v);
  if (act == ENS_ACT_SIGMOID)
    return 1.0f / (1.0f + expf(-v));
  return v;
}

void ens_pointwise_bf16_ref(const ens_pw_args *a, const ens_bf16_mat *wb, int begin, int end)
{
  ens_pw_assert(a, begin, end);
  assert(wb && wb->cin == a->cin && wb->cout == a->cout && a->cin <= ENS_BF16_MAX_CIN);
  const int cin = a->cin, cout = a->cout, kp = wb->kp;
  int c0, c1;
  ens_pw_cols(a, &c0, &c1);
  for (int r = begin; r < end; r++) {
    const float *x = a->in + (size_t)r * cin;
    const float *s = a->se ? a->se + (size_t)(r / a->rows_per_image) * cin : NULL;
    for (int co = c0; co < c1; co++) {
      float acc = a->bias[co];
      for (int kk = 0; kk < kp; kk++) {
        const uint16_t *w = wb->w + ((size_t)kk * wb->np + co) * 2;
        for (int p = 1; p >= 0; p--) { /* the odd channel of the pair first */
          const int k = 2 * kk + p;
          const float xv =
              k < cin ? flush(bf16_to_f32(ens_f32_to_bf16(s ? x[k] * s[k] : x[k]))) : 0.0f;
          acc = flush(acc + xv * flush(bf16_to_f32(w[p])));
        }
      }
      float v = epilogue(acc, a->act);
      if (a->residual)
        v += a->residual[(size_t)r * cout + co];
      a->out[(size_t)r * cout + co] = v;
    }
  }
}
