/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_classify_hotreload_shared.c - hot reload of a model shared by several ensclassify
 * elements (model-instance-id): setting `model` on any element reloads it for all.
 *
 * Three hub-layout models made by the test, with distinct names, class counts and input sizes:
 * A (10 classes, 64 px), B (1000 classes, 80 px), C (10 classes, 72 px). The checks:
 *  - three elements of one id, batch-size 3, sync and async (harnesses, one pushing thread
 *    each): SWAPS swaps A <-> B, each set on another element, while frames flow: every frame
 *    pushed comes out, every result equals libens's result of the model it names on its source
 *    frame (a batch mixing rows of A and B would give other classes), every element posts one
 *    ens-model-swapped per swap, reads the new path back and then gives results of it, batches
 *    of more than one frame formed, and shared-loads counted every reload;
 *  - a failed load (missing, corrupt) on one element warns on that element only; nothing
 *    changes for anyone; labels set on one element reach every element's results;
 *  - after a swap, an element joining with the new path runs it; one joining with the old path
 *    fails with an error naming both;
 *  - the latest request of the id wins, whichever element made it (an older request that
 *    finishes loading later is discarded), and a load in progress when its element stops is
 *    discarded;
 *  - a real threaded pipeline (three videotestsrc ! ensclassify ! fakesink branches), sync and
 *    async, with swaps while frames flow: frames in = frames out per element, every element
 *    switches once per swap, no result names another model or a class the model lacks.
 */
#include "hotreload_test_util.h"

#include <string.h>

#include "ens_test.h"

#if defined(__SANITIZE_ADDRESS__)
/* a model load takes ~1 s under ASan on a busy 2-core machine; the swap paths are the same */
#define SWAPS 8
#else
#define SWAPS 30
#endif
#define STREAMS 3
#define PATTERNS 6 /* frame i shows picture i % PATTERNS: the references are computed once */
#define W 64
#define H 48
#define FORMAT GST_VIDEO_FORMAT_I420
#define WAIT_S HR_WAIT_S

static gchar *corrupt_path;

/* references: top classes of picture p under model m (labels owned by ref_models[m]) */
static ens_model *ref_models[N_MODELS];
static ens_class_score ref_top[N_MODELS][PATTERNS][5];
static gboolean ref_done[N_MODELS][PATTERNS];
static GMutex ref_lock; /* the streams check from their own threads */

/* ------------------------------------------------------------------ models */

static void make_models(void)
{
  corrupt_path = hr_make_models("hrs", "hotreload-shared");
}

static GstBuffer *frame(guint i)
{
  GstBuffer *b = test_picture_frame(FORMAT, W, H, i % PATTERNS, 0, NULL);
  GST_BUFFER_PTS(b) = i * 40 * GST_MSECOND;
  GST_BUFFER_DURATION(b) = 40 * GST_MSECOND;
  return b;
}

/* The top classes of picture p under model mi (A or B), computed on first use in each test
 * process (the meta and results of all three streams ask for the same few). */
static const ens_class_score *reference(int mi, guint p)
{
  g_mutex_lock(&ref_lock);
  if (!ref_models[mi])
    ref_models[mi] = hr_load_reference(mi);
  if (!ref_done[mi][p]) {
    GstVideoInfo vinfo;
    GstBuffer *b = test_picture_frame(FORMAT, W, H, p, 0, &vinfo);
    test_ref_topk(ref_models[mi], b, &vinfo, NULL, 5, ref_top[mi][p]);
    gst_buffer_unref(b);
    ref_done[mi][p] = TRUE;
  }
  g_mutex_unlock(&ref_lock);
  return ref_top[mi][p];
}

static void free_references(void)
{
  for (int i = 0; i < N_MODELS; i++)
    g_clear_pointer(&ref_models[i], ens_model_free);
  memset(ref_done, 0, sizeof ref_done);
}

/* The meta's classes are exactly those of the model it names on its source frame (A or B). */
static int check_meta(const GstEnsClassificationMeta *m)
{
  int mi = hr_model_named(m->model_name);
  fail_unless(mi == MA || mi == MB, "result of %s", m->model_name);
  test_assert_meta_equals(m, reference(mi, (guint)(m->source_frame % PATTERNS)), 5);
  return mi;
}

/* ------------------------------------------------------------------ elements and buses */

typedef struct {
  GstElement *e;
  GstBus *bus;
  HrSwapLog sw; /* its warnings and ens-model-swapped messages */
} Watch;

static void watch_init(Watch *w, GstElement *e)
{
  memset(w, 0, sizeof *w);
  w->e = e;
  w->bus = test_element_bus(e);
  w->sw.check_swapped_model = TRUE;
}

static void watch_clear(Watch *w)
{
  test_element_bus_clear(w->e, w->bus);
  hr_swap_log_clear(&w->sw);
}

/* Reads every message of w's bus; errors fail the test. */
static void drain(Watch *w)
{
  GstMessage *msg;
  while ((msg = gst_bus_pop(w->bus))) {
    hr_swap_log_message(&w->sw, msg, GST_OBJECT_NAME(w->e));
    gst_message_unref(msg);
  }
}

static gchar *get_string(GstElement *e, const gchar *name)
{
  gchar *v;
  g_object_get(e, name, &v, NULL);
  return v;
}

static guint get_uint(GstElement *e, const gchar *name)
{
  guint v;
  g_object_get(e, name, &v, NULL);
  return v;
}

static guint64 shared_loads(void)
{
  GstElement *e = gst_element_factory_make("ensclassify", NULL);
  guint64 n = test_get_u64(e, "shared-loads");
  gst_object_unref(e);
  return n;
}

static GstHarness *harness(const gchar *mode, const gchar *id, int model, const gchar *extra)
{
  GstVideoInfo info;
  gst_buffer_unref(test_picture_frame(FORMAT, W, H, 0, 0, &info));
  gchar *desc = g_strdup_printf("ensclassify model=\"%s\" threads=1 mode=%s model-instance-id=%s "
                                "post-messages=false %s",
                                hr_models[model].path, mode, id, extra);
  GstHarness *h = test_harness_new(desc);
  g_free(desc);
  gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
  return h;
}

/* ------------------------------------------------------------------ streams pushing frames */

typedef struct {
  GstHarness *h;
  gboolean sync;
  gint *stop; /* atomic */
  GMutex lock;
  int last; /* model of the last result, -1 before */
  guint64 pushed;
  guint switches;
} Stream;

static gpointer stream_main(gpointer data)
{
  Stream *st = data;
  for (guint i = 0; !g_atomic_int_get(st->stop); i++) {
    fail_unless_equals_int(gst_harness_push(st->h, frame(i)), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull(st->h);
    fail_unless(out != NULL, "frame %u did not come out", i);
    GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
    int mi = -1;
    if (st->sync) {
      fail_unless(m != NULL && m->fresh && m->source_frame == i, "sync frame %u: no own result", i);
    }
    if (m)
      mi = check_meta(m);
    gst_buffer_unref(out);
    g_mutex_lock(&st->lock);
    st->pushed++;
    if (mi >= 0) {
      if (st->last >= 0 && mi != st->last)
        st->switches++;
      st->last = mi;
    }
    g_mutex_unlock(&st->lock);
    if (!st->sync)
      g_usleep(2000); /* let the workers run */
  }
  return NULL;
}

static int stream_last(Stream *st)
{
  g_mutex_lock(&st->lock);
  int last = st->last;
  g_mutex_unlock(&st->lock);
  return last;
}

/* SWAPS swaps A <-> B, swap s set on element s % STREAMS, while every stream pushes frames. */
static void run_swaps(const gchar *mode)
{
  gboolean sync = g_str_equal(mode, "sync");
  gchar *id = g_strdup_printf("hrs-%s", mode);
  guint64 loads0 = shared_loads();
  GstHarness *h[STREAMS];
  Watch w[STREAMS];
  Stream st[STREAMS];
  GThread *t[STREAMS];
  gint stop = 0;
  for (int i = 0; i < STREAMS; i++) {
    h[i] = harness(mode, id, MA, "batch-size=3 batch-timeout=20");
    watch_init(&w[i], h[i]->element);
    st[i] = (Stream){.h = h[i], .sync = sync, .stop = &stop, .last = -1};
    g_mutex_init(&st[i].lock);
  }
  fail_unless_equals_uint64(shared_loads(), loads0 + 1);
  fail_unless_equals_int(get_uint(h[0]->element, "shared-users"), STREAMS);
  for (int i = 0; i < STREAMS; i++)
    t[i] = g_thread_new("push", stream_main, &st[i]);

  gint64 t0 = g_get_monotonic_time();
  for (guint s = 0; s < SWAPS; s++) {
    int target = s % 2 == 0 ? MB : MA;
    g_object_set(h[s % STREAMS]->element, "model", hr_models[target].path, NULL);
    /* every element: the swap message, the new path read back, then a result of the new model */
    gint64 end = g_get_monotonic_time() + WAIT_S * G_USEC_PER_SEC;
    for (int i = 0; i < STREAMS; i++) {
      for (;;) {
        drain(&w[i]);
        if (w[i].sw.swapped >= s + 1 && stream_last(&st[i]) == target)
          break;
        fail_unless(g_get_monotonic_time() < end,
                    "swap %u (%s, set on element %u): element %d has %u swaps, last result of "
                    "model %d",
                    s, hr_models[target].tag, s % STREAMS, i, w[i].sw.swapped, stream_last(&st[i]));
        g_usleep(2000);
      }
      fail_unless_equals_int(w[i].sw.swapped, s + 1);
      fail_unless_equals_string(w[i].sw.swapped_new, hr_models[target].path);
      fail_unless_equals_string(w[i].sw.swapped_old, hr_models[target == MA ? MB : MA].path);
      gchar *now = get_string(h[i]->element, "model");
      fail_unless_equals_string(now, hr_models[target].path);
      g_free(now);
    }
  }
  gdouble secs = (gdouble)(g_get_monotonic_time() - t0) / 1e6;
  g_atomic_int_set(&stop, 1);
  for (int i = 0; i < STREAMS; i++)
    g_thread_join(t[i]);

  /* EOS waits for the inferences still running (async): the counts below are final */
  for (int i = 0; i < STREAMS; i++)
    fail_unless(gst_harness_push_event(h[i], gst_event_new_eos()));
  guint64 pushed = 0, inferred = 0;
  for (int i = 0; i < STREAMS; i++) {
    inferred += test_get_u64(h[i]->element, "frames-inferred");
    drain(&w[i]);
    fail_unless_equals_int(w[i].sw.warnings, 0);
    fail_unless_equals_int(w[i].sw.swapped, SWAPS);
    /* every push returned its buffer (checked in the thread) and the element saw each once */
    fail_unless_equals_uint64(test_get_u64(h[i]->element, "frames-seen"), st[i].pushed);
    fail_unless_equals_int(st[i].switches, SWAPS);
    pushed += st[i].pushed;
  }
  guint max_batch = get_uint(h[0]->element, "shared-max-batch");
  guint64 batches = test_get_u64(h[0]->element, "shared-batches");
  guint64 frames = test_get_u64(h[0]->element, "shared-frames");
  g_print("%s: %u swaps A<->B over %d elements in %.1f s, %" G_GUINT64_FORMAT
          " frames in and out, %" G_GUINT64_FORMAT " shared frames in %" G_GUINT64_FORMAT
          " batches (largest %u), every result checked against its model's reference\n",
          mode, SWAPS, STREAMS, secs, pushed, frames, batches, max_batch);
  fail_unless(max_batch > 1, "no batch of more than one frame formed");
  /* the engine's statistics ran on across the swaps: every inference of every element */
  fail_unless_equals_uint64(frames, inferred);
  fail_unless_equals_uint64(shared_loads(), loads0 + 1 + SWAPS);
  for (int i = 0; i < STREAMS; i++) {
    watch_clear(&w[i]);
    gst_harness_teardown(h[i]);
    g_mutex_clear(&st[i].lock);
  }
  g_free(id);
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

/* ------------------------------------------------------------------ failures, joiners */

/* Pushes frame i through h (sync) and returns the model of its result. */
static int push_one(GstHarness *h, guint i)
{
  fail_unless_equals_int(gst_harness_push(h, frame(i)), GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull(h);
  fail_unless(out != NULL);
  GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
  fail_unless(m != NULL && m->fresh && m->source_frame == i);
  int mi = check_meta(m);
  gst_buffer_unref(out);
  return mi;
}

static void wait_swaps(Watch *w, guint swaps)
{
  gint64 end = g_get_monotonic_time() + WAIT_S * G_USEC_PER_SEC;
  while (drain(w), w->sw.swapped < swaps)
    fail_unless(g_get_monotonic_time() < end, "waited %d s for %u swaps of %s", WAIT_S, swaps,
                GST_OBJECT_NAME(w->e));
}

static void wait_warnings(Watch *w, guint warnings)
{
  gint64 end = g_get_monotonic_time() + WAIT_S * G_USEC_PER_SEC;
  while (drain(w), w->sw.warnings < warnings) {
    fail_unless(g_get_monotonic_time() < end, "waited %d s for %u warnings of %s", WAIT_S, warnings,
                GST_OBJECT_NAME(w->e));
    g_usleep(2000);
  }
}

GST_START_TEST(test_failed_load_changes_nothing)
{
  guint64 loads0 = shared_loads();
  GstHarness *a = harness("sync", "hrs-fail", MA, "");
  GstHarness *b = harness("sync", "hrs-fail", MA, "");
  Watch wa, wb;
  watch_init(&wa, a->element);
  watch_init(&wb, b->element);
  guint fa = 0, fb = 0;
  const gchar *bad[] = {"/nonexistent/ens/model.safetensors", corrupt_path};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_object_set(b->element, "model", bad[i], NULL);
    wait_warnings(&wb, i + 1);
    fail_unless(strstr(wb.sw.warning, bad[i]) != NULL, "warning \"%s\" does not name %s",
                wb.sw.warning, bad[i]);
    fail_unless(strstr(wb.sw.warning, hr_models[MA].path) != NULL,
                "warning \"%s\" does not say %s is kept", wb.sw.warning, hr_models[MA].path);
    for (int e = 0; e < 2; e++) {
      GstElement *el = e ? b->element : a->element;
      gchar *now = get_string(el, "model");
      fail_unless_equals_string(now, hr_models[MA].path);
      g_free(now);
    }
    fail_unless_equals_int(push_one(a, fa++), MA);
    fail_unless_equals_int(push_one(b, fb++), MA);
  }
  drain(&wa);
  fail_unless_equals_int(wa.sw.warnings, 0); /* only the element that asked hears of it */
  fail_unless_equals_int(wa.sw.swapped + wb.sw.swapped, 0);
  fail_unless_equals_uint64(shared_loads(), loads0 + 1);
  fail_unless_equals_int(get_uint(a->element, "shared-users"), 2);
  /* a valid request after them still swaps both */
  g_object_set(a->element, "model", hr_models[MB].path, NULL);
  wait_swaps(&wa, 1);
  wait_swaps(&wb, 1);
  fail_unless_equals_int(push_one(a, fa++), MB);
  fail_unless_equals_int(push_one(b, fb++), MB);
  fail_unless_equals_uint64(shared_loads(), loads0 + 2);
  watch_clear(&wa);
  watch_clear(&wb);
  gst_harness_teardown(a);
  gst_harness_teardown(b);
}
GST_END_TEST;

/* Setting labels on one element reloads the id's model with them: both elements read the file
 * back and label their results from it. */
GST_START_TEST(test_labels_reload)
{
  gchar *labels = g_build_filename(ens_test_gen_dir(), "hotreload-shared-labels.txt", NULL);
  GString *names = g_string_new(NULL);
  for (int i = 0; i < 10; i++)
    g_string_append_printf(names, "shared label %d\n", i);
  fail_unless(g_file_set_contents(labels, names->str, -1, NULL));
  g_string_free(names, TRUE);
  GstHarness *h[2] = {harness("sync", "hrs-labels", MA, ""), harness("sync", "hrs-labels", MA, "")};
  Watch w[2];
  for (int i = 0; i < 2; i++)
    watch_init(&w[i], h[i]->element);
  g_object_set(h[1]->element, "labels", labels, NULL);
  for (int i = 0; i < 2; i++) {
    wait_swaps(&w[i], 1);
    fail_unless_equals_string(w[i].sw.swapped_new, hr_models[MA].path);
    gchar *now = get_string(h[i]->element, "labels");
    fail_unless_equals_string(now, labels);
    g_free(now);
    fail_unless_equals_int(gst_harness_push(h[i], frame(0)), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull(h[i]);
    GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
    fail_unless(m != NULL && m->fresh);
    const ens_class_score *want = reference(MA, 0);
    for (guint k = 0; k < 5; k++) {
      fail_unless_equals_int(m->entries[k].class_id, want[k].id);
      gchar *label = g_strdup_printf("shared label %d", want[k].id);
      fail_unless_equals_string(m->entries[k].label, label);
      g_free(label);
    }
    gst_buffer_unref(out);
  }
  for (int i = 0; i < 2; i++) {
    watch_clear(&w[i]);
    gst_harness_teardown(h[i]);
  }
  g_free(labels);
}
GST_END_TEST;

/* Starts a lone element of id with model (sync); returns its state change result. */
static GstStateChangeReturn try_join(GstElement *e, const gchar *id, int model)
{
  g_object_set(e, "model", hr_models[model].path, "threads", 1, "model-instance-id", id, NULL);
  gst_util_set_object_arg(G_OBJECT(e), "mode", "sync");
  return gst_element_set_state(e, GST_STATE_PAUSED);
}

GST_START_TEST(test_join_after_swap)
{
  GstHarness *a = harness("sync", "hrs-join", MA, "");
  Watch wa;
  watch_init(&wa, a->element);
  fail_unless_equals_int(push_one(a, 0), MA);
  g_object_set(a->element, "model", hr_models[MB].path, NULL);
  wait_swaps(&wa, 1);
  fail_unless_equals_int(push_one(a, 1), MB);

  /* joining with the path the id started with: the model in use is B now */
  GstElement *old = gst_element_factory_make("ensclassify", "old");
  GstBus *bus = test_element_bus(old);
  fail_unless_equals_int(try_join(old, "hrs-join", MA), GST_STATE_CHANGE_FAILURE);
  GError *err = test_pop_error(bus, "joining with the old path", NULL);
  g_print("joining with the old path: %s\n", err->message);
  fail_unless(err->domain == GST_RESOURCE_ERROR && err->code == GST_RESOURCE_ERROR_SETTINGS);
  fail_unless(strstr(err->message, "hrs-join") != NULL, "%s lacks the id", err->message);
  fail_unless(strstr(err->message, hr_models[MA].path) != NULL, "%s lacks the old path",
              err->message);
  fail_unless(strstr(err->message, hr_models[MB].path) != NULL, "%s lacks the path in use",
              err->message);
  g_error_free(err);
  fail_unless_equals_int(gst_element_set_state(old, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  test_element_bus_clear(old, bus);
  gst_object_unref(old);
  fail_unless_equals_int(get_uint(a->element, "shared-users"), 1);

  /* joining with the path in use: it runs B, sharing the engine */
  guint64 loads = shared_loads();
  GstHarness *b = harness("sync", "hrs-join", MB, "");
  fail_unless_equals_uint64(shared_loads(), loads); /* joined, not loaded */
  fail_unless_equals_int(get_uint(a->element, "shared-users"), 2);
  fail_unless_equals_int(push_one(b, 0), MB);
  fail_unless_equals_int(push_one(a, 2), MB);
  /* and it follows the next swap like the others */
  Watch wb;
  watch_init(&wb, b->element);
  g_object_set(b->element, "model", hr_models[MA].path, NULL);
  wait_swaps(&wa, 2);
  wait_swaps(&wb, 1);
  fail_unless_equals_int(push_one(a, 3), MA);
  fail_unless_equals_int(push_one(b, 1), MA);
  watch_clear(&wa);
  watch_clear(&wb);
  gst_harness_teardown(b);
  gst_harness_teardown(a);
}
GST_END_TEST;

/* The latest request of the id wins: element b asks for C (fast load), then element a (whose
 * loader is slow) for B: C finishes loading first but is discarded; only B comes in. Then a load
 * in progress when its element stops is discarded: nothing changes for the other. */
GST_START_TEST(test_latest_wins_and_stop_discards)
{
  const guint DELAY_MS = 1500;
  gchar *delay = g_strdup_printf("%u", DELAY_MS);
  g_setenv("ENS_DEBUG_LOAD_DELAY_MS", delay, TRUE); /* read at start: a's loader only */
  g_free(delay);
  GstHarness *a = harness("sync", "hrs-latest", MA, "");
  g_unsetenv("ENS_DEBUG_LOAD_DELAY_MS");
  GstHarness *b = harness("sync", "hrs-latest", MA, "");
  Watch wa, wb;
  watch_init(&wa, a->element);
  watch_init(&wb, b->element);
  guint64 loads = shared_loads();
  g_object_set(b->element, "model", hr_models[MC].path, NULL);
  g_object_set(a->element, "model", hr_models[MB].path, NULL);
  fail_unless_equals_int(push_one(a, 0), MA); /* frames flow meanwhile */
  wait_swaps(&wa, 1);
  wait_swaps(&wb, 1);
  fail_unless_equals_string(wa.sw.swapped_new, hr_models[MB].path);
  fail_unless_equals_string(wb.sw.swapped_new, hr_models[MB].path);
  fail_unless_equals_int(push_one(b, 0), MB);
  fail_unless_equals_uint64(shared_loads(), loads + 1); /* C was loaded but never swapped in */
  g_usleep(500 * 1000);
  drain(&wa);
  drain(&wb);
  fail_unless_equals_int(wa.sw.swapped + wb.sw.swapped, 2);

  /* a asks for A (slow) and stops before it is loaded */
  g_object_set(a->element, "model", hr_models[MA].path, NULL);
  watch_clear(&wa);
  gst_harness_teardown(a);
  g_usleep((DELAY_MS + 500) * 1000);
  drain(&wb);
  fail_unless_equals_int(wb.sw.swapped, 1);
  gchar *now = get_string(b->element, "model");
  fail_unless_equals_string(now, hr_models[MB].path);
  g_free(now);
  fail_unless_equals_int(push_one(b, 1), MB);
  fail_unless_equals_int(get_uint(b->element, "shared-users"), 1);
  watch_clear(&wb);
  gst_harness_teardown(b);
}
GST_END_TEST;

/* ------------------------------------------------------------------ real pipeline */

static void run_pipeline(const gchar *mode)
{
  GString *desc = g_string_new(NULL);
  for (int i = 0; i < STREAMS; i++)
    g_string_append_printf(desc,
                           "videotestsrc is-live=true pattern=%s ! video/x-raw,format=I420,"
                           "width=%d,height=%d,framerate=30/1 ! ensclassify name=c%d model=\"%s\" "
                           "threads=1 mode=%s model-instance-id=hrs-pipe-%s batch-size=3 "
                           "batch-timeout=20 post-messages=false ! fakesink sync=false ",
                           i == 0   ? "ball"
                           : i == 1 ? "smpte"
                                    : "snow",
                           W, H, i, hr_models[MA].path, mode, mode);
  /* bad also counts results with another number of entries or a class the model lacks */
  HrPipeline *p = hr_pipeline_start(desc->str, STREAMS, TRUE);
  g_string_free(desc, TRUE);

  gint64 t0 = g_get_monotonic_time();
  for (guint s = 0; s < SWAPS; s++)
    hr_pipeline_swap(p, s, s % 2 == 0 ? MB : MA);
  gdouble secs = (gdouble)(g_get_monotonic_time() - t0) / 1e6;

  hr_pipeline_eos(p);
  guint64 seen[STREAMS];
  for (int i = 0; i < STREAMS; i++)
    seen[i] = test_get_u64(p->c[i], "frames-seen");
  guint max_batch = get_uint(p->c[0], "shared-max-batch");
  hr_pipeline_stop(p);

  g_print("pipeline %s: %u swaps in %.1f s; frames in/out per element %" G_GUINT64_FORMAT
          "/%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
          "/%" G_GUINT64_FORMAT "; largest batch %u\n",
          mode, SWAPS, secs, p->in[0], p->out[0], p->in[1], p->out[1], p->in[2], p->out[2],
          max_batch);
  fail_unless_equals_int(p->bad, 0);
  for (int i = 0; i < STREAMS; i++) {
    fail_unless_equals_int(p->swapped[i], SWAPS);
    fail_unless_equals_uint64(p->in[i], p->out[i]);
    fail_unless_equals_uint64(seen[i], p->in[i]);
    fail_unless_equals_int(p->switches[i], SWAPS);
  }
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
      TEST_ENTRY(test_failed_load_changes_nothing),
      TEST_ENTRY(test_labels_reload),
      TEST_ENTRY(test_join_after_swap),
      TEST_ENTRY(test_latest_wins_and_stop_discards),
      TEST_ENTRY(test_pipeline_sync),
      TEST_ENTRY(test_pipeline_async),
  };
  return test_run_suite("ensclassify-hotreload-shared", 300, tests, NULL, free_references);
}
