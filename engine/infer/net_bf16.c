/* net_bf16.c - packing the 1x1 convolution weights for the bf16 path, and the CPU check
 * (this file is built without AVX-512 flags). */
#include "net_bf16.h"

#include <stdlib.h>
#include <string.h>

#include "huge_alloc.h"

/* engine/kernels/x86/pointwise_bf16_avx512.c; weak so builds without it still link. */
void ens_pointwise_bf16_avx512(const ens_pw_args *a, const ens_bf16_mat *wb, int begin, int end)
    __attribute__((weak));

int ens_cpu_has_avx512(void); /* kernels/dispatch.c */

uint16_t ens_f32_to_bf16(float x)
{
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) /* NaN: keep it a (quiet) NaN */
    return (uint16_t)((u >> 16) | 0x40);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

size_t ens_bf16_packed_size(int cin, int cout)
{
  return (size_t)((cin + 1) / 2) * ((cout + 15) & ~15) * 2;
}

void ens_bf16_pack(const float *W, int cin, int cout, uint16_t *dst, ens_bf16_mat *m)
{
  const int kp = (cin + 1) / 2, np = (cout + 15) & ~15;
  for (int kk = 0; kk < kp; kk++)
    for (int co = 0; co < np; co++)
      for (int p = 0; p < 2; p++) {
        const int k = 2 * kk + p;
        dst[((size_t)kk * np + co) * 2 + p] =
            k < cin && co < cout ? ens_f32_to_bf16(W[ens_pw_index(cin, k, co)]) : 0;
      }
  *m = (ens_bf16_mat){.w = dst, .cin = cin, .cout = cout, .kp = kp, .np = np};
}

int ens_bf16_available(void)
{
#if defined(__x86_64__)
  if (!ens_pointwise_bf16_avx512 || !ens_cpu_has_avx512())
    return 0;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512bf16");
#else
  return 0;
#endif
}

ens_status ens_net_bf16_new(const ens_net *net, ens_net_bf16 **out, ens_error *err)
{
  *out = NULL;
  if (!ens_bf16_available())
    return ens_fail(err, ENS_ERR_UNSUPPORTED,
                    "options: bf16 precision needs a CPU with AVX512_BF16 (and AVX-512F/BW/DQ/VL) "
                    "and a build with the x86 bf16 kernel; %s",
                    ens_pointwise_bf16_avx512 ? "this CPU does not report avx512bf16"
                                              : "this build does not have the kernel");
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
  nb->pointwise = ens_pointwise_bf16_avx512;
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
