/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_classify_timing.c - ensclassify against the clock, with an artificially slow engine
 * (ENS_DEBUG_INFER_DELAY_MS, set per test before the element starts):
 *  - sync mode behind a live source and a synchronised sink stays real time: downstream QoS
 *    makes late frames skip inference (frames-qos-skipped) instead of lateness growing without
 *    limit; qos=false keeps the old behaviour;
 *  - async mode with max-latency: frames wait (bounded) for their own result, so they are
 *    fresh, and the LATENCY query declares the wait;
 *  - async mode at EOS: the inferences still running after the last buffer complete, their
 *    results are posted (after-eos) and counted (eos-results). */
#include "gst_test_util.h"

static void set_delay(guint ms)
{
  gchar *v = g_strdup_printf("%u", ms);
  g_setenv("ENS_DEBUG_INFER_DELAY_MS", v, TRUE);
  g_free(v);
}

/* ------------------------------------------------------------------ QoS in sync mode */

typedef struct {
  GMutex lock;
  GstClockTime last_rt;      /* running time of the last buffer rendered */
  GstClockTimeDiff max_late; /* largest lateness in the measured window */
  GstClockTime window_start; /* running time from which lateness is measured */
  guint rendered, fresh;
} SinkStats;

/* fakesink "handoff" (after clock sync): lateness = running time now - the buffer's. */
static void on_handoff(GstElement *sink, GstBuffer *buf, GstPad *pad, gpointer data)
{
  (void)pad;
  SinkStats *s = data;
  GstClockTime now = gst_element_get_current_running_time(sink);
  GstClockTime rt = GST_BUFFER_PTS(buf); /* live videotestsrc: segment from 0, pts = rt */
  GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(buf);
  g_mutex_lock(&s->lock);
  if (GST_CLOCK_TIME_IS_VALID(now) && rt >= s->window_start)
    s->max_late = MAX(s->max_late, GST_CLOCK_DIFF(rt, now));
  s->last_rt = rt;
  s->rendered++;
  s->fresh += m && m->fresh;
  g_mutex_unlock(&s->lock);
}

/* Runs desc (a pipeline with a fakesink named "sink" and an ensclassify named "c") for
 * seconds, measuring lateness from window_s on. Returns the element stats via the out args. */
static void run_live(const gchar *desc, gdouble seconds, gdouble window_s, SinkStats *st,
                     guint64 *inferred, guint64 *qos_skipped)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch(desc, &err);
  fail_unless(p != NULL && err == NULL, "%s: %s", desc, err ? err->message : "");
  GstElement *sink = gst_bin_get_by_name(GST_BIN(p), "sink");
  GstElement *c = gst_bin_get_by_name(GST_BIN(p), "c");
  memset(st, 0, sizeof *st);
  g_mutex_init(&st->lock);
  st->window_start = (GstClockTime)(window_s * GST_SECOND);
  g_signal_connect(sink, "handoff", G_CALLBACK(on_handoff), st);
  fail_unless(gst_element_set_state(p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *msg = gst_bus_timed_pop_filtered(bus, (GstClockTime)(seconds * GST_SECOND),
                                               GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  fail_unless(msg == NULL, "unexpected %s", msg ? GST_MESSAGE_TYPE_NAME(msg) : "");
  gst_object_unref(bus);
  *inferred = test_get_u64(c, "frames-inferred");
  gdouble mean_ms;
  g_object_get(c, "mean-latency-ms", &mean_ms, NULL);
  g_print("  (mean preprocessing + inference %.1f ms)\n", mean_ms);
  /* read only if it exists, so the lateness check decides on builds without it */
  *qos_skipped = g_object_class_find_property(G_OBJECT_GET_CLASS(c), "frames-qos-skipped")
                     ? test_get_u64(c, "frames-qos-skipped")
                     : 0;
  fail_unless(gst_element_set_state(p, GST_STATE_NULL) == GST_STATE_CHANGE_SUCCESS);
  g_mutex_clear(&st->lock);
  gst_object_unref(sink);
  gst_object_unref(c);
  gst_object_unref(p);
}

#define LIVE_SYNC_PIPELINE                                                                         \
  "videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=160,height=120,"         \
  "framerate=30/1 ! ensclassify name=c " TEST_ELEMENT_PROPS " mode=sync %s "                       \
  "! fakesink name=sink sync=true qos=true signal-handoffs=true"

GST_START_TEST(test_qos_keeps_sync_live_real_time)
{
  /* 100 ms per inference, a frame every 33 ms: sync mode alone falls 67 ms further behind on
   * every frame. */
  set_delay(100);
  SinkStats st;
  guint64 inferred, skipped;
  gchar *desc = g_strdup_printf(LIVE_SYNC_PIPELINE, ""); /* qos is on by default */
  run_live(desc, 4.0, 2.0, &st, &inferred, &skipped);
  g_free(desc);
  g_print("qos default: %u rendered, last running time %.2f s, max lateness after 2 s %.0f ms, "
          "%" G_GUINT64_FORMAT " inferred, %" G_GUINT64_FORMAT " skipped for QoS\n",
          st.rendered, st.last_rt / 1e9, st.max_late / 1e6, inferred, skipped);
  /* real time: the stream reached ~4 s, lateness bounded by about one inference */
  fail_unless(st.last_rt > 3 * GST_SECOND, "stream only reached %.2f s", st.last_rt / 1e9);
  fail_unless(st.max_late < 500 * GST_MSECOND, "lateness %.0f ms", st.max_late / 1e6);
  fail_unless(skipped > 0);
  fail_unless(inferred >= 10, "only %" G_GUINT64_FORMAT " inferred", inferred);
  /* late frames pass with the last result instead of being dropped: ~30 fps reach the sink */
  fail_unless(st.rendered >= inferred + skipped - 1);
  fail_unless(st.rendered >= 75, "only %u frames rendered", st.rendered);
}
GST_END_TEST;

GST_START_TEST(test_qos_false_falls_behind)
{
  set_delay(100);
  SinkStats st;
  guint64 inferred, skipped;
  gchar *desc = g_strdup_printf(LIVE_SYNC_PIPELINE, "qos=false");
  run_live(desc, 3.0, 0.0, &st, &inferred, &skipped);
  g_free(desc);
  g_print("qos=false: %u rendered, max lateness %.0f ms, %" G_GUINT64_FORMAT " inferred\n",
          st.rendered, st.max_late / 1e6, inferred);
  fail_unless_equals_uint64(skipped, 0);
  fail_unless(st.max_late > 1000 * GST_MSECOND, "lateness %.0f ms", st.max_late / 1e6);
}
GST_END_TEST;

/* ------------------------------------------------------------------ max-latency */

GST_START_TEST(test_max_latency_fresh_in_harness)
{
  set_delay(60);
  GstVideoInfo info;
  gst_buffer_unref(test_seq_frame(GST_VIDEO_FORMAT_I420, 64, 48, 0, &info));
  GstHarness *h = test_classify_harness("async", "max-latency=2000", &info);
  gst_harness_set_upstream_latency(h, 40 * GST_MSECOND);
  for (guint i = 0; i < 6; i++) {
    fail_unless_equals_int(
        gst_harness_push(h, test_seq_frame(GST_VIDEO_FORMAT_I420, 64, 48, i, NULL)), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull(h);
    GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
    fail_unless(m != NULL && m->fresh, "frame %u not fresh", i);
    fail_unless_equals_uint64(m->source_frame, i);
    gst_buffer_unref(out);
  }
  /* declared: upstream's 40 ms + 2000 ms */
  GstQuery *q = gst_query_new_latency();
  fail_unless(gst_pad_peer_query(h->sinkpad, q));
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency(q, &live, &min, &max);
  fail_unless_equals_uint64(min, 2040 * GST_MSECOND);
  gst_query_unref(q);

  /* changed while playing: a LATENCY message asks the pipeline to query again */
  GstBus *bus = test_element_bus(h->element);
  g_object_set(h->element, "max-latency", 500, NULL);
  GstMessage *lm = gst_bus_pop_filtered(bus, GST_MESSAGE_LATENCY);
  fail_unless(lm != NULL, "no latency message after changing max-latency");
  gst_message_unref(lm);
  test_element_bus_clear(h->element, bus);
  q = gst_query_new_latency();
  fail_unless(gst_pad_peer_query(h->sinkpad, q));
  gst_query_parse_latency(q, &live, &min, &max);
  fail_unless_equals_uint64(min, 540 * GST_MSECOND);
  gst_query_unref(q);
  gst_harness_teardown(h);

  /* A budget shorter than the inference: the frame waits at most that long, then passes with
   * the carried result. */
  h = test_classify_harness("async", "max-latency=10", &info);
  gint64 t0 = g_get_monotonic_time();
  fail_unless_equals_int(
      gst_harness_push(h, test_seq_frame(GST_VIDEO_FORMAT_I420, 64, 48, 0, NULL)), GST_FLOW_OK);
  gint64 waited = g_get_monotonic_time() - t0;
  fail_unless(waited >= 9000 && waited < 55000, "waited %.1f ms", waited / 1000.0);
  GstBuffer *out = gst_harness_pull(h);
  fail_unless_equals_int(gst_buffer_get_n_ens_classification_meta(out), 0);
  gst_buffer_unref(out);
  gst_harness_teardown(h);

  /* max-latency=0 (default): today's async behaviour, nothing added to the latency */
  h = test_classify_harness("async", "", &info);
  gst_harness_set_upstream_latency(h, 40 * GST_MSECOND);
  q = gst_query_new_latency();
  fail_unless(gst_pad_peer_query(h->sinkpad, q));
  gst_query_parse_latency(q, &live, &min, &max);
  fail_unless_equals_uint64(min, 40 * GST_MSECOND);
  gst_query_unref(q);
  gst_harness_teardown(h);
}
GST_END_TEST;

/* Min latency of a live pipeline through ensclassify max-latency=ms (sink: sync, so live). */
static GstClockTime pipeline_latency(guint ms)
{
  gchar *desc = g_strdup_printf("videotestsrc is-live=true ! video/x-raw,framerate=10/1 ! "
                                "ensclassify " TEST_ELEMENT_PROPS " max-latency=%u ! "
                                "fakesink sync=true",
                                ms);
  GstElement *p = gst_parse_launch(desc, NULL);
  g_free(desc);
  fail_unless(gst_element_set_state(p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  fail_unless(gst_element_get_state(p, NULL, NULL, 10 * GST_SECOND) == GST_STATE_CHANGE_SUCCESS);
  GstQuery *q = gst_query_new_latency();
  fail_unless(gst_element_query(p, q));
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency(q, &live, &min, &max);
  fail_unless(live);
  gst_query_unref(q);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return min;
}

GST_START_TEST(test_max_latency_live_pipeline)
{
  /* 5 fps live, inference well under the 200 ms frame period (20 ms added to b0 at 64 px, also
   * under ASan on a loaded machine), a 400 ms budget: (almost) every frame gets its own result,
   * and the pipeline latency includes the budget. */
  set_delay(20);
  SinkStats st;
  guint64 inferred, skipped;
  run_live("videotestsrc is-live=true num-buffers=15 pattern=ball ! video/x-raw,format=I420,"
           "width=160,height=120,framerate=5/1 ! ensclassify name=c " TEST_ELEMENT_PROPS
           " mode=async max-latency=400 ! fakesink name=sink sync=true signal-handoffs=true",
           3.6, 0.0, &st, &inferred, &skipped);
  g_print("max-latency=400: %u of %u rendered frames fresh, max lateness %.0f ms\n", st.fresh,
          st.rendered, st.max_late / 1e6);
  fail_unless(st.rendered >= 12, "%u rendered", st.rendered);
  fail_unless(st.fresh >= st.rendered - 2, "%u of %u fresh", st.fresh, st.rendered);

  /* the pipeline's latency grows by exactly the budget */
  GstClockTime base = pipeline_latency(0), with = pipeline_latency(150);
  fail_unless_equals_uint64(with - base, 150 * GST_MSECOND);
}
GST_END_TEST;

/* ------------------------------------------------------------------ EOS in async mode */

/* Pops every ens-classification message of bus: their frames in *frames (up to n), each must
 * have after-eos = want_after_eos[i]. Returns the count. */
static guint pop_results(GstBus *bus, guint64 *frames, gboolean *after_eos, guint n)
{
  guint got = 0;
  GstMessage *msg;
  while ((msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure(msg);
    if (gst_structure_has_name(s, "ens-classification")) {
      fail_unless(got < n);
      fail_unless(gst_structure_get_uint64(s, "frame", &frames[got]));
      after_eos[got] = FALSE;
      gst_structure_get_boolean(s, "after-eos", &after_eos[got]);
      got++;
    }
    gst_message_unref(msg);
  }
  return got;
}

GST_START_TEST(test_eos_async_short_stream)
{
  set_delay(300);
  for (guint n_frames = 1; n_frames <= 3; n_frames += 2) {
    GstVideoInfo info;
    gst_buffer_unref(test_seq_frame(GST_VIDEO_FORMAT_I420, 64, 48, 0, &info));
    GstHarness *h = test_classify_harness("async", "", &info);
    GstBus *bus = test_element_bus(h->element);
    for (guint i = 0; i < n_frames; i++) {
      fail_unless_equals_int(
          gst_harness_push(h, test_seq_frame(GST_VIDEO_FORMAT_I420, 64, 48, i, NULL)), GST_FLOW_OK);
      gst_buffer_unref(gst_harness_pull(h)); /* leaves before any result exists */
      if (i == 0)
        g_usleep(50000); /* the worker takes frame 0 before frame 1 can replace it */
    }
    fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
    /* 1 frame: frame 0 finishes after EOS. 3 frames: 0 in flight, 1 replaced by 2, both
     * 0 and 2 finish after EOS. */
    guint64 frames[4];
    gboolean after[4];
    guint got = pop_results(bus, frames, after, 4);
    guint want = n_frames == 1 ? 1 : 2;
    fail_unless_equals_int(got, want);
    fail_unless_equals_uint64(frames[0], 0);
    if (want == 2)
      fail_unless_equals_uint64(frames[1], 2);
    for (guint i = 0; i < got; i++)
      fail_unless(after[i], "result of frame %" G_GUINT64_FORMAT " not marked after-eos",
                  frames[i]);
    fail_unless_equals_uint64(test_get_u64(h->element, "eos-results"), want);
    fail_unless_equals_uint64(test_get_u64(h->element, "eos-lost"), 0);
    fail_unless_equals_uint64(test_get_u64(h->element, "frames-inferred"), want);
    fail_unless_equals_uint64(test_get_u64(h->element, "frames-replaced"), n_frames - want);
    test_element_bus_clear(h->element, bus);
    gst_harness_teardown(h);
  }
}
GST_END_TEST;

int main(int argc, char **argv)
{
  gst_check_init(&argc, &argv);
  static const TestEntry tests[] = {
      TEST_ENTRY(test_qos_keeps_sync_live_real_time), TEST_ENTRY(test_qos_false_falls_behind),
      TEST_ENTRY(test_max_latency_fresh_in_harness),  TEST_ENTRY(test_max_latency_live_pipeline),
      TEST_ENTRY(test_eos_async_short_stream),
  };
  return test_run_suite("ensclassify-timing", 300, tests, NULL, NULL);
}
