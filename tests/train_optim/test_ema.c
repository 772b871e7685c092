/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_ema.c - the weight EMA (timm ModelEmaV2) against its formula computed in double over
 * params and buffers, the decay warm-up (ModelEmaV3.get_decay), set / swap helpers and
 * mismatch errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ema.h"
#include "ens_test.h"

#define NT 3
#define STEPS 50

int main(void)
{
  ens_error err;
  static const size_t sizes[NT] = {300, 7, 7};
  static const char *names[NT] = {"conv.weight", "bn.weight", "bn.running_var"};
  ens_param p[NT];
  double *ref[NT];
  memset(p, 0, sizeof p);
  ens_test_seed(5);
  for (int i = 0; i < NT; i++) {
    snprintf(p[i].name, sizeof p[i].name, "%s", names[i]);
    p[i].numel = sizes[i];
    p[i].data = ens_test_randv(sizes[i], 1.0f);
    p[i].is_buffer = i == 2; /* running_var: no grad, still averaged */
    ref[i] = malloc(sizes[i] * sizeof(double));
    for (size_t k = 0; k < sizes[i]; k++)
      ref[i][k] = p[i].data[k];
  }
  ens_ema *ema;
  CHECK_OK(ens_ema_new(p, NT, &ema, &err), &err);
  CHECK(ens_ema_count(ema) == NT, "count");

  /* the model moves every step (a drift plus noise); the EMA follows the formula */
  const double decay = 0.9;
  for (int s = 1; s <= STEPS; s++) {
    for (int i = 0; i < NT; i++)
      for (size_t k = 0; k < sizes[i]; k++)
        p[i].data[k] += 0.05f + 0.1f * ens_test_frand();
    CHECK_OK(ens_ema_update(ema, p, NT, decay, &err), &err);
    for (int i = 0; i < NT; i++)
      for (size_t k = 0; k < sizes[i]; k++)
        ref[i][k] = decay * ref[i][k] + (1.0 - decay) * p[i].data[k];
  }
  for (int i = 0; i < NT; i++) {
    size_t n;
    float *e = ens_ema_tensor(ema, i, &n);
    float *want = malloc(n * sizeof(float));
    for (size_t k = 0; k < n; k++)
      want[k] = (float)ref[i][k];
    char label[128];
    snprintf(label, sizeof label, "EMA %s after %d updates", names[i], STEPS);
    /* 50 float roundings of values ~3: a few e-6 at most */
    ens_test_close(label, e, want, n, 1e-6, 1e-6);
    /* and it lags the model: drift 0.05/step, decay 0.9 give 0.05 * 0.9 / 0.1 = 0.45 on
     * average; the noise adds about 0.13 per element, so allow 4.5 sigma of the mean */
    double lag = 0;
    for (size_t k = 0; k < n; k++)
      lag += p[i].data[k] - e[k];
    lag /= (double)n;
    CHECK(fabs(lag - 0.45) < 0.6 / sqrt((double)n), "%s: EMA lag %.3f, expected ~0.45", names[i],
          lag);
    free(want);
  }

  /* swap twice = identity; once = EMA values in the model */
  float keep = p[0].data[3], ema3 = ens_ema_tensor(ema, 0, NULL)[3];
  CHECK_OK(ens_ema_swap(ema, p, NT, &err), &err);
  CHECK(p[0].data[3] == ema3 && ens_ema_tensor(ema, 0, NULL)[3] == keep, "swap");
  CHECK_OK(ens_ema_swap(ema, p, NT, &err), &err);
  CHECK(p[0].data[3] == keep && ens_ema_tensor(ema, 0, NULL)[3] == ema3, "swap back");
  CHECK_OK(ens_ema_set(ema, p, NT, &err), &err);
  CHECK(memcmp(ens_ema_tensor(ema, 1, NULL), p[1].data, 7 * sizeof(float)) == 0, "set");
  /* decay 0 copies, decay 1 keeps */
  p[1].data[0] += 1.0f;
  CHECK_OK(ens_ema_update(ema, p, NT, 1.0, &err), &err);
  CHECK(ens_ema_tensor(ema, 1, NULL)[0] == p[1].data[0] - 1.0f, "decay 1 must keep the EMA");
  CHECK_OK(ens_ema_update(ema, p, NT, 0.0, &err), &err);
  CHECK(ens_ema_tensor(ema, 1, NULL)[0] == p[1].data[0], "decay 0 must copy the model");

  /* ModelEmaV3.get_decay: step 1 copies; warm-up 1 - (1 + (step-1))^(-2/3), capped */
  CHECK(ens_ema_decay_at(0.9998, 1, 1, 1.0, 2.0 / 3.0) == 0.0, "first update copies");
  CHECK(ens_ema_decay_at(0.9998, 5, 0, 1.0, 2.0 / 3.0) == 0.9998, "no warm-up");
  double d2 = ens_ema_decay_at(0.9998, 2, 1, 1.0, 2.0 / 3.0);
  CHECK(fabs(d2 - (1.0 - pow(2.0, -2.0 / 3.0))) < 1e-15, "warm-up step 2: %.17g", d2);
  CHECK(ens_ema_decay_at(0.9998, 100000000, 1, 1.0, 2.0 / 3.0) == 0.9998, "warm-up cap");

  /* a different tensor list is refused */
  ens_param other[NT];
  memcpy(other, p, sizeof other);
  snprintf(other[2].name, sizeof other[2].name, "bn.running_mean");
  CHECK(ens_ema_update(ema, other, NT, 0.5, &err) == ENS_ERR_ARG, "name mismatch accepted");
  printf("refused: %s\n", err.message);
  CHECK(ens_ema_update(ema, p, NT - 1, 0.5, &err) == ENS_ERR_ARG, "count mismatch accepted");
  CHECK(ens_ema_update(ema, p, NT, 1.5, &err) == ENS_ERR_ARG, "decay 1.5 accepted");

  ens_ema_free(ema);
  for (int i = 0; i < NT; i++) {
    free(p[i].data);
    free(ref[i]);
  }
  return ens_test_finish("train_ema");
}
