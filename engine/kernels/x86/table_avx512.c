/* table_avx512.c - the AVX-512 kernel table. The CPU check is in kernels/dispatch.c, which is
 * compiled without AVX-512 flags, so nothing here runs on a CPU without AVX-512. */
#include "kernels_x86.h"

static const ens_kernels avx512_kernels = {
    .name = "avx512",
    .pointwise_split_invariant = 1,
    .pointwise = ens_pointwise_avx512,
    .depthwise = ens_depthwise_avx512,
    .stem = ens_stem_avx512,
    .scale_channels = ens_scale_channels_avx512,
};

const ens_kernels *ens_kernels_avx512(void)
{
  return &avx512_kernels;
}
