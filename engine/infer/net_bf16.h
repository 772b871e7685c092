/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* net_bf16.h - the reduced-precision (ENS_PRECISION_BF16) weights of a model (internal).
 *
 * A read-only extension of the model, packed once at load (options.precision BF16) and shared
 * by every bf16 session: packing per session would copy the weights once per stream. The
 * kernel that runs them is the kernel table's pointwise_bf16 (kernels.h).
 *
 * Only the 1x1 convolutions of the network (IR expansions, projections / DS conv_pw, conv_head:
 * ~64 % of the time) run in bf16: their weights are rounded to bf16 once at load and packed in
 * pairs of input channels, the activations are rounded to bf16 on the fly inside the kernel,
 * products are summed in float32 (AVX512_BF16 vdpbf16ps) and the epilogue (bias, SiLU,
 * residual) is the float32 one. Stem, depthwise, SE and the classifier stay float32. */
#ifndef ENS_NET_BF16_H
#define ENS_NET_BF16_H

#include <stdint.h>

#include "error.h"
#include "kernels/kernels.h"
#include "net.h"

typedef struct ens_net_bf16 {
  ens_bf16_mat *exp;  /* [num_blocks], .w NULL for DS blocks */
  ens_bf16_mat *proj; /* [num_blocks] */
  ens_bf16_mat head;
  uint16_t *data;    /* the single allocation behind every .w (huge_alloc.h) */
  size_t data_bytes; /* its size */
} ens_net_bf16;

/* Nonzero when the kernel table in use (ens_kernels_get()) has a bf16 kernel: the AVX512_BF16
 * one on a CPU that can run it, or the reference one under ENS_KERNELS=ref. */
int ens_bf16_available(void);

/* Packs every 1x1 convolution of net. ENS_ERR_UNSUPPORTED (with a message saying why) when
 * ens_bf16_available() is false. */
ens_status ens_net_bf16_new(const ens_net *net, ens_net_bf16 **out, ens_error *err);
void ens_net_bf16_free(ens_net_bf16 *b);

#endif
