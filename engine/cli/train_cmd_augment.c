/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_cmd_augment.c - `ens-train augment`: writes what RandAugment does to images, for
 * people to look at. Either a timm policy string (random ops, as training draws them) or an
 * explicit op list (each op always applied, at a given magnitude and sign). One line per
 * output on stdout says which ops ran with which arguments. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_args.h"
#include "ens.h"
#include "error.h"
#include "image_write.h"
#include "randaugment.h"
#include "train_cmds.h"

#define MAX_COUNT 10000
#define MAX_MAGNITUDE 1000.0

typedef struct {
  const char *ops, *policy, *drop, *out_dir;
  uint64_t seed;
  int count, gray;
  ens_write_format format;
  ens_ra_hparams hp;
} options;

/* one explicit op of --ops */
typedef struct {
  ens_ra_op op;
  double magnitude;
  int negate;
} fixed_op;

static void print_usage(FILE *f)
{
  fprintf(
      f,
      "usage: ens-train augment (--policy CONFIG | --ops OP[:M],...) [options] IMAGE... --out DIR\n"
      "\n"
      "Writes DIR/<image name>_<k>.png (k = 0..count-1): each image after timm's RandAugment.\n"
      "\n"
      "  --policy CONFIG      timm's rand_augment_transform string, e.g. rand-m9-n2-mstd0.5\n"
      "                       (m, n, p, mstd, mmax, inc, tweights): random ops as in training\n"
      "  --ops OP[:M],...     apply these ops in order, every time, at magnitude M (default 10);\n"
      "                       a negative M takes the other direction (Rotate, Shear*, Translate*,\n"
      "                       *Increasing). Names as in timm: AutoContrast, Equalize, Invert,\n"
      "                       Rotate, Posterize, Solarize, SolarizeAdd, Color, Contrast,\n"
      "                       Brightness, Sharpness, ShearX, ShearY, TranslateXRel,\n"
      "                       TranslateYRel, TranslateX, TranslateY, ...Increasing\n"
      "  --drop OP,...        remove ops from the policy's list (e.g. Invert,Color)\n"
      "  --out DIR            output directory (created if missing)\n"
      "  --count N            augmented copies per image (default 1)\n"
      "  --seed S             random seed (default 0); same seed, same pictures\n"
      "  --gray               convert to grey (PIL mode L) first\n"
      "  --fill V | R,G,B     colour of uncovered pixels (timm's img_mean; default 128)\n"
      "  --translate-const PX TranslateX/Y pixels at magnitude 10 (default 250)\n"
      "  --translate-pct F    TranslateX/YRel fraction at magnitude 10 (default 0.45)\n"
      "  --interpolation I    random (bilinear or bicubic, timm's default), nearest, bilinear,\n"
      "                       bicubic\n"
      "  --format F           png (default) or pnm (PGM / PPM)\n"
      "  -h, --help           this text\n"
      "\n"
      "Exit status: 0 ok, 1 image or output error, 2 usage error.\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "ens-train augment: ");
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n(`ens-train augment --help` lists the options)\n");
  return 2;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v >= lo && v <= hi))
    return 0;
  *out = v;
  return 1;
}

static int parse_fill(const char *s, uint8_t fill[3])
{
  int v[3], n = 0;
  char buf[64];
  if (strlen(s) >= sizeof buf)
    return 0;
  strcpy(buf, s);
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (n == 3 || !ens_cli_parse_int(tok, 0, 255, &v[n]))
      return 0;
    n++;
  }
  if (n != 1 && n != 3)
    return 0;
  for (int i = 0; i < 3; i++)
    fill[i] = (uint8_t)v[n == 3 ? i : 0];
  return 1;
}

/* --ops: "Rotate:-9,Contrast,Posterize:3". Returns the count, or -1 after a usage message. */
static int parse_fixed_ops(const char *s, fixed_op *ops)
{
  int n = 0;
  const char *p = s;
  for (;;) {
    size_t len = strcspn(p, ",");
    size_t name_len = strcspn(p, ",:");
    if (n == ENS_RA_MAX_OPS) {
      usage_error("--ops: more than %d ops", ENS_RA_MAX_OPS);
      return -1;
    }
    fixed_op *f = &ops[n];
    if (!ens_ra_op_from_name(p, name_len, &f->op)) {
      usage_error("--ops: unknown op '%.*s' (timm's names, e.g. Rotate, ShearX, Contrast)",
                  (int)name_len, p);
      return -1;
    }
    f->magnitude = 10;
    f->negate = 0;
    if (name_len < len) {
      char buf[64];
      size_t vlen = len - name_len - 1;
      if (vlen >= sizeof buf)
        vlen = sizeof buf - 1;
      memcpy(buf, p + name_len + 1, vlen);
      buf[vlen] = '\0';
      if (!parse_double(buf, -MAX_MAGNITUDE, MAX_MAGNITUDE, &f->magnitude)) {
        usage_error("--ops: bad magnitude '%s' for %s (a number, |M| <= %g)", buf,
                    ens_ra_op_name(f->op), MAX_MAGNITUDE);
        return -1;
      }
      if (f->magnitude < 0 || (f->magnitude == 0 && signbit(f->magnitude))) {
        if (!ens_ra_op_has_sign(f->op)) {
          usage_error("--ops: %s has no direction; its magnitude must be >= 0",
                      ens_ra_op_name(f->op));
          return -1;
        }
        f->negate = 1;
        f->magnitude = -f->magnitude;
      }
    }
    n++;
    if (!p[len])
      return n;
    p += len + 1;
  }
}

/* Returns -1 to continue, else the exit code. */
static int parse_args(int argc, char **argv, options *o)
{
  enum {
    OPT_POLICY = 256,
    OPT_OPS,
    OPT_DROP,
    OPT_OUT,
    OPT_COUNT,
    OPT_SEED,
    OPT_GRAY,
    OPT_FILL,
    OPT_TCONST,
    OPT_TPCT,
    OPT_INTERP,
    OPT_FORMAT
  };
  static const struct option longopts[] = {
      {"policy", required_argument, NULL, OPT_POLICY},
      {"ops", required_argument, NULL, OPT_OPS},
      {"drop", required_argument, NULL, OPT_DROP},
      {"out", required_argument, NULL, OPT_OUT},
      {"count", required_argument, NULL, OPT_COUNT},
      {"seed", required_argument, NULL, OPT_SEED},
      {"gray", no_argument, NULL, OPT_GRAY},
      {"fill", required_argument, NULL, OPT_FILL},
      {"translate-const", required_argument, NULL, OPT_TCONST},
      {"translate-pct", required_argument, NULL, OPT_TPCT},
      {"interpolation", required_argument, NULL, OPT_INTERP},
      {"format", required_argument, NULL, OPT_FORMAT},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  memset(o, 0, sizeof *o);
  o->count = 1;
  ens_ra_hparams_default(&o->hp);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    switch (c) {
      case OPT_POLICY:
        o->policy = optarg;
        break;
      case OPT_OPS:
        o->ops = optarg;
        break;
      case OPT_DROP:
        o->drop = optarg;
        break;
      case OPT_OUT:
        o->out_dir = optarg;
        break;
      case OPT_COUNT:
        if (!ens_cli_parse_int(optarg, 1, MAX_COUNT, &o->count))
          return usage_error("invalid --count '%s': expected 1..%d", optarg, MAX_COUNT);
        break;
      case OPT_SEED: {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(optarg, &end, 10);
        if (errno || end == optarg || *end || optarg[0] == '-')
          return usage_error("invalid --seed '%s': expected a non-negative integer", optarg);
        o->seed = v;
        break;
      }
      case OPT_GRAY:
        o->gray = 1;
        break;
      case OPT_FILL:
        if (!parse_fill(optarg, o->hp.fill))
          return usage_error("invalid --fill '%s': expected V or R,G,B with values 0..255", optarg);
        break;
      case OPT_TCONST:
        if (!parse_double(optarg, 0, 1e6, &o->hp.translate_const))
          return usage_error("invalid --translate-const '%s': expected pixels in 0..1e6", optarg);
        break;
      case OPT_TPCT:
        if (!parse_double(optarg, 0, 100, &o->hp.translate_pct))
          return usage_error("invalid --translate-pct '%s': expected a fraction in 0..100", optarg);
        break;
      case OPT_INTERP:
        if (!strcmp(optarg, "random"))
          o->hp.interpolation = ENS_RA_RANDOM;
        else if (!strcmp(optarg, "nearest"))
          o->hp.interpolation = ENS_RA_NEAREST;
        else if (!strcmp(optarg, "bilinear"))
          o->hp.interpolation = ENS_RA_BILINEAR;
        else if (!strcmp(optarg, "bicubic"))
          o->hp.interpolation = ENS_RA_BICUBIC;
        else
          return usage_error(
              "invalid --interpolation '%s': expected random, nearest, bilinear or bicubic",
              optarg);
        break;
      case OPT_FORMAT:
        if (!strcmp(optarg, "png"))
          o->format = ENS_WRITE_PNG;
        else if (!strcmp(optarg, "pnm"))
          o->format = ENS_WRITE_PNM;
        else
          return usage_error("invalid --format '%s': expected png or pnm", optarg);
        break;
      case 'h':
        print_usage(stdout);
        return 0;
      case ':':
        return usage_error("option '%s' needs an argument", argv[optind - 1]);
      default:
        return usage_error("unknown option '%s'", argv[optind - 1]);
    }
  }
  if (!o->policy == !o->ops)
    return usage_error("give exactly one of --policy and --ops");
  if (o->drop && !o->policy)
    return usage_error("--drop applies to --policy only");
  if (!o->out_dir)
    return usage_error("no --out directory given");
  if (optind >= argc)
    return usage_error("no images given");
  return -1;
}

/* The file name without directory and extension. */
static void stem_of(const char *path, char *out, size_t cap)
{
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t len = strlen(base);
  const char *dot = strrchr(base, '.');
  if (dot && dot != base)
    len = (size_t)(dot - base);
  if (len >= cap)
    len = cap - 1;
  memcpy(out, base, len);
  out[len] = '\0';
}

/* RGB -> L as PIL's convert("L"). */
static void to_gray(const uint8_t *rgb, uint8_t *gray, size_t npix)
{
  for (size_t i = 0; i < npix; i++) {
    const uint8_t *p = rgb + 3 * i;
    gray[i] = (uint8_t)(((uint32_t)p[0] * 19595u + (uint32_t)p[1] * 38470u +
                         (uint32_t)p[2] * 7471u + 0x8000u) >>
                        16);
  }
}

static const char *resample_name(ens_ra_resample rs)
{
  return rs == ENS_RA_NEAREST ? "nearest" : rs == ENS_RA_BILINEAR ? "bilinear" : "bicubic";
}

/* The shortest of %.15g / %.16g / %.17g that reads back as v (like Python's repr). */
static void shortest(double v, char *buf, size_t cap)
{
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, cap, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      return;
  }
}

/* Appends " Op(arg[ resample])", " Op" (no argument) or " Op(skipped)" to the description line; the
 * argument is printed exactly, so the line reproduces the picture. */
static void describe(char *line, size_t cap, const ens_ra_draw *d)
{
  size_t used = strlen(line);
  char arg[40];
  shortest(d->arg, arg, sizeof arg);
  if (used + 1 >= cap)
    return;
  if (!d->applied)
    snprintf(line + used, cap - used, " %s(skipped)", ens_ra_op_name(d->op));
  else if (d->op == ENS_RA_AUTOCONTRAST || d->op == ENS_RA_EQUALIZE || d->op == ENS_RA_INVERT)
    snprintf(line + used, cap - used, " %s", ens_ra_op_name(d->op));
  else if (ens_ra_op_is_geometric(d->op))
    snprintf(line + used, cap - used, " %s(%s %s)", ens_ra_op_name(d->op), arg,
             resample_name(d->rs));
  else
    snprintf(line + used, cap - used, " %s(%s)", ens_ra_op_name(d->op), arg);
}

/* The draws of one output: the policy's, or the fixed list with its resample draws. */
static int make_draws(const options *o, const ens_randaugment *policy, const fixed_op *fixed,
                      int n_fixed, ens_rng *rng, ens_ra_draw *d)
{
  if (o->policy)
    return ens_randaugment_sample(policy, rng, d);
  for (int k = 0; k < n_fixed; k++) {
    memset(&d[k], 0, sizeof d[k]);
    d[k].op = fixed[k].op;
    d[k].applied = 1;
    d[k].magnitude = fixed[k].magnitude;
    d[k].negate = fixed[k].negate;
    d[k].rs = o->hp.interpolation;
    if (ens_ra_op_is_geometric(d[k].op) && d[k].rs == ENS_RA_RANDOM)
      d[k].rs = ens_rng_below(rng, 2) ? ENS_RA_BICUBIC : ENS_RA_BILINEAR;
    d[k].arg = ens_ra_level_to_arg(d[k].op, d[k].magnitude, d[k].negate, &o->hp);
  }
  return n_fixed;
}

static int augment_one(const options *o, const ens_randaugment *policy, const fixed_op *fixed,
                       int n_fixed, const char *path, int index)
{
  ens_error err = {0};
  ens_rgb_image im = {0};
  if (ens_image_load(path, &im, &err) != ENS_OK) {
    fprintf(stderr, "ens-train augment: %s\n", err.message);
    return 1;
  }
  int c = o->gray ? 1 : 3;
  size_t npix = (size_t)im.width * (size_t)im.height, bytes = npix * (size_t)c;
  uint8_t *src = malloc(bytes), *img = malloc(bytes), *scratch = malloc(bytes);
  int rc = 0;
  if (!src || !img || !scratch) {
    fprintf(stderr, "ens-train augment: %s: out of memory for %dx%d\n", path, im.width, im.height);
    rc = 1;
    goto done;
  }
  if (o->gray)
    to_gray(im.rgb, src, npix);
  else
    memcpy(src, im.rgb, bytes);

  char stem[200];
  stem_of(path, stem, sizeof stem);
  for (int k = 0; k < o->count && rc == 0; k++) {
    /* one stream per (image, copy): outputs do not depend on the other inputs' draws */
    ens_rng rng;
    ens_rng_seed(&rng, o->seed, ((uint64_t)index << 32) | (uint64_t)k);
    ens_ra_draw d[ENS_RA_MAX_OPS];
    int n = make_draws(o, policy, fixed, n_fixed, &rng, d);
    memcpy(img, src, bytes);
    char out_path[4096], line[4096 + 1024];
    snprintf(out_path, sizeof out_path, "%s/%s_%d.%s", o->out_dir, stem, k,
             o->format == ENS_WRITE_PNG ? "png" : (c == 1 ? "pgm" : "ppm"));
    snprintf(line, sizeof line, "%s:", out_path);
    for (int j = 0; j < n && rc == 0; j++) {
      describe(line, sizeof line, &d[j]);
      if (d[j].applied && ens_ra_apply_op(d[j].op, d[j].arg, d[j].rs, o->hp.fill, img, im.width,
                                          im.height, c, scratch, &err) != ENS_OK) {
        fprintf(stderr, "ens-train augment: %s: %s\n", path, err.message);
        rc = 1;
      }
    }
    if (rc)
      break;
    if (ens_image_write(out_path, o->format, img, im.width, im.height, c, &err) != ENS_OK) {
      fprintf(stderr, "ens-train augment: %s\n", err.message);
      rc = 1;
      break;
    }
    printf("%s%s\n", line, n ? "" : " (no ops)");
  }
done:
  free(src);
  free(img);
  free(scratch);
  ens_rgb_image_free(&im);
  return rc;
}

int ens_train_cmd_augment(int argc, char **argv)
{
  options o;
  int rc = parse_args(argc, argv, &o);
  if (rc >= 0)
    return rc;

  ens_randaugment policy;
  memset(&policy, 0, sizeof policy);
  fixed_op fixed[ENS_RA_MAX_OPS];
  int n_fixed = 0;
  ens_error err = {0};
  if (o.policy) {
    if (ens_randaugment_parse(o.policy, &o.hp, &policy, &err) != ENS_OK ||
        (o.drop && ens_randaugment_drop_ops(&policy, o.drop, &err) != ENS_OK))
      return usage_error("%s", err.message);
  } else {
    n_fixed = parse_fixed_ops(o.ops, fixed);
    if (n_fixed < 0)
      return 2;
  }

  /* two inputs with one name would overwrite each other's pictures */
  for (int i = optind; i < argc; i++)
    for (int j = optind; j < i; j++) {
      char a[200], b[200];
      stem_of(argv[i], a, sizeof a);
      stem_of(argv[j], b, sizeof b);
      if (!strcmp(a, b))
        return usage_error("'%s' and '%s' would both write %s_*: rename one", argv[j], argv[i], a);
    }

  if (mkdir(o.out_dir, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "ens-train augment: cannot create %s: %s\n", o.out_dir, strerror(errno));
    return 1;
  }
  struct stat st;
  if (stat(o.out_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "ens-train augment: %s is not a directory\n", o.out_dir);
    return 1;
  }

  int failed = 0;
  for (int i = optind; i < argc; i++)
    failed |= augment_one(&o, &policy, fixed, n_fixed, argv[i], i - optind);
  return failed ? 1 : 0;
}
