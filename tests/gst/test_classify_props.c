/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_classify_props.c - ensclassify properties as a GStreamer user expects them: the
 * properties the running model was built with (input-size, threads, precision) and the mode are
 * refused (with a warning) while the model is in use and read back the value in use (model and
 * labels are not: they hot-reload, see test_classify_hotreload.c); input-size takes HxW like the
 * CLI; top-k is not capped below the class count; empty / off-frame ROIs are counted and clipped
 * ROIs are marked clipped. */
#include "gst_test_util.h"

static GstHarness *playing_harness(const gchar *extra, GstVideoInfo *info)
{
  gst_buffer_unref(test_seq_frame(GST_VIDEO_FORMAT_RGB, 64, 48, 0, info));
  return test_classify_harness("sync", extra, info);
}

static GstBuffer *push_pull(GstHarness *h, GstBuffer *in)
{
  fail_unless_equals_int(gst_harness_push(h, in), GST_FLOW_OK);
  return gst_harness_pull(h);
}

/* Sets one property to value (a string, converted like gst-launch does) while the element is
 * PLAYING: a g_warning is expected and the property must still read back want. */
static void expect_refused(GstElement *e, const gchar *name, const gchar *value, const gchar *want)
{
  ASSERT_WARNING(gst_util_set_object_arg(G_OBJECT(e), name, value));
  GParamSpec *ps = g_object_class_find_property(G_OBJECT_GET_CLASS(e), name);
  GValue v = G_VALUE_INIT;
  g_value_init(&v, ps->value_type);
  g_object_get_property(G_OBJECT(e), name, &v);
  gchar *got = G_VALUE_HOLDS_STRING(&v) ? g_value_dup_string(&v) : gst_value_serialize(&v);
  fail_unless(g_strcmp0(got, want) == 0, "%s reads back \"%s\" after a refused change, want \"%s\"",
              name, got, want);
  g_free(got);
  g_value_unset(&v);
}

GST_START_TEST(test_fixed_properties_refused_while_playing)
{
  GstVideoInfo info;
  GstHarness *h = playing_harness("precision=f32", &info);
  GstElement *e = h->element;
  GstBuffer *out = push_pull(h, test_seq_frame(GST_VIDEO_FORMAT_RGB, 64, 48, 0, NULL));
  gst_buffer_unref(out);

  expect_refused(e, "mode", "async", "sync");
  expect_refused(e, "input-size", "96", "64");
  expect_refused(e, "threads", "2", "1");
  expect_refused(e, "precision", "bf16", "f32");

  /* ... and the setting in use keeps running: b0 at 64x64, sync (fresh results) */
  ens_model *ref = test_ref_model();
  GstBuffer *in = test_seq_frame(GST_VIDEO_FORMAT_RGB, 64, 48, 1, NULL);
  ens_class_score want[5];
  test_ref_topk(ref, in, &info, NULL, 5, want);
  out = push_pull(h, in);
  GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
  fail_unless(m != NULL && m->fresh);
  test_assert_meta_equals(m, want, 5);
  gst_buffer_unref(out);
  ens_model_free(ref);

  /* Properties documented as changeable while playing still are, silently. */
  g_object_set(e, "top-k", 3, "inference-interval", 2, NULL);
  guint k;
  g_object_get(e, "top-k", &k, NULL);
  fail_unless_equals_int(k, 3);

  /* Back in READY the model is released and the change is accepted. */
  fail_unless(gst_element_set_state(e, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS);
  g_object_set(e, "model", "random:b1", "threads", 2, NULL);
  gchar *model;
  guint threads;
  g_object_get(e, "model", &model, "threads", &threads, NULL);
  fail_unless_equals_string(model, "random:b1");
  fail_unless_equals_int(threads, 2);
  g_free(model);
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_input_size_hxw)
{
  GstElement *e = gst_element_factory_make("ensclassify", NULL);
  const struct {
    const gchar *in, *out;
  } ok[] = {{"48x80", "48x80"}, {"96", "96"}, {"32X32", "32"}, {"0", "0"}, {"8192x1", "8192x1"}};
  for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
    g_object_set(e, "input-size", ok[i].in, NULL);
    gchar *got;
    g_object_get(e, "input-size", &got, NULL);
    fail_unless_equals_string(got, ok[i].out);
    g_free(got);
  }
  const gchar *bad[] = {"0x64", "64x", "x64", "-1", "64x64x3", "8193", "abc", " 64"};
  g_object_set(e, "input-size", "40x56", NULL);
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    ASSERT_WARNING(g_object_set(e, "input-size", bad[i], NULL));
    gchar *got;
    g_object_get(e, "input-size", &got, NULL);
    fail_unless_equals_string(got, "40x56"); /* unchanged */
    g_free(got);
  }
  gst_object_unref(e);

  /* A non-square input gives exactly the engine's result at that size. */
  GstVideoInfo info;
  GstBuffer *in = test_seq_frame(GST_VIDEO_FORMAT_I420, 80, 60, 2, &info);
  ens_options opt;
  ens_options_init(&opt);
  opt.threads = TEST_THREADS;
  opt.input_height = 48;
  opt.input_width = 80;
  ens_model *ref = NULL;
  ens_error err;
  fail_unless(ens_model_new_random(TEST_VARIANT, 1000, 0, &opt, &ref, &err) == ENS_OK, "%s",
              err.message);
  ens_class_score want[5];
  test_ref_topk(ref, in, &info, NULL, 5, want);
  GstHarness *h = test_harness_new("ensclassify model=" TEST_MODEL " threads=1 mode=sync "
                                   "input-size=48x80");
  gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
  GstBuffer *out = push_pull(h, in);
  test_assert_meta_equals(gst_buffer_get_ens_classification_meta(out), want, 5);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
  ens_model_free(ref);
}
GST_END_TEST;

GST_START_TEST(test_top_k_up_to_class_count)
{
  /* Heads may have far more than 1000 classes: the property takes such values, and a value
   * above the model's class count is clamped to it at run time. */
  GstVideoInfo info;
  GstHarness *h = playing_harness("top-k=1000", &info);
  g_object_set(h->element, "top-k", 21843, NULL);
  guint k;
  g_object_get(h->element, "top-k", &k, NULL);
  fail_unless_equals_int(k, 21843);
  GstBuffer *out = push_pull(h, test_seq_frame(GST_VIDEO_FORMAT_RGB, 64, 48, 0, NULL));
  GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
  fail_unless(m != NULL);
  fail_unless_equals_int(m->n_entries, 1000); /* every class of the 1000-class model */
  for (guint i = 1; i < m->n_entries; i++)
    fail_unless(m->entries[i].score <= m->entries[i - 1].score);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_roi_dropped_and_clipped)
{
  GstVideoInfo info;
  GstBuffer *in = test_picture_frame(GST_VIDEO_FORMAT_RGBA, 100, 80, 1, 0, &info);
  struct {
    gint x, y;
    guint w, h;
  } rois[] = {
      {10, 10, 30, 20},   /* inside */
      {80, 60, 40, 40},   /* reaches outside: clipped to 20x20 */
      {-10, -5, 30, 25},  /* negative origin: clipped to 20x20 at 0,0 */
      {20, 20, 0, 10},    /* zero width: dropped */
      {150, 10, 20, 20},  /* right of the frame: dropped */
      {-50, -50, 20, 20}, /* above-left of the frame: dropped */
  };
  for (guint i = 0; i < G_N_ELEMENTS(rois); i++) {
    GstVideoRegionOfInterestMeta *r = gst_buffer_add_video_region_of_interest_meta(
        in, "obj", (guint)rois[i].x, (guint)rois[i].y, rois[i].w, rois[i].h);
    r->id = (gint)i;
  }
  GstHarness *h = test_classify_harness("sync", "inference-region=roi-list", &info);
  GstBuffer *out = push_pull(h, in);
  fail_unless_equals_int(gst_buffer_get_n_ens_classification_meta(out), 3);
  gpointer state = NULL;
  GstEnsClassificationMeta *m;
  while ((m = gst_buffer_iterate_ens_classification_meta(out, &state))) {
    switch (m->roi_id) {
      case 0:
        fail_unless(!m->clipped);
        fail_unless(m->x == 10 && m->y == 10 && m->width == 30 && m->height == 20);
        break;
      case 1:
        fail_unless(m->clipped);
        fail_unless(m->x == 80 && m->y == 60 && m->width == 20 && m->height == 20);
        break;
      case 2:
        fail_unless(m->clipped);
        fail_unless(m->x == 0 && m->y == 0 && m->width == 20 && m->height == 20);
        break;
      default:
        fail("unexpected ROI %d classified", m->roi_id);
    }
  }
  gst_buffer_unref(out);
  fail_unless_equals_uint64(test_get_u64(h->element, "rois-dropped"), 3);
  fail_unless_equals_uint64(test_get_u64(h->element, "rois-clipped"), 2);
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_author_and_origin)
{
  GstElementFactory *f = gst_element_factory_find("ensclassify");
  fail_unless(f != NULL);
  const gchar *author = gst_element_factory_get_metadata(f, GST_ELEMENT_METADATA_AUTHOR);
  fail_unless(author != NULL && strchr(author, '<') && strchr(author, '@'),
              "author \"%s\" has no contact", author);
  GstPlugin *p = gst_plugin_feature_get_plugin(GST_PLUGIN_FEATURE(f));
  fail_unless(g_str_has_prefix(gst_plugin_get_origin(p), "https://"), "origin \"%s\"",
              gst_plugin_get_origin(p));
  GstElementFactory *o = gst_element_factory_find("ensoverlay");
  fail_unless_equals_string(gst_element_factory_get_metadata(o, GST_ELEMENT_METADATA_AUTHOR),
                            author);
  gst_object_unref(o);
  gst_object_unref(p);
  gst_object_unref(f);
}
GST_END_TEST;

int main(int argc, char **argv)
{
  gst_check_init(&argc, &argv);
  static const TestEntry tests[] = {
      TEST_ENTRY(test_fixed_properties_refused_while_playing),
      TEST_ENTRY(test_input_size_hxw),
      TEST_ENTRY(test_top_k_up_to_class_count),
      TEST_ENTRY(test_roi_dropped_and_clipped),
      TEST_ENTRY(test_author_and_origin),
  };
  return test_run_suite("ensclassify-props", 300, tests, NULL, NULL);
}
