/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* variant_custom.c - ens_variant_dims of a custom-width/depth tf_efficientnet from its tensor
 * shapes, reusing the training engine's shape parser (plain shape logic, no training state). */
#include "variant_custom.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "train_arch.h"

int ens_variant_dims_blocks(const ens_variant_dims *d)
{
  int n = 0;
  for (int s = 0; s < ENS_NUM_STAGES; s++)
    n += d->repeats[s];
  return n;
}

/* One block against the arch_def rules the inference network is built with (net_build.c). */
static ens_status check_block(const char *path, const ens_train_block *b, int stage_out,
                              ens_error *err)
{
  const int s = b->stage, exp = ens_stage_exp[s];
  const ens_block_type want_type = s == 0 ? ENS_BLOCK_DS : ENS_BLOCK_IR;
  if (b->type != want_type)
    return ens_fail(err, ENS_ERR_MODEL,
                    "%s: blocks.%d.%d is %s block, but tf_efficientnet stage %d has %s blocks",
                    path, s, b->index, b->type == ENS_BLOCK_IR ? "an inverted-residual" : "a ds", s,
                    want_type == ENS_BLOCK_IR ? "inverted-residual" : "depthwise-separable");
  if (b->mid != b->in * exp)
    return ens_fail(err, ENS_ERR_MODEL,
                    "%s: blocks.%d.%d expands %d to %d channels, but tf_efficientnet stage %d "
                    "expands x%d",
                    path, s, b->index, b->in, b->mid, s, exp);
  if (b->k != ens_stage_kernel[s])
    return ens_fail(err, ENS_ERR_MODEL,
                    "%s: blocks.%d.%d.conv_dw.weight has a %dx%d kernel, but tf_efficientnet "
                    "stage %d has %dx%d",
                    path, s, b->index, b->k, b->k, s, ens_stage_kernel[s], ens_stage_kernel[s]);
  if (b->out != stage_out)
    return ens_fail(err, ENS_ERR_MODEL,
                    "%s: blocks.%d.%d has %d output channels but blocks.%d.0 has %d: every "
                    "block of a tf_efficientnet stage has the same width",
                    path, s, b->index, b->out, s, stage_out);
  const int se = ens_block_se_chs(b->mid, exp);
  if (b->se_rd != se)
    return ens_fail(err, ENS_ERR_MODEL,
                    "%s: blocks.%d.%d.se.conv_reduce.weight has %d channels, expected %d "
                    "(a quarter of the block input, %d)",
                    path, s, b->index, b->se_rd, se, b->in);
  return ENS_OK;
}

ens_status ens_variant_dims_from_st(const ens_safetensors *st, const char *path,
                                    ens_variant_dims *d, ens_error *err)
{
  ens_train_arch *a = malloc(sizeof *a); /* ~7 KB: not on the caller's stack */
  if (!a)
    return ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", path);
  ens_status s = ens_train_arch_from_st(st, a, err);
  memset(d, 0, sizeof *d);
  d->stem_chs = a->stem_chs;
  d->head_chs = a->head_chs;
  for (int i = 0; s == ENS_OK && i < a->nblocks; i++) {
    const ens_train_block *b = &a->blocks[i];
    if (b->index == 0)
      d->out_chs[b->stage] = b->out;
    d->repeats[b->stage]++;
    s = check_block(path, b, d->out_chs[b->stage], err);
  }
  free(a);
  return s;
}
