/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_numpy_rng.c - numpy's default_rng / PCG64 / Generator.permutation reproduced in C.
 * Expected values were printed by Debian's numpy 1.24.2:
 *   g = numpy.random.default_rng(seed); g.bit_generator.random_raw(8); g.permutation(...) */
#include <inttypes.h>
#include <string.h>

#include "ens_test.h"
#include "numpy_rng.h"
#include "sha256_test.h"

static void check_raw(uint64_t seed, const uint64_t *want, int n)
{
  ens_np_pcg64 g;
  ens_np_default_rng(&g, seed);
  for (int i = 0; i < n; i++) {
    uint64_t v = ens_np_next_u64(&g);
    CHECK(v == want[i], "seed %" PRIu64 " draw %d: %016" PRIx64 ", numpy %016" PRIx64, seed, i, v,
          want[i]);
  }
}

static void check_perm(uint64_t seed, const int64_t *want, int n)
{
  ens_np_pcg64 g;
  int64_t got[64];
  ens_np_default_rng(&g, seed);
  ens_np_permutation(&g, got, (size_t)n);
  CHECK(memcmp(got, want, (size_t)n * sizeof *got) == 0,
        "seed %" PRIu64 ": permutation(%d) differs", seed, n);
}

int main(void)
{
  static const uint64_t raw0[8] = {0xa30febcfd9c2825f, 0x4510bdf882d9d721, 0x0a7d3da94ecde8b8,
                                   0x043b27b61342f01d, 0xd0327a782cde513b, 0xe9aa5979a6401c4e,
                                   0x9b4c7b7180edb27f, 0xbac0495ff8829a45};
  static const uint64_t raw12345[8] = {0x3a32b18db2ffc19d, 0x51171315c9e4c4de, 0xcc2024823444efd9,
                                       0xad1f06aea486e910, 0x641fc168fd0b7b0d, 0x55334b27d6e48f43,
                                       0x992ac3319147e59d, 0x2fcdcfc436908a5f};
  /* a seed of two 32-bit words exercises SeedSequence's multi-word entropy */
  static const uint64_t raw_big[2] = {0xc60e533fbbb0872c, 0xfef0825f71d66341};
  check_raw(0, raw0, 8);
  check_raw(12345, raw12345, 8);
  check_raw(((uint64_t)1 << 40) + 3, raw_big, 2);

  static const int64_t perm0[10] = {4, 6, 2, 7, 3, 5, 9, 0, 8, 1};
  static const int64_t perm12345[10] = {4, 8, 1, 3, 7, 9, 6, 0, 2, 5};
  static const int64_t perm7[20] = {3, 8, 12, 13, 14, 16, 10, 15, 1, 6,
                                    0, 7, 4,  18, 5,  19, 17, 2,  9, 11};
  check_perm(0, perm0, 10);
  check_perm(12345, perm12345, 10);
  check_perm(7, perm7, 20);

  /* one generator for two calls: permutation(arange(5, 12)) then permutation(1000)[:6];
   * the buffered high half of a 64-bit draw carries over between calls */
  ens_np_pcg64 g;
  ens_np_default_rng(&g, 0);
  int64_t a[7], b[1000];
  for (int i = 0; i < 7; i++)
    a[i] = 5 + i;
  ens_np_shuffle_i64(&g, a, 7);
  ens_np_permutation(&g, b, 1000);
  static const int64_t want_a[7] = {7, 9, 8, 11, 10, 5, 6},
                       want_b[6] = {462, 206, 222, 162, 740, 595};
  CHECK(memcmp(a, want_a, sizeof want_a) == 0, "permutation(arange(5, 12)) differs");
  CHECK(memcmp(b, want_b, sizeof want_b) == 0, "second permutation differs: %lld %lld ...",
        (long long)b[0], (long long)b[1]);

  /* next_uint32: low half, then the buffered high half */
  ens_np_default_rng(&g, 0);
  uint32_t lo = ens_np_next_u32(&g), hi = ens_np_next_u32(&g);
  CHECK(lo == 0xd9c2825fu && hi == 0xa30febcfu, "next_u32 halves %08x %08x", lo, hi);

  /* the test's own SHA-256 against the FIPS 180-2 examples */
  char hex[65];
  sha256_hex("abc", 3, hex);
  CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        "sha256(abc) %s", hex);
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  sha256_hex(two, strlen(two), hex);
  CHECK(!strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        "sha256(448 bits) %s", hex);
  return ens_test_finish("numpy_rng");
}
