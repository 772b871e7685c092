/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_cli.h - what `ens-train fit` and the phases of `ens-train noisy-student` share on the
 * command line: data, recipe and run options, and the fit-and-export routine. */
#ifndef ENS_TRAIN_CLI_H
#define ENS_TRAIN_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "train_data.h"
#include "train_augment.h"
#include "train_model.h"
#include "trainer.h"

typedef struct {
  ens_data_args data;
  ens_train_recipe recipe;
  int batch, threads;
  float hflip;
  int crop_padding;
  const char *randaugment; /* timm policy string or NULL */
  const char *log_path;    /* default DIR/log.jsonl */
  int progress;            /* -1: when stderr is a terminal */
  int freeze_backbone;     /* fit_export runs a linear probe (no checkpoints) */
} ens_train_cli;

void ens_train_cli_defaults(ens_train_cli *c);

/* The common long options followed by extra (terminated by a zero entry); malloc'd. Their
 * values are below 1000; extra options use 1000 and up. */
struct option *ens_train_cli_options(const struct option *extra);

/* Applies one common option; 0 (after a message on stderr) when its value is bad or the
 * option is unknown. */
int ens_train_cli_option(ens_train_cli *c, int opt, const char *arg, const char *cmd);

void ens_train_cli_usage_common(FILE *f);

/* SIGINT / SIGTERM set this (installed by ens_train_cli_catch_signals). */
extern volatile sig_atomic_t ens_train_cli_interrupted;
void ens_train_cli_catch_signals(void);

/* Creates dir (if needed) and checks that it is a writable directory; 0 after a message. */
int ens_train_cli_prepare_dir(const char *dir);

/* The recipe of c for data d: its batch configs with c's flip / crop / smoothing / seed and,
 * when c names a RandAugment policy, the augmentation (*aug, freed by the caller). */
ens_status ens_train_cli_recipe(const ens_train_cli *c, const ens_data *d, ens_train_recipe *r,
                                ens_train_augment **aug, ens_error *err);

/* Trains g on train (evaluating on d's validation set), with out_dir/checkpoint.safetensors
 * after every epoch and the JSON lines on log, then exports out_dir/model.safetensors +
 * config.json with d's preprocessing. Returns the exit code: 0, 1 (error, message printed),
 * 130 (interrupted; the checkpoint is saved). */
int ens_train_cli_fit_export(const ens_train_cli *c, ens_train_graph *g, const ens_train_recipe *r,
                             const ens_data *d, const ens_dataset *train, const char *out_dir,
                             const char *phase, int resume, FILE *log, double width, double depth,
                             ens_train_result *res);

/* `ens-train fit`: loads the data, builds the model, fit_export into out_dir (log
 * out_dir/log.jsonl unless c->log_path). Returns the exit code. */
int ens_train_cli_run_fit(const ens_train_cli *c, const ens_model_args *m, const char *out_dir,
                          int resume);

/* Opens c->log_path, else default_path, for appending (resume) or anew; NULL after a
 * message. */
FILE *ens_train_cli_open_log(const ens_train_cli *c, const char *default_path, int resume);

#endif
