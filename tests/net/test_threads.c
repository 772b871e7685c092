/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_threads.c - thread count does not change the answer beyond float noise; repeated
 * forwards give bit-identical answers; two models forwarding from two threads at once give
 * their single-threaded answers; random-weight
 * models are deterministic and finite; non-square inputs run with the right shapes. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ens_test.h"
#include "model_internal.h"

static float *input_b0;

static ens_model *load_threads(const char *path, int threads)
{
  ens_options o;
  ens_options_init(&o);
  o.threads = threads;
  ens_error err;
  ens_model *m = NULL;
  CHECK_OK(ens_model_load(path, &o, &m, &err), &err);
  CHECK(ens_model_get_info(m)->threads == threads, "threads %d", ens_model_get_info(m)->threads);
  return m;
}

static void one_vs_two(const char *w)
{
  ens_model *m1 = load_threads(w, 1), *m2 = load_threads(w, 2);
  float l1[1000], l2[1000];
  ens_error err;
  CHECK_OK(ens_model_forward(m1, input_b0, 1, l1, NULL, &err), &err);
  CHECK_OK(ens_model_forward(m2, input_b0, 1, l2, NULL, &err), &err);
  double maxabs = 0;
  for (int i = 0; i < 1000; i++)
    maxabs = fmax(maxabs, fabs(l1[i]));
  ens_test_close("threads 1 vs 2", l2, l1, 1000, 1e-5 * maxabs, 0);
  ens_model_free(m1);
  ens_model_free(m2);
}

/* The pool hands a held-up thread's rows to the other (threadpool.h): which thread computes
 * what varies from run to run, the answer must not. Run under both kernel tables (the
 * reference one keeps fixed ranges for its OpenBLAS calls). */
static void repeatable(const char *w)
{
  ens_model *m = load_threads(w, 2);
  float first[1000], again[1000];
  ens_error err;
  CHECK_OK(ens_model_forward(m, input_b0, 1, first, NULL, &err), &err);
  int differ = 0;
  for (int r = 0; r < 30; r++) {
    CHECK_OK(ens_model_forward(m, input_b0, 1, again, NULL, &err), &err);
    differ += memcmp(first, again, sizeof first) != 0;
  }
  CHECK(differ == 0, "2 threads: %d of 30 forwards differ from the first", differ);
  ens_model_free(m);
}

typedef struct {
  ens_model *m;
  const float *input;
  float logits[1000];
  int n;
  ens_status st;
} job;

static void *run(void *arg)
{
  job *j = arg;
  ens_error err;
  for (int r = 0; r < 3 && j->st == ENS_OK; r++)
    j->st = ens_model_forward(j->m, j->input, 1, j->logits, NULL, &err);
  return NULL;
}

static void two_models_at_once(const char *w)
{
  ens_error err;
  ens_model *a = load_threads(w, 1), *b = NULL;
  ens_options o;
  ens_options_init(&o);
  o.threads = 2;
  CHECK_OK(ens_model_new_random("b0", 1000, 42, &o, &b, &err), &err);
  float want_a[1000], want_b[1000];
  CHECK_OK(ens_model_forward(a, input_b0, 1, want_a, NULL, &err), &err);
  CHECK_OK(ens_model_forward(b, input_b0, 1, want_b, NULL, &err), &err);
  job ja = {.m = a, .input = input_b0}, jb = {.m = b, .input = input_b0};
  pthread_t ta, tb;
  pthread_create(&ta, NULL, run, &ja);
  pthread_create(&tb, NULL, run, &jb);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  CHECK(ja.st == ENS_OK && jb.st == ENS_OK, "concurrent forwards failed");
  CHECK(memcmp(ja.logits, want_a, sizeof want_a) == 0, "model A differs when run concurrently");
  CHECK(memcmp(jb.logits, want_b, sizeof want_b) == 0, "model B differs when run concurrently");
  ens_model_free(a);
  ens_model_free(b);
}

static void random_models(void)
{
  ens_error err;
  ens_model *a = NULL, *b = NULL, *c = NULL;
  CHECK_OK(ens_model_new_random("b0", 1000, 7, NULL, &a, &err), &err);
  CHECK_OK(ens_model_new_random("b0", 1000, 7, NULL, &b, &err), &err);
  CHECK_OK(ens_model_new_random("b0", 1000, 8, NULL, &c, &err), &err);
  const ens_model_info *in = ens_model_get_info(a);
  CHECK(ens_model_is_random(a) && strcmp(in->name, "tf_efficientnet_b0 (random weights)") == 0 &&
            in->weight_bytes == 0 && strcmp(in->variant, "b0") == 0,
        "random info: %s", in->name);
  CHECK(strcmp(ens_model_label(a, 0), "tench") == 0, "label 0 = %s", ens_model_label(a, 0));
  float la[1000], lb[1000], lc[1000];
  CHECK_OK(ens_model_forward(a, input_b0, 1, la, NULL, &err), &err);
  CHECK_OK(ens_model_forward(b, input_b0, 1, lb, NULL, &err), &err);
  CHECK_OK(ens_model_forward(c, input_b0, 1, lc, NULL, &err), &err);
  CHECK(memcmp(la, lb, sizeof la) == 0, "same seed, different logits");
  CHECK(memcmp(la, lc, sizeof la) != 0, "different seed, same logits");
  int finite;
  double sd = ens_test_std(la, 1000, &finite);
  printf("random b0: logits std %.3f\n", sd);
  CHECK(finite && sd > 0.05 && sd < 100, "random b0 logits: finite %d std %g", finite, sd);
  ens_model_free(a);
  ens_model_free(b);
  ens_model_free(c);
}

typedef struct {
  int stem_h, stem_w, head_h, head_w;
} shapes;

static void on_step(void *user, const char *name, const float *t, int n, int h, int w, int c)
{
  (void)t, (void)n, (void)c;
  shapes *s = user;
  if (strcmp(name, "stem") == 0)
    s->stem_h = h, s->stem_w = w;
  if (strcmp(name, "head") == 0)
    s->head_h = h, s->head_w = w;
}

static void non_square(const char *w)
{
  ens_options o;
  ens_options_init(&o);
  o.input_height = 201;
  o.input_width = 264;
  ens_error err;
  ens_model *m = NULL;
  CHECK_OK(ens_model_load(w, &o, &m, &err), &err);
  const ens_model_info *in = ens_model_get_info(m);
  CHECK(in->input_height == 201 && in->input_width == 264, "input %dx%d", in->input_width,
        in->input_height);
  float *x = malloc(sizeof(float) * 2 * 3 * 201 * 264);
  for (int i = 0; i < 2 * 3 * 201 * 264; i++)
    x[i] = input_b0[i % (3 * 224 * 224)];
  shapes s = {0};
  ens_model_set_debug_hook(m, on_step, &s);
  float l[2000];
  CHECK_OK(ens_model_forward(m, x, 2, l, NULL, &err), &err);
  ens_model_set_debug_hook(m, NULL, NULL);
  /* 201 -> 101 -> 51 -> 26 -> 13 -> 7; 264 -> 132 -> 66 -> 33 -> 17 -> 9 */
  CHECK(s.stem_h == 101 && s.stem_w == 132 && s.head_h == 7 && s.head_w == 9,
        "shapes stem %dx%d head %dx%d", s.stem_w, s.stem_h, s.head_w, s.head_h);
  float one[1000];
  CHECK_OK(ens_model_forward(m, x + 3 * 201 * 264, 1, one, NULL, &err), &err);
  ens_test_close("non-square: single vs batch", one, l + 1000, 1000, 1e-5, 1e-5);
  int finite = 1;
  for (int i = 0; i < 2000; i++)
    finite &= isfinite(l[i]) != 0;
  CHECK(finite, "non-finite logits");
  CHECK(fabs(in->gflops - 0.39 * 2 * (201.0 * 264) / (224.0 * 224)) < 0.1, "gflops %.3f",
        in->gflops);
  ens_model_free(m);
  free(x);
}

int main(void)
{
  char *w = ens_test_weights("b0", NULL, "b0");
  size_t n;
  input_b0 = ens_test_load_f32(ens_test_shared_path("goldens/b0.safetensors"), "input", &n, NULL);
  one_vs_two(w);
  repeatable(w);
  two_models_at_once(w);
  random_models();
  non_square(w);
  free(input_b0);
  free(w);
  return ens_test_finish("threads");
}
