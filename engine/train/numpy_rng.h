/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* numpy_rng.h - numpy's default_rng(seed) in C (internal): SeedSequence -> PCG64, the
 * buffered 32-bit draws and Generator.shuffle / permutation of a 1-D array, so a split made
 * in Python with numpy (e.g. the Fashion-MNIST labeled subset) is reproduced exactly
 * without Python or an index file. Matches numpy 1.17 .. 1.24 (Debian 12 ships 1.24.2). */
#ifndef ENS_NUMPY_RNG_H
#define ENS_NUMPY_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint64_t state_hi, state_lo; /* 128-bit LCG state */
  uint64_t inc_hi, inc_lo;     /* 128-bit increment (odd) */
  int has_uint32;              /* numpy keeps the high half of a 64-bit draw for next_uint32 */
  uint32_t uinteger;
} ens_np_pcg64;

/* numpy.random.default_rng(seed) for a non-negative integer seed: SeedSequence(seed) ->
 * generate_state(4, uint64) -> PCG64. */
void ens_np_default_rng(ens_np_pcg64 *g, uint64_t seed);

/* bit_generator.random_raw(): one 64-bit output (advance, then XSL-RR). */
uint64_t ens_np_next_u64(ens_np_pcg64 *g);

/* numpy's next_uint32: the low half of a fresh 64-bit draw, the high half on the next call. */
uint32_t ens_np_next_u32(ens_np_pcg64 *g);

/* numpy's random_interval(max): uniform in [0, max] by masked rejection sampling (32-bit
 * draws when max fits in 32 bits). */
uint64_t ens_np_interval(ens_np_pcg64 *g, uint64_t max);

/* Generator.shuffle of a 1-D int64 array (in place): Fisher-Yates from the end. */
void ens_np_shuffle_i64(ens_np_pcg64 *g, int64_t *a, size_t n);

/* Generator.permutation(n) into out[0..n): arange(n) shuffled. */
void ens_np_permutation(ens_np_pcg64 *g, int64_t *out, size_t n);

#endif
