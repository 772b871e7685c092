/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arena.c - the activation memory of a session: one allocation cut into the buffers a plan
 * sizes (forward.h). */
#include <string.h>

#include "error.h"
#include "forward.h"
#include "huge_alloc.h"

/* Every buffer as large as either a or b wants it. */
static ens_arena_sizes sizes_max(const ens_arena_sizes *a, const ens_arena_sizes *b)
{
  return (ens_arena_sizes){.act = ens_size_max(a->act, b->act),
                           .mid = ens_size_max(a->mid, b->mid),
                           .dw = ens_size_max(a->dw, b->dw),
                           .row_sums = ens_size_max(a->row_sums, b->row_sums),
                           .se_mid = ens_size_max(a->se_mid, b->se_mid),
                           .se_hidden = ens_size_max(a->se_hidden, b->se_hidden),
                           .se_w = ens_size_max(a->se_w, b->se_w),
                           .pooled = ens_size_max(a->pooled, b->pooled),
                           .band = ens_size_max(a->band, b->band),
                           .front = ens_size_max(a->front, b->front)};
}

ens_status ens_arena_reserve(ens_arena *a, const ens_plan *p, ens_error *err)
{
  /* Compared buffer by buffer, not by batch: with a front (plan.h) a larger batch can need a
   * smaller block-output buffer than a smaller batch without one. Buffers grow to what either
   * plan needs, so alternating batches settle; the current ones are kept when they already
   * have room. The fused blocks' band height depends on the input width alone, so a kept
   * band_stride stays valid. */
  ens_arena_sizes z = p->sizes;
  if (a->base && p->ih == a->ih && p->iw == a->iw && p->threads == a->threads) {
    z = sizes_max(&z, &a->sizes);
    if (memcmp(&z, &a->sizes, sizeof z) == 0) /* all size_t: no padding bytes */
      return ENS_OK;
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
