/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_eval_vs_infer.c - the training graph in eval mode (running-stat BN, no masks) against
 * the inference engine (ens_model_load + ens_model_forward) on the same weights: logits within
 * atol 1e-4 + rtol 1e-4. argv[1]: variant for ens_synth_weights.py (b0; nano only if the
 * inference loader accepts it), argv[2]: input size, argv[3]: batch. */
#include <stdio.h>
#include <stdlib.h>

#include "ens_test.h"
#include "train_check.h"

int main(int argc, char **argv)
{
  const char *variant = argc > 1 ? argv[1] : "b0";
  int size = argc > 2 ? atoi(argv[2]) : 224, batch = argc > 3 ? atoi(argv[3]) : 2;
  ens_test_shared();
  char *wpath = ens_test_weights(variant, NULL, variant);
  ens_error err;
  ens_safetensors st;
  CHECK_OK(ens_st_open(wpath, &st, &err), &err);
  ens_train_arch arch;
  CHECK_OK(ens_train_arch_from_st(&st, &arch, &err), &err);
  ens_train_graph *g;
  CHECK_OK(ens_tg_new(&arch, batch, size, size, 2, &g, &err), &err);
  CHECK_OK(ens_tg_load(g, &st, &err), &err);
  ens_st_close(&st);

  ens_options opt;
  ens_options_init(&opt);
  opt.threads = 2;
  opt.input_height = opt.input_width = size;
  opt.max_batch = batch;
  ens_model *m = NULL;
  ens_status s = ens_model_load(wpath, &opt, &m, &err);
  if (s != ENS_OK)
    ens_test_skip("the inference loader does not take %s: %s", variant, err.message);
  ens_test_seed(11);
  size_t n = (size_t)batch * 3 * size * size;
  float *input = ens_test_randv(n, 1.5f);
  float *want = malloc((size_t)batch * arch.num_classes * sizeof *want);
  CHECK_OK(ens_model_forward(m, input, batch, want, NULL, &err), &err);
  ens_tg_forward(g, input, NULL, 0.0f, 0);
  ens_test_close("eval logits vs inference", ens_tg_logits(g), want,
                 (size_t)batch * arch.num_classes, 1e-4, 1e-4);
  CHECK(*ens_tg_num_batches_tracked(g) == 0, "eval forward counted a batch");
  ens_model_free(m);
  ens_tg_free(g);
  free(input);
  free(want);
  free(wpath);
  return ens_test_finish("eval_vs_infer");
}
