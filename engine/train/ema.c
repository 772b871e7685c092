/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ema.c - timm ModelEmaV2 weight averaging over params and buffers (see ema.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ema.h"
#include "error.h"

struct ens_ema {
  int n;
  float **values; /* n pointers into arena */
  size_t *numel;
  char (*names)[ENS_PARAM_NAME_MAX];
  float *arena;
};

ens_status ens_ema_new(const ens_param *params, int n_params, ens_ema **out, ens_error *err)
{
  *out = NULL;
  if (n_params < 0 || (n_params > 0 && !params))
    return ens_fail(err, ENS_ERR_ARG, "EMA: %d params given without an array", n_params);
  size_t total = 0;
  for (int i = 0; i < n_params; i++) {
    if (!params[i].data && params[i].numel)
      return ens_fail(err, ENS_ERR_ARG, "EMA: tensor %s has no data", params[i].name);
    total += params[i].numel;
  }
  ens_ema *e = calloc(1, sizeof(*e));
  if (!e)
    return ens_fail(err, ENS_ERR_NOMEM, "EMA: out of memory");
  e->n = n_params;
  e->values = calloc((size_t)n_params + 1, sizeof(*e->values));
  e->numel = calloc((size_t)n_params + 1, sizeof(*e->numel));
  e->names = calloc((size_t)n_params + 1, sizeof(*e->names));
  e->arena = malloc((total + 1) * sizeof(float));
  if (!e->values || !e->numel || !e->names || !e->arena) {
    ens_ema_free(e);
    return ens_fail(err, ENS_ERR_NOMEM, "EMA: cannot allocate %zu values", total);
  }
  float *next = e->arena;
  for (int i = 0; i < n_params; i++) {
    e->values[i] = next;
    e->numel[i] = params[i].numel;
    memcpy(e->names[i], params[i].name, ENS_PARAM_NAME_MAX);
    if (params[i].numel)
      memcpy(next, params[i].data, params[i].numel * sizeof(float));
    next += params[i].numel;
  }
  *out = e;
  return ENS_OK;
}

void ens_ema_free(ens_ema *ema)
{
  if (!ema)
    return;
  free(ema->arena);
  free(ema->names);
  free(ema->numel);
  free(ema->values);
  free(ema);
}

static ens_status check_same(const ens_ema *e, const ens_param *params, int n_params,
                             ens_error *err)
{
  if (n_params != e->n)
    return ens_fail(err, ENS_ERR_ARG, "EMA: %d tensors given, it averages %d", n_params, e->n);
  for (int i = 0; i < n_params; i++)
    if (params[i].numel != e->numel[i] || strcmp(params[i].name, e->names[i]) != 0)
      return ens_fail(err, ENS_ERR_ARG, "EMA: tensor %d is %s (%zu values), expected %s (%zu)", i,
                      params[i].name, params[i].numel, e->names[i], e->numel[i]);
  return ENS_OK;
}

ens_status ens_ema_update(ens_ema *ema, const ens_param *params, int n_params, double decay,
                          ens_error *err)
{
  ens_status st = check_same(ema, params, n_params, err);
  if (st != ENS_OK)
    return st;
  if (!(decay >= 0 && decay <= 1))
    return ens_fail(err, ENS_ERR_ARG, "EMA: decay %g must be in [0, 1]", decay);
  /* as torch evaluates decay * e + (1. - decay) * m on float tensors */
  float d = (float)decay, one_minus_d = (float)(1.0 - decay);
  for (int i = 0; i < n_params; i++) {
    float *e = ema->values[i];
    const float *m = params[i].data;
    for (size_t k = 0; k < ema->numel[i]; k++)
      e[k] = d * e[k] + one_minus_d * m[k];
  }
  return ENS_OK;
}

double ens_ema_decay_at(double decay, long long step, int warmup, double gamma, double power)
{
  long long s = step - 1;
  if (s <= 0)
    return 0.0;
  if (!warmup)
    return decay;
  double d = 1.0 - pow(1.0 + (double)s / gamma, -power);
  if (d > decay)
    d = decay;
  return d < 0.0 ? 0.0 : d;
}

ens_status ens_ema_set(ens_ema *ema, const ens_param *params, int n_params, ens_error *err)
{
  ens_status st = check_same(ema, params, n_params, err);
  if (st != ENS_OK)
    return st;
  for (int i = 0; i < n_params; i++)
    if (ema->numel[i])
      memcpy(ema->values[i], params[i].data, ema->numel[i] * sizeof(float));
  return ENS_OK;
}

ens_status ens_ema_swap(ens_ema *ema, ens_param *params, int n_params, ens_error *err)
{
  ens_status st = check_same(ema, params, n_params, err);
  if (st != ENS_OK)
    return st;
  for (int i = 0; i < n_params; i++) {
    float *e = ema->values[i], *m = params[i].data;
    for (size_t k = 0; k < ema->numel[i]; k++) {
      float t = e[k];
      e[k] = m[k];
      m[k] = t;
    }
  }
  return ENS_OK;
}

float *ens_ema_tensor(const ens_ema *ema, int i, size_t *numel)
{
  if (i < 0 || i >= ema->n)
    return NULL;
  if (numel)
    *numel = ema->numel[i];
  return ema->values[i];
}

int ens_ema_count(const ens_ema *ema)
{
  return ema->n;
}
