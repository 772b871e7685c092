/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* random_weights.c - ens_model_new_random: deterministic He-initialised weights in timm's
 * shapes, built through the same BatchNorm-folding path as a loaded file.
 *
 * Every tensor draws from its own stream (splitmix64 seeded by seed and a hash of the key),
 * with the distributions of shared/tools/ens_synth_weights.py: BN weight / running_var
 * U(0.5, 1.5), BN bias / running_mean N * 0.1, conv / linear weights N * sqrt(2 / fan_in) *
 * GAIN, other biases N * 0.05. GAIN is 0.8 / sqrt(R) on the last conv of the R identity-skip
 * blocks and 2.0 on the classifier, which keeps activations finite through b7 / l2 (plain He
 * init grows ~1e10 through the residual stacks). The numbers differ from the synthetic tool's
 * (a different generator); only the statistics match. */
#include "model_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

typedef struct {
  uint64_t seed;
  const ens_variant_dims *dims;
  int skip_blocks; /* R */
} random_source;

static uint64_t splitmix64(uint64_t *s)
{
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static double uniform01(uint64_t *s)
{
  return (double)(splitmix64(s) >> 11) * 0x1.0p-53;
}

/* Box-Muller; the second value is dropped to keep each draw independent of parity. */
static double normal(uint64_t *s)
{
  double u1 = uniform01(s), u2 = uniform01(s);
  if (u1 < 1e-300)
    u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static uint64_t hash_key(const char *key)
{
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
  for (; *key; key++)
    h = (h ^ (unsigned char)*key) * 0x100000001b3ull;
  return h;
}

static int ends_with(const char *s, const char *suffix)
{
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Block (stage, index) has an identity skip (stride 1, in == out). */
static int block_skips(const ens_variant_dims *d, int stage, int index)
{
  if (index > 0)
    return 1;
  const int in = stage == 0 ? d->stem_chs : d->out_chs[stage - 1];
  return ens_stage_stride[stage] == 1 && in == d->out_chs[stage];
}

static double gain_of(const random_source *rs, const char *key)
{
  if (strcmp(key, "classifier.weight") == 0)
    return 2.0;
  int stage, index, n = 0;
  char last[32];
  if (sscanf(key, "blocks.%d.%d.%31[a-z_]%n", &stage, &index, last, &n) == 3 &&
      strcmp(key + n, ".weight") == 0 && stage >= 0 && stage < ENS_NUM_STAGES) {
    const int is_last = stage == 0 ? strcmp(last, "conv_pw") == 0 : strcmp(last, "conv_pwl") == 0;
    if (is_last && block_skips(rs->dims, stage, index))
      return 0.8 / sqrt((double)rs->skip_blocks);
  }
  return 1.0;
}

static ens_status random_read(void *ctx, const char *key, int ndim, const long long *shape,
                              float *dst, ens_error *err)
{
  (void)err;
  const random_source *rs = ctx;
  uint64_t state = rs->seed ^ hash_key(key);
  size_t numel = 1, fan_in = 1;
  for (int i = 0; i < ndim; i++) {
    numel *= (size_t)shape[i];
    if (i > 0)
      fan_in *= (size_t)shape[i];
  }
  const int is_bn = ndim == 1 && (strncmp(key, "bn", 2) == 0 || strstr(key, ".bn"));
  if (is_bn && (ends_with(key, ".weight") || ends_with(key, ".running_var"))) {
    for (size_t i = 0; i < numel; i++)
      dst[i] = (float)(0.5 + uniform01(&state));
  } else if (is_bn) {
    for (size_t i = 0; i < numel; i++)
      dst[i] = (float)(normal(&state) * 0.1);
  } else if (ndim >= 2) {
    const double scale = sqrt(2.0 / (double)fan_in) * gain_of(rs, key);
    for (size_t i = 0; i < numel; i++)
      dst[i] = (float)(normal(&state) * scale);
  } else {
    for (size_t i = 0; i < numel; i++)
      dst[i] = (float)(normal(&state) * 0.05);
  }
  return ENS_OK;
}

ens_status ens_model_new_random(const char *variant, int num_classes, uint64_t seed,
                                const ens_options *opt, ens_model **out, ens_error *err)
{
  if (!out)
    return ens_fail(err, ENS_ERR_ARG, "ens_model_new_random: NULL output pointer");
  *out = NULL;
  const ens_variant_def *v = ens_variant_find(variant);
  if (!v)
    return ens_fail(err, ENS_ERR_ARG, "unknown variant '%s' (expected b0..b7 or l2)",
                    variant ? variant : "(null)");
  if (num_classes < 1 || num_classes > 1000000)
    return ens_fail(err, ENS_ERR_ARG, "num_classes %d out of range (1..1000000)", num_classes);
  ens_variant_dims dims;
  ens_variant_dims_of(v, &dims);
  random_source rs = {.seed = seed, .dims = &dims};
  for (int s = 0; s < ENS_NUM_STAGES; s++)
    for (int j = 0; j < dims.repeats[s]; j++)
      rs.skip_blocks += block_skips(&dims, s, j);
  ens_weight_source src = {.read = random_read, .ctx = &rs};
  ens_net net;
  ens_status st = ens_net_build(&net, v, &dims, num_classes, &src, err);
  if (st)
    return st;
  return ens_model_create(&net, opt, NULL, NULL, 0, 1, out, err);
}
