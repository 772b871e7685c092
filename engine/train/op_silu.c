/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op_silu.c - SiLU (x * sigmoid(x)) forward and backward, elementwise. */
#include "train_math.h"
#include "train_ops.h"

#define SILU_CHUNK 4096

typedef struct {
  float *y;
  const float *x, *dy;
  size_t n;
} silu_ctx;

/* AVX-512 clone picked at load time where the CPU has it (the loop is memory-bound; wider
 * vectors still halve its instruction count) */
ENS_TG_CLONES static void fwd_chunks(void *vctx, int c0, int c1)
{
  const silu_ctx *c = vctx;
  size_t end = (size_t)c1 * SILU_CHUNK < c->n ? (size_t)c1 * SILU_CHUNK : c->n;
  float *y = c->y;
  const float *x = c->x; /* locals: stores through c->y must not look like they move c->x */
  for (size_t i = (size_t)c0 * SILU_CHUNK; i < end; i++)
    y[i] = x[i] * ens_tg_sigmoid(x[i]);
}

/* y = x * s(x) */
void silu_forward(ens_threadpool *pool, float *y, const float *x, size_t n)
{
  silu_ctx c = {y, x, NULL, n};
  ens_tg_parallel(pool, (int)((n + SILU_CHUNK - 1) / SILU_CHUNK), fwd_chunks, &c);
}

ENS_TG_CLONES static void bwd_chunks(void *vctx, int c0, int c1)
{
  const silu_ctx *c = vctx;
  size_t end = (size_t)c1 * SILU_CHUNK < c->n ? (size_t)c1 * SILU_CHUNK : c->n;
  float *dx = c->y;
  const float *x = c->x, *dy = c->dy;
  for (size_t i = (size_t)c0 * SILU_CHUNK; i < end; i++) {
    float s = ens_tg_sigmoid(x[i]);
    dx[i] = dy[i] * s * (1.0f + x[i] * (1.0f - s));
  }
}

/* dx = dy * s(x) * (1 + x * (1 - s(x))) */
void silu_backward(ens_threadpool *pool, float *dx, const float *dy, const float *x, size_t n)
{
  silu_ctx c = {dx, x, dy, n};
  ens_tg_parallel(pool, (int)((n + SILU_CHUNK - 1) / SILU_CHUNK), bwd_chunks, &c);
}
