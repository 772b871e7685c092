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
#include "gst_test_util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

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
#define WAIT_S 60

typedef struct {
  const gchar *tag;
  gint num_classes, size;
  gchar *path; /* hub directory */
  gchar *name; /* tf_efficientnet_b0.<tag> */
} TestModel;

enum { MA, MB, MC, N_MODELS };
static TestModel models[N_MODELS] = {
    {"hrs_a", 10, 64, NULL, NULL},
    {"hrs_b", 1000, 80, NULL, NULL},
    {"hrs_c", 10, 72, NULL, NULL},
};
static gchar *corrupt_path;

/* references: top classes of picture p under model m (labels owned by ref_models[m]) */
static ens_model *ref_models[N_MODELS];
static ens_class_score ref_top[N_MODELS][PATTERNS][5];
static gboolean ref_done[N_MODELS][PATTERNS];
static GMutex ref_lock; /* the streams check from their own threads */

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
  gchar *dir = g_strdup_printf("%s/hotreload-shared-%s", ens_test_gen_dir(), m->tag);
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
  if (!g_file_set_contents(cfg_path, cfg, -1, NULL))
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
  corrupt_path = g_build_filename(ens_test_gen_dir(), "hotreload-shared-corrupt.safetensors", NULL);
  if (!g_file_set_contents(corrupt_path, "\x20\x00\x00\x00\x00\x00\x00\x00{not json", 18, NULL))
    die(corrupt_path);
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
  if (!ref_models[mi]) {
    ens_options opt;
    ens_options_init(&opt);
    opt.threads = TEST_THREADS;
    ens_error err;
    fail_unless(ens_model_load(models[mi].path, &opt, &ref_models[mi], &err) == ENS_OK, "%s",
                err.message);
    const ens_model_info *info = ens_model_get_info(ref_models[mi]);
    fail_unless_equals_string(info->name, models[mi].name);
    fail_unless_equals_int(info->num_classes, models[mi].num_classes);
    fail_unless_equals_int(info->input_height, models[mi].size);
  }
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

static int model_named(const gchar *name)
{
  for (int i = 0; i < N_MODELS; i++)
    if (g_strcmp0(name, models[i].name) == 0)
      return i;
  fail("result of an unknown model \"%s\"", name ? name : "(null)");
  return -1;
}

/* The meta's classes are exactly those of the model it names on its source frame (A or B). */
static int check_meta(const GstEnsClassificationMeta *m)
{
  int mi = model_named(m->model_name);
  fail_unless(mi == MA || mi == MB, "result of %s", m->model_name);
  test_assert_meta_equals(m, reference(mi, (guint)(m->source_frame % PATTERNS)), 5);
  return mi;
}

/* ------------------------------------------------------------------ elements and buses */

typedef struct {
  GstElement *e;
  GstBus *bus;
  guint swapped; /* ens-model-swapped messages */
  gchar *swapped_new, *swapped_old;
  gint swapped_classes;
  guint warnings;
  gchar *warning;
} Watch;

static void watch_init(Watch *w, GstElement *e)
{
  memset(w, 0, sizeof *w);
  w->e = e;
  w->bus = test_element_bus(e);
}

static void watch_clear(Watch *w)
{
  test_element_bus_clear(w->e, w->bus);
  g_free(w->swapped_new);
  g_free(w->swapped_old);
  g_free(w->warning);
}

/* Reads every message of w's bus; errors fail the test. */
static void drain(Watch *w)
{
  GstMessage *msg;
  while ((msg = gst_bus_pop(w->bus))) {
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
      GError *e = NULL;
      gst_message_parse_error(msg, &e, NULL);
      fail("error message from %s: %s", GST_OBJECT_NAME(w->e), e->message);
    } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_WARNING) {
      GError *e = NULL;
      gst_message_parse_warning(msg, &e, NULL);
      g_free(w->warning);
      w->warning = g_strdup(e->message);
      w->warnings++;
      g_error_free(e);
    } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ELEMENT) {
      const GstStructure *s = gst_message_get_structure(msg);
      if (gst_structure_has_name(s, "ens-model-swapped")) {
        w->swapped++;
        g_free(w->swapped_new);
        g_free(w->swapped_old);
        w->swapped_new = g_strdup(gst_structure_get_string(s, "new"));
        w->swapped_old = g_strdup(gst_structure_get_string(s, "old"));
        fail_unless(gst_structure_get_int(s, "num-classes", &w->swapped_classes));
        gdouble ms = -1;
        fail_unless(gst_structure_get_double(s, "load-ms", &ms) && ms > 0.0);
        int mi = model_named(gst_structure_get_string(s, "new-name"));
        fail_unless_equals_string(w->swapped_new, models[mi].path);
        fail_unless_equals_int(w->swapped_classes, models[mi].num_classes);
        model_named(gst_structure_get_string(s, "old-name"));
      }
    }
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
                                models[model].path, mode, id, extra);
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
    g_object_set(h[s % STREAMS]->element, "model", models[target].path, NULL);
    /* every element: the swap message, the new path read back, then a result of the new model */
    gint64 end = g_get_monotonic_time() + WAIT_S * G_USEC_PER_SEC;
    for (int i = 0; i < STREAMS; i++) {
      for (;;) {
        drain(&w[i]);
        if (w[i].swapped >= s + 1 && stream_last(&st[i]) == target)
          break;
        fail_unless(g_get_monotonic_time() < end,
                    "swap %u (%s, set on element %u): element %d has %u swaps, last result of "
                    "model %d",
                    s, models[target].tag, s % STREAMS, i, w[i].swapped, stream_last(&st[i]));
        g_usleep(2000);
      }
      fail_unless_equals_int(w[i].swapped, s + 1);
      fail_unless_equals_string(w[i].swapped_new, models[target].path);
      fail_unless_equals_string(w[i].swapped_old, models[target == MA ? MB : MA].path);
      gchar *now = get_string(h[i]->element, "model");
      fail_unless_equals_string(now, models[target].path);
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
    fail_unless_equals_int(w[i].warnings, 0);
    fail_unless_equals_int(w[i].swapped, SWAPS);
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
  while (drain(w), w->swapped < swaps)
    fail_unless(g_get_monotonic_time() < end, "waited %d s for %u swaps of %s", WAIT_S, swaps,
                GST_OBJECT_NAME(w->e));
}

static void wait_warnings(Watch *w, guint warnings)
{
  gint64 end = g_get_monotonic_time() + WAIT_S * G_USEC_PER_SEC;
  while (drain(w), w->warnings < warnings) {
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
    fail_unless(strstr(wb.warning, bad[i]) != NULL, "warning \"%s\" does not name %s", wb.warning,
                bad[i]);
    fail_unless(strstr(wb.warning, models[MA].path) != NULL,
                "warning \"%s\" does not say %s is kept", wb.warning, models[MA].path);
    for (int e = 0; e < 2; e++) {
      GstElement *el = e ? b->element : a->element;
      gchar *now = get_string(el, "model");
      fail_unless_equals_string(now, models[MA].path);
      g_free(now);
    }
    fail_unless_equals_int(push_one(a, fa++), MA);
    fail_unless_equals_int(push_one(b, fb++), MA);
  }
  drain(&wa);
  fail_unless_equals_int(wa.warnings, 0); /* only the element that asked hears of it */
  fail_unless_equals_int(wa.swapped + wb.swapped, 0);
  fail_unless_equals_uint64(shared_loads(), loads0 + 1);
  fail_unless_equals_int(get_uint(a->element, "shared-users"), 2);
  /* a valid request after them still swaps both */
  g_object_set(a->element, "model", models[MB].path, NULL);
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
    fail_unless_equals_string(w[i].swapped_new, models[MA].path);
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
  g_object_set(e, "model", models[model].path, "threads", 1, "model-instance-id", id, NULL);
  gst_util_set_object_arg(G_OBJECT(e), "mode", "sync");
  return gst_element_set_state(e, GST_STATE_PAUSED);
}

GST_START_TEST(test_join_after_swap)
{
  GstHarness *a = harness("sync", "hrs-join", MA, "");
  Watch wa;
  watch_init(&wa, a->element);
  fail_unless_equals_int(push_one(a, 0), MA);
  g_object_set(a->element, "model", models[MB].path, NULL);
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
  fail_unless(strstr(err->message, models[MA].path) != NULL, "%s lacks the old path", err->message);
  fail_unless(strstr(err->message, models[MB].path) != NULL, "%s lacks the path in use",
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
  g_object_set(b->element, "model", models[MA].path, NULL);
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
  g_object_set(b->element, "model", models[MC].path, NULL);
  g_object_set(a->element, "model", models[MB].path, NULL);
  fail_unless_equals_int(push_one(a, 0), MA); /* frames flow meanwhile */
  wait_swaps(&wa, 1);
  wait_swaps(&wb, 1);
  fail_unless_equals_string(wa.swapped_new, models[MB].path);
  fail_unless_equals_string(wb.swapped_new, models[MB].path);
  fail_unless_equals_int(push_one(b, 0), MB);
  fail_unless_equals_uint64(shared_loads(), loads + 1); /* C was loaded but never swapped in */
  g_usleep(500 * 1000);
  drain(&wa);
  drain(&wb);
  fail_unless_equals_int(wa.swapped + wb.swapped, 2);

  /* a asks for A (slow) and stops before it is loaded */
  g_object_set(a->element, "model", models[MA].path, NULL);
  watch_clear(&wa);
  gst_harness_teardown(a);
  g_usleep((DELAY_MS + 500) * 1000);
  drain(&wb);
  fail_unless_equals_int(wb.swapped, 1);
  gchar *now = get_string(b->element, "model");
  fail_unless_equals_string(now, models[MB].path);
  g_free(now);
  fail_unless_equals_int(push_one(b, 1), MB);
  fail_unless_equals_int(get_uint(b->element, "shared-users"), 1);
  watch_clear(&wb);
  gst_harness_teardown(b);
}
GST_END_TEST;

/* ------------------------------------------------------------------ real pipeline */

typedef struct {
  GMutex lock;
  GCond cond;
  guint64 in[STREAMS], out[STREAMS];
  int last[STREAMS];
  guint switches[STREAMS];
  guint bad; /* results of another model, or of a class the named model lacks */
} Probe;

typedef struct {
  Probe *p;
  int stream;
} ProbeArg;

static GstPadProbeReturn count_in(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  (void)pad;
  (void)info;
  ProbeArg *a = data;
  g_mutex_lock(&a->p->lock);
  a->p->in[a->stream]++;
  g_mutex_unlock(&a->p->lock);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn watch_out(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  (void)pad;
  ProbeArg *a = data;
  Probe *p = a->p;
  GstEnsClassificationMeta *m =
      gst_buffer_get_ens_classification_meta(GST_PAD_PROBE_INFO_BUFFER(info));
  int mi = -2;
  gboolean bad = FALSE;
  if (m) {
    mi = g_strcmp0(m->model_name, models[MA].name) == 0   ? MA
         : g_strcmp0(m->model_name, models[MB].name) == 0 ? MB
                                                          : -1;
    bad = mi < 0 || m->n_entries != 5;
    for (guint i = 0; !bad && i < m->n_entries; i++)
      bad = m->entries[i].class_id < 0 || m->entries[i].class_id >= models[mi].num_classes;
  }
  g_mutex_lock(&p->lock);
  p->out[a->stream]++;
  if (bad)
    p->bad++;
  else if (mi >= 0) {
    if (p->last[a->stream] >= 0 && mi != p->last[a->stream])
      p->switches[a->stream]++;
    p->last[a->stream] = mi;
  }
  g_cond_broadcast(&p->cond);
  g_mutex_unlock(&p->lock);
  return GST_PAD_PROBE_OK;
}

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
                           W, H, i, models[MA].path, mode, mode);
  GError *error = NULL;
  GstElement *pipe = gst_parse_launch(desc->str, &error);
  fail_unless(pipe != NULL, "%s", error ? error->message : "");
  g_string_free(desc, TRUE);
  Probe p = {.last = {-1, -1, -1}};
  g_mutex_init(&p.lock);
  g_cond_init(&p.cond);
  GstElement *c[STREAMS];
  ProbeArg args[STREAMS];
  for (int i = 0; i < STREAMS; i++) {
    gchar *name = g_strdup_printf("c%d", i);
    c[i] = gst_bin_get_by_name(GST_BIN(pipe), name);
    g_free(name);
    args[i] = (ProbeArg){&p, i};
    GstPad *sink = gst_element_get_static_pad(c[i], "sink");
    GstPad *src = gst_element_get_static_pad(c[i], "src");
    gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, count_in, &args[i], NULL);
    gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, watch_out, &args[i], NULL);
    gst_object_unref(sink);
    gst_object_unref(src);
  }
  GstBus *bus = gst_element_get_bus(pipe);
  fail_unless(gst_element_set_state(pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);

  gint64 t0 = g_get_monotonic_time();
  guint swapped[STREAMS] = {0};
  for (guint s = 0; s < SWAPS; s++) {
    int target = s % 2 == 0 ? MB : MA;
    g_object_set(c[s % STREAMS], "model", models[target].path, NULL);
    gint64 end = g_get_monotonic_time() + WAIT_S * G_USEC_PER_SEC;
    /* a swap message from every element */
    for (;;) {
      gboolean all = TRUE;
      for (int i = 0; i < STREAMS; i++)
        all &= swapped[i] == s + 1;
      if (all)
        break;
      GstMessage *msg = gst_bus_timed_pop_filtered(
          bus, 100 * GST_MSECOND, GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
      if (msg) {
        fail_if(GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ELEMENT, "error / warning on the bus");
        if (gst_structure_has_name(gst_message_get_structure(msg), "ens-model-swapped"))
          for (int i = 0; i < STREAMS; i++)
            if (GST_MESSAGE_SRC(msg) == GST_OBJECT(c[i]))
              swapped[i]++;
        gst_message_unref(msg);
      }
      fail_unless(g_get_monotonic_time() < end, "swap %u: not every element swapped", s);
    }
    /* then a buffer with a result of the new model out of every element */
    g_mutex_lock(&p.lock);
    gboolean ok = TRUE;
    for (int i = 0; i < STREAMS && ok; i++) {
      while (p.last[i] != target && g_get_monotonic_time() < end)
        g_cond_wait_until(&p.cond, &p.lock, end);
      ok = p.last[i] == target;
    }
    g_mutex_unlock(&p.lock);
    fail_unless(ok, "swap %u: not every element gave a result of %s", s, models[target].tag);
  }
  gdouble secs = (gdouble)(g_get_monotonic_time() - t0) / 1e6;

  gst_element_send_event(pipe, gst_event_new_eos());
  GstMessage *msg =
      gst_bus_timed_pop_filtered(bus, WAIT_S * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless(msg != NULL && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS);
  gst_message_unref(msg);
  guint64 seen[STREAMS];
  for (int i = 0; i < STREAMS; i++)
    seen[i] = test_get_u64(c[i], "frames-seen");
  guint max_batch = get_uint(c[0], "shared-max-batch");
  fail_unless_equals_int(gst_element_set_state(pipe, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);

  g_print("pipeline %s: %u swaps in %.1f s; frames in/out per element %" G_GUINT64_FORMAT
          "/%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
          "/%" G_GUINT64_FORMAT "; largest batch %u\n",
          mode, SWAPS, secs, p.in[0], p.out[0], p.in[1], p.out[1], p.in[2], p.out[2], max_batch);
  fail_unless_equals_int(p.bad, 0);
  for (int i = 0; i < STREAMS; i++) {
    fail_unless_equals_int(swapped[i], SWAPS);
    fail_unless_equals_uint64(p.in[i], p.out[i]);
    fail_unless_equals_uint64(seen[i], p.in[i]);
    fail_unless_equals_int(p.switches[i], SWAPS);
    gst_object_unref(c[i]);
  }
  gst_object_unref(bus);
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
      TEST_ENTRY(test_failed_load_changes_nothing),
      TEST_ENTRY(test_labels_reload),
      TEST_ENTRY(test_join_after_swap),
      TEST_ENTRY(test_latest_wins_and_stop_discards),
      TEST_ENTRY(test_pipeline_sync),
      TEST_ENTRY(test_pipeline_async),
  };
  return test_run_suite("ensclassify-hotreload-shared", 300, tests, NULL, free_references);
}
