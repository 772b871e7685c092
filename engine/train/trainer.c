/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* trainer.c - the supervised training loop (see trainer.h). */
#include "trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "checkpoint.h"
#include "error.h"

void ens_train_recipe_default(ens_train_recipe *r)
{
  memset(r, 0, sizeof *r);
  r->epochs = 20;
  r->optim = ens_optim_config_default(ENS_OPTIM_RMSPROP_TF);
  r->optim.lr = 0.016;
  r->optim.alpha = 0.9;
  r->optim.eps = 1e-3;
  r->optim.momentum = 0.9;
  r->optim.weight_decay = 1e-5;
  r->optim.exclude_no_weight_decay = 1;
  r->warmup_epochs = 1.0;
  r->warmup_lr = 1e-5;
  r->min_lr = 0.0;
  r->smoothing = 0.1f;
}

static double now_s(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- evaluation */

/* Top-1 / top-5 hits of one row of logits against label (label < 0: not counted). */
static void score_row(const float *z, int k, int label, long long *hit1, long long *hit5, int *pred)
{
  int best = 0, above = 0;
  for (int j = 1; j < k; j++)
    if (z[j] > z[best])
      best = j;
  if (label >= 0)
    for (int j = 0; j < k; j++) /* classes ranked before the label (ties: lower id first) */
      if (z[j] > z[label] || (z[j] == z[label] && j < label))
        above++;
  *pred = best;
  if (label >= 0) {
    *hit1 += best == label;
    *hit5 += above < 5;
  }
}

static void softmax_row(const float *z, int k, float *p)
{
  float m = z[0];
  for (int j = 1; j < k; j++)
    m = z[j] > m ? z[j] : m;
  double s = 0.0;
  for (int j = 0; j < k; j++)
    s += exp((double)(z[j] - m));
  for (int j = 0; j < k; j++)
    p[j] = (float)(exp((double)(z[j] - m)) / s);
}

ens_status ens_train_evaluate(ens_train_graph *g, const ens_batch_config *eval_b,
                              const ens_dataset *d, ens_threadpool *pool, double *top1,
                              double *top5, long long *confusion, float *probs, ens_error *err)
{
  int B = ens_tg_batch(g), K = ens_tg_arch(g)->num_classes, S = eval_b->size;
  if (d->num_classes != K)
    return ens_fail(err, ENS_ERR_ARG, "evaluation data has %d classes, the model %d",
                    d->num_classes, K);
  float *x = malloc((size_t)B * 3 * S * S * sizeof *x);
  int *idx = malloc((size_t)B * sizeof *idx);
  if (!x || !idx) {
    free(x);
    free(idx);
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory for an evaluation batch");
  }
  if (confusion)
    memset(confusion, 0, (size_t)K * K * sizeof *confusion);
  long long hit1 = 0, hit5 = 0, labeled = 0;
  ens_status st = ENS_OK;
  for (int i0 = 0; i0 < d->n && st == ENS_OK; i0 += B) {
    int b = d->n - i0 < B ? d->n - i0 : B;
    for (int j = 0; j < B; j++) /* a short last batch repeats its last sample */
      idx[j] = i0 + (j < b ? j : b - 1);
    st = ens_batch_fill(eval_b, d, idx, B, 0, pool, x, NULL, err);
    if (st != ENS_OK)
      break;
    ens_tg_forward(g, x, NULL, 0.0f, 0);
    const float *z = ens_tg_logits(g);
    for (int j = 0; j < b; j++) {
      const float *row = z + (size_t)j * K;
      for (int c = 0; c < K; c++)
        if (!isfinite(row[c])) {
          st = ens_fail(err, ENS_ERR_MODEL,
                        "non-finite logits for sample %d: the model's weights have diverged",
                        i0 + j);
          break;
        }
      if (st != ENS_OK)
        break;
      int label = d->labels[i0 + j], pred;
      score_row(row, K, label, &hit1, &hit5, &pred);
      if (label >= 0) {
        labeled++;
        if (confusion)
          confusion[(size_t)label * K + pred]++;
      }
      if (probs)
        softmax_row(row, K, probs + (size_t)(i0 + j) * K);
    }
  }
  free(x);
  free(idx);
  if (top1)
    *top1 = labeled ? 100.0 * (double)hit1 / (double)labeled : -1.0;
  if (top5)
    *top5 = labeled ? 100.0 * (double)hit5 / (double)labeled : -1.0;
  return st;
}

/* ---------------------------------------------------------------- progress and log */

static void progress_line(const ens_train_io *io, int epoch, int epochs, long long step,
                          long long total, double ips, double loss, double lr, double eta)
{
  if (!io->progress)
    return;
  fprintf(stderr,
          "\r%s epoch %d/%d  step %lld/%lld  %.0f img/s  loss %.4f  lr %.3g  ETA %dm%02ds   ",
          io->phase, epoch + 1, epochs, step, total, ips, loss, lr, (int)(eta / 60),
          (int)fmod(eta, 60.0));
  fflush(stderr);
}

void ens_train_log_epoch(const ens_train_io *io, int epoch, int epochs, long long step, double lr,
                         double loss, double top1, double top5, double secs, double ips)
{
  if (io->progress)
    fprintf(stderr, "\n");
  if (!io->log)
    return;
  fprintf(io->log,
          "{\"phase\":\"%s\",\"epoch\":%d,\"epochs\":%d,\"step\":%lld,\"lr\":%.6g,"
          "\"train_loss\":%.6f,",
          io->phase, epoch + 1, epochs, step, lr, loss);
  if (top1 >= 0)
    fprintf(io->log, "\"val_top1\":%.2f,\"val_top5\":%.2f,", top1, top5);
  else
    fprintf(io->log, "\"val_top1\":null,\"val_top5\":null,");
  fprintf(io->log, "\"seconds\":%.2f,\"images_per_s\":%.1f}\n", secs, ips);
  fflush(io->log);
}

/* ---------------------------------------------------------------- the loop */

typedef struct {
  ens_optimizer *opt;
  ens_ema *ema;
  float *x, *y;
  int *order;
} fit_state;

static void fit_state_free(fit_state *s)
{
  ens_optim_free(s->opt);
  ens_ema_free(s->ema);
  free(s->x);
  free(s->y);
  free(s->order);
}

static ens_status evaluate_epoch(ens_train_graph *g, const ens_train_recipe *r, fit_state *s,
                                 const ens_dataset *val, double *top1, double *top5, ens_error *err)
{
  *top1 = *top5 = -1.0;
  if (!val)
    return ENS_OK;
  int np;
  ens_param *params = ens_tg_params(g, &np);
  ens_status st = ENS_OK;
  if (s->ema && r->eval_ema)
    st = ens_ema_swap(s->ema, params, np, err);
  if (st == ENS_OK)
    st = ens_train_evaluate(g, &r->eval_b, val, ens_tg_pool(g), top1, top5, NULL, NULL, err);
  if (s->ema && r->eval_ema) {
    ens_error e2;
    ens_ema_swap(s->ema, params, np, &e2);
  }
  return st;
}

/* The checks every training loop makes and its per-step schedule: *spe steps per epoch. */
ens_status ens_train_prepare(const ens_train_recipe *r, const ens_dataset *train, int num_classes,
                             int batch, ens_train_result *res, int *spe, ens_lr_schedule *sched,
                             ens_error *err)
{
  memset(res, 0, sizeof *res);
  res->top1 = res->top5 = -1.0;
  if (train->num_classes != num_classes)
    return ens_fail(err, ENS_ERR_ARG, "training data has %d classes, the model %d",
                    train->num_classes, num_classes);
  *spe = ens_epoch_batches(train->n, batch, 1);
  if (*spe < 1)
    return ens_fail(err, ENS_ERR_ARG,
                    "%d training images are fewer than one batch of %d: lower --batch", train->n,
                    batch);
  if (r->epochs < 1)
    return ens_fail(err, ENS_ERR_ARG, "epochs must be >= 1 (got %d)", r->epochs);
  *sched = (ens_lr_schedule){.base_lr = r->optim.lr,
                             .warmup_lr_init = r->warmup_lr,
                             .min_lr = r->min_lr,
                             .warmup_steps = llround(r->warmup_epochs * *spe),
                             .total_steps = (long long)r->epochs * *spe};
  return ens_lr_schedule_check(sched, err);
}

ens_status ens_train_fit(ens_train_graph *g, const ens_train_recipe *r, const ens_dataset *train,
                         const ens_dataset *val, const ens_train_io *io, int resume,
                         ens_train_result *res, ens_error *err)
{
  const ens_train_arch *arch = ens_tg_arch(g);
  int B = ens_tg_batch(g), K = arch->num_classes, S = r->train_b.size;
  int spe;
  ens_lr_schedule sched;
  ens_status st = ens_train_prepare(r, train, K, B, res, &spe, &sched, err);
  if (st != ENS_OK)
    return st;

  int np;
  ens_param *params = ens_tg_params(g, &np);
  fit_state s = {0};
  st = ens_optim_new(&r->optim, params, np, &s.opt, err);
  if (st == ENS_OK && r->ema_decay > 0)
    st = ens_ema_new(params, np, &s.ema, err);
  if (st != ENS_OK) {
    fit_state_free(&s);
    return st;
  }
  s.x = malloc((size_t)B * 3 * S * S * sizeof *s.x);
  s.y = malloc((size_t)B * K * sizeof *s.y);
  s.order = malloc((size_t)train->n * sizeof *s.order);
  if (!s.x || !s.y || !s.order) {
    fit_state_free(&s);
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory for the training batches");
  }
  ens_tg_set_regularization(g, r->drop_rate, r->drop_path_rate);

  ens_checkpoint_pos pos = {
      .epochs = r->epochs, .steps_per_epoch = spe, .batch_size = B, .seed = r->seed};
  snprintf(pos.phase, sizeof pos.phase, "%s", io->phase);
  struct stat sb;
  if (resume && io->checkpoint && stat(io->checkpoint, &sb) == 0) {
    st = ens_checkpoint_load(io->checkpoint, g, s.opt, s.ema, &pos, &pos, err);
    if (st != ENS_OK) {
      fit_state_free(&s);
      return st;
    }
  }

  double t0 = now_s(), last_print = 0.0;
  long long images = 0;
  ens_threadpool *pool = ens_tg_pool(g);
  for (int e = pos.epoch; e < r->epochs && st == ENS_OK; e++) {
    double te = now_s(), loss_sum = 0.0;
    int loss_n = 0;
    ens_epoch_order(train->n, r->seed, e, 1, s.order);
    for (int b = (e == pos.epoch ? pos.batch : 0); b < spe; b++) {
      st = ens_batch_fill(&r->train_b, train, s.order + (size_t)b * B, B, e, pool, s.x, s.y, err);
      if (st != ENS_OK)
        break;
      double lr = ens_lr_at(&sched, pos.step);
      ens_optim_set_lr(s.opt, lr);
      ens_tg_draw_masks(g, r->seed, (uint64_t)pos.step);
      float loss = ens_tg_forward(g, s.x, s.y, 0.0f, 1); /* targets come smoothed */
      if (!isfinite(loss)) {
        st = ens_fail(err, ENS_ERR_MODEL,
                      "%s: the loss became non-finite at step %lld (lr %g): lower --lr", io->phase,
                      pos.step, lr);
        break;
      }
      ens_tg_backward(g, NULL);
      ens_optim_step(s.opt, pool);
      if (s.ema)
        st = ens_ema_update(s.ema, params, np, r->ema_decay, err);
      pos.step++;
      images += B;
      loss_sum += loss;
      loss_n++;
      pos.epoch = e;
      pos.batch = b + 1;
      double now = now_s();
      if (now - last_print > 0.5 || b + 1 == spe) {
        double ips = (double)images / (now - t0);
        double eta = (double)((long long)r->epochs * spe - pos.step) * B / (ips > 0 ? ips : 1);
        progress_line(io, e, r->epochs, pos.step, (long long)r->epochs * spe, ips,
                      loss_sum / loss_n, lr, eta);
        last_print = now;
      }
      if ((io->interrupt && *io->interrupt) ||
          (io->stop_after_steps > 0 && images / B >= io->stop_after_steps)) {
        if (io->checkpoint)
          st = ens_checkpoint_save(io->checkpoint, g, s.opt, s.ema, &pos, err);
        res->interrupted = 1;
        break;
      }
    }
    if (st != ENS_OK || res->interrupted)
      break;
    if (pos.batch == spe) { /* the epoch is complete: the next step starts the next one */
      pos.epoch = e + 1;
      pos.batch = 0;
    }
    double top1, top5;
    st = evaluate_epoch(g, r, &s, val, &top1, &top5, err);
    if (st != ENS_OK)
      break;
    double secs = now_s() - te;
    res->train_loss = loss_n ? loss_sum / loss_n : 0.0;
    res->top1 = top1;
    res->top5 = top5;
    ens_train_log_epoch(io, e, r->epochs, pos.step,
                        ens_lr_at(&sched, pos.step > 0 ? pos.step - 1 : 0), res->train_loss, top1,
                        top5, secs, loss_n * (double)B / secs);
    if (io->checkpoint)
      st = ens_checkpoint_save(io->checkpoint, g, s.opt, s.ema, &pos, err);
  }
  res->epochs_done = pos.epoch;
  res->seconds = now_s() - t0;
  res->images_per_s = res->seconds > 0 ? (double)images / res->seconds : 0.0;
  /* The model left in g is the one to export: the EMA weights when they are evaluated. */
  if (st == ENS_OK && s.ema && r->eval_ema && !res->interrupted)
    st = ens_ema_swap(s.ema, params, np, err);
  fit_state_free(&s);
  return st;
}
