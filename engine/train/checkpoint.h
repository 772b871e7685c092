/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* checkpoint.h - the training state in one safetensors file (internal): every parameter and
 * BN buffer of the graph (its own layout, bit for bit), num_batches_tracked, the optimizer
 * state, the EMA copy and where the loop stood. Written atomically, so a failed write (full
 * disk) leaves the previous checkpoint intact. */
#ifndef ENS_CHECKPOINT_H
#define ENS_CHECKPOINT_H

#include <stdint.h>

#include "ema.h"
#include "optim.h"
#include "train_graph.h"

/* Where the loop stands: `step` optimizer steps done, the next one is batch `batch` of epoch
 * `epoch` (0-based). The rest identifies the run a checkpoint belongs to. */
typedef struct {
  int epoch, batch;
  long long step;
  int epochs, steps_per_epoch, batch_size;
  uint64_t seed;
  char phase[32];
} ens_checkpoint_pos;

ens_status ens_checkpoint_save(const char *path, ens_train_graph *g, const ens_optimizer *opt,
                               const ens_ema *ema, const ens_checkpoint_pos *pos, ens_error *err);

/* Restores g, opt and ema (ema may be NULL only if the checkpoint has none) from path. The
 * checkpoint must hold exactly this network's tensors and have been written by a run with the
 * same epochs, steps per epoch, batch size, seed and phase as `expect` (else an error naming
 * what differs); *pos receives where it stopped. */
ens_status ens_checkpoint_load(const char *path, ens_train_graph *g, ens_optimizer *opt,
                               ens_ema *ema, const ens_checkpoint_pos *expect,
                               ens_checkpoint_pos *pos, ens_error *err);

#endif
