/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* randaugment.h - timm's RandAugment on 8-bit images (internal).
 *
 * Images are packed rows of uint8, c = 1 (PIL mode "L") or c = 3 ("RGB"), w * c bytes per row.
 * Every op gives the same bytes as the Pillow 9.4 call timm's auto_augment.py makes for it
 * (ImageOps, ImageEnhance, Image.transform / Image.rotate with NEAREST, BILINEAR or BICUBIC).
 *
 * Three layers:
 *   1. ops with an explicit argument (ens_ra_apply_op): what timm's op functions take, e.g.
 *      degrees for Rotate, the blend factor for Contrast, a fraction of the width for
 *      TranslateXRel;
 *   2. magnitude level -> argument (ens_ra_level_to_arg): timm's _LEVEL_TO_ARG, with the
 *      random sign passed in explicitly;
 *   3. the policy (ens_randaugment_parse / ens_randaugment_apply): timm's
 *      rand_augment_transform config string ("rand-m9-n2-mstd0.5"), op list, hparams, and the
 *      random draws (ops chosen uniformly with replacement, each applied with probability p,
 *      magnitude with Gaussian noise clipped to [0, mmax]) from an ens_rng. */
#ifndef ENS_RANDAUGMENT_H
#define ENS_RANDAUGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "ens.h"
#include "rng.h"

/* timm's op names, in the order of its _RAND_TRANSFORMS list first. */
typedef enum {
  ENS_RA_AUTOCONTRAST = 0,
  ENS_RA_EQUALIZE,
  ENS_RA_INVERT,
  ENS_RA_ROTATE,
  ENS_RA_POSTERIZE,
  ENS_RA_SOLARIZE,
  ENS_RA_SOLARIZE_ADD,
  ENS_RA_COLOR,
  ENS_RA_CONTRAST,
  ENS_RA_BRIGHTNESS,
  ENS_RA_SHARPNESS,
  ENS_RA_SHEAR_X,
  ENS_RA_SHEAR_Y,
  ENS_RA_TRANSLATE_X_REL,
  ENS_RA_TRANSLATE_Y_REL,
  /* the rest: same image ops, other level -> argument mappings */
  ENS_RA_POSTERIZE_INCREASING,
  ENS_RA_POSTERIZE_ORIGINAL,
  ENS_RA_SOLARIZE_INCREASING,
  ENS_RA_COLOR_INCREASING,
  ENS_RA_CONTRAST_INCREASING,
  ENS_RA_BRIGHTNESS_INCREASING,
  ENS_RA_SHARPNESS_INCREASING,
  ENS_RA_TRANSLATE_X, /* absolute pixels (translate_const) */
  ENS_RA_TRANSLATE_Y,
  ENS_RA_OP_COUNT
} ens_ra_op;

typedef enum {
  ENS_RA_NEAREST = 0,
  ENS_RA_BILINEAR,
  ENS_RA_BICUBIC,
  ENS_RA_RANDOM, /* bilinear or bicubic with equal odds per op call: timm's default */
} ens_ra_resample;

/* timm's hparams. */
typedef struct {
  double translate_const;        /* TranslateX/Y: pixels at level 10 (timm default 250) */
  double translate_pct;          /* TranslateX/YRel: fraction of the side at level 10 (0.45) */
  uint8_t fill[3];               /* img_mean: colour of uncovered pixels (128); L uses fill[0] */
  ens_ra_resample interpolation; /* default ENS_RA_RANDOM */
} ens_ra_hparams;

/* timm's defaults: translate_const 250, translate_pct 0.45, fill 128, random resample. */
void ens_ra_hparams_default(ens_ra_hparams *hp);

/* timm's name ("AutoContrast", "TranslateXRel", ...). */
const char *ens_ra_op_name(ens_ra_op op);
/* Op from its timm name (exact, case-sensitive, name[0..len)); returns 1 if found. */
int ens_ra_op_from_name(const char *name, size_t len, ens_ra_op *op);
/* 1 if the op's level -> argument mapping draws a random sign (Rotate, Shear*, Translate*,
 * *Increasing enhance ops). */
int ens_ra_op_has_sign(ens_ra_op op);
/* 1 if the op resamples (Rotate, Shear*, Translate*): uses the fill and the resample filter. */
int ens_ra_op_is_geometric(ens_ra_op op);

/* timm's level -> argument for op at magnitude level (>= 0); negate: the random sign
 * (timm negates when random() > 0.5), ignored by ops without one. Integer arguments
 * (Posterize bits, Solarize threshold, SolarizeAdd amount) come back as whole numbers. */
double ens_ra_level_to_arg(ens_ra_op op, double level, int negate, const ens_ra_hparams *hp);

/* Applies op with argument arg to img (w x h, c = 1 or 3) in place. resample: NEAREST,
 * BILINEAR or BICUBIC (not RANDOM; only geometric ops use it); fill: uncovered pixels;
 * scratch: w * h * c bytes (used by the geometric ops and Sharpness), may be NULL for the
 * others. Integer arguments are truncated toward zero. Fails (ENS_ERR_ARG) on a bad size,
 * channel count, resample, missing scratch, or an argument that is NaN or beyond +-1e9. */
ens_status ens_ra_apply_op(ens_ra_op op, double arg, ens_ra_resample resample,
                           const uint8_t fill[3], uint8_t *img, int w, int h, int c,
                           uint8_t *scratch, ens_error *err);

/* ---- the ops themselves (one file per family) */

/* randaugment_pixel.c: per-channel lookup tables (ImageOps). */
void ens_ra_autocontrast(uint8_t *img, int w, int h, int c);
void ens_ra_equalize(uint8_t *img, int w, int h, int c);
void ens_ra_invert(uint8_t *img, int w, int h, int c);
void ens_ra_posterize(uint8_t *img, int w, int h, int c, int bits);
void ens_ra_solarize(uint8_t *img, int w, int h, int c, int threshold);
void ens_ra_solarize_add(uint8_t *img, int w, int h, int c, int add, int threshold);

/* randaugment_enhance.c: ImageEnhance (blend with a degenerate image). */
void ens_ra_color(uint8_t *img, int w, int h, int c, double factor);
void ens_ra_contrast(uint8_t *img, int w, int h, int c, double factor);
void ens_ra_brightness(uint8_t *img, int w, int h, int c, double factor);
/* scratch: w * h * c bytes */
void ens_ra_sharpness(uint8_t *img, int w, int h, int c, double factor, uint8_t *scratch);

/* randaugment_geometry.c: Image.transform(AFFINE) / Image.rotate into dst (not src), same
 * size. a = Pillow's inverse matrix: output pixel centre (x, y) samples the input at
 * (a0 x + a1 y + a2, a3 x + a4 y + a5). resample: NEAREST, BILINEAR or BICUBIC. */
void ens_ra_affine(const uint8_t *src, uint8_t *dst, int w, int h, int c, const double a[6],
                   ens_ra_resample resample, const uint8_t fill[3]);
void ens_ra_rotate(const uint8_t *src, uint8_t *dst, int w, int h, int c, double degrees,
                   ens_ra_resample resample, const uint8_t fill[3]);

/* ---- the policy */

#define ENS_RA_MAX_OPS 64

typedef struct {
  double magnitude;     /* m (timm: integer), default 10 */
  int num_layers;       /* n, default 2 */
  double prob;          /* p, default 0.5 */
  double magnitude_std; /* mstd, default 0; INFINITY (mstd > 100): uniform in [0, m] */
  double magnitude_max; /* upper clip of the magnitude: mmax, or 10 when absent / 0 */
  int increasing;       /* inc: the *Increasing op list */
  int n_ops;
  ens_ra_op ops[ENS_RA_MAX_OPS];
  int weighted;                   /* tweights: weighted choice without replacement */
  double weights[ENS_RA_MAX_OPS]; /* normalised, when weighted */
  ens_ra_hparams hp;
} ens_randaugment;

/* Parses timm's rand_augment_transform config string: "rand" then '-'-separated sections
 * m<int>, n<int>, p<float>, mstd<float>, mmax<int>, inc<int>, t<name> (only "tweights").
 * hp: NULL for timm's defaults. Unknown or malformed sections fail with ENS_ERR_ARG naming
 * the section (timm silently skips sections without a digit; ens refuses them). */
ens_status ens_randaugment_parse(const char *config, const ens_ra_hparams *hp, ens_randaugment *out,
                                 ens_error *err);

/* Replaces the op list with the comma-separated timm names in names (uniform choice). */
ens_status ens_randaugment_set_ops(ens_randaugment *p, const char *names, ens_error *err);
/* Removes the comma-separated timm names from the op list (each must be present). */
ens_status ens_randaugment_drop_ops(ens_randaugment *p, const char *names, ens_error *err);

/* One draw of the policy, as timm's RandAugment.__call__ makes it: which op, whether it is
 * applied, its magnitude, sign and resample. */
typedef struct {
  ens_ra_op op;
  int applied;        /* the probability check passed */
  double magnitude;   /* after noise and clipping */
  int negate;         /* the random sign */
  ens_ra_resample rs; /* for geometric ops */
  double arg;         /* ens_ra_level_to_arg(op, magnitude, negate) */
} ens_ra_draw;

/* Draws the policy's num_layers ops (at most ENS_RA_MAX_OPS) into draws; returns the count. */
int ens_randaugment_sample(const ens_randaugment *p, ens_rng *rng, ens_ra_draw *draws);

/* Draws and applies the policy to img in place (w x h, c = 1 or 3). */
ens_status ens_randaugment_apply(const ens_randaugment *p, uint8_t *img, int w, int h, int c,
                                 ens_rng *rng, ens_error *err);

#endif
