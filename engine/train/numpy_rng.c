/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* numpy_rng.c - numpy's SeedSequence, PCG64 and Generator.shuffle (see numpy_rng.h).
 *
 * Semantics follow numpy's bit_generator.pyx (SeedSequence: 4-word pool, hashmix / mix
 * constants), pcg64.h (128-bit LCG, XSL-RR output, the srandom seeding steps) and
 * distributions.c (random_interval, _shuffle_raw). The 128-bit arithmetic uses the compiler's
 * unsigned __int128 (gcc and clang on 64-bit targets). */
#include "numpy_rng.h"

__extension__ typedef unsigned __int128 u128;

/* SeedSequence constants */
#define SS_INIT_A 0x43b0d7e5u
#define SS_MULT_A 0x931e8875u
#define SS_INIT_B 0x8b51f9ddu
#define SS_MULT_B 0x58f38dedu
#define SS_MIX_MULT_L 0xca01f9ddu
#define SS_MIX_MULT_R 0x4973f715u
#define SS_XSHIFT 16
#define SS_POOL 4

/* PCG64's 128-bit multiplier */
#define PCG_MULT_HI 2549297995355413924ULL
#define PCG_MULT_LO 4865540595714422341ULL

static uint32_t hashmix(uint32_t value, uint32_t *hash_const)
{
  value ^= *hash_const;
  *hash_const *= SS_MULT_A;
  value *= *hash_const;
  value ^= value >> SS_XSHIFT;
  return value;
}

static uint32_t mix(uint32_t x, uint32_t y)
{
  uint32_t r = SS_MIX_MULT_L * x - SS_MIX_MULT_R * y;
  return r ^ (r >> SS_XSHIFT);
}

/* SeedSequence(seed).generate_state(4, uint64) (no spawn key). The seed becomes its 32-bit
 * little-endian words ([0] for seed 0). */
static void seed_sequence_state(uint64_t seed, uint64_t out[4])
{
  uint32_t entropy[2];
  int n_entropy = 0;
  if (seed == 0)
    entropy[n_entropy++] = 0;
  while (seed) {
    entropy[n_entropy++] = (uint32_t)seed;
    seed >>= 32;
  }
  uint32_t pool[SS_POOL];
  uint32_t hash_const = SS_INIT_A;
  for (int i = 0; i < SS_POOL; i++)
    pool[i] = hashmix(i < n_entropy ? entropy[i] : 0u, &hash_const);
  for (int src = 0; src < SS_POOL; src++)
    for (int dst = 0; dst < SS_POOL; dst++)
      if (src != dst)
        pool[dst] = mix(pool[dst], hashmix(pool[src], &hash_const));
  /* entropy beyond the pool size: never for a <= 64-bit seed */

  uint32_t words[8];
  uint32_t hc = SS_INIT_B;
  for (int i = 0; i < 8; i++) {
    uint32_t v = pool[i % SS_POOL];
    v ^= hc;
    hc *= SS_MULT_B;
    v *= hc;
    v ^= v >> SS_XSHIFT;
    words[i] = v;
  }
  for (int i = 0; i < 4; i++) /* uint32 pairs viewed as little-endian uint64 */
    out[i] = (uint64_t)words[2 * i] | (uint64_t)words[2 * i + 1] << 32;
}

static u128 make128(uint64_t hi, uint64_t lo)
{
  return (u128)hi << 64 | lo;
}

static void step(ens_np_pcg64 *g)
{
  u128 s = make128(g->state_hi, g->state_lo);
  s = s * make128(PCG_MULT_HI, PCG_MULT_LO) + make128(g->inc_hi, g->inc_lo);
  g->state_hi = (uint64_t)(s >> 64);
  g->state_lo = (uint64_t)s;
}

void ens_np_default_rng(ens_np_pcg64 *g, uint64_t seed)
{
  uint64_t st[4];
  seed_sequence_state(seed, st);
  /* pcg64_set_seed: initstate = st[0]:st[1] (high:low), initseq = st[2]:st[3] */
  u128 initstate = make128(st[0], st[1]);
  u128 inc = make128(st[2], st[3]) << 1 | 1u;
  g->state_hi = g->state_lo = 0;
  g->inc_hi = (uint64_t)(inc >> 64);
  g->inc_lo = (uint64_t)inc;
  step(g);
  u128 s = make128(g->state_hi, g->state_lo) + initstate;
  g->state_hi = (uint64_t)(s >> 64);
  g->state_lo = (uint64_t)s;
  step(g);
  g->has_uint32 = 0;
  g->uinteger = 0;
}

uint64_t ens_np_next_u64(ens_np_pcg64 *g)
{
  step(g);
  uint64_t x = g->state_hi ^ g->state_lo;
  unsigned rot = (unsigned)(g->state_hi >> 58);
  return (x >> rot) | (x << ((64u - rot) & 63u));
}

uint32_t ens_np_next_u32(ens_np_pcg64 *g)
{
  if (g->has_uint32) {
    g->has_uint32 = 0;
    return g->uinteger;
  }
  uint64_t next = ens_np_next_u64(g);
  g->has_uint32 = 1;
  g->uinteger = (uint32_t)(next >> 32);
  return (uint32_t)next;
}

uint64_t ens_np_interval(ens_np_pcg64 *g, uint64_t max)
{
  if (max == 0)
    return 0;
  uint64_t mask = max;
  mask |= mask >> 1;
  mask |= mask >> 2;
  mask |= mask >> 4;
  mask |= mask >> 8;
  mask |= mask >> 16;
  mask |= mask >> 32;
  uint64_t v;
  if (max <= 0xffffffffULL) {
    while ((v = (ens_np_next_u32(g) & mask)) > max) {
    }
  } else {
    while ((v = (ens_np_next_u64(g) & mask)) > max) {
    }
  }
  return v;
}

void ens_np_shuffle_i64(ens_np_pcg64 *g, int64_t *a, size_t n)
{
  for (size_t i = n; i-- > 1;) {
    size_t j = (size_t)ens_np_interval(g, i);
    int64_t t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

void ens_np_permutation(ens_np_pcg64 *g, int64_t *out, size_t n)
{
  for (size_t i = 0; i < n; i++)
    out[i] = (int64_t)i;
  ens_np_shuffle_i64(g, out, n);
}
