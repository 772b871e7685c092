/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_b0_train_step.c - tf_efficientnet_b0 (1000 classes, synthetic weights) one train-mode
 * forward + backward at batch 2 @224 against timm (goldens/train/b0_train_step.safetensors):
 * loss, logits, the L2 norm of all 213 parameter gradients (in the golden's
 * named_parameters order), conv_stem / classifier gradients. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"
#include "train_check.h"

int main(void)
{
  char *gpath = strdup(ens_test_shared_path("goldens/train/b0_train_step.safetensors"));
  char *wpath = ens_test_weights("b0", NULL, "b0");
  ens_error err;
  ens_safetensors st, gst;
  CHECK_OK(ens_st_open(wpath, &st, &err), &err);
  ens_train_arch arch, arch2;
  CHECK_OK(ens_train_arch_from_st(&st, &arch, &err), &err);
  CHECK_OK(ens_train_arch_from_mult(1.0, 1.0, 1000, &arch2, &err), &err);
  CHECK(ens_train_arch_equal(&arch, &arch2), "b0 arch from shapes != from multipliers");
  ens_train_graph *g;
  CHECK_OK(ens_tg_new(&arch, 2, 224, 224, 2, &g, &err), &err);
  CHECK_OK(ens_tg_load(g, &st, &err), &err);
  ens_st_close(&st);

  size_t n;
  float *input = ens_test_load_f32(gpath, "input", &n, NULL);
  float *target = ens_test_load_f32(gpath, "target", &n, NULL);
  float loss = ens_tg_forward(g, input, target, 0.1f, 1);
  ens_tg_backward(g, NULL);

  float *want = ens_test_load_f32(gpath, "loss", &n, NULL);
  printf("loss %.7f want %.7f\n", loss, want[0]);
  CHECK(fabs(loss - want[0]) <= 1e-5 + 1e-5 * fabs(want[0]), "loss %.7g vs %.7g", loss, want[0]);
  free(want);
  want = ens_test_load_f32(gpath, "logits", &n, NULL);
  ens_test_close("logits", ens_tg_logits(g), want, n, 1e-4, 1e-4);
  free(want);

  const char *names[] = {"conv_stem.weight", "classifier.weight", "classifier.bias"};
  for (int i = 0; i < 3; i++) {
    char key[128];
    snprintf(key, sizeof key, "%s.grad", names[i]);
    ens_param *p = train_find_param(g, names[i]);
    want = ens_test_load_f32(gpath, key, &n, NULL);
    CHECK(p && n == p->numel, "%s size", key);
    train_check_scaled(key, p->grad, want, n, 1e-4, 1e-6, 1);
    free(want);
  }

  /* grad norms in the order of the metadata list grad_norm_keys */
  CHECK_OK(ens_st_open(gpath, &gst, &err), &err);
  const char *keys = ens_st_meta(&gst, "grad_norm_keys");
  CHECK(keys != NULL, "no grad_norm_keys metadata");
  float *norms = ens_test_load_f32(gpath, "grad_norms", &n, NULL);
  int count = 0;
  double worst = 0;
  const char *worst_name = "";
  char name[ENS_PARAM_NAME_MAX];
  for (const char *s = keys ? strchr(keys, '"') : NULL; s; s = strchr(s, '"')) {
    const char *e = strchr(s + 1, '"');
    if (!e)
      break;
    snprintf(name, sizeof name, "%.*s", (int)(e - s - 1), s + 1);
    s = e + 1;
    ens_param *p = train_find_param(g, name);
    CHECK(p && p->grad, "golden grad norm of unknown parameter %s", name);
    if (!p || count >= (int)n)
      continue;
    double sq = 0;
    for (size_t j = 0; j < p->numel; j++)
      sq += (double)p->grad[j] * p->grad[j];
    double got = sqrt(sq), w = norms[count++];
    double d = fabs(got - w);
    if (train_is_zero_grad_bias(name)) {
      CHECK(got <= 1e-6, "%s: analytically zero, norm %.3g", name, got);
    } else {
      CHECK(d <= 1e-4 * w + 1e-6, "%s grad norm %.8g want %.8g", name, got, w);
      if (w > 0 && d / w > worst) {
        worst = d / w;
        snprintf(name, sizeof name, "%s", p->name);
        worst_name = p->name;
      }
    }
  }
  printf("%d grad norms: worst relative %.3g (%s)\n", count, worst, worst_name);
  CHECK(count == 213 && n == 213, "%d grad norms compared, golden has %zu", count, n);
  ens_st_close(&gst);
  free(norms);
  free(input);
  free(target);
  free(wpath);
  free(gpath);
  ens_tg_free(g);
  return ens_test_finish("b0_train_step");
}
