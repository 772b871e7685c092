/* dispatch.c - choosing the kernel table at run time. */
#include "kernels.h"

#include <stdlib.h>
#include <string.h>

/* perf: the AVX-512 table (engine/kernels/x86, built only on x86-64). Weak, so builds
 * without that library still link; it returns NULL when the CPU lacks AVX-512. */
const ens_kernels *ens_kernels_avx512(void) __attribute__((weak));

static const ens_kernels ref_kernels = {
    .name = "ref",
    .pointwise = ens_pointwise_ref,
    .depthwise = ens_depthwise_ref,
    .stem = ens_stem_ref,
};

const ens_kernels *ens_kernels_ref(void)
{
  return &ref_kernels;
}

const ens_kernels *ens_kernels_get(void)
{
  const char *force = getenv("ENS_KERNELS");
  if (force && strcmp(force, "ref") == 0)
    return &ref_kernels;
  /* perf: CPU-specific tables, best first. */
  if (ens_kernels_avx512) {
    const ens_kernels *k = ens_kernels_avx512();
    if (k)
      return k;
  }
  return &ref_kernels;
}
