/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* table_avx512.c - the AVX-512 kernel table. The CPU check is in kernels/dispatch.c, which is
 * compiled without AVX-512 flags, so nothing here runs on a CPU without AVX-512. */
#include "kernels_x86.h"

/* pointwise_bf16_avx512.c is built only by compilers with -mavx512bf16: weak, so builds
 * without it still link (the table then has no bf16 kernel). */
void ens_pointwise_bf16_avx512(const ens_pw_args *a, const ens_bf16_mat *wb, int begin, int end)
    __attribute__((weak));

#define AVX512_TABLE(bf16)                                                                         \
  {                                                                                                \
    .name = "avx512", .pointwise_split_invariant = 1, .pointwise = ens_pointwise_avx512,           \
    .depthwise = ens_depthwise_avx512, .stem = ens_stem_avx512,                                    \
    .scale_channels = ens_scale_channels_avx512, .pointwise_bf16 = (bf16)                          \
  }

static const ens_kernels avx512_kernels = AVX512_TABLE(NULL);
static const ens_kernels avx512_bf16_kernels = AVX512_TABLE(ens_pointwise_bf16_avx512);

const ens_kernels *ens_kernels_avx512(void)
{
  return ens_pointwise_bf16_avx512 && ens_cpu_has_avx512_bf16() ? &avx512_bf16_kernels
                                                                : &avx512_kernels;
}
