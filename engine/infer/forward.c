/* forward.c - timm's eval-mode tf_efficientnet as a fixed sequence of kernel calls over the
 * arena (NHWC activations; see net.h). */
#include "net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "huge_alloc.h"
#include "net_bf16.h"

/* ------------------------------------------------------------------ arena planning */

typedef struct {
  size_t act, mid, dw, row_sums, se_mid, se_hidden, se_w, pooled;
  size_t band; /* largest band buffer of a fused block, in floats */
} arena_sizes;

/* Rounds a float count up to a 64-byte multiple so every buffer stays aligned. */
static size_t pad16(size_t n)
{
  return (n + 15) & ~(size_t)15;
}

static size_t max_sz(size_t a, size_t b)
{
  return a > b ? a : b;
}

/* Squeeze-excitation runs in two parallel regions so that each thread streams only part of
 * the SE weights (at batch 1 they come from memory, ~0.4 MB per late b0 block):
 *   reduce: per image and group of SE_GROUP channels, the channel means (from the depthwise
 *           row sums) times their rows of the reduce conv: a partial hidden layer;
 *   expand: per image and part (one per thread), the sum of the partials in group order, plus
 *           bias and SiLU, then the expand conv and sigmoid for the part's channels.
 * The groups do not depend on the thread count, so neither does the result. */
#define SE_GROUP 64

static int se_groups(const ens_block *b)
{
  return (b->mid_chs + SE_GROUP - 1) / SE_GROUP;
}

/* Whether a block's SE gate may be folded into its projection weights (SE_ON_WEIGHTS, see
 * se_mode): for images with 4x more rows than the projection has (padded) outputs. Also sizes
 * the arena's copies of those weights, so the large late blocks of big variants cost nothing. */
static int se_fold_into_weights(const ens_block *b, int oh, int ow)
{
  return (size_t)oh * ow > 4 * ens_pw_packed_floats(1, b->out_chs);
}

/* Expansion fused into the depthwise, in row bands: an IR block whose expanded image is
 * larger than FUSE_BYTES (b0: the 112x112 and 56x56 blocks) does not write the whole
 * expanded tensor and read it back from L3 / DRAM. Each thread takes a contiguous range of
 * output rows and walks it in bands: it expands just the input rows the band's depthwise reads
 * into its own band buffer in mid (~BAND_BYTES, so it stays in L2), keeping the k - s rows
 * it shares with the previous band, and runs the depthwise on that band. One parallel region
 * instead of two, and the same kernels on the same rows, so the result is bit-identical.
 * Thread t's band buffer is at mid + t * band_stride for every fused block: at a per-block
 * offset (it used to be a fraction of that block's expanded image) a thread wrote its bands
 * to lines it had not touched since the previous forward, which came from L3 / DRAM (b0 batch
 * 1, 2 threads: the second thread took 10-40 % longer than the first on those blocks). */
#define FUSE_BYTES (1u << 20)
#define BAND_BYTES (384u << 10)

static int fusable(const ens_block *b, int h, int w)
{
  return b->type == ENS_BLOCK_IR && sizeof(float) * w * b->mid_chs * h > FUSE_BYTES &&
         b->k >= b->stride;
}

/* Input rows per band of a fused block (at least the k rows one output row reads). */
static size_t band_rows(const ens_block *b, int w)
{
  const size_t rows = BAND_BYTES / sizeof(float) / ((size_t)w * b->mid_chs);
  return rows > (size_t)b->k ? rows : (size_t)b->k;
}

static void plan(const ens_net *net, int n, int ih, int iw, int threads, arena_sizes *z)
{
  memset(z, 0, sizeof *z);
  int pa, pb;
  int h = ens_same_pad(ih, 3, 2, &pa, &pb), w = ens_same_pad(iw, 3, 2, &pa, &pb);
  z->act = (size_t)n * h * w * net->stem_chs;
  for (int i = 0; i < net->num_blocks; i++) {
    const ens_block *b = &net->blocks[i];
    const size_t in_pixels = (size_t)n * h * w;
    if (b->type == ENS_BLOCK_IR)
      z->mid = max_sz(z->mid, in_pixels * b->mid_chs);
    if (fusable(b, h, w))
      z->band = max_sz(z->band, band_rows(b, w) * w * b->mid_chs);
    int oh = ens_same_pad(h, b->k, b->stride, &pa, &pb);
    int ow = ens_same_pad(w, b->k, b->stride, &pa, &pb);
    z->dw = max_sz(z->dw, (size_t)n * oh * ow * b->mid_chs);
    z->row_sums = max_sz(z->row_sums, (size_t)n * oh * b->mid_chs);
    z->se_mid = max_sz(z->se_mid, (size_t)n * b->mid_chs);
    if (se_fold_into_weights(b, oh, ow))
      z->se_w = max_sz(z->se_w, (size_t)n * ens_pw_packed_floats(b->mid_chs, b->out_chs));
    z->se_hidden = max_sz(z->se_hidden, (size_t)n * (se_groups(b) + threads) * b->se_chs);
    z->act = max_sz(z->act, (size_t)n * oh * ow * b->out_chs);
    h = oh;
    w = ow;
  }
  z->mid = max_sz(z->mid, (size_t)n * h * w * net->head_chs);
  z->mid = max_sz(z->mid, (size_t)threads * pad16(z->band));
  z->pooled = (size_t)n * net->head_chs;
}

ens_status ens_arena_reserve(ens_arena *a, const ens_net *net, int batch, int ih, int iw,
                             int threads, ens_error *err)
{
  if (a->base && batch <= a->batch && ih == a->ih && iw == a->iw && threads == a->threads)
    return ENS_OK;
  if (batch < a->batch && a->base)
    batch = a->batch; /* never shrink the batch we are planned for */
  arena_sizes z;
  plan(net, batch, ih, iw, threads, &z);
  const size_t total = 2 * pad16(z.act) + pad16(z.mid) + pad16(z.dw) + pad16(z.row_sums) +
                       pad16(z.se_mid) + pad16(z.se_hidden) + pad16(z.se_w) + pad16(z.pooled);
  float *base = ens_huge_alloc(sizeof(float) * total);
  if (!base)
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory planning %zu MB of activations for batch %d",
                    sizeof(float) * total >> 20, batch);
  ens_huge_free(a->base, sizeof(float) * a->floats);
  a->base = base;
  a->floats = total;
  a->batch = batch;
  a->ih = ih;
  a->iw = iw;
  a->threads = threads;
  a->band_stride = pad16(z.band);
  float *p = base;
  a->act[0] = p, p += pad16(z.act);
  a->act[1] = p, p += pad16(z.act);
  a->mid = p, p += pad16(z.mid);
  a->dw = p, p += pad16(z.dw);
  a->row_sums = p, p += pad16(z.row_sums);
  a->se_scale = p, p += pad16(z.se_mid);
  a->se_hidden = p, p += pad16(z.se_hidden);
  a->se_w = p, p += pad16(z.se_w);
  a->pooled = p;
  return ENS_OK;
}

void ens_arena_free(ens_arena *a)
{
  ens_huge_free(a->base, sizeof(float) * a->floats);
  memset(a, 0, sizeof *a);
}

/* ------------------------------------------------------------------ parallel kernel calls */

typedef struct {
  const ens_kernels *k;
  const void *args;
} job;

/* The packed bf16 weights of a 1x1 convolution when the model runs in bf16 (net_bf16.h),
 * else NULL. which: 0 = expansion, 1 = projection of block b; b == NULL: conv_head. */
static const ens_bf16_mat *bf16_w(const ens_exec *x, const ens_block *b, int which)
{
  if (!x->bf16)
    return NULL;
  if (!b)
    return &x->bf16->head;
  const ptrdiff_t i = b - x->net->blocks;
  return which ? &x->bf16->proj[i] : &x->bf16->exp[i];
}

/* Rows [begin, end) of a 1x1 convolution: float32 kernel, or the bf16 one when wb != NULL. */
static void pw_rows(const ens_exec *x, const ens_pw_args *a, const ens_bf16_mat *wb, int begin,
                    int end)
{
  if (wb)
    x->bf16->pointwise(a, wb, begin, end);
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

/* ranges (optional): sets the prefetch ranges of the part computing output columns [c0, c1)
 * of a column split, when it should prefetch something other than its share of args'. */
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
  pw_rows(j->x, &part, j->wb, b, e);
}

static void run_dw(void *ctx, int b, int e)
{
  job *j = ctx;
  j->k->depthwise(j->args, b, e);
}

static void run_stem(void *ctx, int b, int e)
{
  job *j = ctx;
  j->k->stem(j->args, b, e);
}

/* A 1x1 conv whose weights differ per image (SE_ON_WEIGHTS): image i's weights are at
 * w0 + i * w_size; a range of rows is cut at image boundaries. */
typedef struct {
  const ens_exec *x;
  const ens_pw_args *args;
  const float *w0;
  size_t w_size;
} pw_image_job;

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

/* Output columns per work item of a column split (the kernels' column ranges start on a
 * multiple of 16). */
#define COL_UNIT 16

static void run_pw_cols(void *ctx, int b, int e)
{
  const pw_job *j = ctx;
  ens_pw_args part = *j->args;
  part.col_begin = b * COL_UNIT;
  part.col_end = e * COL_UNIT < part.cout ? e * COL_UNIT : part.cout;
  if (j->ranges)
    j->ranges(j->user, part.col_begin, part.col_end, &part);
  else
    prefetch_share(&part, b, e, (part.cout + COL_UNIT - 1) / COL_UNIT);
  pw_rows(j->x, &part, j->wb, 0, part.rows);
}

/* A 1x1 convolution with fewer than COL_SPLIT_ROWS rows per thread (b0 at batch 1: the 7x7
 * blocks, conv_head, the classifier) is split across threads by output columns instead of
 * rows: split by rows, every thread would stream the whole weight matrix (up to 5 MB) for a
 * few micro-tiles; split by columns, each streams its share once and keeps the full row
 * count per tile. */
#define COL_SPLIT_ROWS 64

static int few_rows(const ens_exec *x, int rows)
{
  return rows < ens_threadpool_threads(x->pool) * COL_SPLIT_ROWS;
}

static int split_by_columns(const ens_exec *x, int rows, int cout)
{
  const int threads = ens_threadpool_threads(x->pool);
  return threads > 1 && few_rows(x, rows) && cout >= threads * COL_UNIT;
}

/* A column split must not scale the shared input rows in place (kernels.h): the caller
 * applies the squeeze-excitation scale beforehand for such layers (see se_gate). */
static void pointwise_ranges(const ens_exec *x, const ens_pw_args *a, const ens_bf16_mat *wb,
                             void (*ranges)(const void *, int, int, ens_pw_args *),
                             const void *user)
{
  pw_job j = {x, a, wb, ranges, user};
  if (!a->se && split_by_columns(x, a->rows, a->cout))
    /* One range of columns per thread: cut finer, ranges would split weight panels and
     * leave one- and two-vector micro-tiles (b0's 7x7 projections: ~10 % slower). */
    ens_threadpool_run_fixed(x->pool, (a->cout + COL_UNIT - 1) / COL_UNIT, run_pw_cols, &j);
  else
    run_pointwise_job(x, a->rows, run_pw, &j);
}

static void pointwise(const ens_exec *x, const ens_pw_args *a, const ens_bf16_mat *wb)
{
  pointwise_ranges(x, a, wb, NULL, NULL);
}

static float silu(float v)
{
  return v / (1.0f + expf(-v));
}

/* Channels [*c0, *c1) of part t of parts: 16-channel units split as the pool splits work
 * items, so part t covers what pool thread t computed in a channel-split depthwise. */
static void part_channels(int c, int t, int parts, int *c0, int *c1)
{
  const int units = (c + 15) / 16;
  *c0 = 16 * (int)((long long)units * t / parts);
  *c1 = 16 * (int)((long long)units * (t + 1) / parts);
  if (*c1 > c)
    *c1 = c;
}

static void se_reduce_group(const ens_arena *a, const ens_block *b, int img, int g, int oh, int ow)
{
  const int mid = b->mid_chs, rd = b->se_chs;
  const int c0 = g * SE_GROUP, c1 = c0 + SE_GROUP < mid ? c0 + SE_GROUP : mid;
  const float *sums = a->row_sums + (size_t)img * oh * mid;
  float *part = a->se_hidden + ((size_t)img * se_groups(b) + g) * rd;
  double acc[SE_GROUP] = {0};
  for (int oy = 0; oy < oh; oy++) /* row by row: sequential reads */
    for (int c = c0; c < c1; c++)
      acc[c - c0] += sums[(size_t)oy * mid + c];
  for (int j = 0; j < rd; j++)
    part[j] = 0;
  for (int c = c0; c < c1; c++) {
    const float m = (float)(acc[c - c0] / ((double)oh * ow));
    const float *w = b->se_rw + (size_t)c * rd;
    for (int j = 0; j < rd; j++)
      part[j] += m * w[j];
  }
}

/* Where the squeeze-excitation gate of a block meets the projection's input x = dw * gate:
 *   SE_IN_KERNEL   the projection kernel scales its input rows (kernels.h);
 *   SE_ON_INPUT    the SE region scales the depthwise output in place (blocks split by
 *                  channels: their projection is split by columns and must not scale);
 *   SE_ON_WEIGHTS  the SE region scales the rows of a per-image copy of the projection's
 *                  weights instead, (x * g) . W = x . (g * W), and the projection reads its
 *                  input once instead of rewriting it first: for images with many more rows
 *                  than the projection has outputs (b0: the 112x112 to 28x28 blocks; 4x,
 *                  because the kernel scales rows with 16-wide vectors and this code is plain
 *                  C). */
typedef enum { SE_IN_KERNEL, SE_ON_INPUT, SE_ON_WEIGHTS } se_mode;

/* The expand conv is a one-row 1x1 conv on the part's columns: the pointwise kernel streams
 * just that part of its weight panels. Then the part's channels of the gate are applied as
 * `mode` says. */
static void se_expand_part(const ens_exec *x, const ens_block *b, int img, int t, int parts, int oh,
                           int ow, se_mode mode)
{
  const ens_arena *a = x->arena;
  const int mid = b->mid_chs, rd = b->se_chs, groups = se_groups(b);
  int c0, c1;
  part_channels(mid, t, parts, &c0, &c1);
  if (c1 <= c0)
    return;
  const float *partial = a->se_hidden + (size_t)img * groups * rd;
  float *hid = a->se_hidden + (size_t)a->batch * groups * rd + ((size_t)img * parts + t) * rd;
  for (int j = 0; j < rd; j++) {
    float h = b->se_rb[j];
    for (int g = 0; g < groups; g++)
      h += partial[(size_t)g * rd + j];
    hid[j] = silu(h);
  }
  float *sc = a->se_scale + (size_t)img * mid;
  ens_pw_args e = {.in = hid,
                   .w = b->se_ew,
                   .bias = b->se_eb,
                   .out = sc,
                   .rows = 1,
                   .cin = rd,
                   .cout = mid,
                   .rows_per_image = 1,
                   .col_begin = c0,
                   .col_end = c1,
                   .act = ENS_ACT_SIGMOID};
  x->kernels->pointwise(&e, 0, 1);
  if (mode == SE_ON_INPUT) {
    x->kernels->scale_channels(a->dw + (size_t)img * oh * ow * mid, mid, oh * ow, sc, c0, c1);
  } else if (mode == SE_ON_WEIGHTS) {
    const size_t size = ens_pw_packed_floats(mid, b->out_chs);
    float *dst = a->se_w + (size_t)img * size;
    for (size_t panel = 0; panel < size; panel += (size_t)mid * ENS_PW_PANEL)
      for (int c = c0; c < c1; c++) {
        const float *src_row = b->proj_w + panel + (size_t)c * ENS_PW_PANEL;
        float *dst_row = dst + panel + (size_t)c * ENS_PW_PANEL;
        for (int j = 0; j < ENS_PW_PANEL; j++)
          dst_row[j] = src_row[j] * sc[c];
      }
  }
}

typedef struct {
  const ens_exec *x;
  const ens_block *b;
  int oh, ow, groups, parts;
  se_mode mode;
} se_job;

static void run_se_reduce(void *ctx, int begin, int end)
{
  const se_job *j = ctx;
  for (int item = begin; item < end; item++)
    se_reduce_group(j->x->arena, j->b, item / j->groups, item % j->groups, j->oh, j->ow);
}

static void run_se_expand(void *ctx, int begin, int end)
{
  const se_job *j = ctx;
  for (int item = begin; item < end; item++)
    se_expand_part(j->x, j->b, item / j->parts, item % j->parts, j->parts, j->oh, j->ow, j->mode);
}

/* Squeeze-excitation gates of n images into se_scale. */
static void se_gate(const ens_exec *x, const ens_block *b, int n, int oh, int ow, se_mode mode)
{
  se_job j = {x, b, oh, ow, se_groups(b), ens_threadpool_threads(x->pool), mode};
  ens_threadpool_run(x->pool, n * j.groups, run_se_reduce, &j);
  ens_threadpool_run(x->pool, n * j.parts, run_se_expand, &j);
}

/* Images per block call: the expanded and depthwise activations of a chunk should stay in
 * the last-level cache (b0 at batch 8: block 1's 8 x 112 x 112 x 96 expansion is 38 MB, more
 * than the 32 MiB L3; image by image it is 4.8 MB). Later blocks are small enough to run the
 * whole batch in one call, which keeps the per-call (barrier) count low. */
#define CHUNK_BYTES (6u << 20)

static int images_per_chunk(const ens_block *b, int n, int h, int w, int oh, int ow)
{
  const size_t per_image = sizeof(float) * b->mid_chs *
                           ((b->type == ENS_BLOCK_IR ? (size_t)h * w : 0) + (size_t)oh * ow);
  size_t g = per_image ? CHUNK_BYTES / per_image : (size_t)n;
  if (g < 1)
    g = 1;
  return g < (size_t)n ? (int)g : n;
}

typedef struct {
  const ens_exec *x;
  const ens_block *b;
  const float *in; /* the chunk's block input [n, h, w, in_chs] */
  int n, h, w, oh, ow, pad_top, pad_left;
  int threads;
  size_t band_stride; /* floats from one thread's band buffer to the next's */
  int band_out;       /* output rows per band */
} fused_job;

static void run_fused(void *ctx, int t0, int t1)
{
  const fused_job *j = ctx;
  const ens_block *b = j->b;
  const ens_kernels *k = j->x->kernels;
  const ens_arena *a = j->x->arena;
  const int mid = b->mid_chs, s = b->stride, w = j->w, total = j->n * j->oh;
  for (int t = t0; t < t1; t++) {
    float *buf = a->mid + (size_t)t * j->band_stride;
    const int ib = (int)((long long)total * t / j->threads);
    const int ie = (int)((long long)total * (t + 1) / j->threads);
    int prev_img = -1, pr0 = 0, pr1 = 0; /* input rows [pr0, pr1) of prev_img are in buf */
    for (int it = ib; it < ie;) {
      const int img = it / j->oh, oy0 = it % j->oh;
      int oy1 = oy0 + j->band_out;
      if (oy1 > j->oh)
        oy1 = j->oh;
      if (oy1 - oy0 > ie - it)
        oy1 = oy0 + (ie - it);
      int r0 = oy0 * s - j->pad_top, r1 = (oy1 - 1) * s - j->pad_top + b->k;
      if (r0 < 0)
        r0 = 0;
      if (r1 > j->h)
        r1 = j->h;
      int have = r0; /* rows [r0, have) are already in buf */
      if (img == prev_img && pr1 > r0 && pr0 <= r0) {
        memmove(buf, buf + (size_t)(r0 - pr0) * w * mid, sizeof(float) * (pr1 - r0) * w * mid);
        have = pr1 < r1 ? pr1 : r1;
      }
      if (r1 > have) {
        ens_pw_args e = {.in = (float *)j->in + ((size_t)img * j->h + have) * w * b->in_chs,
                         .w = b->exp_w,
                         .bias = b->exp_b,
                         .out = buf + (size_t)(have - r0) * w * mid,
                         .rows = (r1 - have) * w,
                         .cin = b->in_chs,
                         .cout = mid,
                         .rows_per_image = (r1 - have) * w,
                         .act = ENS_ACT_SILU};
        pw_rows(j->x, &e, bf16_w(j->x, b, 0), 0, e.rows);
      }
      ens_dw_args d = {.in = buf,
                       .w = b->dw_w,
                       .bias = b->dw_b,
                       .out = a->dw + ((size_t)img * j->oh + oy0) * j->ow * mid,
                       .row_sums = a->row_sums + ((size_t)img * j->oh + oy0) * mid,
                       .n = 1,
                       .ih = r1 - r0,
                       .iw = w,
                       .c = mid,
                       .oh = oy1 - oy0,
                       .ow = j->ow,
                       .k = b->k,
                       .stride = s,
                       .pad_top = j->pad_top + r0 - oy0 * s,
                       .pad_left = j->pad_left,
                       .act = ENS_ACT_SILU};
      k->depthwise(&d, 0, d.oh);
      prev_img = img, pr0 = r0, pr1 = r1;
      it += oy1 - oy0;
    }
  }
}

/* Sets up j for a fused expansion + depthwise of n images, or returns 0 when the block is
 * small enough to run unfused (or the mid buffer cannot hold a band per thread). */
static int plan_fused(const ens_exec *x, const ens_block *b, int n, int h, int w, int oh, int ow,
                      int pt, int pl, fused_job *j)
{
  if (!fusable(b, h, w))
    return 0;
  const size_t row = (size_t)w * b->mid_chs; /* floats of one expanded input row */
  const size_t rows = band_rows(b, w);
  if (rows * row > x->arena->band_stride) /* the arena was planned for other blocks */
    return 0;
  const int threads = ens_threadpool_threads(x->pool);
  *j = (fused_job){.x = x,
                   .b = b,
                   .n = n,
                   .h = h,
                   .w = w,
                   .oh = oh,
                   .ow = ow,
                   .pad_top = pt,
                   .pad_left = pl,
                   .threads = threads,
                   .band_stride = x->arena->band_stride,
                   .band_out = (int)((rows - (size_t)b->k) / (size_t)b->stride) + 1};
  return 1;
}

static void run_dw_chans(void *ctx, int b, int e)
{
  const job *j = ctx;
  ens_dw_args part = *(const ens_dw_args *)j->args;
  part.c_begin = 16 * b;
  part.c_end = 16 * e < part.c ? 16 * e : part.c;
  j->k->depthwise(&part, 0, part.n * part.oh);
}

/* The weights the thread computing channels [c0, c1) of a channel-split block reads after
 * the expansion: its rows of the SE reduce conv, its panels of the SE expand conv and its
 * share of the projection's panels (the depthwise weights of its channels are strided; the
 * hardware prefetcher follows them). */
static void split_block_ranges(const void *user, int c0, int c1, ens_pw_args *part)
{
  const ens_block *b = user;
  const int rd = b->se_chs;
  /* the projection's column split gives this thread the same fraction of its output units */
  const int units = (b->mid_chs + COL_UNIT - 1) / COL_UNIT;
  const int out_units = (b->out_chs + COL_UNIT - 1) / COL_UNIT;
  const int o0 = COL_UNIT * (int)((long long)out_units * (c0 / COL_UNIT) / units);
  const int o1 = COL_UNIT * (int)((long long)out_units * ((c1 + COL_UNIT - 1) / COL_UNIT) / units);
  const size_t q0 = ens_pw_index(b->mid_chs, 0, o0 - o0 % ENS_PW_PANEL);
  const size_t q1 = o1 >= b->out_chs ? ens_pw_packed_floats(b->mid_chs, b->out_chs)
                                     : ens_pw_index(b->mid_chs, 0, o1 - o1 % ENS_PW_PANEL);
  part->prefetch[2] = b->proj_w + q0;
  part->prefetch_bytes[2] = q1 > q0 ? sizeof(float) * (q1 - q0) : 0;
  part->prefetch[0] = b->se_rw + (size_t)c0 * rd;
  part->prefetch_bytes[0] = sizeof(float) * (size_t)(c1 - c0) * rd;
  const size_t p0 = ens_pw_index(rd, 0, c0 - c0 % ENS_PW_PANEL);
  const int c1_up = (c1 + ENS_PW_PANEL - 1) / ENS_PW_PANEL * ENS_PW_PANEL;
  const size_t p1 =
      c1_up >= b->mid_chs ? ens_pw_packed_floats(rd, b->mid_chs) : ens_pw_index(rd, 0, c1_up);
  part->prefetch[1] = b->se_ew + p0;
  part->prefetch_bytes[1] = sizeof(float) * (p1 - p0);
}

/* The unfused expansion (IR) and depthwise of n images: two parallel regions. The depthwise
 * of a block with few rows (by_chans) is split by channels: its handful of output rows would
 * split unevenly, and the channel ranges match the expansion's column split (pointwise()), so
 * each thread reads the part of the expansion it wrote. */
static void run_expand_dw(const ens_exec *x, const ens_block *b, int n, int h, int w, float *in,
                          int by_chans)
{
  const ens_arena *a = x->arena;
  int pt, pl, pe;
  const float *dw_in = in;
  if (b->type == ENS_BLOCK_IR) {
    ens_pw_args e = {
        .in = in,
        .w = b->exp_w,
        .bias = b->exp_b,
        .out = a->mid,
        .rows = n * h * w,
        .cin = b->in_chs,
        .cout = b->mid_chs,
        .rows_per_image = h * w,
        .act = ENS_ACT_SILU,
        /* the depthwise, SE and projection weights (contiguous, net.h) are
         * used next */
        .prefetch = {b->dw_w},
        .prefetch_bytes = {
            sizeof(float) *
            (size_t)(b->proj_w + ens_pw_packed_floats(b->mid_chs, b->out_chs) - b->dw_w)}};
    /* Split by channels, each thread prefetches the SE weights of its own channels instead. */
    pointwise_ranges(x, &e, bf16_w(x, b, 0), by_chans ? split_block_ranges : NULL, b);
    dw_in = a->mid;
  }
  ens_dw_args d = {.in = dw_in,
                   .w = b->dw_w,
                   .bias = b->dw_b,
                   .out = a->dw,
                   .row_sums = a->row_sums,
                   .n = n,
                   .ih = h,
                   .iw = w,
                   .c = b->mid_chs,
                   .k = b->k,
                   .stride = b->stride,
                   .act = ENS_ACT_SILU};
  d.oh = ens_same_pad(h, b->k, b->stride, &pt, &pe);
  d.ow = ens_same_pad(w, b->k, b->stride, &pl, &pe);
  d.pad_top = pt;
  d.pad_left = pl;
  job dj = {x->kernels, &d};
  if (by_chans)
    ens_threadpool_run(x->pool, (d.c + 15) / 16, run_dw_chans, &dj);
  else
    ens_threadpool_run(x->pool, n * d.oh, run_dw, &dj);
}

/* One block over images [img0, img0 + n) of the batch: in/out are the batch's block input /
 * output; the mid, depthwise, row-sum and SE buffers are used from their start (chunk-local),
 * so they stay hot in cache from one chunk to the next. */
static void run_block(const ens_exec *x, const ens_block *b, int img0, int n, int h, int w,
                      const float *in_batch, float *out_batch, const char *pf, size_t pf_bytes)
{
  const ens_arena *a = x->arena;
  int pt, pl, pe;
  float *in = (float *)in_batch + (size_t)img0 * h * w * b->in_chs;
  const int oh = ens_same_pad(h, b->k, b->stride, &pt, &pe);
  const int ow = ens_same_pad(w, b->k, b->stride, &pl, &pe);
  /* Few rows: the whole block is split by channels (expansion and projection by output
   * columns, the depthwise and the SE gate by channels), and the gate is applied to the
   * depthwise output before the projection, which otherwise applies it to its input rows. */
  const int by_chans = split_by_columns(x, n * oh * ow, b->out_chs);
  fused_job fj;
  if (plan_fused(x, b, n, h, w, oh, ow, pt, pl, &fj)) {
    fj.in = in;
    ens_threadpool_run(x->pool, fj.threads, run_fused, &fj);
  } else {
    run_expand_dw(x, b, n, h, w, in, by_chans);
  }
  const se_mode mode = by_chans                                      ? SE_ON_INPUT
                       : !x->bf16 && se_fold_into_weights(b, oh, ow) ? SE_ON_WEIGHTS
                                                                     : SE_IN_KERNEL;
  se_gate(x, b, n, oh, ow, mode);

  ens_pw_args p = {.in = a->dw,
                   .w = b->proj_w,
                   .bias = b->proj_b,
                   .se = mode == SE_IN_KERNEL ? a->se_scale : NULL,
                   .residual = b->skip ? in : NULL,
                   .out = out_batch + (size_t)img0 * oh * ow * b->out_chs,
                   .rows = n * oh * ow,
                   .cin = b->mid_chs,
                   .cout = b->out_chs,
                   .rows_per_image = oh * ow,
                   .act = ENS_ACT_NONE,
                   .prefetch = {pf},
                   .prefetch_bytes = {pf_bytes}};
  if (mode == SE_ON_WEIGHTS) {
    pw_image_job j = {x, &p, a->se_w, ens_pw_packed_floats(b->mid_chs, b->out_chs)};
    run_pointwise_job(x, p.rows, run_pw_per_image, &j);
  } else {
    pointwise(x, &p, bf16_w(x, b, 1));
  }
}

static void hook(const ens_exec *x, const char *name, const float *t, int n, int h, int w, int c)
{
  if (x->hook)
    x->hook(x->hook_user, name, t, n, h, w, c);
}

void ens_net_forward(const ens_exec *x, const float *input, int n, int ih, int iw, float *logits,
                     float *features)
{
  const ens_net *net = x->net;
  ens_arena *a = x->arena;
  int pt, pl, pe;

  /* stem: conv_stem (Conv2dSame) + bn1 + SiLU */
  ens_stem_args sa = {.in = input,
                      .w = net->stem_w,
                      .bias = net->stem_b,
                      .out = a->act[0],
                      .n = n,
                      .cin = 3,
                      .ih = ih,
                      .iw = iw,
                      .cout = net->stem_chs,
                      .k = 3,
                      .stride = 2,
                      .act = ENS_ACT_SILU};
  sa.oh = ens_same_pad(ih, 3, 2, &pt, &pe);
  sa.ow = ens_same_pad(iw, 3, 2, &pl, &pe);
  sa.pad_top = pt;
  sa.pad_left = pl;
  job sj = {x->kernels, &sa};
  ens_threadpool_run(x->pool, n * sa.oh, run_stem, &sj);
  int h = sa.oh, w = sa.ow, cur = 0;
  hook(x, "stem", a->act[0], n, h, w, net->stem_chs);

  /* At batch 1 conv_head and the classifier are bound by streaming their weights from memory
   * (b0: 1.6 + 5.1 MB, contiguous). The projections of the few-row blocks before them
   * (compute-bound) each prefetch an equal slice of those weights, which then wait in the
   * last-level cache. */
  const char *tail = (const char *)net->head_w;
  const size_t tail_bytes = (size_t)((const char *)(logits ? net->cls_b + net->num_classes
                                                           : net->head_b + net->head_chs) -
                                     tail);
  int tail_blocks = 0, seen_few = 0;
  for (int i = 0, bh = h, bw = w; i < net->num_blocks; i++) {
    const ens_block *b = &net->blocks[i];
    bh = ens_same_pad(bh, b->k, b->stride, &pt, &pe);
    bw = ens_same_pad(bw, b->k, b->stride, &pl, &pe);
    tail_blocks += few_rows(x, n * bh * bw);
  }

  for (int i = 0; i < net->num_blocks; i++) {
    const ens_block *b = &net->blocks[i];
    float *in = a->act[cur], *out = a->act[1 - cur];
    const int oh = ens_same_pad(h, b->k, b->stride, &pt, &pe);
    const int ow = ens_same_pad(w, b->k, b->stride, &pl, &pe);
    const int g = images_per_chunk(b, n, h, w, oh, ow);
    const char *pf = NULL;
    size_t pf_bytes = 0;
    if (few_rows(x, n * oh * ow)) {
      const size_t from = tail_bytes * seen_few / tail_blocks,
                   to = tail_bytes * (seen_few + 1) / tail_blocks;
      pf = tail + from;
      pf_bytes = to - from;
      seen_few++;
    }
    for (int img0 = 0; img0 < n; img0 += g)
      run_block(x, b, img0, n - img0 < g ? n - img0 : g, h, w, in, out, pf, pf_bytes);
    h = oh;
    w = ow;
    cur = 1 - cur;

    if (x->hook) {
      char name[32];
      snprintf(name, sizeof name, "blocks.%d.%d", b->stage, b->index);
      hook(x, name, out, n, h, w, b->out_chs);
      if (i + 1 == net->num_blocks || net->blocks[i + 1].stage != b->stage) {
        snprintf(name, sizeof name, "blocks.%d", b->stage);
        hook(x, name, out, n, h, w, b->out_chs);
      }
    }
  }

  /* head: conv_head + bn2 + SiLU, global average pool, classifier */
  const int F = net->head_chs;
  ens_pw_args hd = {.in = a->act[cur],
                    .w = net->head_w,
                    .bias = net->head_b,
                    .out = a->mid,
                    .rows = n * h * w,
                    .cin = net->head_in,
                    .cout = net->head_chs,
                    .rows_per_image = h * w,
                    .act = ENS_ACT_SILU};
  pointwise(x, &hd, bf16_w(x, NULL, 0));
  hook(x, "head", a->mid, n, h, w, net->head_chs);

  const size_t hw = (size_t)h * w;
  for (int img = 0; img < n; img++) {
    float *pool = a->pooled + (size_t)img * F;
    const float *src = a->mid + (size_t)img * hw * F;
    for (int c = 0; c < F; c++)
      pool[c] = 0;
    for (size_t r = 0; r < hw; r++)
      for (int c = 0; c < F; c++)
        pool[c] += src[r * F + c];
    for (int c = 0; c < F; c++)
      pool[c] = (float)((double)pool[c] / (double)hw);
  }
  hook(x, "features", a->pooled, n, 1, 1, F);
  if (features)
    memcpy(features, a->pooled, sizeof(float) * (size_t)n * F);
  if (logits) {
    ens_pw_args cl = {.in = a->pooled,
                      .w = net->cls_w,
                      .bias = net->cls_b,
                      .out = logits,
                      .rows = n,
                      .cin = F,
                      .cout = net->num_classes,
                      .rows_per_image = 1,
                      .act = ENS_ACT_NONE};
    pointwise(x, &cl, NULL);
    hook(x, "logits", logits, n, 1, 1, net->num_classes);
  }
}
