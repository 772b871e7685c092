/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* net_bf16.c - packing a model's 1x1 convolution weights for bf16 sessions. */
#include "net_bf16.h"

#include <stdlib.h>
#include <string.h>

#include "huge_alloc.h"

int ens_bf16_available(void)
{
  return ens_kernels_get()->pointwise_bf16 != NULL;
}

ens_status ens_net_bf16_new(const ens_net *net, ens_net_bf16 **out, ens_error *err)
{
  *out = NULL;
  if (!ens_bf16_available())
    return ens_fail(err, ENS_ERR_UNSUPPORTED,
                    "options: bf16 precision needs a CPU with AVX512_BF16 (and AVX-512F/BW/DQ/VL) "
                    "and a build with the x86 bf16 kernel (ENS_KERNELS=ref runs the slow "
                    "reference one); kernels in use: %s",
                    ens_kernels_get()->name);
  size_t total = ens_bf16_packed_size(net->head_in, net->head_chs);
  int widest = net->head_in;
  for (int i = 0; i < net->num_blocks; i++) {
    const ens_block *b = &net->blocks[i];
    widest = b->in_chs > widest ? b->in_chs : widest;
    widest = b->mid_chs > widest ? b->mid_chs : widest;
    if (b->type == ENS_BLOCK_IR)
      total += ens_bf16_packed_size(b->in_chs, b->mid_chs);
    total += ens_bf16_packed_size(b->mid_chs, b->out_chs);
  }
  if (widest > ENS_BF16_MAX_CIN)
    return ens_fail(err, ENS_ERR_UNSUPPORTED,
                    "options: bf16 precision supports 1x1 convolutions of up to %d input "
                    "channels, this model has %d",
                    ENS_BF16_MAX_CIN, widest);
  ens_net_bf16 *nb = calloc(1, sizeof *nb);
  if (nb) {
    nb->exp = calloc((size_t)net->num_blocks + 1, sizeof *nb->exp);
    nb->proj = calloc((size_t)net->num_blocks + 1, sizeof *nb->proj);
  }
  if (nb) {
    nb->data_bytes = sizeof(uint16_t) * (total ? total : 1);
    nb->data = ens_huge_alloc(nb->data_bytes); /* streamed like the float32 weights */
  }
  if (!nb || !nb->exp || !nb->proj || !nb->data) {
    ens_net_bf16_free(nb);
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory for %zu MB of bf16 weights",
                    sizeof(uint16_t) * total >> 20);
  }
  uint16_t *p = nb->data;
  for (int i = 0; i < net->num_blocks; i++) {
    const ens_block *b = &net->blocks[i];
    if (b->type == ENS_BLOCK_IR) {
      ens_bf16_pack(b->exp_w, b->in_chs, b->mid_chs, p, &nb->exp[i]);
      p += ens_bf16_packed_size(b->in_chs, b->mid_chs);
    }
    ens_bf16_pack(b->proj_w, b->mid_chs, b->out_chs, p, &nb->proj[i]);
    p += ens_bf16_packed_size(b->mid_chs, b->out_chs);
  }
  ens_bf16_pack(net->head_w, net->head_in, net->head_chs, p, &nb->head);
  *out = nb;
  return ENS_OK;
}

void ens_net_bf16_free(ens_net_bf16 *b)
{
  if (!b)
    return;
  free(b->exp);
  free(b->proj);
  ens_huge_free(b->data, b->data_bytes);
  free(b);
}
