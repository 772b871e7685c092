/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dispatch.c - choosing the kernel table at run time. */
#include "kernels.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

extern void openblas_set_num_threads(int num_threads);

/* perf: the AVX-512 table (engine/kernels/x86, built only on x86-64). Weak, so builds
 * without that library still link. */
const ens_kernels *ens_kernels_avx512(void) __attribute__((weak));

/* perf: checked here, in a file built without AVX-512 flags. */
int ens_cpu_has_avx512(void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}

/* perf: the bf16 kernel (vdpbf16ps) on top of the AVX-512 table. */
int ens_cpu_has_avx512_bf16(void)
{
#if defined(__x86_64__) || defined(__i386__)
  return ens_cpu_has_avx512() && __builtin_cpu_supports("avx512bf16");
#else
  return 0;
#endif
}

static const ens_kernels ref_kernels = {
    .name = "ref",
    .pointwise = ens_pointwise_ref,
    .depthwise = ens_depthwise_ref,
    .stem = ens_stem_ref,
    .scale_channels = ens_scale_channels_ref,
    .pointwise_bf16 = ens_pointwise_bf16_ref,
};

static void openblas_one_thread(void)
{
  openblas_set_num_threads(1);
}

const ens_kernels *ens_kernels_ref(void)
{
  /* once per process: sessions may be created from several threads at once */
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, openblas_one_thread);
  return &ref_kernels;
}

const ens_kernels *ens_kernels_get(void)
{
  const char *force = getenv("ENS_KERNELS");
  if (force && strcmp(force, "ref") == 0)
    return ens_kernels_ref();
  /* perf: CPU-specific tables, best first. */
  if (ens_kernels_avx512 && ens_cpu_has_avx512())
    return ens_kernels_avx512();
  return ens_kernels_ref();
}
