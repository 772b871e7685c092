/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* checkpoint.c - save / restore the whole training state (see checkpoint.h).
 *
 * Keys: "model.<param>" (the graph's layout, float32), "model.num_batches_tracked" (I64),
 * "optim.<state>" (optimizer state), "ema.<param>"; metadata: the position and identity of
 * the run. Tensors are stored in the graph's own layout: a checkpoint is for resuming, the
 * hub export (hub_export.h) is the timm-layout model. */
#include "checkpoint.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "safetensors.h"
#include "safetensors_write.h"

#define KEY_MAX (ENS_PARAM_NAME_MAX + 40)

typedef struct {
  ens_st_entry *e;
  char (*names)[KEY_MAX];
  int n, cap;
} entry_list;

static ens_status entry_add(entry_list *l, const char *prefix, const char *name, ens_dtype dt,
                            size_t numel, const void *data, ens_error *err)
{
  if (l->n == l->cap) {
    int cap = l->cap ? l->cap * 2 : 256;
    ens_st_entry *e = realloc(l->e, (size_t)cap * sizeof *e);
    if (!e)
      return ens_fail(err, ENS_ERR_NOMEM, "out of memory writing a checkpoint");
    l->e = e;
    char(*names)[KEY_MAX] = realloc(l->names, (size_t)cap * sizeof *names);
    if (!names)
      return ens_fail(err, ENS_ERR_NOMEM, "out of memory writing a checkpoint");
    l->names = names;
    l->cap = cap;
  }
  snprintf(l->names[l->n], KEY_MAX, "%s%s", prefix, name);
  ens_st_entry *e = &l->e[l->n];
  memset(e, 0, sizeof *e);
  e->dtype = dt;
  e->ndim = 1;
  e->shape[0] = (int64_t)numel;
  e->data = data;
  l->n++;
  return ENS_OK;
}

ens_status ens_checkpoint_save(const char *path, ens_train_graph *g, const ens_optimizer *opt,
                               const ens_ema *ema, const ens_checkpoint_pos *pos, ens_error *err)
{
  entry_list l = {0};
  int np;
  ens_param *params = ens_tg_params(g, &np);
  ens_status st = ENS_OK;
  for (int i = 0; i < np && st == ENS_OK; i++)
    st = entry_add(&l, "model.", params[i].name, ENS_DT_F32, params[i].numel, params[i].data, err);
  if (st == ENS_OK)
    st = entry_add(&l, "model.", "num_batches_tracked", ENS_DT_I64, 1,
                   ens_tg_num_batches_tracked(g), err);
  for (int i = 0; opt && i < ens_optim_state_count(opt) && st == ENS_OK; i++) {
    const ens_optim_state *s = ens_optim_state_at(opt, i);
    st = entry_add(&l, "optim.", s->name, ENS_DT_F32, s->numel, s->data, err);
  }
  for (int i = 0; ema && i < ens_ema_count(ema) && st == ENS_OK; i++) {
    size_t numel;
    float *v = ens_ema_tensor(ema, i, &numel);
    st = entry_add(&l, "ema.", params[i].name, ENS_DT_F32, numel, v, err);
  }
  if (st == ENS_OK) {
    for (int i = 0; i < l.n; i++)
      l.e[i].name = l.names[i];
    char epoch[24], batch[24], step[24], epochs[24], spe[24], bs[24], seed[24];
    snprintf(epoch, sizeof epoch, "%d", pos->epoch);
    snprintf(batch, sizeof batch, "%d", pos->batch);
    snprintf(step, sizeof step, "%lld", pos->step);
    snprintf(epochs, sizeof epochs, "%d", pos->epochs);
    snprintf(spe, sizeof spe, "%d", pos->steps_per_epoch);
    snprintf(bs, sizeof bs, "%d", pos->batch_size);
    snprintf(seed, sizeof seed, "%" PRIu64, pos->seed);
    const char *keys[] = {"format", "phase",           "epoch",      "batch", "step",
                          "epochs", "steps_per_epoch", "batch_size", "seed"};
    const char *vals[] = {
        "ens-train checkpoint 1", pos->phase, epoch, batch, step, epochs, spe, bs, seed};
    st = ens_st_write(path, l.e, l.n, keys, vals, (int)(sizeof keys / sizeof keys[0]), err);
  }
  free(l.e);
  free(l.names);
  return st;
}

static ens_status read_tensor(const ens_safetensors *sf, const char *path, const char *key,
                              float *dst, size_t numel, ens_error *err)
{
  const ens_st_tensor *t = ens_st_find(sf, key);
  if (!t)
    return ens_fail(err, ENS_ERR_MODEL,
                    "checkpoint '%s' has no tensor '%s': it was written for another network "
                    "or with other options",
                    path, key);
  if ((size_t)t->numel != numel || t->dtype != ENS_DT_F32)
    return ens_fail(err, ENS_ERR_MODEL,
                    "checkpoint '%s': tensor '%s' has %lld values (%s), this network needs %zu "
                    "(F32): it is a checkpoint of another network",
                    path, key, (long long)t->numel, ens_dtype_name(t->dtype), numel);
  memcpy(dst, t->data, numel * sizeof(float));
  return ENS_OK;
}

static ens_status meta_int(const ens_safetensors *sf, const char *path, const char *key,
                           long long *out, ens_error *err)
{
  const char *v = ens_st_meta(sf, key);
  char *end;
  if (!v || !*v)
    return ens_fail(err, ENS_ERR_FORMAT, "checkpoint '%s' lacks metadata '%s'", path, key);
  *out = strtoll(v, &end, 10);
  if (*end)
    return ens_fail(err, ENS_ERR_FORMAT, "checkpoint '%s': metadata '%s' = '%s' is not a number",
                    path, key, v);
  return ENS_OK;
}

static ens_status check_same(const char *path, const char *what, long long have, long long want,
                             ens_error *err)
{
  if (have == want)
    return ENS_OK;
  return ens_fail(err, ENS_ERR_ARG,
                  "checkpoint '%s' was written with %s %lld, this run has %lld: resume with the "
                  "same options or start a new output directory",
                  path, what, have, want);
}

ens_status ens_checkpoint_load(const char *path, ens_train_graph *g, ens_optimizer *opt,
                               ens_ema *ema, const ens_checkpoint_pos *expect,
                               ens_checkpoint_pos *pos, ens_error *err)
{
  ens_safetensors sf;
  ens_status st = ens_st_open(path, &sf, err);
  if (st != ENS_OK)
    return st;
  const char *fmt = ens_st_meta(&sf, "format");
  const char *phase = ens_st_meta(&sf, "phase");
  long long v[7];
  const char *keys[] = {"epoch",           "batch",      "step", "epochs",
                        "steps_per_epoch", "batch_size", "seed"};
  if (!fmt || strcmp(fmt, "ens-train checkpoint 1")) {
    st = ens_fail(err, ENS_ERR_FORMAT, "'%s' is not an ens-train checkpoint", path);
    goto done;
  }
  for (int i = 0; i < 7; i++)
    if ((st = meta_int(&sf, path, keys[i], &v[i], err)) != ENS_OK)
      goto done;
  if (!phase || strcmp(phase, expect->phase)) {
    st = ens_fail(err, ENS_ERR_ARG, "checkpoint '%s' belongs to phase '%s', not '%s'", path,
                  phase ? phase : "?", expect->phase);
    goto done;
  }
  if ((st = check_same(path, "--epochs", v[3], expect->epochs, err)) != ENS_OK ||
      (st = check_same(path, "steps per epoch", v[4], expect->steps_per_epoch, err)) != ENS_OK ||
      (st = check_same(path, "--batch", v[5], expect->batch_size, err)) != ENS_OK ||
      (st = check_same(path, "--seed", v[6], (long long)expect->seed, err)) != ENS_OK)
    goto done;

  int np;
  ens_param *params = ens_tg_params(g, &np);
  char key[KEY_MAX];
  for (int i = 0; i < np; i++) {
    snprintf(key, sizeof key, "model.%s", params[i].name);
    if ((st = read_tensor(&sf, path, key, params[i].data, params[i].numel, err)) != ENS_OK)
      goto done;
  }
  const ens_st_tensor *nbt = ens_st_find(&sf, "model.num_batches_tracked");
  if (!nbt || nbt->dtype != ENS_DT_I64 || nbt->numel != 1) {
    st = ens_fail(err, ENS_ERR_FORMAT, "checkpoint '%s': bad or missing num_batches_tracked", path);
    goto done;
  }
  memcpy(ens_tg_num_batches_tracked(g), nbt->data, sizeof(int64_t));
  for (int i = 0; opt && i < ens_optim_state_count(opt); i++) {
    const ens_optim_state *s = ens_optim_state_at(opt, i);
    snprintf(key, sizeof key, "optim.%s", s->name);
    if ((st = read_tensor(&sf, path, key, s->data, s->numel, err)) != ENS_OK)
      goto done;
  }
  for (int i = 0; ema && i < ens_ema_count(ema); i++) {
    size_t numel;
    float *dst = ens_ema_tensor(ema, i, &numel);
    snprintf(key, sizeof key, "ema.%s", params[i].name);
    if ((st = read_tensor(&sf, path, key, dst, numel, err)) != ENS_OK)
      goto done;
  }
  if (opt)
    ens_optim_set_steps(opt, v[2]);
  *pos = *expect;
  pos->epoch = (int)v[0];
  pos->batch = (int)v[1];
  pos->step = v[2];
done:
  ens_st_close(&sf);
  return st;
}
