/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_ra_policy.c - the RandAugment policy: timm's config strings (good ones and bad ones
 * with their messages), op subsets, and the statistics of the draws (op frequencies,
 * probability, magnitude noise and clipping, signs, resample choice, weighted choice), each
 * against its exact expectation within 5 standard errors; apply() = its draws applied. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"
#include "randaugment.h"

#define DRAWS 200000 /* images per statistic; 2 ops each */

static void check_parse_ok(const char *cfg, double m, int n, double p, double mstd, double mmax,
                           int inc)
{
  ens_randaugment ra;
  ens_error err = {0};
  ens_status st = ens_randaugment_parse(cfg, NULL, &ra, &err);
  CHECK(st == ENS_OK, "%s: %s", cfg, err.message);
  if (st != ENS_OK)
    return;
  CHECK(ra.magnitude == m, "%s: m %g, want %g", cfg, ra.magnitude, m);
  CHECK(ra.num_layers == n, "%s: n %d, want %d", cfg, ra.num_layers, n);
  CHECK(ra.prob == p, "%s: p %g, want %g", cfg, ra.prob, p);
  CHECK(ra.magnitude_std == mstd, "%s: mstd %g, want %g", cfg, ra.magnitude_std, mstd);
  CHECK(ra.magnitude_max == mmax, "%s: mmax %g, want %g", cfg, ra.magnitude_max, mmax);
  CHECK(ra.increasing == inc, "%s: inc %d, want %d", cfg, ra.increasing, inc);
}

static void check_parse_bad(const char *cfg, ens_status want, const char *in_message)
{
  ens_randaugment ra;
  ens_error err = {0};
  ens_status st = ens_randaugment_parse(cfg, NULL, &ra, &err);
  CHECK(st == want, "'%s': status %d, want %d", cfg ? cfg : "(null)", (int)st, (int)want);
  CHECK(strstr(err.message, in_message) != NULL, "'%s': message '%s' lacks '%s'",
        cfg ? cfg : "(null)", err.message, in_message);
  printf("  refused %-22s -> %s\n", cfg ? cfg : "(null)", err.message);
}

static void test_parser(void)
{
  static const char *const timm_rand[] = {"AutoContrast", "Equalize",      "Invert",       "Rotate",
                                          "Posterize",    "Solarize",      "SolarizeAdd",  "Color",
                                          "Contrast",     "Brightness",    "Sharpness",    "ShearX",
                                          "ShearY",       "TranslateXRel", "TranslateYRel"};
  static const char *const timm_inc[] = {"AutoContrast",
                                         "Equalize",
                                         "Invert",
                                         "Rotate",
                                         "PosterizeIncreasing",
                                         "SolarizeIncreasing",
                                         "SolarizeAdd",
                                         "ColorIncreasing",
                                         "ContrastIncreasing",
                                         "BrightnessIncreasing",
                                         "SharpnessIncreasing",
                                         "ShearX",
                                         "ShearY",
                                         "TranslateXRel",
                                         "TranslateYRel"};
  check_parse_ok("rand-m9-n2-mstd0.5", 9, 2, 0.5, 0.5, 10, 0);
  check_parse_ok("rand", 10, 2, 0.5, 0, 10, 0);
  check_parse_ok("rand-m9-n3-mstd0.5-inc1", 9, 3, 0.5, 0.5, 10, 1);
  check_parse_ok("rand-inc0", 10, 2, 0.5, 0, 10, 1); /* timm: bool("0") is True */
  check_parse_ok("rand-mstd101", 10, 2, 0.5, INFINITY, 10, 0);
  check_parse_ok("rand-mstd100", 10, 2, 0.5, 100, 10, 0);
  check_parse_ok("rand-mmax15-m12", 12, 2, 0.5, 0, 15, 0);
  check_parse_ok("rand-mmax0", 10, 2, 0.5, 0, 10, 0); /* `mmax or 10` */
  check_parse_ok("rand-p0.7-n1", 10, 1, 0.7, 0, 10, 0);
  check_parse_ok("rand-m5-m7", 7, 2, 0.5, 0, 10, 0); /* plain keys: last wins */
  check_parse_ok("rand-mstd1-mstd2-mmax12-mmax13", 10, 2, 0.5, 1, 12, 0); /* setdefault */
  check_parse_ok("rand-n0-m09", 9, 0, 0.5, 0, 10, 0);
  check_parse_ok("rand-p1", 10, 2, 1, 0, 10, 0);

  ens_randaugment ra;
  ens_error err = {0};
  CHECK_OK(ens_randaugment_parse("rand-m9", NULL, &ra, &err), &err);
  CHECK(ra.n_ops == 15 && !ra.weighted, "default list: %d ops", ra.n_ops);
  for (int i = 0; i < 15 && i < ra.n_ops; i++)
    CHECK(!strcmp(ens_ra_op_name(ra.ops[i]), timm_rand[i]), "op %d: %s, want %s", i,
          ens_ra_op_name(ra.ops[i]), timm_rand[i]);
  CHECK(ra.hp.translate_const == 250 && ra.hp.translate_pct == 0.45 && ra.hp.fill[0] == 128 &&
            ra.hp.fill[2] == 128 && ra.hp.interpolation == ENS_RA_RANDOM,
        "timm's default hparams");
  CHECK_OK(ens_randaugment_parse("rand-inc1", NULL, &ra, &err), &err);
  for (int i = 0; i < 15 && i < ra.n_ops; i++)
    CHECK(!strcmp(ens_ra_op_name(ra.ops[i]), timm_inc[i]), "inc op %d: %s, want %s", i,
          ens_ra_op_name(ra.ops[i]), timm_inc[i]);

  CHECK_OK(ens_randaugment_parse("rand-tweights-n3", NULL, &ra, &err), &err);
  double sum = 0;
  for (int i = 0; i < ra.n_ops; i++)
    sum += ra.weights[i];
  CHECK(ra.weighted && ra.n_ops == 15 && fabs(sum - 1) < 1e-12, "tweights: sum %g", sum);
  CHECK(ra.ops[0] == ENS_RA_ROTATE && fabs(ra.weights[0] - 3 / 10.1) < 1e-12,
        "tweights: Rotate weight %g, want 3/10.1", ra.weights[0]);

  ens_ra_hparams hp;
  ens_ra_hparams_default(&hp);
  hp.translate_const = 12;
  hp.fill[0] = hp.fill[1] = hp.fill[2] = 0;
  CHECK_OK(ens_randaugment_parse("rand-m9-n2-mstd0.5", &hp, &ra, &err), &err);
  CHECK(ra.hp.translate_const == 12 && ra.hp.fill[1] == 0, "hparams are kept");

  check_parse_bad(NULL, ENS_ERR_ARG, "must start with 'rand'");
  check_parse_bad("", ENS_ERR_ARG, "must start with 'rand'");
  check_parse_bad("augmix-m9", ENS_ERR_ARG, "must start with 'rand'");
  check_parse_bad("randm9", ENS_ERR_ARG, "must start with 'rand'");
  check_parse_bad("rand-", ENS_ERR_ARG, "empty section");
  check_parse_bad("rand-m9--n2", ENS_ERR_ARG, "empty section");
  check_parse_bad("rand-m", ENS_ERR_ARG, "section 'm' of policy 'rand-m' has no number");
  check_parse_bad("rand-x9", ENS_ERR_ARG, "unknown section 'x9'");
  check_parse_bad("rand-foo", ENS_ERR_ARG, "section 'foo' of policy 'rand-foo' has no number");
  check_parse_bad("rand-m9x", ENS_ERR_ARG, "section 'm9x'");
  check_parse_bad("rand-m9.5", ENS_ERR_ARG, "section 'm9.5'");
  check_parse_bad("rand-n65", ENS_ERR_ARG, "section 'n65'");
  check_parse_bad("rand-m99999999999", ENS_ERR_ARG, "section 'm99999999999'");
  check_parse_bad("rand-p0.5.1", ENS_ERR_ARG, "section 'p0.5.1'");
  check_parse_bad("rand-mstd1e", ENS_ERR_ARG, "section 'mstd1e'");
  check_parse_bad("rand-t3a", ENS_ERR_UNSUPPORTED, "GaussianBlur");
  check_parse_bad("rand-tfoo", ENS_ERR_ARG, "unknown transform set 'tfoo'");
  check_parse_bad("rand-tweights-n16", ENS_ERR_ARG, "without replacement from 15 ops");
}

static void test_op_lists(void)
{
  ens_randaugment ra, before;
  ens_error err = {0};
  CHECK_OK(ens_randaugment_parse("rand-m9-n2-mstd0.5", NULL, &ra, &err), &err);
  CHECK_OK(ens_randaugment_drop_ops(&ra, "Invert,Color", &err), &err);
  static const ens_ra_op ref[] = {ENS_RA_AUTOCONTRAST,   ENS_RA_EQUALIZE,   ENS_RA_ROTATE,
                                  ENS_RA_POSTERIZE,      ENS_RA_SOLARIZE,   ENS_RA_SOLARIZE_ADD,
                                  ENS_RA_CONTRAST,       ENS_RA_BRIGHTNESS, ENS_RA_SHARPNESS,
                                  ENS_RA_SHEAR_X,        ENS_RA_SHEAR_Y,    ENS_RA_TRANSLATE_X_REL,
                                  ENS_RA_TRANSLATE_Y_REL};
  CHECK(ra.n_ops == 13 && !memcmp(ra.ops, ref, sizeof ref), "drop Invert,Color: %d ops", ra.n_ops);
  before = ra;
  CHECK(ens_randaugment_drop_ops(&ra, "Invert", &err) == ENS_ERR_ARG &&
            strstr(err.message, "Invert: not in the op list"),
        "dropping an absent op: %s", err.message);
  CHECK(ens_randaugment_drop_ops(&ra, "Rotate,Fooo", &err) == ENS_ERR_ARG &&
            strstr(err.message, "unknown op 'Fooo'"),
        "dropping an unknown op: %s", err.message);
  CHECK(!memcmp(&ra, &before, sizeof ra), "a failed drop leaves the policy alone");
  CHECK(ens_randaugment_set_ops(&ra, "", &err) == ENS_ERR_ARG, "empty list");
  CHECK(ens_randaugment_set_ops(&ra, "Rotate,,ShearX", &err) == ENS_ERR_ARG &&
            strstr(err.message, "unknown op ''"),
        "empty name: %s", err.message);
  CHECK(ens_randaugment_set_ops(&ra, "rotate", &err) == ENS_ERR_ARG, "names are exact");
  CHECK_OK(ens_randaugment_set_ops(&ra, "Rotate,ShearX,TranslateX", &err), &err);
  CHECK(ra.n_ops == 3 && ra.ops[2] == ENS_RA_TRANSLATE_X, "set_ops");
  CHECK(ens_randaugment_drop_ops(&ra, "Rotate,ShearX,TranslateX", &err) == ENS_ERR_ARG &&
            strstr(err.message, "leaves no ops"),
        "dropping everything: %s", err.message);
}

/* |got - want| <= 5 standard errors. */
static void check_near(const char *what, double got, double want, double se)
{
  int ok = fabs(got - want) <= 5 * se;
  printf("  %-44s %.5f (expected %.5f +- %.5f)\n", what, got, want, 5 * se);
  CHECK(ok, "%s: %g, expected %g within 5 x %g", what, got, want, se);
}

static double phi(double z)
{
  return exp(-0.5 * z * z) / sqrt(2 * M_PI);
}

static double Phi(double z)
{
  return 0.5 * erfc(-z / sqrt(2.0));
}

/* Mean and variance of min(max(X, lo), hi) for X ~ N(mu, sd), from the truncated-normal
 * moments: the two clipped tails are point masses at lo and hi. */
static void clipped_normal(double mu, double sd, double lo, double hi, double *mean, double *var)
{
  double a = (lo - mu) / sd, b = (hi - mu) / sd;
  double pin = Phi(b) - Phi(a);
  double m1 = mu * pin + sd * (phi(a) - phi(b));
  double m2 = (mu * mu + sd * sd) * pin + sd * ((lo + mu) * phi(a) - (hi + mu) * phi(b));
  double e1 = m1 + lo * Phi(a) + hi * (1 - Phi(b));
  double e2 = m2 + lo * lo * Phi(a) + hi * hi * (1 - Phi(b));
  *mean = e1;
  *var = e2 - e1 * e1;
}

typedef struct {
  long draws, applied, signed_ops, negated, geometric, bicubic, at_lo, at_hi;
  long per_op[ENS_RA_OP_COUNT];
  double sum, sum2;
} stats;

static void collect(const ens_randaugment *ra, uint64_t seed, stats *s)
{
  memset(s, 0, sizeof *s);
  ens_rng rng;
  ens_rng_seed(&rng, seed, 1);
  ens_ra_draw d[ENS_RA_MAX_OPS];
  for (int i = 0; i < DRAWS; i++) {
    int n = ens_randaugment_sample(ra, &rng, d);
    for (int k = 0; k < n; k++) {
      s->draws++;
      s->per_op[d[k].op]++;
      if (!d[k].applied)
        continue;
      s->applied++;
      s->sum += d[k].magnitude;
      s->sum2 += d[k].magnitude * d[k].magnitude;
      s->at_lo += d[k].magnitude == 0.0;
      s->at_hi += d[k].magnitude == ra->magnitude_max;
      if (ens_ra_op_has_sign(d[k].op)) {
        s->signed_ops++;
        s->negated += d[k].negate;
      }
      if (ens_ra_op_is_geometric(d[k].op)) {
        s->geometric++;
        s->bicubic += d[k].rs == ENS_RA_BICUBIC;
        CHECK(d[k].rs == ENS_RA_BICUBIC || d[k].rs == ENS_RA_BILINEAR, "random resample");
      }
      double want = ens_ra_level_to_arg(d[k].op, d[k].magnitude, d[k].negate, &ra->hp);
      CHECK(d[k].arg == want || (isnan(want) && isnan(d[k].arg)), "draw arg");
    }
  }
}

static void check_fraction(const char *what, long hits, long n, double p)
{
  check_near(what, (double)hits / (double)n, p, sqrt(p * (1 - p) / (double)n));
}

static void check_magnitudes(const char *what, const stats *s, double mean, double var)
{
  char buf[96];
  double n = (double)s->applied, m = s->sum / n, v = s->sum2 / n - m * m;
  snprintf(buf, sizeof buf, "%s: magnitude mean", what);
  check_near(buf, m, mean, sqrt(var / n));
  /* standard error of a sample std: sd / sqrt(2 n) for a Gaussian; twice that here, as
   * the clipped distributions have heavier point masses (still 1.6 % of sd at 5 x) */
  snprintf(buf, sizeof buf, "%s: magnitude std", what);
  check_near(buf, sqrt(v), sqrt(var), 2 * sqrt(var) / sqrt(2.0 * n));
}

static void test_sampler(void)
{
  ens_randaugment ra;
  ens_error err = {0};
  ens_ra_hparams hp;
  ens_ra_hparams_default(&hp);
  hp.translate_const = 12;
  hp.fill[0] = hp.fill[1] = hp.fill[2] = 0;
  stats s;
  double mean, var;

  /* the reference run's policy */
  CHECK_OK(ens_randaugment_parse("rand-m9-n2-mstd0.5", &hp, &ra, &err), &err);
  CHECK_OK(ens_randaugment_drop_ops(&ra, "Invert,Color", &err), &err);
  collect(&ra, 1, &s);
  CHECK(s.draws == 2L * DRAWS, "two ops per image");
  double chi2 = 0, e = (double)s.draws / ra.n_ops;
  for (int i = 0; i < ra.n_ops; i++)
    chi2 += (s.per_op[ra.ops[i]] - e) * (s.per_op[ra.ops[i]] - e) / e;
  long dropped = s.per_op[ENS_RA_INVERT] + s.per_op[ENS_RA_COLOR];
  printf("  op frequencies: chi2 %.2f over 13 ops (df 12; p = 1e-6 at 47.6), dropped ops drawn "
         "%ld times\n",
         chi2, dropped);
  CHECK(chi2 < 47.6 && dropped == 0, "uniform op choice: chi2 %g", chi2);
  check_fraction("p0.5: fraction applied", s.applied, s.draws, 0.5);
  clipped_normal(9, 0.5, 0, 10, &mean, &var);
  check_magnitudes("m9 mstd0.5 (clip at 10)", &s, mean, var);
  check_fraction("m9 mstd0.5: fraction clipped to 10", s.at_hi, s.applied, 1 - Phi(2));
  check_fraction("random sign: fraction negated", s.negated, s.signed_ops, 0.5);
  check_fraction("random resample: fraction bicubic", s.bicubic, s.geometric, 0.5);

  CHECK_OK(ens_randaugment_parse("rand-m5-n2-mstd0.5-p0.8", &hp, &ra, &err), &err);
  collect(&ra, 2, &s);
  check_fraction("p0.8: fraction applied", s.applied, s.draws, 0.8);
  check_magnitudes("m5 mstd0.5 (no clipping)", &s, 5, 0.25);

  CHECK_OK(ens_randaugment_parse("rand-m1-n2-mstd1", &hp, &ra, &err), &err);
  collect(&ra, 3, &s);
  clipped_normal(1, 1, 0, 10, &mean, &var);
  check_magnitudes("m1 mstd1 (clip at 0)", &s, mean, var);
  check_fraction("m1 mstd1: fraction clipped to 0", s.at_lo, s.applied, Phi(-1));

  CHECK_OK(ens_randaugment_parse("rand-m9-n2-mstd101", &hp, &ra, &err), &err);
  collect(&ra, 4, &s);
  check_magnitudes("m9 mstd>100: uniform [0, 9]", &s, 4.5, 81.0 / 12);

  CHECK_OK(ens_randaugment_parse("rand-m15-n2-mstd1-mmax20", &hp, &ra, &err), &err);
  collect(&ra, 5, &s);
  check_magnitudes("m15 mstd1 mmax20", &s, 15, 1);
  CHECK_OK(ens_randaugment_parse("rand-m15-n2", &hp, &ra, &err), &err);
  collect(&ra, 6, &s);
  CHECK(s.at_hi == s.applied && s.sum == 10.0 * s.applied, "m15 without mmax: all at 10");

  CHECK_OK(ens_randaugment_parse("rand-m9-n3-p1", &hp, &ra, &err), &err);
  collect(&ra, 7, &s);
  CHECK(s.applied == s.draws && s.sum == 9.0 * s.applied, "p1: all applied at m9");
  CHECK_OK(ens_randaugment_parse("rand-m9-n2-p0", &hp, &ra, &err), &err);
  collect(&ra, 8, &s);
  CHECK(s.applied == 0, "p0: none applied (%ld)", s.applied);

  /* weighted: distinct ops per image; first picks follow the weights */
  CHECK_OK(ens_randaugment_parse("rand-tweights-n2-p1", &hp, &ra, &err), &err);
  ens_rng rng;
  ens_rng_seed(&rng, 9, 1);
  long first[ENS_RA_OP_COUNT] = {0}, repeats = 0;
  ens_ra_draw d[ENS_RA_MAX_OPS];
  for (int i = 0; i < DRAWS; i++) {
    ens_randaugment_sample(&ra, &rng, d);
    first[d[0].op]++;
    repeats += d[0].op == d[1].op;
  }
  CHECK(repeats == 0, "weighted choice without replacement: %ld repeats", repeats);
  check_fraction("tweights: first pick Rotate", first[ENS_RA_ROTATE], DRAWS, 3 / 10.1);
  check_fraction("tweights: first pick Invert", first[ENS_RA_INVERT], DRAWS, 0.05 / 10.1);
}

static void test_apply(void)
{
  enum { W = 28, H = 28 };
  uint8_t img[W * H * 3], a[W * H * 3], b[W * H * 3], scratch[W * H * 3];
  ens_test_seed(11);
  for (int i = 0; i < W * H * 3; i++)
    img[i] = (uint8_t)ens_test_irand(0, 255);
  ens_randaugment ra;
  ens_error err = {0};
  CHECK_OK(ens_randaugment_parse("rand-m9-n4-mstd0.5-p0.9", NULL, &ra, &err), &err);
  int changed = 0;
  for (int trial = 0; trial < 200; trial++) {
    int c = trial % 2 ? 3 : 1;
    ens_rng r1, r2;
    ens_rng_seed(&r1, 42, (uint64_t)trial);
    r2 = r1;
    memcpy(a, img, sizeof a);
    memcpy(b, img, sizeof b);
    CHECK_OK(ens_randaugment_apply(&ra, a, W, H, c, &r1, &err), &err);
    /* the same draws applied one by one */
    ens_ra_draw d[ENS_RA_MAX_OPS];
    int n = ens_randaugment_sample(&ra, &r2, d);
    for (int k = 0; k < n; k++)
      if (d[k].applied)
        CHECK_OK(ens_ra_apply_op(d[k].op, d[k].arg, d[k].rs, ra.hp.fill, b, W, H, c, scratch, &err),
                 &err);
    CHECK(!memcmp(a, b, (size_t)W * H * c), "apply = its draws applied (trial %d)", trial);
    CHECK(r1.state == r2.state, "apply consumes exactly the sampler's numbers");
    changed += memcmp(a, img, (size_t)W * H * c) != 0;
  }
  CHECK(changed > 150, "most images change under n4 p0.9: %d of 200", changed);

  uint8_t one[3] = {10, 20, 30};
  ens_rng rng;
  ens_rng_seed(&rng, 1, 1);
  CHECK_OK(ens_randaugment_apply(&ra, one, 1, 1, 3, &rng, &err), &err);
  CHECK(ens_randaugment_apply(&ra, img, W, H, 2, &rng, &err) == ENS_ERR_ARG &&
            strstr(err.message, "1 or 3 channels"),
        "two channels refused: %s", err.message);
  CHECK(ens_randaugment_apply(&ra, img, 0, H, 1, &rng, &err) == ENS_ERR_ARG, "zero width");
  CHECK(ens_ra_apply_op(ENS_RA_ROTATE, 10, ENS_RA_RANDOM, ra.hp.fill, img, W, H, 1, scratch,
                        &err) == ENS_ERR_ARG,
        "apply_op needs a concrete resample");
  CHECK(ens_ra_apply_op(ENS_RA_SHEAR_X, 0.1, ENS_RA_BILINEAR, ra.hp.fill, img, W, H, 1, NULL,
                        &err) == ENS_ERR_ARG &&
            strstr(err.message, "scratch"),
        "geometric ops need scratch: %s", err.message);
  CHECK(ens_ra_apply_op(ENS_RA_CONTRAST, NAN, ENS_RA_BILINEAR, ra.hp.fill, img, W, H, 1, NULL,
                        &err) == ENS_ERR_ARG &&
            strstr(err.message, "Contrast argument nan is out of range"),
        "NaN argument refused: %s", err.message);
  CHECK(ens_ra_apply_op(ENS_RA_TRANSLATE_X, -2e9, ENS_RA_NEAREST, ra.hp.fill, img, W, H, 1, scratch,
                        &err) == ENS_ERR_ARG,
        "huge argument refused");
  CHECK_OK(ens_ra_apply_op(ENS_RA_TRANSLATE_X, 1e9, ENS_RA_NEAREST, ra.hp.fill, img, W, H, 1,
                           scratch, &err),
           &err);
  CHECK(img[0] == ra.hp.fill[0] && img[W * H - 1] == ra.hp.fill[0], "shifted out: all fill");
  CHECK_OK(ens_randaugment_parse("rand-n0", NULL, &ra, &err), &err);
  memcpy(a, img, sizeof a);
  CHECK_OK(ens_randaugment_apply(&ra, a, W, H, 3, &rng, &err), &err);
  CHECK(!memcmp(a, img, sizeof a), "n0 changes nothing");
}

int main(void)
{
  printf("parser:\n");
  test_parser();
  test_op_lists();
  printf("sampler (%d images per statistic):\n", DRAWS);
  test_sampler();
  test_apply();
  return ens_test_finish("randaugment_policy");
}
