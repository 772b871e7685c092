/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plan.h - the geometry of one forward, computed once (internal).
 *
 * Everything the forward, the arena and the FLOP count need to know about the layers at a
 * given (batch, input size, threads, precision): each block's input / output sizes and SAME
 * pads, how many images one call runs, whether its expansion is fused into the depthwise in
 * row bands and how tall the bands are, how each call is split across threads and where its
 * squeeze-excitation gate is applied, which blocks prefetch the head's weights, which blocks
 * end a feature map, the arena's buffer sizes and the multiply-adds. A session keeps the plan
 * of the batch it runs; ens_net_gflops() makes one for a single image.
 *
 * The front: a batch larger than the early blocks' chunk runs the stem and the leading blocks
 * of large resolution (output >= ENS_FRONT_MIN_PIXELS pixels) a chunk of images at a time,
 * through two front buffers of a chunk's size, and only the front's output is kept for the
 * whole batch. Those blocks are bound by their activations (b0: 1.6 - 4.8 MB per image), not by
 * their small weights, so a batch gains nothing from running them together and each further
 * image would otherwise cost ~4.5 MB of arena; the later blocks, whose weights dominate, run
 * the whole batch in one call. */
#ifndef ENS_PLAN_H
#define ENS_PLAN_H

#include "ens.h"
#include "net.h"

/* Where the squeeze-excitation gate of a block meets the projection's input x = dw * gate:
 *   SE_IN_KERNEL   the projection kernel scales its input rows (kernels.h);
 *   SE_ON_INPUT    the SE region scales the depthwise output in place (blocks split by
 *                  channels: their projection is split by columns and must not scale);
 *   SE_ON_WEIGHTS  the SE region scales the rows of a per-image copy of the projection's
 *                  weights instead, (x * g) . W = x . (g * W), and the projection reads its
 *                  input once instead of rewriting it first: for images with many more rows
 *                  than the projection has outputs (b0: the 112x112 to 28x28 blocks; 4x,
 *                  because the kernel scales rows with 16-wide vectors and this code is plain
 *                  C). Not with bf16 weights (the copy is float32). */
typedef enum { ENS_SE_IN_KERNEL, ENS_SE_ON_INPUT, ENS_SE_ON_WEIGHTS } ens_se_mode;

/* One call of a block over n images. */
typedef struct {
  int n;
  /* Few rows: the whole block is split by channels (expansion and projection by output
   * columns, the depthwise and the SE gate by channels), and the gate is applied to the
   * depthwise output before the projection (ENS_SE_ON_INPUT). */
  int by_chans;
  ens_se_mode se;
} ens_block_call;

typedef struct {
  int h, w, oh, ow; /* input and output size */
  int pad_top, pad_left;
  int chunk;              /* images per call */
  ens_block_call call[2]; /* [0] a call of `chunk` images, [1] the last, shorter one (n 0: none) */
  int fused;              /* expansion fused into the depthwise in row bands (fused_band.c) */
  int band_out;           /* fused: output rows per band */
  int tail_slice;         /* >= 0: this block prefetches that slice of the head's weights */
  int stride;             /* input pixels per output pixel */
  int stage_end;          /* last block of its stage (the "blocks.<stage>" output) */
  int map;                /* the features_only map this block's output is, or -1 */
  double macs;            /* multiply-adds of one image */
} ens_block_plan;

/* Arena buffer sizes in floats (see ens_arena in forward.h). */
typedef struct {
  size_t act, mid, dw, row_sums, se_mid, se_hidden, se_w, pooled;
  size_t band;  /* largest band buffer of a fused block */
  size_t front; /* each of the two front buffers (0: no front) */
} ens_arena_sizes;

/* A float count rounded up to a 64-byte multiple: every arena buffer stays aligned. */
static inline size_t ens_plan_pad16(size_t n)
{
  return (n + 15) & ~(size_t)15;
}

static inline size_t ens_size_max(size_t a, size_t b)
{
  return a > b ? a : b;
}

/* A block whose output has at least this many pixels per image may belong to the front. */
#define ENS_FRONT_MIN_PIXELS 512

typedef struct {
  int batch, ih, iw, threads, bf16;
  int stem_oh, stem_ow, stem_pad_top, stem_pad_left;
  ens_block_plan *blocks; /* [num_blocks] */
  int num_blocks;
  int front_blocks; /* the stem and blocks [0, front_blocks) run front_chunk images at a time */
  int front_chunk;  /* (front_blocks 0: no front, everything runs batch-wide) */
  int tail_slices;  /* blocks that prefetch the head's weights */
  int head_h, head_w;
  int map_block[ENS_FEATURE_MAPS]; /* the block ending each features_only map (-1: none) */
  ens_arena_sizes sizes;
  double macs; /* of one image */
} ens_plan;

/* Plans net for batch images of ih x iw on `threads` threads (bf16: 1x1 convs in bf16).
 * Reuses p->blocks when p was planned for the same net before; p zeroed or planned. */
ens_status ens_plan_make(ens_plan *p, const ens_net *net, int batch, int ih, int iw, int threads,
                         int bf16, ens_error *err);
void ens_plan_free(ens_plan *p);

/* Squeeze-excitation channel groups (squeeze_excite.c): the reduce step's work items. */
#define ENS_SE_GROUP 64

static inline int ens_se_groups(const ens_block *b)
{
  return (b->mid_chs + ENS_SE_GROUP - 1) / ENS_SE_GROUP;
}

/* Output columns per work item of a column split (the kernels' column ranges start on a
 * multiple of 16). */
#define ENS_COL_UNIT 16

/* Whether a 1x1 convolution of `rows` rows and cout outputs is split across `threads` by
 * output columns instead of rows (see plan.c). */
int ens_plan_split_by_columns(int threads, int rows, int cout);

#endif
