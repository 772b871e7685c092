/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_json.c - ensjson writes one whole JSON object per buffer: fields, fresh / source_pts of
 * carried results, ROI boxes (clipped or not), string escaping of labels, per-result models with
 * two chained ensclassify elements, running_time from the segment, and nothing but the fields
 * listed in the schema. (Full JSON parsing is done by test_json_lines.py with Python's json
 * module.) */
#include "gst_test_util.h"

#include <glib/gstdio.h>

static gchar *write_labels(void)
{
  gchar *path = g_build_filename(g_get_tmp_dir(), "ens-gst-labels-XXXXXX", NULL);
  gint fd = g_mkstemp(path);
  fail_unless(fd >= 0);
  GString *s = g_string_new(NULL);
  for (int i = 0; i < 1000; i++)
    g_string_append_printf(s, "c%d \"q\" \\ tab\there caf\xc3\xa9 \x01\n", i);
  fail_unless(write(fd, s->str, s->len) == (ssize_t)s->len);
  close(fd);
  g_string_free(s, TRUE);
  return path;
}

static gchar **run(const gchar *props, guint frames, gboolean rois, const gchar *labels)
{
  gchar *out = g_build_filename(g_get_tmp_dir(), "ens-gst-json-XXXXXX", NULL);
  gint fd = g_mkstemp(out);
  close(fd);
  gchar *desc = g_strdup_printf("ensclassify " TEST_ELEMENT_PROPS " mode=sync labels=\"%s\" %s ! "
                                "ensjson location=\"%s\"",
                                labels, props, out);
  GstHarness *h = gst_harness_new_parse(desc);
  g_free(desc);
  GstVideoInfo info;
  for (guint i = 0; i < frames; i++) {
    GstBuffer *b = test_picture_frame(GST_VIDEO_FORMAT_RGB, 40, 30, i, 0, &info);
    if (i == 0)
      gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
    if (rois) {
      gst_buffer_add_video_region_of_interest_meta(b, "obj", 4, 5, 20, 10);
      /* reaches past the 40x30 frame: classified as 30,20 10x10, clipped */
      gst_buffer_add_video_region_of_interest_meta(b, "obj", 30, 20, 20, 20)->id = 1;
    }
    GST_BUFFER_PTS(b) = i * 100 * GST_MSECOND;
    fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
    gst_buffer_unref(gst_harness_pull(h));
  }
  gst_harness_teardown(h);
  gchar *text = NULL;
  fail_unless(g_file_get_contents(out, &text, NULL, NULL));
  g_unlink(out);
  g_free(out);
  fail_unless(g_str_has_suffix(text, "}\n"));
  gchar **lines = g_strsplit(text, "\n", -1);
  g_free(text);
  fail_unless_equals_int(g_strv_length(lines), frames + 1); /* trailing "" */
  return lines;
}

GST_START_TEST(test_lines)
{
  gchar *labels = write_labels();
  gchar **lines = run("inference-interval=2", 5, FALSE, labels);
  for (guint i = 0; i < 5; i++) {
    const gchar *l = lines[i];
    GST_INFO("%s", l);
    gchar *prefix = g_strdup_printf(
        "{\"pts\":%" G_GUINT64_FORMAT ",\"running_time\":%" G_GUINT64_FORMAT
        ",\"frame\":%u,\"width\":40,\"height\":30,\"fresh\":%s,"
        "\"source_pts\":%" G_GUINT64_FORMAT ",\"source_frame\":%u,\"model\":\"",
        (guint64)i * 100 * GST_MSECOND, (guint64)i * 100 * GST_MSECOND, i, i % 2 ? "false" : "true",
        (guint64)(i - i % 2) * 100 * GST_MSECOND, i - i % 2);
    fail_unless(g_str_has_prefix(l, prefix), "line %u: %s\nexpected prefix %s", i, l, prefix);
    g_free(prefix);
    fail_unless(strstr(l, "\"results\":[{\"model\":\"tf_efficientnet_b0 (random weights)\","
                          "\"classes\":[{\"id\":") != NULL,
                "%s", l);
    /* quote, backslash, tab and a control byte escaped; UTF-8 kept */
    fail_unless(strstr(l, " \\\"q\\\" \\\\ tab\\there caf\xc3\xa9 \\u0001\"") != NULL, "%s", l);
    fail_unless(strstr(l, "\"box\"") == NULL);
    guint n_labels = 0;
    for (const gchar *p = strstr(l, "\"label\""); p; p = strstr(p + 1, "\"label\""))
      n_labels++;
    fail_unless_equals_int(n_labels, 5);
  }
  g_strfreev(lines);
  g_unlink(labels);
  g_free(labels);
}
GST_END_TEST;

GST_START_TEST(test_roi_boxes)
{
  gchar *labels = write_labels();
  gchar **lines = run("inference-region=roi-list top-k=2", 2, TRUE, labels);
  for (guint i = 0; i < 2; i++) {
    fail_unless(strstr(lines[i], "\"results\":[{\"model\":\"tf_efficientnet_b0 (random weights)\","
                                 "\"box\":{\"x\":4,\"y\":5,\"w\":20,\"h\":10},"
                                 "\"roi_id\":0,\"clipped\":false,\"classes\":[{\"id\":") != NULL,
                "%s", lines[i]);
    fail_unless(strstr(lines[i], "]},{\"model\":\"tf_efficientnet_b0 (random weights)\","
                                 "\"box\":{\"x\":30,\"y\":20,\"w\":10,\"h\":10},"
                                 "\"roi_id\":1,\"clipped\":true,\"classes\":[{\"id\":") != NULL,
                "%s", lines[i]);
  }
  g_strfreev(lines);
  g_unlink(labels);
  g_free(labels);
}
GST_END_TEST;

/* Reads the file ensjson wrote and splits it into n lines (fails on any other count). */
static gchar **read_lines(const gchar *path, guint n)
{
  gchar *text = NULL;
  fail_unless(g_file_get_contents(path, &text, NULL, NULL));
  gchar **lines = g_strsplit(text, "\n", -1);
  g_free(text);
  fail_unless_equals_int(g_strv_length(lines), n + 1); /* trailing "" */
  return lines;
}

static gchar *temp_path(void)
{
  gchar *out = g_build_filename(g_get_tmp_dir(), "ens-gst-json-XXXXXX", NULL);
  close(g_mkstemp(out));
  return out;
}

/* Two chained ensclassify elements (b0 then b1): each frame carries two results, each entry
 * names its own model; the top-level model is the first one's. */
GST_START_TEST(test_chained_models)
{
  gchar *out = temp_path();
  gchar *desc = g_strdup_printf("ensclassify " TEST_ELEMENT_PROPS " mode=sync top-k=2 ! "
                                "ensclassify model=random:b1 input-size=64 threads=1 mode=sync "
                                "top-k=2 ! ensjson location=\"%s\"",
                                out);
  GstHarness *h = gst_harness_new_parse(desc);
  g_free(desc);
  GstVideoInfo info;
  for (guint i = 0; i < 2; i++) {
    GstBuffer *b = test_picture_frame(GST_VIDEO_FORMAT_RGB, 40, 30, i, 0, &info);
    if (i == 0)
      gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
    GST_BUFFER_PTS(b) = i * 40 * GST_MSECOND;
    fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
    gst_buffer_unref(gst_harness_pull(h));
  }
  gst_harness_teardown(h);
  gchar **lines = read_lines(out, 2);
  for (guint i = 0; i < 2; i++) {
    const gchar *l = lines[i];
    GST_INFO("%s", l);
    fail_unless(strstr(l,
                       "\"model\":\"tf_efficientnet_b0 (random weights)\",\"results\":["
                       "{\"model\":\"tf_efficientnet_b0 (random weights)\",\"classes\":[") != NULL,
                "%s", l);
    fail_unless(strstr(l, "]},{\"model\":\"tf_efficientnet_b1 (random weights)\",\"classes\":[") !=
                    NULL,
                "%s", l);
    fail_unless(g_str_has_suffix(l, "}]}]}"), "%s", l);
  }
  g_strfreev(lines);
  g_unlink(out);
  g_free(out);
}
GST_END_TEST;

/* running_time comes from the segment: a segment starting at 10 s maps PTS 10.5 s to 0.5 s; a
 * buffer without PTS or before the segment has null. Per-result models with hand-made metas. */
GST_START_TEST(test_running_time)
{
  gchar *out = temp_path();
  gchar *desc = g_strdup_printf("ensjson location=\"%s\"", out);
  GstHarness *h = gst_harness_new_parse(desc);
  g_free(desc);
  gst_harness_set_src_caps_str(h, "video/x-raw,format=RGB,width=2,height=2");
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  seg.start = seg.time = 10 * GST_SECOND;
  fail_unless(gst_harness_push_event(h, gst_event_new_segment(&seg)));
  const GstClockTime pts[3] = {10 * GST_SECOND + 500 * GST_MSECOND, GST_CLOCK_TIME_NONE,
                               9 * GST_SECOND};
  for (guint i = 0; i < 3; i++) {
    GstBuffer *b = gst_buffer_new_allocate(NULL, 16, NULL);
    GST_BUFFER_PTS(b) = pts[i];
    GstEnsClassEntry e = {.class_id = 3, .label = "three", .score = 0.5f};
    gst_buffer_add_ens_classification_meta(b, "model-a", &e, 1);
    gst_buffer_add_ens_classification_meta(b, "model-b", &e, 1);
    fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
    gst_buffer_unref(gst_harness_pull(h));
  }
  gst_harness_teardown(h);
  gchar **lines = read_lines(out, 3);
  const gchar *want[3] = {
      "{\"pts\":10500000000,\"running_time\":500000000,\"frame\":0,",
      "{\"pts\":null,\"running_time\":null,\"frame\":1,",
      "{\"pts\":9000000000,\"running_time\":null,\"frame\":2,",
  };
  for (guint i = 0; i < 3; i++) {
    fail_unless(g_str_has_prefix(lines[i], want[i]), "%s\nwant prefix %s", lines[i], want[i]);
    fail_unless(g_str_has_suffix(lines[i], "\"model\":\"model-a\",\"results\":["
                                           "{\"model\":\"model-a\",\"classes\":[{\"id\":3,"
                                           "\"label\":\"three\",\"score\":0.5}]},"
                                           "{\"model\":\"model-b\",\"classes\":[{\"id\":3,"
                                           "\"label\":\"three\",\"score\":0.5}]}]}"),
                "%s", lines[i]);
  }
  g_strfreev(lines);
  g_unlink(out);
  g_free(out);
}
GST_END_TEST;

GST_START_TEST(test_no_results_and_bad_location)
{
  /* a frame without metas still gets a line, with empty results */
  GstHarness *h = gst_harness_new_parse("ensjson location=/dev/null");
  gst_harness_set_src_caps_str(h, "video/x-raw,format=RGB,width=2,height=2");
  fail_unless_equals_int(gst_harness_push(h, gst_buffer_new_allocate(NULL, 16, NULL)), GST_FLOW_OK);
  gst_buffer_unref(gst_harness_pull(h));
  gst_harness_teardown(h);

  GstElement *e = gst_element_factory_make("ensjson", NULL);
  g_object_set(e, "location", "/nonexistent/dir/out.jsonl", NULL);
  GstBus *bus = test_element_bus(e);
  fail_unless_equals_int(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  g_error_free(test_pop_error(bus, "bad location", NULL));
  gst_element_set_state(e, GST_STATE_NULL);
  test_element_bus_clear(e, bus);
  gst_object_unref(e);
}
GST_END_TEST;

int main(int argc, char **argv)
{
  gst_check_init(&argc, &argv);
  static const TestEntry tests[] = {
      TEST_ENTRY(test_lines),
      TEST_ENTRY(test_roi_boxes),
      TEST_ENTRY(test_chained_models),
      TEST_ENTRY(test_running_time),
      TEST_ENTRY(test_no_results_and_bad_location),
  };
  return test_run_suite("ensjson", 300, tests, NULL, NULL);
}
