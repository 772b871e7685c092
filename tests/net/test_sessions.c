/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_sessions.c - many sessions on one read-only model: two sessions (own pools) forwarding
 * from two threads at once, and one session per thread on one shared ens_pool, give exactly
 * the single-session answers; the feature maps of ens_session_run() (timm's features_only
 * maps and forward_features' head map, NCHW) match goldens/b0.safetensors. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"

#define ROUNDS 6
#define NC 1000
#define NF 1280

typedef struct {
  ens_session *s;
  const float *input;
  int batch;
  const float *want_logits, *want_features; /* the single-session answers */
  int differ, failed;
} worker;

static void *run_worker(void *arg)
{
  worker *w = arg;
  float *logits = malloc(sizeof(float) * w->batch * NC);
  float *features = malloc(sizeof(float) * w->batch * NF);
  for (int r = 0; r < ROUNDS; r++) {
    ens_error err;
    if (ens_session_forward(w->s, w->input, w->batch, logits, features, &err) != ENS_OK) {
      w->failed++;
      break;
    }
    w->differ += memcmp(logits, w->want_logits, sizeof(float) * w->batch * NC) != 0 ||
                 memcmp(features, w->want_features, sizeof(float) * w->batch * NF) != 0;
  }
  free(logits);
  free(features);
  return NULL;
}

/* Runs s0 on batch 4 and s1 on batch 1 from two threads at once, ROUNDS forwards each. */
static void concurrently(const char *what, ens_session *s0, ens_session *s1, const float *in4,
                         const float *want4[2], const float *want1[2])
{
  worker w[2] = {{s0, in4, 4, want4[0], want4[1], 0, 0}, {s1, in4, 1, want1[0], want1[1], 0, 0}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    CHECK(pthread_create(&t[i], NULL, run_worker, &w[i]) == 0, "pthread_create");
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  for (int i = 0; i < 2; i++)
    CHECK(w[i].failed == 0 && w[i].differ == 0,
          "%s: session %d (batch %d): %d forwards failed, %d of %d differ from one session", what,
          i, w[i].batch, w[i].failed, w[i].differ, ROUNDS);
}

static ens_session *session(const ens_model *m, ens_pool *pool, int threads)
{
  ens_session_options o;
  ens_session_options_init(&o);
  o.pool = pool;
  o.threads = threads;
  ens_error err;
  ens_session *s = NULL;
  CHECK_OK(ens_session_new(m, &o, &s, &err), &err);
  return s;
}

/* features_only maps and the head map of b0 against the timm goldens (parity_b0's tolerance). */
static void feature_maps(const ens_model *m, const char *golden)
{
  static const char *names[ENS_FEATURE_MAPS + 1] = {"blocks.0", "blocks.1", "blocks.2",
                                                    "blocks.4", "blocks.6", "head"};
  static const int strides[ENS_FEATURE_MAPS] = {2, 4, 8, 16, 32};
  ens_session *s = session(m, NULL, 2);
  ens_error err;
  size_t n;
  float *input = ens_test_load_f32(golden, "input", &n, NULL);
  ens_outputs out = {0};
  ens_map_info info[ENS_FEATURE_MAPS + 1];
  size_t numel[ENS_FEATURE_MAPS + 1];
  for (int i = 0; i <= ENS_FEATURE_MAPS; i++) {
    CHECK_OK(ens_session_map_info(s, i, &info[i], &err), &err);
    CHECK(strcmp(info[i].name, names[i]) == 0, "map %d is %s, timm's is %s", i, info[i].name,
          names[i]);
    CHECK(i == ENS_FEATURE_MAPS || info[i].stride == strides[i], "map %d stride %d", i,
          info[i].stride);
    numel[i] = (size_t)info[i].channels * info[i].height * info[i].width;
    float *buf = malloc(sizeof(float) * numel[i]);
    if (i < ENS_FEATURE_MAPS)
      out.maps[i] = buf;
    else
      out.head_map = buf;
  }
  CHECK(ens_session_map_info(s, ENS_FEATURE_MAPS + 1, &info[0], &err) == ENS_ERR_ARG,
        "map index out of range accepted");
  float logits[NC];
  out.logits = logits;
  CHECK_OK(ens_session_run(s, input, 1, &out, &err), &err);
  for (int i = 0; i <= ENS_FEATURE_MAPS; i++) {
    int64_t shape[4];
    size_t want_n;
    float *want = ens_test_load_f32(golden, names[i], &want_n, shape);
    CHECK(want_n == numel[i] && shape[1] == info[i].channels && shape[2] == info[i].height &&
              shape[3] == info[i].width,
          "%s: golden [%lld,%lld,%lld,%lld], session %dx%dx%d", names[i], (long long)shape[0],
          (long long)shape[1], (long long)shape[2], (long long)shape[3], info[i].channels,
          info[i].height, info[i].width);
    if (want_n == numel[i])
      ens_test_close(names[i], i < ENS_FEATURE_MAPS ? out.maps[i] : out.head_map, want, want_n,
                     1e-4, 1e-4);
    free(want);
  }
  float *want_l = ens_test_load_f32(golden, "logits", &n, NULL);
  ens_test_close("logits with maps", logits, want_l, NC, 1e-4, 1e-4);
  free(want_l);
  for (int i = 0; i < ENS_FEATURE_MAPS; i++)
    free(out.maps[i]);
  free(out.head_map);
  free(input);
  ens_session_free(s);
}

int main(void)
{
  char *weights = ens_test_weights("b0", NULL, "b0");
  char batch_golden[4096], b0_golden[4096];
  snprintf(batch_golden, sizeof batch_golden, "%s",
           ens_test_shared_path("goldens/b0_batch4.safetensors"));
  snprintf(b0_golden, sizeof b0_golden, "%s", ens_test_shared_path("goldens/b0.safetensors"));
  ens_error err;
  ens_model *m = NULL;
  CHECK_OK(ens_model_load(weights, NULL, &m, &err), &err);
  size_t n;
  float *in4 = ens_test_load_f32(batch_golden, "input", &n, NULL);
  CHECK(n == 4 * 3 * 224 * 224, "batch input has %zu values", n);

  /* single-session answers, at 2 threads (the thread count decides how work is cut) */
  float *l4 = malloc(sizeof(float) * 4 * NC), *f4 = malloc(sizeof(float) * 4 * NF);
  float l1[NC], f1[NF];
  ens_session *one = session(m, NULL, 2);
  CHECK_OK(ens_session_forward(one, in4, 4, l4, f4, &err), &err);
  CHECK_OK(ens_session_forward(one, in4, 1, l1, f1, &err), &err);
  ens_session_free(one);
  float *want_l4 = ens_test_load_f32(batch_golden, "logits", &n, NULL);
  ens_test_close("batch 4 logits", l4, want_l4, 4 * NC, 1e-4, 1e-4);
  const float *want4[2] = {l4, f4}, *want1[2] = {l1, f1};

  /* the convenience wrapper runs the same default session */
  float lm[NC];
  CHECK_OK(ens_model_forward(m, in4, 1, lm, NULL, &err), &err);
  CHECK(ens_model_get_info(m)->threads != 2 || memcmp(lm, l1, sizeof lm) == 0,
        "ens_model_forward differs from a session");

  /* two sessions with their own pools, from two threads at once */
  ens_session *a = session(m, NULL, 2), *b = session(m, NULL, 2);
  concurrently("own pools", a, b, in4, want4, want1);
  ens_session_free(a);
  ens_session_free(b);

  /* one session per thread on one shared pool: jobs from both callers interleave */
  ens_pool *pool = NULL;
  CHECK_OK(ens_pool_new(2, &pool, &err), &err);
  CHECK(ens_pool_threads(pool) == 2, "pool threads %d", ens_pool_threads(pool));
  a = session(m, pool, 0);
  b = session(m, pool, 0);
  CHECK(ens_session_threads(a) == 2, "session on the pool has %d threads", ens_session_threads(a));
  concurrently("shared pool", a, b, in4, want4, want1);
  ens_session_free(a);
  ens_session_free(b);
  ens_pool_free(pool);

  /* a bf16 session needs a model packed in bf16 at load */
  ens_session_options o;
  ens_session_options_init(&o);
  o.precision = ENS_PRECISION_BF16;
  ens_session *bad = NULL;
  CHECK(ens_session_new(m, &o, &bad, &err) == ENS_ERR_ARG && !bad,
        "bf16 session on a float32 model accepted");

  feature_maps(m, b0_golden);

  free(in4);
  free(l4);
  free(f4);
  free(want_l4);
  ens_model_free(m);
  free(weights);
  return ens_test_finish("sessions");
}
