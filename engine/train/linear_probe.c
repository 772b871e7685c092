/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* linear_probe.c - a linear probe (see trainer.h): the backbone is frozen, so the pooled
 * features of every training image are computed once in eval mode and only the classifier is
 * trained on them, with the recipe's optimizer, schedule and label smoothing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "train_ops.h"
#include "trainer.h"

static double probe_now_s(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* feats[n, F]: eval-mode (running statistics, no masks) pooled features of every sample of d,
 * preprocessed with the evaluation pipeline (no augmentation). */
static ens_status extract_features(ens_train_graph *g, const ens_batch_config *eval_b,
                                   const ens_dataset *d, float *feats, ens_error *err)
{
  int B = ens_tg_batch(g), F = ens_tg_arch(g)->head_chs, S = eval_b->size;
  float *x = malloc((size_t)B * 3 * S * S * sizeof *x);
  int *idx = malloc((size_t)B * sizeof *idx);
  ens_status st = ENS_OK;
  if (!x || !idx)
    st = ens_fail(err, ENS_ERR_NOMEM, "out of memory for a feature-extraction batch");
  for (int i0 = 0; i0 < d->n && st == ENS_OK; i0 += B) {
    int b = d->n - i0 < B ? d->n - i0 : B;
    for (int j = 0; j < B; j++) /* a short last batch repeats its last sample */
      idx[j] = i0 + (j < b ? j : b - 1);
    st = ens_batch_fill(eval_b, d, idx, B, 0, ens_tg_pool(g), x, NULL, err);
    if (st != ENS_OK)
      break;
    ens_tg_forward(g, x, NULL, 0.0f, 0);
    memcpy(feats + (size_t)i0 * F, ens_tg_features(g), (size_t)b * F * sizeof *feats);
  }
  free(x);
  free(idx);
  return st;
}

/* Target row of sample i as the batches of ens_train_fit get it: a soft row as is, else the
 * label smoothed with eps. */
static void probe_target(const ens_dataset *d, int i, float eps, float *y)
{
  int k = d->num_classes;
  if (d->soft && d->soft_rows[i]) {
    memcpy(y, d->soft + (size_t)i * k, (size_t)k * sizeof *y);
    return;
  }
  for (int j = 0; j < k; j++)
    y[j] = eps / (float)k;
  y[d->labels[i]] = 1.0f - eps + eps / (float)k;
}

typedef struct {
  float *feats; /* [n, F] */
  float *xb;    /* [B, F] the batch's features */
  float *yb;    /* [B, K] targets */
  float *zb;    /* [B, K] logits */
  float *dz;    /* [B, K] loss gradient */
  int *order;
  ens_optimizer *opt;
} probe_state;

static void probe_state_free(probe_state *s)
{
  free(s->feats);
  free(s->xb);
  free(s->yb);
  free(s->zb);
  free(s->dz);
  free(s->order);
  ens_optim_free(s->opt);
}

/* The classifier's weight [K, F] and bias [K] among the graph's params (timm names). */
static ens_status find_classifier(ens_train_graph *g, ens_param cls[2], ens_error *err)
{
  int np, found = 0;
  ens_param *p = ens_tg_params(g, &np);
  for (int i = 0; i < np; i++) {
    if (strcmp(p[i].name, "classifier.weight") == 0) {
      cls[0] = p[i];
      found |= 1;
    } else if (strcmp(p[i].name, "classifier.bias") == 0) {
      cls[1] = p[i];
      found |= 2;
    }
  }
  if (found != 3 || !cls[0].grad || !cls[1].grad)
    return ens_fail(err, ENS_ERR_MODEL, "the model has no trainable classifier.weight / .bias");
  return ENS_OK;
}

/* One epoch of classifier steps over the cached features; *loss_sum / *loss_n accumulate. */
static ens_status probe_epoch(ens_train_graph *g, const ens_train_recipe *r,
                              const ens_dataset *train, const ens_param cls[2],
                              const ens_lr_schedule *sched, probe_state *s, int spe,
                              long long *step, double *loss_sum, int *loss_n,
                              const ens_train_io *io, ens_error *err)
{
  int B = ens_tg_batch(g), K = ens_tg_arch(g)->num_classes, F = ens_tg_arch(g)->head_chs;
  for (int b = 0; b < spe; b++) {
    for (int j = 0; j < B; j++) {
      int i = s->order[(size_t)b * B + j];
      memcpy(s->xb + (size_t)j * F, s->feats + (size_t)i * F, (size_t)F * sizeof *s->xb);
      probe_target(train, i, r->smoothing, s->yb + (size_t)j * K);
    }
    double lr = ens_lr_at(sched, *step);
    ens_optim_set_lr(s->opt, lr);
    linear_forward(s->zb, s->xb, cls[0].data, cls[1].data, B, F, K);
    float loss = softmax_xent_forward_backward(s->dz, s->zb, s->yb, B, K, 0.0f);
    if (!isfinite(loss))
      return ens_fail(err, ENS_ERR_MODEL,
                      "%s: the loss became non-finite at step %lld (lr %g): lower --lr", io->phase,
                      *step, lr);
    linear_backward(NULL, cls[0].grad, cls[1].grad, s->dz, s->xb, cls[0].data, B, F, K);
    ens_optim_step(s->opt, ens_tg_pool(g));
    (*step)++;
    *loss_sum += loss;
    (*loss_n)++;
  }
  return ENS_OK;
}

ens_status ens_train_linear_probe(ens_train_graph *g, const ens_train_recipe *r,
                                  const ens_dataset *train, const ens_dataset *val,
                                  const ens_train_io *io, ens_train_result *res, ens_error *err)
{
  const ens_train_arch *arch = ens_tg_arch(g);
  int B = ens_tg_batch(g), K = arch->num_classes, F = arch->head_chs;
  int spe;
  ens_lr_schedule sched;
  ens_status st = ens_train_prepare(r, train, K, B, res, &spe, &sched, err);
  if (st != ENS_OK)
    return st;
  ens_param cls[2];
  if ((st = find_classifier(g, cls, err)) != ENS_OK)
    return st;

  probe_state s = {0};
  s.feats = malloc((size_t)train->n * F * sizeof *s.feats);
  s.xb = malloc((size_t)B * F * sizeof *s.xb);
  s.yb = malloc((size_t)B * K * sizeof *s.yb);
  s.zb = malloc((size_t)B * K * sizeof *s.zb);
  s.dz = malloc((size_t)B * K * sizeof *s.dz);
  s.order = malloc((size_t)train->n * sizeof *s.order);
  if (!s.feats || !s.xb || !s.yb || !s.zb || !s.dz || !s.order) {
    probe_state_free(&s);
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory for the features of %d training images",
                    train->n);
  }
  /* Only the classifier is optimized: the backbone's params never get a step. */
  st = ens_optim_new(&r->optim, cls, 2, &s.opt, err);
  double t0 = probe_now_s();
  if (st == ENS_OK)
    st = extract_features(g, &r->eval_b, train, s.feats, err);

  long long step = 0;
  for (int e = 0; e < r->epochs && st == ENS_OK; e++) {
    double te = probe_now_s(), loss_sum = 0.0;
    int loss_n = 0;
    ens_epoch_order(train->n, r->seed, e, 1, s.order);
    st = probe_epoch(g, r, train, cls, &sched, &s, spe, &step, &loss_sum, &loss_n, io, err);
    if (st != ENS_OK)
      break;
    double top1 = -1.0, top5 = -1.0;
    if (val)
      st = ens_train_evaluate(g, &r->eval_b, val, ens_tg_pool(g), &top1, &top5, NULL, NULL, err);
    if (st != ENS_OK)
      break;
    double secs = probe_now_s() - te;
    res->epochs_done = e + 1;
    res->train_loss = loss_n ? loss_sum / loss_n : 0.0;
    res->top1 = top1;
    res->top5 = top5;
    ens_train_log_epoch(io, e, r->epochs, step, ens_lr_at(&sched, step > 0 ? step - 1 : 0),
                        res->train_loss, top1, top5, secs, loss_n * (double)B / secs);
    if (io->interrupt && *io->interrupt) { /* nothing to save: the probe is cheap to rerun */
      res->interrupted = 1;
      break;
    }
  }
  res->seconds = probe_now_s() - t0;
  /* Throughput counts the images that went through the backbone (once each). */
  res->images_per_s = res->seconds > 0 ? (double)train->n / res->seconds : 0.0;
  probe_state_free(&s);
  return st;
}
