/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_ops.h - forward / backward pairs of the EfficientNet training ops (internal).
 *
 * Activations are NHWC, i.e. row-major [P, C] with P = N*H*W pixels. Backward functions
 * OVERWRITE parameter gradients (one backward per step; no accumulation across calls).
 * pool may be NULL (everything on the calling thread). Work is split with
 * ens_threadpool_run_fixed, so a given thread count always gives bit-identical results;
 * reductions over the batch (BN statistics, weight gradients) are split by channel, never by
 * pixel, so they do not depend on the thread count either; the GEMM row split may change the
 * last bits of OpenBLAS results between different thread counts. */
#ifndef ENS_TRAIN_OPS_H
#define ENS_TRAIN_OPS_H

#include <stddef.h>

#include "threadpool.h"

/* Hot loops get an AVX-512 clone chosen at load time where the CPU has it (gcc ifunc). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ENS_TG_CLONES __attribute__((target_clones("avx512f", "default")))
#else
#define ENS_TG_CLONES
#endif

/* Runs fn over [0, n) split over the pool's threads (fixed split), or inline without pool. */
void ens_tg_parallel(ens_threadpool *pool, int n, ens_range_fn fn, void *ctx);

/* ---- GEMM (row-major, cblas semantics), rows of C split over the pool:
 * C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C. */
void ens_tg_gemm(ens_threadpool *pool, int trans_a, int trans_b, int M, int N, int K,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* ---- 1x1 convolution, weight in timm layout w[Cout, Cin] (bias-free).
 * fast (may be NULL: OpenBLAS only) lends scratch to the inference engine's pointwise kernel,
 * used for y and dx when the AVX-512 kernel table is active: pack holds
 * ens_pw_packed_floats(max(cin, cout), max(cin, cout)) floats, zeros max(cin, cout) zeros. */
typedef struct {
  float *pack;
  const float *zeros;
} ens_pw_scratch;
/* y[P,Cout] = x[P,Cin] . w^T */
void conv1x1_forward(ens_threadpool *pool, float *y, const float *x, const float *w, int P, int cin,
                     int cout, const ens_pw_scratch *fast);
/* dw[Cout,Cin] = dy^T . x;  dx[P,Cin] = dy . w (+ dx if accumulate; dx may be NULL) */
void conv1x1_backward(ens_threadpool *pool, float *dx, float *dw, const float *dy, const float *x,
                      const float *w, int P, int cin, int cout, int accumulate,
                      const ens_pw_scratch *fast);

/* ---- stem: 3x3 stride-2 conv over 3 input channels with TF-SAME pads (pt, pl before; the
 * pads after are implied by the output size). Weight timm w[Cout, 3*3*3] (ci, kh, kw).
 * col[N*OH*OW, 27] is the im2col buffer kept for backward. x: NHWC [N,H,W,3]. */
void stem_forward(ens_threadpool *pool, float *y, float *col, const float *x, const float *w, int N,
                  int H, int W, int OH, int OW, int pt, int pl, int cout);
/* dw = dy^T . col; if dx: dcol = dy . w (scratch, [P, 27]) folded back to dx [N,H,W,3]. */
void stem_backward(ens_threadpool *pool, float *dx, float *dcol, float *dw, const float *dy,
                   const float *col, const float *w, int N, int H, int W, int OH, int OW, int pt,
                   int pl, int cout);

/* ---- depthwise kxk conv, stride s, pads pt/pl before (SAME). Weight tap-major w[k*k, C].
 * x [N,H,W,C] -> y [N,OH,OW,C]. */
#define ENS_DW_MAX_K 7
typedef struct {
  int N, H, W, C, OH, OW, k, s, pt, pl; /* k <= ENS_DW_MAX_K */
  /* Optional scratch for the CPU kernels (NULL: reference loops only): zeros [C] (a zero
   * bias for the inference depthwise kernel), wflip [k*k, C] (flipped taps for dx). */
  const float *zeros;
  float *wflip;
} ens_dw_shape;
void dwconv_forward(ens_threadpool *pool, float *y, const float *x, const float *w,
                    const ens_dw_shape *sh);
/* dw[k*k,C] = sum dy * x (shifted); dx = sum w * dy (gather; + dx if accumulate). */
void dwconv_backward(ens_threadpool *pool, float *dx, float *dw, const float *dy, const float *x,
                     const float *w, const ens_dw_shape *sh, int accumulate);

/* ---- BatchNorm over [P, C] (eps given; timm tf models use 1e-3). */
/* Train mode: batch statistics (biased var to normalise). Saves mean, invstd = 1/sqrt(var+eps)
 * and the biased var; updates running_mean / running_var (unbiased) with momentum. */
void batchnorm_train_forward(ens_threadpool *pool, float *y, float *mean, float *invstd, float *var,
                             const float *x, const float *gamma, const float *beta,
                             float *running_mean, float *running_var, int P, int C, float eps,
                             float momentum);
/* Eval mode: running statistics. */
void batchnorm_eval_forward(ens_threadpool *pool, float *y, const float *x, const float *gamma,
                            const float *beta, const float *running_mean, const float *running_var,
                            int P, int C, float eps);
/* dgamma = sum dy*xhat, dbeta = sum dy, dx = gamma*invstd*(dy - mean(dy) - xhat*mean(dy*xhat)).
 * dx may equal dy (in place). */
void batchnorm_backward(ens_threadpool *pool, float *dx, float *dgamma, float *dbeta,
                        const float *dy, const float *x, const float *mean, const float *invstd,
                        const float *gamma, int P, int C);

/* ---- SiLU: y = x * sigmoid(x) over n values; backward dx = dy * s * (1 + x * (1 - s)),
 * dx may equal dy. */
void silu_forward(ens_threadpool *pool, float *y, const float *x, size_t n);
void silu_backward(ens_threadpool *pool, float *dx, const float *dy, const float *x, size_t n);

/* ---- squeeze-excite on a [N, HW, C]: m = mean_hw(a) [N,C]; r = m.wr^T + br [N,rd];
 * ra = silu(r); e = ra.we^T + be [N,C]; g = sigmoid(e); y = a * g. wr [rd,C], we [C,rd]. */
typedef struct {
  float *m, *r, *ra, *g; /* saved for backward: [N,C], [N,rd], [N,rd], [N,C] */
  float *de, *dr;        /* backward scratch: [N,C], [N,rd] */
  double *acc;           /* scratch: [N,C] doubles */
} ens_se_saved;
void se_forward(ens_threadpool *pool, float *y, const ens_se_saved *sv, const float *a,
                const float *wr, const float *br, const float *we, const float *be, int N, int HW,
                int C, int rd);
/* da may equal dy. */
void se_backward(ens_threadpool *pool, float *da, float *dwr, float *dbr, float *dwe, float *dbe,
                 const float *dy, const float *a, const ens_se_saved *sv, const float *wr,
                 const float *we, int N, int HW, int C, int rd);

/* ---- residual with per-sample drop-path: y = shortcut + mask[n] * branch ([N, HW*C]).
 * mask NULL = all ones. y may equal branch. */
void residual_forward(float *y, const float *shortcut, const float *branch, const float *mask,
                      int N, size_t per_sample);
/* dbranch = mask[n] * dy (in place allowed); the shortcut gradient is dy itself. */
void residual_backward_branch(float *dbranch, const float *dy, const float *mask, int N,
                              size_t per_sample);

/* ---- global average pool [N, HW, C] -> [N, C]; backward broadcasts dy / HW. */
void avgpool_forward(float *y, const float *x, int N, int HW, int C);
void avgpool_backward(float *dx, const float *dy, int N, int HW, int C);

/* ---- dropout with a given mask (0 or 1/keep per element): y = x * mask; dx = dy * mask. */
void dropout_forward(float *y, const float *x, const float *mask, size_t n);
void dropout_backward(float *dx, const float *dy, const float *mask, size_t n);

/* ---- Linear: y[N,K] = x[N,F] . w[K,F]^T + b. */
void linear_forward(float *y, const float *x, const float *w, const float *b, int N, int F, int K);
/* dw = dy^T . x, db = sum_n dy, dx = dy . w (dx may be NULL). */
void linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                     const float *w, int N, int F, int K);

/* ---- soft-target cross-entropy with label smoothing: ts = (1-eps)*t + eps/K,
 * loss = mean_n sum_k -ts * log_softmax(z). Returns the loss; dz = (softmax(z) - ts) / N
 * (dz may be NULL). */
float softmax_xent_forward_backward(float *dz, const float *z, const float *t, int N, int K,
                                    float smoothing);

#endif
