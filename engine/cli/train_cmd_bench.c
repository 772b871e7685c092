/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_cmd_bench.c - `ens-train bench`: times full training steps (train-mode forward on a
 * random batch with one-hot targets, backward, the recipe's RMSpropTF update) of a
 * tf_efficientnet of any width / depth; medians over the timed steps of the wall time and of
 * the process CPU time (the calmer figure on a shared machine), peak RSS, FLOP rate. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli_args.h"
#include "error.h"
#include "optim.h"
#include "rng.h"
#include "train_cmds.h"
#include "train_flops.h"
#include "train_model.h"
#include "trainer.h"

static void usage(FILE *f)
{
  fprintf(f,
          "usage: ens-train bench (--arch NAME | --width W --depth D) [--batch B]\n"
          "                       [--input-size S] [--threads T] [--steps N] [--warmup N]\n"
          "                       [--classes K] [--json]\n\n"
          "Times full training steps: train-mode forward of a random batch with one-hot\n"
          "targets (label smoothing 0.1), backward, and the recipe's RMSpropTF update (lr\n"
          "0.016, alpha 0.9, eps 1e-3, momentum 0.9, weight decay 1e-5 on >= 2-D tensors).\n"
          "  --arch        b0 ... b7, l2, or nano (width 0.5, depth 0.5)\n"
          "  --width/--depth  multipliers in (0, 8]\n"
          "  --batch       images per step (default 128)\n"
          "  --input-size  square input side (default 32)\n"
          "  --threads     worker threads (default: all CPUs)\n"
          "  --steps       timed steps (default 5); --warmup untimed steps first (default 2)\n"
          "  --classes     classifier width (default 10 for nano, else 1000)\n"
          "  --json        one JSON line: ms_per_step, ms_per_image, images_per_s, peak_rss_mb,\n"
          "                cpu_ms_per_image (medians over the timed steps) and the shape\n");
}

typedef struct {
  ens_model_args model;
  int batch, size, threads, steps, warmup, classes, json;
} bench_args;

static int parse_positive(const char *s, double *out)
{
  char *end;
  double v = strtod(s, &end);
  if (end == s || *end || !(v > 0 && v <= 8))
    return 0;
  *out = v;
  return 1;
}

/* 0 ok, -1 help printed, 2 usage error (message printed). */
static int parse(int argc, char **argv, bench_args *a)
{
  static const struct option opts[] = {{"arch", required_argument, NULL, 'a'},
                                       {"width", required_argument, NULL, 'W'},
                                       {"depth", required_argument, NULL, 'D'},
                                       {"batch", required_argument, NULL, 'b'},
                                       {"input-size", required_argument, NULL, 's'},
                                       {"threads", required_argument, NULL, 'j'},
                                       {"steps", required_argument, NULL, 'n'},
                                       {"warmup", required_argument, NULL, 'w'},
                                       {"classes", required_argument, NULL, 'k'},
                                       {"json", no_argument, NULL, 'J'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  memset(a, 0, sizeof *a);
  a->batch = 128;
  a->size = 32;
  a->steps = 5;
  a->warmup = 2;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    int ok = 1;
    switch (c) {
      case 'a':
        a->model.arch = optarg;
        break;
      case 'W':
        ok = parse_positive(optarg, &a->model.width);
        break;
      case 'D':
        ok = parse_positive(optarg, &a->model.depth);
        break;
      case 'b':
        ok = ens_cli_parse_int(optarg, 1, 65536, &a->batch);
        break;
      case 's':
        ok = ens_cli_parse_int(optarg, 8, 4096, &a->size);
        break;
      case 'j':
        ok = ens_cli_parse_int(optarg, 1, 1024, &a->threads);
        break;
      case 'n':
        ok = ens_cli_parse_int(optarg, 1, 100000, &a->steps);
        break;
      case 'w':
        ok = ens_cli_parse_int(optarg, 0, 100000, &a->warmup);
        break;
      case 'k':
        ok = ens_cli_parse_int(optarg, 1, 100000, &a->classes);
        break;
      case 'J':
        a->json = 1;
        break;
      case 'h':
        usage(stdout);
        return -1;
      case ':':
        fprintf(stderr, "ens-train bench: option '%s' needs an argument\n", argv[optind - 1]);
        return 2;
      default:
        fprintf(stderr, "ens-train bench: unknown option '%s'\n", argv[optind - 1]);
        usage(stderr);
        return 2;
    }
    if (!ok) {
      fprintf(stderr,
              "ens-train bench: bad value '%s' for %s (multipliers in (0, 8]; batch 1..65536, "
              "input size 8..4096, threads 1..1024, steps >= 1, warmup >= 0, classes >= 1)\n",
              optarg, argv[optind - 1]);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "ens-train bench: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  int given = (a->model.arch != NULL) + (a->model.width > 0 || a->model.depth > 0);
  if (given != 1 || (!a->model.arch && !(a->model.width > 0 && a->model.depth > 0))) {
    fprintf(stderr, "ens-train bench: give either --arch NAME or both --width W and --depth D\n");
    usage(stderr);
    return 2;
  }
  double w, d;
  if (a->model.arch && !ens_named_shape(a->model.arch, &w, &d)) {
    fprintf(stderr, "ens-train bench: unknown --arch '%s' (b0 ... b7, l2, nano)\n", a->model.arch);
    return 2;
  }
  if (!a->classes)
    a->classes = a->model.arch && !strcmp(a->model.arch, "nano") ? 10 : 1000;
  return 0;
}

static double clock_ms(clockid_t id)
{
  struct timespec t;
  clock_gettime(id, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp_double(const void *p, const void *q)
{
  double a = *(const double *)p, b = *(const double *)q;
  return (a > b) - (a < b);
}

/* Median of n values (sorts v). */
static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Random inputs in [-2, 2) and one-hot targets of random classes. */
static void random_batch(float *x, size_t nx, float *y, int batch, int classes)
{
  ens_rng r;
  ens_rng_seed(&r, 1, 0);
  for (size_t i = 0; i < nx; i++)
    x[i] = 4.0f * ens_rng_uniform(&r) - 2.0f;
  memset(y, 0, (size_t)batch * classes * sizeof *y);
  for (int n = 0; n < batch; n++)
    y[(size_t)n * classes + ens_rng_u32(&r) % (uint32_t)classes] = 1.0f;
}

typedef struct {
  double ms_step, cpu_ms_step, peak_rss_mb, loss_first, loss_last;
} bench_result;

/* Runs warmup + steps train steps on g; per-step wall and CPU times into res (medians). */
static ens_status run_steps(ens_train_graph *g, const bench_args *a, bench_result *res,
                            ens_error *err)
{
  ens_train_recipe recipe;
  ens_train_recipe_default(&recipe);
  int np;
  ens_param *params = ens_tg_params(g, &np);
  ens_optimizer *opt = NULL;
  ens_status st = ens_optim_new(&recipe.optim, params, np, &opt, err);
  if (st != ENS_OK)
    return st;
  size_t nx = (size_t)a->batch * 3 * a->size * a->size;
  float *x = malloc(nx * sizeof *x);
  float *y = malloc((size_t)a->batch * a->classes * sizeof *y);
  double *wall = malloc((size_t)a->steps * sizeof *wall);
  double *cpu = malloc((size_t)a->steps * sizeof *cpu);
  if (!x || !y || !wall || !cpu) {
    st = ens_fail(err, ENS_ERR_NOMEM, "out of memory for a batch of %d images of %dx%d", a->batch,
                  a->size, a->size);
    goto out;
  }
  random_batch(x, nx, y, a->batch, a->classes);
  ens_threadpool *pool = ens_tg_pool(g);
  for (int i = 0; i < a->warmup + a->steps; i++) {
    double t0 = clock_ms(CLOCK_MONOTONIC), c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    float loss = ens_tg_forward(g, x, y, recipe.smoothing, 1);
    ens_tg_backward(g, NULL);
    ens_optim_step(opt, pool);
    double t1 = clock_ms(CLOCK_MONOTONIC), c1 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    if (i == 0)
      res->loss_first = loss;
    res->loss_last = loss;
    if (i >= a->warmup) {
      wall[i - a->warmup] = t1 - t0;
      cpu[i - a->warmup] = c1 - c0;
    }
  }
  res->ms_step = median(wall, a->steps);
  res->cpu_ms_step = median(cpu, a->steps);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  res->peak_rss_mb = (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
out:
  free(x);
  free(y);
  free(wall);
  free(cpu);
  ens_optim_free(opt);
  return st;
}

static void report(const bench_args *a, ens_train_graph *g, double width, double depth,
                   const bench_result *r)
{
  double ms_img = r->ms_step / a->batch, cpu_img = r->cpu_ms_step / a->batch;
  double gflop = ens_train_step_gflop(ens_tg_arch(g), a->size, a->size);
  double gflops = gflop * a->batch / (r->ms_step * 1e-3);
  int threads = ens_threadpool_threads(ens_tg_pool(g));
  if (a->json) {
    printf("{\"ms_per_step\": %.3f, \"ms_per_image\": %.4f, \"images_per_s\": %.2f, "
           "\"peak_rss_mb\": %.1f, \"cpu_ms_per_image\": %.4f, \"cpu_ms_per_step\": %.3f, "
           "\"width\": %g, \"depth\": %g, \"classes\": %d, \"batch\": %d, \"input_size\": %d, "
           "\"threads\": %d, \"steps\": %d, \"warmup\": %d, \"fwd_gflop_per_image\": %.6g, "
           "\"train_gflop_per_image\": %.6g, \"gflops\": %.4g, \"arena_mb\": %.1f, "
           "\"loss_first\": %.6g, \"loss_last\": %.6g}\n",
           r->ms_step, ms_img, 1e3 / ms_img, r->peak_rss_mb, cpu_img, r->cpu_ms_step, width, depth,
           a->classes, a->batch, a->size, threads, a->steps, a->warmup, gflop / 3.0, gflop, gflops,
           (double)ens_tg_arena_bytes(g) / (1024.0 * 1024.0), r->loss_first, r->loss_last);
    return;
  }
  printf("ens-train bench: w%g d%g, %d classes, batch %d @ %dx%d, %d thread%s: %.1f ms/step, "
         "%.3f ms/image, %.1f images/s, CPU %.3f ms/image, %.3f GFLOP/image/step (%.1f "
         "GFLOP/s), peak RSS %.0f MiB (median of %d steps after %d warm-up)\n",
         width, depth, a->classes, a->batch, a->size, a->size, threads, threads == 1 ? "" : "s",
         r->ms_step, ms_img, 1e3 / ms_img, cpu_img, gflop, gflops, r->peak_rss_mb, a->steps,
         a->warmup);
}

int ens_train_cmd_bench(int argc, char **argv)
{
  bench_args a;
  int rc = parse(argc, argv, &a);
  if (rc)
    return rc < 0 ? 0 : rc;
  ens_error err = {0};
  ens_train_graph *g = NULL;
  double width = 0, depth = 0;
  if (ens_model_args_build(&a.model, a.classes, a.batch, a.size, a.threads, 42, &g, &width, &depth,
                           &err) != ENS_OK) {
    fprintf(stderr, "ens-train bench: %s\n", err.message);
    return 1;
  }
  bench_result r = {0};
  if (run_steps(g, &a, &r, &err) != ENS_OK) {
    fprintf(stderr, "ens-train bench: %s\n", err.message);
    ens_tg_free(g);
    return 1;
  }
  report(&a, g, width, depth, &r);
  ens_tg_free(g);
  if (!isfinite(r.loss_last)) {
    fprintf(stderr, "ens-train bench: the loss is not finite (%g): the step is broken\n",
            r.loss_last);
    return 1;
  }
  return 0;
}
