/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_classify_nonfinite.c - NaN is not an answer: a model whose logits overflow (finite
 * classifier weights of 3e38, which pass any load-time finiteness check, make the head's dot
 * products infinite, and softmax of those is NaN) must give no result on the frame, one warning
 * message on the bus (not one per frame) and a count in frames-nonfinite; never an invented
 * uniform distribution. Sync and async mode. Needs ../shared for the synthetic weights. */
#include "gst_test_util.h"

#include <glib/gstdio.h>
#include <math.h>

#include "ens_test.h"
#include "safetensors.h"

#define FRAMES 3

/* Synthetic b0 (2 classes) with every classifier weight set to 3e38; returns its path. */
static gchar *make_overflowing_model(void)
{
  char *base = ens_test_weights("b0", "--num-classes 2", "b0_nc2");
  gchar *bytes;
  gsize len;
  fail_unless(g_file_get_contents(base, &bytes, &len, NULL));
  ens_safetensors st;
  ens_error err;
  fail_unless(ens_st_parse((const uint8_t *)bytes, len, base, &st, &err) == ENS_OK, "%s",
              err.message);
  const ens_st_tensor *w = ens_st_find(&st, "classifier.weight");
  fail_unless(w && w->dtype == ENS_DT_F32);
  float *wd = (float *)(bytes + (w->data - (const uint8_t *)bytes));
  for (gsize i = 0; i < (gsize)w->numel; i++)
    wd[i] = 3e38f;
  ens_st_close(&st);
  gchar *out = g_build_filename(ens_test_gen_dir(), "gst_nonfinite_b0.safetensors", NULL);
  gchar *tmp = g_strdup_printf("%s.%d.tmp", out, (int)getpid());
  fail_unless(g_file_set_contents(tmp, bytes, len, NULL));
  fail_unless(rename(tmp, out) == 0);
  g_free(tmp);
  g_free(bytes);
  free(base);
  return out;
}

/* The model's logits on buf really are non-finite (the premise of the test). */
static void assert_reference_nonfinite(const gchar *path, GstBuffer *buf, const GstVideoInfo *info)
{
  ens_options opt;
  ens_options_init(&opt);
  opt.threads = TEST_THREADS;
  opt.input_height = opt.input_width = TEST_INPUT_SIZE;
  ens_model *m = NULL;
  ens_error err;
  fail_unless(ens_model_load(path, &opt, &m, &err) == ENS_OK, "%s", err.message);
  ens_preprocess_params pp;
  ens_model_preprocess_params(m, &pp);
  float *input = g_new(float, 3 * pp.out_height * pp.out_width);
  GstVideoFrame f;
  fail_unless(gst_video_frame_map(&f, info, buf, GST_MAP_READ));
  ens_image img = {ENS_PIXEL_RGB,
                   GST_VIDEO_FRAME_WIDTH(&f),
                   GST_VIDEO_FRAME_HEIGHT(&f),
                   {GST_VIDEO_FRAME_PLANE_DATA(&f, 0)},
                   {GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0)},
                   ENS_YUV_BT601};
  fail_unless(ens_preprocess(&pp, &img, NULL, input, &err) == ENS_OK, "%s", err.message);
  gst_video_frame_unmap(&f);
  float logits[2];
  fail_unless(ens_model_forward(m, input, 1, logits, NULL, &err) == ENS_OK, "%s", err.message);
  fail_unless(!isfinite(logits[0]) || !isfinite(logits[1]), "logits %g %g are finite", logits[0],
              logits[1]);
  g_free(input);
  ens_model_free(m);
}

static void run(const gchar *mode)
{
  gchar *path = make_overflowing_model();
  GstVideoInfo info;
  GstBuffer *first = test_seq_frame(GST_VIDEO_FORMAT_RGB, 64, 48, 0, &info);
  assert_reference_nonfinite(path, first, &info);

  gchar *desc = g_strdup_printf("ensclassify model=\"%s\" input-size=%d threads=%d mode=%s", path,
                                TEST_INPUT_SIZE, TEST_THREADS, mode);
  GstHarness *h = test_harness_new(desc);
  g_free(desc);
  GstBus *bus = test_element_bus(h->element);
  gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
  gboolean async = g_str_equal(mode, "async");
  for (guint i = 0; i < FRAMES; i++) {
    GstBuffer *in = i == 0 ? first : test_seq_frame(GST_VIDEO_FORMAT_RGB, 64, 48, i, NULL);
    fail_unless_equals_int(gst_harness_push(h, in), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull(h);
    /* neither a result nor a DL Streamer ROI param: nothing to show for NaN */
    fail_unless_equals_int(gst_buffer_get_n_ens_classification_meta(out), 0);
    fail_unless_equals_int(gst_buffer_get_n_meta(out, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE),
                           0);
    gst_buffer_unref(out);
    if (async) /* let the worker finish, so the next frame could carry a result */
      while (test_get_u64(h->element, "frames-nonfinite") < i + 1 &&
             test_get_u64(h->element, "frames-replaced") == 0)
        g_usleep(2000);
  }
  fail_unless(gst_harness_push_event(h, gst_event_new_eos())); /* async: drains the worker */
  guint64 nonfinite = test_get_u64(h->element, "frames-nonfinite");
  guint64 replaced = test_get_u64(h->element, "frames-replaced");
  fail_unless_equals_uint64(nonfinite + replaced, FRAMES);
  fail_unless(nonfinite >= 1);
  fail_unless_equals_uint64(test_get_u64(h->element, "frames-inferred"), 0);

  /* exactly one warning, naming the model and what to do; no classification message */
  guint warnings = 0;
  GstMessage *msg;
  while ((msg = gst_bus_pop(bus))) {
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_WARNING) {
      GError *err = NULL;
      gchar *dbg = NULL;
      gst_message_parse_warning(msg, &err, &dbg);
      fail_unless(strstr(err->message, "non-finite") != NULL, "%s", err->message);
      fail_unless(dbg && strstr(dbg, "weights") != NULL, "%s", dbg);
      g_error_free(err);
      g_free(dbg);
      warnings++;
    }
    fail_if(GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ELEMENT &&
                gst_message_has_name(msg, "ens-classification"),
            "a classification was posted for non-finite logits");
    fail_if(GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR);
    gst_message_unref(msg);
  }
  fail_unless_equals_int(warnings, 1);
  test_element_bus_clear(h->element, bus);
  gst_harness_teardown(h);
  g_unlink(path);
  g_free(path);
}

GST_START_TEST(test_nonfinite_sync)
{
  run("sync");
}
GST_END_TEST;

GST_START_TEST(test_nonfinite_async)
{
  run("async");
}
GST_END_TEST;

int main(int argc, char **argv)
{
  gst_check_init(&argc, &argv);
  ens_test_shared(); /* skip (or fail in CI) here, in the parent process */
  static const TestEntry tests[] = {
      TEST_ENTRY(test_nonfinite_sync),
      TEST_ENTRY(test_nonfinite_async),
  };
  return test_run_suite("ensclassify-nonfinite", 300, tests, NULL, NULL);
}
