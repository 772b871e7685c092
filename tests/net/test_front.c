/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_front.c - a batch's front (plan.h): the stem and the large-resolution blocks run a chunk
 * of images at a time, the rest batch-wide. Every image of a batch gets the logits, features
 * and features_only maps it gets alone, for batches that split into whole and partial chunks,
 * alternating on one session (the arena is reused buffer by buffer); and at b0's 224x224 each
 * further image of a batch costs the arena far less than a whole image's activations. */
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"
#include "session_internal.h"

#define NC 1000
#define NF 1280
#define MAX_N 12

/* Feature maps of n images of session s, logits and features: out->maps sized from map_info. */
static void alloc_outputs(ens_session *s, int n, ens_outputs *out, size_t *numel)
{
  ens_error err;
  memset(out, 0, sizeof *out);
  for (int i = 0; i < ENS_FEATURE_MAPS; i++) {
    ens_map_info info;
    CHECK_OK(ens_session_map_info(s, i, &info, &err), &err);
    numel[i] = (size_t)info.channels * info.height * info.width;
    out->maps[i] = malloc(sizeof(float) * numel[i] * n);
  }
  out->logits = malloc(sizeof(float) * NC * n);
  out->features = malloc(sizeof(float) * NF * n);
}

static void free_outputs(ens_outputs *out)
{
  for (int i = 0; i < ENS_FEATURE_MAPS; i++)
    free(out->maps[i]);
  free(out->logits);
  free(out->features);
}

static ens_session *new_session(const ens_model *m)
{
  ens_session_options o;
  ens_session_options_init(&o);
  o.threads = 2;
  ens_session *s = NULL;
  ens_error err;
  CHECK_OK(ens_session_new(m, &o, &s, &err), &err);
  return s;
}

/* At 96x96 b0's front is the 48x48 and 24x24 blocks in chunks of several images: batches of
 * 7 and 12 end on a partial chunk, 1..3 have no front. */
static void batches_match_single_images(const ens_model *m, int ih, int iw)
{
  static const int order[] = {7, 1, 12, 3, 7, 2, 5};
  const size_t img = (size_t)3 * ih * iw;
  float *input = malloc(sizeof(float) * img * MAX_N);
  unsigned state = 12345;
  for (size_t i = 0; i < img * MAX_N; i++) {
    state = state * 1664525u + 1013904223u;
    input[i] = (float)((state >> 8) * (4.0 / 16777216.0) - 2.0);
  }
  ens_error err;
  size_t numel[ENS_FEATURE_MAPS];
  /* each image alone, on a session of its own */
  ens_session *one = new_session(m);
  ens_outputs want;
  alloc_outputs(one, MAX_N, &want, numel);
  for (int k = 0; k < MAX_N; k++) {
    ens_outputs o = {.logits = want.logits + (size_t)k * NC,
                     .features = want.features + (size_t)k * NF};
    for (int i = 0; i < ENS_FEATURE_MAPS; i++)
      o.maps[i] = want.maps[i] + (size_t)k * numel[i];
    CHECK_OK(ens_session_run(one, input + (size_t)k * img, 1, &o, &err), &err);
  }
  ens_session_free(one);

  ens_session *s = new_session(m);
  ens_outputs got;
  alloc_outputs(s, MAX_N, &got, numel);
  int fronts = 0, partial = 0;
  for (size_t t = 0; t < sizeof order / sizeof order[0]; t++) {
    const int n = order[t];
    CHECK_OK(ens_session_run(s, input, n, &got, &err), &err);
    int blocks, chunk;
    ens_session_front(s, &blocks, &chunk);
    fronts += blocks > 0;
    partial += blocks > 0 && n % chunk != 0;
    char what[96];
    snprintf(what, sizeof what, "%dx%d batch %d (front %d blocks, chunks of %d): logits", ih, iw, n,
             blocks, chunk);
    ens_test_close(what, got.logits, want.logits, (size_t)n * NC, 1e-5, 1e-5);
    snprintf(what, sizeof what, "%dx%d batch %d: features", ih, iw, n);
    ens_test_close(what, got.features, want.features, (size_t)n * NF, 1e-5, 1e-5);
    for (int i = 0; i < ENS_FEATURE_MAPS; i++) {
      snprintf(what, sizeof what, "%dx%d batch %d: map %d", ih, iw, n, i);
      ens_test_close(what, got.maps[i], want.maps[i], (size_t)n * numel[i], 1e-5, 1e-5);
    }
  }
  CHECK(fronts >= 3 && partial >= 2, "%dx%d: %d batches ran a front, %d ended on a partial chunk",
        ih, iw, fronts, partial);
  free_outputs(&got);
  free_outputs(&want);
  ens_session_free(s);
  free(input);
}

/* Arena bytes of a fresh session after one forward of batch n (zero input). */
static size_t arena_after(const ens_model *m, int n)
{
  ens_session *s = new_session(m);
  float *x = calloc((size_t)n * 3 * 224 * 224, sizeof(float));
  float *l = malloc(sizeof(float) * NC * n);
  ens_error err;
  CHECK_OK(ens_session_forward(s, x, n, l, NULL, &err), &err);
  const size_t bytes = ens_session_arena_bytes(s);
  ens_session_free(s);
  free(x);
  free(l);
  return bytes;
}

int main(void)
{
  char *weights = ens_test_weights("b0", NULL, "b0");
  ens_error err;
  ens_options opt;
  ens_options_init(&opt);
  opt.input_height = opt.input_width = 96;
  ens_model *m96 = NULL;
  CHECK_OK(ens_model_load(weights, &opt, &m96, &err), &err);
  batches_match_single_images(m96, 96, 96);
  ens_model_free(m96);

  ens_model *m = NULL;
  CHECK_OK(ens_model_load(weights, NULL, &m, &err), &err);
  const size_t a1 = arena_after(m, 1), a8 = arena_after(m, 8);
  const double per_image = (double)(a8 - a1) / 7.0 / 1048576.0;
  printf("b0 224x224 arena: batch 1 %.1f MiB, batch 8 %.1f MiB, %.2f MiB per further image\n",
         a1 / 1048576.0, a8 / 1048576.0, per_image);
  /* one image's stem output alone is 1.5 MiB, its first expansion 4.6 MiB: only the late
   * blocks' activations (~1.4 MiB) may grow with the batch */
  CHECK(per_image < 1.6, "each further image of a batch costs %.2f MiB of arena", per_image);
  ens_model_free(m);
  free(weights);
  return ens_test_finish("front");
}
