/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_check.c - see train_check.h. */
#include "train_check.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ens_test.h"

double train_check_scaled(const char *what, const float *got, const float *want, size_t n,
                          double rel, double atol, int verbose)
{
  double maxd = 0, maxw = 0;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - want[i]);
    if (isnan(d))
      d = INFINITY;
    if (d > maxd) {
      maxd = d;
      at = i;
    }
    if (fabs(want[i]) > maxw)
      maxw = fabs(want[i]);
  }
  int bad = !(maxd <= rel * maxw + atol);
  if (bad || verbose)
    printf("%s: n=%zu max|d|=%.3g max|g|=%.3g ratio=%.3g %s (at %zu: got %.7g want %.7g)\n", what,
           n, maxd, maxw, maxw > 0 ? maxd / maxw : maxd, bad ? "FAIL" : "ok", at,
           n ? got[at] : 0.0f, n ? want[at] : 0.0f);
  if (bad)
    ens_test_failures++;
  return maxw > 0 ? maxd / maxw : maxd;
}

int train_is_zero_grad_bias(const char *name)
{
  size_t n = strlen(name);
  if (strncmp(name, "blocks.", 7))
    return 0;
  return (n > 9 && !strcmp(name + n - 9, ".bn3.bias")) || !strcmp(name, "blocks.0.0.bn2.bias");
}

ens_param *train_find_param(ens_train_graph *g, const char *name)
{
  int n;
  ens_param *p = ens_tg_params(g, &n);
  for (int i = 0; i < n; i++)
    if (!strcmp(p[i].name, name))
      return &p[i];
  return NULL;
}
