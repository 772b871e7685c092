/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_parity_b0_extra.c - b0 beyond one image: batch of 4, a 10-class head, and F16 / BF16
 * weight files (vs their goldens, and bit-identical to an F32 file of the same rounded
 * values: the dtype only changes how values are stored). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ens_test.h"
#include "model_internal.h"
#include "st_write.h"

static ens_model *load(const char *path)
{
  ens_error err;
  ens_model *m = NULL;
  CHECK_OK(ens_model_load(path, NULL, &m, &err), &err);
  return m;
}

static void batch4(void)
{
  char *w = ens_test_weights("b0", NULL, "b0");
  const char *g = ens_test_shared_path("goldens/b0_batch4.safetensors");
  size_t n;
  int64_t shape[4];
  float *input = ens_test_load_f32(g, "input", &n, shape);
  float *want = ens_test_load_f32(g, "logits", &n, NULL);
  CHECK(n == 4000 && shape[0] == 4, "batch4 golden shape");
  ens_model *m = load(w);
  ens_error err;
  float *logits = malloc(sizeof(float) * 4000);
  CHECK_OK(ens_model_forward(m, input, 4, logits, NULL, &err), &err);
  ens_test_close("b0_batch4 logits", logits, want, 4000, 1e-4, 1e-4);
  for (int i = 0; i < 4; i++) {
    int a[5], b[5];
    ens_test_topk_ids(logits + 1000 * i, 1000, 5, a);
    ens_test_topk_ids(want + 1000 * i, 1000, 5, b);
    CHECK(memcmp(a, b, sizeof a) == 0, "batch4 image %d: top-5 differs", i);
  }
  /* image 2 alone = image 2 of the batch */
  float one[1000];
  CHECK_OK(ens_model_forward(m, input + 2 * 3 * 224 * 224, 1, one, NULL, &err), &err);
  ens_test_close("b0 single vs batch", one, logits + 2000, 1000, 1e-5, 1e-5);
  ens_model_free(m);
  free(logits);
  free(input);
  free(want);
  free(w);
}

static void nc10(void)
{
  char *w = ens_test_weights("b0", "--num-classes 10", "b0_nc10");
  const char *g = ens_test_shared_path("goldens/b0_nc10.safetensors");
  size_t n;
  float *want_l = ens_test_load_f32(g, "logits", &n, NULL);
  CHECK(n == 10, "nc10 logits %zu", n);
  float *want_f = ens_test_load_f32(g, "features", &n, NULL);
  float *input =
      ens_test_load_f32(ens_test_shared_path("goldens/b0.safetensors"), "input", &n, NULL);
  ens_model *m = load(w);
  const ens_model_info *info = ens_model_get_info(m);
  CHECK(info->num_classes == 10, "num_classes %d", info->num_classes);
  CHECK(strcmp(ens_model_label(m, 3), "class_3") == 0, "label 3 = %s", ens_model_label(m, 3));
  CHECK(ens_model_label(m, 10) == NULL && ens_model_label(m, -1) == NULL, "labels out of range");
  ens_error err;
  float logits[10], features[1280];
  CHECK_OK(ens_model_forward(m, input, 1, logits, features, &err), &err);
  ens_test_close("b0_nc10 logits", logits, want_l, 10, 1e-4, 1e-4);
  ens_test_close("b0_nc10 features", features, want_f, 1280, 1e-4, 1e-4);
  ens_model_free(m);
  free(want_l);
  free(want_f);
  free(input);
  free(w);
}

/* Widens every F16/BF16 tensor of `src` into an F32 file at dst. */
static void widen_to_f32(const char *src, const char *dst)
{
  ens_safetensors st;
  ens_error err;
  CHECK_OK(ens_st_open(src, &st, &err), &err);
  st_entry *e = st_entries_of(&st);
  float **bufs = calloc((size_t)st.count, sizeof(float *));
  for (int i = 0; i < st.count; i++) {
    const ens_st_tensor *t = &st.tensors[i];
    if (t->dtype != ENS_DT_F16 && t->dtype != ENS_DT_BF16)
      continue;
    bufs[i] = malloc(sizeof(float) * (size_t)(t->numel ? t->numel : 1));
    CHECK_OK(ens_st_read_f32(&st, t, bufs[i], &err), &err);
    e[i].dtype = "F32";
    e[i].data = bufs[i];
    e[i].nbytes = sizeof(float) * (size_t)t->numel;
  }
  CHECK(st_write_file(dst, e, st.count) == 0, "cannot write %s", dst);
  for (int i = 0; i < st.count; i++)
    free(bufs[i]);
  free(bufs);
  free(e);
  ens_st_close(&st);
}

static void half_weights(const char *dtype)
{
  char args[64], tag[64], key[64], widened[4096];
  snprintf(args, sizeof args, "--dtype %s", dtype);
  snprintf(tag, sizeof tag, "b0_%s", dtype);
  char *w = ens_test_weights("b0", args, tag);
  /* per process: the refkernels run of this test may be running at the same time */
  snprintf(widened, sizeof widened, "%s/b0_%s_as_f32_%d.safetensors", ens_test_gen_dir(), dtype,
           (int)getpid());
  widen_to_f32(w, widened);

  const char *g = ens_test_shared_path("goldens/b0.safetensors");
  size_t n;
  float *input = ens_test_load_f32(g, "input", &n, NULL);
  snprintf(key, sizeof key, "logits_%sw", dtype);
  float *want = ens_test_load_f32(g, key, &n, NULL);

  ens_model *m = load(w), *m32 = load(widened);
  ens_error err;
  float logits[1000], logits32[1000];
  CHECK_OK(ens_model_forward(m, input, 1, logits, NULL, &err), &err);
  CHECK_OK(ens_model_forward(m32, input, 1, logits32, NULL, &err), &err);
  char what[64];
  snprintf(what, sizeof what, "b0 %s weights logits", dtype);
  ens_test_close(what, logits, want, 1000, 1e-4, 1e-4);
  const ens_net *a = ens_model_net(m), *b = ens_model_net(m32);
  CHECK(a->weight_floats == b->weight_floats &&
            memcmp(a->weights, b->weights, sizeof(float) * a->weight_floats) == 0,
        "%s: folded weights differ from the widened F32 file's", dtype);
  CHECK(memcmp(logits, logits32, sizeof logits) == 0, "%s: logits not bit-identical to F32", dtype);
  ens_model_free(m);
  ens_model_free(m32);
  remove(widened);
  free(input);
  free(want);
  free(w);
}

int main(void)
{
  batch4();
  nc10();
  half_weights("f16");
  half_weights("bf16");
  return ens_test_finish("parity_b0_extra");
}
