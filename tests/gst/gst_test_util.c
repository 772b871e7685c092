/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gst_test_util.c - see gst_test_util.h. */
#include "gst_test_util.h"

#include <math.h>
#include <string.h>

guint8 *test_rgb_picture(gint width, gint height, guint pattern, gint noise, guint32 noise_seed)
{
  guint8 *rgb = g_malloc((gsize)width * height * 3);
  GRand *rand = g_rand_new_with_seed(noise_seed);
  double ph = pattern * 0.7;
  for (gint y = 0; y < height; y++) {
    for (gint x = 0; x < width; x++) {
      double u = (double)x / MAX(width, 1), v = (double)y / MAX(height, 1);
      double c[3] = {128 + 100 * sin(6.0 * u + ph), 128 + 90 * cos(5.0 * v - ph),
                     128 + 80 * sin(4.0 * (u + v) + 2 * ph)};
      /* a disc and a bar give the network some structure */
      double dx = u - 0.3 - 0.1 * (pattern % 3), dy = v - 0.5;
      if (dx * dx + dy * dy < 0.04)
        c[pattern % 3] = 230;
      if (fabs(u - 0.7) < 0.08)
        c[(pattern + 1) % 3] = 30;
      for (int ch = 0; ch < 3; ch++) {
        double val = c[ch];
        if (noise > 0)
          val += g_rand_int_range(rand, -noise, noise + 1);
        rgb[((gsize)y * width + x) * 3 + ch] = (guint8)CLAMP(lround(val), 0, 255);
      }
    }
  }
  g_rand_free(rand);
  return rgb;
}

GstBuffer *test_frame(GstVideoFormat format, gint width, gint height, const guint8 *rgb, gint pad,
                      GstVideoInfo *info_out)
{
  GstVideoInfo in_info, out_info, padded;
  fail_unless(gst_video_info_set_format(&in_info, GST_VIDEO_FORMAT_RGB, width, height));
  fail_unless(gst_video_info_set_format(&out_info, format, width, height));
  padded = out_info;
  if (pad > 0) {
    gsize offset = 0;
    for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES(&padded); p++) {
      padded.stride[p] = out_info.stride[p] + pad;
      padded.offset[p] = offset;
      gint comp[GST_VIDEO_MAX_COMPONENTS];
      gst_video_format_info_component(padded.finfo, p, comp);
      gint ph = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT(padded.finfo, comp[0], height);
      offset += (gsize)padded.stride[p] * ph;
    }
    padded.size = offset;
  }

  /* GStreamer's RGB rows are 4-byte aligned: copy the packed picture row by row. */
  GstBuffer *src = gst_buffer_new_allocate(NULL, in_info.size, NULL);
  GstMapInfo map;
  fail_unless(gst_buffer_map(src, &map, GST_MAP_WRITE));
  for (gint y = 0; y < height; y++)
    memcpy(map.data + (gsize)y * in_info.stride[0], rgb + (gsize)y * width * 3, (gsize)width * 3);
  gst_buffer_unmap(src, &map);
  GstBuffer *dst = gst_buffer_new_allocate(NULL, padded.size, NULL);
  /* Fill padding with a value the element must never read into the result. */
  gst_buffer_memset(dst, 0, 0xA5, padded.size);
  if (pad > 0)
    gst_buffer_add_video_meta_full(dst, GST_VIDEO_FRAME_FLAG_NONE, format, width, height,
                                   GST_VIDEO_INFO_N_PLANES(&padded), padded.offset, padded.stride);
  GstVideoFrame sf, df;
  fail_unless(gst_video_frame_map(&sf, &in_info, src, GST_MAP_READ));
  fail_unless(gst_video_frame_map(&df, &padded, dst, GST_MAP_WRITE));
  GstVideoConverter *conv = gst_video_converter_new(&in_info, &out_info, NULL);
  fail_unless(conv != NULL);
  gst_video_converter_frame(conv, &sf, &df);
  gst_video_converter_free(conv);
  gst_video_frame_unmap(&sf);
  gst_video_frame_unmap(&df);
  gst_buffer_unref(src);
  if (info_out)
    *info_out = out_info;
  return dst;
}

ens_model *test_ref_model(void)
{
  ens_options opt;
  ens_options_init(&opt);
  opt.threads = TEST_THREADS;
  opt.input_height = opt.input_width = TEST_INPUT_SIZE;
  ens_model *m = NULL;
  ens_error err = {0};
  ens_status st = ens_model_new_random(TEST_VARIANT, 1000, 0, &opt, &m, &err);
  fail_unless(st == ENS_OK, "ens_model_new_random: %s", err.message);
  return m;
}

static ens_pixel_format pixel_format(GstVideoFormat f)
{
  switch (f) {
    case GST_VIDEO_FORMAT_RGB:
      return ENS_PIXEL_RGB;
    case GST_VIDEO_FORMAT_BGR:
      return ENS_PIXEL_BGR;
    case GST_VIDEO_FORMAT_RGBx:
      return ENS_PIXEL_RGBX;
    case GST_VIDEO_FORMAT_BGRx:
      return ENS_PIXEL_BGRX;
    case GST_VIDEO_FORMAT_xRGB:
      return ENS_PIXEL_XRGB;
    case GST_VIDEO_FORMAT_xBGR:
      return ENS_PIXEL_XBGR;
    case GST_VIDEO_FORMAT_RGBA:
      return ENS_PIXEL_RGBA;
    case GST_VIDEO_FORMAT_BGRA:
      return ENS_PIXEL_BGRA;
    case GST_VIDEO_FORMAT_ARGB:
      return ENS_PIXEL_ARGB;
    case GST_VIDEO_FORMAT_ABGR:
      return ENS_PIXEL_ABGR;
    case GST_VIDEO_FORMAT_I420:
      return ENS_PIXEL_I420;
    case GST_VIDEO_FORMAT_NV12:
      return ENS_PIXEL_NV12;
    default:
      fail("unexpected format");
      return ENS_PIXEL_RGB;
  }
}

void test_ref_topk_batch(ens_model *m, GstBuffer *buf, const GstVideoInfo *info,
                         const ens_rect *rois, gint n, gint k, ens_class_score *out)
{
  GstVideoFrame f;
  fail_unless(gst_video_frame_map(&f, info, buf, GST_MAP_READ));
  ens_image img = {0};
  img.format = pixel_format(GST_VIDEO_INFO_FORMAT(info));
  img.width = GST_VIDEO_FRAME_WIDTH(&f);
  img.height = GST_VIDEO_FRAME_HEIGHT(&f);
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&f); p++) {
    img.planes[p] = GST_VIDEO_FRAME_PLANE_DATA(&f, p);
    img.strides[p] = GST_VIDEO_FRAME_PLANE_STRIDE(&f, p);
  }
  /* caps from gst_video_info_set_format: BT.601 limited for SD YUV, 709 for HD */
  const GstVideoColorimetry *c = &GST_VIDEO_INFO_COLORIMETRY(info);
  gboolean full = c->range == GST_VIDEO_COLOR_RANGE_0_255;
  if (c->matrix == GST_VIDEO_COLOR_MATRIX_BT709)
    img.yuv_matrix = full ? ENS_YUV_BT709_FULL : ENS_YUV_BT709;
  else
    img.yuv_matrix = full ? ENS_YUV_BT601_FULL : ENS_YUV_BT601;

  ens_preprocess_params pp;
  ens_model_preprocess_params(m, &pp);
  const ens_model_info *mi = ens_model_get_info(m);
  gsize one = (gsize)3 * pp.out_height * pp.out_width;
  float *input = g_new(float, one *n);
  float *probs = g_new(float, (gsize)mi->num_classes *n);
  ens_error err = {0};
  for (gint r = 0; r < n; r++) {
    ens_status st = ens_preprocess(&pp, &img, rois ? &rois[r] : NULL, input + r * one, &err);
    fail_unless(st == ENS_OK, "ens_preprocess: %s", err.message);
  }
  ens_status st = ens_model_forward(m, input, n, probs, NULL, &err);
  fail_unless(st == ENS_OK, "ens_model_forward: %s", err.message);
  for (gint r = 0; r < n; r++) {
    float *p = probs + (gsize)r * mi->num_classes;
    ens_softmax(p, mi->num_classes, p);
    fail_unless_equals_int(ens_topk(m, p, mi->num_classes, k, out + r * k), k);
  }
  g_free(input);
  g_free(probs);
  gst_video_frame_unmap(&f);
}

gint test_ref_topk(ens_model *m, GstBuffer *buf, const GstVideoInfo *info, const ens_rect *roi,
                   gint k, ens_class_score *out)
{
  test_ref_topk_batch(m, buf, info, roi, 1, k, out);
  return k;
}

GstHarness *test_harness_new(const gchar *desc)
{
  GError *error = NULL;
  GstElement *e = gst_parse_launch(desc, &error);
  fail_unless(e != NULL, "%s: %s", desc, error ? error->message : "");
  fail_if(GST_IS_BIN(e));
  GstHarness *h = gst_harness_new_with_element(e, "sink", "src");
  gst_object_unref(e);
  return h;
}

void test_assert_meta_equals(const GstEnsClassificationMeta *meta, const ens_class_score *ref,
                             gint n)
{
  fail_unless(meta != NULL, "no classification meta");
  fail_unless_equals_int(meta->n_entries, n);
  for (gint i = 0; i < n; i++) {
    fail_unless_equals_int(meta->entries[i].class_id, ref[i].id);
    fail_unless_equals_string(meta->entries[i].label, ref[i].label);
    fail_unless(meta->entries[i].score == ref[i].prob, "entry %d: score %.9g != reference %.9g", i,
                meta->entries[i].score, ref[i].prob);
  }
}

GstBuffer *test_picture_frame(GstVideoFormat format, gint width, gint height, guint pattern,
                              gint pad, GstVideoInfo *info_out)
{
  guint8 *rgb = test_rgb_picture(width, height, pattern, 0, 0);
  GstBuffer *b = test_frame(format, width, height, rgb, pad, info_out);
  g_free(rgb);
  return b;
}

GstBuffer *test_seq_frame(GstVideoFormat format, gint width, gint height, guint i,
                          GstVideoInfo *info_out)
{
  GstBuffer *b = test_picture_frame(format, width, height, i, 0, info_out);
  GST_BUFFER_PTS(b) = i * 40 * GST_MSECOND;
  return b;
}

GstHarness *test_classify_harness(const gchar *mode, const gchar *extra, const GstVideoInfo *info)
{
  gchar *desc = g_strdup_printf("ensclassify " TEST_ELEMENT_PROPS " mode=%s %s", mode, extra);
  GstHarness *h = test_harness_new(desc);
  g_free(desc);
  gst_harness_set_src_caps(h, gst_video_info_to_caps(info));
  return h;
}

guint64 test_get_u64(GstElement *e, const gchar *name)
{
  guint64 v;
  g_object_get(e, name, &v, NULL);
  return v;
}

guint64 test_wait_inferred(GstElement *e, guint64 n)
{
  gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
  guint64 v = test_get_u64(e, "frames-inferred");
  while (v < n && g_get_monotonic_time() < deadline) {
    g_usleep(2000);
    v = test_get_u64(e, "frames-inferred");
  }
  fail_unless(v >= n, "inference %" G_GUINT64_FORMAT " never done (%" G_GUINT64_FORMAT ")", n, v);
  return v;
}

GstBus *test_element_bus(GstElement *e)
{
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  return bus;
}

void test_element_bus_clear(GstElement *e, GstBus *bus)
{
  gst_element_set_bus(e, NULL);
  gst_object_unref(bus);
}

GError *test_pop_error(GstBus *bus, const gchar *what, GstObject **src_out)
{
  GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  fail_unless(msg != NULL, "no error message on the bus (%s)", what);
  GError *err = NULL;
  gchar *debug = NULL;
  gst_message_parse_error(msg, &err, &debug);
  GST_INFO("%s: %s (%s)", what, err->message, debug);
  if (src_out)
    *src_out = GST_MESSAGE_SRC(msg);
  g_free(debug);
  gst_message_unref(msg);
  return err;
}

int test_run_suite_full(const gchar *name, gint timeout, const TestEntry *tests, gsize n,
                        SFun setup, SFun teardown, const gchar *file)
{
  Suite *s = suite_create(name);
  TCase *tc = tcase_create(name);
  if (setup || teardown)
    tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, timeout);
  for (gsize i = 0; i < n; i++)
    _tcase_add_test(tc, tests[i].fn, tests[i].name, 0, 0, 0, 1);
  suite_add_tcase(s, tc);
  return gst_check_run_suite(s, name, file);
}
