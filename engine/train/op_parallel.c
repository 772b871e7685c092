/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* op_parallel.c - the fixed-split parallel loop and the row-split GEMM of the training ops. */
#include <cblas.h>

#include "train_ops.h"

void ens_tg_parallel(ens_threadpool *pool, int n, ens_range_fn fn, void *ctx)
{
  if (n <= 0)
    return;
  if (!pool || ens_threadpool_threads(pool) <= 1 || n == 1)
    fn(ctx, 0, n);
  else
    ens_threadpool_run_fixed(pool, n, fn, ctx);
}

typedef struct {
  int ta, tb, N, K, lda, ldb, ldc;
  const float *A, *B;
  float beta, *C;
} gemm_ctx;

static void gemm_rows(void *vctx, int m0, int m1)
{
  const gemm_ctx *c = vctx;
  /* rows m0..m1 of op(A): NoTrans A is [M,K] (row offset), Trans A is [K,M] (column offset) */
  const float *a = c->ta ? c->A + m0 : c->A + (size_t)m0 * c->lda;
  cblas_sgemm(CblasRowMajor, c->ta ? CblasTrans : CblasNoTrans, c->tb ? CblasTrans : CblasNoTrans,
              m1 - m0, c->N, c->K, 1.0f, a, c->lda, c->B, c->ldb, c->beta,
              c->C + (size_t)m0 * c->ldc, c->ldc);
}

typedef struct {
  int ta, tb, M, K, lda, ldb, ldc;
  const float *A, *B;
  float beta, *C;
} gemm_cols_ctx;

static void gemm_cols(void *vctx, int n0, int n1)
{
  const gemm_cols_ctx *c = vctx;
  /* columns n0..n1 of op(B): NoTrans B is [K,N] (column offset), Trans B is [N,K] (row) */
  const float *b = c->tb ? c->B + (size_t)n0 * c->ldb : c->B + n0;
  cblas_sgemm(CblasRowMajor, c->ta ? CblasTrans : CblasNoTrans, c->tb ? CblasTrans : CblasNoTrans,
              c->M, n1 - n0, c->K, 1.0f, c->A, c->lda, b, c->ldb, c->beta, c->C + n0, c->ldc);
}

void ens_tg_gemm(ens_threadpool *pool, int trans_a, int trans_b, int M, int N, int K,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
  gemm_ctx c = {trans_a, trans_b, N, K, lda, ldb, ldc, A, B, beta, C};
  /* Splitting small products costs more than it saves; the cut depends only on the shape:
   * rows of C when there are enough, else columns (weight gradients of narrow layers, e.g.
   * 16 x 96 summed over 200k pixels, have few rows). */
  double flops = 2.0 * M * N * K;
  if (flops < 2e6 || (M < 32 && N < 32)) {
    gemm_rows(&c, 0, M);
  } else if (M >= 32) {
    ens_tg_parallel(pool, M, gemm_rows, &c);
  } else {
    gemm_cols_ctx cc = {trans_a, trans_b, M, K, lda, ldb, ldc, A, B, beta, C};
    ens_tg_parallel(pool, N, gemm_cols, &cc);
  }
}
