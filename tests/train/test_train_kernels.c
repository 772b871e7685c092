/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_train_kernels.c - the training ops' CPU kernels against their reference loops:
 * depthwise forward (inference kernel with a zero bias), stride-1 input gradient (flipped
 * taps) and the AVX-512 weight gradient, 1x1 convolution forward / input gradient through the
 * inference pointwise kernel, over k 3/5, stride 1/2, odd sizes, channel tails,
 * long reductions. Per tensor max|fast - ref| <= 1e-5 * max|ref| (only FMA rounding and
 * summation order differ). Skips without AVX-512 (or with ENS_KERNELS=ref). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"
#include "kernels/kernels.h"
#include "train_check.h"
#include "train_kernels.h"

static void one(ens_threadpool *pool, int N, int H, int W, int C, int k, int s)
{
  int OH, OW, pt, pl;
  if (s == 1) {
    OH = H, OW = W, pt = pl = (k - 1) / 2;
  } else {
    OH = (H + s - 1) / s, OW = (W + s - 1) / s;
    int ph = (OH - 1) * s + k - H, pw = (OW - 1) * s + k - W;
    pt = ph > 0 ? ph / 2 : 0, pl = pw > 0 ? pw / 2 : 0;
  }
  size_t nx = (size_t)N * H * W * C, ny = (size_t)N * OH * OW * C, nw = (size_t)k * k * C;
  float *x = ens_test_randv(nx, 1), *w = ens_test_randv(nw, 1), *dy = ens_test_randv(ny, 1);
  float *zeros = calloc((size_t)C, 4), *wflip = malloc(nw * 4);
  float *y0 = malloc(ny * 4), *y1 = malloc(ny * 4), *dx0 = malloc(nx * 4), *dx1 = malloc(nx * 4);
  float *dw0 = malloc(nw * 4), *dw1 = malloc(nw * 4);
  ens_dw_shape ref = {N, H, W, C, OH, OW, k, s, pt, pl, NULL, NULL};
  ens_dw_shape fast = {N, H, W, C, OH, OW, k, s, pt, pl, zeros, wflip};
  dwconv_forward(pool, y0, x, w, &ref);
  dwconv_forward(pool, y1, x, w, &fast);
  dwconv_backward(pool, dx0, dw0, dy, x, w, &ref, 0);
  dwconv_backward(pool, dx1, dw1, dy, x, w, &fast, 0);
  char what[96];
  snprintf(what, sizeof what, "N%d %dx%d C%d k%d s%d forward", N, H, W, C, k, s);
  train_check_scaled(what, y1, y0, ny, 1e-5, 0, 1);
  snprintf(what, sizeof what, "N%d %dx%d C%d k%d s%d dx", N, H, W, C, k, s);
  train_check_scaled(what, dx1, dx0, nx, 1e-5, 0, 1);
  snprintf(what, sizeof what, "N%d %dx%d C%d k%d s%d dw", N, H, W, C, k, s);
  train_check_scaled(what, dw1, dw0, nw, 1e-5, 0, 1);
  free(x), free(w), free(dy), free(zeros), free(wflip), free(y0), free(y1), free(dx0), free(dx1);
  free(dw0), free(dw1);
}

/* 1x1 convolution: the pointwise kernel on packed weights vs OpenBLAS, y and dx */
static void pw(ens_threadpool *pool, int P, int cin, int cout)
{
  float *x = ens_test_randv((size_t)P * cin, 1), *w = ens_test_randv((size_t)cout * cin, 1);
  float *dy = ens_test_randv((size_t)P * cout, 1);
  float *y0 = malloc((size_t)P * cout * 4), *y1 = malloc((size_t)P * cout * 4);
  float *dx0 = malloc((size_t)P * cin * 4), *dx1 = malloc((size_t)P * cin * 4);
  float *dw0 = malloc((size_t)cout * cin * 4), *dw1 = malloc((size_t)cout * cin * 4);
  int m = cin > cout ? cin : cout;
  float *pack = malloc(ens_pw_packed_floats(m, m) * 4), *zeros = calloc((size_t)m, 4);
  ens_pw_scratch fast = {pack, zeros};
  conv1x1_forward(pool, y0, x, w, P, cin, cout, NULL);
  conv1x1_forward(pool, y1, x, w, P, cin, cout, &fast);
  conv1x1_backward(pool, dx0, dw0, dy, x, w, P, cin, cout, 0, NULL);
  conv1x1_backward(pool, dx1, dw1, dy, x, w, P, cin, cout, 0, &fast);
  char what[96];
  snprintf(what, sizeof what, "1x1 P%d %d->%d forward", P, cin, cout);
  train_check_scaled(what, y1, y0, (size_t)P * cout, 1e-5, 0, 1);
  snprintf(what, sizeof what, "1x1 P%d %d->%d dx", P, cin, cout);
  train_check_scaled(what, dx1, dx0, (size_t)P * cin, 1e-5, 0, 1);
  free(x), free(w), free(dy), free(y0), free(y1), free(dx0), free(dx1), free(dw0), free(dw1);
  free(pack), free(zeros);
}

int main(void)
{
  if (!ens_tg_use_avx512() || !ens_tg_dw_wgrad_avx512)
    ens_test_skip("no AVX-512 kernels on this machine (or ENS_KERNELS=ref)");
  ens_error err;
  ens_threadpool *pool;
  CHECK_OK(ens_threadpool_new(2, &pool, &err), &err);
  ens_test_seed(17);
  one(pool, 2, 7, 9, 37, 3, 1);
  one(pool, 2, 9, 7, 45, 5, 1);
  one(pool, 3, 8, 8, 16, 3, 2);
  one(pool, 2, 11, 10, 33, 5, 2);
  one(pool, 8, 32, 32, 48, 3, 1); /* 8192 products per weight: the double totals matter */
  one(pool, 4, 16, 16, 96, 5, 2);
  pw(pool, 333, 37, 50); /* panel tails on both sides */
  pw(pool, 4096, 96, 576);
  pw(pool, 64, 640, 10);
  ens_threadpool_free(pool);
  return ens_test_finish("train_kernels");
}
