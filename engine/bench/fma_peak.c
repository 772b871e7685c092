/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fma_peak - measured float32 FMA peak of this machine, 1 and 2 threads (or those given).
 *
 *   fma_peak [--json] [THREADS...]
 *
 * Each thread runs 24 independent AVX-512 FMA chains (enough to cover the FMA latency x the
 * number of FMA pipes on any current x86 core) for a fixed count; the best of 5 trials is
 * reported as GFLOP/s (1 FMA = 2 FLOP x 16 lanes). ens-bench takes the result as
 * --peak-gflops to report a model's share of it.
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHAINS 24
#define ITERS 40000000L

static volatile float sink;

static void *fma_loop(void *arg)
{
  (void)arg;
  __m512 acc[CHAINS];
  for (int c = 0; c < CHAINS; c++)
    acc[c] = _mm512_set1_ps(0.001f * c);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < ITERS / CHAINS * 4; i++) {
    /* Fully unrolled so that every chain lives in its own register. */
#pragma GCC unroll 24
    for (int c = 0; c < CHAINS; c++)
      acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  }
  __m512 s = acc[0];
  for (int c = 1; c < CHAINS; c++)
    s = _mm512_add_ps(s, acc[c]);
  sink = _mm512_reduce_add_ps(s);
  return NULL;
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double measure(int threads)
{
  double best = 0;
  pthread_t tid[64];
  for (int trial = 0; trial < 5; trial++) {
    double t0 = now_s();
    for (int i = 0; i < threads; i++)
      pthread_create(&tid[i], NULL, fma_loop, NULL);
    for (int i = 0; i < threads; i++)
      pthread_join(tid[i], NULL);
    double dt = now_s() - t0;
    double flop = 2.0 * 16 * CHAINS * (double)(ITERS / CHAINS * 4) * threads;
    if (flop / dt > best)
      best = flop / dt;
  }
  return best / 1e9;
}

int main(int argc, char **argv)
{
  int json = 0, list[64], n = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--json")) {
      json = 1;
    } else {
      char *end;
      long t = strtol(argv[i], &end, 10);
      if (*end || t < 1 || t > 64 || n == 64) {
        fprintf(stderr, "usage: fma_peak [--json] [THREADS...] (1..64)\n");
        return 2;
      }
      list[n++] = (int)t;
    }
  }
  if (!n) {
    list[n++] = 1;
    list[n++] = 2;
  }
  if (json)
    printf("{");
  for (int i = 0; i < n; i++) {
    double g = measure(list[i]);
    if (json)
      printf("%s\"%d\":%.1f", i ? "," : "", list[i], g);
    else
      printf("%d thread%s: %.1f GFLOP/s (float32 AVX-512 FMA)\n", list[i], list[i] > 1 ? "s" : "",
             g);
  }
  if (json)
    printf("}\n");
  return 0;
}
