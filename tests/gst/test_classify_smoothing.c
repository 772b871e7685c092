/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_classify_smoothing.c - smoothing=ema reduces top-1 label flicker.
 *
 * Random and synthetic weights give nearly input-independent outputs (their top-1 never
 * changes), so the test builds an input-sensitive 2-class model: synthetic b0 weights whose
 * classifier is replaced by +-d / sigma along a random direction d of the pooled features,
 * centred on the mean feature of the test sequence, plus a small bias towards class 0. On a
 * sequence of one picture with fresh noise per frame, the unsmoothed top-1 then flickers
 * between the classes; the EMA of the probabilities must flicker less. Prints the counts. */
#include "gst_test_util.h"

#include <math.h>

#include "ens_test.h"
#include "safetensors.h"

#define FRAMES 100
#define NOISE 40
#define SIZE 64

static GstBuffer *noisy_frame(guint i, GstVideoInfo *info)
{
  guint8 *rgb = test_rgb_picture(SIZE, SIZE, 3, NOISE, 1000 + i);
  GstBuffer *b = test_frame(GST_VIDEO_FORMAT_RGB, SIZE, SIZE, rgb, 0, info);
  g_free(rgb);
  return b;
}

/* Pooled features of every frame of the sequence under model m. */
static float *sequence_features(ens_model *m, gint *nf)
{
  const ens_model_info *mi = ens_model_get_info(m);
  *nf = mi->num_features;
  ens_preprocess_params pp;
  ens_model_preprocess_params(m, &pp);
  float *input = g_new(float, 3 * pp.out_height * pp.out_width);
  float *feats = g_new(float, (gsize)FRAMES * mi->num_features);
  float logits[2];
  for (guint i = 0; i < FRAMES; i++) {
    guint8 *rgb = test_rgb_picture(SIZE, SIZE, 3, NOISE, 1000 + i);
    ens_image img = {ENS_PIXEL_RGB, SIZE, SIZE, {rgb}, {SIZE * 3}, ENS_YUV_BT601};
    ens_error err;
    fail_unless(ens_preprocess(&pp, &img, NULL, input, &err) == ENS_OK, "%s", err.message);
    fail_unless(ens_model_forward(m, input, 1, logits, feats + (gsize)i * mi->num_features, &err) ==
                    ENS_OK,
                "%s", err.message);
    g_free(rgb);
  }
  g_free(input);
  return feats;
}

/* Writes the input-sensitive 2-class model; returns its path (g_free). */
static gchar *make_sensitive_model(void)
{
  char *base = ens_test_weights("b0", "--num-classes 2", "b0_nc2");
  ens_options opt;
  ens_options_init(&opt);
  opt.threads = TEST_THREADS;
  opt.input_height = opt.input_width = SIZE;
  ens_model *m = NULL;
  ens_error err;
  fail_unless(ens_model_load(base, &opt, &m, &err) == ENS_OK, "%s", err.message);
  gint nf;
  float *feats = sequence_features(m, &nf);
  ens_model_free(m);

  double *mean = g_new0(double, nf), *d = g_new(double, nf);
  for (guint i = 0; i < FRAMES; i++)
    for (gint j = 0; j < nf; j++)
      mean[j] += feats[(gsize)i * nf + j] / FRAMES;
  GRand *rand = g_rand_new_with_seed(7);
  for (gint j = 0; j < nf; j++)
    d[j] = g_rand_double_range(rand, -1, 1);
  g_rand_free(rand);
  double var = 0;
  for (guint i = 0; i < FRAMES; i++) {
    double s = 0;
    for (gint j = 0; j < nf; j++)
      s += d[j] * (feats[(gsize)i * nf + j] - mean[j]);
    var += s * s / FRAMES;
  }
  double sigma = sqrt(var), dm = 0;
  fail_unless(sigma > 0);
  for (gint j = 0; j < nf; j++)
    dm += d[j] * mean[j];

  gchar *bytes;
  gsize len;
  fail_unless(g_file_get_contents(base, &bytes, &len, NULL));
  ens_safetensors st;
  fail_unless(ens_st_parse((const uint8_t *)bytes, len, base, &st, &err) == ENS_OK, "%s",
              err.message);
  const ens_st_tensor *w = ens_st_find(&st, "classifier.weight");
  const ens_st_tensor *b = ens_st_find(&st, "classifier.bias");
  fail_unless(w && b && w->dtype == ENS_DT_F32 && b->dtype == ENS_DT_F32);
  fail_unless(w->numel == 2 * nf && b->numel == 2);
  float *wd = (float *)(bytes + (w->data - (const uint8_t *)bytes));
  float *bd = (float *)(bytes + (b->data - (const uint8_t *)bytes));
  /* logit0 - logit1 = 2 * (d.(f - mean) / sigma + 0.5): class 0 on ~70% of frames */
  for (gint j = 0; j < nf; j++) {
    wd[j] = (float)(d[j] / sigma);
    wd[nf + j] = (float)(-d[j] / sigma);
  }
  bd[0] = (float)(-dm / sigma + 0.5);
  bd[1] = (float)(dm / sigma - 0.5);
  ens_st_close(&st);
  gchar *out = g_build_filename(ens_test_gen_dir(), "gst_smoothing_sensitive.safetensors", NULL);
  gchar *tmp = g_strdup_printf("%s.%d.tmp", out, (int)getpid());
  fail_unless(g_file_set_contents(tmp, bytes, len, NULL));
  fail_unless(rename(tmp, out) == 0);
  g_free(tmp);
  g_free(bytes);
  g_free(mean);
  g_free(d);
  g_free(feats);
  free(base);
  return out;
}

/* Top-1 changes over the sequence; *first_score: the first frame's top-1 score. */
static guint count_flips(const gchar *model, const gchar *smoothing, gfloat *first_score)
{
  GstVideoInfo info;
  gst_buffer_unref(noisy_frame(0, &info));
  gchar *desc = g_strdup_printf("ensclassify model=\"%s\" input-size=%d threads=%d mode=sync "
                                "smoothing=%s smoothing-alpha=0.3",
                                model, SIZE, TEST_THREADS, smoothing);
  GstHarness *h = test_harness_new(desc);
  g_free(desc);
  gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
  gint prev = -1;
  guint flips = 0;
  for (guint i = 0; i < FRAMES; i++) {
    fail_unless_equals_int(gst_harness_push(h, noisy_frame(i, NULL)), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull(h);
    GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
    fail_unless(m && m->fresh && m->n_entries == 2);
    if (i == 0)
      *first_score = m->entries[0].score;
    if (prev >= 0 && m->entries[0].class_id != prev)
      flips++;
    prev = m->entries[0].class_id;
    gst_buffer_unref(out);
  }
  gst_harness_teardown(h);
  return flips;
}

GST_START_TEST(test_ema_reduces_flicker)
{
  gchar *model = make_sensitive_model();
  gfloat s_none, s_ema;
  guint none = count_flips(model, "none", &s_none);
  guint ema = count_flips(model, "ema", &s_ema);
  g_print("top-1 changes over %d noisy frames: smoothing=none %u, smoothing=ema (alpha 0.3) %u\n",
          FRAMES, none, ema);
  /* the EMA starts from the first inference */
  fail_unless(s_none == s_ema, "first frame differs: %g vs %g", s_none, s_ema);
  fail_unless(none >= 10, "only %u flips: the sequence does not test smoothing", none);
  fail_unless(ema * 2 <= none, "ema %u flips vs none %u", ema, none);
  g_free(model);
}
GST_END_TEST;

int main(int argc, char **argv)
{
  gst_check_init(&argc, &argv);
  /* Synthetic weights need ../shared: skip (or fail in CI) here, in the parent process, since a
   * forked check cannot report a skip. */
  ens_test_shared();
  static const TestEntry tests[] = {TEST_ENTRY(test_ema_reduces_flicker)};
  return test_run_suite("ensclassify-smoothing", 600, tests, NULL, NULL);
}
