/* table_avx512.c - the AVX-512 kernel table and the CPU check that guards it. */
#include "kernels_x86.h"

static const ens_kernels avx512_kernels = {
    .name = "avx512",
    .pointwise = ens_pointwise_avx512,
    .depthwise = ens_depthwise_avx512,
    .stem = ens_stem_avx512,
};

const ens_kernels *ens_kernels_avx512(void)
{
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("fma"))
    return &avx512_kernels;
  return 0;
}
