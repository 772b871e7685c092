/* test_json.c - ensjson writes one whole JSON object per buffer: fields, fresh / source_pts of
 * carried results, ROI boxes, string escaping of labels, and nothing but the fields listed in
 * the schema. (Full JSON parsing is done by test_json_lines.py with Python's json module.) */
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
    if (rois)
      gst_buffer_add_video_region_of_interest_meta(b, "obj", 4, 5, 20, 10);
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
        "{\"pts\":%" G_GUINT64_FORMAT ",\"frame\":%u,\"width\":40,\"height\":30,\"fresh\":%s,"
        "\"source_pts\":%" G_GUINT64_FORMAT ",\"source_frame\":%u,\"model\":\"",
        (guint64)i * 100 * GST_MSECOND, i, i % 2 ? "false" : "true",
        (guint64)(i - i % 2) * 100 * GST_MSECOND, i - i % 2);
    fail_unless(g_str_has_prefix(l, prefix), "line %u: %s\nexpected prefix %s", i, l, prefix);
    g_free(prefix);
    fail_unless(strstr(l, "\"results\":[{\"classes\":[{\"id\":") != NULL, "%s", l);
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
  for (guint i = 0; i < 2; i++)
    fail_unless(strstr(lines[i], "\"results\":[{\"box\":{\"x\":4,\"y\":5,\"w\":20,\"h\":10},"
                                 "\"roi_id\":0,\"classes\":[{\"id\":") != NULL,
                "%s", lines[i]);
  g_strfreev(lines);
  g_unlink(labels);
  g_free(labels);
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
      TEST_ENTRY(test_no_results_and_bad_location),
  };
  return test_run_suite("ensjson", 300, tests, NULL, NULL);
}
