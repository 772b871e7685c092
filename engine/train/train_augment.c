/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_augment.c - RandAugment plugged into batch assembly (see train_augment.h). */
#include "train_augment.h"

#include <stdlib.h>

#include "error.h"
#include "randaugment.h"

struct ens_train_augment {
  ens_randaugment policy;
};

ens_status ens_train_augment_new(const char *policy, int channels, ens_train_augment **out,
                                 ens_error *err)
{
  *out = NULL;
  ens_train_augment *a = calloc(1, sizeof *a);
  if (!a)
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory for RandAugment");
  ens_ra_hparams hp;
  ens_ra_hparams_default(&hp);
  hp.translate_const = 12;
  hp.fill[0] = hp.fill[1] = hp.fill[2] = 0;
  ens_status st = ens_randaugment_parse(policy, &hp, &a->policy, err);
  if (st == ENS_OK && channels == 1)
    st = ens_randaugment_drop_ops(&a->policy, "Invert,Color", err);
  if (st != ENS_OK) {
    free(a);
    return st;
  }
  *out = a;
  return ENS_OK;
}

void ens_train_augment_free(ens_train_augment *a)
{
  free(a);
}

static void apply(void *ctx, uint8_t *img, int w, int h, int c, ens_rng *rng)
{
  const ens_train_augment *a = ctx;
  ens_error err;
  /* Only an allocation failure can fail here; the sample then stays unaugmented. */
  (void)ens_randaugment_apply(&a->policy, img, w, h, c, rng, &err);
}

void ens_train_augment_hook(ens_train_augment *a, ens_batch_config *c)
{
  c->augment = apply;
  c->augment_ctx = a;
}
