/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_classify_error.c - an inference that fails mid-stream (ENS_DEBUG_INFER_FAIL_AFTER: every
 * forward pass after the first FAIL_AFTER inferences fails in the engine) gives a
 * GST_STREAM_ERROR_FAILED error message on the bus and GST_FLOW_ERROR (async: on the next
 * buffer or at EOS; sync: on the failing frame itself), the results before it stay intact,
 * nothing crashes and the element shuts down cleanly (leaks are checked by the ASan pass). */
#include "gst_test_util.h"

#define FAIL_AFTER 2

typedef struct {
  GstHarness *h;
  GstBus *bus;
  GstVideoInfo info;
} Fixture;

static GstBuffer *frame(guint i, GstVideoInfo *info)
{
  return test_seq_frame(GST_VIDEO_FORMAT_I420, 64, 48, i, info);
}

static void fixture_init(Fixture *f, const gchar *mode)
{
  gst_buffer_unref(frame(0, &f->info));
  f->h = test_classify_harness(mode, "", &f->info);
  f->bus = test_element_bus(f->h->element);
}

static void fixture_clear(Fixture *f)
{
  test_element_bus_clear(f->h->element, f->bus);
  gst_harness_teardown(f->h);
}

/* Exactly one error message, from the engine's forward pass. */
static void assert_one_error(Fixture *f)
{
  GstObject *src = NULL;
  GError *err = test_pop_error(f->bus, "inference", &src);
  g_print("error: %s\n", err->message);
  fail_unless(err->domain == GST_STREAM_ERROR);
  fail_unless_equals_int(err->code, GST_STREAM_ERROR_FAILED);
  fail_unless(g_str_has_prefix(err->message, "Inference failed: forward pass: "), "%s",
              err->message);
  fail_unless(strstr(err->message, "batch 0") != NULL, "%s", err->message);
  fail_unless(src == GST_OBJECT(f->h->element));
  g_error_free(err);
  fail_unless(gst_bus_pop_filtered(f->bus, GST_MESSAGE_ERROR) == NULL, "more than one error");
}

/* Frames 0 .. FAIL_AFTER-1 inferred (each waited for, so none is replaced), then frame
 * FAIL_AFTER is submitted: its inference fails. */
static void push_until_failing_frame(Fixture *f)
{
  for (guint i = 0; i <= FAIL_AFTER; i++) {
    fail_unless_equals_int(gst_harness_push(f->h, frame(i, &f->info)), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull(f->h);
    gst_buffer_unref(out);
    if (i < FAIL_AFTER)
      fail_unless_equals_uint64(test_wait_inferred(f->h->element, i + 1), i + 1);
  }
}

GST_START_TEST(test_async_error_on_next_buffer)
{
  Fixture f;
  fixture_init(&f, "async");
  push_until_failing_frame(&f);
  /* The failure is reported by the first buffer after it; until then buffers still flow. */
  GstFlowReturn ret = GST_FLOW_OK;
  guint i = FAIL_AFTER + 1;
  gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  while (ret == GST_FLOW_OK && g_get_monotonic_time() < deadline) {
    g_usleep(10000);
    ret = gst_harness_push(f.h, frame(i++, &f.info));
    if (ret == GST_FLOW_OK) {
      /* still carrying the last good result */
      GstBuffer *out = gst_harness_pull(f.h);
      GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
      fail_unless(m != NULL);
      fail_unless(m->source_frame == FAIL_AFTER - 1 || m->source_frame >= FAIL_AFTER + 1);
      gst_buffer_unref(out);
    }
  }
  fail_unless_equals_int(ret, GST_FLOW_ERROR);
  assert_one_error(&f);
  fail_unless_equals_uint64(test_get_u64(f.h->element, "frames-inferred"), FAIL_AFTER);
  /* the error was taken: EOS after it does not post a second one */
  gst_harness_push_event(f.h, gst_event_new_eos());
  fail_unless(gst_bus_pop_filtered(f.bus, GST_MESSAGE_ERROR) == NULL);
  fixture_clear(&f);
}
GST_END_TEST;

GST_START_TEST(test_async_error_at_eos)
{
  Fixture f;
  fixture_init(&f, "async");
  push_until_failing_frame(&f);
  /* EOS waits for the failing inference and reports it instead of forwarding EOS */
  fail_if(gst_harness_push_event(f.h, gst_event_new_eos()));
  assert_one_error(&f);
  fail_unless_equals_uint64(test_get_u64(f.h->element, "frames-inferred"), FAIL_AFTER);
  GstEvent *ev;
  while ((ev = gst_harness_try_pull_event(f.h))) {
    fail_if(GST_EVENT_TYPE(ev) == GST_EVENT_EOS, "EOS forwarded after the error");
    gst_event_unref(ev);
  }
  fixture_clear(&f);
}
GST_END_TEST;

GST_START_TEST(test_sync_error_on_failing_frame)
{
  Fixture f;
  fixture_init(&f, "sync");
  for (guint i = 0; i < FAIL_AFTER; i++) {
    fail_unless_equals_int(gst_harness_push(f.h, frame(i, &f.info)), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull(f.h);
    GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
    fail_unless(m != NULL && m->fresh);
    fail_unless_equals_uint64(m->source_frame, i);
    gst_buffer_unref(out);
  }
  fail_unless(gst_bus_pop_filtered(f.bus, GST_MESSAGE_ERROR) == NULL);
  fail_unless_equals_int(gst_harness_push(f.h, frame(FAIL_AFTER, &f.info)), GST_FLOW_ERROR);
  fail_unless(gst_harness_try_pull(f.h) == NULL, "the failed frame was pushed");
  assert_one_error(&f);
  fail_unless_equals_uint64(test_get_u64(f.h->element, "frames-inferred"), FAIL_AFTER);
  fixture_clear(&f);
}
GST_END_TEST;

/* Restarting the element (READY -> PLAYING) after an error starts over: the FAIL_AFTER
 * inferences succeed again, so the failure is not sticky state of the old run. */
GST_START_TEST(test_restart_after_error)
{
  Fixture f;
  fixture_init(&f, "sync");
  for (guint i = 0; i < FAIL_AFTER; i++) {
    fail_unless_equals_int(gst_harness_push(f.h, frame(i, &f.info)), GST_FLOW_OK);
    gst_buffer_unref(gst_harness_pull(f.h));
  }
  fail_unless_equals_int(gst_harness_push(f.h, frame(FAIL_AFTER, &f.info)), GST_FLOW_ERROR);
  assert_one_error(&f);
  fail_unless_equals_int(gst_element_set_state(f.h->element, GST_STATE_READY),
                         GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int(gst_element_set_state(f.h->element, GST_STATE_PLAYING),
                         GST_STATE_CHANGE_SUCCESS);
  gst_harness_set_src_caps(f.h, gst_video_info_to_caps(&f.info));
  fail_unless_equals_int(gst_harness_push(f.h, frame(0, &f.info)), GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull(f.h);
  fail_unless(gst_buffer_get_ens_classification_meta(out) != NULL);
  gst_buffer_unref(out);
  fail_unless_equals_uint64(test_get_u64(f.h->element, "frames-inferred"), 1);
  fixture_clear(&f);
}
GST_END_TEST;

int main(int argc, char **argv)
{
  /* read by ensclassify at start */
  g_setenv("ENS_DEBUG_INFER_FAIL_AFTER", G_STRINGIFY(FAIL_AFTER), TRUE);
  gst_check_init(&argc, &argv);
  static const TestEntry tests[] = {
      TEST_ENTRY(test_async_error_on_next_buffer),
      TEST_ENTRY(test_async_error_at_eos),
      TEST_ENTRY(test_sync_error_on_failing_frame),
      TEST_ENTRY(test_restart_after_error),
  };
  return test_run_suite("ensclassify-error", 600, tests, NULL, NULL);
}
