/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arena.c - the activation memory of a session: one allocation cut into the buffers a plan
 * sizes (forward.h). */
#include <string.h>

#include "error.h"
#include "forward.h"
#include "huge_alloc.h"

/* Whether buffers of sizes have room for every buffer of need. */
static int sizes_fit(const ens_arena_sizes *have, const ens_arena_sizes *need)
{
  return need->act <= have->act && need->mid <= have->mid && need->dw <= have->dw &&
         need->row_sums <= have->row_sums && need->se_mid <= have->se_mid &&
         need->se_hidden <= have->se_hidden && need->se_w <= have->se_w &&
         need->pooled <= have->pooled && need->band <= have->band && need->front <= have->front;
}

ens_status ens_arena_reserve(ens_arena *a, const ens_plan *p, ens_error *err)
{
  /* Compared buffer by buffer, not by batch: with a front (plan.h) a larger batch can need a
   * smaller block-output buffer than a smaller batch without one. The fused blocks' band
   * height depends on the input width alone, so a kept band_stride stays valid. */
  if (a->base && p->ih == a->ih && p->iw == a->iw && p->threads == a->threads &&
      sizes_fit(&a->sizes, &p->sizes))
    return ENS_OK;
  ens_arena_sizes z = p->sizes;
  if (a->base && p->ih == a->ih && p->iw == a->iw && p->threads == a->threads) {
    /* grow every buffer to what either plan needs, so alternating batches settle */
    const ens_arena_sizes *o = &a->sizes;
    z.act = ens_size_max(z.act, o->act);
    z.mid = ens_size_max(z.mid, o->mid);
    z.dw = ens_size_max(z.dw, o->dw);
    z.row_sums = ens_size_max(z.row_sums, o->row_sums);
    z.se_mid = ens_size_max(z.se_mid, o->se_mid);
    z.se_hidden = ens_size_max(z.se_hidden, o->se_hidden);
    z.se_w = ens_size_max(z.se_w, o->se_w);
    z.pooled = ens_size_max(z.pooled, o->pooled);
    z.band = ens_size_max(z.band, o->band);
    z.front = ens_size_max(z.front, o->front);
  }
  const size_t total = 2 * ens_plan_pad16(z.act) + ens_plan_pad16(z.mid) + ens_plan_pad16(z.dw) +
                       ens_plan_pad16(z.row_sums) + ens_plan_pad16(z.se_mid) +
                       ens_plan_pad16(z.se_hidden) + ens_plan_pad16(z.se_w) +
                       ens_plan_pad16(z.pooled) + 2 * ens_plan_pad16(z.front);
  float *base = ens_huge_alloc(sizeof(float) * total);
  if (!base)
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory planning %zu MB of activations for batch %d",
                    sizeof(float) * total >> 20, p->batch);
  ens_huge_free(a->base, sizeof(float) * a->floats);
  a->base = base;
  a->floats = total;
  a->sizes = z;
  a->batch = p->batch;
  a->ih = p->ih;
  a->iw = p->iw;
  a->threads = p->threads;
  a->band_stride = ens_plan_pad16(z.band);
  float *q = base;
  a->act[0] = q, q += ens_plan_pad16(z.act);
  a->act[1] = q, q += ens_plan_pad16(z.act);
  a->mid = q, q += ens_plan_pad16(z.mid);
  a->dw = q, q += ens_plan_pad16(z.dw);
  a->row_sums = q, q += ens_plan_pad16(z.row_sums);
  a->se_scale = q, q += ens_plan_pad16(z.se_mid);
  a->se_hidden = q, q += ens_plan_pad16(z.se_hidden);
  a->se_w = q, q += ens_plan_pad16(z.se_w);
  a->pooled = q, q += ens_plan_pad16(z.pooled);
  a->front[0] = q, q += ens_plan_pad16(z.front);
  a->front[1] = q;
  return ENS_OK;
}

void ens_arena_free(ens_arena *a)
{
  ens_huge_free(a->base, sizeof(float) * a->floats);
  memset(a, 0, sizeof *a);
}
