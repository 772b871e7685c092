/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_classify_hotreload.c - setting `model` on a running ensclassify (hot reload).
 *
 * Three hub-layout models made by the test, with distinct names, class counts and input sizes:
 * A (10 classes, 64 px), B (1000 classes, 80 px), C (10 classes, 72 px). The checks:
 *  - 50 swaps (12 under ASan) A <-> B while buffers flow, sync and async (harness): every buffer
 * pushed comes out, each result names A or B, the names switch exactly once per swap, and every
 * result (meta and ens-classification message alike) equals the reference of the model it names,
 *    computed with libens on its source frame: nothing is half one model, half the other;
 *  - async with a slow inference: the frame in flight across a swap finishes on the old model
 *    and its result says so; the next one is the new model's;
 *  - a failing load (missing path, corrupt file, unknown variant, empty) warns naming the file,
 *    keeps the old model running and the property reading it back;
 *  - setting the same path reloads it (ens-model-swapped, EMA restarted);
 *  - with a slow loader: the property reads the old model until the swap, the streaming thread
 *    does not wait for the load, the latest of several requests wins, labels set with model
 *    come with it;
 *  - a real threaded pipeline (videotestsrc ! ensclassify ! fakesink), sync and async, with
 *    swaps while frames flow: frames in = frames out, one switch per swap.
 */
#include "hotreload_test_util.h"

#include <string.h>

#include "ens_test.h"

#if defined(__SANITIZE_ADDRESS__)
/* a model load takes ~1 s under ASan on a busy 2-core machine; the swap paths are the same */
#define SWAPS 12
#else
#define SWAPS 50
#endif
#define PIPELINE_SWAPS SWAPS
#define W 64
#define H 48
#define FORMAT GST_VIDEO_FORMAT_I420
#define WAIT_S HR_WAIT_S

static ens_model *refs[N_MODELS]; /* loaded lazily in each test process */
static gchar *corrupt_path;
static gchar *labels_path; /* 10 names, for C */

/* ------------------------------------------------------------------ models */

static void make_models(void)
{
  corrupt_path = hr_make_models("hr", "hotreload");
  labels_path = g_build_filename(ens_test_gen_dir(), "hotreload-labels.txt", NULL);
  GString *s = g_string_new(NULL);
  for (int i = 0; i < 10; i++)
    g_string_append_printf(s, "hotreload label %d\n", i);
  if (!g_file_set_contents(labels_path, s->str, -1, NULL))
    hr_die(labels_path);
  g_string_free(s, TRUE);
}

static ens_model *ref_model(int i)
{
  if (!refs[i])
    refs[i] = hr_load_reference(i);
  return refs[i];
}

static guint n_cached; /* entries of the reference cache below */

static void free_refs(void)
{
  for (int i = 0; i < N_MODELS; i++)
    g_clear_pointer(&refs[i], ens_model_free);
  n_cached = 0;
}

/* The reference top classes of frame i under model mi (k = min(5, classes)). Returns k. The
 * last few are cached: the meta and the message of a frame ask for the same. */
enum { CACHE = 8 };
static struct {
  int mi;
  guint64 frame;
  ens_class_score top[5]; /* labels owned by refs[mi]: emptied by free_refs */
} cache[CACHE];

static gint ref_top(int mi, guint64 frame, ens_class_score *out)
{
  gint k = MIN(5, hr_models[mi].num_classes);
  for (guint c = 0; c < MIN(n_cached, CACHE); c++)
    if (cache[c].mi == mi && cache[c].frame == frame) {
      memcpy(out, cache[c].top, sizeof(ens_class_score) * k);
      return k;
    }
  GstVideoInfo info;
  GstBuffer *b = test_seq_frame(FORMAT, W, H, (guint)frame, &info);
  test_ref_topk(ref_model(mi), b, &info, NULL, k, out);
  gst_buffer_unref(b);
  guint slot = n_cached++ % CACHE;
  cache[slot].mi = mi;
  cache[slot].frame = frame;
  memcpy(cache[slot].top, out, sizeof(ens_class_score) * k);
  return k;
}

/* The meta's classes are exactly those the model it names computes on its source frame. */
static int check_meta(const GstEnsClassificationMeta *m)
{
  int mi = hr_model_named(m->model_name);
  ens_class_score want[5];
  gint k = ref_top(mi, m->source_frame, want);
  test_assert_meta_equals(m, want, k);
  return mi;
}

/* ------------------------------------------------------------------ bus */

typedef struct {
  HrSwapLog sw;         /* warnings and ens-model-swapped messages */
  guint classification; /* ens-classification messages, each checked against the reference */
  gboolean smoothed;    /* results are EMA-smoothed: not comparable with one inference */
} BusLog;

static void bus_log_clear(BusLog *log)
{
  hr_swap_log_clear(&log->sw);
  memset(log, 0, sizeof *log);
}

/* An ens-classification message: its classes are those of the model its "model" field names,
 * on its frame. */
static void check_classification(const GstStructure *s)
{
  guint64 frame;
  fail_unless(gst_structure_get_uint64(s, "frame", &frame));
  int mi = hr_model_named(gst_structure_get_string(s, "model"));
  ens_class_score want[5];
  gint k = ref_top(mi, frame, want);
  const GValue *ids = gst_structure_get_value(s, "class-ids");
  fail_unless_equals_int(gst_value_array_get_size(ids), k);
  for (gint i = 0; i < k; i++)
    fail_unless_equals_int(g_value_get_int(gst_value_array_get_value(ids, i)), want[i].id);
}

/* Reads every message on bus into log; errors fail the test. */
static void drain_bus(GstBus *bus, BusLog *log)
{
  GstMessage *msg;
  while ((msg = gst_bus_pop(bus))) {
    if (!hr_swap_log_message(&log->sw, msg, NULL) && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ELEMENT &&
        gst_structure_has_name(gst_message_get_structure(msg), "ens-classification")) {
      log->classification++;
      if (!log->smoothed)
        check_classification(gst_message_get_structure(msg));
    }
    gst_message_unref(msg);
  }
}

/* Waits until log has n swaps or want_warnings warnings, draining bus. */
static void wait_bus(GstBus *bus, BusLog *log, guint swaps, guint warnings)
{
  gint64 end = g_get_monotonic_time() + WAIT_S * G_USEC_PER_SEC;
  for (;;) {
    drain_bus(bus, log);
    if (log->sw.swapped >= swaps && log->sw.warnings >= warnings)
      return;
    fail_unless(g_get_monotonic_time() < end,
                "waited %d s for %u swaps / %u warnings (have %u / %u)", WAIT_S, swaps, warnings,
                log->sw.swapped, log->sw.warnings);
    g_usleep(2000);
  }
}

static gchar *get_model(GstElement *e)
{
  gchar *v;
  g_object_get(e, "model", &v, NULL);
  return v;
}

/* ------------------------------------------------------------------ harness swaps */

static GstHarness *harness(const gchar *mode, int model, const gchar *extra)
{
  GstVideoInfo info;
  gst_buffer_unref(test_seq_frame(FORMAT, W, H, 0, &info));
  gchar *desc = g_strdup_printf("ensclassify model=\"%s\" threads=1 mode=%s %s",
                                hr_models[model].path, mode, extra);
  GstHarness *h = test_harness_new(desc);
  g_free(desc);
  gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
  return h;
}

/* Pushes frame *i, pulls it; returns the model index of its first result (-1 if none),
 * checking the result against the reference. */
static int push_frame(GstHarness *h, guint *i, gboolean want_fresh)
{
  fail_unless_equals_int(gst_harness_push(h, test_seq_frame(FORMAT, W, H, *i, NULL)), GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull(h);
  fail_unless(out != NULL);
  GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
  int mi = -1;
  if (m) {
    if (want_fresh) {
      fail_unless(m->fresh);
      fail_unless_equals_uint64(m->source_frame, *i);
    }
    mi = check_meta(m);
  }
  gst_buffer_unref(out);
  (*i)++;
  return mi;
}

/* SWAPS swaps A <-> B while frames flow; every frame's result is checked. */
static void run_swaps(const gchar *mode)
{
  gboolean sync = g_str_equal(mode, "sync");
  GstHarness *h = harness(mode, MA, "");
  GstBus *bus = test_element_bus(h->element);
  BusLog log = {0};
  guint frame = 0, switches = 0, pushed = 0;
  int last = -1;
  gint64 t0 = g_get_monotonic_time();
  for (guint s = 0; s < SWAPS; s++) {
    int target = s % 2 == 0 ? MB : MA;
    g_object_set(h->element, "model", hr_models[target].path, NULL);
    /* keep frames flowing until a result of the new model came out of the element */
    gint64 end = g_get_monotonic_time() + WAIT_S * G_USEC_PER_SEC;
    for (;;) {
      int mi = push_frame(h, &frame, sync);
      pushed++;
      drain_bus(bus, &log);
      if (mi >= 0) {
        fail_unless(mi == MA || mi == MB);
        if (last >= 0 && mi != last)
          switches++;
        last = mi;
      }
      if (mi == target)
        break;
      fail_unless(g_get_monotonic_time() < end, "swap %u: no result of %s after %d s", s,
                  hr_models[target].tag, WAIT_S);
      if (!sync)
        g_usleep(3000); /* let the worker and the loader run */
    }
    wait_bus(bus, &log, s + 1, 0);
    fail_unless_equals_string(log.sw.swapped_new, hr_models[target].path);
    fail_unless_equals_string(log.sw.swapped_old, hr_models[target == MA ? MB : MA].path);
    gchar *now = get_model(h->element);
    fail_unless_equals_string(now, hr_models[target].path);
    g_free(now);
  }
  gdouble secs = (gdouble)(g_get_monotonic_time() - t0) / 1e6;
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  drain_bus(bus, &log);
  /* harness: every push returned its buffer */
  fail_unless_equals_uint64(test_get_u64(h->element, "frames-seen"), pushed);
  fail_unless_equals_int(switches, SWAPS);
  fail_unless_equals_int(log.sw.swapped, SWAPS);
  fail_unless_equals_int(log.sw.warnings, 0);
  fail_unless(log.classification > 0);
  g_print("%s: %u swaps A<->B in %.1f s, %u frames in, %u out, %u result-model switches, %u "
          "ens-classification messages checked\n",
          mode, SWAPS, secs, pushed, pushed, switches, log.classification);
  test_element_bus_clear(h->element, bus);
  gst_harness_teardown(h);
  bus_log_clear(&log);
  free_refs();
}

GST_START_TEST(test_swaps_sync)
{
  run_swaps("sync");
}
GST_END_TEST;

GST_START_TEST(test_swaps_async)
{
  run_swaps("async");
}
GST_END_TEST;

/* ------------------------------------------------------------------ in flight across a swap */

GST_START_TEST(test_async_inflight_keeps_old_model)
{
  g_setenv("ENS_DEBUG_INFER_DELAY_MS", "4000", TRUE); /* read at start; > a load under ASan */
  GstHarness *h = harness("async", MA, "");
  g_unsetenv("ENS_DEBUG_INFER_DELAY_MS");
  GstBus *bus = test_element_bus(h->element);
  BusLog log = {0};
  guint frame = 0;
  fail_unless_equals_int(push_frame(h, &frame, FALSE), -1); /* frame 0: in flight on A */
  g_object_set(h->element, "model", hr_models[MB].path, NULL);
  wait_bus(bus, &log, 1, 0);
  /* the swap came while frame 0 was still being inferred */
  fail_unless_equals_uint64(test_get_u64(h->element, "frames-inferred"), 0);
  fail_unless_equals_int(push_frame(h, &frame, FALSE), -1); /* frame 1: pending, on B */
  test_wait_inferred(h->element, 2);
  /* frame 1's result (B, 1000 classes) is carried by frame 2 */
  fail_unless_equals_int(gst_harness_push(h, test_seq_frame(FORMAT, W, H, 2, NULL)), GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull(h);
  GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
  fail_unless(m != NULL);
  fail_unless_equals_uint64(m->source_frame, 1);
  fail_unless_equals_int(check_meta(m), MB);
  gst_buffer_unref(out);
  /* the messages: frame 0 by A (after the swap), frame 1 by B (frame 2's may be there too) */
  GstMessage *msg;
  guint seen = 0; /* bit f: frame f's message */
  while ((msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure(msg);
    if (gst_structure_has_name(s, "ens-classification")) {
      guint64 f;
      gst_structure_get_uint64(s, "frame", &f);
      check_classification(s);
      fail_unless_equals_string(gst_structure_get_string(s, "model"),
                                hr_models[f == 0 ? MA : MB].name);
      fail_unless(f <= 2);
      seen |= 1u << f;
    }
    gst_message_unref(msg);
  }
  fail_unless((seen & 3) == 3, "messages of frames 0 and 1: mask %u", seen);
  test_element_bus_clear(h->element, bus);
  gst_harness_teardown(h);
  bus_log_clear(&log);
  free_refs();
}
GST_END_TEST;

/* ------------------------------------------------------------------ failures */

GST_START_TEST(test_failed_load_keeps_model)
{
  GstHarness *h = harness("sync", MA, "");
  GstBus *bus = test_element_bus(h->element);
  BusLog log = {0};
  guint frame = 0;
  fail_unless_equals_int(push_frame(h, &frame, TRUE), MA);
  const gchar *bad[] = {"/nonexistent/ens/model.safetensors", corrupt_path, "random:b9", ""};
  const gchar *said[] = {"/nonexistent/ens/model.safetensors", corrupt_path, "b9", "no model set"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_object_set(h->element, "model", bad[i], NULL);
    wait_bus(bus, &log, 0, i + 1);
    fail_unless(strstr(log.sw.warning, said[i]) != NULL, "warning \"%s\" does not name %s",
                log.sw.warning, said[i]);
    fail_unless(strstr(log.sw.warning, hr_models[MA].path) != NULL,
                "warning \"%s\" does not say %s is kept", log.sw.warning, hr_models[MA].path);
    gchar *now = get_model(h->element);
    fail_unless_equals_string(now, hr_models[MA].path);
    g_free(now);
    fail_unless_equals_int(push_frame(h, &frame, TRUE), MA); /* still running, on A */
  }
  /* a failed request is forgotten: changing labels now reloads A, not the last bad path */
  g_object_set(h->element, "labels", labels_path, NULL);
  wait_bus(bus, &log, 1, G_N_ELEMENTS(bad));
  fail_unless_equals_string(log.sw.swapped_new, hr_models[MA].path);
  fail_unless_equals_int(log.sw.swapped, 1);
  test_element_bus_clear(h->element, bus);
  gst_harness_teardown(h);
  bus_log_clear(&log);
  free_refs();
}
GST_END_TEST;

/* Setting the same path reloads it (a retrained model rewritten in place): a swap message, and
 * a new model means a new EMA (the first result after it is a plain inference). */
GST_START_TEST(test_same_path_reloads)
{
  GstHarness *h = harness("sync", MA, "smoothing=ema smoothing-alpha=0.5");
  GstBus *bus = test_element_bus(h->element);
  BusLog log = {.smoothed = TRUE};
  ens_class_score want[5];
  for (guint i = 0; i < 3; i++) {
    fail_unless_equals_int(gst_harness_push(h, test_seq_frame(FORMAT, W, H, i, NULL)), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull(h);
    GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
    fail_unless(m != NULL && m->fresh);
    gint k = ref_top(MA, i, want);
    if (i == 1) {
      /* smoothed: not the plain inference of frame 1 (else the check below proves nothing) */
      gboolean same = TRUE;
      for (gint j = 0; j < k; j++)
        same &= m->entries[j].class_id == want[j].id && m->entries[j].score == want[j].prob;
      fail_if(same, "EMA result equals the plain inference");
      g_object_set(h->element, "model", hr_models[MA].path, NULL);
      wait_bus(bus, &log, 1, 0);
      fail_unless_equals_string(log.sw.swapped_old, hr_models[MA].path);
      fail_unless_equals_string(log.sw.swapped_new, hr_models[MA].path);
    } else if (i == 2) {
      test_assert_meta_equals(m, want, k); /* the EMA restarted with the new model */
    }
    gst_buffer_unref(out);
  }
  test_element_bus_clear(h->element, bus);
  gst_harness_teardown(h);
  bus_log_clear(&log);
  free_refs();
}
GST_END_TEST;

/* With a slow loader: the property reads the model in use until the swap, frames are not held
 * up by the load, the latest of several requests wins, and labels set with it come with it. */
GST_START_TEST(test_slow_load_latest_wins)
{
  const guint DELAY_MS = 2000;
  gchar *delay = g_strdup_printf("%u", DELAY_MS);
  g_setenv("ENS_DEBUG_LOAD_DELAY_MS", delay, TRUE); /* read at start */
  g_free(delay);
  GstHarness *h = harness("sync", MA, "");
  g_unsetenv("ENS_DEBUG_LOAD_DELAY_MS");
  GstBus *bus = test_element_bus(h->element);
  BusLog log = {0};
  guint frame = 0;
  fail_unless_equals_int(push_frame(h, &frame, TRUE), MA);

  gint64 t0 = g_get_monotonic_time();
  g_object_set(h->element, "model", hr_models[MB].path, NULL);
  g_object_set(h->element, "model", hr_models[MC].path, "labels", labels_path, NULL);
  gint64 set_us = g_get_monotonic_time() - t0;
  fail_unless(set_us < DELAY_MS * 1000 / 4, "setting model took %.1f ms", set_us / 1000.0);
  gchar *now = get_model(h->element);
  fail_unless_equals_string(now, hr_models[MA].path); /* still in use */
  g_free(now);
  /* frames go through on A meanwhile, each in far less than the load takes */
  for (guint i = 0; i < 3; i++) {
    gint64 p0 = g_get_monotonic_time();
    fail_unless_equals_int(push_frame(h, &frame, TRUE), MA);
    gint64 push_us = g_get_monotonic_time() - p0;
    fail_unless(push_us < DELAY_MS * 1000 / 2, "a frame took %.1f ms during the load",
                push_us / 1000.0);
  }
  drain_bus(bus, &log);
  fail_unless_equals_int(log.sw.swapped, 0);

  wait_bus(bus, &log, 1, 0);
  fail_unless_equals_string(log.sw.swapped_new, hr_models[MC].path); /* B never came in */
  now = get_model(h->element);
  fail_unless_equals_string(now, hr_models[MC].path);
  g_free(now);
  gchar *labels;
  g_object_get(h->element, "labels", &labels, NULL);
  fail_unless_equals_string(labels, labels_path);
  g_free(labels);
  fail_unless_equals_int(gst_harness_push(h, test_seq_frame(FORMAT, W, H, frame, NULL)),
                         GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull(h);
  GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
  fail_unless(m != NULL && m->fresh);
  fail_unless_equals_string(m->model_name, hr_models[MC].name);
  ens_class_score want[5];
  ref_top(MC, frame, want);
  fail_unless_equals_int(m->entries[0].class_id, want[0].id);
  gchar *label = g_strdup_printf("hotreload label %d", want[0].id);
  fail_unless_equals_string(m->entries[0].label, label); /* from the labels file */
  g_free(label);
  gst_buffer_unref(out);
  /* and nothing else arrives later (B was discarded, not queued) */
  g_usleep((DELAY_MS + 500) * 1000);
  drain_bus(bus, &log);
  fail_unless_equals_int(log.sw.swapped, 1);
  test_element_bus_clear(h->element, bus);
  gst_harness_teardown(h);
  bus_log_clear(&log);
  free_refs();
}
GST_END_TEST;

/* ------------------------------------------------------------------ real pipeline */

static void run_pipeline(const gchar *mode)
{
  gchar *desc = g_strdup_printf(
      "videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=%d,height=%d,"
      "framerate=50/1 ! ensclassify name=c0 model=\"%s\" threads=1 mode=%s post-messages=false "
      "! fakesink sync=false",
      W, H, hr_models[MA].path, mode);
  HrPipeline *p = hr_pipeline_start(desc, 1, FALSE);
  g_free(desc);
  GstElement *c = p->c[0];

  gint64 t0 = g_get_monotonic_time();
  for (guint s = 0; s < PIPELINE_SWAPS; s++)
    hr_pipeline_swap(p, s, s % 2 == 0 ? MB : MA);
  gdouble secs = (gdouble)(g_get_monotonic_time() - t0) / 1e6;
  guint swapped = p->swapped[0];

  hr_pipeline_eos(p);
  guint64 seen = test_get_u64(c, "frames-seen");
  guint64 inferred = test_get_u64(c, "frames-inferred");
  hr_pipeline_stop(p);

  g_print("pipeline %s: %u swaps in %.1f s, %" G_GUINT64_FORMAT " frames in, %" G_GUINT64_FORMAT
          " out, %" G_GUINT64_FORMAT " inferred, %u result-model switches\n",
          mode, swapped, secs, p->in[0], p->out[0], inferred, p->switches[0]);
  fail_unless_equals_int(swapped, PIPELINE_SWAPS);
  fail_unless_equals_uint64(p->in[0], p->out[0]);
  fail_unless_equals_uint64(seen, p->in[0]);
  fail_unless_equals_int(p->bad, 0);
  fail_unless_equals_int(p->switches[0], PIPELINE_SWAPS);
  hr_pipeline_free(p);
}

GST_START_TEST(test_pipeline_sync)
{
  run_pipeline("sync");
}
GST_END_TEST;

GST_START_TEST(test_pipeline_async)
{
  run_pipeline("async");
}
GST_END_TEST;

int main(int argc, char **argv)
{
  make_models(); /* before the fork of each test; skips (77) without ../shared */
  gst_check_init(&argc, &argv);
  static const TestEntry tests[] = {
      TEST_ENTRY(test_swaps_sync),
      TEST_ENTRY(test_swaps_async),
      TEST_ENTRY(test_async_inflight_keeps_old_model),
      TEST_ENTRY(test_failed_load_keeps_model),
      TEST_ENTRY(test_same_path_reloads),
      TEST_ENTRY(test_slow_load_latest_wins),
      TEST_ENTRY(test_pipeline_sync),
      TEST_ENTRY(test_pipeline_async),
  };
  return test_run_suite("ensclassify-hotreload", 300, tests, NULL, NULL);
}
