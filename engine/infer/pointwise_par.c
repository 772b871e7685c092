/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pointwise_par.c - 1x1 convolutions split over the thread pool: by rows, by output columns
 * (few rows), or by rows with per-image weights (squeeze-excitation folded into weights). */
#include "forward.h"

const ens_bf16_mat *ens_fwd_bf16_w(const ens_exec *x, const ens_block *b, int which)
{
  if (!x->bf16)
    return NULL;
  if (!b)
    return &x->bf16->head;
  const ptrdiff_t i = b - x->net->blocks;
  return which ? &x->bf16->proj[i] : &x->bf16->exp[i];
}

void ens_fwd_pw_rows(const ens_exec *x, const ens_pw_args *a, const ens_bf16_mat *wb, int begin,
                     int end)
{
  if (wb)
    x->kernels->pointwise_bf16(a, wb, begin, end);
  else
    x->kernels->pointwise(a, begin, end);
}

/* Part [num0, num1) of den of a split 1x1 conv prefetches that share of each of the call's
 * prefetch ranges (on cache-line boundaries). */
static void prefetch_share(ens_pw_args *part, long long num0, long long num1, long long den)
{
  for (int i = 0; i < ENS_PW_PREFETCH; i++) {
    const size_t lines = part->prefetch_bytes[i] / 64;
    const size_t l0 = (size_t)(lines * num0 / den), l1 = (size_t)(lines * num1 / den);
    if (part->prefetch[i])
      part->prefetch[i] = (const char *)part->prefetch[i] + 64 * l0;
    part->prefetch_bytes[i] = 64 * (l1 - l0);
  }
}

typedef struct {
  const ens_exec *x;
  const ens_pw_args *args;
  const ens_bf16_mat *wb;
  void (*ranges)(const void *user, int c0, int c1, ens_pw_args *part);
  const void *user;
} pw_job;

/* A parallel 1x1 convolution job (see ens_kernels.pointwise_split_invariant). */
static void run_pointwise_job(const ens_exec *x, int n, ens_range_fn fn, void *ctx)
{
  if (x->kernels->pointwise_split_invariant)
    ens_threadpool_run(x->pool, n, fn, ctx);
  else
    ens_threadpool_run_fixed(x->pool, n, fn, ctx);
}

static void run_pw(void *ctx, int b, int e)
{
  const pw_job *j = ctx;
  ens_pw_args part = *j->args;
  prefetch_share(&part, b, e, part.rows);
  ens_fwd_pw_rows(j->x, &part, j->wb, b, e);
}

static void run_pw_cols(void *ctx, int b, int e)
{
  const pw_job *j = ctx;
  ens_pw_args part = *j->args;
  part.col_begin = b * ENS_COL_UNIT;
  part.col_end = e * ENS_COL_UNIT < part.cout ? e * ENS_COL_UNIT : part.cout;
  if (j->ranges)
    j->ranges(j->user, part.col_begin, part.col_end, &part);
  else
    prefetch_share(&part, b, e, (part.cout + ENS_COL_UNIT - 1) / ENS_COL_UNIT);
  ens_fwd_pw_rows(j->x, &part, j->wb, 0, part.rows);
}

void ens_fwd_pointwise(const ens_exec *x, const ens_pw_args *a, const ens_bf16_mat *wb,
                       void (*ranges)(const void *user, int c0, int c1, ens_pw_args *part),
                       const void *user)
{
  pw_job j = {x, a, wb, ranges, user};
  if (!a->se && ens_plan_split_by_columns(x->plan->threads, a->rows, a->cout))
    /* One range of columns per thread: cut finer, ranges would split weight panels and
     * leave one- and two-vector micro-tiles (b0's 7x7 projections: ~10 % slower). */
    ens_threadpool_run_fixed(x->pool, (a->cout + ENS_COL_UNIT - 1) / ENS_COL_UNIT, run_pw_cols, &j);
  else
    run_pointwise_job(x, a->rows, run_pw, &j);
}

typedef struct {
  const ens_exec *x;
  const ens_pw_args *args;
  const float *w0;
  size_t w_size;
} pw_image_job;

/* A range of rows is cut at image boundaries. */
static void run_pw_per_image(void *ctx, int b, int e)
{
  const pw_image_job *j = ctx;
  const int rpi = j->args->rows_per_image;
  ens_pw_args part = *j->args;
  prefetch_share(&part, b, e, part.rows);
  for (int r = b; r < e;) {
    const int img = r / rpi, stop = (img + 1) * rpi < e ? (img + 1) * rpi : e;
    part.w = j->w0 + (size_t)img * j->w_size;
    j->x->kernels->pointwise(&part, r, stop);
    r = stop;
  }
}

void ens_fwd_pointwise_per_image(const ens_exec *x, const ens_pw_args *a, const float *w0,
                                 size_t w_size)
{
  pw_image_job j = {x, a, w0, w_size};
  run_pointwise_job(x, a->rows, run_pw_per_image, &j);
}
