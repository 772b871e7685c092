/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_model.c - building the training graph the command line asks for (train_model.h). */
#include "train_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "safetensors.h"

static const struct {
  const char *name;
  double width, depth;
} shapes[] = {
    {"nano", 0.5, 0.5}, {"b0", 1.0, 1.0}, {"b1", 1.0, 1.1}, {"b2", 1.1, 1.2}, {"b3", 1.2, 1.4},
    {"b4", 1.4, 1.8},   {"b5", 1.6, 2.2}, {"b6", 1.8, 2.6}, {"b7", 2.0, 3.1}, {"l2", 4.3, 5.3},
};

int ens_named_shape(const char *name, double *width, double *depth)
{
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    if (!strcmp(name, shapes[i].name)) {
      *width = shapes[i].width;
      *depth = shapes[i].depth;
      return 1;
    }
  return 0;
}

const char *ens_model_file(const char *path, char *buf, size_t len)
{
  struct stat sb;
  if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    snprintf(buf, len, "%s/model.safetensors", path);
    return buf;
  }
  return path;
}

/* The multipliers of an arch read from tensor shapes, among the common ones. */
static void guess_multipliers(const ens_train_arch *a, double *w, double *d)
{
  static const double grid[] = {0.25, 0.5, 0.75, 1.0, 1.1, 1.2, 1.4, 1.5,
                                1.6,  1.8, 2.0,  2.2, 2.6, 3.1, 4.3, 5.3};
  int n = (int)(sizeof grid / sizeof grid[0]);
  ens_train_arch t;
  ens_error err;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      if (ens_train_arch_from_mult(grid[i], grid[j], a->num_classes, &t, &err) == ENS_OK &&
          ens_train_arch_equal(a, &t)) {
        *w = grid[i];
        *d = grid[j];
        return;
      }
  *w = *d = 0.0;
}

/* Every tensor of st but (unless keep_head) the classifier, into g. */
static ens_status load_backbone(ens_train_graph *g, const ens_safetensors *st, const char *path,
                                int keep_head, ens_error *err)
{
  int np;
  ens_param *params = ens_tg_params(g, &np);
  size_t max = 0;
  for (int i = 0; i < np; i++)
    max = params[i].numel > max ? params[i].numel : max;
  float *tmp = malloc(max * sizeof *tmp);
  if (!tmp)
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory loading '%s'", path);
  ens_status s = ENS_OK;
  for (int i = 0; i < np && s == ENS_OK; i++) {
    ens_param *p = &params[i];
    if (!keep_head && !strncmp(p->name, "classifier.", 11))
      continue;
    const ens_st_tensor *t = ens_st_find(st, p->name);
    if (!t) {
      s = ens_fail(err, ENS_ERR_MODEL, "'%s' has no tensor '%s'", path, p->name);
      break;
    }
    int same = t->ndim == p->ndim;
    for (int d = 0; same && d < p->ndim; d++)
      same = t->shape[d] == p->shape[d];
    if (!same) {
      s = ens_fail(err, ENS_ERR_MODEL, "'%s': tensor '%s' does not have the expected shape", path,
                   p->name);
      break;
    }
    s = ens_st_read_f32(st, t, tmp, err);
    if (s == ENS_OK)
      ens_tg_param_from_timm(p, tmp, p->data);
  }
  free(tmp);
  /* The BN counter is part of the backbone too (a frozen backbone must save unchanged). */
  const ens_st_tensor *nbt = ens_st_find(st, "bn1.num_batches_tracked");
  if (s == ENS_OK && nbt && nbt->dtype == ENS_DT_I64 && nbt->numel == 1) {
    int64_t v = 0;
    for (int b = 0; b < 8; b++)
      v |= (int64_t)nbt->data[b] << (8 * b);
    *ens_tg_num_batches_tracked(g) = v;
  }
  return s;
}

ens_status ens_model_args_build(const ens_model_args *a, int num_classes, int batch, int size,
                                int threads, uint64_t seed, ens_train_graph **out, double *width,
                                double *depth, ens_error *err)
{
  ens_train_arch arch;
  ens_status s;
  *out = NULL;
  int given = (a->arch != NULL) + (a->width > 0 || a->depth > 0) + (a->init != NULL);
  if (given != 1)
    return ens_fail(err, ENS_ERR_ARG,
                    "give exactly one of --arch NAME, --width W --depth D, or --init MODEL");
  if (a->init) {
    char buf[4096];
    const char *file = ens_model_file(a->init, buf, sizeof buf);
    ens_safetensors st;
    if ((s = ens_st_open(file, &st, err)) != ENS_OK)
      return s;
    s = ens_train_arch_from_st(&st, &arch, err);
    if (s == ENS_OK && a->keep_head && arch.num_classes != num_classes)
      s = ens_fail(err, ENS_ERR_ARG,
                   "'%s' has %d classes but the data has %d: drop --keep-head to train a new "
                   "head",
                   file, arch.num_classes, num_classes);
    if (s == ENS_OK) {
      arch.num_classes = num_classes;
      guess_multipliers(&arch, width, depth);
      s = ens_tg_new(&arch, batch, size, size, threads, out, err);
    }
    if (s == ENS_OK) {
      ens_tg_init(*out, seed);
      s = load_backbone(*out, &st, file, a->keep_head, err);
    }
    ens_st_close(&st);
  } else {
    double w = a->width, d = a->depth;
    if (a->arch && !ens_named_shape(a->arch, &w, &d))
      return ens_fail(err, ENS_ERR_ARG, "unknown --arch '%s' (b0 ... b7, l2, nano)", a->arch);
    if (!(w > 0 && d > 0 && w <= 8 && d <= 8))
      return ens_fail(err, ENS_ERR_ARG, "--width and --depth must both be in (0, 8]");
    *width = w;
    *depth = d;
    s = ens_train_arch_from_mult(w, d, num_classes, &arch, err);
    if (s == ENS_OK)
      s = ens_tg_new(&arch, batch, size, size, threads, out, err);
    if (s == ENS_OK)
      ens_tg_init(*out, seed);
  }
  if (s != ENS_OK) {
    ens_tg_free(*out);
    *out = NULL;
  }
  return s;
}

ens_status ens_model_load_trained(const char *path, int batch, int size, int threads,
                                  ens_train_graph **out, ens_error *err)
{
  char buf[4096];
  const char *file = ens_model_file(path, buf, sizeof buf);
  ens_safetensors st;
  ens_train_arch arch;
  *out = NULL;
  ens_status s = ens_st_open(file, &st, err);
  if (s != ENS_OK)
    return s;
  s = ens_train_arch_from_st(&st, &arch, err);
  if (s == ENS_OK)
    s = ens_tg_new(&arch, batch, size, size, threads, out, err);
  if (s == ENS_OK)
    s = ens_tg_load(*out, &st, err);
  ens_st_close(&st);
  if (s != ENS_OK) {
    ens_tg_free(*out);
    *out = NULL;
  }
  return s;
}
