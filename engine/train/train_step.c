/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_step.c - the forward and backward passes of the training graph, and the dropout /
 * drop-path masks. */
#include <math.h>
#include <string.h>

#include "rng.h"
#include "train_graph_internal.h"

void ens_tg_set_regularization(ens_train_graph *g, float drop_rate, float drop_path_rate)
{
  g->drop_rate = drop_rate;
  g->drop_path_rate = drop_path_rate;
  /* timm: block i of n gets drop_path_rate * i / n (global index over all stages) */
  for (int i = 0; i < g->arch.nblocks; i++)
    g->blocks[i].drop_path = drop_path_rate * (float)i / (float)g->arch.nblocks;
}

void ens_tg_clear_masks(ens_train_graph *g)
{
  size_t nf = (size_t)g->N * g->arch.head_chs;
  for (size_t i = 0; i < nf; i++)
    g->drop_mask[i] = 1.0f;
  for (int i = 0; i < g->arch.nblocks; i++)
    if (g->blocks[i].dp_mask)
      for (int n = 0; n < g->N; n++)
        g->blocks[i].dp_mask[n] = 1.0f;
  g->masks_active = 0;
}

float *ens_tg_droppath_mask(ens_train_graph *g, int block)
{
  g->masks_active = 1;
  return block >= 0 && block < g->arch.nblocks ? g->blocks[block].dp_mask : NULL;
}

float *ens_tg_dropout_mask(ens_train_graph *g)
{
  g->masks_active = 1;
  return g->drop_mask;
}

/* One Bernoulli(keep) draw scaled by 1/keep (timm's scale_by_keep); keep 1 -> 1. */
static float keep_draw(ens_rng *r, float rate)
{
  if (rate <= 0.0f)
    return 1.0f;
  float keep = 1.0f - rate;
  return ens_rng_uniform(r) < keep ? 1.0f / keep : 0.0f;
}

void ens_tg_draw_masks(ens_train_graph *g, uint64_t seed, uint64_t step)
{
  int F = g->arch.head_chs;
  for (int n = 0; n < g->N; n++) {
    /* one stream per (seed, step, sample): same masks for any thread count or batch split */
    ens_rng r;
    ens_rng_seed(&r, seed ^ (step * 0x9E3779B97F4A7C15ULL), (uint64_t)n);
    for (int i = 0; i < g->arch.nblocks; i++)
      if (g->blocks[i].dp_mask)
        g->blocks[i].dp_mask[n] = keep_draw(&r, g->blocks[i].drop_path);
    for (int f = 0; f < F; f++)
      g->drop_mask[(size_t)n * F + f] = keep_draw(&r, g->drop_rate);
  }
  g->masks_active = 1;
}

static void bn_forward(ens_train_graph *g, tg_bn *bn, float *y, const float *x, size_t P, int train)
{
  if (train)
    batchnorm_train_forward(g->pool, y, bn->mean, bn->invstd, bn->var, x, bn->w, bn->b, bn->rm,
                            bn->rv, (int)P, bn->C, ENS_TG_BN_EPS, ENS_TG_BN_MOMENTUM);
  else
    batchnorm_eval_forward(g->pool, y, x, bn->w, bn->b, bn->rm, bn->rv, (int)P, bn->C,
                           ENS_TG_BN_EPS);
}

/* NCHW [N,3,H,W] -> NHWC */
static void input_to_nhwc(float *dst, const float *src, int N, int H, int W)
{
  size_t plane = (size_t)H * W;
  for (int n = 0; n < N; n++)
    for (int c = 0; c < 3; c++)
      for (size_t p = 0; p < plane; p++)
        dst[((size_t)n * plane + p) * 3 + c] = src[((size_t)n * 3 + c) * plane + p];
}

static void block_forward(ens_train_graph *g, tg_block *b, const float *in, int train)
{
  const ens_train_block *d = b->def;
  size_t Pin = (size_t)g->N * b->H * b->W, Pout = (size_t)g->N * b->OH * b->OW;
  const float *dw_in = in;
  if (d->type == ENS_BLOCK_IR) {
    conv1x1_forward(g->pool, b->x_exp, in, b->exp_w, (int)Pin, d->in, d->mid, &g->pw);
    bn_forward(g, &b->bn_exp, b->y_exp, b->x_exp, Pin, train);
    silu_forward(g->pool, b->a_exp, b->y_exp, Pin * d->mid);
    dw_in = b->a_exp;
  }
  dwconv_forward(g->pool, b->x_dw, dw_in, b->dw_w, &b->dws);
  bn_forward(g, &b->bn_dw, b->y_dw, b->x_dw, Pout, train);
  silu_forward(g->pool, b->a_dw, b->y_dw, Pout * d->mid);
  se_forward(g->pool, b->se_out, &b->se, b->a_dw, b->ser_w, b->ser_b, b->see_w, b->see_b, g->N,
             b->OH * b->OW, d->mid, d->se_rd);
  conv1x1_forward(g->pool, b->x_proj, b->se_out, b->proj_w, (int)Pout, d->mid, d->out, &g->pw);
  bn_forward(g, &b->bn_proj, b->y_proj, b->x_proj, Pout, train);
  if (d->skip)
    residual_forward(b->out, in, b->y_proj, train && g->masks_active ? b->dp_mask : NULL, g->N,
                     (size_t)b->OH * b->OW * d->out);
}

float ens_tg_forward(ens_train_graph *g, const float *input, const float *target, float smoothing,
                     int train)
{
  const ens_train_arch *a = &g->arch;
  int N = g->N;
  size_t Pst = (size_t)N * g->SH * g->SW;
  input_to_nhwc(g->x_in, input, N, g->H, g->W);
  stem_forward(g->pool, g->x_stem, g->col, g->x_in, g->stem_w, N, g->H, g->W, g->SH, g->SW, g->spt,
               g->spl, a->stem_chs);
  bn_forward(g, &g->bn_stem, g->y_stem, g->x_stem, Pst, train);
  silu_forward(g->pool, g->a_stem, g->y_stem, Pst * a->stem_chs);
  const float *x = g->a_stem;
  for (int i = 0; i < a->nblocks; i++) {
    block_forward(g, &g->blocks[i], x, train);
    x = g->blocks[i].out;
  }
  int last = a->nblocks ? a->blocks[a->nblocks - 1].out : a->stem_chs;
  size_t Ph = (size_t)N * g->HH * g->HW;
  conv1x1_forward(g->pool, g->x_head, x, g->head_w, (int)Ph, last, a->head_chs, &g->pw);
  bn_forward(g, &g->bn_head, g->y_head, g->x_head, Ph, train);
  silu_forward(g->pool, g->a_head, g->y_head, Ph * a->head_chs);
  avgpool_forward(g->pooled, g->a_head, N, g->HH * g->HW, a->head_chs);
  const float *feat = g->pooled;
  if (train && g->masks_active) {
    dropout_forward(g->dropped, g->pooled, g->drop_mask, (size_t)N * a->head_chs);
    feat = g->dropped;
  } else {
    memcpy(g->dropped, g->pooled, (size_t)N * a->head_chs * sizeof(float));
  }
  linear_forward(g->logits, feat, g->cls_w, g->cls_b, N, a->head_chs, a->num_classes);
  if (train)
    g->num_batches_tracked++;
  g->last_train = train;
  g->loss = target ? softmax_xent_forward_backward(g->dlogits, g->logits, target, N, a->num_classes,
                                                   smoothing)
                   : NAN;
  return g->loss;
}

static void bn_backward(ens_train_graph *g, tg_bn *bn, float *d, const float *x, size_t P)
{
  batchnorm_backward(g->pool, d, bn->dw, bn->db, d, x, bn->mean, bn->invstd, bn->w, (int)P, bn->C);
}

/* dOut in gbuf[*cur]; leaves dIn in another gbuf and updates *cur. */
static void block_backward(ens_train_graph *g, tg_block *b, const float *in, int *cur)
{
  const ens_train_block *d = b->def;
  size_t Pin = (size_t)g->N * b->H * b->W, Pout = (size_t)g->N * b->OH * b->OW;
  float *A = g->gbuf[*cur], *B = g->gbuf[(*cur + 1) % 3], *C = g->gbuf[(*cur + 2) % 3];
  if (d->skip) {
    memcpy(B, A, Pout * d->out * sizeof(float)); /* the shortcut's gradient */
    residual_backward_branch(A, A, g->masks_active ? b->dp_mask : NULL, g->N,
                             (size_t)b->OH * b->OW * d->out);
  }
  bn_backward(g, &b->bn_proj, A, b->x_proj, Pout);
  conv1x1_backward(g->pool, C, b->proj_dw, A, b->se_out, b->proj_w, (int)Pout, d->mid, d->out, 0,
                   &g->pw);
  se_backward(g->pool, C, b->ser_dw, b->ser_db, b->see_dw, b->see_db, C, b->a_dw, &b->se, b->ser_w,
              b->see_w, g->N, b->OH * b->OW, d->mid, d->se_rd);
  silu_backward(g->pool, C, C, b->y_dw, Pout * d->mid);
  bn_backward(g, &b->bn_dw, C, b->x_dw, Pout);
  if (d->type == ENS_BLOCK_IR) {
    dwconv_backward(g->pool, A, b->dw_dw, C, b->a_exp, b->dw_w, &b->dws, 0);
    silu_backward(g->pool, A, A, b->y_exp, Pin * d->mid);
    bn_backward(g, &b->bn_exp, A, b->x_exp, Pin);
    conv1x1_backward(g->pool, B, b->exp_dw, A, in, b->exp_w, (int)Pin, d->in, d->mid, d->skip,
                     &g->pw);
  } else {
    dwconv_backward(g->pool, B, b->dw_dw, C, in, b->dw_w, &b->dws, d->skip);
  }
  *cur = (*cur + 1) % 3;
}

void ens_tg_backward(ens_train_graph *g, float *input_grad)
{
  const ens_train_arch *a = &g->arch;
  int N = g->N, F = a->head_chs;
  const float *feat = g->masks_active ? g->dropped : g->pooled;
  linear_backward(g->dfeat, g->cls_dw, g->cls_db, g->dlogits, feat, g->cls_w, N, F, a->num_classes);
  if (g->masks_active)
    dropout_backward(g->dfeat, g->dfeat, g->drop_mask, (size_t)N * F);
  size_t Ph = (size_t)N * g->HH * g->HW;
  int cur = 0;
  float *d = g->gbuf[cur];
  avgpool_backward(d, g->dfeat, N, g->HH * g->HW, F);
  silu_backward(g->pool, d, d, g->y_head, Ph * F);
  bn_backward(g, &g->bn_head, d, g->x_head, Ph);
  int last = a->nblocks ? a->blocks[a->nblocks - 1].out : a->stem_chs;
  const float *last_out = a->nblocks ? g->blocks[a->nblocks - 1].out : g->a_stem;
  conv1x1_backward(g->pool, g->gbuf[1], g->head_dw, d, last_out, g->head_w, (int)Ph, last, F, 0,
                   &g->pw);
  cur = 1;
  for (int i = a->nblocks - 1; i >= 0; i--)
    block_backward(g, &g->blocks[i], i ? g->blocks[i - 1].out : g->a_stem, &cur);
  size_t Pst = (size_t)N * g->SH * g->SW;
  d = g->gbuf[cur];
  silu_backward(g->pool, d, d, g->y_stem, Pst * a->stem_chs);
  bn_backward(g, &g->bn_stem, d, g->x_stem, Pst);
  float *dx = input_grad ? g->gbuf[(cur + 1) % 3] : NULL;
  stem_backward(g->pool, dx, g->gbuf[(cur + 2) % 3], g->stem_dw, d, g->col, g->stem_w, N, g->H,
                g->W, g->SH, g->SW, g->spt, g->spl, a->stem_chs);
  if (input_grad) {
    size_t plane = (size_t)g->H * g->W;
    for (int n = 0; n < N; n++)
      for (int c = 0; c < 3; c++)
        for (size_t p = 0; p < plane; p++)
          input_grad[((size_t)n * 3 + c) * plane + p] = dx[((size_t)n * plane + p) * 3 + c];
  }
}
