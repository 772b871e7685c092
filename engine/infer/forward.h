/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* forward.h - the forward pass over a planned arena (internal).
 *
 * The forward is a fixed sequence of kernel calls over an arena planned for (batch, input
 * size): ping-pong block input/output buffers, the expanded (mid) activation, the depthwise
 * output, depthwise per-row channel sums and the small SE / pooling vectors. Blocks with large
 * activations run a few images at a time and their expansion fused into the depthwise in row
 * bands (fused_band.c), so those buffers are used from their start and stay in cache; with a
 * front (plan.h) the stem and those blocks run a chunk at a time end to end. Where
 * each step is cut is decided once, in the plan (plan.h). The steps, one file each:
 *   forward.c         stem, the block loop, head, pooling, classifier, output maps
 *   block.c           one block call: expansion + depthwise, SE gate, projection
 *   fused_band.c      expansion fused into the depthwise in row bands
 *   squeeze_excite.c  the SE gate in two parallel regions
 *   pointwise_par.c   1x1 convolutions split over the pool by rows or by output columns */
#ifndef ENS_FORWARD_H
#define ENS_FORWARD_H

#include "ens.h"
#include "net.h"
#include "net_bf16.h"
#include "plan.h"
#include "threadpool.h"

typedef struct {
  int batch, ih, iw, threads; /* the plan the buffers were last sized for */
  ens_arena_sizes sizes;      /* what each buffer holds (floats) */
  float *base;                /* the single allocation */
  size_t floats;
  float *act[2];      /* block input / output ping-pong, batch-wide */
  float *front[2];    /* the front's ping-pong (plan.h), one chunk of images */
  float *mid;         /* IR expanded activation (or, for blocks the forward runs fused in row
                       * bands, one band buffer per thread); also the head conv output */
  size_t band_stride; /* floats from one thread's band buffer in mid to the next's */
  float *dw;          /* depthwise output */
  float *row_sums;    /* depthwise per-row channel sums */
  float *se_hidden;   /* [batch, groups, se_chs] partial sums, then [batch, threads, se_chs] */
  float *se_scale;    /* [n, mid] */
  float *se_w;        /* [n, packed projection weights] scaled by the gate (SE_ON_WEIGHTS) */
  float *pooled;
} ens_arena;

/* Sizes the arena for plan p (keeps the current buffers when each has room for p's). */
ens_status ens_arena_reserve(ens_arena *a, const ens_plan *p, ens_error *err);
void ens_arena_free(ens_arena *a);

/* Everything one forward reads: read-only model parts, the caller's pool, arena and plan. */
typedef struct {
  const ens_net *net;
  const ens_kernels *kernels;
  const ens_net_bf16 *bf16; /* NULL, or ENS_PRECISION_BF16: the 1x1 convs (net_bf16.h) */
  ens_threadpool *pool;
  ens_arena *arena;
  const ens_plan *plan;
  ens_net_hook hook; /* may be NULL */
  void *hook_user;
} ens_exec;

/* input NCHW [plan batch, 3, ih, iw]; every output of out may be NULL. The arena must be
 * reserved for a plan of at least this batch at the same input size and threads. */
void ens_net_forward(const ens_exec *x, const float *input, const ens_outputs *out);

/* ---- steps (shared between the forward's files) */

/* A parallel call of a kernel on its args (ens_dw_args, ens_stem_args). */
typedef struct {
  const ens_kernels *k;
  const void *args;
} ens_kernel_job;

/* One call of block i over images [img0, img0 + call->n) of the batch: in/out are the batch's
 * block input / output; pf / pf_bytes: weights its projection prefetches. */
void ens_block_run(const ens_exec *x, int i, const ens_block_call *call, int img0,
                   const float *in_batch, float *out_batch, const char *pf, size_t pf_bytes);

/* The fused expansion + depthwise of block i over n images from in (fused_band.c). */
void ens_fused_band_run(const ens_exec *x, int i, int n, const float *in);

/* The squeeze-excitation gates of n images of block i into se_scale, applied as mode says. */
void ens_se_gate(const ens_exec *x, int i, int n, ens_se_mode mode);

/* The packed bf16 weights of a 1x1 convolution when the session runs in bf16, else NULL.
 * which: 0 = expansion, 1 = projection of block b; b == NULL: conv_head. */
const ens_bf16_mat *ens_fwd_bf16_w(const ens_exec *x, const ens_block *b, int which);

/* Rows [begin, end) of a 1x1 convolution: float32 kernel, or the bf16 one when wb != NULL. */
void ens_fwd_pw_rows(const ens_exec *x, const ens_pw_args *a, const ens_bf16_mat *wb, int begin,
                     int end);

/* A 1x1 convolution over the pool, split by rows or (few rows, no se) by output columns;
 * ranges (optional) sets the prefetch ranges of a column part [c0, c1) (else its share of
 * args'). A column split must not scale the shared input rows in place (kernels.h): the
 * caller applies the squeeze-excitation scale beforehand for such layers. */
void ens_fwd_pointwise(const ens_exec *x, const ens_pw_args *a, const ens_bf16_mat *wb,
                       void (*ranges)(const void *user, int c0, int c1, ens_pw_args *part),
                       const void *user);

/* A 1x1 convolution whose weights differ per image: image i's at w0 + i * w_size. */
void ens_fwd_pointwise_per_image(const ens_exec *x, const ens_pw_args *a, const float *w0,
                                 size_t w_size);

#endif
