/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_parity_b0.c - b0 against timm: logits + features of all_variants_logits, then every
 * intermediate of goldens/b0.safetensors (stage by stage, through the forward's debug hook). */
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"
#include "model_internal.h"

typedef struct {
  const char *golden_path;
  int checked;
} hook_ctx;

/* Compares one NHWC intermediate with its NCHW golden. */
static void on_step(void *user, const char *name, const float *nhwc, int n, int h, int w, int c)
{
  hook_ctx *hc = user;
  size_t numel;
  int64_t shape[4];
  float *want = ens_test_load_f32(hc->golden_path, name, &numel, shape);
  CHECK(numel == (size_t)n * h * w * c, "%s: golden has %zu values, engine %d*%d*%d*%d", name,
        numel, n, h, w, c);
  if (numel == (size_t)n * h * w * c) {
    float *got = malloc(sizeof(float) * numel);
    for (int i = 0; i < n; i++)
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          for (int ch = 0; ch < c; ch++)
            got[(((size_t)i * c + ch) * h + y) * w + x] =
                nhwc[(((size_t)i * h + y) * w + x) * c + ch];
    ens_test_close(name, got, want, numel, 1e-4, 1e-4);
    free(got);
    hc->checked++;
  }
  free(want);
}

int main(void)
{
  char *weights = ens_test_weights("b0", NULL, "b0");
  char all[4096], b0g[4096];
  snprintf(all, sizeof all, "%s", ens_test_shared_path("goldens/all_variants_logits.safetensors"));
  snprintf(b0g, sizeof b0g, "%s", ens_test_shared_path("goldens/b0.safetensors"));

  ens_error err;
  ens_model *m = NULL;
  CHECK_OK(ens_model_load(weights, NULL, &m, &err), &err);
  const ens_model_info *info = ens_model_get_info(m);
  CHECK(strcmp(info->variant, "b0") == 0, "variant %s", info->variant);
  CHECK(strcmp(info->name, "tf_efficientnet_b0.ns_jft_in1k") == 0, "name %s", info->name);
  CHECK(info->num_classes == 1000 && info->num_features == 1280, "classes %d features %d",
        info->num_classes, info->num_features);
  CHECK(info->input_height == 224 && info->input_width == 224, "input %dx%d", info->input_width,
        info->input_height);

  size_t n_in;
  float *input = ens_test_load_f32(all, "b0.input", &n_in, NULL);
  CHECK(n_in == 3 * 224 * 224, "b0.input has %zu values", n_in);
  float logits[1000], features[1280];
  CHECK_OK(ens_model_forward(m, input, 1, logits, features, &err), &err);
  size_t n;
  float *want_l = ens_test_load_f32(all, "b0.logits", &n, NULL);
  float *want_f = ens_test_load_f32(all, "b0.features", &n, NULL);
  ens_test_close("b0 logits", logits, want_l, 1000, 1e-4, 1e-4);
  ens_test_close("b0 features", features, want_f, 1280, 1e-4, 1e-4);
  int top_got[5], top_want[5];
  ens_test_topk_ids(logits, 1000, 5, top_got);
  ens_test_topk_ids(want_l, 1000, 5, top_want);
  CHECK(memcmp(top_got, top_want, sizeof top_got) == 0, "top-5 differs");

  /* Stage by stage (b0.safetensors uses the same seed-1234 input). */
  float *input2 = ens_test_load_f32(b0g, "input", &n_in, NULL);
  CHECK(n_in == 3 * 224 * 224 && memcmp(input, input2, sizeof(float) * n_in) == 0,
        "b0.safetensors input differs from all_variants b0.input");
  hook_ctx hc = {.golden_path = b0g};
  ens_model_set_debug_hook(m, on_step, &hc);
  CHECK_OK(ens_model_forward(m, input2, 1, logits, features, &err), &err);
  ens_model_set_debug_hook(m, NULL, NULL);
  /* stem + 16 blocks + 7 stages + head + features + logits */
  CHECK(hc.checked == 1 + 16 + 7 + 3, "checked %d intermediates", hc.checked);

  free(input);
  free(input2);
  free(want_l);
  free(want_f);
  ens_model_free(m);
  free(weights);
  return ens_test_finish("parity_b0");
}
