/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_harvest.c - ensharvest: the schedule (interval, confidence band, fresh-only, count and
 * byte caps with one "ens-harvest-done" message), what is saved (the exact pixels of the
 * frame, of ROIs, or of the model's input crop, and a sidecar whose probabilities are the
 * classifier's), atomic naming (every PNG has its sidecar, no temporary file left), a folder
 * that cannot be written and a full disk (one warning, the stream goes on, counted in stats),
 * and a slow disk (the queue drops, the streaming thread does not wait).
 *
 * The full-disk case mounts a 64 KiB tmpfs in a private mount namespace: it runs only when
 * the test may do that (root, or CAP_SYS_ADMIN) and is skipped with a message otherwise. */
#include "gst_test_util.h"

#include <errno.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "ens_harvest.h"
#include "json.h"

static gboolean private_mounts; /* set in main, before any thread exists */

/* ------------------------------------------------------------------ helpers */

static gchar *temp_dir(void)
{
  gchar *d = g_dir_make_tmp("ens-harvest-XXXXXX", NULL);
  fail_unless(d != NULL);
  return d;
}

static void remove_tree(const gchar *dir)
{
  GDir *d = g_dir_open(dir, 0, NULL);
  if (!d)
    return;
  const gchar *name;
  while ((name = g_dir_read_name(d))) {
    gchar *p = g_build_filename(dir, name, NULL);
    if (g_file_test(p, G_FILE_TEST_IS_DIR))
      remove_tree(p);
    else
      g_unlink(p);
    g_free(p);
  }
  g_dir_close(d);
  g_rmdir(dir);
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
  return strcmp(*(const gchar *const *)a, *(const gchar *const *)b);
}

/* Sorted stems of dir's samples; asserts that every PNG has its sidecar and the reverse, and
 * that nothing else (no temporary file) is there. */
static GPtrArray *samples(const gchar *dir)
{
  GPtrArray *stems = g_ptr_array_new_with_free_func(g_free);
  GDir *d = g_dir_open(dir, 0, NULL);
  fail_unless(d != NULL, "%s", dir);
  const gchar *name;
  guint pngs = 0, jsons = 0;
  while ((name = g_dir_read_name(d))) {
    if (g_str_has_suffix(name, ".png")) {
      pngs++;
      gchar *stem = g_strndup(name, strlen(name) - 4);
      gchar *json = g_strdup_printf("%s/%s.json", dir, stem);
      fail_unless(g_file_test(json, G_FILE_TEST_EXISTS), "%s has no sidecar", name);
      g_free(json);
      g_ptr_array_add(stems, stem);
    } else if (g_str_has_suffix(name, ".json")) {
      jsons++;
    } else {
      fail("unexpected file %s in %s (a temporary file left behind?)", name, dir);
    }
  }
  g_dir_close(d);
  fail_unless_equals_int(pngs, jsons);
  g_ptr_array_sort(stems, cmp_str);
  return stems;
}

static ens_json *sidecar(const gchar *dir, const gchar *stem)
{
  gchar *path = g_strdup_printf("%s/%s.json", dir, stem), *text = NULL;
  gsize len = 0;
  fail_unless(g_file_get_contents(path, &text, &len, NULL), "%s", path);
  ens_json *j = g_new0(ens_json, 1);
  ens_error err;
  fail_unless(ens_json_parse(text, len, path, j, &err) == ENS_OK, "%s", err.message);
  g_free(text);
  g_free(path);
  return j;
}

static void sidecar_free(ens_json *j)
{
  ens_json_free(j);
  g_free(j);
}

static double num(const ens_json *j, const gchar *key)
{
  const ens_json *v = ens_json_get(j, key);
  fail_unless(v && v->type == ENS_JSON_NUMBER, "sidecar field %s", key);
  return v->number;
}

static gboolean boolean(const ens_json *j, const gchar *key)
{
  const ens_json *v = ens_json_get(j, key);
  fail_unless(v && v->type == ENS_JSON_BOOL, "sidecar field %s", key);
  return v->boolean;
}

static ens_rgb_image load_png(const gchar *dir, const gchar *stem)
{
  gchar *path = g_strdup_printf("%s/%s.png", dir, stem);
  ens_rgb_image im;
  ens_error err;
  fail_unless(ens_image_load(path, &im, &err) == ENS_OK, "%s", err.message);
  g_free(path);
  return im;
}

/* A field of the stats property. */
static guint64 stat_u64(GstElement *e, const gchar *field)
{
  GstStructure *s = NULL;
  g_object_get(e, "stats", &s, NULL);
  guint64 v = 0;
  fail_unless(gst_structure_get_uint64(s, field, &v), "stats has no %s", field);
  gst_structure_free(s);
  return v;
}

static const gchar *LABELS[3] = {"cat", "dog", "bird"};

/* A classification meta as ensclassify attaches it: full frame (or roi), top-1 score, three
 * classes, with the full distribution when with_probs. */
static GstEnsClassificationMeta *add_result(GstBuffer *b, gfloat score, gboolean fresh,
                                            guint64 source_frame, gboolean with_probs)
{
  gfloat rest = (1.0f - score) / 2.0f;
  GstEnsClassEntry e[3] = {
      {1, (gchar *)LABELS[1], score}, {0, (gchar *)LABELS[0], rest}, {2, (gchar *)LABELS[2], rest}};
  GstEnsClassificationMeta *m = gst_buffer_add_ens_classification_meta(b, "test-model", e, 3);
  m->fresh = fresh;
  m->source_frame = source_frame;
  m->source_pts = source_frame * 40 * GST_MSECOND;
  if (with_probs) {
    gfloat p[3] = {rest, score, rest};
    gst_ens_classification_meta_set_probs(m, p, 3);
  }
  return m;
}

/* A harness around one ensharvest with a private bus set before it starts. */
static GstHarness *harvest_harness(const gchar *props, GstBus **bus)
{
  gchar *desc = g_strdup_printf("ensharvest %s", props);
  GError *error = NULL;
  GstElement *e = gst_parse_launch(desc, &error);
  fail_unless(e != NULL, "%s", desc);
  g_free(desc);
  *bus = test_element_bus(e);
  GstHarness *h = gst_harness_new_with_element(e, "sink", "src");
  gst_object_unref(e);
  return h;
}

/* Tears down a harvest_harness() and removes (and frees) its sample directory. */
static void harvest_end(GstHarness *h, GstBus *bus, gchar *dir)
{
  gst_harness_teardown(h);
  gst_object_unref(bus);
  remove_tree(dir);
  g_free(dir);
}

/* Pushes frame i (RGB w x h, picture i or fixed) through h and pulls it back. */
static void push(GstHarness *h, GstBuffer *b)
{
  fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  gst_buffer_unref(gst_harness_pull(h));
}

static void finish(GstHarness *h)
{
  fail_unless(gst_harness_push_event(h, gst_event_new_eos())); /* drains the writer */
}

/* What the bus holds (everything is popped once: gst_bus_pop_filtered discards the rest). */
typedef struct {
  guint warnings, errors, done;
  GstStructure *last_done; /* of the ens-harvest-done messages */
  gchar *warning;          /* the first warning's text */
} BusTally;

static BusTally tally(GstBus *bus)
{
  BusTally t = {0};
  GstMessage *m;
  while ((m = gst_bus_pop(bus))) {
    const GstStructure *s = gst_message_get_structure(m);
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_WARNING) {
      if (!t.warning) {
        GError *e = NULL;
        gst_message_parse_warning(m, &e, NULL);
        t.warning = g_strdup(e->message);
        g_error_free(e);
      }
      t.warnings++;
    } else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
      t.errors++;
    } else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && s &&
               gst_structure_has_name(s, "ens-harvest-done")) {
      t.done++;
      if (t.last_done)
        gst_structure_free(t.last_done);
      t.last_done = gst_structure_copy(s);
    }
    gst_message_unref(m);
  }
  return t;
}

static void tally_clear(BusTally *t)
{
  if (t->last_done)
    gst_structure_free(t->last_done);
  g_free(t->warning);
}

/* ------------------------------------------------------------------ the schedule */

GST_START_TEST(test_interval_and_band)
{
  gchar *dir = temp_dir();
  gchar *props = g_strdup_printf("location=\"%s\" interval=2 min-confidence=0.2 "
                                 "max-confidence=0.8 save-size=original",
                                 dir);
  GstBus *bus;
  GstHarness *h = harvest_harness(props, &bus);
  GstVideoInfo info;
  guint8 *rgb[12];
  for (guint i = 0; i < 12; i++) {
    rgb[i] = test_rgb_picture(40, 30, i, 0, 0);
    GstBuffer *b = test_frame(GST_VIDEO_FORMAT_RGB, 40, 30, rgb[i], 0, &info);
    if (i == 0)
      gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
    GST_BUFFER_PTS(b) = i * 40 * GST_MSECOND;
    add_result(b, 0.05f + 0.08f * (gfloat)i, TRUE, i, i == 4);
    push(h, b);
  }
  finish(h);
  /* results 0, 2, 4, ... 10 scheduled; of their scores 0.05 0.21 0.37 0.53 0.69 0.85 the band
   * keeps 2, 4, 6, 8 */
  fail_unless_equals_int(stat_u64(h->element, "results"), 12);
  fail_unless_equals_int(stat_u64(h->element, "saved"), 4);
  fail_unless_equals_int(stat_u64(h->element, "skipped"), 8);
  fail_unless_equals_int(stat_u64(h->element, "errors"), 0);
  GPtrArray *stems = samples(dir);
  fail_unless_equals_int(stems->len, 4);
  guint64 bytes = 0;
  for (guint k = 0; k < 4; k++) {
    const gchar *stem = g_ptr_array_index(stems, k);
    ens_json *j = sidecar(dir, stem);
    guint i = 2 + 2 * k; /* name order is harvest order */
    fail_unless_equals_int((gint)num(j, "frame"), i);
    fail_unless_equals_int((gint)num(j, "buffer_frame"), i);
    fail_unless_equals_int((gint64)num(j, "pts"), (gint64)i * 40 * GST_MSECOND);
    fail_unless(boolean(j, "fresh") && boolean(j, "full_frame"));
    fail_unless_equals_string(ens_json_get(j, "save_size")->str, "original");
    fail_unless_equals_string(ens_json_get(j, "model")->str, "test-model");
    const ens_json *top = ens_json_get(j, "top");
    fail_unless(top && top->count == 3);
    fail_unless_equals_int((gint)num(&top->items[0], "id"), 1);
    fail_unless_equals_string(ens_json_get(&top->items[0], "label")->str, "dog");
    fail_unless((float)num(&top->items[0], "prob") == 0.05f + 0.08f * (gfloat)i);
    const ens_json *probs = ens_json_get(j, "probs");
    if (i == 4) { /* the only frame whose meta had the distribution */
      fail_unless(probs->type == ENS_JSON_ARRAY && probs->count == 3);
      fail_unless((float)probs->items[1].number == 0.05f + 0.08f * 4);
    } else {
      fail_unless(probs->type == ENS_JSON_NULL);
    }
    sidecar_free(j);
    /* the frame's exact pixels */
    ens_rgb_image im = load_png(dir, stem);
    fail_unless(im.width == 40 && im.height == 30);
    fail_unless(memcmp(im.rgb, rgb[i], 40 * 30 * 3) == 0, "sample %u pixels differ", i);
    ens_rgb_image_free(&im);
    GStatBuf sb;
    gchar *p = g_strdup_printf("%s/%s.png", dir, stem);
    fail_unless(g_stat(p, &sb) == 0);
    bytes += (guint64)sb.st_size;
    g_free(p);
    p = g_strdup_printf("%s/%s.json", dir, stem);
    fail_unless(g_stat(p, &sb) == 0);
    bytes += (guint64)sb.st_size;
    g_free(p);
  }
  fail_unless_equals_int(stat_u64(h->element, "bytes"), bytes);
  BusTally t = tally(bus);
  fail_unless_equals_int(t.warnings + t.errors + t.done, 0);
  tally_clear(&t);
  g_ptr_array_unref(stems);
  for (guint i = 0; i < 12; i++)
    g_free(rgb[i]);
  harvest_end(h, bus, dir);
  g_free(props);
}
GST_END_TEST;

/* Carried results (async mode): fresh-only skips them; without it each result is saved once,
 * with the pixels of the first buffer that carries it. */
GST_START_TEST(test_fresh_only)
{
  for (int fresh_only = 1; fresh_only >= 0; fresh_only--) {
    gchar *dir = temp_dir();
    gchar *props = g_strdup_printf("location=\"%s\" save-size=original fresh-only=%s", dir,
                                   fresh_only ? "true" : "false");
    GstBus *bus;
    GstHarness *h = harvest_harness(props, &bus);
    GstVideoInfo info;
    for (guint i = 0; i < 10; i++) {
      GstBuffer *b = test_picture_frame(GST_VIDEO_FORMAT_RGB, 32, 24, i, 0, &info);
      if (i == 0)
        gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
      if (i >= 1) /* frame 0 has no result yet; results of frames 0, 3, 6 arrive a frame late */
        add_result(b, 0.5f, FALSE, (i - 1) / 3 * 3, FALSE);
      push(h, b);
    }
    BusTally t = tally(bus);
    fail_unless_equals_int(t.warnings, 0);
    tally_clear(&t);
    for (guint i = 10; i < 70; i++) { /* fresh-only: 50 buffers of carried results, one warning */
      GstBuffer *b = test_picture_frame(GST_VIDEO_FORMAT_RGB, 32, 24, i, 0, &info);
      add_result(b, 0.5f, FALSE, 6, FALSE);
      push(h, b);
    }
    t = tally(bus);
    fail_unless_equals_int(t.warnings, fresh_only ? 1 : 0);
    if (fresh_only)
      fail_unless(strstr(t.warning, "none fresh") != NULL, "%s", t.warning);
    tally_clear(&t);
    finish(h);
    GPtrArray *stems = samples(dir);
    fail_unless_equals_int(stems->len, fresh_only ? 0 : 3);
    fail_unless_equals_int(stat_u64(h->element, "results"), fresh_only ? 0 : 3);
    for (guint k = 0; k < stems->len; k++) {
      ens_json *j = sidecar(dir, g_ptr_array_index(stems, k));
      fail_unless_equals_int((gint)num(j, "frame"), 3 * k);
      fail_unless_equals_int((gint)num(j, "buffer_frame"), 3 * k + 1);
      fail_if(boolean(j, "fresh"));
      sidecar_free(j);
    }
    g_ptr_array_unref(stems);
    gst_harness_teardown(h);
    gst_object_unref(bus);
    remove_tree(dir);
    g_free(dir);
    g_free(props);
  }
}
GST_END_TEST;

/* Pushes n frames of the same picture with fresh full-frame results through h. */
static void push_results(GstHarness *h, guint n, guint first)
{
  GstVideoInfo info;
  for (guint i = first; i < first + n; i++) {
    GstBuffer *b = test_picture_frame(GST_VIDEO_FORMAT_RGB, 32, 24, 7, 0, &info);
    if (i == 0)
      gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
    add_result(b, 0.5f, TRUE, i, TRUE);
    push(h, b);
  }
}

GST_START_TEST(test_max_count)
{
  gchar *dir = temp_dir();
  gchar *props = g_strdup_printf("location=\"%s\" save-size=original max-count=3", dir);
  GstBus *bus;
  GstHarness *h = harvest_harness(props, &bus);
  push_results(h, 10, 0);
  finish(h);
  fail_unless_equals_int(stat_u64(h->element, "saved"), 3);
  GPtrArray *stems = samples(dir);
  fail_unless_equals_int(stems->len, 3);
  g_ptr_array_unref(stems);
  BusTally t = tally(bus);
  fail_unless_equals_int(t.done, 1);
  fail_unless_equals_string(gst_structure_get_string(t.last_done, "reason"), "max-count");
  fail_unless_equals_int(t.warnings + t.errors, 0);
  tally_clear(&t);
  harvest_end(h, bus, dir);
  g_free(props);
}
GST_END_TEST;

GST_START_TEST(test_max_bytes)
{
  /* the size of one sample of this picture first */
  gchar *dir = temp_dir();
  gchar *props = g_strdup_printf("location=\"%s\" save-size=original max-count=1", dir);
  GstBus *bus;
  GstHarness *h = harvest_harness(props, &bus);
  push_results(h, 1, 0);
  finish(h);
  guint64 one = stat_u64(h->element, "bytes");
  fail_unless(one > 100);
  harvest_end(h, bus, dir);
  g_free(props);

  /* room for two and a half: two saved, never more than max-bytes on disk */
  dir = temp_dir();
  guint64 max = one * 5 / 2;
  props =
      g_strdup_printf("location=\"%s\" save-size=original max-bytes=%" G_GUINT64_FORMAT, dir, max);
  h = harvest_harness(props, &bus);
  push_results(h, 10, 0);
  finish(h);
  fail_unless_equals_int(stat_u64(h->element, "saved"), 2);
  fail_unless(stat_u64(h->element, "bytes") <= max);
  GPtrArray *stems = samples(dir);
  fail_unless_equals_int(stems->len, 2);
  g_ptr_array_unref(stems);
  BusTally t = tally(bus);
  fail_unless_equals_int(t.done, 1);
  fail_unless_equals_string(gst_structure_get_string(t.last_done, "reason"), "max-bytes");
  fail_unless_equals_int(t.warnings + t.errors, 0);
  tally_clear(&t);
  harvest_end(h, bus, dir);
  g_free(props);
}
GST_END_TEST;

/* ------------------------------------------------------------------ what is saved */

GST_START_TEST(test_roi_crops)
{
  gchar *dir = temp_dir();
  gchar *props = g_strdup_printf("location=\"%s\" save-size=original", dir);
  GstBus *bus;
  GstHarness *h = harvest_harness(props, &bus);
  GstVideoInfo info;
  guint8 *rgb = test_rgb_picture(64, 48, 3, 0, 0);
  GstBuffer *b = test_frame(GST_VIDEO_FORMAT_BGRx, 64, 48, rgb, 0, &info);
  gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
  const ens_rect boxes[2] = {{4, 6, 20, 10}, {30, 20, 33, 28}};
  for (int r = 0; r < 2; r++) {
    GstVideoRegionOfInterestMeta *roi = gst_buffer_add_video_region_of_interest_meta(
        b, r ? "car" : "person", boxes[r].x, boxes[r].y, boxes[r].width, boxes[r].height);
    roi->id = 10; /* ids need not be unique: the box tells them apart */
    GstEnsClassificationMeta *m = add_result(b, 0.6f, TRUE, 0, FALSE);
    m->full_frame = FALSE;
    m->roi_id = roi->id;
    m->x = boxes[r].x;
    m->y = boxes[r].y;
    m->width = boxes[r].width;
    m->height = boxes[r].height;
  }
  push(h, b);
  finish(h);
  GPtrArray *stems = samples(dir);
  fail_unless_equals_int(stems->len, 2);
  for (int r = 0; r < 2; r++) {
    const gchar *stem = g_ptr_array_index(stems, r);
    ens_json *j = sidecar(dir, stem);
    fail_if(boolean(j, "full_frame"));
    fail_unless_equals_string(ens_json_get(j, "roi_type")->str, r ? "car" : "person");
    const ens_json *box = ens_json_get(j, "box");
    fail_unless_equals_int((gint)num(box, "x"), boxes[r].x);
    fail_unless_equals_int((gint)num(box, "width"), boxes[r].width);
    sidecar_free(j);
    ens_rgb_image im = load_png(dir, stem);
    fail_unless(im.width == boxes[r].width && im.height == boxes[r].height);
    for (int y = 0; y < im.height; y++)
      fail_unless(memcmp(im.rgb + (gsize)y * im.width * 3,
                         rgb + ((gsize)(boxes[r].y + y) * 64 + boxes[r].x) * 3,
                         (gsize)im.width * 3) == 0,
                  "roi %d row %d differs", r, y);
    ens_rgb_image_free(&im);
  }
  g_ptr_array_unref(stems);
  g_free(rgb);
  harvest_end(h, bus, dir);
  g_free(props);
}
GST_END_TEST;

/* Behind ensclassify: the model's input crop, exactly as preprocessing makes it, and the
 * classifier's full distribution in the meta and the sidecar. */
GST_START_TEST(test_model_crop_behind_classify)
{
  gchar *dir = temp_dir();
  gchar *desc = g_strdup_printf("ensclassify " TEST_ELEMENT_PROPS " mode=sync ! ensharvest "
                                "location=\"%s\"",
                                dir);
  GError *error = NULL;
  GstElement *bin = gst_parse_bin_from_description(desc, TRUE, &error);
  fail_unless(bin != NULL, "%s", desc);
  GstBus *bus = test_element_bus(bin);
  GstHarness *h = gst_harness_new_with_element(bin, "sink", "src");
  gst_object_unref(bin);
  ens_model *ref = test_ref_model();
  ens_preprocess_params pp;
  ens_model_preprocess_params(ref, &pp);
  GstVideoInfo info;
  for (guint i = 0; i < 3; i++) {
    GstBuffer *b = test_picture_frame(GST_VIDEO_FORMAT_I420, 80, 60, i, 0, &info);
    if (i == 0)
      gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
    fail_unless_equals_int(gst_harness_push(h, gst_buffer_ref(b)), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull(h);
    GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
    fail_unless(m && m->n_probs == 1000, "the meta carries the full distribution");
    gst_buffer_unref(out);
    gst_buffer_unref(b);
  }
  finish(h);
  GPtrArray *stems = samples(dir);
  fail_unless_equals_int(stems->len, 3);
  for (guint i = 0; i < 3; i++) {
    const gchar *stem = g_ptr_array_index(stems, i);
    ens_json *j = sidecar(dir, stem);
    fail_unless_equals_string(ens_json_get(j, "save_size")->str, "model");
    fail_unless_equals_int((gint)num(j, "input_width"), TEST_INPUT_SIZE);
    const ens_json *probs = ens_json_get(j, "probs");
    fail_unless(probs && probs->type == ENS_JSON_ARRAY && probs->count == 1000);
    double sum = 0;
    gint best = 0;
    for (guint c = 0; c < 1000; c++) {
      sum += probs->items[c].number;
      if (probs->items[c].number > probs->items[best].number)
        best = (gint)c;
    }
    fail_unless(fabs(sum - 1.0) < 1e-4, "probabilities sum to %g", sum);
    const ens_json *top = ens_json_get(j, "top");
    fail_unless_equals_int((gint)num(&top->items[0], "id"), best);
    sidecar_free(j);
    /* the reference crop of the same frame */
    GstBuffer *b = test_picture_frame(GST_VIDEO_FORMAT_I420, 80, 60, i, 0, &info);
    GstVideoFrame f;
    fail_unless(gst_video_frame_map(&f, &info, b, GST_MAP_READ));
    ens_image img = {.format = ENS_PIXEL_I420, .width = 80, .height = 60};
    for (int p = 0; p < 3; p++) {
      img.planes[p] = GST_VIDEO_FRAME_PLANE_DATA(&f, p);
      img.strides[p] = GST_VIDEO_FRAME_PLANE_STRIDE(&f, p);
    }
    guint8 *want = g_malloc(TEST_INPUT_SIZE * TEST_INPUT_SIZE * 3);
    ens_error err;
    fail_unless(ens_preprocess_crop_u8(&pp, &img, NULL, want, &err) == ENS_OK, "%s", err.message);
    gst_video_frame_unmap(&f);
    gst_buffer_unref(b);
    ens_rgb_image im = load_png(dir, stem);
    fail_unless(im.width == TEST_INPUT_SIZE && im.height == TEST_INPUT_SIZE);
    fail_unless(memcmp(im.rgb, want, TEST_INPUT_SIZE * TEST_INPUT_SIZE * 3) == 0,
                "frame %u: the saved crop is not the model's input", i);
    ens_rgb_image_free(&im);
    g_free(want);
  }
  BusTally t = tally(bus);
  fail_unless_equals_int(t.warnings + t.errors + t.done, 0);
  tally_clear(&t);
  g_ptr_array_unref(stems);
  ens_model_free(ref);
  harvest_end(h, bus, dir);
  g_free(desc);
}
GST_END_TEST;

/* Two classifiers chained: only the nearest one's results (it answered the query) are saved. */
GST_START_TEST(test_chained_classifiers)
{
  gchar *dir = temp_dir();
  gchar *desc = g_strdup_printf("ensclassify model=random:b1 input-size=64 threads=1 mode=sync ! "
                                "ensclassify " TEST_ELEMENT_PROPS " mode=sync ! ensharvest "
                                "location=\"%s\"",
                                dir);
  GstHarness *h = gst_harness_new_parse(desc);
  GstVideoInfo info;
  for (guint i = 0; i < 2; i++) {
    GstBuffer *b = test_picture_frame(GST_VIDEO_FORMAT_RGB, 40, 30, i, 0, &info);
    if (i == 0)
      gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
    push(h, b);
  }
  finish(h);
  GPtrArray *stems = samples(dir);
  fail_unless_equals_int(stems->len, 2);
  for (guint i = 0; i < 2; i++) {
    ens_json *j = sidecar(dir, g_ptr_array_index(stems, i));
    fail_unless(strstr(ens_json_get(j, "model")->str, "b0") != NULL, "%s",
                ens_json_get(j, "model")->str);
    fail_unless(ens_json_get(j, "probs")->count == 1000);
    sidecar_free(j);
  }
  g_ptr_array_unref(stems);
  gst_harness_teardown(h);
  remove_tree(dir);
  g_free(dir);
  g_free(desc);
}
GST_END_TEST;

/* ------------------------------------------------------------------ failures */

GST_START_TEST(test_unwritable_folder)
{
  /* a folder below a regular file can be neither made nor written, root or not */
  gchar *dir = temp_dir();
  gchar *file = g_build_filename(dir, "plain-file", NULL);
  fail_unless(g_file_set_contents(file, "x", 1, NULL));
  gchar *props = g_strdup_printf("location=\"%s/harvest\" save-size=original", file);
  GstBus *bus;
  GstHarness *h = harvest_harness(props, &bus);
  push_results(h, 20, 0);
  finish(h);
  BusTally t = tally(bus);
  fail_unless_equals_int(t.errors, 0);
  fail_unless_equals_int(t.warnings, 1);
  fail_unless(strstr(t.warning, "plain-file") != NULL, "warning: %s", t.warning);
  fail_unless_equals_int(t.done, 1);
  fail_unless_equals_string(gst_structure_get_string(t.last_done, "reason"), "error");
  tally_clear(&t);
  fail_unless_equals_int(stat_u64(h->element, "errors"), 1);
  fail_unless_equals_int(stat_u64(h->element, "saved"), 0);
  gst_harness_teardown(h);
  gst_object_unref(bus);
  g_unlink(file);
  remove_tree(dir);
  g_free(file);
  g_free(dir);
  g_free(props);
}
GST_END_TEST;

GST_START_TEST(test_full_disk)
{
  if (!private_mounts) {
    g_print("test_full_disk: SKIPPED (needs a private mount namespace for a tiny tmpfs: run as "
            "root / with CAP_SYS_ADMIN)\n");
    return;
  }
  gchar *dir = temp_dir();
  fail_unless(mount("tmpfs", dir, "tmpfs", 0, "size=64k") == 0, "mount: %s", g_strerror(errno));
  gchar *props = g_strdup_printf("location=\"%s\" save-size=original", dir);
  GstBus *bus;
  GstHarness *h = harvest_harness(props, &bus);
  GstVideoInfo info;
  for (guint i = 0; i < 40; i++) { /* noisy 64x64 pictures: ~12 kB of PNG each */
    guint8 *rgb = test_rgb_picture(64, 64, i, 120, i + 1);
    GstBuffer *b = test_frame(GST_VIDEO_FORMAT_RGB, 64, 64, rgb, 0, &info);
    g_free(rgb);
    if (i == 0)
      gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
    add_result(b, 0.5f, TRUE, i, TRUE);
    push(h, b); /* the stream goes on after the disk is full */
  }
  finish(h);
  BusTally t = tally(bus);
  fail_unless_equals_int(t.warnings, 1);
  fail_unless(strstr(t.warning, g_strerror(ENOSPC)) != NULL, "warning: %s", t.warning);
  fail_unless_equals_int(t.errors, 0);
  fail_unless_equals_int(t.done, 1);
  tally_clear(&t);
  guint64 saved = stat_u64(h->element, "saved");
  fail_unless(saved >= 1 && saved < 40, "saved %" G_GUINT64_FORMAT, saved);
  fail_unless_equals_int(stat_u64(h->element, "errors"), 1);
  GPtrArray *stems = samples(dir); /* no partial file, no orphan */
  fail_unless_equals_int(stems->len, saved);
  g_ptr_array_unref(stems);
  gst_harness_teardown(h);
  gst_object_unref(bus);
  fail_unless(umount2(dir, MNT_DETACH) == 0);
  remove_tree(dir);
  g_free(dir);
  g_free(props);
}
GST_END_TEST;

/* A slow disk: the queue fills and drops; pushing never waits for the writer. */
GST_START_TEST(test_slow_disk_drops)
{
  g_setenv("ENS_DEBUG_HARVEST_DELAY_MS", "200", TRUE);
  gchar *dir = temp_dir();
  gchar *props = g_strdup_printf("location=\"%s\" save-size=original max-queue=1", dir);
  GstBus *bus;
  GstHarness *h = harvest_harness(props, &bus);
  GstVideoInfo info;
  gint64 slowest = 0;
  for (guint i = 0; i < 10; i++) {
    GstBuffer *b = test_picture_frame(GST_VIDEO_FORMAT_RGB, 32, 24, i, 0, &info);
    if (i == 0)
      gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
    add_result(b, 0.5f, TRUE, i, FALSE);
    gint64 t0 = g_get_monotonic_time();
    push(h, b);
    slowest = MAX(slowest, g_get_monotonic_time() - t0);
  }
  finish(h);
  g_unsetenv("ENS_DEBUG_HARVEST_DELAY_MS");
  guint64 saved = stat_u64(h->element, "saved"), dropped = stat_u64(h->element, "dropped");
  fail_unless(slowest < 150000, "a push took %" G_GINT64_FORMAT " us (the writer sleeps 200 ms)",
              slowest);
  fail_unless(saved >= 1 && dropped >= 5 && saved + dropped == 10,
              "saved %" G_GUINT64_FORMAT ", dropped %" G_GUINT64_FORMAT, saved, dropped);
  GPtrArray *stems = samples(dir);
  fail_unless_equals_int(stems->len, saved);
  g_ptr_array_unref(stems);
  harvest_end(h, bus, dir);
  g_free(props);
}
GST_END_TEST;

int main(int argc, char **argv)
{
  /* before any thread: the full-disk case mounts a tmpfs that must vanish with the process */
  private_mounts =
      unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
  gst_check_init(&argc, &argv);
  static const TestEntry tests[] = {
      TEST_ENTRY(test_interval_and_band),   TEST_ENTRY(test_fresh_only),
      TEST_ENTRY(test_max_count),           TEST_ENTRY(test_max_bytes),
      TEST_ENTRY(test_roi_crops),           TEST_ENTRY(test_model_crop_behind_classify),
      TEST_ENTRY(test_chained_classifiers), TEST_ENTRY(test_unwritable_folder),
      TEST_ENTRY(test_full_disk),           TEST_ENTRY(test_slow_disk_drops),
  };
  return test_run_suite("ensharvest", 300, tests, NULL, NULL);
}
