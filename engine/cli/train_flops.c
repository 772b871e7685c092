/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_flops.c - FLOP count of a tf_efficientnet train step (train_flops.h). */
#include "train_flops.h"

/* TF "SAME" output size. */
static int same_out(int in, int stride)
{
  return (in + stride - 1) / stride;
}

double ens_train_forward_gflop(const ens_train_arch *a, int h, int w)
{
  h = same_out(h, 2);
  w = same_out(w, 2);
  double macs = (double)h * w * a->stem_chs * 27;
  int last = a->stem_chs;
  for (int i = 0; i < a->nblocks; i++) {
    const ens_train_block *b = &a->blocks[i];
    if (b->type == ENS_BLOCK_IR)
      macs += (double)h * w * b->in * b->mid;
    h = same_out(h, b->stride);
    w = same_out(w, b->stride);
    macs += (double)h * w * b->mid * b->k * b->k;
    macs += 2.0 * b->mid * b->se_rd;
    macs += (double)h * w * b->mid * b->out;
    last = b->out;
  }
  macs += (double)h * w * last * a->head_chs;
  macs += (double)a->head_chs * a->num_classes;
  return 2.0 * macs / 1e9;
}

double ens_train_step_gflop(const ens_train_arch *a, int h, int w)
{
  return 3.0 * ens_train_forward_gflop(a, h, w);
}
