/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* randaugment_policy.c - timm's rand_augment_transform: the config string, the op lists
 * (_RAND_TRANSFORMS, _RAND_INCREASING_TRANSFORMS, _RAND_WEIGHTED_0), and the random draws
 * of RandAugment.__call__ / AugmentOp.__call__, from an ens_rng instead of Python's random
 * and numpy (same distributions, not the same numbers). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "randaugment.h"

/* Pillow's arithmetic is unfused; clang would fuse a * b + c on FMA targets (GCC does not
 * in ISO C mode), which changes roundings. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define LEVEL_DENOM 10.0
#define MAX_INT_VALUE 1000000 /* m, mmax: far beyond any useful magnitude, no overflow */

static const ens_ra_op rand_ops[] = {
    ENS_RA_AUTOCONTRAST, ENS_RA_EQUALIZE,        ENS_RA_INVERT,          ENS_RA_ROTATE,
    ENS_RA_POSTERIZE,    ENS_RA_SOLARIZE,        ENS_RA_SOLARIZE_ADD,    ENS_RA_COLOR,
    ENS_RA_CONTRAST,     ENS_RA_BRIGHTNESS,      ENS_RA_SHARPNESS,       ENS_RA_SHEAR_X,
    ENS_RA_SHEAR_Y,      ENS_RA_TRANSLATE_X_REL, ENS_RA_TRANSLATE_Y_REL,
};

static const ens_ra_op rand_increasing_ops[] = {
    ENS_RA_AUTOCONTRAST,
    ENS_RA_EQUALIZE,
    ENS_RA_INVERT,
    ENS_RA_ROTATE,
    ENS_RA_POSTERIZE_INCREASING,
    ENS_RA_SOLARIZE_INCREASING,
    ENS_RA_SOLARIZE_ADD,
    ENS_RA_COLOR_INCREASING,
    ENS_RA_CONTRAST_INCREASING,
    ENS_RA_BRIGHTNESS_INCREASING,
    ENS_RA_SHARPNESS_INCREASING,
    ENS_RA_SHEAR_X,
    ENS_RA_SHEAR_Y,
    ENS_RA_TRANSLATE_X_REL,
    ENS_RA_TRANSLATE_Y_REL,
};

/* timm's _RAND_WEIGHTED_0 ("tweights"), in its order. */
static const struct {
  ens_ra_op op;
  double weight;
} rand_weighted_0[] = {
    {ENS_RA_ROTATE, 3},
    {ENS_RA_SHEAR_X, 2},
    {ENS_RA_SHEAR_Y, 2},
    {ENS_RA_TRANSLATE_X_REL, 1},
    {ENS_RA_TRANSLATE_Y_REL, 1},
    {ENS_RA_COLOR_INCREASING, .25},
    {ENS_RA_SHARPNESS_INCREASING, 0.25},
    {ENS_RA_AUTOCONTRAST, 0.25},
    {ENS_RA_SOLARIZE_INCREASING, .05},
    {ENS_RA_SOLARIZE_ADD, .05},
    {ENS_RA_CONTRAST_INCREASING, .05},
    {ENS_RA_BRIGHTNESS_INCREASING, .05},
    {ENS_RA_EQUALIZE, .05},
    {ENS_RA_POSTERIZE_INCREASING, 0.05},
    {ENS_RA_INVERT, 0.05},
};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Whole-string decimal digits into [0, MAX_INT_VALUE]. */
static int parse_count(const char *s, size_t len, int *out)
{
  if (!len || len > 9)
    return 0;
  int v = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return 0;
    v = v * 10 + (s[i] - '0');
  }
  if (v > MAX_INT_VALUE)
    return 0;
  *out = v;
  return 1;
}

/* Whole-string float (as Python's float() of a string that starts with a digit). */
static int parse_float(const char *s, size_t len, double *out)
{
  char buf[64];
  if (!len || len >= sizeof buf)
    return 0;
  memcpy(buf, s, len);
  buf[len] = '\0';
  char *end;
  errno = 0;
  double v = strtod(buf, &end);
  if (*end || isnan(v))
    return 0;
  *out = v;
  return 1;
}

static void set_list(ens_randaugment *p, const ens_ra_op *ops, int n)
{
  p->n_ops = n;
  memcpy(p->ops, ops, (size_t)n * sizeof *ops);
  p->weighted = 0;
}

static void set_weighted(ens_randaugment *p)
{
  double sum = 0;
  for (int i = 0; i < COUNT(rand_weighted_0); i++)
    sum += rand_weighted_0[i].weight;
  p->n_ops = COUNT(rand_weighted_0);
  for (int i = 0; i < p->n_ops; i++) {
    p->ops[i] = rand_weighted_0[i].op;
    p->weights[i] = rand_weighted_0[i].weight / sum;
  }
  p->weighted = 1;
}

/* Weighted choice is without replacement (numpy's choice with p): n must not exceed the
 * ops that can be drawn. */
static ens_status check_weighted_count(const ens_randaugment *p, ens_error *err)
{
  if (!p->weighted)
    return ENS_OK;
  int drawable = 0;
  for (int i = 0; i < p->n_ops; i++)
    drawable += p->weights[i] > 0;
  if (p->num_layers > drawable)
    return ens_fail(err, ENS_ERR_ARG,
                    "randaugment: n%d ops per image, but the weighted set draws without "
                    "replacement from %d ops",
                    p->num_layers, drawable);
  return ENS_OK;
}

ens_status ens_randaugment_parse(const char *config, const ens_ra_hparams *hp, ens_randaugment *out,
                                 ens_error *err)
{
  memset(out, 0, sizeof *out);
  if (hp)
    out->hp = *hp;
  else
    ens_ra_hparams_default(&out->hp);
  out->magnitude = LEVEL_DENOM;
  out->num_layers = 2;
  out->prob = 0.5;
  if (!config || strncmp(config, "rand", 4) || (config[4] && config[4] != '-'))
    return ens_fail(err, ENS_ERR_ARG,
                    "randaugment: policy '%s' must start with 'rand' (e.g. rand-m9-n2-mstd0.5)",
                    config ? config : "(null)");

  int have_mstd = 0, have_mmax = 0, mmax = 0;
  const char *tset = NULL;
  size_t tset_len = 0;
  const char *s = config + 4;
  while (*s == '-') {
    const char *sec = ++s;
    size_t len = strcspn(sec, "-");
    s += len;
    if (!len)
      return ens_fail(err, ENS_ERR_ARG, "randaugment: policy '%s' has an empty section", config);
    if (sec[0] == 't') { /* transform set; timm keeps the first one */
      if (!tset) {
        tset = sec + 1;
        tset_len = len - 1;
      }
      continue;
    }
    size_t klen = 0;
    while (klen < len && (sec[klen] < '0' || sec[klen] > '9'))
      klen++;
    const char *val = sec + klen;
    size_t vlen = len - klen;
    int ok = 0, iv;
    double dv;
#define KEY(k) (klen == strlen(k) && !memcmp(sec, k, klen))
    if (!vlen)
      return ens_fail(err, ENS_ERR_ARG,
                      "randaugment: section '%.*s' of policy '%s' has no number (timm skips such "
                      "sections silently; ens refuses them)",
                      (int)len, sec, config);
    if (KEY("mstd")) {
      ok = parse_float(val, vlen, &dv);
      if (ok && !have_mstd) { /* timm: hparams.setdefault, the first one wins */
        out->magnitude_std = dv > 100 ? INFINITY : dv;
        have_mstd = 1;
      }
    } else if (KEY("mmax")) {
      ok = parse_count(val, vlen, &iv);
      if (ok && !have_mmax) {
        mmax = iv;
        have_mmax = 1;
      }
    } else if (KEY("inc")) {
      /* timm tests bool() of the value *string*: any value, even "0", turns it on */
      ok = parse_count(val, vlen, &iv);
      if (ok)
        out->increasing = 1;
    } else if (KEY("m")) {
      ok = parse_count(val, vlen, &iv);
      if (ok)
        out->magnitude = iv;
    } else if (KEY("n")) {
      ok = parse_count(val, vlen, &iv) && iv <= ENS_RA_MAX_OPS;
      if (ok)
        out->num_layers = iv;
    } else if (KEY("p")) {
      ok = parse_float(val, vlen, &dv);
      if (ok)
        out->prob = dv;
    } else {
      return ens_fail(err, ENS_ERR_ARG,
                      "randaugment: unknown section '%.*s' in policy '%s' (known: m<int>, "
                      "n<int>, p<float>, mstd<float>, mmax<int>, inc<int>, tweights)",
                      (int)len, sec, config);
    }
#undef KEY
    if (!ok)
      return ens_fail(err, ENS_ERR_ARG,
                      "randaugment: bad value in section '%.*s' of policy '%s' (m, mmax, inc "
                      "take a whole number, n one of 0..%d, p and mstd a number)",
                      (int)len, sec, config, ENS_RA_MAX_OPS);
  }
  if (*s)
    return ens_fail(err, ENS_ERR_ARG, "randaugment: cannot parse policy '%s'", config);

  /* timm: `magnitude_max or 10`, so mmax0 means the default too */
  out->magnitude_max = have_mmax && mmax > 0 ? mmax : LEVEL_DENOM;

  if (!tset)
    set_list(out, out->increasing ? rand_increasing_ops : rand_ops,
             out->increasing ? COUNT(rand_increasing_ops) : COUNT(rand_ops));
  else if (tset_len == 7 && !memcmp(tset, "weights", 7))
    set_weighted(out);
  else if ((tset_len == 2 && !memcmp(tset, "3a", 2)) || (tset_len == 3 && !memcmp(tset, "3aw", 3)))
    return ens_fail(err, ENS_ERR_UNSUPPORTED,
                    "randaugment: transform set 't%.*s' needs GaussianBlur / Desaturate, which "
                    "ens does not implement",
                    (int)tset_len, tset);
  else
    return ens_fail(err, ENS_ERR_ARG,
                    "randaugment: unknown transform set 't%.*s' in policy '%s' (ens knows "
                    "'tweights')",
                    (int)tset_len, tset, config);
  return check_weighted_count(out, err);
}

/* Calls fn for each comma-separated name; fails on an empty or unknown one. */
static ens_status for_each_name(const char *names,
                                ens_status (*fn)(ens_randaugment *, ens_ra_op, ens_error *),
                                ens_randaugment *p, ens_error *err)
{
  if (!names || !*names)
    return ens_fail(err, ENS_ERR_ARG, "randaugment: empty op list");
  const char *s = names;
  for (;;) {
    size_t len = strcspn(s, ",");
    ens_ra_op op;
    if (!ens_ra_op_from_name(s, len, &op))
      return ens_fail(err, ENS_ERR_ARG,
                      "randaugment: unknown op '%.*s' (timm names: AutoContrast, Equalize, "
                      "Invert, Rotate, Posterize, Solarize, SolarizeAdd, Color, Contrast, "
                      "Brightness, Sharpness, ShearX, ShearY, TranslateXRel, TranslateYRel, "
                      "TranslateX, TranslateY, *Increasing, PosterizeOriginal)",
                      (int)len, s);
    ens_status st = fn(p, op, err);
    if (st != ENS_OK)
      return st;
    if (!s[len])
      return ENS_OK;
    s += len + 1;
  }
}

static ens_status add_op(ens_randaugment *p, ens_ra_op op, ens_error *err)
{
  if (p->n_ops >= ENS_RA_MAX_OPS)
    return ens_fail(err, ENS_ERR_ARG, "randaugment: more than %d ops", ENS_RA_MAX_OPS);
  p->ops[p->n_ops++] = op;
  return ENS_OK;
}

static ens_status remove_op(ens_randaugment *p, ens_ra_op op, ens_error *err)
{
  int j = 0, found = 0;
  for (int i = 0; i < p->n_ops; i++) {
    if (p->ops[i] == op) {
      found = 1;
      continue;
    }
    p->weights[j] = p->weights[i];
    p->ops[j++] = p->ops[i];
  }
  if (!found)
    return ens_fail(err, ENS_ERR_ARG, "randaugment: cannot drop %s: not in the op list",
                    ens_ra_op_name(op));
  p->n_ops = j;
  return ENS_OK;
}

ens_status ens_randaugment_set_ops(ens_randaugment *p, const char *names, ens_error *err)
{
  ens_randaugment tmp = *p;
  tmp.n_ops = 0;
  tmp.weighted = 0;
  ens_status st = for_each_name(names, add_op, &tmp, err);
  if (st == ENS_OK)
    *p = tmp;
  return st;
}

ens_status ens_randaugment_drop_ops(ens_randaugment *p, const char *names, ens_error *err)
{
  ens_randaugment tmp = *p;
  ens_status st = for_each_name(names, remove_op, &tmp, err);
  if (st != ENS_OK)
    return st;
  if (!tmp.n_ops)
    return ens_fail(err, ENS_ERR_ARG, "randaugment: dropping %s leaves no ops", names);
  if (tmp.weighted) { /* timm normalises the weights of whatever set it is given */
    double sum = 0;
    for (int i = 0; i < tmp.n_ops; i++)
      sum += tmp.weights[i];
    for (int i = 0; i < tmp.n_ops; i++)
      tmp.weights[i] /= sum;
  }
  st = check_weighted_count(&tmp, err);
  if (st == ENS_OK)
    *p = tmp;
  return st;
}

/* Sequential weighted draws without replacement: the same distribution as numpy's
 * choice(replace=False, p=w), which keeps the first occurrences of i.i.d. draws. Returns
 * how many were drawn. */
static int weighted_choice(const ens_randaugment *p, ens_rng *rng, int n, int *idx)
{
  int taken[ENS_RA_MAX_OPS] = {0};
  for (int k = 0; k < n; k++) {
    double total = 0;
    for (int i = 0; i < p->n_ops; i++)
      total += taken[i] ? 0 : p->weights[i];
    double u = ens_rng_uniform_d(rng) * total, acc = 0;
    int pick = -1;
    for (int i = 0; i < p->n_ops; i++) {
      if (taken[i] || p->weights[i] <= 0)
        continue;
      pick = i; /* the last drawable op absorbs rounding at the top end */
      acc += p->weights[i];
      if (u < acc)
        break;
    }
    if (pick < 0) /* nothing left to draw (the parser prevents this) */
      return k;
    taken[pick] = 1;
    idx[k] = pick;
  }
  return n;
}

int ens_randaugment_sample(const ens_randaugment *p, ens_rng *rng, ens_ra_draw *draws)
{
  int n = p->num_layers < ENS_RA_MAX_OPS ? p->num_layers : ENS_RA_MAX_OPS;
  if (n <= 0 || p->n_ops <= 0)
    return 0;
  int idx[ENS_RA_MAX_OPS];
  if (p->weighted)
    n = weighted_choice(p, rng, n, idx);
  else
    for (int k = 0; k < n; k++)
      idx[k] = (int)ens_rng_below(rng, (uint32_t)p->n_ops);

  /* AugmentOp.__call__, in timm's order: probability, magnitude noise, clip, sign, resample */
  for (int k = 0; k < n; k++) {
    ens_ra_draw *d = &draws[k];
    memset(d, 0, sizeof *d);
    d->op = p->ops[idx[k]];
    d->applied = !(p->prob < 1.0 && ens_rng_uniform_d(rng) > p->prob);
    if (!d->applied)
      continue;
    double m = p->magnitude;
    if (p->magnitude_std > 0) {
      if (isinf(p->magnitude_std))
        m = m * ens_rng_uniform_d(rng); /* random.uniform(0, m) */
      else
        m = m + p->magnitude_std * ens_rng_normal(rng);
    }
    m = m < p->magnitude_max ? m : p->magnitude_max;
    d->magnitude = m > 0.0 ? m : 0.0;
    if (ens_ra_op_has_sign(d->op))
      d->negate = ens_rng_uniform_d(rng) > 0.5;
    d->rs = p->hp.interpolation;
    if (ens_ra_op_is_geometric(d->op) && d->rs == ENS_RA_RANDOM)
      d->rs = ens_rng_below(rng, 2) ? ENS_RA_BICUBIC : ENS_RA_BILINEAR;
    d->arg = ens_ra_level_to_arg(d->op, d->magnitude, d->negate, &p->hp);
  }
  return n;
}

ens_status ens_randaugment_apply(const ens_randaugment *p, uint8_t *img, int w, int h, int c,
                                 ens_rng *rng, ens_error *err)
{
  if (w < 1 || h < 1 || (c != 1 && c != 3) || (size_t)w * (size_t)h > ((size_t)1 << 28))
    return ens_fail(err, ENS_ERR_ARG,
                    "randaugment: image must be 1x1 to 2^28 pixels with 1 or 3 channels (got "
                    "%dx%dx%d)",
                    w, h, c);
  ens_ra_draw draws[ENS_RA_MAX_OPS];
  int n = ens_randaugment_sample(p, rng, draws);
  uint8_t *scratch = NULL;
  ens_status st = ENS_OK;
  for (int k = 0; k < n && st == ENS_OK; k++) {
    if (!draws[k].applied)
      continue;
    if (!scratch) {
      scratch = malloc((size_t)w * (size_t)h * (size_t)c);
      if (!scratch)
        return ens_fail(err, ENS_ERR_NOMEM, "randaugment: out of memory for a %dx%d image", w, h);
    }
    st = ens_ra_apply_op(draws[k].op, draws[k].arg, draws[k].rs, p->hp.fill, img, w, h, c, scratch,
                         err);
  }
  free(scratch);
  return st;
}
