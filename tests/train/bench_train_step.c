/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench_train_step.c - time of one train step (forward + backward, no optimizer) of the
 * training graph: bench_train_step WIDTH DEPTH CLASSES BATCH SIZE THREADS [STEPS].
 * Prints the median ms per step and per image. Registered in the 'slow' suite only. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ens_test.h"
#include "train_graph.h"

static double now_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
  if (argc < 7) {
    fprintf(stderr, "usage: bench_train_step W D K BATCH SIZE THREADS [STEPS]\n");
    return 2;
  }
  double w = atof(argv[1]), d = atof(argv[2]);
  int k = atoi(argv[3]), batch = atoi(argv[4]), size = atoi(argv[5]), threads = atoi(argv[6]);
  int steps = argc > 7 ? atoi(argv[7]) : 5;
  ens_error err;
  ens_train_arch arch;
  ens_train_graph *g;
  CHECK_OK(ens_train_arch_from_mult(w, d, k, &arch, &err), &err);
  CHECK_OK(ens_tg_new(&arch, batch, size, size, threads, &g, &err), &err);
  ens_tg_init(g, 1);
  printf("arena %.1f MB\n", ens_tg_arena_bytes(g) / 1e6);
  ens_tg_set_regularization(g, 0.2f, 0.2f);
  ens_test_seed(5);
  float *x = ens_test_randv((size_t)batch * 3 * size * size, 1.5f);
  float *t = calloc((size_t)batch * k, sizeof(float));
  for (int b = 0; b < batch; b++)
    t[b * k + b % k] = 1.0f;
  double *ms = malloc((size_t)(steps + 1) * sizeof(double));
  double cpu0 = 0;
  for (int s = 0; s <= steps; s++) { /* step 0 warms up */
    if (s == 1)
      cpu0 = cpu_ms();
    double t0 = now_ms();
    ens_tg_draw_masks(g, 1, (uint64_t)s);
    ens_tg_forward(g, x, t, 0.1f, 1);
    ens_tg_backward(g, NULL);
    ms[s] = now_ms() - t0;
  }
  double cpu = (cpu_ms() - cpu0) / steps;
  qsort(ms + 1, (size_t)steps, sizeof(double), cmp);
  double med = ms[1 + steps / 2];
  printf("train step w%g d%g k%d batch %d @%d, %d threads: median %.1f ms/step (min %.1f), "
         "%.2f ms/image; CPU time %.1f ms/step (all threads; on a busy machine wall time / "
         "(CPU time / threads) shows the contention)\n",
         w, d, k, batch, size, threads, med, ms[1], med / batch, cpu);
  free(x);
  free(t);
  free(ms);
  ens_tg_free(g);
  return 0;
}
