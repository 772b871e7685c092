/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_nano_train_step.c - one train-mode forward + backward of the nano model (w0.5 d0.5,
 * 10 classes, batch 8 @64) against timm's (goldens/train/nano_train_step.safetensors): loss,
 * logits, input.grad, all 135 parameter gradients, BN batch statistics and running stats,
 * at the README's tolerances. Optional argv[1]: thread count (default 2). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"
#include "train_check.h"

int main(int argc, char **argv)
{
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  const char *golden = ens_test_shared_path("goldens/train/nano_train_step.safetensors");
  char *gpath = strdup(golden);
  char *wpath = ens_test_weights("nano", NULL, "nano");
  ens_error err;
  ens_safetensors st;
  CHECK_OK(ens_st_open(wpath, &st, &err), &err);
  ens_train_arch arch, arch2;
  CHECK_OK(ens_train_arch_from_st(&st, &arch, &err), &err);
  CHECK_OK(ens_train_arch_from_mult(0.5, 0.5, 10, &arch2, &err), &err);
  CHECK(ens_train_arch_equal(&arch, &arch2), "nano arch from shapes != from multipliers");
  ens_train_graph *g;
  CHECK_OK(ens_tg_new(&arch, 8, 64, 64, threads, &g, &err), &err);
  CHECK_OK(ens_tg_load(g, &st, &err), &err);
  ens_st_close(&st);

  size_t n;
  int64_t shape[4];
  float *input = ens_test_load_f32(gpath, "input", &n, shape);
  CHECK(n == 8 * 3 * 64 * 64, "input size %zu", n);
  float *target = ens_test_load_f32(gpath, "target", &n, NULL);
  float *input_grad = malloc(8 * 3 * 64 * 64 * sizeof(float));
  float loss = ens_tg_forward(g, input, target, 0.1f, 1);
  ens_tg_backward(g, input_grad);

  float *want = ens_test_load_f32(gpath, "loss", &n, NULL);
  printf("loss %.7f want %.7f\n", loss, want[0]);
  CHECK(fabs(loss - want[0]) <= 1e-5 + 1e-5 * fabs(want[0]), "loss %.7g vs %.7g", loss, want[0]);
  free(want);
  want = ens_test_load_f32(gpath, "logits", &n, NULL);
  ens_test_close("logits", ens_tg_logits(g), want, n, 1e-4, 1e-4);
  free(want);
  want = ens_test_load_f32(gpath, "input.grad", &n, NULL);
  train_check_scaled("input.grad", input_grad, want, n, 1e-4, 1e-6, 1);
  free(want);

  int np, ngrads = 0, nbn = 0;
  ens_param *params = ens_tg_params(g, &np);
  double worst = 0, worst_zero = 0;
  const char *worst_name = "";
  for (int i = 0; i < np; i++) {
    ens_param *p = &params[i];
    char key[160];
    if (p->is_buffer)
      continue;
    snprintf(key, sizeof key, "%s.grad", p->name);
    want = ens_test_load_f32(gpath, key, &n, NULL);
    CHECK(n == p->numel, "%s: %zu values, golden %zu", key, p->numel, n);
    float *got = malloc(p->numel * sizeof *got);
    ens_tg_param_to_timm(p, p->grad, got);
    if (train_is_zero_grad_bias(p->name)) {
      /* analytically zero: absolute bound only (README) */
      train_check_scaled(key, got, want, n, 0.0, 1e-6, 0);
      double m = 0; /* the ratio means nothing here; report max |c| */
      for (size_t j = 0; j < n; j++)
        m = fabs(got[j]) > m ? fabs(got[j]) : m;
      worst_zero = m > worst_zero ? m : worst_zero;
    } else {
      double r = train_check_scaled(key, got, want, n, 1e-4, 1e-6, 0);
      if (r > worst) {
        worst = r;
        worst_name = p->name;
      }
    }
    ngrads++;
    free(got);
    free(want);
  }
  printf("%d parameter grads: worst max|c-g|/max|g| = %.3g (%s); analytically-zero biases "
         "max|c| = %.3g\n",
         ngrads, worst, worst_name, worst_zero);
  CHECK(ngrads == 135, "%d parameter tensors, expected 135", ngrads);

  /* BN statistics and running buffers */
  double worst_stat = 0;
  for (int i = 0; i < np; i++) {
    ens_param *p = &params[i];
    size_t len = strlen(p->name);
    if (!p->is_buffer || len < 12 || strcmp(p->name + len - 12, ".running_var"))
      continue;
    char bn[128], key[160];
    snprintf(bn, sizeof bn, "%.*s", (int)(len - 12), p->name);
    int C;
    const float *mean = ens_tg_bn_batch_mean(g, bn, &C);
    const float *var = ens_tg_bn_batch_var(g, bn, &C);
    const ens_param *rm = train_find_param(g, strcat(strcpy(key, bn), ".running_mean"));
    struct {
      const char *suffix;
      const float *got;
    } items[4] = {{"batch_mean", mean},
                  {"batch_var", var},
                  {"running_mean.after", rm->data},
                  {"running_var.after", p->data}};
    for (int k = 0; k < 4; k++) {
      snprintf(key, sizeof key, "%s.%s", bn, items[k].suffix);
      want = ens_test_load_f32(gpath, key, &n, NULL);
      CHECK((int)n == C, "%s: %d channels vs %zu", key, C, n);
      for (size_t j = 0; j < n; j++) {
        double d = fabs((double)items[k].got[j] - want[j]);
        worst_stat = d > worst_stat ? d : worst_stat;
        if (d > 1e-5 + 1e-4 * fabs(want[j])) {
          printf("%s[%zu]: got %.7g want %.7g FAIL\n", key, j, items[k].got[j], want[j]);
          ens_test_failures++;
          break;
        }
      }
      free(want);
    }
    nbn++;
  }
  printf("%d BN layers: batch_mean/var, running_*.after max|d| = %.3g\n", nbn, worst_stat);
  CHECK(nbn == 31, "%d BN layers, expected 31", nbn);
  CHECK(*ens_tg_num_batches_tracked(g) == 1, "num_batches_tracked");

  free(input);
  free(target);
  free(input_grad);
  free(wpath);
  free(gpath);
  ens_tg_free(g);
  return ens_test_finish("nano_train_step");
}
