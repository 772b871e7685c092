/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* net_build.c - the block structure of a variant and BatchNorm folding into packed weights. */
#include "net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "huge_alloc.h"

/* Lays the structure of net out and, with base != NULL, points every weight into base.
 * Returns the number of floats needed. */
static size_t layout(ens_net *net, float *base)
{
  size_t off = 0;
#define TAKE(ptr, n)                                                                               \
  do {                                                                                             \
    (ptr) = base ? base + off : NULL;                                                              \
    off += (size_t)(n);                                                                            \
  } while (0)
  const ens_variant_dims *d = &net->dims;
  net->stem_chs = d->stem_chs;
  TAKE(net->stem_w, 27 * d->stem_chs);
  TAKE(net->stem_b, d->stem_chs);
  int in = d->stem_chs, b = 0;
  for (int s = 0; s < ENS_NUM_STAGES; s++) {
    for (int j = 0; j < d->repeats[s]; j++, b++) {
      ens_block *blk = &net->blocks[b];
      blk->type = s == 0 ? ENS_BLOCK_DS : ENS_BLOCK_IR;
      blk->stage = s;
      blk->index = j;
      blk->in_chs = in;
      blk->mid_chs = in * ens_stage_exp[s];
      blk->out_chs = d->out_chs[s];
      /* timm: SqueezeExcite(mid, rd_ratio = 0.25 / exp_ratio), rd_round_fn = round */
      blk->se_chs = ens_block_se_chs(blk->mid_chs, ens_stage_exp[s]);
      blk->k = ens_stage_kernel[s];
      blk->stride = j == 0 ? ens_stage_stride[s] : 1;
      blk->skip = blk->stride == 1 && blk->in_chs == blk->out_chs;
      const int mid = blk->mid_chs;
      if (blk->type == ENS_BLOCK_IR) {
        TAKE(blk->exp_w, ens_pw_packed_floats(in, mid));
        TAKE(blk->exp_b, mid);
      } else {
        blk->exp_w = blk->exp_b = NULL;
      }
      TAKE(blk->dw_w, (size_t)blk->k * blk->k * mid);
      TAKE(blk->dw_b, mid);
      TAKE(blk->se_rw, (size_t)mid * blk->se_chs);
      TAKE(blk->se_rb, blk->se_chs);
      TAKE(blk->se_ew, ens_pw_packed_floats(blk->se_chs, mid));
      TAKE(blk->se_eb, mid);
      TAKE(blk->proj_w, ens_pw_packed_floats(mid, blk->out_chs));
      TAKE(blk->proj_b, blk->out_chs);
      in = blk->out_chs;
    }
  }
  net->head_in = in;
  net->head_chs = d->head_chs;
  TAKE(net->head_w, ens_pw_packed_floats(in, d->head_chs));
  TAKE(net->head_b, d->head_chs);
  TAKE(net->cls_w, ens_pw_packed_floats(d->head_chs, net->num_classes));
  TAKE(net->cls_b, net->num_classes);
#undef TAKE
  return off;
}

typedef enum { PACK_STEM, PACK_POINTWISE, PACK_DEPTHWISE } pack_kind;

static ens_status read_tensor(const ens_weight_source *src, const char *key, int ndim, long long d0,
                              long long d1, long long d2, long long d3, float *dst, ens_error *err)
{
  const long long shape[4] = {d0, d1, d2, d3};
  return src->read(src->ctx, key, ndim, shape, dst, err);
}

/* What follows a conv + BN: the SiLU kernels take their input pre-scaled by ENS_SILU_PRESCALE
 * (kernels.h), folded into the weights here in the same double-precision step as the BN. */
typedef enum { THEN_NOTHING, THEN_SILU } then_act;

/* conv `conv`.weight [cout, cin_g, k, k] followed by BatchNorm `bn` (and `then`): folded and
 * packed. */
static ens_status conv_bn(const ens_weight_source *src, const char *conv, const char *bn,
                          pack_kind kind, int cout, int cin, int k, then_act then, float *dst_w,
                          float *dst_b, ens_error *err)
{
  const int cin_g = kind == PACK_DEPTHWISE ? 1 : cin;
  const size_t wn = (size_t)cout * cin_g * k * k;
  float *w = malloc(sizeof(float) * (wn + 4 * (size_t)cout));
  if (!w)
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory reading %s.weight", conv);
  float *gamma = w + wn, *beta = gamma + cout, *mean = beta + cout, *var = mean + cout;
  char key[128];
  ens_status st;
  snprintf(key, sizeof key, "%s.weight", conv);
  if ((st = read_tensor(src, key, 4, cout, cin_g, k, k, w, err)))
    goto out;
  const char *parts[4] = {"weight", "bias", "running_mean", "running_var"};
  float *dsts[4] = {gamma, beta, mean, var};
  for (int i = 0; i < 4; i++) {
    snprintf(key, sizeof key, "%s.%s", bn, parts[i]);
    if ((st = read_tensor(src, key, 1, cout, 0, 0, 0, dsts[i], err)))
      goto out;
  }
  for (int co = 0; co < cout; co++) {
    const double post = then == THEN_SILU ? ENS_SILU_PRESCALE : 1.0;
    const double bn_scale = (double)gamma[co] / sqrt((double)var[co] + ENS_BN_EPS);
    const double scale = bn_scale * post;
    dst_b[co] = (float)(((double)beta[co] - (double)mean[co] * bn_scale) * post);
    for (int ci = 0; ci < cin_g; ci++)
      for (int t = 0; t < k * k; t++) {
        const float v = (float)((double)w[((size_t)co * cin_g + ci) * k * k + t] * scale);
        switch (kind) {
          case PACK_STEM: /* [ky, kx, cin, cout] */
            dst_w[((size_t)t * cin + ci) * cout + co] = v;
            break;
          case PACK_POINTWISE: /* [cin, cout] in column panels */
            dst_w[ens_pw_index(cin, ci, co)] = v;
            break;
          case PACK_DEPTHWISE: /* [k*k, chs] */
            dst_w[(size_t)t * cout + co] = v;
            break;
        }
      }
  }
out:
  free(w);
  return st;
}

/* A 1x1 conv or linear with bias, `prefix`.weight [out, in(, 1, 1)], transposed to [in, out]:
 * row-major, or in column panels when `panels` (the layout the pointwise kernels take). */
static ens_status dense(const ens_weight_source *src, const char *prefix, int is_conv, int panels,
                        int out, int in, float *dst_w, float *dst_b, ens_error *err)
{
  float *w = malloc(sizeof(float) * (size_t)out * in);
  if (!w)
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory reading %s.weight", prefix);
  char key[128];
  snprintf(key, sizeof key, "%s.weight", prefix);
  ens_status st = read_tensor(src, key, is_conv ? 4 : 2, out, in, 1, 1, w, err);
  if (st == ENS_OK) {
    for (int o = 0; o < out; o++)
      for (int i = 0; i < in; i++)
        dst_w[panels ? ens_pw_index(in, i, o) : (size_t)i * out + o] = w[(size_t)o * in + i];
    snprintf(key, sizeof key, "%s.bias", prefix);
    st = read_tensor(src, key, 1, out, 0, 0, 0, dst_b, err);
  }
  free(w);
  return st;
}

static ens_status build_block(const ens_weight_source *src, ens_block *b, ens_error *err)
{
  char p[64], a[96], c[96];
  snprintf(p, sizeof p, "blocks.%d.%d", b->stage, b->index);
  ens_status st;
  const int mid = b->mid_chs;
  if (b->type == ENS_BLOCK_IR) {
    snprintf(a, sizeof a, "%s.conv_pw", p);
    snprintf(c, sizeof c, "%s.bn1", p);
    if ((st = conv_bn(src, a, c, PACK_POINTWISE, mid, b->in_chs, 1, THEN_SILU, b->exp_w, b->exp_b,
                      err)))
      return st;
  }
  snprintf(a, sizeof a, "%s.conv_dw", p);
  snprintf(c, sizeof c, "%s.%s", p, b->type == ENS_BLOCK_IR ? "bn2" : "bn1");
  if ((st = conv_bn(src, a, c, PACK_DEPTHWISE, mid, mid, b->k, THEN_SILU, b->dw_w, b->dw_b, err)))
    return st;
  snprintf(a, sizeof a, "%s.se.conv_reduce", p);
  if ((st = dense(src, a, 1, 0, b->se_chs, mid, b->se_rw, b->se_rb, err)))
    return st;
  snprintf(a, sizeof a, "%s.se.conv_expand", p);
  if ((st = dense(src, a, 1, 1, mid, b->se_chs, b->se_ew, b->se_eb, err)))
    return st;
  snprintf(a, sizeof a, "%s.%s", p, b->type == ENS_BLOCK_IR ? "conv_pwl" : "conv_pw");
  snprintf(c, sizeof c, "%s.%s", p, b->type == ENS_BLOCK_IR ? "bn3" : "bn2");
  return conv_bn(src, a, c, PACK_POINTWISE, b->out_chs, mid, 1, THEN_NOTHING, b->proj_w, b->proj_b,
                 err);
}

ens_status ens_net_build(ens_net *net, const ens_variant_def *v, const ens_variant_dims *dims,
                         int num_classes, const ens_weight_source *src, ens_error *err)
{
  memset(net, 0, sizeof *net);
  if (num_classes < 1)
    return ens_fail(err, ENS_ERR_ARG, "num_classes must be >= 1 (got %d)", num_classes);
  net->variant = v;
  net->dims = *dims;
  net->num_classes = num_classes;
  for (int s = 0; s < ENS_NUM_STAGES; s++)
    net->num_blocks += dims->repeats[s];
  net->blocks = calloc((size_t)net->num_blocks, sizeof(ens_block));
  if (!net->blocks)
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory for the network");
  net->weight_floats = layout(net, NULL);
  /* zeroed: the panels' padding */
  net->weights = ens_huge_alloc(sizeof(float) * net->weight_floats);
  if (!net->weights) {
    const size_t bytes = sizeof(float) * net->weight_floats; /* ens_net_free zeroes it */
    ens_net_free(net);
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory for %.1f MB of weights",
                    (double)bytes / (1 << 20));
  }
  layout(net, net->weights);

  ens_status st = conv_bn(src, "conv_stem", "bn1", PACK_STEM, net->stem_chs, 3, 3, THEN_SILU,
                          net->stem_w, net->stem_b, err);
  for (int b = 0; st == ENS_OK && b < net->num_blocks; b++)
    st = build_block(src, &net->blocks[b], err);
  if (st == ENS_OK)
    st = conv_bn(src, "conv_head", "bn2", PACK_POINTWISE, net->head_chs, net->head_in, 1, THEN_SILU,
                 net->head_w, net->head_b, err);
  if (st == ENS_OK)
    st = dense(src, "classifier", 0, 1, num_classes, net->head_chs, net->cls_w, net->cls_b, err);
  if (st != ENS_OK)
    ens_net_free(net);
  return st;
}

void ens_net_free(ens_net *net)
{
  free(net->blocks);
  ens_huge_free(net->weights, sizeof(float) * net->weight_floats);
  memset(net, 0, sizeof *net);
}
