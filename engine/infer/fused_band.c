/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fused_band.c - a block's expansion fused into its depthwise, in row bands.
 *
 * Each thread takes a contiguous range of output rows and walks it in bands: it expands just
 * the input rows the band's depthwise reads into its own band buffer in mid (~384 KiB, so it
 * stays in L2), keeping the k - s rows it shares with the previous band, and runs the
 * depthwise on that band. One parallel region instead of two, and the same kernels on the same
 * rows, so the result is bit-identical to the unfused path. Which blocks fuse and the band
 * height are planned (plan.c).
 * Thread t's band buffer is at mid + t * band_stride for every fused block: at a per-block
 * offset (it used to be a fraction of that block's expanded image) a thread wrote its bands
 * to lines it had not touched since the previous forward, which came from L3 / DRAM (b0 batch
 * 1, 2 threads: the second thread took 10-40 % longer than the first on those blocks). */
#include <assert.h>
#include <string.h>

#include "forward.h"

typedef struct {
  const ens_exec *x;
  const ens_block *b;
  const ens_block_plan *bp;
  const float *in; /* the chunk's block input [n, h, w, in_chs] */
  int n, threads;
} fused_job;

static void run_fused(void *ctx, int t0, int t1)
{
  const fused_job *j = ctx;
  const ens_block *b = j->b;
  const ens_block_plan *bp = j->bp;
  const ens_kernels *k = j->x->kernels;
  const ens_arena *a = j->x->arena;
  const int mid = b->mid_chs, s = b->stride, w = bp->w, total = j->n * bp->oh;
  for (int t = t0; t < t1; t++) {
    float *buf = a->mid + (size_t)t * a->band_stride;
    const int ib = (int)((long long)total * t / j->threads);
    const int ie = (int)((long long)total * (t + 1) / j->threads);
    int prev_img = -1, pr0 = 0, pr1 = 0; /* input rows [pr0, pr1) of prev_img are in buf */
    for (int it = ib; it < ie;) {
      const int img = it / bp->oh, oy0 = it % bp->oh;
      int oy1 = oy0 + bp->band_out;
      if (oy1 > bp->oh)
        oy1 = bp->oh;
      if (oy1 - oy0 > ie - it)
        oy1 = oy0 + (ie - it);
      int r0 = oy0 * s - bp->pad_top, r1 = (oy1 - 1) * s - bp->pad_top + b->k;
      if (r0 < 0)
        r0 = 0;
      if (r1 > bp->h)
        r1 = bp->h;
      int have = r0; /* rows [r0, have) are already in buf */
      if (img == prev_img && pr1 > r0 && pr0 <= r0) {
        memmove(buf, buf + (size_t)(r0 - pr0) * w * mid, sizeof(float) * (pr1 - r0) * w * mid);
        have = pr1 < r1 ? pr1 : r1;
      }
      if (r1 > have) {
        ens_pw_args e = {.in = (float *)j->in + ((size_t)img * bp->h + have) * w * b->in_chs,
                         .w = b->exp_w,
                         .bias = b->exp_b,
                         .out = buf + (size_t)(have - r0) * w * mid,
                         .rows = (r1 - have) * w,
                         .cin = b->in_chs,
                         .cout = mid,
                         .rows_per_image = (r1 - have) * w,
                         .act = ENS_ACT_SILU};
        ens_fwd_pw_rows(j->x, &e, ens_fwd_bf16_w(j->x, b, 0), 0, e.rows);
      }
      ens_dw_args d = {.in = buf,
                       .w = b->dw_w,
                       .bias = b->dw_b,
                       .out = a->dw + ((size_t)img * bp->oh + oy0) * bp->ow * mid,
                       .row_sums = a->row_sums + ((size_t)img * bp->oh + oy0) * mid,
                       .n = 1,
                       .ih = r1 - r0,
                       .iw = w,
                       .c = mid,
                       .oh = oy1 - oy0,
                       .ow = bp->ow,
                       .k = b->k,
                       .stride = s,
                       .pad_top = bp->pad_top + r0 - oy0 * s,
                       .pad_left = bp->pad_left,
                       .act = ENS_ACT_SILU};
      k->depthwise(&d, 0, d.oh);
      prev_img = img, pr0 = r0, pr1 = r1;
      it += oy1 - oy0;
    }
  }
}

void ens_fused_band_run(const ens_exec *x, int i, int n, const float *in)
{
  const ens_block *b = &x->net->blocks[i];
  const ens_block_plan *bp = &x->plan->blocks[i];
  /* the arena was sized from a plan of this input size: its band buffers hold these bands */
  assert(((size_t)(bp->band_out - 1) * b->stride + b->k) * bp->w * b->mid_chs <=
         x->arena->band_stride);
  fused_job j = {.x = x, .b = b, .bp = bp, .in = in, .n = n, .threads = x->plan->threads};
  ens_threadpool_run(x->pool, j.threads, run_fused, &j);
}
