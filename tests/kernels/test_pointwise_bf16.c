/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_pointwise_bf16 - the bf16 pointwise kernels (ENS_PRECISION_BF16): the C reference one
 * and, where the CPU has it, the AVX512_BF16 one, each on random data,
 * odd / edge shapes, every fused option, work ranges split at odd points. Two checks per
 * output value, both with a bound derived from bf16 rounding (u = 2^-8, round to nearest even),
 * none tuned to the result:
 *   1. vs a double-precision model of the same computation (inputs x SE in float32, then x and
 *      w rounded to bf16 by ens_f32_to_bf16, products summed exactly): only the kernel's
 *      float32 accumulation differs, |d| <= 1.1 * (cin * 2^-24 * S + 1e-6), S = sum |x w|.
 *   2. vs the float32 reference kernel: each bf16 product x'w' = x w (1 + e), |e| <= 2u + u^2,
 *      and SiLU is 1.1-Lipschitz, so |d| <= 1.1 * ((2u + u^2) S + cin * 2^-23 * S) + 1e-6.
 * Also checks ens_f32_to_bf16 against known values and that `in` is not written.
 * Both kernels are held to the same bounds, and without an activation (whose vector form is
 * an approximation) the two must agree bit for bit. The AVX512_BF16 part is skipped (said on
 * stdout) when the CPU or build lacks it. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"
#include "pw_problem.h"
#include "kernels/kernels.h"
#include "net_bf16.h"

static ens_pointwise_bf16_fn kernel; /* the kernel under test */

static double bf16_value(float x)
{
  const uint32_t u = (uint32_t)ens_f32_to_bf16(x) << 16;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* ENS_ACT_SILU of an accumulator v (kernels.h: v is the pre-activation times -log2 e). */
static double silu_d(double v)
{
  const double x = v * -M_LN2;
  return x / (1.0 + exp(-x));
}

static double worst_model = 0, worst_ref = 0; /* largest |d| / bound seen */

static void test_pw(int rows, int cin, int cout, int use_se, int use_res, ens_act act)
{
  pw_problem p;
  pw_problem_init(&p, rows, cin, cout, use_se, use_res, act);
  const int rpi = p.rpi;
  float *in = p.in, *plain = p.plain, *w = p.w, *bias = p.bias, *se = p.se, *res = p.res;
  float *in_ref = malloc(sizeof(float) * rows * cin), *in_keep = malloc(sizeof(float) * rows * cin);
  memcpy(in_ref, in, sizeof(float) * rows * cin);
  memcpy(in_keep, in, sizeof(float) * rows * cin);
  float *out_ref = ens_test_randv((size_t)rows * cout, 9.0f),
        *out = ens_test_randv((size_t)rows * cout, 9.0f);
  uint16_t *packed = malloc(sizeof(uint16_t) * ens_bf16_packed_size(cin, cout));
  ens_bf16_mat m;
  ens_bf16_pack(w, cin, cout, packed, &m);
  ens_pw_args a = p.args;
  a.in = in;
  a.w = NULL; /* the bf16 kernel must not read it */
  a.out = out;
  const int split = ens_test_irand(0, rows);
  kernel(&a, &m, 0, split);
  kernel(&a, &m, split, rows);
  if (kernel != ens_pointwise_bf16_ref && act == ENS_ACT_NONE) {
    /* the reference does vdpbf16ps's arithmetic: without the (approximated) activation the
     * two kernels agree bit for bit */
    float *out_c = malloc(sizeof(float) * rows * cout);
    a.out = out_c;
    ens_pointwise_bf16_ref(&a, &m, 0, rows);
    CHECK(memcmp(out_c, out, sizeof(float) * rows * cout) == 0,
          "rows %d cin %d cout %d: the C reference bf16 kernel differs from %s", rows, cin, cout,
          ens_kernels_get()->name);
    free(out_c);
  }
  a.in = in_ref;
  a.w = w;
  a.out = out_ref;
  ens_pointwise_ref(&a, 0, rows);

  char what[160];
  snprintf(what, sizeof what, "bf16 pointwise rows %d cin %d cout %d se %d res %d act %d", rows,
           cin, cout, use_se, use_res, act);
  CHECK(memcmp(in, in_keep, sizeof(float) * rows * cin) == 0, "%s: input was written", what);
  const double u = 1.0 / 256;
  int bad = 0;
  for (int r = 0; r < rows && bad < 5; r++)
    for (int co = 0; co < cout && bad < 5; co++) {
      double acc = bias[co], s = 0;
      for (int k = 0; k < cin; k++) {
        float x = in_keep[(size_t)r * cin + k];
        if (use_se)
          x *= se[(size_t)(r / rpi) * cin + k];
        const double p = bf16_value(x) * bf16_value(plain[(size_t)k * cout + co]);
        acc += p;
        s += fabs((double)x * plain[(size_t)k * cout + co]);
      }
      double want = act == ENS_ACT_SILU ? silu_d(acc) : acc;
      if (use_res)
        want += res[(size_t)r * cout + co];
      const double got = out[(size_t)r * cout + co], ref = out_ref[(size_t)r * cout + co];
      const double b_model = 1.1 * (cin * ldexp(1, -24) * (s + fabs(bias[co])) + 1e-6);
      const double b_ref = 1.1 * ((2 * u + u * u) * s + cin * ldexp(1, -23) * s) + 1e-6;
      const double d_model = fabs(got - want), d_ref = fabs(got - ref);
      if (d_model / b_model > worst_model)
        worst_model = d_model / b_model;
      if (d_ref / b_ref > worst_ref)
        worst_ref = d_ref / b_ref;
      if (!(d_model <= b_model) || !(d_ref <= b_ref)) {
        bad++;
        CHECK(0,
              "%s: [%d,%d] got %.8g, bf16 model %.8g (|d| %.3g > %.3g?), f32 ref %.8g (|d| %.3g > "
              "%.3g?)",
              what, r, co, got, want, d_model, b_model, ref, d_ref, b_ref);
      }
    }
  pw_problem_free(&p);
  free(in_ref), free(in_keep);
  free(out_ref), free(out), free(packed);
}

static void shapes(void);

int main(void)
{
  ens_test_seed(0x2545F4914F6CDD1Dull);
  /* rounding: exact values, ties to even, carry into the exponent, NaN stays NaN */
  CHECK(ens_f32_to_bf16(1.0f) == 0x3F80, "bf16(1)");
  CHECK(ens_f32_to_bf16(-2.0f) == 0xC000, "bf16(-2)");
  CHECK(ens_f32_to_bf16(1.0f + 1.0f / 256) == 0x3F80, "tie rounds to even (down)");
  CHECK(ens_f32_to_bf16(1.0f + 3.0f / 256) == 0x3F82, "tie rounds to even (up)");
  CHECK(ens_f32_to_bf16(1.0f + 1.0f / 256 + 1.0f / 65536) == 0x3F81, "above the tie rounds up");
  CHECK(ens_f32_to_bf16(1.9999999f) == 0x4000, "carry into the exponent");
  CHECK((ens_f32_to_bf16(NAN) & 0x7FFF) > 0x7F80, "NaN");

  kernel = ens_pointwise_bf16_ref;
  shapes();
  printf("reference: worst |d| / bound: %.3f vs the bf16 model, %.3f vs the float32 reference\n",
         worst_model, worst_ref);
  const ens_kernels *fast = ens_kernels_get();
  if (!fast->pointwise_bf16 || fast->pointwise_bf16 == ens_pointwise_bf16_ref) {
    printf("SKIP the %s bf16 kernel: no AVX512_BF16 on this CPU / build (or ENS_KERNELS=ref)\n",
           fast->name);
    return ens_test_finish("pointwise_bf16");
  }
  kernel = fast->pointwise_bf16;
  worst_model = worst_ref = 0;
  shapes();
  printf("%s: worst |d| / bound: %.3f vs the bf16 model, %.3f vs the float32 reference\n",
         fast->name, worst_model, worst_ref);
  return ens_test_finish("pointwise_bf16");
}

/* edge shapes, b0's shapes, a very wide cin */
static void shapes(void)
{
  /* edge shapes: cin 1 / odd / across the 32-wide conversion, cout tails, 1 row */
  const int cins[] = {1, 2, 3, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 96};
  const int couts[] = {1, 5, 16, 17, 31, 32, 33, 47, 48, 49, 64, 80, 95, 100};
  int t = 0;
  for (size_t i = 0; i < sizeof cins / sizeof *cins; i++)
    for (size_t j = 0; j < sizeof couts / sizeof *couts; j++, t++)
      test_pw(ens_test_irand(1, 40), cins[i], couts[j], t % 2, (t / 2) % 2,
              t % 3 ? ENS_ACT_SILU : ENS_ACT_NONE);
  for (int rows = 1; rows <= 17; rows++)
    test_pw(rows, 24, 40, rows % 2, 1, ENS_ACT_SILU);
  /* b0 shapes (expansion, projection with SE + residual, head), several row panels */
  test_pw(200, 16, 96, 0, 0, ENS_ACT_SILU);
  test_pw(196, 480, 80, 1, 1, ENS_ACT_NONE);
  test_pw(120, 1152, 192, 1, 0, ENS_ACT_NONE);
  test_pw(49, 320, 1280, 0, 0, ENS_ACT_SILU);
  /* very wide cin: panel rows not a multiple of 16 (kp > PANEL_WORDS / 16) */
  test_pw(37, 4501, 20, 1, 1, ENS_ACT_SILU);
}
