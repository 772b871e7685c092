/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* squeeze_excite.c - the squeeze-excitation gate of a block, in two parallel regions so that
 * each thread streams only part of the SE weights (at batch 1 they come from memory, ~0.4 MB
 * per late b0 block):
 *   reduce: per image and group of ENS_SE_GROUP channels, the channel means (from the
 *           depthwise row sums) times their rows of the reduce conv: a partial hidden layer;
 *   expand: per image and part (one per thread), the sum of the partials in group order, plus
 *           bias and SiLU, then the expand conv and sigmoid for the part's channels, applied
 *           where the plan's ens_se_mode says.
 * The groups do not depend on the thread count, so neither does the result. */
#include <math.h>

#include "forward.h"

static float silu(float v)
{
  return v / (1.0f + expf(-v));
}

/* Channels [*c0, *c1) of part t of parts: 16-channel units split as the pool splits work
 * items, so part t covers what pool thread t computed in a channel-split depthwise. */
static void part_channels(int c, int t, int parts, int *c0, int *c1)
{
  const int units = (c + 15) / 16;
  *c0 = 16 * (int)((long long)units * t / parts);
  *c1 = 16 * (int)((long long)units * (t + 1) / parts);
  if (*c1 > c)
    *c1 = c;
}

static void se_reduce_group(const ens_arena *a, const ens_block *b, int img, int g, int oh, int ow)
{
  const int mid = b->mid_chs, rd = b->se_chs;
  const int c0 = g * ENS_SE_GROUP, c1 = c0 + ENS_SE_GROUP < mid ? c0 + ENS_SE_GROUP : mid;
  const float *sums = a->row_sums + (size_t)img * oh * mid;
  float *part = a->se_hidden + ((size_t)img * ens_se_groups(b) + g) * rd;
  double acc[ENS_SE_GROUP] = {0};
  for (int oy = 0; oy < oh; oy++) /* row by row: sequential reads */
    for (int c = c0; c < c1; c++)
      acc[c - c0] += sums[(size_t)oy * mid + c];
  for (int j = 0; j < rd; j++)
    part[j] = 0;
  for (int c = c0; c < c1; c++) {
    const float m = (float)(acc[c - c0] / ((double)oh * ow));
    const float *w = b->se_rw + (size_t)c * rd;
    for (int j = 0; j < rd; j++)
      part[j] += m * w[j];
  }
}

/* The expand conv is a one-row 1x1 conv on the part's columns: the pointwise kernel streams
 * just that part of its weight panels. Then the part's channels of the gate are applied as
 * `mode` says. */
static void se_expand_part(const ens_exec *x, const ens_block *b, int n, int img, int t, int parts,
                           int oh, int ow, ens_se_mode mode)
{
  const ens_arena *a = x->arena;
  const int mid = b->mid_chs, rd = b->se_chs, groups = ens_se_groups(b);
  int c0, c1;
  part_channels(mid, t, parts, &c0, &c1);
  if (c1 <= c0)
    return;
  const float *partial = a->se_hidden + (size_t)img * groups * rd;
  /* the call's n images' partial sums, then their hidden vectors (plan.c sizes se_hidden) */
  float *hid = a->se_hidden + (size_t)n * groups * rd + ((size_t)img * parts + t) * rd;
  for (int j = 0; j < rd; j++) {
    float h = b->se_rb[j];
    for (int g = 0; g < groups; g++)
      h += partial[(size_t)g * rd + j];
    hid[j] = silu(h);
  }
  float *sc = a->se_scale + (size_t)img * mid;
  ens_pw_args e = {.in = hid,
                   .w = b->se_ew,
                   .bias = b->se_eb,
                   .out = sc,
                   .rows = 1,
                   .cin = rd,
                   .cout = mid,
                   .rows_per_image = 1,
                   .col_begin = c0,
                   .col_end = c1,
                   .act = ENS_ACT_SIGMOID};
  x->kernels->pointwise(&e, 0, 1);
  if (mode == ENS_SE_ON_INPUT) {
    x->kernels->scale_channels(a->dw + (size_t)img * oh * ow * mid, mid, oh * ow, sc, c0, c1);
  } else if (mode == ENS_SE_ON_WEIGHTS) {
    const size_t size = ens_pw_packed_floats(mid, b->out_chs);
    float *dst = a->se_w + (size_t)img * size;
    for (size_t panel = 0; panel < size; panel += (size_t)mid * ENS_PW_PANEL)
      for (int c = c0; c < c1; c++) {
        const float *src_row = b->proj_w + panel + (size_t)c * ENS_PW_PANEL;
        float *dst_row = dst + panel + (size_t)c * ENS_PW_PANEL;
        for (int j = 0; j < ENS_PW_PANEL; j++)
          dst_row[j] = src_row[j] * sc[c];
      }
  }
}

typedef struct {
  const ens_exec *x;
  const ens_block *b;
  int n, oh, ow, groups, parts;
  ens_se_mode mode;
} se_job;

static void run_se_reduce(void *ctx, int begin, int end)
{
  const se_job *j = ctx;
  for (int item = begin; item < end; item++)
    se_reduce_group(j->x->arena, j->b, item / j->groups, item % j->groups, j->oh, j->ow);
}

static void run_se_expand(void *ctx, int begin, int end)
{
  const se_job *j = ctx;
  for (int item = begin; item < end; item++)
    se_expand_part(j->x, j->b, j->n, item / j->parts, item % j->parts, j->parts, j->oh, j->ow,
                   j->mode);
}

void ens_se_gate(const ens_exec *x, int i, int n, ens_se_mode mode)
{
  const ens_block *b = &x->net->blocks[i];
  const ens_block_plan *bp = &x->plan->blocks[i];
  se_job j = {x, b, n, bp->oh, bp->ow, ens_se_groups(b), x->plan->threads, mode};
  ens_threadpool_run(x->pool, n * j.groups, run_se_reduce, &j);
  ens_threadpool_run(x->pool, n * j.parts, run_se_expand, &j);
}
