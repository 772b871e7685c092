/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_graph.h - the tf_efficientnet training graph: parameters, gradients and every
 * activation kept for backward in ONE arena planned for a (batch, height, width); no
 * allocation per step (internal).
 *
 * Typical step:
 *   ens_tg_new(&arch, batch, h, w, threads, &g, &err);  ens_tg_init(g, seed) or ens_tg_load(..)
 *   ens_tg_set_regularization(g, drop_rate, drop_path_rate);
 *   ens_tg_draw_masks(g, seed, step);                   // dropout / drop-path masks
 *   loss = ens_tg_forward(g, input_nchw, target, smoothing, 1);
 *   ens_tg_backward(g, NULL);                           // param grads (overwritten)
 *   optimizer over ens_tg_params(g)
 * Same seed and same thread count give bit-identical results; the thread count only moves
 * the last bits of the GEMMs (OpenBLAS row split), nothing else (see train_ops.h). */
#ifndef ENS_TRAIN_GRAPH_H
#define ENS_TRAIN_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "param.h"
#include "threadpool.h"
#include "train_arch.h"

typedef struct ens_train_graph ens_train_graph;

#define ENS_TG_BN_EPS 1e-3f
#define ENS_TG_BN_MOMENTUM 0.1f

/* Plans and allocates the arena. threads <= 0: all CPUs. Parameters start at zero and
 * running_var at one (call ens_tg_init or ens_tg_load). A different batch or input size needs
 * another graph (ens_tg_copy_params moves the weights), e.g. for evaluation. */
ens_status ens_tg_new(const ens_train_arch *arch, int batch, int height, int width, int threads,
                      ens_train_graph **out, ens_error *err);
void ens_tg_free(ens_train_graph *g);

const ens_train_arch *ens_tg_arch(const ens_train_graph *g);
/* The graph's thread pool, for work around a step (batch assembly, optimizer). */
ens_threadpool *ens_tg_pool(ens_train_graph *g);
/* Bytes of the one arena (parameters, gradients, activations, scratch). */
size_t ens_tg_arena_bytes(const ens_train_graph *g);
int ens_tg_batch(const ens_train_graph *g);

/* Trainable tensors and BN running buffers in timm state_dict order (timm names and shapes;
 * data layout: timm's, except conv_dw weights which are tap-major [k*k, C]). */
ens_param *ens_tg_params(ens_train_graph *g, int *count);
/* num_batches_tracked, shared by all BN layers (they all count the same train forwards). */
int64_t *ens_tg_num_batches_tracked(ens_train_graph *g);

/* Copy one tensor's data (or grad) into dst in timm's layout (numel floats). */
void ens_tg_param_to_timm(const ens_param *p, const float *src, float *dst);
/* The reverse: timm-layout src into the param's layout at dst. */
void ens_tg_param_from_timm(const ens_param *p, const float *src, float *dst);

/* Copies parameter values and buffers between two graphs of the same arch. */
void ens_tg_copy_params(ens_train_graph *dst, const ens_train_graph *src);

/* timm's _init_weight_goog from scratch with ens_rng (seed): conv normal(0, sqrt(2/fan_out)),
 * fan_out = k*k*out/groups; Linear uniform(+-1/sqrt(out)); biases 0; BN 1/0; running 0/1. */
void ens_tg_init(ens_train_graph *g, uint64_t seed);

/* Dropout before the classifier and the drop-path base rate (block i of n gets rate*i/n). */
void ens_tg_set_regularization(ens_train_graph *g, float drop_rate, float drop_path_rate);

/* Draw the dropout / drop-path masks for a step from per-(seed, step, sample) streams, so they
 * do not depend on the thread count. Without a draw the masks are all ones. */
void ens_tg_draw_masks(ens_train_graph *g, uint64_t seed, uint64_t step);
/* The masks themselves (values 0 or 1/keep), for tests to inject: drop-path [batch] of block
 * i (NULL if the block has no identity skip), dropout [batch, head_chs]. */
float *ens_tg_droppath_mask(ens_train_graph *g, int block);
float *ens_tg_dropout_mask(ens_train_graph *g);
/* Reset all masks to ones (no dropout, no drop-path). */
void ens_tg_clear_masks(ens_train_graph *g);

/* Forward over input NCHW [batch, 3, h, w]. train: batch-statistics BN (updates running
 * stats and num_batches_tracked) and masks; else eval BN and no masks. target [batch, K]
 * probabilities (one-hot for hard labels) or NULL: returns the smoothed soft-target
 * cross-entropy (NAN without target). */
float ens_tg_forward(ens_train_graph *g, const float *input, const float *target, float smoothing,
                     int train);
/* Backward of the last train forward (needs a target). Overwrites every param grad;
 * input_grad NCHW [batch,3,h,w] if not NULL. */
void ens_tg_backward(ens_train_graph *g, float *input_grad);

/* logits [batch, K] of the last forward. */
const float *ens_tg_logits(const ens_train_graph *g);
/* Pooled features [batch, head_chs] of the last forward (before dropout). */
const float *ens_tg_features(const ens_train_graph *g);

/* BN statistics of the last train forward by BN name prefix (e.g. "blocks.1.0.bn2"):
 * batch mean and biased var ([C]); NULL if no such BN. */
const float *ens_tg_bn_batch_mean(const ens_train_graph *g, const char *bn, int *channels);
const float *ens_tg_bn_batch_var(const ens_train_graph *g, const char *bn, int *channels);

/* Load a timm state_dict (F32/F16/BF16) into a graph of the same arch: every parameter and
 * running buffer must be present with its timm shape. */
ens_status ens_tg_load(ens_train_graph *g, const ens_safetensors *st, ens_error *err);
/* Save all state_dict keys as float32 (num_batches_tracked as I64), atomically. */
ens_status ens_tg_save(const ens_train_graph *g, const char *path, ens_error *err);

#endif
