/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_classify_async.c - async mode with an artificially slow engine
 * (ENS_DEBUG_INFER_DELAY_MS): the streaming thread never waits for inference, at most one
 * frame is pending (older ones are replaced and counted), buffers carry the latest completed
 * result with fresh=FALSE and its source PTS; the worker gets a copy of the frame; flush while
 * inferring and EOS are safe; mode=auto picks async for a live upstream (GstHarness answers the
 * latency query as live). */
#include "gst_test_util.h"

#define DELAY_MS 400

static GstHarness *new_harness(const gchar *mode, GstVideoInfo *info)
{
  return test_classify_harness(mode, "", info);
}

static GstBuffer *frame(guint i, GstVideoInfo *info)
{
  return test_seq_frame(GST_VIDEO_FORMAT_I420, 64, 48, i, info);
}

static void run_nonblocking(const gchar *mode)
{
  const guint FRAMES = 10;
  GstVideoInfo info;
  GstBuffer *frames[FRAMES];
  for (guint i = 0; i < FRAMES; i++)
    frames[i] = frame(i, &info);
  GstHarness *h = new_harness(mode, &info);

  /* Pushing 10 frames must take far less than one inference. */
  gint64 t0 = g_get_monotonic_time();
  for (guint i = 0; i < FRAMES; i++)
    fail_unless_equals_int(gst_harness_push(h, frames[i]), GST_FLOW_OK);
  gint64 push_us = g_get_monotonic_time() - t0;
  GST_INFO("pushed %u frames in %.1f ms (inference delay %d ms)", FRAMES, push_us / 1000.0,
           DELAY_MS);
  g_print("%s: pushed %u frames in %.1f ms with a %d ms inference\n", mode, FRAMES,
          push_us / 1000.0, DELAY_MS);
  fail_unless(push_us < DELAY_MS * 1000 / 2, "push took %.1f ms", push_us / 1000.0);

  /* Frame 0 went to the worker (unless frame 1 came before the worker woke up); every later
   * frame but the last was replaced by the next; the last one is pending. */
  guint64 replaced_now = test_get_u64(h->element, "frames-replaced");
  fail_unless(replaced_now == FRAMES - 2 || replaced_now == FRAMES - 1,
              "%" G_GUINT64_FORMAT " replaced", replaced_now);
  for (guint i = 0; i < FRAMES; i++) {
    GstBuffer *out = gst_harness_pull(h);
    /* nothing had completed yet when these were pushed */
    fail_unless_equals_int(gst_buffer_get_n_ens_classification_meta(out), 0);
    gst_buffer_unref(out);
  }

  /* Once frame 0's result is in, the next buffer carries it, not fresh. */
  test_wait_inferred(h->element, 1);
  GstVideoInfo info2;
  GstBuffer *b = frame(FRAMES, &info2);
  fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull(h);
  GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
  fail_unless(m != NULL);
  fail_unless(!m->fresh);
  /* the first frame the worker took (0, or a later one if it woke up late), or the last */
  fail_unless(m->source_frame < FRAMES);
  fail_unless_equals_uint64(m->source_pts, m->source_frame * 40 * GST_MSECOND);
  gst_buffer_unref(out);

  /* EOS waits for the pending frames so the counts add up: every frame was either inferred
   * or replaced. */
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  guint64 inferred = test_get_u64(h->element, "frames-inferred");
  guint64 replaced = test_get_u64(h->element, "frames-replaced");
  fail_unless_equals_uint64(inferred + replaced, FRAMES + 1);
  fail_unless(inferred >= 1 && inferred <= 3);
  gst_harness_teardown(h);
}

GST_START_TEST(test_async_never_blocks)
{
  run_nonblocking("async");
}
GST_END_TEST;

GST_START_TEST(test_auto_is_async_when_live)
{
  run_nonblocking("auto");
}
GST_END_TEST;

GST_START_TEST(test_sync_waits)
{
  GstVideoInfo info;
  GstBuffer *b = frame(0, &info);
  GstHarness *h = new_harness("sync", &info);
  gint64 t0 = g_get_monotonic_time();
  fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  fail_unless(g_get_monotonic_time() - t0 >= DELAY_MS * 1000);
  GstBuffer *out = gst_harness_pull(h);
  fail_unless(gst_buffer_get_ens_classification_meta(out)->fresh);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}
GST_END_TEST;

/* Flush while a frame is in flight: its result must never be attached after the flush. */
GST_START_TEST(test_flush_while_inferring)
{
  GstVideoInfo info;
  GstBuffer *b0 = frame(0, &info), *b1 = frame(1, &info);
  GstHarness *h = new_harness("async", &info);
  fail_unless_equals_int(gst_harness_push(h, b0), GST_FLOW_OK); /* in flight */
  fail_unless_equals_int(gst_harness_push(h, b1), GST_FLOW_OK); /* pending */
  gst_buffer_unref(gst_harness_pull(h));
  gst_buffer_unref(gst_harness_pull(h));

  fail_unless(gst_harness_push_event(h, gst_event_new_flush_start()));
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  fail_unless(gst_harness_push_event(h, gst_event_new_segment(&seg)));

  /* frame 0 finishes after the flush: discarded, frame 1 was dropped from the slot */
  g_usleep((DELAY_MS + 300) * 1000);
  fail_unless_equals_uint64(test_get_u64(h->element, "frames-inferred"), 0);

  GstBuffer *b2 = frame(2, &info);
  fail_unless_equals_int(gst_harness_push(h, b2), GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull(h);
  fail_unless_equals_int(gst_buffer_get_n_ens_classification_meta(out), 0);
  gst_buffer_unref(out);

  test_wait_inferred(h->element, 1);
  fail_unless_equals_int(gst_harness_push(h, frame(3, &info)), GST_FLOW_OK);
  out = gst_harness_pull(h);
  GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
  fail_unless(m != NULL);
  fail_unless_equals_uint64(m->source_frame, 2);
  fail_unless_equals_uint64(m->source_pts, 2 * 40 * GST_MSECOND);
  fail_unless(!m->fresh);
  gst_buffer_unref(out);

  /* flush with a frame in flight, then tear down at once: stop joins the worker */
  fail_unless_equals_int(gst_harness_push(h, frame(4, &info)), GST_FLOW_OK);
  gst_buffer_unref(gst_harness_pull(h));
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_start()));
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
  gst_harness_teardown(h);
}
GST_END_TEST;

/* The streaming thread hands the worker a copy of the frame: scribbling over the buffer after
 * it left the element (while the worker still sleeps before preprocessing) must not change the
 * result. */
GST_START_TEST(test_async_frame_is_copied)
{
  GstVideoInfo info;
  GstBuffer *b0 = frame(0, &info);
  ens_model *ref = test_ref_model();
  ens_class_score want[5];
  gint n = test_ref_topk(ref, b0, &info, NULL, 5, want);
  GstHarness *h = new_harness("async", &info);
  fail_unless_equals_int(gst_harness_push(h, b0), GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull(h);
  fail_unless_equals_uint64(test_get_u64(h->element, "frames-inferred"), 0); /* worker asleep */
  gsize size = gst_buffer_get_size(out);
  fail_unless_equals_uint64(gst_buffer_memset(out, 0, 0x80, size), size);
  gst_buffer_unref(out);

  test_wait_inferred(h->element, 1);
  fail_unless_equals_int(gst_harness_push(h, frame(1, &info)), GST_FLOW_OK);
  out = gst_harness_pull(h);
  GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
  fail_unless(m != NULL);
  fail_unless_equals_uint64(m->source_frame, 0);
  test_assert_meta_equals(m, want, n);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
  ens_model_free(ref);
}
GST_END_TEST;

int main(int argc, char **argv)
{
  /* read by ensclassify at start */
  g_setenv("ENS_DEBUG_INFER_DELAY_MS", G_STRINGIFY(DELAY_MS), TRUE);
  gst_check_init(&argc, &argv);
  static const TestEntry tests[] = {
      TEST_ENTRY(test_async_never_blocks),
      TEST_ENTRY(test_auto_is_async_when_live),
      TEST_ENTRY(test_sync_waits),
      TEST_ENTRY(test_flush_while_inferring),
      TEST_ENTRY(test_async_frame_is_copied),
  };
  return test_run_suite("ensclassify-async", 600, tests, NULL, NULL);
}
