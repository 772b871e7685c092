/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_kernels_avx512 - every AVX-512 kernel against the reference kernel on random data:
 * random and edge shapes (odd channel counts, 1-pixel images, every SAME pad combination),
 * all fused options, and work ranges split at odd points. Skips (77) on CPUs without
 * AVX-512. Also checks the vector SiLU against double precision over a wide range. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"
#include "kernels/kernels.h"
#include "kernels/x86/kernels_x86.h"
#include "pw_problem.h"

static float *dup(const float *v, size_t n)
{
  float *d = malloc(sizeof(float) * (n ? n : 1));
  memcpy(d, v, sizeof(float) * n);
  return d;
}

/* Runs fn over [0, items) as two ranges split at `split` (like two pool threads). */
#define RUN_SPLIT(fn, args, items, split)                                                          \
  do {                                                                                             \
    const int at_ = (split);                                                                       \
    fn(args, 0, at_);                                                                              \
    fn(args, at_, items);                                                                          \
  } while (0)

static void test_pointwise(const ens_kernels *fast, int rows, int cin, int cout, int use_se,
                           int use_res, ens_act act)
{
  pw_problem p;
  pw_problem_init(&p, rows, cin, cout, use_se, use_res, act);
  float *in_ref = dup(p.in, (size_t)rows * cin), *in_fast = dup(p.in, (size_t)rows * cin);
  float *out_ref = ens_test_randv((size_t)rows * cout, 9.0f),
        *out_fast = ens_test_randv((size_t)rows * cout, 9.0f);
  ens_pw_args a = p.args;
  const int split = ens_test_irand(0, rows);
  a.in = in_ref;
  a.out = out_ref;
  RUN_SPLIT(ens_pointwise_ref, &a, rows, split);
  a.in = in_fast;
  a.out = out_fast;
  a.prefetch[0] = p.res; /* cache hints only: must not change the result */
  a.prefetch_bytes[0] = sizeof(float) * rows * cout;
  a.prefetch[1] = p.bias;
  a.prefetch_bytes[1] = sizeof(float) * cout;
  RUN_SPLIT(fast->pointwise, &a, rows, ens_test_irand(0, rows));
  char what[160];
  snprintf(what, sizeof what, "pointwise rows %d cin %d cout %d se %d res %d act %d", rows, cin,
           cout, use_se, use_res, act);
  ens_test_close(what, out_fast, out_ref, (size_t)rows * cout, 1e-5, 1e-5);

  /* Split by output columns (as the forward does for few rows; never with se): two column
   * ranges, the first ending on a random multiple of 16, give the same result as one call. */
  if (!use_se) {
    float *out_cols = ens_test_randv((size_t)rows * cout, 9.0f);
    a.in = in_fast;
    a.out = out_cols;
    a.col_end = 16 * ens_test_irand(0, cout / 16);
    fast->pointwise(&a, 0, rows);
    a.col_begin = a.col_end;
    a.col_end = cout;
    fast->pointwise(&a, 0, rows);
    strcat(what, " split by columns");
    CHECK(memcmp(out_cols, out_fast, sizeof(float) * rows * cout) == 0, "%s: differs", what);
    a.in = in_ref;
    a.out = out_ref;
    a.col_begin = 0;
    a.col_end = 16 * ens_test_irand(0, cout / 16);
    ens_pointwise_ref(&a, 0, rows);
    a.col_begin = a.col_end;
    a.col_end = cout;
    ens_pointwise_ref(&a, 0, rows);
    strcat(what, " (reference)");
    ens_test_close(what, out_cols, out_ref, (size_t)rows * cout, 1e-5, 1e-5);
    free(out_cols);
  }
  pw_problem_free(&p);
  free(in_ref), free(in_fast), free(out_ref), free(out_fast);
}

static void test_depthwise(const ens_kernels *fast, int n, int ih, int iw, int c, int k, int s,
                           int pt, int pb, int pl, int pr, ens_act act)
{
  const int oh = (ih + pt + pb - k) / s + 1, ow = (iw + pl + pr - k) / s + 1;
  if (oh <= 0 || ow <= 0)
    return;
  float *in = ens_test_randv((size_t)n * ih * iw * c, 2.0f);
  float *w = ens_test_randv((size_t)k * k * c, 0.5f), *bias = ens_test_randv(c, 0.5f);
  const size_t on = (size_t)n * oh * ow * c;
  float *out_ref = ens_test_randv(on, 9.0f), *out_fast = ens_test_randv(on, 9.0f);
  float *sums_ref = ens_test_randv((size_t)n * oh * c, 9.0f),
        *sums_fast = ens_test_randv((size_t)n * oh * c, 9.0f);
  ens_dw_args a = {.in = in,
                   .w = w,
                   .bias = bias,
                   .n = n,
                   .ih = ih,
                   .iw = iw,
                   .c = c,
                   .oh = oh,
                   .ow = ow,
                   .k = k,
                   .stride = s,
                   .pad_top = pt,
                   .pad_left = pl,
                   .act = act};
  const int items = n * oh;
  a.out = out_ref;
  a.row_sums = sums_ref;
  RUN_SPLIT(ens_depthwise_ref, &a, items, ens_test_irand(0, items));
  a.out = out_fast;
  a.row_sums = sums_fast;
  RUN_SPLIT(fast->depthwise, &a, items, ens_test_irand(0, items));
  char what[200];
  snprintf(what, sizeof what, "depthwise n %d %dx%d c %d k %d s %d pad t%d b%d l%d r%d act %d", n,
           ih, iw, c, k, s, pt, pb, pl, pr, act);
  ens_test_close(what, out_fast, out_ref, on, 1e-5, 1e-5);
  strcat(what, " row_sums");
  ens_test_close(what, sums_fast, sums_ref, (size_t)n * oh * c, 1e-4, 1e-5);
  /* Without row sums the outputs must not change. */
  a.row_sums = NULL;
  float *out_ns = ens_test_randv(on, 9.0f);
  a.out = out_ns;
  fast->depthwise(&a, 0, items);
  CHECK(memcmp(out_ns, out_fast, sizeof(float) * on) == 0, "%s: differs without row sums", what);
  free(in), free(w), free(bias), free(out_ref), free(out_fast), free(sums_ref), free(sums_fast);
  free(out_ns);
}

static void test_stem(const ens_kernels *fast, int n, int ih, int iw, int cout, int s, int pt,
                      int pb, int pl, int pr)
{
  const int k = 3, cin = 3;
  const int oh = (ih + pt + pb - k) / s + 1, ow = (iw + pl + pr - k) / s + 1;
  if (oh <= 0 || ow <= 0)
    return;
  float *in = ens_test_randv((size_t)n * cin * ih * iw, 2.0f);
  float *w = ens_test_randv((size_t)k * k * cin * cout, 0.3f), *bias = ens_test_randv(cout, 0.5f);
  const size_t on = (size_t)n * oh * ow * cout;
  float *out_ref = ens_test_randv(on, 9.0f), *out_fast = ens_test_randv(on, 9.0f);
  ens_stem_args a = {.in = in,
                     .w = w,
                     .bias = bias,
                     .n = n,
                     .cin = cin,
                     .ih = ih,
                     .iw = iw,
                     .cout = cout,
                     .oh = oh,
                     .ow = ow,
                     .k = k,
                     .stride = s,
                     .pad_top = pt,
                     .pad_left = pl,
                     .act = ENS_ACT_SILU};
  a.out = out_ref;
  RUN_SPLIT(ens_stem_ref, &a, n * oh, ens_test_irand(0, n * oh));
  a.out = out_fast;
  RUN_SPLIT(fast->stem, &a, n * oh, ens_test_irand(0, n * oh));
  char what[160];
  snprintf(what, sizeof what, "stem n %d %dx%d cout %d s %d pad t%d b%d l%d r%d", n, ih, iw, cout,
           s, pt, pb, pl, pr);
  ens_test_close(what, out_fast, out_ref, on, 1e-5, 1e-5);
  free(in), free(w), free(bias), free(out_ref), free(out_fast);
}

static void test_scale_channels(const ens_kernels *fast, int rows, int c, int c0, int c1)
{
  const size_t n = (size_t)rows * (c + 3); /* rows padded: stride != c */
  float *x = ens_test_randv(n, 2.0f), *s = ens_test_randv(c, 1.0f);
  float *x_ref = dup(x, n);
  fast->scale_channels(x, c + 3, rows, s, c0, c1);
  ens_scale_channels_ref(x_ref, c + 3, rows, s, c0, c1);
  char what[96];
  snprintf(what, sizeof what, "scale_channels rows %d c %d [%d, %d)", rows, c, c0, c1);
  CHECK(memcmp(x, x_ref, sizeof(float) * n) == 0, "%s: differs from the reference", what);
  free(x), free(s), free(x_ref);
}

/* SiLU through the pointwise kernel (cin 1, weight 1, bias 0) against double precision:
 * relative error within a few ulp everywhere, exact limits at the extremes. The kernel input
 * is the pre-scaled v = x * ENS_SILU_PRESCALE (kernels.h); x runs over [-110, 110]. */
static void test_silu(const ens_kernels *fast)
{
  enum { N = 4096 };
  static float v[N], y[N];
  for (int i = 0; i < N; i++)
    v[i] = (float)((-110.0 + 220.0 * i / (N - 1)) * ENS_SILU_PRESCALE);
  v[0] = 1e30f, v[1] = -1e30f, v[2] = 0.0f, v[3] = 128.0f, v[4] = -128.0f, v[5] = 1e-30f;
  v[6] = 127.5f, v[7] = -127.5f, v[8] = 129.0f, v[9] = -129.0f;
  const float zero = 0.0f;
  float one[ENS_PW_PANEL] = {1.0f}; /* W = [[1]], packed: one panel row */
  ens_pw_args a = {.in = v,
                   .w = one,
                   .bias = &zero,
                   .out = y,
                   .rows = N,
                   .cin = 1,
                   .cout = 1,
                   .rows_per_image = 1,
                   .act = ENS_ACT_SILU};
  fast->pointwise(&a, 0, N);
  double worst = 0, worst_x = 0;
  for (int i = 0; i < N; i++) {
    const double x = (double)v[i] * -M_LN2;
    const double want = x / (1.0 + exp(-x));
    const double d = fabs(y[i] - want);
    const double rel = want != 0 ? d / fabs(want) : d;
    if (fabs(want) > 1e-30 && rel > worst)
      worst = rel, worst_x = x;
    CHECK(isfinite(y[i]), "silu(%g) = %g", x, y[i]);
    /* Where x / (1 + e^-x) underflows in float (as in the reference), only tiny is right. */
    CHECK(fabs(want) > 1e-30 || fabs(y[i]) <= 1e-30, "silu(%g) = %g, want %g", x, y[i], want);
    /* and the portable reference computes the same function */
    const float r = ens_silu_prescaled(v[i]);
    CHECK(fabs(r - want) <= 3.6e-7 * fabs(want) || (fabs(want) <= 1e-30 && fabs(r) <= 1e-30),
          "reference silu(%g) = %g, want %g", x, r, want);
  }
  printf("silu: worst relative error %.3g at x = %g (float ulp 1.19e-7)\n", worst, worst_x);
  CHECK(worst < 3.6e-7, "silu relative error %g exceeds 3 ulp", worst);
  CHECK(y[1] == -1e30f * ENS_SILU_UNSCALE, "silu(6.9e29) = %g", y[1]);
  CHECK(y[0] == 0.0f, "silu(-6.9e29) = %g", y[0]);
}

int main(void)
{
  ens_test_seed(0x9E3779B97F4A7C15ull);
  if (!ens_cpu_has_avx512())
    ens_test_skip("this CPU has no AVX-512");
  const ens_kernels *fast = ens_kernels_avx512();
  CHECK(ens_kernels_get() == fast || getenv("ENS_KERNELS"), "dispatch did not pick %s", fast->name);
  printf("kernels: %s\n", fast->name);

  test_silu(fast);
  for (int t = 0; t < 40; t++) {
    const int c = ens_test_irand(1, 200), c0 = ens_test_irand(0, c), c1 = ens_test_irand(c0, c);
    test_scale_channels(fast, ens_test_irand(0, 9), c, c0, c1);
  }

  /* pointwise: EfficientNet's channel counts, odd ones, and random ones */
  const int pw_c[] = {1, 3, 8, 16, 17, 24, 40, 47, 48, 49, 80, 96, 112, 144, 320, 1000};
  const int pw_rows[] = {1, 2, 7, 8, 9, 13, 16, 17, 49, 196, 600};
  for (int t = 0; t < 120; t++) {
    const int rows = t < 60 ? pw_rows[t % 11] : ens_test_irand(1, 700);
    const int cin = t < 60 ? pw_c[(t * 7) % 16] : ens_test_irand(1, 200);
    const int cout = t < 60 ? pw_c[(t * 5 + 3) % 16] : ens_test_irand(1, 200);
    const ens_act act = (t / 4) % 3 == 2 ? ENS_ACT_SIGMOID
                        : (t / 4) % 3    ? ENS_ACT_SILU
                                         : ENS_ACT_NONE;
    test_pointwise(fast, rows, cin, cout, t % 2, (t / 2) % 2, act);
  }
  test_pointwise(fast, 3000, 16, 96, 0, 0, ENS_ACT_SILU); /* more than one row panel */
  test_pointwise(fast, 300, 1152, 320, 1, 1, ENS_ACT_NONE);

  /* depthwise: every pad combination for k 3 and 5, strides 1 and 2, odd sizes */
  const int dw_sz[] = {1, 2, 3, 4, 5, 7, 8, 13, 14, 17};
  const int dw_c[] = {1, 8, 16, 24, 40, 96, 145};
  int t = 0;
  for (int k = 3; k <= 5; k += 2)
    for (int s = 1; s <= 2; s++)
      for (int pt = 0; pt < k; pt++)
        for (int pb = 0; pb < k; pb++) {
          const int pl = (pt + t) % k, pr = (pb + 2 * t) % k;
          const int ih = dw_sz[t % 10], iw = dw_sz[(t * 3 + 1) % 10], c = dw_c[t % 7];
          test_depthwise(fast, 1 + t % 2, ih, iw, c, k, s, pt, pb, pl, pr,
                         t % 3 ? ENS_ACT_SILU : ENS_ACT_NONE);
          test_depthwise(fast, 1, ens_test_irand(1, 40), ens_test_irand(1, 40),
                         ens_test_irand(1, 70), k, s, pt, pb, pb, pt, ENS_ACT_SILU);
          t++;
        }
  /* kernel sizes EfficientNet does not use: the generic path (k <= 5) and the fallback (k 7) */
  for (int k = 1; k <= 7; k++)
    if (k != 3 && k != 5)
      for (int s = 1; s <= 2; s++)
        test_depthwise(fast, 2, ens_test_irand(k, 30), ens_test_irand(k, 30), ens_test_irand(1, 50),
                       k, s, k / 2, k / 2, (k - 1) / 2, k / 2, ENS_ACT_SILU);
  /* b0 shapes: 112x112x32 k3 s1 SAME, 112 -> 56 k3 s2 (0,1), 56 -> 28 k5 s2 (1,2) */
  test_depthwise(fast, 1, 112, 112, 32, 3, 1, 1, 1, 1, 1, ENS_ACT_SILU);
  test_depthwise(fast, 2, 112, 112, 96, 3, 2, 0, 1, 0, 1, ENS_ACT_SILU);
  test_depthwise(fast, 1, 56, 56, 144, 5, 2, 1, 2, 1, 2, ENS_ACT_SILU);
  test_depthwise(fast, 1, 15, 15, 672, 5, 2, 2, 2, 2, 2, ENS_ACT_SILU);

  /* stem: SAME pads of stride 2 (even / odd sizes), stride 1, odd couts */
  const int st_c[] = {8, 16, 32, 40, 48, 56, 64, 136};
  t = 0;
  for (int s = 1; s <= 2; s++)
    for (int pt = 0; pt < 3; pt++)
      for (int pb = 0; pb < 3; pb++) {
        test_stem(fast, 1 + t % 2, 3 + t % 13, 3 + (t * 5) % 17, st_c[t % 8], s, pt, pb, pb, pt);
        t++;
      }
  test_stem(fast, 1, 224, 224, 32, 2, 0, 1, 0, 1);
  test_stem(fast, 1, 475, 475, 136, 2, 1, 1, 1, 1);
  return ens_test_finish("kernels_avx512");
}
