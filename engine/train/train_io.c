/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_io.c - the training graph's parameters in timm's terms: layout conversion, timm's
 * from-scratch initialisation, loading a timm state_dict and saving one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rng.h"
#include "safetensors_write.h"
#include "train_graph_internal.h"

/* conv_dw weights are stored tap-major [k*k, C] instead of timm's [C, 1, k, k]. */
static int is_depthwise(const ens_param *p)
{
  return p->ndim == 4 && p->shape[1] == 1 && p->shape[2] > 1;
}

void ens_tg_param_to_timm(const ens_param *p, const float *src, float *dst)
{
  if (!is_depthwise(p)) {
    memcpy(dst, src, p->numel * sizeof *dst);
    return;
  }
  size_t C = (size_t)p->shape[0], kk = (size_t)(p->shape[2] * p->shape[3]);
  for (size_t c = 0; c < C; c++)
    for (size_t t = 0; t < kk; t++)
      dst[c * kk + t] = src[t * C + c];
}

void ens_tg_param_from_timm(const ens_param *p, const float *src, float *dst)
{
  if (!is_depthwise(p)) {
    memcpy(dst, src, p->numel * sizeof *dst);
    return;
  }
  size_t C = (size_t)p->shape[0], kk = (size_t)(p->shape[2] * p->shape[3]);
  for (size_t c = 0; c < C; c++)
    for (size_t t = 0; t < kk; t++)
      dst[t * C + c] = src[c * kk + t];
}

static int ends_with(const char *s, const char *suffix)
{
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !strcmp(s + a - b, suffix);
}

void ens_tg_init(ens_train_graph *g, uint64_t seed)
{
  for (int i = 0; i < g->nparams; i++) {
    ens_param *p = &g->params[i];
    ens_rng r;
    ens_rng_seed(&r, seed, (uint64_t)i); /* one stream per tensor */
    if (p->is_buffer) {
      float v = ends_with(p->name, "running_var") ? 1.0f : 0.0f;
      for (size_t j = 0; j < p->numel; j++)
        p->data[j] = v;
    } else if (p->ndim == 4) {
      /* conv: fan_out = k*k*out_chs / groups (depthwise: groups = out_chs) */
      double fan_out = (double)p->shape[0] * p->shape[2] * p->shape[3];
      if (is_depthwise(p))
        fan_out /= (double)p->shape[0];
      double sd = sqrt(2.0 / fan_out);
      for (size_t j = 0; j < p->numel; j++)
        p->data[j] = (float)(ens_rng_normal(&r) * sd);
    } else if (p->ndim == 2) {
      /* Linear: uniform(-1/sqrt(out_features), +) */
      double range = 1.0 / sqrt((double)p->shape[0]);
      for (size_t j = 0; j < p->numel; j++)
        p->data[j] = (float)((2.0 * ens_rng_uniform_d(&r) - 1.0) * range);
    } else {
      /* 1-D: BN weight 1, every bias (BN, SE, classifier) 0 */
      int bn_weight = ends_with(p->name, ".weight");
      for (size_t j = 0; j < p->numel; j++)
        p->data[j] = bn_weight ? 1.0f : 0.0f;
    }
  }
  g->num_batches_tracked = 0;
}

ens_status ens_tg_load(ens_train_graph *g, const ens_safetensors *st, ens_error *err)
{
  const char *path = st->path ? st->path : "model";
  size_t maxn = 0;
  for (int i = 0; i < g->nparams; i++)
    maxn = g->params[i].numel > maxn ? g->params[i].numel : maxn;
  float *tmp = malloc(maxn * sizeof *tmp);
  if (!tmp)
    return ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", path);
  for (int i = 0; i < g->nparams; i++) {
    ens_param *p = &g->params[i];
    const ens_st_tensor *t = ens_st_find(st, p->name);
    int ok = t && t->ndim == p->ndim;
    for (int d = 0; ok && d < p->ndim; d++)
      ok = t->shape[d] == p->shape[d];
    if (!ok) {
      free(tmp);
      if (!t)
        return ens_fail(err, ENS_ERR_MODEL, "%s: tensor '%s' missing", path, p->name);
      return ens_fail(err, ENS_ERR_MODEL,
                      "%s: tensor '%s' has the wrong shape for this "
                      "architecture",
                      path, p->name);
    }
    ens_status s = ens_st_read_f32(st, t, tmp, err);
    if (s != ENS_OK) {
      free(tmp);
      return s;
    }
    ens_tg_param_from_timm(p, tmp, p->data);
  }
  free(tmp);
  const ens_st_tensor *nbt = ens_st_find(st, "bn1.num_batches_tracked");
  g->num_batches_tracked = 0;
  if (nbt && nbt->dtype == ENS_DT_I64 && nbt->numel == 1) {
    int64_t v = 0;
    for (int b = 0; b < 8; b++)
      v |= (int64_t)nbt->data[b] << (8 * b);
    g->num_batches_tracked = v;
  }
  return ENS_OK;
}

ens_status ens_tg_save(const ens_train_graph *g, const char *path, ens_error *err)
{
  int nbn = 0;
  for (int i = 0; i < g->nparams; i++)
    nbn += ends_with(g->params[i].name, ".running_var");
  int count = g->nparams + nbn;
  size_t total = 0;
  for (int i = 0; i < g->nparams; i++)
    total += g->params[i].numel;
  ens_st_entry *e = calloc((size_t)count, sizeof *e);
  float *data = malloc(total * sizeof *data);
  char(*names)[ENS_PARAM_NAME_MAX + 32] = calloc((size_t)nbn + 1, sizeof *names);
  uint8_t nbt[8];
  for (int b = 0; b < 8; b++)
    nbt[b] = (uint8_t)((uint64_t)g->num_batches_tracked >> (8 * b));
  if (!e || !data || !names) {
    free(e);
    free(data);
    free(names);
    return ens_fail(err, ENS_ERR_NOMEM, "%s: out of memory", path);
  }
  int n = 0, k = 0;
  size_t off = 0;
  for (int i = 0; i < g->nparams; i++) {
    const ens_param *p = &g->params[i];
    ens_tg_param_to_timm(p, p->data, data + off);
    e[n].name = p->name;
    e[n].dtype = ENS_DT_F32;
    e[n].ndim = p->ndim;
    for (int d = 0; d < p->ndim; d++)
      e[n].shape[d] = p->shape[d];
    e[n].data = data + off;
    off += p->numel;
    n++;
    if (ends_with(p->name, ".running_var")) { /* state_dict order: then num_batches_tracked */
      size_t base = strlen(p->name) - strlen("running_var");
      snprintf(names[k], sizeof names[k], "%.*snum_batches_tracked", (int)base, p->name);
      e[n].name = names[k++];
      e[n].dtype = ENS_DT_I64;
      e[n].ndim = 0;
      e[n].data = nbt;
      n++;
    }
  }
  const char *mk[] = {"format", "producer"};
  const char *mv[] = {"pt", "ens-train"};
  ens_status st = ens_st_write(path, e, n, mk, mv, 2, err);
  free(e);
  free(data);
  free(names);
  return st;
}
