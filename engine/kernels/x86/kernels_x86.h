/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernels_x86.h - the AVX-512 kernel table (internal). Built with -mavx512f -mavx512bw
 * -mavx512dq -mavx512vl -mfma; dispatch.c selects it only when the CPU has AVX-512F/BW/DQ/VL
 * and FMA. Same contracts as the reference kernels (kernels.h). */
#ifndef ENS_KERNELS_X86_H
#define ENS_KERNELS_X86_H

#include "../kernels.h"

void ens_pointwise_avx512(const ens_pw_args *a, int begin, int end);
void ens_depthwise_avx512(const ens_dw_args *a, int begin, int end);
void ens_stem_avx512(const ens_stem_args *a, int begin, int end);
void ens_scale_channels_avx512(float *x, size_t stride, int rows, const float *s, int c0, int c1);

/* The AVX-512 table (with the bf16 kernel when the build has it and the CPU can run it).
 * Call only when ens_cpu_has_avx512() says the CPU can run it. */
const ens_kernels *ens_kernels_avx512(void);

/* Nonzero when the CPU has AVX-512F/BW/DQ/VL and FMA (defined in kernels/dispatch.c, which is
 * built without AVX-512 flags). */
int ens_cpu_has_avx512(void);
/* ... and AVX512_BF16 as well. */
int ens_cpu_has_avx512_bf16(void);

#endif
