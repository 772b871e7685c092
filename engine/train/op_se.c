/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op_se.c - squeeze-excite: mean pool, reduce 1x1 conv + bias, SiLU, expand 1x1 conv + bias,
 * sigmoid gate, channel scaling. Samples run in parallel; the weight gradients are summed
 * over samples afterwards in sample order (independent of the thread split). */
#include <stdlib.h>
#include <string.h>

#include "train_math.h"
#include "train_ops.h"

typedef struct {
  float *y, *da;
  const ens_se_saved *sv;
  const float *a, *dy, *wr, *br, *we, *be;
  int HW, C, rd;
} se_ctx;

/* a [N,HW,C] -> m [N,C] -> r [N,rd] -> ra -> e [N,C] -> g -> y = a * g */
ENS_TG_CLONES static void fwd_samples(void *vctx, int n0, int n1)
{
  const se_ctx *c = vctx;
  int C = c->C, rd = c->rd, HW = c->HW;
  double *acc = c->sv->acc + (size_t)n0 * C;
  for (int n = n0; n < n1; n++, acc += C) {
    const float *an = c->a + (size_t)n * HW * C;
    memset(acc, 0, (size_t)C * sizeof *acc);
    for (int p = 0; p < HW; p++)
      for (int ch = 0; ch < C; ch++)
        acc[ch] += an[(size_t)p * C + ch];
    float *m = c->sv->m + (size_t)n * C;
    for (int ch = 0; ch < C; ch++)
      m[ch] = (float)(acc[ch] / HW);
    float *r = c->sv->r + (size_t)n * rd, *ra = c->sv->ra + (size_t)n * rd;
    for (int j = 0; j < rd; j++) {
      float s = c->br[j];
      for (int ch = 0; ch < C; ch++)
        s += c->wr[(size_t)j * C + ch] * m[ch];
      r[j] = s;
      ra[j] = s * ens_tg_sigmoid(s);
    }
    float *g = c->sv->g + (size_t)n * C;
    for (int ch = 0; ch < C; ch++) {
      float s = c->be[ch];
      for (int j = 0; j < rd; j++)
        s += c->we[(size_t)ch * rd + j] * ra[j];
      g[ch] = ens_tg_sigmoid(s);
    }
    float *yn = c->y + (size_t)n * HW * C;
    for (int p = 0; p < HW; p++)
      for (int ch = 0; ch < C; ch++)
        yn[(size_t)p * C + ch] = an[(size_t)p * C + ch] * g[ch];
  }
}

void se_forward(ens_threadpool *pool, float *y, const ens_se_saved *sv, const float *a,
                const float *wr, const float *br, const float *we, const float *be, int N, int HW,
                int C, int rd)
{
  se_ctx c = {y, NULL, sv, a, NULL, wr, br, we, be, HW, C, rd};
  ens_tg_parallel(pool, N, fwd_samples, &c);
}

/* per sample: dg = sum_hw dy*a; de = dg*g*(1-g); dra = de.we; dr = dra * silu'(r);
 * dm = dr.wr; da = dy*g + dm/HW. de and dr are kept for the weight gradients. */
ENS_TG_CLONES static void bwd_samples(void *vctx, int n0, int n1)
{
  const se_ctx *c = vctx;
  int C = c->C, rd = c->rd, HW = c->HW;
  const ens_se_saved *sv = c->sv;
  double *acc = sv->acc + (size_t)n0 * C;
  for (int n = n0; n < n1; n++, acc += C) {
    const float *an = c->a + (size_t)n * HW * C, *dyn = c->dy + (size_t)n * HW * C;
    const float *g = sv->g + (size_t)n * C, *r = sv->r + (size_t)n * rd;
    float *de = sv->de + (size_t)n * C, *dr = sv->dr + (size_t)n * rd;
    memset(acc, 0, (size_t)C * sizeof *acc);
    for (int p = 0; p < HW; p++)
      for (int ch = 0; ch < C; ch++)
        acc[ch] += (double)dyn[(size_t)p * C + ch] * an[(size_t)p * C + ch];
    for (int ch = 0; ch < C; ch++)
      de[ch] = (float)acc[ch] * g[ch] * (1.0f - g[ch]);
    for (int j = 0; j < rd; j++) {
      float s = 0;
      for (int ch = 0; ch < C; ch++)
        s += de[ch] * c->we[(size_t)ch * rd + j];
      float sg = ens_tg_sigmoid(r[j]);
      dr[j] = s * sg * (1.0f + r[j] * (1.0f - sg));
    }
    float *dan = c->da + (size_t)n * HW * C;
    float inv = 1.0f / (float)HW;
    for (int ch = 0; ch < C; ch++) {
      float s = 0;
      for (int j = 0; j < rd; j++)
        s += dr[j] * c->wr[(size_t)j * C + ch];
      acc[ch] = s * inv; /* dm / HW */
    }
    for (int p = 0; p < HW; p++)
      for (int ch = 0; ch < C; ch++)
        dan[(size_t)p * C + ch] = dyn[(size_t)p * C + ch] * g[ch] + (float)acc[ch];
  }
}

void se_backward(ens_threadpool *pool, float *da, float *dwr, float *dbr, float *dwe, float *dbe,
                 const float *dy, const float *a, const ens_se_saved *sv, const float *wr,
                 const float *we, int N, int HW, int C, int rd)
{
  se_ctx c = {NULL, da, sv, a, dy, wr, NULL, we, NULL, HW, C, rd};
  ens_tg_parallel(pool, N, bwd_samples, &c);
  /* weight gradients: sums over samples in order */
  memset(dwr, 0, (size_t)rd * C * sizeof *dwr);
  memset(dbr, 0, (size_t)rd * sizeof *dbr);
  memset(dwe, 0, (size_t)C * rd * sizeof *dwe);
  memset(dbe, 0, (size_t)C * sizeof *dbe);
  for (int n = 0; n < N; n++) {
    const float *de = sv->de + (size_t)n * C, *dr = sv->dr + (size_t)n * rd;
    const float *m = sv->m + (size_t)n * C, *ra = sv->ra + (size_t)n * rd;
    for (int ch = 0; ch < C; ch++) {
      dbe[ch] += de[ch];
      for (int j = 0; j < rd; j++)
        dwe[(size_t)ch * rd + j] += de[ch] * ra[j];
    }
    for (int j = 0; j < rd; j++) {
      dbr[j] += dr[j];
      for (int ch = 0; ch < C; ch++)
        dwr[(size_t)j * C + ch] += dr[j] * m[ch];
    }
  }
}
