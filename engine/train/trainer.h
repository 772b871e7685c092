/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* trainer.h - the supervised training loop shared by `ens-train fit` and the phases of
 * `ens-train noisy-student` (internal): epochs of shuffled batches, per-step learning rate,
 * optimizer, weight EMA, evaluation, a checkpoint per epoch, resume and a clean stop.
 *
 * The loop is deterministic: the sample order, augmentation and dropout / drop-path masks are
 * drawn from (seed, epoch, sample) and (seed, step) streams, so a run resumed from a
 * checkpoint continues exactly as the uninterrupted run (same thread count). */
#ifndef ENS_TRAINER_H
#define ENS_TRAINER_H

#include <signal.h>
#include <stdio.h>

#include "batch.h"
#include "dataset.h"
#include "ema.h"
#include "lr_schedule.h"
#include "optim.h"
#include "train_graph.h"

typedef struct {
  int epochs;
  ens_optim_config optim;   /* lr = the peak learning rate */
  double warmup_epochs;     /* linear warm-up, in epochs (fractions allowed) */
  double warmup_lr;         /* lr at step 0 of the warm-up */
  double min_lr;            /* end of the cosine */
  float smoothing;          /* label smoothing of one-hot targets */
  float drop_rate;          /* dropout before the classifier */
  float drop_path_rate;     /* stochastic depth, timm's linear schedule */
  double ema_decay;         /* 0: no EMA */
  int eval_ema;             /* evaluate (and export) the EMA weights */
  uint64_t seed;            /* data order, augmentation, masks */
  ens_batch_config train_b; /* augmentation of the training batches */
  ens_batch_config eval_b;  /* evaluation batches (train = 0) */
} ens_train_recipe;

/* timm's EfficientNet recipe scaled as in ../shared/reference: RMSpropTF (alpha 0.9, eps 1e-3,
 * momentum 0.9), lr 0.016 at batch 128, wd 1e-5 on >= 2-D tensors, 1 epoch warm-up from 1e-5
 * (timm train.py's --warmup-lr default), cosine to 0, smoothing 0.1, no dropout / drop-path, no
 * EMA, 20 epochs. The batch configs are left for the caller. */
void ens_train_recipe_default(ens_train_recipe *r);

typedef struct {
  FILE *log;                        /* JSON lines (one per epoch), or NULL */
  const char *phase;                /* "fit", "teacher", "student", ... in the JSON lines */
  int progress;                     /* nonzero: a progress line on stderr (TTY) */
  const char *checkpoint;           /* path written after every epoch, or NULL */
  volatile sig_atomic_t *interrupt; /* set by a signal handler: save and stop */
  long long stop_after_steps;       /* > 0: stop as if interrupted after this many steps of
                                       this call (tests of --resume) */
} ens_train_io;

typedef struct {
  int epochs_done;     /* including those of a resumed checkpoint */
  int interrupted;     /* stopped by *interrupt (a checkpoint was written) */
  double train_loss;   /* mean of the last epoch */
  double top1, top5;   /* last evaluation, in percent (-1 without a validation set) */
  double seconds;      /* wall time of this call */
  double images_per_s; /* training throughput of this call */
} ens_train_result;

/* Checks train against the model (class count, at least one batch, epochs >= 1), zeroes res
 * and gives the steps per epoch and the per-step learning-rate schedule of recipe r. */
ens_status ens_train_prepare(const ens_train_recipe *r, const ens_dataset *train, int num_classes,
                             int batch, ens_train_result *res, int *spe, ens_lr_schedule *sched,
                             ens_error *err);

/* Trains g on train (evaluating on val after every epoch when val is not NULL). g's batch is
 * the training batch. When io->checkpoint names an existing file and resume is nonzero, the
 * run continues from it (it must be a checkpoint of the same network and recipe length). */
ens_status ens_train_fit(ens_train_graph *g, const ens_train_recipe *r, const ens_dataset *train,
                         const ens_dataset *val, const ens_train_io *io, int resume,
                         ens_train_result *res, ens_error *err);

/* Evaluation on running statistics: top-1 / top-5 in percent over the labeled samples of d,
 * and (if not NULL) the confusion matrix [K, K] (row = true class, column = predicted). probs
 * (if not NULL) receives the softmax of every sample [d->n, K] (pseudo-labelling). */
ens_status ens_train_evaluate(ens_train_graph *g, const ens_batch_config *eval_b,
                              const ens_dataset *d, ens_threadpool *pool, double *top1,
                              double *top5, long long *confusion, float *probs, ens_error *err);

/* A linear probe: the backbone frozen (running statistics, no augmentation), the pooled
 * features of every training image computed once, then only the classifier trained on them
 * with the recipe's optimizer, schedule and label smoothing (no EMA, dropout or checkpoints).
 * The trained classifier is left in g. An interrupt stops after the current epoch. */
ens_status ens_train_linear_probe(ens_train_graph *g, const ens_train_recipe *r,
                                  const ens_dataset *train, const ens_dataset *val,
                                  const ens_train_io *io, ens_train_result *res, ens_error *err);

/* One JSON line of an epoch on io->log (the format of ens_train_fit; shared with the probe). */
void ens_train_log_epoch(const ens_train_io *io, int epoch, int epochs, long long step, double lr,
                         double loss, double top1, double top5, double secs, double ips);

#endif
