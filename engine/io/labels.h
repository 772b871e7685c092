/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* labels.h - class names (internal). */
#ifndef ENS_LABELS_H
#define ENS_LABELS_H

#include "ens.h"

typedef struct {
  char **names; /* count entries, owned */
  int count;
} ens_labels;

/* One label per line (trailing CR/LF stripped, empty lines kept as ""). */
ens_status ens_labels_load_file(const char *path, ens_labels *out, ens_error *err);

/* Copy of the built-in ImageNet-1k class names (1000 entries). */
ens_status ens_labels_imagenet(ens_labels *out, ens_error *err);

/* Copy of n strings (e.g. config.json label_names). */
ens_status ens_labels_from_strings(const char *const *names, int n, ens_labels *out,
                                   ens_error *err);

void ens_labels_free(ens_labels *l);

#endif
