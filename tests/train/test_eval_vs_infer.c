/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_eval_vs_infer.c - the training graph in eval mode (running-stat BN, no masks) against
 * the inference engine (ens_model_load + ens_model_forward) on the same weights: logits within
 * atol 1e-4 + rtol 1e-4. argv[1]: a variant for ens_synth_weights.py (b0, nano = w0.5 d0.5), or
 * "wW,dD": a model of those multipliers built by the training code itself (ens_tg_init, then
 * random BN statistics so the folding is exercised) and saved with ens_tg_save. argv[2]: input
 * size, argv[3]: batch. The inference loader must take every one of them: b0..l2 by name,
 * the others as custom widths / depths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ens_test.h"
#include "train_check.h"

static int ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* BN affine parameters and running statistics away from their 1 / 0 initial values. */
static void randomize_bn(ens_train_graph *g)
{
  int count = 0;
  ens_param *p = ens_tg_params(g, &count);
  for (int i = 0; i < count; i++) {
    const char *n = p[i].name;
    if (p[i].ndim != 1 || (!strstr(n, ".bn") && strncmp(n, "bn", 2) != 0))
      continue;
    for (size_t j = 0; j < p[i].numel; j++) {
      float r = ens_test_frand();
      if (ends_with(n, ".running_var") || ends_with(n, ".weight"))
        p[i].data[j] = 0.5f + 0.5f * (r + 1.0f); /* (0.5, 1.5) */
      else
        p[i].data[j] = 0.3f * r;
    }
  }
}

/* A model of width w, depth d made and saved by the training code; returns its path. */
static char *train_built_model(double w, double d, int num_classes, ens_train_arch *arch)
{
  ens_error err;
  CHECK_OK(ens_train_arch_from_mult(w, d, num_classes, arch, &err), &err);
  ens_train_graph *g;
  CHECK_OK(ens_tg_new(arch, 1, 32, 32, 1, &g, &err), &err);
  ens_tg_init(g, 5);
  ens_test_seed(3);
  randomize_bn(g);
  char *path = malloc(4200);
  snprintf(path, 4200, "%s/eval_vs_infer_w%g_d%g_%ld.safetensors", ens_test_gen_dir(), w, d,
           (long)getpid());
  CHECK_OK(ens_tg_save(g, path, &err), &err);
  ens_tg_free(g);
  return path;
}

int main(int argc, char **argv)
{
  const char *variant = argc > 1 ? argv[1] : "b0";
  int size = argc > 2 ? atoi(argv[2]) : 224, batch = argc > 3 ? atoi(argv[3]) : 2;
  double w = 0, d = 0;
  const int from_train = sscanf(variant, "w%lf,d%lf", &w, &d) == 2;
  ens_error err;
  ens_train_arch arch;
  char *wpath;
  if (from_train) {
    wpath = train_built_model(w, d, 10, &arch);
  } else {
    ens_test_shared();
    wpath = ens_test_weights(variant, NULL, variant);
  }
  ens_safetensors st;
  CHECK_OK(ens_st_open(wpath, &st, &err), &err);
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
  /* a custom width / depth has no default normalisation (the input here is already one) */
  opt.override_mean_std = 1;
  for (int c = 0; c < 3; c++)
    opt.mean[c] = 0.5f, opt.std[c] = 0.25f;
  ens_model *m = NULL;
  CHECK_OK(ens_model_load(wpath, &opt, &m, &err), &err);
  const ens_model_info *info = ens_model_get_info(m);
  printf("%s loaded as variant '%s', name '%s', %d blocks\n", variant, info->variant, info->name,
         arch.nblocks);
  /* b0..l2 keep their names; any other shape is named by its block count (no config here) */
  if (strcmp(variant, "b0") == 0)
    CHECK(strcmp(info->variant, "b0") == 0, "b0 detected as '%s'", info->variant);
  else
    CHECK(strcmp(info->variant, "custom") == 0 &&
              strstr(info->name, "tf_efficientnet (custom, ") == info->name,
          "%s: variant '%s', name '%s'", variant, info->variant, info->name);
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
  if (from_train)
    unlink(wpath);
  free(input);
  free(want);
  free(wpath);
  return ens_test_finish("eval_vs_infer");
}
