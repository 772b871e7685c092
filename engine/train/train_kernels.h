/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_kernels.h - CPU-specific micro-kernels of the training ops (internal). Each has the
 * reference loop in the op's file as its contract and is tested against it
 * (tests/train/test_train_kernels.c). Declared weak: absent when the compiler cannot build
 * AVX-512; callers check the symbol and ens_tg_use_avx512(). */
#ifndef ENS_TRAIN_KERNELS_H
#define ENS_TRAIN_KERNELS_H

#include "train_ops.h"

/* Nonzero when the inference kernel table in use is the AVX-512 one (CPU has it and
 * ENS_KERNELS does not force "ref"): the training ops then use their AVX-512 kernels too. */
int ens_tg_use_avx512(void);

/* Depthwise weight gradient for 16-channel blocks [b0, b1) (same contract as the reference:
 * dw[t, c] = sum over n, oh of (float row sum over ow of dy * x), totals in double). */
void ens_tg_dw_wgrad_avx512(const ens_dw_shape *sh, const float *dy, const float *x, float *dw,
                            int b0, int b1) __attribute__((weak));

#endif
