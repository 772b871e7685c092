/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* optim.c - the optimizer object: state layout in one allocation, per-step scalars, the step
 * split into chunks over the thread pool, and state export / import by name. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "optim.h"
#include "optim_update.h"

/* Elements per work item: big tensors are split so threads share them; small enough for
 * balance, big enough that scheduling costs nothing next to the arithmetic. */
#define CHUNK_ELEMS 16384

typedef struct {
  int param;         /* index into params */
  size_t begin, end; /* element range */
} chunk;

typedef struct {
  float *state[2]; /* per kind: RMSpropTF {square_avg, momentum_buffer}, SGD {momentum_buffer},
                      AdamW {exp_avg, exp_avg_sq}; NULL when absent */
  float weight_decay;
} param_slot;

struct ens_optimizer {
  ens_optim_config cfg;
  ens_param *params;
  int n_params;
  long long steps;
  param_slot *slots; /* n_params */
  ens_optim_state *states;
  int n_states;
  chunk *chunks;
  int n_chunks;
  float *arena; /* every state tensor */
  /* scalars of the step being run, read by the workers */
  ens_rmsprop_tf_scalars rms;
  ens_sgd_scalars sgd;
  ens_adamw_scalars adamw;
};

ens_optim_config ens_optim_config_default(ens_optim_kind kind)
{
  ens_optim_config c = {.kind = kind, .lr = 1e-2, .alpha = 0.9, .eps = 1e-10};
  if (kind == ENS_OPTIM_ADAMW) {
    c.lr = 1e-3;
    c.eps = 1e-8;
    c.weight_decay = 1e-2;
    c.beta1 = 0.9;
    c.beta2 = 0.999;
  }
  return c;
}

static int trainable(const ens_param *p)
{
  return !p->is_buffer && p->grad != NULL;
}

/* State tensors per param for a config, with their names. */
static int state_names(const ens_optim_config *c, const char *names[2])
{
  switch (c->kind) {
    case ENS_OPTIM_RMSPROP_TF:
      names[0] = "square_avg";
      names[1] = "momentum_buffer";
      return c->momentum > 0 ? 2 : 1;
    case ENS_OPTIM_SGD:
      names[0] = "momentum_buffer";
      return c->momentum > 0 ? 1 : 0;
    case ENS_OPTIM_ADAMW:
      names[0] = "exp_avg";
      names[1] = "exp_avg_sq";
      return 2;
  }
  return 0;
}

static ens_status check_config(const ens_optim_config *c, ens_error *err)
{
  if (c->kind != ENS_OPTIM_RMSPROP_TF && c->kind != ENS_OPTIM_SGD && c->kind != ENS_OPTIM_ADAMW)
    return ens_fail(err, ENS_ERR_ARG, "optimizer: unknown kind %d", (int)c->kind);
  if (!(c->lr >= 0) || !(c->weight_decay >= 0) || !(c->momentum >= 0))
    return ens_fail(err, ENS_ERR_ARG,
                    "optimizer: lr %g, weight_decay %g and momentum %g must be >= 0", c->lr,
                    c->weight_decay, c->momentum);
  if (c->kind == ENS_OPTIM_RMSPROP_TF && (!(c->alpha >= 0) || !(c->eps >= 0)))
    return ens_fail(err, ENS_ERR_ARG, "RMSpropTF: alpha %g and eps %g must be >= 0", c->alpha,
                    c->eps);
  if (c->kind == ENS_OPTIM_SGD && c->nesterov && c->momentum <= 0)
    return ens_fail(err, ENS_ERR_ARG, "SGD: Nesterov momentum needs momentum > 0");
  if (c->kind == ENS_OPTIM_ADAMW &&
      (!(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1) || !(c->eps >= 0)))
    return ens_fail(err, ENS_ERR_ARG, "AdamW: betas (%g, %g) must be in [0, 1), eps %g >= 0",
                    c->beta1, c->beta2, c->eps);
  return ENS_OK;
}

ens_status ens_optim_new(const ens_optim_config *cfg, ens_param *params, int n_params,
                         ens_optimizer **out, ens_error *err)
{
  *out = NULL;
  ens_status st = check_config(cfg, err);
  if (st != ENS_OK)
    return st;
  if (n_params < 0 || (n_params > 0 && !params))
    return ens_fail(err, ENS_ERR_ARG, "optimizer: %d params given without an array", n_params);

  const char *names[2];
  int per_param = state_names(cfg, names);
  size_t total = 0;
  int n_train = 0, n_chunks = 0;
  for (int i = 0; i < n_params; i++) {
    if (!trainable(&params[i]))
      continue;
    if (!params[i].data)
      return ens_fail(err, ENS_ERR_ARG, "optimizer: param %s has a grad but no data",
                      params[i].name);
    n_train++;
    total += params[i].numel * (size_t)per_param;
    n_chunks += (int)((params[i].numel + CHUNK_ELEMS - 1) / CHUNK_ELEMS);
  }

  ens_optimizer *o = calloc(1, sizeof(*o));
  if (!o)
    return ens_fail(err, ENS_ERR_NOMEM, "optimizer: out of memory");
  o->cfg = *cfg;
  o->params = params;
  o->n_params = n_params;
  o->slots = calloc((size_t)n_params + 1, sizeof(*o->slots));
  o->states = calloc((size_t)n_train * (size_t)per_param + 1, sizeof(*o->states));
  o->chunks = calloc((size_t)n_chunks + 1, sizeof(*o->chunks));
  o->arena = total ? malloc(total * sizeof(float)) : NULL;
  if (!o->slots || !o->states || !o->chunks || (total && !o->arena)) {
    ens_optim_free(o);
    return ens_fail(err, ENS_ERR_NOMEM, "optimizer: cannot allocate %zu state values", total);
  }

  float *next = o->arena;
  for (int i = 0; i < n_params; i++) {
    ens_param *p = &params[i];
    if (!trainable(p))
      continue;
    int excluded = cfg->exclude_no_weight_decay && p->no_weight_decay;
    o->slots[i].weight_decay = excluded ? 0.0f : (float)cfg->weight_decay;
    for (int k = 0; k < per_param; k++) {
      ens_optim_state *s = &o->states[o->n_states++];
      snprintf(s->name, sizeof(s->name), "%s.%s", p->name, names[k]);
      s->param = p;
      s->data = next;
      s->numel = p->numel;
      /* timm starts RMSpropTF's square_avg at 1 (TensorFlow), not torch RMSprop's 0 */
      float init = (cfg->kind == ENS_OPTIM_RMSPROP_TF && k == 0) ? 1.0f : 0.0f;
      for (size_t e = 0; e < p->numel; e++)
        next[e] = init;
      o->slots[i].state[k] = next;
      next += p->numel;
    }
    for (size_t b = 0; b < p->numel; b += CHUNK_ELEMS) {
      chunk *c = &o->chunks[o->n_chunks++];
      c->param = i;
      c->begin = b;
      c->end = b + CHUNK_ELEMS < p->numel ? b + CHUNK_ELEMS : p->numel;
    }
  }
  *out = o;
  return ENS_OK;
}

void ens_optim_free(ens_optimizer *opt)
{
  if (!opt)
    return;
  free(opt->arena);
  free(opt->chunks);
  free(opt->states);
  free(opt->slots);
  free(opt);
}

void ens_optim_set_lr(ens_optimizer *opt, double lr)
{
  opt->cfg.lr = lr;
}

double ens_optim_lr(const ens_optimizer *opt)
{
  return opt->cfg.lr;
}

long long ens_optim_steps(const ens_optimizer *opt)
{
  return opt->steps;
}

void ens_optim_set_steps(ens_optimizer *opt, long long steps)
{
  opt->steps = steps;
}

/* Scalars of one step, derived in double as Python does, then rounded to float32 as PyTorch
 * does when a Python number meets a float tensor. */
static void prepare_scalars(ens_optimizer *o)
{
  const ens_optim_config *c = &o->cfg;
  switch (c->kind) {
    case ENS_OPTIM_RMSPROP_TF:
      o->rms = (ens_rmsprop_tf_scalars){.lr = (float)c->lr,
                                        .one_minus_alpha = (float)(1.0 - c->alpha),
                                        .eps = (float)c->eps,
                                        .momentum = (float)c->momentum};
      break;
    case ENS_OPTIM_SGD:
      o->sgd = (ens_sgd_scalars){
          .lr = (float)c->lr, .momentum = (float)c->momentum, .nesterov = c->nesterov};
      break;
    case ENS_OPTIM_ADAMW: {
      double t = (double)o->steps; /* already incremented: the first step is t = 1 */
      double bc1 = 1.0 - pow(c->beta1, t);
      double bc2 = 1.0 - pow(c->beta2, t);
      o->adamw = (ens_adamw_scalars){.beta1 = (float)c->beta1,
                                     .one_minus_beta1 = (float)(1.0 - c->beta1),
                                     .beta2 = (float)c->beta2,
                                     .one_minus_beta2 = (float)(1.0 - c->beta2),
                                     .step_size = (float)(c->lr / bc1),
                                     .bias_correction2_sqrt = (float)sqrt(bc2),
                                     .eps = (float)c->eps};
      break;
    }
  }
}

static void step_range(void *ctx, int begin, int end)
{
  ens_optimizer *o = ctx;
  for (int ci = begin; ci < end; ci++) {
    const chunk *c = &o->chunks[ci];
    const ens_param *p = &o->params[c->param];
    const param_slot *sl = &o->slots[c->param];
    size_t off = c->begin, n = c->end - c->begin;
    float *w = p->data + off;
    const float *g = p->grad + off;
    float *s0 = sl->state[0] ? sl->state[0] + off : NULL;
    float *s1 = sl->state[1] ? sl->state[1] + off : NULL;
    switch (o->cfg.kind) {
      case ENS_OPTIM_RMSPROP_TF: {
        ens_rmsprop_tf_scalars s = o->rms;
        s.weight_decay = sl->weight_decay;
        ens_rmsprop_tf_update(&s, w, g, s0, s1, n);
        break;
      }
      case ENS_OPTIM_SGD: {
        ens_sgd_scalars s = o->sgd;
        s.weight_decay = sl->weight_decay;
        ens_sgd_update(&s, w, g, s0, n);
        break;
      }
      case ENS_OPTIM_ADAMW: {
        ens_adamw_scalars s = o->adamw;
        /* torch computes 1 - lr * wd in double, then multiplies in float */
        s.decay_factor = (float)(1.0 - o->cfg.lr * (double)sl->weight_decay);
        ens_adamw_update(&s, w, g, s0, s1, n);
        break;
      }
    }
  }
}

void ens_optim_step(ens_optimizer *opt, ens_threadpool *pool)
{
  opt->steps++;
  prepare_scalars(opt);
  if (pool)
    ens_threadpool_run(pool, opt->n_chunks, step_range, opt);
  else
    step_range(opt, 0, opt->n_chunks);
}

int ens_optim_state_count(const ens_optimizer *opt)
{
  return opt->n_states;
}

const ens_optim_state *ens_optim_state_at(const ens_optimizer *opt, int i)
{
  return (i >= 0 && i < opt->n_states) ? &opt->states[i] : NULL;
}

const ens_optim_state *ens_optim_state_find(const ens_optimizer *opt, const char *name)
{
  for (int i = 0; i < opt->n_states; i++)
    if (strcmp(opt->states[i].name, name) == 0)
      return &opt->states[i];
  return NULL;
}

ens_status ens_optim_state_import(ens_optimizer *opt, const char *name, const float *data,
                                  size_t numel, ens_error *err)
{
  const ens_optim_state *s = ens_optim_state_find(opt, name);
  if (!s)
    return ens_fail(err, ENS_ERR_MODEL, "optimizer state: no tensor named %s", name);
  if (numel != s->numel)
    return ens_fail(err, ENS_ERR_MODEL, "optimizer state %s: %zu values given, expected %zu", name,
                    numel, s->numel);
  memcpy(s->data, data, numel * sizeof(float));
  return ENS_OK;
}
