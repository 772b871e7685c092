/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rng.h - a small seeded random generator for training: data order, augmentation, dropout
 * and drop-path masks, weight initialisation (internal).
 *
 * PCG32 (XSH-RR, 64-bit state): fast, plain C, and its (seed, stream) pairs give independent
 * sequences, so each sample / image / layer can draw from its own stream and results do not
 * depend on which thread ran it. Not for cryptography. */
#ifndef ENS_RNG_H
#define ENS_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct {
  uint64_t state, inc;
} ens_rng;

static inline uint32_t ens_rng_u32(ens_rng *r)
{
  uint64_t old = r->state;
  r->state = old * 6364136223846793005ULL + r->inc;
  uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
  uint32_t rot = (uint32_t)(old >> 59u);
  return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

/* The sequence for (seed, stream): different streams of one seed are independent. */
static inline void ens_rng_seed(ens_rng *r, uint64_t seed, uint64_t stream)
{
  r->state = 0u;
  r->inc = (stream << 1u) | 1u;
  ens_rng_u32(r);
  r->state += seed;
  ens_rng_u32(r);
}

static inline uint64_t ens_rng_u64(ens_rng *r)
{
  uint64_t hi = ens_rng_u32(r);
  return (hi << 32) | ens_rng_u32(r);
}

/* Uniform in [0, 1) with 24 random bits (every value exactly representable as float). */
static inline float ens_rng_uniform(ens_rng *r)
{
  return (float)(ens_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double ens_rng_uniform_d(ens_rng *r)
{
  return (double)(ens_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, n), n >= 1, without modulo bias (Lemire's method). */
static inline uint32_t ens_rng_below(ens_rng *r, uint32_t n)
{
  uint64_t m = (uint64_t)ens_rng_u32(r) * n;
  uint32_t low = (uint32_t)m;
  if (low < n) {
    uint32_t threshold = (uint32_t)(-n) % n;
    while (low < threshold) {
      m = (uint64_t)ens_rng_u32(r) * n;
      low = (uint32_t)m;
    }
  }
  return (uint32_t)(m >> 32);
}

/* Standard normal (Box-Muller on two uniform doubles; one value per call). */
static inline double ens_rng_normal(ens_rng *r)
{
  double u1 = 1.0 - ens_rng_uniform_d(r); /* (0, 1]: log is finite */
  double u2 = ens_rng_uniform_d(r);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Fisher-Yates shuffle of an int array. */
static inline void ens_rng_shuffle(ens_rng *r, int *a, int n)
{
  for (int i = n - 1; i > 0; i--) {
    int j = (int)ens_rng_below(r, (uint32_t)i + 1u);
    int t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

#endif
