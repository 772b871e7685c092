/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_math.h - a vectorizable exp / sigmoid for the training ops (internal).
 *
 * libm's expf is a call per element that the compiler cannot vectorize; this one is plain
 * arithmetic (round-to-nearest by the 1.5*2^23 trick, Cody-Waite ln2 split, degree-7 Taylor
 * polynomial on |r| <= ln2/2, exponent by bit shift), so loops over it vectorize. Relative
 * error <= 2e-7 over the clamped range [-87, 88] (checked against exp() in
 * tests/train/test_op_gradcheck.c). */
#ifndef ENS_TRAIN_MATH_H
#define ENS_TRAIN_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float ens_tg_expf(float x)
{
  /* selects, not fminf/fmaxf (whose NaN rules block vectorization); the ops are compiled with
   * -fno-trapping-math so that these compares vectorize */
  x = x > -87.0f ? x : -87.0f;
  x = x < 88.0f ? x : 88.0f;
  const float round_magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
  float n = (x * 1.44269504088896341f + round_magic) - round_magic;
  float r = x - n * 0.693145751953125f; /* ln2 high part: exact product */
  r = r - n * 1.42860682030941723e-6f;  /* ln2 low part */
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

static inline float ens_tg_sigmoid(float x)
{
  return 1.0f / (1.0f + ens_tg_expf(-x));
}

#endif
