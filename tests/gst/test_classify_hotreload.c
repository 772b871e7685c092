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
#include "gst_test_util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

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
#define WAIT_S 60 /* for a load + a few frames, under ASan on a busy machine */

typedef struct {
  const gchar *tag;
  gint num_classes, size;
  gchar *path; /* hub directory */
  gchar *name; /* tf_efficientnet_b0.<tag> */
} TestModel;

enum { MA, MB, MC, N_MODELS };
static TestModel models[N_MODELS] = {
    {"hr_a", 10, 64, NULL, NULL},
    {"hr_b", 1000, 80, NULL, NULL},
    {"hr_c", 10, 72, NULL, NULL},
};
static ens_model *refs[N_MODELS]; /* loaded lazily in each test process */
static gchar *corrupt_path;
static gchar *labels_path; /* 10 names, for C */

/* ------------------------------------------------------------------ models */

static void die(const gchar *what)
{
  g_printerr("FAIL: %s\n", what);
  exit(1);
}

/* A hub directory: model.safetensors (a link to weights) + config.json naming the tag and the
 * input size, so the element (input-size unset) uses each model's own size. */
static gchar *make_hub(const gchar *weights, const TestModel *m)
{
  gchar *dir = g_strdup_printf("%s/hotreload-%s", ens_test_gen_dir(), m->tag);
  if (g_mkdir_with_parents(dir, 0755) != 0)
    die(dir);
  gchar *st = g_build_filename(dir, "model.safetensors", NULL);
  g_unlink(st);
  if (symlink(weights, st) != 0)
    die(st);
  gchar *cfg =
      g_strdup_printf("{\"architecture\": \"tf_efficientnet_b0\", \"num_classes\": %d, "
                      "\"pretrained_cfg\": {\"tag\": \"%s\", \"input_size\": [3, %d, %d]}}",
                      m->num_classes, m->tag, m->size, m->size);
  gchar *cfg_path = g_build_filename(dir, "config.json", NULL);
  if (!g_file_set_contents(cfg_path, cfg, -1, NULL)) /* atomic: temp file + rename */
    die(cfg_path);
  g_free(cfg_path);
  g_free(cfg);
  g_free(st);
  return dir;
}

static void make_models(void)
{
  char *nc10 = ens_test_weights("b0", "--num-classes 10", "b0_nc10");
  char *nc1000 = ens_test_weights("b0", NULL, "b0");
  for (int i = 0; i < N_MODELS; i++) {
    models[i].path = make_hub(models[i].num_classes == 10 ? nc10 : nc1000, &models[i]);
    models[i].name = g_strdup_printf("tf_efficientnet_b0.%s", models[i].tag);
  }
  free(nc10);
  free(nc1000);
  corrupt_path = g_build_filename(ens_test_gen_dir(), "hotreload-corrupt.safetensors", NULL);
  if (!g_file_set_contents(corrupt_path, "\x20\x00\x00\x00\x00\x00\x00\x00{not json", 18, NULL))
    die(corrupt_path);
  labels_path = g_build_filename(ens_test_gen_dir(), "hotreload-labels.txt", NULL);
  GString *s = g_string_new(NULL);
  for (int i = 0; i < 10; i++)
    g_string_append_printf(s, "hotreload label %d\n", i);
  if (!g_file_set_contents(labels_path, s->str, -1, NULL))
    die(labels_path);
  g_string_free(s, TRUE);
}

static ens_model *ref_model(int i)
{
  if (!refs[i]) {
    ens_options opt;
    ens_options_init(&opt);
    opt.threads = TEST_THREADS;
    ens_error err;
    fail_unless(ens_model_load(models[i].path, &opt, &refs[i], &err) == ENS_OK, "%s", err.message);
    const ens_model_info *mi = ens_model_get_info(refs[i]);
    fail_unless_equals_string(mi->name, models[i].name);
    fail_unless_equals_int(mi->num_classes, models[i].num_classes);
    fail_unless_equals_int(mi->input_height, models[i].size);
  }
  return refs[i];
}

static guint n_cached; /* entries of the reference cache below */

static void free_refs(void)
{
  for (int i = 0; i < N_MODELS; i++)
    g_clear_pointer(&refs[i], ens_model_free);
  n_cached = 0;
}

/* Index of the model named name; fails if it is none of ours. */
static int model_named(const gchar *name)
{
  for (int i = 0; i < N_MODELS; i++)
    if (g_strcmp0(name, models[i].name) == 0)
      return i;
  fail("result of an unknown model \"%s\"", name ? name : "(null)");
  return -1;
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
  gint k = MIN(5, models[mi].num_classes);
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
  int mi = model_named(m->model_name);
  ens_class_score want[5];
  gint k = ref_top(mi, m->source_frame, want);
  test_assert_meta_equals(m, want, k);
  return mi;
}

/* ------------------------------------------------------------------ bus */

typedef struct {
  guint swapped;        /* ens-model-swapped messages */
  gchar *swapped_new;   /* "new" of the last one */
  gchar *swapped_old;   /* "old" of the last one */
  guint classification; /* ens-classification messages, each checked against the reference */
  guint warnings;
  gchar *warning;    /* text of the last warning */
  gboolean smoothed; /* results are EMA-smoothed: not comparable with one inference */
} BusLog;

static void bus_log_clear(BusLog *log)
{
  g_free(log->swapped_new);
  g_free(log->swapped_old);
  g_free(log->warning);
  memset(log, 0, sizeof *log);
}

/* An ens-classification message: its classes are those of the model its "model" field names,
 * on its frame. */
static void check_classification(const GstStructure *s)
{
  guint64 frame;
  fail_unless(gst_structure_get_uint64(s, "frame", &frame));
  int mi = model_named(gst_structure_get_string(s, "model"));
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
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
      GError *e = NULL;
      gst_message_parse_error(msg, &e, NULL);
      fail("error message: %s", e->message);
    } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_WARNING) {
      GError *e = NULL;
      gst_message_parse_warning(msg, &e, NULL);
      GST_INFO("warning: %s", e->message);
      g_free(log->warning);
      log->warning = g_strdup(e->message);
      log->warnings++;
      g_error_free(e);
    } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ELEMENT) {
      const GstStructure *s = gst_message_get_structure(msg);
      if (gst_structure_has_name(s, "ens-model-swapped")) {
        log->swapped++;
        g_free(log->swapped_new);
        g_free(log->swapped_old);
        log->swapped_new = g_strdup(gst_structure_get_string(s, "new"));
        log->swapped_old = g_strdup(gst_structure_get_string(s, "old"));
        gdouble ms = -1;
        fail_unless(gst_structure_get_double(s, "load-ms", &ms) && ms > 0.0);
        model_named(gst_structure_get_string(s, "new-name"));
        model_named(gst_structure_get_string(s, "old-name"));
      } else if (gst_structure_has_name(s, "ens-classification")) {
        log->classification++;
        if (!log->smoothed)
          check_classification(s);
      }
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
    if (log->swapped >= swaps && log->warnings >= warnings)
      return;
    fail_unless(g_get_monotonic_time() < end,
                "waited %d s for %u swaps / %u warnings (have %u / %u)", WAIT_S, swaps, warnings,
                log->swapped, log->warnings);
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
  gchar *desc = g_strdup_printf("ensclassify model=\"%s\" threads=1 mode=%s %s", models[model].path,
                                mode, extra);
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
    g_object_set(h->element, "model", models[target].path, NULL);
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
                  models[target].tag, WAIT_S);
      if (!sync)
        g_usleep(3000); /* let the worker and the loader run */
    }
    wait_bus(bus, &log, s + 1, 0);
    fail_unless_equals_string(log.swapped_new, models[target].path);
    fail_unless_equals_string(log.swapped_old, models[target == MA ? MB : MA].path);
    gchar *now = get_model(h->element);
    fail_unless_equals_string(now, models[target].path);
    g_free(now);
  }
  gdouble secs = (gdouble)(g_get_monotonic_time() - t0) / 1e6;
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  drain_bus(bus, &log);
  /* harness: every push returned its buffer */
  fail_unless_equals_uint64(test_get_u64(h->element, "frames-seen"), pushed);
  fail_unless_equals_int(switches, SWAPS);
  fail_unless_equals_int(log.swapped, SWAPS);
  fail_unless_equals_int(log.warnings, 0);
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
  g_object_set(h->element, "model", models[MB].path, NULL);
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
                                models[f == 0 ? MA : MB].name);
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
    fail_unless(strstr(log.warning, said[i]) != NULL, "warning \"%s\" does not name %s",
                log.warning, said[i]);
    fail_unless(strstr(log.warning, models[MA].path) != NULL,
                "warning \"%s\" does not say %s is kept", log.warning, models[MA].path);
    gchar *now = get_model(h->element);
    fail_unless_equals_string(now, models[MA].path);
    g_free(now);
    fail_unless_equals_int(push_frame(h, &frame, TRUE), MA); /* still running, on A */
  }
  /* a failed request is forgotten: changing labels now reloads A, not the last bad path */
  g_object_set(h->element, "labels", labels_path, NULL);
  wait_bus(bus, &log, 1, G_N_ELEMENTS(bad));
  fail_unless_equals_string(log.swapped_new, models[MA].path);
  fail_unless_equals_int(log.swapped, 1);
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
      g_object_set(h->element, "model", models[MA].path, NULL);
      wait_bus(bus, &log, 1, 0);
      fail_unless_equals_string(log.swapped_old, models[MA].path);
      fail_unless_equals_string(log.swapped_new, models[MA].path);
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
  g_object_set(h->element, "model", models[MB].path, NULL);
  g_object_set(h->element, "model", models[MC].path, "labels", labels_path, NULL);
  gint64 set_us = g_get_monotonic_time() - t0;
  fail_unless(set_us < DELAY_MS * 1000 / 4, "setting model took %.1f ms", set_us / 1000.0);
  gchar *now = get_model(h->element);
  fail_unless_equals_string(now, models[MA].path); /* still in use */
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
  fail_unless_equals_int(log.swapped, 0);

  wait_bus(bus, &log, 1, 0);
  fail_unless_equals_string(log.swapped_new, models[MC].path); /* B never came in */
  now = get_model(h->element);
  fail_unless_equals_string(now, models[MC].path);
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
  fail_unless_equals_string(m->model_name, models[MC].name);
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
  fail_unless_equals_int(log.swapped, 1);
  test_element_bus_clear(h->element, bus);
  gst_harness_teardown(h);
  bus_log_clear(&log);
  free_refs();
}
GST_END_TEST;

/* ------------------------------------------------------------------ real pipeline */

typedef struct {
  GMutex lock;
  GCond cond;
  guint64 in, out;
  int last; /* model index of the last result seen */
  guint switches;
  guint bad; /* results of an unexpected model */
} Probe;

static GstPadProbeReturn count_in(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  (void)pad;
  (void)info;
  Probe *p = data;
  g_mutex_lock(&p->lock);
  p->in++;
  g_mutex_unlock(&p->lock);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn watch_out(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  (void)pad;
  Probe *p = data;
  GstEnsClassificationMeta *m =
      gst_buffer_get_ens_classification_meta(GST_PAD_PROBE_INFO_BUFFER(info));
  int mi = -2;
  if (m)
    mi = g_strcmp0(m->model_name, models[MA].name) == 0   ? MA
         : g_strcmp0(m->model_name, models[MB].name) == 0 ? MB
                                                          : -1;
  g_mutex_lock(&p->lock);
  p->out++;
  if (mi == -1)
    p->bad++;
  else if (mi >= 0) {
    if (p->last >= 0 && mi != p->last)
      p->switches++;
    p->last = mi;
  }
  g_cond_broadcast(&p->cond);
  g_mutex_unlock(&p->lock);
  return GST_PAD_PROBE_OK;
}

static void run_pipeline(const gchar *mode)
{
  gchar *desc = g_strdup_printf(
      "videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=%d,height=%d,"
      "framerate=50/1 ! ensclassify name=c model=\"%s\" threads=1 mode=%s post-messages=false "
      "! fakesink sync=false",
      W, H, models[MA].path, mode);
  GError *error = NULL;
  GstElement *pipe = gst_parse_launch(desc, &error);
  fail_unless(pipe != NULL, "%s", error ? error->message : "");
  g_free(desc);
  GstElement *c = gst_bin_get_by_name(GST_BIN(pipe), "c");
  Probe p = {.last = -1};
  g_mutex_init(&p.lock);
  g_cond_init(&p.cond);
  GstPad *sink = gst_element_get_static_pad(c, "sink"), *src = gst_element_get_static_pad(c, "src");
  gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, count_in, &p, NULL);
  gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, watch_out, &p, NULL);
  GstBus *bus = gst_element_get_bus(pipe);
  fail_unless(gst_element_set_state(pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);

  gint64 t0 = g_get_monotonic_time();
  guint swapped = 0;
  for (guint s = 0; s < PIPELINE_SWAPS; s++) {
    int target = s % 2 == 0 ? MB : MA;
    g_object_set(c, "model", models[target].path, NULL);
    /* the swap message, then a buffer carrying a result of the new model */
    gint64 end = g_get_monotonic_time() + WAIT_S * G_USEC_PER_SEC;
    for (;;) {
      GstMessage *msg = gst_bus_timed_pop_filtered(
          bus, 100 * GST_MSECOND, GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
      if (msg) {
        fail_if(GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ELEMENT, "error / warning on the bus");
        gboolean is_swap =
            gst_structure_has_name(gst_message_get_structure(msg), "ens-model-swapped");
        gst_message_unref(msg);
        if (is_swap) {
          swapped++;
          break;
        }
      }
      fail_unless(g_get_monotonic_time() < end, "swap %u: no ens-model-swapped", s);
    }
    g_mutex_lock(&p.lock);
    while (p.last != target && g_get_monotonic_time() < end)
      g_cond_wait_until(&p.cond, &p.lock, end);
    gboolean ok = p.last == target;
    g_mutex_unlock(&p.lock);
    fail_unless(ok, "swap %u: no buffer with a result of %s", s, models[target].tag);
  }
  gdouble secs = (gdouble)(g_get_monotonic_time() - t0) / 1e6;

  gst_element_send_event(pipe, gst_event_new_eos());
  GstMessage *msg =
      gst_bus_timed_pop_filtered(bus, WAIT_S * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless(msg != NULL && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS);
  gst_message_unref(msg);
  guint64 seen = test_get_u64(c, "frames-seen");
  guint64 inferred = test_get_u64(c, "frames-inferred");
  fail_unless_equals_int(gst_element_set_state(pipe, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);

  g_print("pipeline %s: %u swaps in %.1f s, %" G_GUINT64_FORMAT " frames in, %" G_GUINT64_FORMAT
          " out, %" G_GUINT64_FORMAT " inferred, %u result-model switches\n",
          mode, swapped, secs, p.in, p.out, inferred, p.switches);
  fail_unless_equals_int(swapped, PIPELINE_SWAPS);
  fail_unless_equals_uint64(p.in, p.out);
  fail_unless_equals_uint64(seen, p.in);
  fail_unless_equals_int(p.bad, 0);
  fail_unless_equals_int(p.switches, PIPELINE_SWAPS);
  gst_object_unref(sink);
  gst_object_unref(src);
  gst_object_unref(bus);
  gst_object_unref(c);
  gst_object_unref(pipe);
  g_mutex_clear(&p.lock);
  g_cond_clear(&p.cond);
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
