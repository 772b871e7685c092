/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* forward.c - timm's eval-mode tf_efficientnet as a fixed sequence of kernel calls over the
 * arena (NHWC activations; see forward.h): stem, the blocks, conv_head, pooling, classifier,
 * and the feature maps the caller asked for (NCHW, timm's layout). */
#include "forward.h"

#include <stdio.h>
#include <string.h>

static void run_stem(void *ctx, int b, int e)
{
  const ens_kernel_job *j = ctx;
  j->k->stem(j->args, b, e);
}

static void hook(const ens_exec *x, const char *name, const float *t, int n, int h, int w, int c)
{
  if (x->hook)
    x->hook(x->hook_user, name, t, n, h, w, c);
}

/* NHWC [n, hw, c] -> NCHW [n, c, hw]. */
static void to_nchw(const float *src, int n, size_t hw, int c, float *dst)
{
  for (int img = 0; img < n; img++) {
    const float *s = src + (size_t)img * hw * c;
    float *d = dst + (size_t)img * hw * c;
    for (size_t p = 0; p < hw; p++)
      for (int ch = 0; ch < c; ch++)
        d[(size_t)ch * hw + p] = s[p * c + ch];
  }
}

/* The stem over n images of input into out. */
static void stem(const ens_exec *x, const float *input, int n, float *out)
{
  const ens_net *net = x->net;
  const ens_plan *p = x->plan;
  const ens_stem_args sa = {.in = input,
                            .w = net->stem_w,
                            .bias = net->stem_b,
                            .out = out,
                            .n = n,
                            .cin = 3,
                            .ih = p->ih,
                            .iw = p->iw,
                            .cout = net->stem_chs,
                            .oh = p->stem_oh,
                            .ow = p->stem_ow,
                            .k = 3,
                            .stride = 2,
                            .pad_top = p->stem_pad_top,
                            .pad_left = p->stem_pad_left,
                            .act = ENS_ACT_SILU};
  ens_kernel_job sj = {x->kernels, &sa};
  ens_threadpool_run(x->pool, n * sa.oh, run_stem, &sj);
  hook(x, "stem", sa.out, n, sa.oh, sa.ow, net->stem_chs);
}

/* Block i's output out of n images, starting at image img0 of the batch: the debug hook and
 * the features_only map it ends. */
static void block_outputs(const ens_exec *x, int i, const float *out, int img0, int n,
                          const ens_outputs *o)
{
  const ens_block *b = &x->net->blocks[i];
  const ens_block_plan *bp = &x->plan->blocks[i];
  const size_t hw = (size_t)bp->oh * bp->ow;
  if (x->hook) {
    char name[32];
    snprintf(name, sizeof name, "blocks.%d.%d", b->stage, b->index);
    hook(x, name, out, n, bp->oh, bp->ow, b->out_chs);
    if (bp->stage_end) {
      snprintf(name, sizeof name, "blocks.%d", b->stage);
      hook(x, name, out, n, bp->oh, bp->ow, b->out_chs);
    }
  }
  if (bp->map >= 0 && o && o->maps[bp->map])
    to_nchw(out, n, hw, b->out_chs, o->maps[bp->map] + (size_t)img0 * hw * b->out_chs);
}

/* The front (plan.h): the stem and blocks [0, front_blocks) a chunk of images at a time
 * through the front buffers; the last front block writes its chunk's part of act[0]. The
 * debug hook sees the front's steps once per chunk. */
static void front(const ens_exec *x, const float *input, const ens_outputs *out)
{
  const ens_net *net = x->net;
  const ens_plan *p = x->plan;
  ens_arena *a = x->arena;
  const int n = p->batch, chunk = p->front_chunk, last = p->front_blocks - 1;
  const ens_block_plan *lp = &p->blocks[last];
  const size_t in_floats = (size_t)3 * p->ih * p->iw;
  const size_t out_floats = (size_t)lp->oh * lp->ow * net->blocks[last].out_chs;
  for (int img0 = 0; img0 < n; img0 += chunk) {
    const int m = n - img0 < chunk ? n - img0 : chunk;
    stem(x, input + (size_t)img0 * in_floats, m, a->front[0]);
    int cur = 0;
    for (int i = 0; i <= last; i++) {
      float *res = i == last ? a->act[0] + (size_t)img0 * out_floats : a->front[1 - cur];
      ens_block_run(x, i, &p->blocks[i].call[m < chunk], 0, a->front[cur], res, NULL, 0);
      cur = 1 - cur;
      block_outputs(x, i, res, img0, m, out);
    }
  }
}

/* The blocks; returns the arena buffer holding the last one's output. */
static float *blocks(const ens_exec *x, const float *input, int with_logits, const ens_outputs *out)
{
  const ens_net *net = x->net;
  const ens_plan *p = x->plan;
  ens_arena *a = x->arena;
  const int n = p->batch;
  /* At batch 1 conv_head and the classifier are bound by streaming their weights from memory
   * (b0: 1.6 + 5.1 MB, contiguous). The projections of the few-row blocks before them
   * (compute-bound) each prefetch an equal slice of those weights (plan: tail_slice), which
   * then wait in the last-level cache. */
  const char *tail = (const char *)net->head_w;
  const size_t tail_bytes = (size_t)((const char *)(with_logits ? net->cls_b + net->num_classes
                                                                : net->head_b + net->head_chs) -
                                     tail);
  if (p->front_blocks)
    front(x, input, out);
  else
    stem(x, input, n, a->act[0]);
  int cur = 0;
  for (int i = p->front_blocks; i < net->num_blocks; i++) {
    const ens_block_plan *bp = &p->blocks[i];
    float *in = a->act[cur], *res = a->act[1 - cur];
    const char *pf = NULL;
    size_t pf_bytes = 0;
    if (bp->tail_slice >= 0) {
      const size_t from = tail_bytes * bp->tail_slice / p->tail_slices,
                   to = tail_bytes * (bp->tail_slice + 1) / p->tail_slices;
      pf = tail + from;
      pf_bytes = to - from;
    }
    for (int img0 = 0; img0 < n; img0 += bp->chunk)
      ens_block_run(x, i, &bp->call[n - img0 < bp->chunk], img0, in, res, pf, pf_bytes);
    cur = 1 - cur;
    block_outputs(x, i, res, 0, n, out);
  }
  return a->act[cur];
}

void ens_net_forward(const ens_exec *x, const float *input, const ens_outputs *out)
{
  const ens_net *net = x->net;
  const ens_plan *p = x->plan;
  ens_arena *a = x->arena;
  const int n = p->batch, F = net->head_chs, h = p->head_h, w = p->head_w;
  float *logits = out ? out->logits : NULL;

  const float *last = blocks(x, input, logits != NULL, out);

  /* head: conv_head + bn2 + SiLU, global average pool, classifier */
  const ens_pw_args hd = {.in = (float *)last,
                          .w = net->head_w,
                          .bias = net->head_b,
                          .out = a->mid,
                          .rows = n * h * w,
                          .cin = net->head_in,
                          .cout = F,
                          .rows_per_image = h * w,
                          .act = ENS_ACT_SILU};
  ens_fwd_pointwise(x, &hd, ens_fwd_bf16_w(x, NULL, 0), NULL, NULL);
  hook(x, "head", a->mid, n, h, w, F);
  if (out && out->head_map)
    to_nchw(a->mid, n, (size_t)h * w, F, out->head_map);

  const size_t hw = (size_t)h * w;
  for (int img = 0; img < n; img++) {
    float *pool = a->pooled + (size_t)img * F;
    const float *src = a->mid + (size_t)img * hw * F;
    for (int c = 0; c < F; c++)
      pool[c] = 0;
    for (size_t r = 0; r < hw; r++)
      for (int c = 0; c < F; c++)
        pool[c] += src[r * F + c];
    for (int c = 0; c < F; c++)
      pool[c] = (float)((double)pool[c] / (double)hw);
  }
  hook(x, "features", a->pooled, n, 1, 1, F);
  if (out && out->features)
    memcpy(out->features, a->pooled, sizeof(float) * (size_t)n * F);
  if (logits) {
    const ens_pw_args cl = {.in = a->pooled,
                            .w = net->cls_w,
                            .bias = net->cls_b,
                            .out = logits,
                            .rows = n,
                            .cin = F,
                            .cout = net->num_classes,
                            .rows_per_image = 1,
                            .act = ENS_ACT_NONE};
    ens_fwd_pointwise(x, &cl, NULL, NULL, NULL);
    hook(x, "logits", logits, n, 1, 1, net->num_classes);
  }
}
