/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_overlay.c - ensoverlay on frames carrying hand-made GstEnsClassificationMeta.
 *
 * Pushes flat grey frames through the element with a GstHarness and checks where it drew:
 * panel corner per `position`, region box edges in `box-color`, the banner strip, that
 * max-labels / show-scores change the panel's size, that frames without results pass
 * unchanged, and that every caps format gets drawn into (and only where expected).
 * Set ENS_OVERLAY_DUMP=dir to also write the RGB frames as PNG for a look. */
#include <cairo.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <string.h>

#include "ens_test.h"
#include "gstensmeta.h"

#define W 640
#define H 480
#define GREY 128

static const GstEnsClassEntry entries5[] = {
    {207, (gchar *)"golden retriever", 0.873f}, {208, (gchar *)"Labrador retriever", 0.051f},
    {222, (gchar *)"kuvasz", 0.012f},           {257, (gchar *)"Great Pyrenees", 0.007f},
    {852, (gchar *)"tennis ball", 0.004f},
};

/* A flat grey frame of the format with the given metas. */
static GstBuffer *grey_frame(const GstVideoInfo *info)
{
  GstBuffer *buf = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(info), NULL);
  GstMapInfo map;
  gst_buffer_map(buf, &map, GST_MAP_WRITE);
  memset(map.data, GREY, map.size);
  gst_buffer_unmap(buf, &map);
  return buf;
}

static void add_full_frame(GstBuffer *buf, guint n, const GstEnsClassEntry *e)
{
  GstEnsClassificationMeta *m =
      gst_buffer_add_ens_classification_meta(buf, "tf_efficientnet_b0.ns_jft_in1k", e, n);
  m->fresh = TRUE;
  m->full_frame = TRUE;
}

static void add_roi(GstBuffer *buf, gint x, gint y, gint w, gint h, const GstEnsClassEntry *e)
{
  GstEnsClassificationMeta *m =
      gst_buffer_add_ens_classification_meta(buf, "tf_efficientnet_b0.ns_jft_in1k", e, 1);
  m->fresh = TRUE;
  m->full_frame = FALSE;
  m->roi_id = 0;
  m->x = x;
  m->y = y;
  m->width = w;
  m->height = h;
}

static GstHarness *overlay_harness(const char *format)
{
  GstHarness *h = gst_harness_new("ensoverlay");
  gchar *caps =
      g_strdup_printf("video/x-raw,format=%s,width=%d,height=%d,framerate=30/1", format, W, H);
  gst_harness_set_src_caps_str(h, caps);
  g_free(caps);
  return h;
}

static void dump_png(const char *name, GstBuffer *rgb)
{
  const char *dir = g_getenv("ENS_OVERLAY_DUMP");
  GstMapInfo map;
  if (dir == NULL)
    return;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
  guint8 *d = cairo_image_surface_get_data(s);
  gint stride = cairo_image_surface_get_stride(s);
  gst_buffer_map(rgb, &map, GST_MAP_READ);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      const guint8 *p = map.data + (y * W + x) * 3;
      ((guint32 *)(d + y * stride))[x] = (guint32)p[0] << 16 | (guint32)p[1] << 8 | p[2];
    }
  gst_buffer_unmap(rgb, &map);
  cairo_surface_mark_dirty(s);
  gchar *path = g_strdup_printf("%s/%s.png", dir, name);
  cairo_surface_write_to_png(s, path);
  g_free(path);
  cairo_surface_destroy(s);
}

/* RGB pixel of a pulled RGB frame (tightly packed: 640 * 3 is 4-aligned). */
static const guint8 *px(const GstMapInfo *m, int x, int y)
{
  return m->data + ((gsize)y * W + x) * 3;
}

/* Bounding box of the pixels that differ from GREY inside [x0,x1)x[y0,y1). */
typedef struct {
  int x0, y0, x1, y1, n;
} Bbox;

static Bbox changed_bbox(const GstMapInfo *m, int x0, int y0, int x1, int y1)
{
  Bbox b = {W, H, -1, -1, 0};
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++) {
      const guint8 *p = px(m, x, y);
      if (p[0] != GREY || p[1] != GREY || p[2] != GREY) {
        b.n++;
        b.x0 = MIN(b.x0, x);
        b.y0 = MIN(b.y0, y);
        b.x1 = MAX(b.x1, x + 1);
        b.y1 = MAX(b.y1, y + 1);
      }
    }
  return b;
}

/* Pushes one RGB frame (metas added by the caller through fill) and returns the output. */
static GstBuffer *run_rgb(GstHarness *h, GstBuffer *in)
{
  GstBuffer *out;
  CHECK(gst_harness_push(h, in) == GST_FLOW_OK, "push");
  out = gst_harness_pull(h);
  CHECK(out != NULL, "pull");
  return out;
}

static void test_no_result_passes_unchanged(void)
{
  GstHarness *h = overlay_harness("RGB");
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_RGB, W, H);
  GstBuffer *out = run_rgb(h, grey_frame(&info));
  GstMapInfo m;
  gst_buffer_map(out, &m, GST_MAP_READ);
  Bbox b = changed_bbox(&m, 0, 0, W, H);
  CHECK(b.n == 0, "frame without results changed in %d pixels", b.n);
  gst_buffer_unmap(out, &m);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}

/* Panel of a full-frame result in each corner: drawn there, nowhere else; dark background
 * with bright (text) pixels in it. */
static void test_panel_positions(void)
{
  static const char *names[] = {"top-left", "top-right", "bottom-left", "bottom-right"};
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_RGB, W, H);

  for (int pos = 0; pos < 4; pos++) {
    GstHarness *h = overlay_harness("RGB");
    gst_util_set_object_arg(G_OBJECT(h->element), "position", names[pos]);
    GstBuffer *in = grey_frame(&info);
    add_full_frame(in, 5, entries5);
    GstBuffer *out = run_rgb(h, in);
    GstMapInfo m;
    gst_buffer_map(out, &m, GST_MAP_READ);
    Bbox b = changed_bbox(&m, 0, 0, W, H);
    gboolean right = pos == 1 || pos == 3, bottom = pos >= 2;

    CHECK(b.n > 0, "%s: nothing drawn", names[pos]);
    CHECK(right ? b.x0 > W / 2 && b.x1 > W - 20 : b.x0 < 20 && b.x1 < W / 2,
          "%s: panel x range %d..%d", names[pos], b.x0, b.x1);
    CHECK(bottom ? b.y0 > H / 2 && b.y1 > H - 20 : b.y0 < 20 && b.y1 < H / 2,
          "%s: panel y range %d..%d", names[pos], b.y0, b.y1);
    /* Five lines of ~19 px text: the panel is taller than 4 lines' worth. */
    CHECK(b.y1 - b.y0 > 80, "%s: panel height %d", names[pos], b.y1 - b.y0);

    int dark = 0, bright = 0;
    for (int y = b.y0; y < b.y1; y++)
      for (int x = b.x0; x < b.x1; x++) {
        const guint8 *p = px(&m, x, y);
        dark += p[0] < 70 && p[1] < 70 && p[2] < 70;
        bright += p[0] > 200 && p[1] > 200 && p[2] > 200;
      }
    int area = (b.x1 - b.x0) * (b.y1 - b.y0);
    /* Default background 0xa0000000 over grey 128 gives ~48; white text gives ~255. */
    CHECK(dark > area / 2, "%s: %d of %d panel pixels dark", names[pos], dark, area);
    CHECK(bright > 200 && bright < area / 3, "%s: %d text pixels", names[pos], bright);
    if (pos == 0)
      dump_png("panel_top_left", out);
    gst_buffer_unmap(out, &m);
    gst_buffer_unref(out);
    gst_harness_teardown(h);
  }
}

/* Panel size follows max-labels and show-scores; same result twice gives the same pixels. */
static void test_panel_settings(void)
{
  GstVideoInfo info;
  Bbox boxes[3];
  GstBuffer *first = NULL;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_RGB, W, H);

  for (int c = 0; c < 3; c++) {
    GstHarness *h = overlay_harness("RGB");
    if (c == 1)
      g_object_set(h->element, "max-labels", 2, NULL);
    if (c == 2)
      g_object_set(h->element, "show-scores", FALSE, NULL);
    for (int rep = 0; rep < 2; rep++) {
      GstBuffer *in = grey_frame(&info);
      add_full_frame(in, 5, entries5);
      GstBuffer *out = run_rgb(h, in);
      GstMapInfo m;
      gst_buffer_map(out, &m, GST_MAP_READ);
      if (rep == 0) {
        boxes[c] = changed_bbox(&m, 0, 0, W, H);
      } else if (c == 0) {
        GstMapInfo m0;
        gst_buffer_map(first, &m0, GST_MAP_READ);
        CHECK(memcmp(m0.data, m.data, m.size) == 0, "same result drawn differently twice");
        gst_buffer_unmap(first, &m0);
      }
      gst_buffer_unmap(out, &m);
      if (c == 0 && rep == 0)
        first = out;
      else
        gst_buffer_unref(out);
    }
    gst_harness_teardown(h);
  }
  gst_buffer_unref(first);
  int h5 = boxes[0].y1 - boxes[0].y0, h2 = boxes[1].y1 - boxes[1].y0;
  CHECK(h2 * 2 < h5, "max-labels=2 panel height %d vs 5 labels %d", h2, h5);
  CHECK(h2 > 20, "max-labels=2 panel height %d", h2);
  CHECK(boxes[2].x1 - boxes[2].x0 < boxes[0].x1 - boxes[0].x0 - 30,
        "show-scores=false panel width %d vs %d", boxes[2].x1 - boxes[2].x0,
        boxes[0].x1 - boxes[0].x0);
}

/* A region result: box edges in box-color, inside untouched, tag above the box. */
static void test_roi_box(void)
{
  GstVideoInfo info;
  const int bx = 200, by = 150, bw = 160, bh = 120;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_RGB, W, H);
  GstHarness *h = overlay_harness("RGB");
  g_object_set(h->element, "box-color", 0xff00ff00u, NULL);
  GstBuffer *in = grey_frame(&info);
  add_roi(in, bx, by, bw, bh, &entries5[0]);
  GstBuffer *out = run_rgb(h, in);
  GstMapInfo m;
  gst_buffer_map(out, &m, GST_MAP_READ);
  dump_png("roi", out);

  const guint8 *edge_l = px(&m, bx, by + bh / 2), *edge_r = px(&m, bx + bw - 1, by + bh / 2);
  const guint8 *edge_b = px(&m, bx + bw / 2, by + bh - 1);
  CHECK(edge_l[0] == 0 && edge_l[1] == 255 && edge_l[2] == 0, "left edge %d,%d,%d", edge_l[0],
        edge_l[1], edge_l[2]);
  CHECK(edge_r[1] == 255 && edge_r[0] == 0, "right edge");
  CHECK(edge_b[1] == 255 && edge_b[0] == 0, "bottom edge");
  Bbox inside = changed_bbox(&m, bx + 6, by + 6, bx + bw - 6, by + bh - 6);
  CHECK(inside.n == 0, "box interior changed in %d pixels", inside.n);
  Bbox outside_below = changed_bbox(&m, 0, by + bh, W, H);
  CHECK(outside_below.n == 0, "%d pixels changed below the box", outside_below.n);
  Bbox tag = changed_bbox(&m, 0, 0, W, by);
  CHECK(tag.n > 0 && tag.y1 == by && tag.x0 == bx, "tag above the box: %d px, x0 %d y1 %d", tag.n,
        tag.x0, tag.y1);
  gst_buffer_unmap(out, &m);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}

/* The banner is a strip across the whole width, opposite the panel. */
static void test_banner(void)
{
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_RGB, W, H);
  GstHarness *h = overlay_harness("RGB");
  g_object_set(h->element, "banner", "RANDOM WEIGHTS \u2014 labels are meaningless", "banner-color",
               0xffff0000u, NULL);
  GstBuffer *in = grey_frame(&info);
  add_full_frame(in, 3, entries5);
  GstBuffer *out = run_rgb(h, in);
  GstMapInfo m;
  gst_buffer_map(out, &m, GST_MAP_READ);
  dump_png("banner", out);
  const guint8 *l = px(&m, 1, H - 2), *r = px(&m, W - 2, H - 2);
  CHECK(l[0] == 255 && l[1] == 0 && r[0] == 255 && r[2] == 0, "banner corners %d,%d,%d %d,%d,%d",
        l[0], l[1], l[2], r[0], r[1], r[2]);
  Bbox strip = changed_bbox(&m, 0, H / 2, W, H);
  CHECK(strip.x0 == 0 && strip.x1 == W && strip.y1 == H && H - strip.y0 < 80,
        "banner strip %d..%d x %d..%d", strip.x0, strip.x1, strip.y0, strip.y1);
  int white = 0;
  for (int y = strip.y0; y < strip.y1; y++)
    for (int x = 0; x < W; x++)
      white += px(&m, x, y)[1] > 200;
  CHECK(white > 300, "banner text pixels %d", white);
  gst_buffer_unmap(out, &m);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}

/* Every format: a panel (top-left) and a box at the bottom right; the rows between stay
 * exactly as they were, the panel rows and box rows change. Checked on plane 0. */
static void test_formats(void)
{
  static const char *formats[] = {"RGB",  "BGR",  "RGBx", "BGRx", "xRGB", "xBGR",
                                  "RGBA", "BGRA", "ARGB", "ABGR", "I420", "NV12"};
  for (guint f = 0; f < G_N_ELEMENTS(formats); f++) {
    GstVideoInfo info;
    gst_video_info_set_format(&info, gst_video_format_from_string(formats[f]), W, H);
    GstHarness *h = overlay_harness(formats[f]);
    GstBuffer *in = grey_frame(&info);
    add_full_frame(in, 2, entries5);
    add_roi(in, 400, 360, 200, 100, &entries5[1]);
    CHECK(gst_harness_push(h, in) == GST_FLOW_OK, "%s push", formats[f]);
    GstBuffer *out = gst_harness_pull(h);
    GstVideoFrame frame;
    CHECK(gst_video_frame_map(&frame, &info, out, GST_MAP_READ), "%s map", formats[f]);
    const guint8 *p0 = GST_VIDEO_FRAME_PLANE_DATA(&frame, 0);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
    gint row_bytes = GST_VIDEO_FRAME_COMP_PSTRIDE(&frame, 0) * W;
    int changed_top = 0, changed_mid = 0, changed_box = 0;
    for (int y = 0; y < H; y++) {
      int diff = 0;
      for (int i = 0; i < row_bytes; i++)
        diff += p0[(gsize)y * stride + i] != GREY;
      if (y < 40)
        changed_top += diff > 0;
      else if (y >= 140 && y < 300)
        changed_mid += diff;
      else if (y >= 362 && y < 458)
        changed_box += diff > 0;
    }
    CHECK(changed_top >= 30, "%s: panel rows changed %d", formats[f], changed_top);
    CHECK(changed_mid == 0, "%s: %d bytes changed between panel and box", formats[f], changed_mid);
    CHECK(changed_box == 96, "%s: box side rows changed %d of 96", formats[f], changed_box);
    gst_video_frame_unmap(&frame);
    gst_buffer_unref(out);
    gst_harness_teardown(h);
  }
}

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  if (gst_element_factory_find("ensoverlay") == NULL) {
    fprintf(stderr, "ensoverlay not found (GST_PLUGIN_PATH=%s)\n", g_getenv("GST_PLUGIN_PATH"));
    return 1;
  }
  test_no_result_passes_unchanged();
  test_panel_positions();
  test_panel_settings();
  test_roi_box();
  test_banner();
  test_formats();
  printf("%s\n", ens_test_failures ? "FAIL" : "PASS");
  return ens_test_failures ? 1 : 0;
}
