/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arena.c - the activation memory of a session: one allocation cut into the buffers a plan
 * sizes (forward.h). */
#include <string.h>

#include "error.h"
#include "forward.h"
#include "huge_alloc.h"

/* Rounds a float count up to a 64-byte multiple so every buffer stays aligned. */
static size_t pad16(size_t n)
{
  return (n + 15) & ~(size_t)15;
}

ens_status ens_arena_reserve(ens_arena *a, const ens_plan *p, ens_error *err)
{
  if (a->base && p->batch <= a->batch && p->ih == a->ih && p->iw == a->iw &&
      p->threads == a->threads)
    return ENS_OK;
  const ens_arena_sizes *z = &p->sizes;
  const size_t total = 2 * pad16(z->act) + pad16(z->mid) + pad16(z->dw) + pad16(z->row_sums) +
                       pad16(z->se_mid) + pad16(z->se_hidden) + pad16(z->se_w) + pad16(z->pooled);
  float *base = ens_huge_alloc(sizeof(float) * total);
  if (!base)
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory planning %zu MB of activations for batch %d",
                    sizeof(float) * total >> 20, p->batch);
  ens_huge_free(a->base, sizeof(float) * a->floats);
  a->base = base;
  a->floats = total;
  a->batch = p->batch;
  a->ih = p->ih;
  a->iw = p->iw;
  a->threads = p->threads;
  a->band_stride = pad16(z->band);
  float *q = base;
  a->act[0] = q, q += pad16(z->act);
  a->act[1] = q, q += pad16(z->act);
  a->mid = q, q += pad16(z->mid);
  a->dw = q, q += pad16(z->dw);
  a->row_sums = q, q += pad16(z->row_sums);
  a->se_scale = q, q += pad16(z->se_mid);
  a->se_hidden = q, q += pad16(z->se_hidden);
  a->se_w = q, q += pad16(z->se_w);
  a->pooled = q;
  return ENS_OK;
}

void ens_arena_free(ens_arena *a)
{
  ens_huge_free(a->base, sizeof(float) * a->floats);
  memset(a, 0, sizeof *a);
}
