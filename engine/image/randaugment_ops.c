/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* randaugment_ops.c - the RandAugment op table: timm's names, its level -> argument
 * formulas (_LEVEL_TO_ARG, level / 10 scaled per op, random sign passed in), and the
 * dispatch of one op with an explicit argument to the pixel / enhance / geometric code. */
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

#define LEVEL_DENOM 10.0 /* timm's _LEVEL_DENOM: magnitude 10 = the op's full range */

static const char *const op_names[ENS_RA_OP_COUNT] = {
    [ENS_RA_AUTOCONTRAST] = "AutoContrast",
    [ENS_RA_EQUALIZE] = "Equalize",
    [ENS_RA_INVERT] = "Invert",
    [ENS_RA_ROTATE] = "Rotate",
    [ENS_RA_POSTERIZE] = "Posterize",
    [ENS_RA_SOLARIZE] = "Solarize",
    [ENS_RA_SOLARIZE_ADD] = "SolarizeAdd",
    [ENS_RA_COLOR] = "Color",
    [ENS_RA_CONTRAST] = "Contrast",
    [ENS_RA_BRIGHTNESS] = "Brightness",
    [ENS_RA_SHARPNESS] = "Sharpness",
    [ENS_RA_SHEAR_X] = "ShearX",
    [ENS_RA_SHEAR_Y] = "ShearY",
    [ENS_RA_TRANSLATE_X_REL] = "TranslateXRel",
    [ENS_RA_TRANSLATE_Y_REL] = "TranslateYRel",
    [ENS_RA_POSTERIZE_INCREASING] = "PosterizeIncreasing",
    [ENS_RA_POSTERIZE_ORIGINAL] = "PosterizeOriginal",
    [ENS_RA_SOLARIZE_INCREASING] = "SolarizeIncreasing",
    [ENS_RA_COLOR_INCREASING] = "ColorIncreasing",
    [ENS_RA_CONTRAST_INCREASING] = "ContrastIncreasing",
    [ENS_RA_BRIGHTNESS_INCREASING] = "BrightnessIncreasing",
    [ENS_RA_SHARPNESS_INCREASING] = "SharpnessIncreasing",
    [ENS_RA_TRANSLATE_X] = "TranslateX",
    [ENS_RA_TRANSLATE_Y] = "TranslateY",
};

void ens_ra_hparams_default(ens_ra_hparams *hp)
{
  hp->translate_const = 250.0;
  hp->translate_pct = 0.45;
  hp->fill[0] = hp->fill[1] = hp->fill[2] = 128;
  hp->interpolation = ENS_RA_RANDOM;
}

const char *ens_ra_op_name(ens_ra_op op)
{
  return (unsigned)op < ENS_RA_OP_COUNT ? op_names[op] : "?";
}

int ens_ra_op_from_name(const char *name, size_t len, ens_ra_op *op)
{
  for (int i = 0; i < ENS_RA_OP_COUNT; i++)
    if (strlen(op_names[i]) == len && !memcmp(op_names[i], name, len)) {
      *op = (ens_ra_op)i;
      return 1;
    }
  return 0;
}

int ens_ra_op_is_geometric(ens_ra_op op)
{
  switch (op) {
    case ENS_RA_ROTATE:
    case ENS_RA_SHEAR_X:
    case ENS_RA_SHEAR_Y:
    case ENS_RA_TRANSLATE_X:
    case ENS_RA_TRANSLATE_Y:
    case ENS_RA_TRANSLATE_X_REL:
    case ENS_RA_TRANSLATE_Y_REL:
      return 1;
    default:
      return 0;
  }
}

int ens_ra_op_has_sign(ens_ra_op op)
{
  switch (op) {
    case ENS_RA_COLOR_INCREASING:
    case ENS_RA_CONTRAST_INCREASING:
    case ENS_RA_BRIGHTNESS_INCREASING:
    case ENS_RA_SHARPNESS_INCREASING:
      return 1;
    default:
      return ens_ra_op_is_geometric(op);
  }
}

/* The formulas keep timm's operation order (level / 10 first), so the doubles match;
 * Python's int() of a non-negative double is trunc(). */
double ens_ra_level_to_arg(ens_ra_op op, double level, int negate, const ens_ra_hparams *hp)
{
  double f = level / LEVEL_DENOM, v;
  switch (op) {
    case ENS_RA_ROTATE:
      v = f * 30.0;
      return negate ? -v : v;
    case ENS_RA_POSTERIZE:
      return trunc(f * 4);
    case ENS_RA_POSTERIZE_INCREASING:
      return 4.0 - trunc(f * 4);
    case ENS_RA_POSTERIZE_ORIGINAL:
      return trunc(f * 4) + 4.0;
    case ENS_RA_SOLARIZE:
      v = trunc(f * 256);
      return v < 256.0 ? v : 256.0;
    case ENS_RA_SOLARIZE_INCREASING:
      v = trunc(f * 256);
      return 256.0 - (v < 256.0 ? v : 256.0);
    case ENS_RA_SOLARIZE_ADD:
      v = trunc(f * 110);
      return v < 128.0 ? v : 128.0;
    case ENS_RA_COLOR:
    case ENS_RA_CONTRAST:
    case ENS_RA_BRIGHTNESS:
    case ENS_RA_SHARPNESS:
      return f * 1.8 + 0.1;
    case ENS_RA_COLOR_INCREASING:
    case ENS_RA_CONTRAST_INCREASING:
    case ENS_RA_BRIGHTNESS_INCREASING:
    case ENS_RA_SHARPNESS_INCREASING:
      v = f * 0.9;
      v = 1.0 + (negate ? -v : v);
      return v > 0.1 ? v : 0.1;
    case ENS_RA_SHEAR_X:
    case ENS_RA_SHEAR_Y:
      v = f * 0.3;
      return negate ? -v : v;
    case ENS_RA_TRANSLATE_X:
    case ENS_RA_TRANSLATE_Y:
      v = f * hp->translate_const;
      return negate ? -v : v;
    case ENS_RA_TRANSLATE_X_REL:
    case ENS_RA_TRANSLATE_Y_REL:
      v = f * hp->translate_pct;
      return negate ? -v : v;
    default:
      return 0.0; /* AutoContrast, Equalize, Invert take no argument */
  }
}

/* Integer arguments (bits, thresholds) from a double: cut toward zero like Python's int(),
 * saturated so that any double is safe. */
static int int_arg(double v)
{
  if (v > 1e6)
    return 1000000;
  if (v < -1e6)
    return -1000000;
  return (int)v;
}

ens_status ens_ra_apply_op(ens_ra_op op, double arg, ens_ra_resample resample,
                           const uint8_t fill[3], uint8_t *img, int w, int h, int c,
                           uint8_t *scratch, ens_error *err)
{
  if ((unsigned)op >= ENS_RA_OP_COUNT)
    return ens_fail(err, ENS_ERR_ARG, "randaugment: unknown op %d", (int)op);
  if (w < 1 || h < 1 || (c != 1 && c != 3))
    return ens_fail(err, ENS_ERR_ARG,
                    "randaugment: image must be at least 1x1 with 1 or 3 channels (got %dx%dx%d)",
                    w, h, c);
  int geometric = ens_ra_op_is_geometric(op);
  if (geometric && resample != ENS_RA_NEAREST && resample != ENS_RA_BILINEAR &&
      resample != ENS_RA_BICUBIC)
    return ens_fail(err, ENS_ERR_ARG, "randaugment: %s needs nearest, bilinear or bicubic",
                    op_names[op]);
  if ((geometric || op == ENS_RA_SHARPNESS || op == ENS_RA_SHARPNESS_INCREASING) && !scratch)
    return ens_fail(err, ENS_ERR_ARG, "randaugment: %s needs a scratch buffer", op_names[op]);

  /* level arguments are small; the bound keeps every float / int conversion defined */
  if (!(fabs(arg) <= 1e9))
    return ens_fail(err, ENS_ERR_ARG, "randaugment: %s argument %g is out of range (|arg| <= 1e9)",
                    op_names[op], arg);
  size_t bytes = (size_t)w * (size_t)h * (size_t)c;
  double a[6] = {1, 0, 0, 0, 1, 0};
  switch (op) {
    case ENS_RA_AUTOCONTRAST:
      ens_ra_autocontrast(img, w, h, c);
      return ENS_OK;
    case ENS_RA_EQUALIZE:
      ens_ra_equalize(img, w, h, c);
      return ENS_OK;
    case ENS_RA_INVERT:
      ens_ra_invert(img, w, h, c);
      return ENS_OK;
    case ENS_RA_POSTERIZE:
    case ENS_RA_POSTERIZE_INCREASING:
    case ENS_RA_POSTERIZE_ORIGINAL:
      ens_ra_posterize(img, w, h, c, int_arg(arg));
      return ENS_OK;
    case ENS_RA_SOLARIZE:
    case ENS_RA_SOLARIZE_INCREASING:
      ens_ra_solarize(img, w, h, c, int_arg(arg));
      return ENS_OK;
    case ENS_RA_SOLARIZE_ADD:
      ens_ra_solarize_add(img, w, h, c, int_arg(arg), 128);
      return ENS_OK;
    case ENS_RA_COLOR:
    case ENS_RA_COLOR_INCREASING:
      ens_ra_color(img, w, h, c, arg);
      return ENS_OK;
    case ENS_RA_CONTRAST:
    case ENS_RA_CONTRAST_INCREASING:
      ens_ra_contrast(img, w, h, c, arg);
      return ENS_OK;
    case ENS_RA_BRIGHTNESS:
    case ENS_RA_BRIGHTNESS_INCREASING:
      ens_ra_brightness(img, w, h, c, arg);
      return ENS_OK;
    case ENS_RA_SHARPNESS:
    case ENS_RA_SHARPNESS_INCREASING:
      ens_ra_sharpness(img, w, h, c, arg, scratch);
      return ENS_OK;
    case ENS_RA_ROTATE:
      ens_ra_rotate(img, scratch, w, h, c, arg, resample, fill);
      memcpy(img, scratch, bytes);
      return ENS_OK;
    case ENS_RA_SHEAR_X:
      a[1] = arg; /* timm: (1, factor, 0, 0, 1, 0) */
      break;
    case ENS_RA_SHEAR_Y:
      a[3] = arg;
      break;
    case ENS_RA_TRANSLATE_X:
      a[2] = arg;
      break;
    case ENS_RA_TRANSLATE_Y:
      a[5] = arg;
      break;
    case ENS_RA_TRANSLATE_X_REL:
      a[2] = arg * w; /* timm: pixels = pct * width */
      break;
    case ENS_RA_TRANSLATE_Y_REL:
      a[5] = arg * h;
      break;
    default:
      return ens_fail(err, ENS_ERR_ARG, "randaugment: unknown op %d", (int)op);
  }
  ens_ra_affine(img, scratch, w, h, c, a, resample, fill);
  memcpy(img, scratch, bytes);
  return ENS_OK;
}
