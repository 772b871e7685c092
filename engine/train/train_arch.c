/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_arch.c - building the EfficientNet block list from multipliers or from tensor shapes. */
#include "train_arch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "train_ops.h"
#include "variant.h"

void ens_train_block_name(const ens_train_block *b, char *buf, size_t len)
{
  snprintf(buf, len, "blocks.%d.%d", b->stage, b->index);
}

/* timm's SqueezeExcite: rd = round(in_chs * 0.25) (Python round, half to even). */
static int se_reduced(int in_chs)
{
  double v = in_chs * 0.25;
  double r = nearbyint(v); /* default rounding mode: half to even, as Python */
  return (int)r;
}

static void finish_block(ens_train_block *b)
{
  b->skip = b->stride == 1 && b->in == b->out;
}

ens_status ens_train_arch_from_mult(double width, double depth, int num_classes, ens_train_arch *a,
                                    ens_error *err)
{
  if (!(width > 0 && width <= 16) || !(depth > 0 && depth <= 16))
    return ens_fail(err, ENS_ERR_ARG, "width %g / depth %g multiplier out of range (0, 16]", width,
                    depth);
  if (num_classes < 1)
    return ens_fail(err, ENS_ERR_ARG, "num_classes %d must be >= 1", num_classes);
  memset(a, 0, sizeof *a);
  a->stem_chs = ens_round_channels(32, width);
  a->head_chs = ens_round_channels(1280, width);
  a->num_classes = num_classes;
  int in = a->stem_chs;
  for (int s = 0; s < ENS_NUM_STAGES; s++) {
    int reps = ens_round_repeats(ens_stage_base_repeats[s], depth);
    int out = ens_round_channels(ens_stage_base_chs[s], width);
    for (int j = 0; j < reps; j++) {
      if (a->nblocks == ENS_TRAIN_MAX_BLOCKS)
        return ens_fail(err, ENS_ERR_UNSUPPORTED, "more than %d blocks (depth %g)",
                        ENS_TRAIN_MAX_BLOCKS, depth);
      ens_train_block *b = &a->blocks[a->nblocks++];
      b->type = s == 0 ? ENS_BLOCK_DS : ENS_BLOCK_IR;
      b->stage = s;
      b->index = j;
      b->in = in;
      b->mid = in * ens_stage_exp[s];
      b->out = out;
      b->k = ens_stage_kernel[s];
      b->stride = j == 0 ? ens_stage_stride[s] : 1;
      b->se_rd = se_reduced(in);
      finish_block(b);
      in = out;
    }
  }
  return ENS_OK;
}

static const ens_st_tensor *find_fmt(const ens_safetensors *st, const char *fmt, int s, int j)
{
  char key[128];
  snprintf(key, sizeof key, fmt, s, j);
  return ens_st_find(st, key);
}

/* Shape check: ndim and leading dims (-1 = any). */
static int shape_is(const ens_st_tensor *t, int ndim, long long d0, long long d1, long long d2,
                    long long d3)
{
  long long d[4] = {d0, d1, d2, d3};
  if (!t || t->ndim != ndim)
    return 0;
  for (int i = 0; i < ndim && i < 4; i++)
    if (d[i] >= 0 && t->shape[i] != d[i])
      return 0;
  return 1;
}

ens_status ens_train_arch_from_st(const ens_safetensors *st, ens_train_arch *a, ens_error *err)
{
  memset(a, 0, sizeof *a);
  const char *path = st->path ? st->path : "model";
  const ens_st_tensor *stem = ens_st_find(st, "conv_stem.weight");
  const ens_st_tensor *head = ens_st_find(st, "conv_head.weight");
  const ens_st_tensor *cls = ens_st_find(st, "classifier.weight");
  if (!shape_is(stem, 4, -1, 3, 3, 3))
    return ens_fail(err, ENS_ERR_MODEL, "%s: conv_stem.weight missing or not [C,3,3,3]", path);
  if (!shape_is(head, 4, -1, -1, 1, 1))
    return ens_fail(err, ENS_ERR_MODEL, "%s: conv_head.weight missing or not [C,C,1,1]", path);
  if (!shape_is(cls, 2, -1, head->shape[0], 0, 0))
    return ens_fail(err, ENS_ERR_MODEL, "%s: classifier.weight missing or not [K,%lld]", path,
                    (long long)head->shape[0]);
  a->stem_chs = (int)stem->shape[0];
  a->head_chs = (int)head->shape[0];
  a->num_classes = (int)cls->shape[0];
  int in = a->stem_chs;
  for (int s = 0; s < ENS_NUM_STAGES; s++) {
    if (!find_fmt(st, "blocks.%d.%d.conv_dw.weight", s, 0))
      return ens_fail(err, ENS_ERR_MODEL, "%s: stage %d missing (no blocks.%d.0.conv_dw.weight)",
                      path, s, s);
    for (int j = 0; find_fmt(st, "blocks.%d.%d.conv_dw.weight", s, j); j++) {
      if (a->nblocks == ENS_TRAIN_MAX_BLOCKS)
        return ens_fail(err, ENS_ERR_UNSUPPORTED, "%s: more than %d blocks", path,
                        ENS_TRAIN_MAX_BLOCKS);
      ens_train_block *b = &a->blocks[a->nblocks++];
      const ens_st_tensor *dw = find_fmt(st, "blocks.%d.%d.conv_dw.weight", s, j);
      const ens_st_tensor *pwl = find_fmt(st, "blocks.%d.%d.conv_pwl.weight", s, j);
      const ens_st_tensor *pw = find_fmt(st, "blocks.%d.%d.conv_pw.weight", s, j);
      const ens_st_tensor *se = find_fmt(st, "blocks.%d.%d.se.conv_reduce.weight", s, j);
      b->stage = s;
      b->index = j;
      b->type = pwl ? ENS_BLOCK_IR : ENS_BLOCK_DS;
      b->in = in;
      if (!shape_is(dw, 4, -1, 1, -1, -1) || dw->shape[2] != dw->shape[3] ||
          dw->shape[2] % 2 == 0 || dw->shape[2] > ENS_DW_MAX_K)
        return ens_fail(
            err, ENS_ERR_MODEL,
            "%s: blocks.%d.%d.conv_dw.weight is not a depthwise [C,1,k,k] with odd k <= 7", path, s,
            j);
      b->mid = (int)dw->shape[0];
      b->k = (int)dw->shape[2];
      if (b->type == ENS_BLOCK_IR) {
        if (!shape_is(pw, 4, b->mid, in, 1, 1) || !shape_is(pwl, 4, -1, b->mid, 1, 1))
          return ens_fail(err, ENS_ERR_MODEL,
                          "%s: blocks.%d.%d conv_pw/conv_pwl shapes do not chain %d->%d->?", path,
                          s, j, in, b->mid);
        b->out = (int)pwl->shape[0];
      } else {
        if (b->mid != in || !shape_is(pw, 4, -1, in, 1, 1))
          return ens_fail(err, ENS_ERR_MODEL,
                          "%s: blocks.%d.%d depthwise-separable shapes do not chain from %d", path,
                          s, j, in);
        b->out = (int)pw->shape[0];
      }
      if (!shape_is(se, 4, -1, b->mid, 1, 1))
        return ens_fail(err, ENS_ERR_MODEL,
                        "%s: blocks.%d.%d.se.conv_reduce.weight missing or "
                        "not [rd,%d,1,1]",
                        path, s, j, b->mid);
      b->se_rd = (int)se->shape[0];
      b->stride = j == 0 ? ens_stage_stride[s] : 1;
      finish_block(b);
      in = b->out;
    }
  }
  if (find_fmt(st, "blocks.%d.%d.conv_dw.weight", ENS_NUM_STAGES, 0))
    return ens_fail(err, ENS_ERR_MODEL, "%s: more than %d stages", path, ENS_NUM_STAGES);
  if (head->shape[1] != in)
    return ens_fail(err, ENS_ERR_MODEL,
                    "%s: conv_head.weight takes %lld channels, last block "
                    "gives %d",
                    path, (long long)head->shape[1], in);
  return ENS_OK;
}

int ens_train_arch_equal(const ens_train_arch *a, const ens_train_arch *b)
{
  if (a->stem_chs != b->stem_chs || a->head_chs != b->head_chs ||
      a->num_classes != b->num_classes || a->nblocks != b->nblocks)
    return 0;
  for (int i = 0; i < a->nblocks; i++) {
    const ens_train_block *x = &a->blocks[i], *y = &b->blocks[i];
    if (x->type != y->type || x->stage != y->stage || x->index != y->index || x->in != y->in ||
        x->mid != y->mid || x->out != y->out || x->k != y->k || x->stride != y->stride ||
        x->se_rd != y->se_rd || x->skip != y->skip)
      return 0;
  }
  return 1;
}
