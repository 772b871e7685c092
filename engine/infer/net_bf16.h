/* net_bf16.h - the reduced-precision (ENS_PRECISION_BF16) path (internal).
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

/* A [cin, cout] float32 matrix as bf16 pairs: w[(kk * np + co) * 2 + p] = bf16(W[2 kk + p, co])
 * for kk < kp = ceil(cin / 2), co < np = cout rounded up to 16; the padding is zero. So one
 * 64-byte load holds the (k, k + 1) pairs of 16 output channels, the operand vdpbf16ps wants. */
typedef struct {
  const uint16_t *w;
  int cin, cout, kp, np;
} ens_bf16_mat;

/* Widest cin the kernel takes (its converted row panel lives on the stack); EfficientNet's
 * widest 1x1 inputs (l2's last-stage projections) are under 10k channels. */
#define ENS_BF16_MAX_CIN 32768

/* The pointwise kernel of kernels.h with a->w replaced by the packed wb (a->w is not read). */
typedef void (*ens_pointwise_bf16_fn)(const ens_pw_args *a, const ens_bf16_mat *wb, int begin,
                                      int end);

typedef struct ens_net_bf16 {
  ens_bf16_mat *exp;  /* [num_blocks], .w NULL for DS blocks */
  ens_bf16_mat *proj; /* [num_blocks] */
  ens_bf16_mat head;
  uint16_t *data;    /* the single allocation behind every .w (huge_alloc.h) */
  size_t data_bytes; /* its size */
  ens_pointwise_bf16_fn pointwise;
} ens_net_bf16;

/* float32 -> bf16, round to nearest even (NaN stays NaN), as vcvtne2ps2bf16 does. */
uint16_t ens_f32_to_bf16(float x);

/* Packs W [cin, cout] (float32 column panels, kernels.h) into dst (ens_bf16_packed_size(cin, cout)
 * uint16) and fills *m. */
size_t ens_bf16_packed_size(int cin, int cout);
void ens_bf16_pack(const float *W, int cin, int cout, uint16_t *dst, ens_bf16_mat *m);

/* Nonzero when this build has the AVX512_BF16 kernel and the CPU can run it. */
int ens_bf16_available(void);

/* Packs every 1x1 convolution of net. ENS_ERR_UNSUPPORTED (with a message saying why) when
 * ens_bf16_available() is false. */
ens_status ens_net_bf16_new(const ens_net *net, ens_net_bf16 **out, ens_error *err);
void ens_net_bf16_free(ens_net_bf16 *b);

#endif
