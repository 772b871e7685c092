/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_model.h - the model options shared by the ens-train subcommands: a named shape
 * (--arch b0 ... l2, nano), multipliers (--width / --depth), or a model to start from
 * (--init FILE|DIR: every weight but the classifier). */
#ifndef ENS_TRAIN_MODEL_H
#define ENS_TRAIN_MODEL_H

#include "train_graph.h"

typedef struct {
  const char *arch;    /* "b0".."b7", "l2", "nano" (w 0.5, d 0.5) or NULL */
  double width, depth; /* > 0 when given */
  const char *init;    /* .safetensors or hub directory, or NULL */
  int keep_head;       /* with init: keep its classifier (same class count) */
} ens_model_args;

/* Multipliers of a named shape; 0 if the name is unknown. */
int ens_named_shape(const char *name, double *width, double *depth);

/* Builds a training graph for num_classes classes at batch x size x size on `threads`
 * threads: timm's initialisation from seed, then (with init) every tensor of the init model
 * except the classifier (unless keep_head). *width / *depth receive the multipliers (0 if an
 * init model's shape matches no common pair). */
ens_status ens_model_args_build(const ens_model_args *a, int num_classes, int batch, int size,
                                int threads, uint64_t seed, ens_train_graph **out, double *width,
                                double *depth, ens_error *err);

/* Loads a trained model (file or hub directory) for evaluation or pseudo-labelling. */
ens_status ens_model_load_trained(const char *path, int batch, int size, int threads,
                                  ens_train_graph **out, ens_error *err);

/* path itself, or path/model.safetensors when path is a directory, into buf. */
const char *ens_model_file(const char *path, char *buf, size_t len);

#endif
