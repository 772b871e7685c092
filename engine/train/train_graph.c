/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_graph.c - planning the training arena and registering the parameters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "huge_alloc.h"
#include "kernels/kernels.h"
#include "train_graph_internal.h"
#include "variant.h"

typedef struct {
  float *base; /* NULL while counting */
  size_t off;
} planner;

/* n floats, 64-byte aligned within the arena */
static float *take(planner *pl, size_t n)
{
  size_t o = pl->off;
  pl->off += (n + 15) & ~(size_t)15;
  return pl->base ? pl->base + o : NULL;
}

static void add_param(ens_train_graph *g, const char *name, int ndim, const long long *shape,
                      float *data, float *grad, int is_buffer)
{
  if (!g->arena)
    return;
  ens_param *p = &g->params[g->nparams++];
  memset(p, 0, sizeof *p);
  snprintf(p->name, sizeof p->name, "%s", name);
  p->ndim = ndim;
  p->numel = 1;
  for (int i = 0; i < ndim; i++) {
    p->shape[i] = shape[i];
    p->numel *= (size_t)shape[i];
  }
  p->data = data;
  p->grad = grad;
  p->is_buffer = is_buffer;
  p->no_weight_decay = ndim <= 1;
}

/* a weight (with grad) of timm shape; returns data, *grad receives the gradient */
static float *weight(ens_train_graph *g, planner *pl, const char *name, int ndim, long long d0,
                     long long d1, long long d2, long long d3, float **grad)
{
  long long shape[4] = {d0, d1, d2, d3};
  size_t n = 1;
  for (int i = 0; i < ndim; i++)
    n *= (size_t)shape[i];
  float *data = take(pl, n);
  *grad = take(pl, n);
  add_param(g, name, ndim, shape, data, *grad, 0);
  return data;
}

static void plan_bn(ens_train_graph *g, planner *pl, tg_bn *bn, const char *name, int C)
{
  char key[ENS_PARAM_NAME_MAX];
  long long shape[1] = {C};
  snprintf(bn->name, sizeof bn->name, "%s", name);
  bn->C = C;
  snprintf(key, sizeof key, "%s.weight", name);
  bn->w = weight(g, pl, key, 1, C, 0, 0, 0, &bn->dw);
  snprintf(key, sizeof key, "%s.bias", name);
  bn->b = weight(g, pl, key, 1, C, 0, 0, 0, &bn->db);
  bn->rm = take(pl, (size_t)C);
  bn->rv = take(pl, (size_t)C);
  snprintf(key, sizeof key, "%s.running_mean", name);
  add_param(g, key, 1, shape, bn->rm, NULL, 1);
  snprintf(key, sizeof key, "%s.running_var", name);
  add_param(g, key, 1, shape, bn->rv, NULL, 1);
  bn->mean = take(pl, (size_t)C);
  bn->invstd = take(pl, (size_t)C);
  bn->var = take(pl, (size_t)C);
}

static void grow(size_t *m, size_t v)
{
  if (v > *m)
    *m = v;
}

/* scratch for a 1x1 convolution cin -> cout (forward) and its input gradient (cout -> cin) */
static void pw_need(ens_train_graph *g, int cin, int cout)
{
  grow(&g->pwmax, ens_pw_packed_floats(cin, cout));
  grow(&g->pwmax, ens_pw_packed_floats(cout, cin));
  grow(&g->zmax, (size_t)(cin > cout ? cin : cout));
}

static void plan_block(ens_train_graph *g, planner *pl, tg_block *b, int H, int W)
{
  const ens_train_block *d = b->def;
  char pre[32], key[ENS_PARAM_NAME_MAX];
  ens_train_block_name(d, pre, sizeof pre);
  int N = g->N, pt, pb, pl_, pr;
  b->H = H;
  b->W = W;
  b->OH = ens_same_pad(H, d->k, d->stride, &pt, &pb);
  b->OW = ens_same_pad(W, d->k, d->stride, &pl_, &pr);
  b->dws = (ens_dw_shape){N, H, W, d->mid, b->OH, b->OW, d->k, d->stride, pt, pl_, NULL, NULL};
  b->dws.zeros = take(pl, (size_t)d->mid); /* never written: the arena starts zeroed */
  b->dws.wflip = take(pl, (size_t)d->k * d->k * d->mid);
  size_t Pin = (size_t)N * H * W, Pout = (size_t)N * b->OH * b->OW;
  int ir = d->type == ENS_BLOCK_IR;
  if (ir) {
    snprintf(key, sizeof key, "%s.conv_pw.weight", pre);
    b->exp_w = weight(g, pl, key, 4, d->mid, d->in, 1, 1, &b->exp_dw);
    snprintf(key, sizeof key, "%s.bn1", pre);
    plan_bn(g, pl, &b->bn_exp, key, d->mid);
  }
  snprintf(key, sizeof key, "%s.conv_dw.weight", pre);
  b->dw_w = weight(g, pl, key, 4, d->mid, 1, d->k, d->k, &b->dw_dw);
  snprintf(key, sizeof key, "%s.%s", pre, ir ? "bn2" : "bn1");
  plan_bn(g, pl, &b->bn_dw, key, d->mid);
  snprintf(key, sizeof key, "%s.se.conv_reduce.weight", pre);
  b->ser_w = weight(g, pl, key, 4, d->se_rd, d->mid, 1, 1, &b->ser_dw);
  snprintf(key, sizeof key, "%s.se.conv_reduce.bias", pre);
  b->ser_b = weight(g, pl, key, 1, d->se_rd, 0, 0, 0, &b->ser_db);
  snprintf(key, sizeof key, "%s.se.conv_expand.weight", pre);
  b->see_w = weight(g, pl, key, 4, d->mid, d->se_rd, 1, 1, &b->see_dw);
  snprintf(key, sizeof key, "%s.se.conv_expand.bias", pre);
  b->see_b = weight(g, pl, key, 1, d->mid, 0, 0, 0, &b->see_db);
  snprintf(key, sizeof key, "%s.%s.weight", pre, ir ? "conv_pwl" : "conv_pw");
  b->proj_w = weight(g, pl, key, 4, d->out, d->mid, 1, 1, &b->proj_dw);
  snprintf(key, sizeof key, "%s.%s", pre, ir ? "bn3" : "bn2");
  plan_bn(g, pl, &b->bn_proj, key, d->out);

  if (ir)
    pw_need(g, d->in, d->mid);
  pw_need(g, d->mid, d->out);
  if (ir) {
    b->x_exp = take(pl, Pin * d->mid);
    b->y_exp = take(pl, Pin * d->mid);
    b->a_exp = take(pl, Pin * d->mid);
    grow(&g->gmax, Pin * d->mid);
  }
  b->x_dw = take(pl, Pout * d->mid);
  b->y_dw = take(pl, Pout * d->mid);
  b->a_dw = take(pl, Pout * d->mid);
  b->se.m = take(pl, (size_t)N * d->mid);
  b->se.r = take(pl, (size_t)N * d->se_rd);
  b->se.ra = take(pl, (size_t)N * d->se_rd);
  b->se.g = take(pl, (size_t)N * d->mid);
  b->se.de = take(pl, (size_t)N * d->mid);
  b->se.dr = take(pl, (size_t)N * d->se_rd);
  b->se.acc = (double *)take(pl, (size_t)N * d->mid * 2); /* 64-byte aligned, 2 floats each */
  b->se_out = take(pl, Pout * d->mid);
  b->x_proj = take(pl, Pout * d->out);
  b->y_proj = take(pl, Pout * d->out);
  b->out = d->skip ? take(pl, Pout * d->out) : b->y_proj;
  b->dp_mask = d->skip ? take(pl, (size_t)N) : NULL;
  grow(&g->gmax, Pin * d->in);
  grow(&g->gmax, Pout * d->mid);
  grow(&g->gmax, Pout * d->out);
}

/* One pass over the whole graph: counts (pl->base NULL) or assigns pointers. */
static void plan(ens_train_graph *g, planner *pl)
{
  const ens_train_arch *a = &g->arch;
  int N = g->N, pb;
  g->nparams = 0;
  g->gmax = g->pwmax = g->zmax = 0;
  g->SH = ens_same_pad(g->H, 3, 2, &g->spt, &pb);
  g->SW = ens_same_pad(g->W, 3, 2, &g->spl, &pb);
  size_t Pst = (size_t)N * g->SH * g->SW;
  g->stem_w = weight(g, pl, "conv_stem.weight", 4, a->stem_chs, 3, 3, 3, &g->stem_dw);
  plan_bn(g, pl, &g->bn_stem, "bn1", a->stem_chs);
  g->x_in = take(pl, (size_t)N * g->H * g->W * 3);
  g->col = take(pl, Pst * 27);
  g->x_stem = take(pl, Pst * a->stem_chs);
  g->y_stem = take(pl, Pst * a->stem_chs);
  g->a_stem = take(pl, Pst * a->stem_chs);
  grow(&g->gmax, Pst * 27);
  grow(&g->gmax, Pst * a->stem_chs);
  grow(&g->gmax, (size_t)N * g->H * g->W * 3);
  int H = g->SH, W = g->SW;
  for (int i = 0; i < a->nblocks; i++) {
    tg_block *b = &g->blocks[i];
    b->def = &a->blocks[i];
    b->drop_path = 0;
    plan_block(g, pl, b, H, W);
    H = b->OH;
    W = b->OW;
  }
  int last = a->nblocks ? a->blocks[a->nblocks - 1].out : a->stem_chs;
  g->HH = H;
  g->HW = W;
  size_t Ph = (size_t)N * H * W;
  g->head_w = weight(g, pl, "conv_head.weight", 4, a->head_chs, last, 1, 1, &g->head_dw);
  plan_bn(g, pl, &g->bn_head, "bn2", a->head_chs);
  g->cls_w = weight(g, pl, "classifier.weight", 2, a->num_classes, a->head_chs, 0, 0, &g->cls_dw);
  g->cls_b = weight(g, pl, "classifier.bias", 1, a->num_classes, 0, 0, 0, &g->cls_db);
  g->x_head = take(pl, Ph * a->head_chs);
  g->y_head = take(pl, Ph * a->head_chs);
  g->a_head = take(pl, Ph * a->head_chs);
  grow(&g->gmax, Ph * a->head_chs);
  size_t NF = (size_t)N * a->head_chs;
  g->pooled = take(pl, NF);
  g->dropped = take(pl, NF);
  g->drop_mask = take(pl, NF);
  g->dfeat = take(pl, NF);
  g->logits = take(pl, (size_t)N * a->num_classes);
  g->dlogits = take(pl, (size_t)N * a->num_classes);
  pw_need(g, last, a->head_chs);
  for (int i = 0; i < 3; i++)
    g->gbuf[i] = take(pl, g->gmax);
  g->pw.pack = take(pl, g->pwmax);
  g->pw.zeros = take(pl, g->zmax); /* never written: the arena starts zeroed */
}

ens_status ens_tg_new(const ens_train_arch *arch, int batch, int height, int width, int threads,
                      ens_train_graph **out, ens_error *err)
{
  *out = NULL;
  if (batch < 1 || height < 8 || width < 8 || height > 4096 || width > 4096)
    return ens_fail(err, ENS_ERR_ARG,
                    "training graph: batch %d / input %dx%d out of range "
                    "(batch >= 1, 8..4096 pixels)",
                    batch, height, width);
  ens_train_graph *g = calloc(1, sizeof *g);
  if (!g)
    return ens_fail(err, ENS_ERR_NOMEM, "training graph: out of memory");
  g->arch = *arch;
  g->N = batch;
  g->H = height;
  g->W = width;
  planner pl = {NULL, 0};
  plan(g, &pl);
  g->arena_floats = pl.off;
  g->params_cap = 8 + arch->nblocks * 32;
  g->params = calloc((size_t)g->params_cap, sizeof *g->params);
  /* zeroed by the kernel (no memset pass), 2 MiB pages where allowed */
  g->arena = ens_huge_alloc(g->arena_floats * sizeof(float));
  if (!g->params || !g->arena) {
    ens_tg_free(g);
    return ens_fail(err, ENS_ERR_NOMEM,
                    "training graph: cannot allocate %.1f MB for batch %d "
                    "at %dx%d",
                    g->arena_floats * 4.0 / 1e6, batch, height, width);
  }
  pl = (planner){g->arena, 0};
  plan(g, &pl);
  ens_status st = ens_threadpool_new(threads, &g->pool, err);
  if (st != ENS_OK) {
    ens_tg_free(g);
    return st;
  }
  for (int i = 0; i < g->nparams; i++)
    if (g->params[i].is_buffer && strstr(g->params[i].name, "running_var"))
      for (size_t j = 0; j < g->params[i].numel; j++)
        g->params[i].data[j] = 1.0f;
  ens_tg_clear_masks(g);
  g->loss = 0.0f / 0.0f;
  *out = g;
  return ENS_OK;
}

void ens_tg_free(ens_train_graph *g)
{
  if (!g)
    return;
  if (g->pool)
    ens_threadpool_free(g->pool);
  ens_huge_free(g->arena, g->arena_floats * sizeof(float));
  free(g->params);
  free(g);
}

const ens_train_arch *ens_tg_arch(const ens_train_graph *g)
{
  return &g->arch;
}

ens_threadpool *ens_tg_pool(ens_train_graph *g)
{
  return g->pool;
}

size_t ens_tg_arena_bytes(const ens_train_graph *g)
{
  return g->arena_floats * sizeof(float);
}

int ens_tg_batch(const ens_train_graph *g)
{
  return g->N;
}

ens_param *ens_tg_params(ens_train_graph *g, int *count)
{
  *count = g->nparams;
  return g->params;
}

int64_t *ens_tg_num_batches_tracked(ens_train_graph *g)
{
  return &g->num_batches_tracked;
}

const float *ens_tg_logits(const ens_train_graph *g)
{
  return g->logits;
}

const float *ens_tg_features(const ens_train_graph *g)
{
  return g->pooled;
}

static const tg_bn *find_bn(const ens_train_graph *g, const char *name)
{
  if (!strcmp(name, g->bn_stem.name))
    return &g->bn_stem;
  if (!strcmp(name, g->bn_head.name))
    return &g->bn_head;
  for (int i = 0; i < g->arch.nblocks; i++) {
    const tg_block *b = &g->blocks[i];
    const tg_bn *all[3] = {&b->bn_exp, &b->bn_dw, &b->bn_proj};
    for (int j = 0; j < 3; j++)
      if (all[j]->C && !strcmp(name, all[j]->name))
        return all[j];
  }
  return NULL;
}

const float *ens_tg_bn_batch_mean(const ens_train_graph *g, const char *bn, int *channels)
{
  const tg_bn *b = find_bn(g, bn);
  *channels = b ? b->C : 0;
  return b ? b->mean : NULL;
}

const float *ens_tg_bn_batch_var(const ens_train_graph *g, const char *bn, int *channels)
{
  const tg_bn *b = find_bn(g, bn);
  *channels = b ? b->C : 0;
  return b ? b->var : NULL;
}

void ens_tg_copy_params(ens_train_graph *dst, const ens_train_graph *src)
{
  for (int i = 0; i < dst->nparams && i < src->nparams; i++)
    memcpy(dst->params[i].data, src->params[i].data, src->params[i].numel * sizeof(float));
  dst->num_batches_tracked = src->num_batches_tracked;
}
