/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_classify_lifecycle.c - resolution change mid-stream, EOS, 200 NULL->PLAYING->NULL
 * cycles (bare element and a running pipeline), and model errors: a bad path, a corrupt file,
 * an unknown random variant, no model at all -> an error message on the bus and a failed state
 * change, never a crash. */
#include "gst_test_util.h"

#include <glib/gstdio.h>

#include "ens_test.h"

static GstBuffer *frame(gint w, gint h, guint i, GstVideoInfo *info)
{
  return test_seq_frame(GST_VIDEO_FORMAT_RGBA, w, h, i, info);
}

GST_START_TEST(test_caps_change)
{
  ens_model *ref_model = test_ref_model();
  GstVideoInfo info_a, info_b;
  GstBuffer *a0 = frame(64, 48, 0, &info_a);
  GstHarness *h = test_harness_new("ensclassify " TEST_ELEMENT_PROPS
                                   " mode=sync inference-interval=4 smoothing=ema");
  gst_harness_set_src_caps(h, gst_video_info_to_caps(&info_a));
  fail_unless_equals_int(gst_harness_push(h, a0), GST_FLOW_OK);
  gst_buffer_unref(gst_harness_pull(h));
  fail_unless_equals_int(gst_harness_push(h, frame(64, 48, 1, NULL)), GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull(h);
  fail_unless(!gst_buffer_get_ens_classification_meta(out)->fresh); /* carried */
  gst_buffer_unref(out);

  /* New size: the schedule restarts (frame inferred at once), the old result and the EMA
   * history are dropped, so the result equals a plain inference of the new frame. */
  GstBuffer *b = frame(37, 29, 2, &info_b);
  ens_class_score ref[5];
  test_ref_topk(ref_model, b, &info_b, NULL, 5, ref);
  gst_harness_set_src_caps(h, gst_video_info_to_caps(&info_b));
  fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  out = gst_harness_pull(h);
  GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
  fail_unless(m->fresh);
  fail_unless_equals_uint64(m->source_frame, 2);
  fail_unless_equals_int(m->width, 37);
  fail_unless_equals_int(m->height, 29);
  test_assert_meta_equals(m, ref, 5);
  gst_buffer_unref(out);

  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  GstEvent *ev;
  gboolean got_eos = FALSE;
  while ((ev = gst_harness_try_pull_event(h))) {
    got_eos |= GST_EVENT_TYPE(ev) == GST_EVENT_EOS;
    gst_event_unref(ev);
  }
  fail_unless(got_eos);
  gst_harness_teardown(h);
  ens_model_free(ref_model);
}
GST_END_TEST;

GST_START_TEST(test_state_cycles)
{
  /* A weight file loads several times faster than random:b0 is generated. */
  char *weights = ens_test_weights("b0", "--num-classes 2", "b0_nc2");
  GstElement *e = gst_element_factory_make("ensclassify", NULL);
  fail_unless(e != NULL);
  g_object_set(e, "model", weights, "input-size", G_STRINGIFY(TEST_INPUT_SIZE), "threads", 1, NULL);
  free(weights);
  for (int i = 0; i < 200; i++) {
    fail_unless(gst_element_set_state(e, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    fail_unless_equals_int(gst_element_set_state(e, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  }
  gst_object_unref(e);
}
GST_END_TEST;

/* Running pipelines torn down at random points, async and sync, frames in flight. */
GST_START_TEST(test_pipeline_cycles)
{
  for (int i = 0; i < 20; i++) {
    gchar *desc = g_strdup_printf(
        "videotestsrc is-live=%s pattern=ball ! video/x-raw,format=%s,width=96,height=72 ! "
        "ensclassify " TEST_ELEMENT_PROPS " mode=%s ! ensjson location=/dev/null ! fakesink",
        i % 2 ? "true" : "false", i % 3 ? "I420" : "BGRx", i % 2 ? "async" : "sync");
    GError *error = NULL;
    GstElement *p = gst_parse_launch(desc, &error);
    fail_unless(p != NULL, "%s", error ? error->message : "");
    g_free(desc);
    fail_unless(gst_element_set_state(p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    g_usleep((i % 5) * 20000);
    fail_unless_equals_int(gst_element_set_state(p, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    gst_object_unref(p);
  }
}
GST_END_TEST;

static void on_handoff(GstElement *sink, GstBuffer *buf, GstPad *pad, gpointer data)
{
  (void)sink;
  (void)pad;
  GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(buf);
  if (m && m->fresh)
    (*(guint *)data)++;
}

/* mode=auto with a non-live source runs sync: inferred frames carry their own result. */
GST_START_TEST(test_eos_counts)
{
  GError *error = NULL;
  GstElement *p = gst_parse_launch(
      "videotestsrc num-buffers=12 pattern=ball ! video/x-raw,width=80,height=60 ! "
      "ensclassify name=c " TEST_ELEMENT_PROPS " inference-interval=5 ! "
      "fakesink name=s signal-handoffs=true",
      &error);
  fail_unless(p != NULL);
  guint fresh = 0;
  GstElement *sink = gst_bin_get_by_name(GST_BIN(p), "s");
  g_signal_connect(sink, "handoff", G_CALLBACK(on_handoff), &fresh);
  gst_object_unref(sink);
  fail_unless(gst_element_set_state(p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *msg =
      gst_bus_timed_pop_filtered(bus, 120 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless(msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS);
  gst_message_unref(msg);
  GstElement *c = gst_bin_get_by_name(GST_BIN(p), "c");
  guint64 seen, inferred, skipped;
  g_object_get(c, "frames-seen", &seen, "frames-inferred", &inferred, "frames-skipped", &skipped,
               NULL);
  fail_unless_equals_uint64(seen, 12);
  fail_unless_equals_uint64(inferred, 3); /* 0, 5, 10 */
  fail_unless_equals_uint64(skipped, 9);
  fail_unless_equals_int(fresh, 3);
  gst_object_unref(c);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
}
GST_END_TEST;

/* The model property makes READY->PAUSED fail with a RESOURCE error naming the problem. */
static void expect_model_error(const gchar *model, GQuark domain, gint code, const gchar *needle)
{
  GstElement *e = gst_element_factory_make("ensclassify", NULL);
  if (model)
    g_object_set(e, "model", model, NULL);
  GstBus *bus = test_element_bus(e);
  fail_unless_equals_int(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GError *err = test_pop_error(bus, model ? model : "(unset model)", NULL);
  g_print("model=%s -> %s\n", model ? model : "(unset)", err->message);
  fail_unless(err->domain == domain, "domain %s", g_quark_to_string(err->domain));
  fail_unless_equals_int(err->code, code);
  fail_unless(strstr(err->message, needle) != NULL, "'%s' lacks '%s'", err->message, needle);
  g_error_free(err);
  fail_unless_equals_int(gst_element_set_state(e, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  test_element_bus_clear(e, bus);
  gst_object_unref(e);
}

GST_START_TEST(test_bad_models)
{
  expect_model_error("/nonexistent/dir/model.safetensors", GST_RESOURCE_ERROR,
                     GST_RESOURCE_ERROR_OPEN_READ, "/nonexistent/dir/model.safetensors");
  gchar *path = g_build_filename(g_get_tmp_dir(), "ens-gst-corrupt-XXXXXX.safetensors", NULL);
  gint fd = g_mkstemp(path);
  fail_unless(fd >= 0);
  const char junk[] = "\x10\x00\x00\x00\x00\x00\x00\x00{not json at all";
  fail_unless(write(fd, junk, sizeof junk - 1) == (ssize_t)(sizeof junk - 1));
  close(fd);
  expect_model_error(path, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, path);
  g_unlink(path);
  g_free(path);
  expect_model_error("random:b9", GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, "b9");
  /* No model and no default model to fall back on (the default is tested in test_default_model). */
  g_setenv("ENS_DEFAULT_MODEL", "/nonexistent/default-model", TRUE);
  expect_model_error(NULL, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, "ENS_DEFAULT_MODEL");
  g_unsetenv("ENS_DEFAULT_MODEL");
}
GST_END_TEST;

int main(int argc, char **argv)
{
  gst_check_init(&argc, &argv);
  /* Synthetic weights need ../shared: skip (or fail in CI) here, in the parent process, since a
   * forked check cannot report a skip. */
  ens_test_shared();
  static const TestEntry tests[] = {
      TEST_ENTRY(test_caps_change),  TEST_ENTRY(test_eos_counts),      TEST_ENTRY(test_bad_models),
      TEST_ENTRY(test_state_cycles), TEST_ENTRY(test_pipeline_cycles),
  };
  return test_run_suite("ensclassify-lifecycle", 900, tests, NULL, NULL);
}
