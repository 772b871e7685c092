/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* block.c - one call of an MBConv / depthwise-separable block over a few images: expansion and
 * depthwise (fused in bands or as two parallel regions), the squeeze-excitation gate, and the
 * projection with the residual. */
#include "forward.h"

static void run_dw(void *ctx, int b, int e)
{
  const ens_kernel_job *j = ctx;
  j->k->depthwise(j->args, b, e);
}

static void run_dw_chans(void *ctx, int b, int e)
{
  const ens_kernel_job *j = ctx;
  ens_dw_args part = *(const ens_dw_args *)j->args;
  part.c_begin = 16 * b;
  part.c_end = 16 * e < part.c ? 16 * e : part.c;
  j->k->depthwise(&part, 0, part.n * part.oh);
}

/* The weights the thread computing channels [c0, c1) of a channel-split block reads after
 * the expansion: its rows of the SE reduce conv, its panels of the SE expand conv and its
 * share of the projection's panels (the depthwise weights of its channels are strided; the
 * hardware prefetcher follows them). */
static void split_block_ranges(const void *user, int c0, int c1, ens_pw_args *part)
{
  const ens_block *b = user;
  const int rd = b->se_chs, unit = ENS_COL_UNIT;
  /* the projection's column split gives this thread the same fraction of its output units */
  const int units = (b->mid_chs + unit - 1) / unit;
  const int out_units = (b->out_chs + unit - 1) / unit;
  const int o0 = unit * (int)((long long)out_units * (c0 / unit) / units);
  const int o1 = unit * (int)((long long)out_units * ((c1 + unit - 1) / unit) / units);
  const size_t q0 = ens_pw_index(b->mid_chs, 0, o0 - o0 % ENS_PW_PANEL);
  const size_t q1 = o1 >= b->out_chs ? ens_pw_packed_floats(b->mid_chs, b->out_chs)
                                     : ens_pw_index(b->mid_chs, 0, o1 - o1 % ENS_PW_PANEL);
  part->prefetch[2] = b->proj_w + q0;
  part->prefetch_bytes[2] = q1 > q0 ? sizeof(float) * (q1 - q0) : 0;
  part->prefetch[0] = b->se_rw + (size_t)c0 * rd;
  part->prefetch_bytes[0] = sizeof(float) * (size_t)(c1 - c0) * rd;
  const size_t p0 = ens_pw_index(rd, 0, c0 - c0 % ENS_PW_PANEL);
  const int c1_up = (c1 + ENS_PW_PANEL - 1) / ENS_PW_PANEL * ENS_PW_PANEL;
  const size_t p1 =
      c1_up >= b->mid_chs ? ens_pw_packed_floats(rd, b->mid_chs) : ens_pw_index(rd, 0, c1_up);
  part->prefetch[1] = b->se_ew + p0;
  part->prefetch_bytes[1] = sizeof(float) * (p1 - p0);
}

/* The unfused expansion (IR) and depthwise of n images: two parallel regions. The depthwise
 * of a block with few rows (by_chans) is split by channels: its handful of output rows would
 * split unevenly, and the channel ranges match the expansion's column split, so each thread
 * reads the part of the expansion it wrote. */
static void run_expand_dw(const ens_exec *x, const ens_block *b, const ens_block_plan *bp, int n,
                          float *in, int by_chans)
{
  const ens_arena *a = x->arena;
  const float *dw_in = in;
  if (b->type == ENS_BLOCK_IR) {
    ens_pw_args e = {
        .in = in,
        .w = b->exp_w,
        .bias = b->exp_b,
        .out = a->mid,
        .rows = n * bp->h * bp->w,
        .cin = b->in_chs,
        .cout = b->mid_chs,
        .rows_per_image = bp->h * bp->w,
        .act = ENS_ACT_SILU,
        /* the depthwise, SE and projection weights (contiguous, net.h) are used next */
        .prefetch = {b->dw_w},
        .prefetch_bytes = {
            sizeof(float) *
            (size_t)(b->proj_w + ens_pw_packed_floats(b->mid_chs, b->out_chs) - b->dw_w)}};
    /* Split by channels, each thread prefetches the SE weights of its own channels instead. */
    ens_fwd_pointwise(x, &e, ens_fwd_bf16_w(x, b, 0), by_chans ? split_block_ranges : NULL, b);
    dw_in = a->mid;
  }
  const ens_dw_args d = {.in = dw_in,
                         .w = b->dw_w,
                         .bias = b->dw_b,
                         .out = a->dw,
                         .row_sums = a->row_sums,
                         .n = n,
                         .ih = bp->h,
                         .iw = bp->w,
                         .c = b->mid_chs,
                         .oh = bp->oh,
                         .ow = bp->ow,
                         .k = b->k,
                         .stride = b->stride,
                         .pad_top = bp->pad_top,
                         .pad_left = bp->pad_left,
                         .act = ENS_ACT_SILU};
  ens_kernel_job dj = {x->kernels, &d};
  if (by_chans)
    ens_threadpool_run(x->pool, (d.c + 15) / 16, run_dw_chans, &dj);
  else
    ens_threadpool_run(x->pool, n * d.oh, run_dw, &dj);
}

/* The mid, depthwise, row-sum and SE buffers are used from their start (chunk-local), so they
 * stay hot in cache from one chunk to the next. */
void ens_block_run(const ens_exec *x, int i, const ens_block_call *call, int img0,
                   const float *in_batch, float *out_batch, const char *pf, size_t pf_bytes)
{
  const ens_block *b = &x->net->blocks[i];
  const ens_block_plan *bp = &x->plan->blocks[i];
  const ens_arena *a = x->arena;
  const int n = call->n;
  float *in = (float *)in_batch + (size_t)img0 * bp->h * bp->w * b->in_chs;
  if (bp->fused)
    ens_fused_band_run(x, i, n, in);
  else
    run_expand_dw(x, b, bp, n, in, call->by_chans);
  ens_se_gate(x, i, n, call->se);

  ens_pw_args p = {.in = a->dw,
                   .w = b->proj_w,
                   .bias = b->proj_b,
                   .se = call->se == ENS_SE_IN_KERNEL ? a->se_scale : NULL,
                   .residual = b->skip ? in : NULL,
                   .out = out_batch + (size_t)img0 * bp->oh * bp->ow * b->out_chs,
                   .rows = n * bp->oh * bp->ow,
                   .cin = b->mid_chs,
                   .cout = b->out_chs,
                   .rows_per_image = bp->oh * bp->ow,
                   .act = ENS_ACT_NONE,
                   .prefetch = {pf},
                   .prefetch_bytes = {pf_bytes}};
  if (call->se == ENS_SE_ON_WEIGHTS)
    ens_fwd_pointwise_per_image(x, &p, a->se_w, ens_pw_packed_floats(b->mid_chs, b->out_chs));
  else
    ens_fwd_pointwise(x, &p, ens_fwd_bf16_w(x, b, 1), NULL, NULL);
}
