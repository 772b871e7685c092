/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_lr_schedule.c - ens_lr_at against timm's CosineLRScheduler stepped per update
 * (values from timm's own create_scheduler_v2 in timm_lr_ref.inc, made by gen_timm_lr_ref.py):
 * the Fashion-MNIST recipe, warm-up prefix with a floor, no warm-up; then shape checks. */
#include <math.h>
#include <stdlib.h>

#include "ens_test.h"
#include "lr_schedule.h"

typedef struct {
  const char *name;
  ens_lr_schedule s;
  int n;
  struct {
    long long t;
    double lr;
  } at[16];
} lr_case;

#include "timm_lr_ref.inc"

int main(void)
{
  ens_error err;
  for (size_t c = 0; c < sizeof(lr_cases) / sizeof(lr_cases[0]); c++) {
    const lr_case *k = &lr_cases[c];
    CHECK_OK(ens_lr_schedule_check(&k->s, &err), &err);
    double worst = 0;
    for (int i = 0; i < k->n; i++) {
      double got = ens_lr_at(&k->s, k->at[i].t), want = k->at[i].lr;
      double d = fabs(got - want);
      worst = fmax(worst, d);
      CHECK(d <= 1e-12 * k->s.base_lr, "%s t=%lld: lr %.17g, timm %.17g", k->name, k->at[i].t, got,
            want);
    }
    printf("%s: %d steps vs timm, max|d| = %.3g\n", k->name, k->n, worst);
  }

  /* Shape of the recipe's schedule over every step: rises linearly during warm-up, then never
   * increases, ends at min_lr. */
  const ens_lr_schedule *r = &lr_cases[0].s;
  double prev = ens_lr_at(r, 0);
  for (long long t = 1; t <= r->total_steps + 5; t++) {
    double lr = ens_lr_at(r, t);
    if (t < r->warmup_steps)
      CHECK(lr > prev, "warm-up not increasing at %lld", t);
    else if (t > r->warmup_steps)
      CHECK(lr <= prev, "cosine increasing at %lld", t);
    prev = lr;
  }
  CHECK(ens_lr_at(r, r->total_steps) == r->min_lr, "not at min_lr at the end");

  ens_lr_schedule bad = {.base_lr = 0.1, .total_steps = 0};
  CHECK(ens_lr_schedule_check(&bad, &err) == ENS_ERR_ARG, "total_steps 0 accepted");
  printf("refused: %s\n", err.message);
  return ens_test_finish("train_lr_schedule");
}
