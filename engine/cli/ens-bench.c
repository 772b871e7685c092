/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ens-bench - time ens_model_forward and report latency, throughput, peak RSS and the share
 * of the machine's FMA peak.
 *
 *   ens-bench (--model PATH | --variant V --random-weights) [--batch N] [--threads T]
 *             [--runs R] [--warmup W] [--input-size H[xW]] [--peak-gflops X] [--json]
 *             [--input FILE.f32] [--logits-out FILE.f32] [--times] [--precision f32|bf16]
 *
 * The input is a fixed pseudo-random pattern (sin(i), as shared/tools/ort_check.js uses), or a
 * raw float32 NCHW file (--input; one image is repeated over the batch). Times are wall-clock
 * per forward call, median and p90 over R runs after W warm-up runs. --peak-gflops is the FMA
 * peak of the cores in use (engine/bench/fma_peak prints it); without it the percentage is
 * not reported. Exit codes: 0 ok, 1 model / runtime error, 2 usage error.
 *
 * --json prints one line with the keys variant, batch, threads, input ("HxW"), runs,
 * median_ms, p90_ms, min_ms, ms_per_image, images_per_s, peak_rss_mb (getrusage ru_maxrss),
 * weight_mb (0 for --random-weights), gflop_per_image, gflops, peak_gflops and pct_fma_peak
 * (null without --peak-gflops), precision ("f32" or "bf16"), and times_ms (every timed run)
 * with --times. --precision bf16 runs the 1x1 convolutions in bf16 (ENS_PRECISION_BF16; needs
 * AVX512_BF16, else exit 1).
 * engine/bench/test_ens_bench.py checks the exit codes and these keys.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli_args.h"
#include "cli_exit.h"
#include "ens.h"
#include "variant.h"

static void usage(FILE *f)
{
  fprintf(f, "usage: ens-bench (--model PATH | --variant V --random-weights) [--batch 1..4096]\n"
             "                 [--threads T] [--runs R] [--warmup W] [--input-size H[xW]]\n"
             "                 [--peak-gflops X] [--json] [--input FILE.f32]\n"
             "                 [--logits-out FILE.f32] [--times] [--precision f32|bf16]\n");
}

/* One line that names the problem (and the limit), exit status 2. */
static int usage_error(const char *fmt, const char *arg)
{
  fprintf(stderr, "ens-bench: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, " (see ens-bench --help for usage)\n");
  return 2;
}

#define ENS_STR_(x) #x
#define ENS_STR(x) ENS_STR_(x)

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Reads exactly n floats from a raw file; 0 on error (message printed). */
static int read_f32(const char *path, float *dst, size_t n)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "ens-bench: %s: %s\n", path, strerror(errno));
    return 0;
  }
  size_t got = fread(dst, sizeof(float), n, f);
  int extra = fgetc(f) != EOF;
  fclose(f);
  if (got != n || extra) {
    fprintf(stderr, "ens-bench: %s: expected exactly %zu float32 values (one image)\n", path, n);
    return 0;
  }
  return 1;
}

static int bench_main(int argc, char **argv)
{
  const char *model_path = NULL, *variant = NULL, *input_path = NULL, *logits_out = NULL;
  int random_weights = 0, batch = 1, threads = 0, runs = 20, warmup = 3, json = 0, times = 0;
  int in_h = 0, in_w = 0;
  double peak_gflops = 0;
  ens_precision precision = ENS_PRECISION_F32;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    int takes = 1;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--random-weights")) {
      random_weights = 1;
      takes = 0;
    } else if (!strcmp(a, "--json")) {
      json = 1;
      takes = 0;
    } else if (!strcmp(a, "--times")) {
      times = 1;
      takes = 0;
    } else if (!v) {
      return usage_error("option %s needs a value", a);
    } else if (!strcmp(a, "--model")) {
      model_path = v;
    } else if (!strcmp(a, "--variant")) {
      variant = v;
    } else if (!strcmp(a, "--input")) {
      input_path = v;
    } else if (!strcmp(a, "--logits-out")) {
      logits_out = v;
    } else if (!strcmp(a, "--batch")) {
      if (!ens_cli_parse_int(v, 1, INT_MAX, &batch))
        return usage_error("--batch: not a positive integer: %s", v);
      if (batch > ENS_MAX_BATCH)
        return usage_error("--batch %s: at most " ENS_STR(
                               ENS_MAX_BATCH) " images per forward pass (the engine's limit)",
                           v);
    } else if (!strcmp(a, "--threads")) {
      if (!ens_cli_parse_int(v, 1, INT_MAX, &threads))
        return usage_error("--threads: not a positive integer: %s", v);
    } else if (!strcmp(a, "--runs")) {
      if (!ens_cli_parse_int(v, 1, INT_MAX, &runs))
        return usage_error("--runs: not a positive integer: %s", v);
    } else if (!strcmp(a, "--warmup")) {
      if (strcmp(v, "0") && !ens_cli_parse_int(v, 1, INT_MAX, &warmup))
        return usage_error("--warmup: not a non-negative integer: %s", v);
      if (!strcmp(v, "0"))
        warmup = 0;
    } else if (!strcmp(a, "--input-size")) {
      if (!ens_cli_parse_size(v, &in_h, &in_w))
        return usage_error("--input-size: expected H or HxW, got %s", v);
    } else if (!strcmp(a, "--precision")) {
      if (!strcmp(v, "f32"))
        precision = ENS_PRECISION_F32;
      else if (!strcmp(v, "bf16"))
        precision = ENS_PRECISION_BF16;
      else
        return usage_error("--precision: expected f32 or bf16, got %s", v);
    } else if (!strcmp(a, "--peak-gflops")) {
      char *end;
      peak_gflops = strtod(v, &end);
      if (end == v || *end || !(peak_gflops > 0) || !isfinite(peak_gflops))
        return usage_error("--peak-gflops: not a positive number: %s", v);
    } else {
      return usage_error("unknown option: %s", a);
    }
    i += takes;
  }
  if (!!model_path == !!variant)
    return usage_error("%s", "give exactly one of --model PATH or --variant V");
  if (variant && !random_weights)
    return usage_error("%s", "--variant needs --random-weights (or use --model PATH)");
  if (model_path && random_weights)
    return usage_error("%s", "--random-weights goes with --variant, not --model");
  if (variant && !ens_variant_find(variant))
    return usage_error("--variant %s: expected b0..b7 or l2", variant);

  ens_options opt;
  ens_options_init(&opt);
  opt.threads = threads;
  opt.input_height = in_h;
  opt.input_width = in_w;
  opt.max_batch = batch;
  opt.precision = precision;

  ens_error err;
  ens_model *m = NULL;
  ens_status st = model_path ? ens_model_load(model_path, &opt, &m, &err)
                             : ens_model_new_random(variant, 1000, 1, &opt, &m, &err);
  if (st != ENS_OK) {
    fprintf(stderr, "ens-bench: %s\n", err.message);
    return 1;
  }
  ens_session_options so;
  ens_session_options_init(&so);
  so.threads = threads;
  so.max_batch = batch;
  ens_session *session = NULL;
  if (ens_session_new(m, &so, &session, &err) != ENS_OK) {
    fprintf(stderr, "ens-bench: %s\n", err.message);
    ens_model_free(m);
    return 1;
  }
  const ens_model_info *info = ens_model_get_info(m);
  size_t img = (size_t)3 * info->input_height * info->input_width;
  float *x = malloc(img * batch * sizeof(float));
  float *logits = malloc((size_t)batch * info->num_classes * sizeof(float));
  double *t = malloc((size_t)runs * sizeof(double));
  double *sorted = malloc((size_t)runs * sizeof(double));
  int rc = 1; /* every failure below goes to `done`, which frees everything */
  if (!x || !logits || !t || !sorted) {
    fprintf(stderr, "ens-bench: out of memory\n");
    goto done;
  }
  if (input_path) {
    if (!read_f32(input_path, x, img))
      goto done;
  } else {
    for (size_t i = 0; i < img; i++)
      x[i] = (float)sin((double)i);
  }
  for (int b = 1; b < batch; b++)
    memcpy(x + b * img, x, img * sizeof(float));

  for (int i = 0; i < warmup + runs; i++) {
    double t0 = now_ms();
    st = ens_session_forward(session, x, batch, logits, NULL, &err);
    double dt = now_ms() - t0;
    if (st != ENS_OK) {
      fprintf(stderr, "ens-bench: forward: %s\n", err.message);
      goto done;
    }
    if (i >= warmup)
      t[i - warmup] = dt;
  }
  if (logits_out) {
    FILE *f = fopen(logits_out, "wb");
    const size_t nl = (size_t)batch * info->num_classes;
    const int ok = f && fwrite(logits, sizeof(float), nl, f) == nl;
    if ((f && fclose(f) != 0) || !ok) {
      fprintf(stderr, "ens-bench: cannot write %s\n", logits_out);
      goto done;
    }
  }

  memcpy(sorted, t, (size_t)runs * sizeof(double));
  qsort(sorted, runs, sizeof(double), cmp_double);
  double median = runs % 2 ? sorted[runs / 2] : 0.5 * (sorted[runs / 2 - 1] + sorted[runs / 2]);
  int p90i = (int)ceil(0.9 * runs) - 1;
  double p90 = sorted[p90i < 0 ? 0 : p90i];
  double ms_img = median / batch;
  double ips = 1e3 / ms_img;
  double achieved = info->gflops * ips; /* GFLOP/s */
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double rss_mb = ru.ru_maxrss / 1024.0; /* Linux: KiB */

  if (json) {
    printf("{\"variant\":\"%s\",\"batch\":%d,\"threads\":%d,\"input\":\"%dx%d\",\"runs\":%d,"
           "\"median_ms\":%.4f,\"p90_ms\":%.4f,\"min_ms\":%.4f,\"ms_per_image\":%.4f,"
           "\"images_per_s\":%.3f,\"peak_rss_mb\":%.1f,\"weight_mb\":%.2f,"
           "\"gflop_per_image\":%.4f,\"gflops\":%.2f,",
           info->variant, batch, ens_session_threads(session), info->input_height,
           info->input_width, runs, median, p90, sorted[0], ms_img, ips, rss_mb,
           info->weight_bytes / 1048576.0, info->gflops, achieved);
    if (peak_gflops > 0)
      printf("\"peak_gflops\":%.1f,\"pct_fma_peak\":%.2f", peak_gflops,
             100.0 * achieved / peak_gflops);
    else
      printf("\"peak_gflops\":null,\"pct_fma_peak\":null");
    printf(",\"precision\":\"%s\"", precision == ENS_PRECISION_BF16 ? "bf16" : "f32");
    if (times) {
      printf(",\"times_ms\":[");
      for (int i = 0; i < runs; i++)
        printf("%s%.4f", i ? "," : "", t[i]);
      printf("]");
    }
    printf("}\n");
  } else {
    printf("model      %s (%s) %dx%d, %d threads\n", info->name, info->variant, info->input_height,
           info->input_width, ens_session_threads(session));
    printf("batch      %d, %d runs after %d warm-up\n", batch, runs, warmup);
    printf("precision  %s\n", precision == ENS_PRECISION_BF16 ? "bf16 (1x1 convs)" : "f32");
    printf("latency    median %.3f ms, p90 %.3f ms, min %.3f ms\n", median, p90, sorted[0]);
    printf("throughput %.2f ms/image, %.1f images/s\n", ms_img, ips);
    printf("compute    %.3f GFLOP/image, %.1f GFLOP/s", info->gflops, achieved);
    if (peak_gflops > 0)
      printf(" = %.1f %% of %.1f GFLOP/s FMA peak", 100.0 * achieved / peak_gflops, peak_gflops);
    printf("\npeak RSS   %.1f MiB (weights %.1f MiB)\n", rss_mb, info->weight_bytes / 1048576.0);
  }
  rc = 0;
done:
  free(sorted);
  free(t);
  free(logits);
  free(x);
  ens_session_free(session);
  ens_model_free(m);
  return rc;
}

int main(int argc, char **argv)
{
  ens_cli_exit(bench_main(argc, argv)); /* not return: see cli_exit.c */
}
