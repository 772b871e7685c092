/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plan.c - the geometry of one forward (plan.h): layer sizes, how each step is cut, the
 * arena's buffer sizes and the FLOPs, from the network, batch, input size and thread count. */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Whether a block's SE gate may be folded into its projection weights (ENS_SE_ON_WEIGHTS):
 * for images with 4x more rows than the projection has (padded) outputs. Also sizes the
 * arena's copies of those weights, so the large late blocks of big variants cost nothing. */
static int se_fold_into_weights(const ens_block *b, int oh, int ow)
{
  return (size_t)oh * ow > 4 * ens_pw_packed_floats(1, b->out_chs);
}

/* Expansion fused into the depthwise, in row bands (fused_band.c): an IR block whose expanded
 * image is larger than FUSE_BYTES (b0: the 112x112 and 56x56 blocks) does not write the whole
 * expanded tensor and read it back from L3 / DRAM. A band holds ~BAND_BYTES of expanded input
 * rows, so it stays in L2. */
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

/* A 1x1 convolution with fewer than COL_SPLIT_ROWS rows per thread (b0 at batch 1: the 7x7
 * blocks, conv_head, the classifier) is split across threads by output columns instead of
 * rows: split by rows, every thread would stream the whole weight matrix (up to 5 MB) for a
 * few micro-tiles; split by columns, each streams its share once and keeps the full row
 * count per tile. */
#define COL_SPLIT_ROWS 64

static int few_rows(int threads, int rows)
{
  return rows < threads * COL_SPLIT_ROWS;
}

int ens_plan_split_by_columns(int threads, int rows, int cout)
{
  return threads > 1 && few_rows(threads, rows) && cout >= threads * ENS_COL_UNIT;
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

static ens_block_call plan_call(const ens_plan *p, const ens_block *b, const ens_block_plan *bp,
                                int n)
{
  ens_block_call c = {.n = n};
  c.by_chans = ens_plan_split_by_columns(p->threads, n * bp->oh * bp->ow, b->out_chs);
  c.se = c.by_chans                                            ? ENS_SE_ON_INPUT
         : !p->bf16 && se_fold_into_weights(b, bp->oh, bp->ow) ? ENS_SE_ON_WEIGHTS
                                                               : ENS_SE_IN_KERNEL;
  return c;
}

/* A features_only map ends at a stage after which the resolution halves, and at the last. */
static int ends_map(const ens_net *net, int i)
{
  const ens_block *b = &net->blocks[i];
  if (i + 1 == net->num_blocks)
    return 1;
  const ens_block *next = &net->blocks[i + 1];
  return next->stage != b->stage && next->stride > 1;
}

static void plan_block(ens_plan *p, const ens_net *net, int i, int h, int w, int stride)
{
  const ens_block *b = &net->blocks[i];
  ens_block_plan *bp = &p->blocks[i];
  const int n = p->batch, front = i < p->front_blocks;
  int after;
  memset(bp, 0, sizeof *bp);
  bp->h = h;
  bp->w = w;
  bp->oh = ens_same_pad(h, b->k, b->stride, &bp->pad_top, &after);
  bp->ow = ens_same_pad(w, b->k, b->stride, &bp->pad_left, &after);
  bp->stride = stride * b->stride;
  /* a front block runs the front's chunks: call[1] is the batch's last, shorter one */
  bp->chunk = front ? p->front_chunk : images_per_chunk(b, n, h, w, bp->oh, bp->ow);
  bp->call[0] = plan_call(p, b, bp, bp->chunk);
  bp->call[1] = plan_call(p, b, bp, n % bp->chunk);
  bp->fused = fusable(b, h, w);
  if (bp->fused)
    bp->band_out = (int)((band_rows(b, w) - (size_t)b->k) / (size_t)b->stride) + 1;
  bp->tail_slice = few_rows(p->threads, n * bp->oh * bp->ow) ? p->tail_slices++ : -1;
  bp->stage_end = i + 1 == net->num_blocks || net->blocks[i + 1].stage != b->stage;
  bp->map = -1;

  const double in_px = (double)h * w, out_px = (double)bp->oh * bp->ow;
  if (b->type == ENS_BLOCK_IR)
    bp->macs += in_px * b->in_chs * b->mid_chs;
  bp->macs += out_px * b->mid_chs * b->k * b->k;
  bp->macs += 2.0 * b->mid_chs * b->se_chs;
  bp->macs += out_px * b->mid_chs * b->out_chs;

  /* mid, dw, row sums and the SE buffers hold one call's images (block.c: chunk-local); a
   * fused block's expansion lives in its band buffers only */
  ens_arena_sizes *z = &p->sizes;
  const size_t c = (size_t)bp->chunk;
  const size_t in_pixels = c * h * w, out_pixels = c * bp->oh * bp->ow;
  if (b->type == ENS_BLOCK_IR && !bp->fused)
    z->mid = ens_size_max(z->mid, in_pixels * b->mid_chs);
  if (bp->fused)
    z->band = ens_size_max(z->band, band_rows(b, w) * w * b->mid_chs);
  z->dw = ens_size_max(z->dw, out_pixels * b->mid_chs);
  z->row_sums = ens_size_max(z->row_sums, c * bp->oh * b->mid_chs);
  z->se_mid = ens_size_max(z->se_mid, c * b->mid_chs);
  if (se_fold_into_weights(b, bp->oh, bp->ow))
    z->se_w = ens_size_max(z->se_w, c * ens_pw_packed_floats(b->mid_chs, b->out_chs));
  z->se_hidden = ens_size_max(z->se_hidden, c * (ens_se_groups(b) + p->threads) * b->se_chs);
  /* block outputs: the front's (but its last) in the front buffers, the rest batch-wide */
  const size_t out_floats = (size_t)bp->oh * bp->ow * b->out_chs;
  if (front && i + 1 < p->front_blocks)
    z->front = ens_size_max(z->front, c * out_floats);
  else
    z->act = ens_size_max(z->act, (size_t)n * out_floats);
}

/* The front (plan.h): the leading blocks whose outputs have >= ENS_FRONT_MIN_PIXELS pixels,
 * run as many images at a time as the smallest of their chunks; none when that chunk holds the
 * whole batch anyway. */
static void plan_front(ens_plan *p, const ens_net *net)
{
  int h = p->stem_oh, w = p->stem_ow, blocks = 0, chunk = p->batch, pad, after;
  for (int i = 0; i < net->num_blocks; i++) {
    const ens_block *b = &net->blocks[i];
    const int oh = ens_same_pad(h, b->k, b->stride, &pad, &after);
    const int ow = ens_same_pad(w, b->k, b->stride, &pad, &after);
    if ((size_t)oh * ow < ENS_FRONT_MIN_PIXELS)
      break;
    const int g = images_per_chunk(b, p->batch, h, w, oh, ow);
    chunk = g < chunk ? g : chunk;
    blocks = i + 1;
    h = oh;
    w = ow;
  }
  if (blocks && chunk < p->batch) {
    p->front_blocks = blocks;
    p->front_chunk = chunk;
  }
}

ens_status ens_plan_make(ens_plan *p, const ens_net *net, int batch, int ih, int iw, int threads,
                         int bf16, ens_error *err)
{
  ens_block_plan *blocks = p->num_blocks == net->num_blocks ? p->blocks : NULL;
  if (!blocks) {
    blocks = calloc((size_t)net->num_blocks + 1, sizeof *blocks);
    if (!blocks)
      return ens_fail(err, ENS_ERR_NOMEM, "out of memory planning %d blocks", net->num_blocks);
    free(p->blocks);
  }
  *p = (ens_plan){.blocks = blocks,
                  .num_blocks = net->num_blocks,
                  .batch = batch,
                  .ih = ih,
                  .iw = iw,
                  .threads = threads,
                  .bf16 = bf16};
  int after;
  p->stem_oh = ens_same_pad(ih, 3, 2, &p->stem_pad_top, &after);
  p->stem_ow = ens_same_pad(iw, 3, 2, &p->stem_pad_left, &after);
  p->macs = (double)p->stem_oh * p->stem_ow * net->stem_chs * 27;
  plan_front(p, net);
  const size_t stem_floats = (size_t)p->stem_oh * p->stem_ow * net->stem_chs;
  if (p->front_blocks)
    p->sizes.front = (size_t)p->front_chunk * stem_floats;
  else
    p->sizes.act = (size_t)batch * stem_floats;

  int h = p->stem_oh, w = p->stem_ow, stride = 2, maps = 0;
  for (int i = 0; i < ENS_FEATURE_MAPS; i++)
    p->map_block[i] = -1;
  for (int i = 0; i < net->num_blocks; i++) {
    plan_block(p, net, i, h, w, stride);
    ens_block_plan *bp = &p->blocks[i];
    if (bp->stage_end && ends_map(net, i) && maps < ENS_FEATURE_MAPS) {
      bp->map = maps;
      p->map_block[maps++] = i;
    }
    p->macs += bp->macs;
    h = bp->oh;
    w = bp->ow;
    stride = bp->stride;
  }
  p->head_h = h;
  p->head_w = w;
  p->macs += (double)h * w * net->head_in * net->head_chs;
  p->macs += (double)net->head_chs * net->num_classes;

  ens_arena_sizes *z = &p->sizes;
  z->mid = ens_size_max(z->mid, (size_t)batch * h * w * net->head_chs);
  z->mid = ens_size_max(z->mid, (size_t)threads * ens_plan_pad16(z->band));
  z->pooled = (size_t)batch * net->head_chs;
  return ENS_OK;
}

void ens_plan_free(ens_plan *p)
{
  free(p->blocks);
  memset(p, 0, sizeof *p);
}

double ens_net_gflops(const ens_net *net, int ih, int iw)
{
  ens_plan p = {0};
  if (ens_plan_make(&p, net, 1, ih, iw, 1, 0, NULL) != ENS_OK)
    return 0.0;
  const double gflops = 2.0 * p.macs / 1e9;
  ens_plan_free(&p);
  return gflops;
}
