/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_overlay_limits.c - ensoverlay stays usable at the extremes: with auto-resize on a small
 * frame the text keeps a legible minimum size, and a very long banner is wrapped / ellipsized
 * into a strip of at most a third of the frame instead of covering the whole picture. */
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <string.h>

#include "ens_test.h"
#include "gstensmeta.h"

#define GREY 128

static GstHarness *harness(gint w, gint h, const gchar *props)
{
  gchar *desc = g_strdup_printf("ensoverlay %s", props);
  GstHarness *hr = gst_harness_new_parse(desc);
  g_free(desc);
  gchar *caps = g_strdup_printf("video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1", w, h);
  gst_harness_set_src_caps_str(hr, caps);
  g_free(caps);
  return hr;
}

static GstBuffer *grey_frame(gint w, gint h, GstVideoInfo *info)
{
  gst_video_info_set_format(info, GST_VIDEO_FORMAT_RGB, w, h);
  GstBuffer *buf = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(info), NULL);
  gst_buffer_memset(buf, 0, GREY, GST_VIDEO_INFO_SIZE(info));
  return buf;
}

/* Rows of the frame with any pixel changed, and their first / last index. */
static gint changed_rows(GstBuffer *buf, const GstVideoInfo *info, gint *first, gint *last)
{
  GstVideoFrame f;
  gint n = 0;
  *first = -1;
  *last = -1;
  CHECK(gst_video_frame_map(&f, info, buf, GST_MAP_READ), "map");
  for (gint y = 0; y < GST_VIDEO_INFO_HEIGHT(info); y++) {
    const guint8 *row = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(&f, 0) +
                        (gsize)y * GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0);
    gboolean changed = FALSE;
    for (gint x = 0; x < GST_VIDEO_INFO_WIDTH(info) * 3 && !changed; x++)
      changed = row[x] != GREY;
    if (changed) {
      n++;
      if (*first < 0)
        *first = y;
      *last = y;
    }
  }
  gst_video_frame_unmap(&f);
  return n;
}

static GstBuffer *push_pull(GstHarness *h, GstBuffer *in)
{
  CHECK(gst_harness_push(h, in) == GST_FLOW_OK, "push");
  GstBuffer *out = gst_harness_pull(h);
  CHECK(out != NULL, "pull");
  return out;
}

/* A 2000-character banner on 320x240 and on a tiny 64x48 frame: at most a third of the rows. */
static void test_long_banner_capped(void)
{
  GString *text = g_string_new(NULL);
  while (text->len < 2000)
    g_string_append(text, "RANDOM WEIGHTS - labels are meaningless. ");
  static const gint sizes[][2] = {{320, 240}, {64, 48}, {640, 480}};
  for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
    gint w = sizes[i][0], hgt = sizes[i][1];
    gchar *props = g_strdup_printf("banner=\"%s\"", text->str);
    GstHarness *h = harness(w, hgt, props);
    g_free(props);
    GstVideoInfo info;
    GstBuffer *out = push_pull(h, grey_frame(w, hgt, &info));
    gint first, last;
    gint rows = changed_rows(out, &info, &first, &last);
    printf("banner on %dx%d: rows %d..%d (%d of %d)\n", w, hgt, first, last, rows, hgt);
    CHECK(rows > 0, "%dx%d: no banner drawn", w, hgt);
    CHECK(rows <= hgt / 3, "%dx%d: banner covers %d of %d rows", w, hgt, rows, hgt);
    /* the panel is at the top by default, so the banner is a strip at the bottom */
    CHECK(last == hgt - 1 && first >= hgt - hgt / 3, "%dx%d: banner rows %d..%d", w, hgt, first,
          last);
    gst_buffer_unref(out);
    gst_harness_teardown(h);
  }
  g_string_free(text, TRUE);
}

/* A one-line panel with auto-resize on a 64-pixel-wide frame: Sans 14 would scale to ~2.5 px;
 * the minimum keeps lines >= 9 px, so the panel is at least that tall; a short banner too. */
static void test_auto_resize_minimum(void)
{
  static const GstEnsClassEntry e[] = {{1, (gchar *)"cat", 0.9f}};
  GstHarness *h = harness(64, 48, "auto-resize=true max-labels=1 font-desc=\"Sans 14\"");
  GstVideoInfo info;
  GstBuffer *in = grey_frame(64, 48, &info);
  GstEnsClassificationMeta *m = gst_buffer_add_ens_classification_meta(in, "m", e, 1);
  m->fresh = TRUE;
  GstBuffer *out = push_pull(h, in);
  gint first, last;
  gint rows = changed_rows(out, &info, &first, &last);
  printf("auto-resize panel on 64x48: rows %d..%d\n", first, last);
  CHECK(rows >= 9 + 4, "panel only %d rows tall: text below the legible minimum", rows);
  gst_buffer_unref(out);
  gst_harness_teardown(h);

  /* at 640 pixels auto-resize is the identity: the minimum does not touch normal sizes */
  GstHarness *h1 = harness(640, 480, "auto-resize=true max-labels=1 font-desc=\"Sans 14\"");
  GstHarness *h2 = harness(640, 480, "auto-resize=false max-labels=1 font-desc=\"Sans 14\"");
  gint rows1, rows2;
  GstBuffer *in1 = grey_frame(640, 480, &info), *in2 = grey_frame(640, 480, &info);
  gst_buffer_add_ens_classification_meta(in1, "m", e, 1)->fresh = TRUE;
  gst_buffer_add_ens_classification_meta(in2, "m", e, 1)->fresh = TRUE;
  GstBuffer *o1 = push_pull(h1, in1), *o2 = push_pull(h2, in2);
  rows1 = changed_rows(o1, &info, &first, &last);
  rows2 = changed_rows(o2, &info, &first, &last);
  CHECK(rows1 == rows2, "640 px: %d rows with auto-resize, %d without", rows1, rows2);
  gst_buffer_unref(o1);
  gst_buffer_unref(o2);
  gst_harness_teardown(h1);
  gst_harness_teardown(h2);
}

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  if (gst_element_factory_find("ensoverlay") == NULL) {
    fprintf(stderr, "ensoverlay not found (GST_PLUGIN_PATH=%s)\n", g_getenv("GST_PLUGIN_PATH"));
    return 1;
  }
  test_long_banner_capped();
  test_auto_resize_minimum();
  printf("%s\n", ens_test_failures ? "FAIL" : "PASS");
  return ens_test_failures ? 1 : 0;
}
