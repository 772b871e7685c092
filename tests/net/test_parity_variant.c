/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_parity_variant.c - logits + features of one variant vs goldens/all_variants_logits.
 * Usage: test_parity_variant <tag>, tag = b0..b7, l2 (at 800) or l2_475. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ens_test.h"

/* ens_test_input()'s file: safetensors with key "input", or (ens_make_input.py picks raw when
 * --out does not end in .safetensors) bare float32 of exactly numel values. */
static float *load_input(const char *path, size_t numel, size_t *n_in)
{
  size_t len;
  char *bytes = ens_test_read_file(path, &len);
  if (len == numel * sizeof(float)) {
    float *x = malloc(numel * sizeof(float));
    memcpy(x, bytes, len);
    free(bytes);
    *n_in = numel;
    return x;
  }
  free(bytes);
  return ens_test_load_f32(path, "input", n_in, NULL);
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: %s <b0..b7|l2|l2_475>\n", argv[0]);
    return 2;
  }
  const char *tag = argv[1];
  char variant[8];
  snprintf(variant, sizeof variant, "%.2s", tag);
  const int is_l2_475 = strcmp(tag, "l2_475") == 0;
  const int big = strcmp(variant, "b7") == 0 || strcmp(variant, "l2") == 0;

  char all[4096], key[64];
  snprintf(all, sizeof all, "%s", ens_test_shared_path("goldens/all_variants_logits.safetensors"));
  char *weights = ens_test_weights(variant, NULL, variant);

  ens_options opt;
  ens_options_init(&opt);
  if (is_l2_475)
    opt.input_height = opt.input_width = 475;
  ens_error err;
  ens_model *m = NULL;
  double t0 = now();
  CHECK_OK(ens_model_load(weights, &opt, &m, &err), &err);
  double t1 = now();
  const ens_model_info *info = ens_model_get_info(m);

  /* b0 and b3 inputs are stored in the goldens; the others are regenerated with numpy. */
  float *input;
  size_t n_in;
  if (strcmp(tag, "b0") == 0 || strcmp(tag, "b3") == 0) {
    snprintf(key, sizeof key, "%s.input", tag);
    input = ens_test_load_f32(all, key, &n_in, NULL);
  } else {
    char *ip = ens_test_input(tag);
    input = load_input(ip, (size_t)3 * info->input_height * info->input_width, &n_in);
    free(ip);
  }
  t1 = now();
  CHECK(strcmp(info->variant, variant) == 0, "detected %s, expected %s", info->variant, variant);
  CHECK(n_in == (size_t)3 * info->input_height * info->input_width,
        "input has %zu values for %dx%d", n_in, info->input_width, info->input_height);

  float *logits = malloc(sizeof(float) * info->num_classes);
  float *features = malloc(sizeof(float) * info->num_features);
  CHECK_OK(ens_model_forward(m, input, 1, logits, features, &err), &err);
  double t2 = now();
  printf("%s: load %.2f s, forward %.2f s (%d threads, kernels %s)\n", tag, t1 - t0, t2 - t1,
         info->threads, getenv("ENS_KERNELS") ? getenv("ENS_KERNELS") : "default");

  size_t n;
  snprintf(key, sizeof key, "%s.logits", tag);
  float *want_l = ens_test_load_f32(all, key, &n, NULL);
  CHECK(n == (size_t)info->num_classes, "%zu golden logits", n);
  snprintf(key, sizeof key, "%s.features", tag);
  float *want_f = ens_test_load_f32(all, key, &n, NULL);
  CHECK(n == (size_t)info->num_features, "%zu golden features", n);
  const double atol = big ? 5e-4 : 1e-4;
  char what[64];
  snprintf(what, sizeof what, "%s logits", tag);
  ens_test_close(what, logits, want_l, (size_t)info->num_classes, atol, 1e-4);
  snprintf(what, sizeof what, "%s features", tag);
  ens_test_close(what, features, want_f, (size_t)info->num_features, atol, 1e-4);
  int top_got[5], top_want[5];
  ens_test_topk_ids(logits, info->num_classes, 5, top_got);
  ens_test_topk_ids(want_l, info->num_classes, 5, top_want);
  CHECK(memcmp(top_got, top_want, sizeof top_got) == 0, "top-5 differs: %d %d %d %d %d", top_got[0],
        top_got[1], top_got[2], top_got[3], top_got[4]);

  free(input);
  free(logits);
  free(features);
  free(want_l);
  free(want_f);
  ens_model_free(m);
  free(weights);
  return ens_test_finish(tag);
}
