/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_sgd_adamw.c - ens's SGD (Nesterov) and AdamW against torch 1.13's own optimizers:
 * three steps with a changing lr on a 2x3 tensor with weight decay and a 1-D tensor in a
 * no-decay group (torch_optim_ref.inc, made by gen_torch_optim_ref.py). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"
#include "optim.h"
#include "torch_optim_ref.inc"

#define NW 6
#define NB 4
#define STEPS 3

typedef struct {
  ens_param p[2];
  float w[NW], b[NB], gw[NW], gb[NB];
} pair;

static void pair_init(pair *m)
{
  memset(m, 0, sizeof(*m));
  memcpy(m->w, ref_w0, sizeof(m->w));
  memcpy(m->b, ref_b0, sizeof(m->b));
  m->p[0] = (ens_param){
      .name = "w", .ndim = 2, .shape = {2, 3}, .numel = NW, .data = m->w, .grad = m->gw};
  m->p[1] = (ens_param){.name = "b",
                        .ndim = 1,
                        .shape = {4},
                        .numel = NB,
                        .data = m->b,
                        .grad = m->gb,
                        .no_weight_decay = 1};
}

/* Each step: weights, and the update (w_t - w_{t-1}) to 1e-5 relative + 2 ulp of the weight. */
static void check_step(const char *what, int t, const float *prev, const float *got,
                       const float *want, size_t n)
{
  char label[128];
  snprintf(label, sizeof label, "%s step %d", what, t + 1);
  ens_test_close(label, got, want, n, 1e-7, 1e-6);
  for (size_t i = 0; i < n; i++) {
    double du = (double)got[i] - prev[i], dw = (double)want[i] - prev[i];
    double lim = 2.4e-7 * fmax(fabs(prev[i]), fabs(want[i])) + 1e-5 * fabs(dw);
    CHECK(fabs(du - dw) <= lim, "%s update [%zu]: %.9g, torch %.9g", label, i, du, dw);
  }
}

static void run(ens_optim_kind kind)
{
  ens_error err;
  pair m;
  pair_init(&m);
  ens_optim_config c = ens_optim_config_default(kind);
  c.exclude_no_weight_decay = 1;
  if (kind == ENS_OPTIM_SGD) {
    c.momentum = 0.9;
    c.nesterov = 1;
    c.weight_decay = 1e-2;
  } else {
    c.beta1 = 0.9;
    c.beta2 = 0.999;
    c.eps = 1e-8;
    c.weight_decay = 0.05;
  }
  ens_optimizer *o;
  CHECK_OK(ens_optim_new(&c, m.p, 2, &o, &err), &err);
  const char *name = kind == ENS_OPTIM_SGD ? "SGD-Nesterov" : "AdamW";
  for (int t = 0; t < STEPS; t++) {
    float pw[NW], pb[NB];
    memcpy(pw, m.w, sizeof pw);
    memcpy(pb, m.b, sizeof pb);
    memcpy(m.gw, ref_gw + t * NW, sizeof(m.gw));
    memcpy(m.gb, ref_gb + t * NB, sizeof(m.gb));
    ens_optim_set_lr(o, ref_lr[t]);
    ens_optim_step(o, NULL);
    char label[64];
    if (kind == ENS_OPTIM_SGD) {
      snprintf(label, sizeof label, "%s w", name);
      check_step(label, t, pw, m.w, ref_sgd_w + t * NW, NW);
      snprintf(label, sizeof label, "%s b (no decay)", name);
      check_step(label, t, pb, m.b, ref_sgd_b + t * NB, NB);
      snprintf(label, sizeof label, "%s w.momentum_buffer %d", name, t + 1);
      ens_test_close(label, ens_optim_state_find(o, "w.momentum_buffer")->data,
                     ref_sgd_w_buf + t * NW, NW, 1e-7, 1e-6);
    } else {
      snprintf(label, sizeof label, "%s w", name);
      check_step(label, t, pw, m.w, ref_adamw_w + t * NW, NW);
      snprintf(label, sizeof label, "%s b (no decay)", name);
      check_step(label, t, pb, m.b, ref_adamw_b + t * NB, NB);
      snprintf(label, sizeof label, "%s w.exp_avg %d", name, t + 1);
      ens_test_close(label, ens_optim_state_find(o, "w.exp_avg")->data,
                     ref_adamw_w_exp_avg + t * NW, NW, 1e-7, 1e-6);
      snprintf(label, sizeof label, "%s w.exp_avg_sq %d", name, t + 1);
      ens_test_close(label, ens_optim_state_find(o, "w.exp_avg_sq")->data,
                     ref_adamw_w_exp_avg_sq + t * NW, NW, 1e-10, 1e-6);
    }
  }
  CHECK(ens_optim_steps(o) == STEPS, "%s: %lld steps counted", name, ens_optim_steps(o));
  ens_optim_free(o);
}

/* Buffers and grad-less params are never touched; bad configurations are refused. */
static void run_edges(void)
{
  ens_error err;
  float data[3] = {1, 2, 3}, mean[3] = {4, 5, 6}, g[3] = {1, 1, 1};
  ens_param p[3] = {
      {.name = "frozen", .ndim = 1, .shape = {3}, .numel = 3, .data = data},
      {.name = "bn.running_mean",
       .ndim = 1,
       .shape = {3},
       .numel = 3,
       .data = mean,
       .grad = g,
       .is_buffer = 1},
  };
  for (int k = 0; k < 3; k++) {
    ens_optim_config c = ens_optim_config_default((ens_optim_kind)k);
    c.momentum = 0.9;
    c.weight_decay = 0.1;
    ens_optimizer *o;
    CHECK_OK(ens_optim_new(&c, p, 2, &o, &err), &err);
    CHECK(ens_optim_state_count(o) == 0, "kind %d: state for non-trainable tensors", k);
    ens_optim_step(o, NULL);
    ens_optim_free(o);
  }
  CHECK(data[0] == 1 && data[2] == 3 && mean[0] == 4 && mean[2] == 6,
        "buffers / grad-less params changed");
  ens_optim_config bad = ens_optim_config_default(ENS_OPTIM_SGD);
  bad.nesterov = 1;
  ens_optimizer *o = NULL;
  CHECK(ens_optim_new(&bad, p, 2, &o, &err) == ENS_ERR_ARG && !o, "Nesterov without momentum");
  printf("refused: %s\n", err.message);
  bad = ens_optim_config_default(ENS_OPTIM_ADAMW);
  bad.beta2 = 1.0;
  CHECK(ens_optim_new(&bad, p, 2, &o, &err) == ENS_ERR_ARG && !o, "AdamW beta2 = 1");
  printf("refused: %s\n", err.message);
}

int main(void)
{
  run(ENS_OPTIM_SGD);
  run(ENS_OPTIM_ADAMW);
  run_edges();
  return ens_test_finish("train_sgd_adamw");
}
