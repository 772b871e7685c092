/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op_se.c - squeeze-excite: mean pool, reduce 1x1 conv + bias, SiLU, expand 1x1 conv + bias,
 * sigmoid gate, channel scaling. The pooled tensors are tiny ([N, C]), so plain loops. */
#include <math.h>
#include <string.h>

#include "train_ops.h"

/* a [N,HW,C] -> m [N,C] -> r [N,rd] -> ra -> e [N,C] -> g -> y = a * g */
void se_forward(float *y, ens_se_saved *sv, const float *a, const float *wr, const float *br,
                const float *we, const float *be, int N, int HW, int C, int rd)
{
  for (int n = 0; n < N; n++) {
    const float *an = a + (size_t)n * HW * C;
    float *m = sv->m + (size_t)n * C;
    for (int ch = 0; ch < C; ch++) {
      double s = 0;
      for (int p = 0; p < HW; p++)
        s += an[(size_t)p * C + ch];
      m[ch] = (float)(s / HW);
    }
    float *r = sv->r + (size_t)n * rd, *ra = sv->ra + (size_t)n * rd;
    for (int j = 0; j < rd; j++) {
      float s = br[j];
      for (int ch = 0; ch < C; ch++)
        s += wr[(size_t)j * C + ch] * m[ch];
      r[j] = s;
      ra[j] = s / (1.0f + expf(-s));
    }
    float *g = sv->g + (size_t)n * C;
    for (int ch = 0; ch < C; ch++) {
      float s = be[ch];
      for (int j = 0; j < rd; j++)
        s += we[(size_t)ch * rd + j] * ra[j];
      g[ch] = 1.0f / (1.0f + expf(-s));
    }
    float *yn = y + (size_t)n * HW * C;
    for (int p = 0; p < HW; p++)
      for (int ch = 0; ch < C; ch++)
        yn[(size_t)p * C + ch] = an[(size_t)p * C + ch] * g[ch];
  }
}

/* dg = sum_hw dy*a; de = dg*g*(1-g); dwe += de^T.ra; dbe += de; dra = de.we;
 * dr = dra * silu'(r); dwr += dr^T.m; dbr += dr; dm = dr.wr; da = dy*g + dm/HW. */
void se_backward(float *da, float *dwr, float *dbr, float *dwe, float *dbe, const float *dy,
                 const float *a, const ens_se_saved *sv, const float *wr, const float *we, int N,
                 int HW, int C, int rd)
{
  memset(dwr, 0, (size_t)rd * C * sizeof *dwr);
  memset(dbr, 0, (size_t)rd * sizeof *dbr);
  memset(dwe, 0, (size_t)C * rd * sizeof *dwe);
  memset(dbe, 0, (size_t)C * sizeof *dbe);
  float de[C], dm[C], dr[rd];
  for (int n = 0; n < N; n++) {
    const float *an = a + (size_t)n * HW * C, *dyn = dy + (size_t)n * HW * C;
    const float *g = sv->g + (size_t)n * C, *m = sv->m + (size_t)n * C;
    const float *r = sv->r + (size_t)n * rd, *ra = sv->ra + (size_t)n * rd;
    for (int ch = 0; ch < C; ch++) {
      double s = 0;
      for (int p = 0; p < HW; p++)
        s += (double)dyn[(size_t)p * C + ch] * an[(size_t)p * C + ch];
      de[ch] = (float)s * g[ch] * (1.0f - g[ch]);
      dbe[ch] += de[ch];
      for (int j = 0; j < rd; j++)
        dwe[(size_t)ch * rd + j] += de[ch] * ra[j];
    }
    for (int j = 0; j < rd; j++) {
      float s = 0;
      for (int ch = 0; ch < C; ch++)
        s += de[ch] * we[(size_t)ch * rd + j];
      float sg = 1.0f / (1.0f + expf(-r[j]));
      dr[j] = s * sg * (1.0f + r[j] * (1.0f - sg));
      dbr[j] += dr[j];
      for (int ch = 0; ch < C; ch++)
        dwr[(size_t)j * C + ch] += dr[j] * m[ch];
    }
    for (int ch = 0; ch < C; ch++) {
      float s = 0;
      for (int j = 0; j < rd; j++)
        s += dr[j] * wr[(size_t)j * C + ch];
      dm[ch] = s / (float)HW;
    }
    float *dan = da + (size_t)n * HW * C;
    for (int p = 0; p < HW; p++)
      for (int ch = 0; ch < C; ch++)
        dan[(size_t)p * C + ch] = dyn[(size_t)p * C + ch] * g[ch] + dm[ch];
  }
}
