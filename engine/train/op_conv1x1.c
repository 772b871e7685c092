/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op_conv1x1.c - bias-free 1x1 convolution on NHWC activations as GEMMs: OpenBLAS, or for y
 * and dx the inference engine's pointwise kernel (AVX-512) on freshly packed weights. The
 * weight gradient (a reduction over all pixels) always goes to OpenBLAS. */
#include "kernels/kernels.h"
#include "train_kernels.h"
#include "train_ops.h"

typedef struct {
  ens_pw_args a;
  ens_pointwise_fn fn;
} pw_ctx;

static void pw_rows(void *vctx, int r0, int r1)
{
  const pw_ctx *c = vctx;
  c->fn(&c->a, r0, r1);
}

/* out[P, n] = in[P, k] . B[k, n], B packed (ens_pw_index) */
static void pw_run(ens_threadpool *pool, float *out, const float *in, const float *packed,
                   const float *zeros, int P, int k, int n)
{
  pw_ctx c = {{0}, ens_kernels_get()->pointwise};
  c.a.in = (float *)in; /* not written: no se scaling */
  c.a.w = packed;
  c.a.bias = zeros;
  c.a.out = out;
  c.a.rows = P;
  c.a.cin = k;
  c.a.cout = n;
  c.a.rows_per_image = P;
  c.a.act = ENS_ACT_NONE;
  ens_tg_parallel(pool, P, pw_rows, &c);
}

/* y[P,Cout] = x[P,Cin] . w[Cout,Cin]^T */
void conv1x1_forward(ens_threadpool *pool, float *y, const float *x, const float *w, int P, int cin,
                     int cout, const ens_pw_scratch *fast)
{
  if (fast && ens_tg_use_avx512()) {
    /* B[ci, co] = w[co, ci]; the last panel's padding columns are zero */
    int padded = (cout + ENS_PW_PANEL - 1) / ENS_PW_PANEL * ENS_PW_PANEL;
    for (int co = 0; co < padded; co++)
      for (int ci = 0; ci < cin; ci++)
        fast->pack[ens_pw_index(cin, ci, co)] = co < cout ? w[(size_t)co * cin + ci] : 0.0f;
    pw_run(pool, y, x, fast->pack, fast->zeros, P, cin, cout);
    return;
  }
  ens_tg_gemm(pool, 0, 1, P, cout, cin, x, cin, w, cin, 0.0f, y, cout);
}

/* dw[Cout,Cin] = dy[P,Cout]^T . x[P,Cin];  dx[P,Cin] = dy[P,Cout] . w[Cout,Cin] */
void conv1x1_backward(ens_threadpool *pool, float *dx, float *dw, const float *dy, const float *x,
                      const float *w, int P, int cin, int cout, int accumulate,
                      const ens_pw_scratch *fast)
{
  ens_tg_gemm(pool, 1, 0, cout, cin, P, dy, cout, x, cin, 0.0f, dw, cin);
  if (!dx)
    return;
  if (fast && !accumulate && ens_tg_use_avx512()) {
    ens_pw_pack(w, cout, cin, fast->pack); /* B = w as row-major [cout, cin] */
    pw_run(pool, dx, dy, fast->pack, fast->zeros, P, cout, cin);
    return;
  }
  ens_tg_gemm(pool, 0, 0, P, cin, cout, dy, cout, w, cin, accumulate ? 1.0f : 0.0f, dx, cin);
}
