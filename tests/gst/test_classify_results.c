/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_classify_results.c - ensclassify attaches exactly libens's result: sync mode, every
 * caps format, odd sizes, padded strides, roi-list, inference-interval, top-k / threshold,
 * element messages and the DL Streamer style ROI param; async mode's frame copy for every
 * format, padded strides and ROIs. */
#include "gst_test_util.h"

static ens_model *ref_model;

static void setup(void)
{
  ref_model = test_ref_model();
}

static void teardown(void)
{
  ens_model_free(ref_model);
  ref_model = NULL;
}

static GstHarness *new_harness(const gchar *extra, GstVideoInfo *info)
{
  return test_classify_harness("sync", extra, info);
}

static GstBuffer *push_pull(GstHarness *h, GstBuffer *in, GstClockTime pts)
{
  GST_BUFFER_PTS(in) = pts;
  fail_unless_equals_int(gst_harness_push(h, in), GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull(h);
  fail_unless(out != NULL);
  return out;
}

GST_START_TEST(test_sync_matches_engine)
{
  GstVideoInfo info;
  GstBuffer *frames[3];
  for (guint i = 0; i < 3; i++)
    frames[i] = test_picture_frame(GST_VIDEO_FORMAT_RGB, 80, 60, i, 0, &info);
  GstHarness *h = new_harness("", &info);
  GstBus *bus = test_element_bus(h->element);
  for (guint i = 0; i < 3; i++) {
    ens_class_score ref[5];
    gint n = test_ref_topk(ref_model, frames[i], &info, NULL, 5, ref);
    fail_unless_equals_int(n, 5);
    GstBuffer *out = push_pull(h, gst_buffer_ref(frames[i]), i * GST_SECOND / 30);

    fail_unless_equals_int(gst_buffer_get_n_ens_classification_meta(out), 1);
    GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
    test_assert_meta_equals(m, ref, n);
    fail_unless(m->fresh);
    fail_unless(m->full_frame);
    fail_unless_equals_int(m->roi_id, -1);
    fail_unless_equals_uint64(m->source_pts, i * GST_SECOND / 30);
    fail_unless_equals_uint64(m->source_frame, i);
    fail_unless_equals_int(m->x, 0);
    fail_unless_equals_int(m->width, 80);
    fail_unless_equals_int(m->height, 60);
    fail_unless(m->model_name && *m->model_name);

    /* DL Streamer interop: a full-frame ROI meta carrying the top-1 */
    GstVideoRegionOfInterestMeta *roi = gst_buffer_get_video_region_of_interest_meta(out);
    fail_unless(roi != NULL);
    fail_unless_equals_string(g_quark_to_string(roi->roi_type), "frame");
    fail_unless_equals_int(roi->w, 80);
    GstStructure *s = gst_video_region_of_interest_meta_get_param(roi, GST_ENS_ROI_PARAM_NAME);
    fail_unless(s != NULL);
    gint label_id;
    gdouble conf;
    fail_unless(gst_structure_get_int(s, "label_id", &label_id));
    fail_unless_equals_int(label_id, ref[0].id);
    fail_unless(gst_structure_get_double(s, "confidence", &conf));
    fail_unless_equals_float(conf, ref[0].prob);
    fail_unless_equals_string(gst_structure_get_string(s, "label"), ref[0].label);
    fail_unless_equals_string(gst_structure_get_string(s, "model_name"), m->model_name);
    fail_unless(gst_structure_get_string(s, "layer_name") != NULL);

    /* the element message of this inference, posted before the buffer was pushed */
    GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT);
    fail_unless(msg != NULL);
    const GstStructure *ms = gst_message_get_structure(msg);
    fail_unless(gst_structure_has_name(ms, "ens-classification"));
    guint64 ts, frame;
    fail_unless(gst_structure_get_uint64(ms, "timestamp", &ts));
    fail_unless_equals_uint64(ts, i * GST_SECOND / 30);
    fail_unless(gst_structure_get_uint64(ms, "frame", &frame));
    fail_unless_equals_uint64(frame, i);
    const GValue *labels = gst_structure_get_value(ms, "labels");
    const GValue *scores = gst_structure_get_value(ms, "scores");
    fail_unless_equals_int(gst_value_array_get_size(labels), 5);
    fail_unless_equals_string(g_value_get_string(gst_value_array_get_value(labels, 0)),
                              ref[0].label);
    fail_unless_equals_float(g_value_get_float(gst_value_array_get_value(scores, 0)), ref[0].prob);
    gst_message_unref(msg);
    gst_buffer_unref(out);
  }
  guint64 seen, inferred, skipped, replaced;
  g_object_get(h->element, "frames-seen", &seen, "frames-inferred", &inferred, "frames-skipped",
               &skipped, "frames-replaced", &replaced, NULL);
  fail_unless_equals_uint64(seen, 3);
  fail_unless_equals_uint64(inferred, 3);
  fail_unless_equals_uint64(skipped, 0);
  fail_unless_equals_uint64(replaced, 0);
  gdouble lat;
  g_object_get(h->element, "mean-latency-ms", &lat, NULL);
  fail_unless(lat > 0.0);

  test_element_bus_clear(h->element, bus);
  gst_harness_teardown(h);
  for (guint i = 0; i < 3; i++)
    gst_buffer_unref(frames[i]);
}
GST_END_TEST;

static const GstVideoFormat all_formats[] = {
    GST_VIDEO_FORMAT_RGB,  GST_VIDEO_FORMAT_BGR,  GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_BGRx,
    GST_VIDEO_FORMAT_xRGB, GST_VIDEO_FORMAT_xBGR, GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_BGRA,
    GST_VIDEO_FORMAT_ARGB, GST_VIDEO_FORMAT_ABGR, GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12};

static gboolean is_yuv(GstVideoFormat f)
{
  return f == GST_VIDEO_FORMAT_I420 || f == GST_VIDEO_FORMAT_NV12;
}

/* Every format of the same picture, with and without stride padding: the element equals libens
 * on that exact buffer; packed RGB layouts equal the RGB result bit for bit; YUV (which went
 * through 4:2:0 subsampling and 8-bit rounding) keeps the top-1 and its score within 3%. */
static void check_all_formats(gint w, gint hgt, gint pad)
{
  guint8 *rgb = test_rgb_picture(w, hgt, 1, 0, 0);
  GstVideoInfo rgb_info;
  GstBuffer *rgb_in = test_frame(GST_VIDEO_FORMAT_RGB, w, hgt, rgb, 0, &rgb_info);
  /* one harness for all formats: each format is a caps change mid-stream */
  GstHarness *h = new_harness("", &rgb_info);
  GstBuffer *rgb_out = push_pull(h, rgb_in, 0);
  GstEnsClassificationMeta *rm = gst_buffer_get_ens_classification_meta(rgb_out);
  fail_unless(rm != NULL && rm->n_entries == 5);

  for (guint i = 0; i < G_N_ELEMENTS(all_formats); i++) {
    GstVideoFormat f = all_formats[i];
    GstVideoInfo info;
    GstBuffer *in = test_frame(f, w, hgt, rgb, pad, &info);
    ens_class_score ref[5];
    gint n = test_ref_topk(ref_model, in, &info, NULL, 5, ref);
    gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
    GstBuffer *out = push_pull(h, gst_buffer_ref(in), (i + 1) * GST_SECOND);
    GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
    g_print("%dx%d pad %d %s: top1 %d %.6f (RGB %d %.6f)\n", w, hgt, pad,
            gst_video_format_to_string(f), m->entries[0].class_id, m->entries[0].score,
            rm->entries[0].class_id, rm->entries[0].score);
    test_assert_meta_equals(m, ref, n);
    fail_unless(m->fresh);
    fail_unless_equals_int(m->width, w);
    fail_unless_equals_int(m->height, hgt);
    if (!is_yuv(f)) {
      for (guint e = 0; e < 5; e++) {
        fail_unless_equals_int(m->entries[e].class_id, rm->entries[e].class_id);
        fail_unless(m->entries[e].score == rm->entries[e].score, "%s: score differs from RGB",
                    gst_video_format_to_string(f));
      }
    } else if (w >= 16 && hgt >= 16) {
      /* Tiny pictures are mostly chroma-subsampling error; only compare real ones. */
      fail_unless_equals_int(m->entries[0].class_id, rm->entries[0].class_id);
      gdouble rel = fabs(m->entries[0].score - rm->entries[0].score) / rm->entries[0].score;
      fail_unless(rel < 0.03, "%s: top-1 score %.6f vs RGB %.6f (rel %.4f)",
                  gst_video_format_to_string(f), m->entries[0].score, rm->entries[0].score, rel);
    }
    gst_buffer_unref(out);
    gst_buffer_unref(in);
  }
  gst_harness_teardown(h);
  gst_buffer_unref(rgb_out);
  g_free(rgb);
}

GST_START_TEST(test_formats)
{
  check_all_formats(96, 64, 0);
}
GST_END_TEST;

GST_START_TEST(test_formats_padded_strides)
{
  check_all_formats(96, 64, 40);
  check_all_formats(7, 5, 3);
}
GST_END_TEST;

GST_START_TEST(test_odd_sizes)
{
  check_all_formats(1, 1, 0);
  check_all_formats(7, 5, 0);
  check_all_formats(4095, 1, 0);
}
GST_END_TEST;

GST_START_TEST(test_interval)
{
  const guint N = 3, FRAMES = 11;
  GstVideoInfo info;
  GstBuffer *probe = test_picture_frame(GST_VIDEO_FORMAT_RGB, 48, 32, 0, 0, &info);
  gst_buffer_unref(probe);
  GstHarness *h = new_harness("inference-interval=3", &info);
  GstBus *bus = test_element_bus(h->element);
  ens_class_score last_ref[5];
  for (guint i = 0; i < FRAMES; i++) {
    GstBuffer *in = test_picture_frame(GST_VIDEO_FORMAT_RGB, 48, 32, i, 0, NULL);
    if (i % N == 0)
      test_ref_topk(ref_model, in, &info, NULL, 5, last_ref);
    GstBuffer *out = push_pull(h, in, 1000 + i * 40 * GST_MSECOND);
    GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
    fail_unless(m != NULL, "frame %u has no result", i);
    guint src = i - i % N;
    fail_unless_equals_int(m->fresh, i % N == 0);
    fail_unless_equals_uint64(m->source_frame, src);
    fail_unless_equals_uint64(m->source_pts, 1000 + src * 40 * GST_MSECOND);
    test_assert_meta_equals(m, last_ref, 5);
    GstVideoRegionOfInterestMeta *roi = gst_buffer_get_video_region_of_interest_meta(out);
    GstStructure *s = gst_video_region_of_interest_meta_get_param(roi, GST_ENS_ROI_PARAM_NAME);
    gboolean fresh;
    fail_unless(gst_structure_get_boolean(s, "fresh", &fresh));
    fail_unless_equals_int(fresh, i % N == 0);
    gst_buffer_unref(out);
  }
  guint64 seen, inferred, skipped;
  g_object_get(h->element, "frames-seen", &seen, "frames-inferred", &inferred, "frames-skipped",
               &skipped, NULL);
  fail_unless_equals_uint64(seen, FRAMES);
  fail_unless_equals_uint64(inferred, 4); /* 0, 3, 6, 9 */
  fail_unless_equals_uint64(skipped, FRAMES - 4);
  /* one message per inferred frame, for exactly those frames */
  for (guint k = 0; k < 4; k++) {
    GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT);
    fail_unless(msg != NULL);
    guint64 frame;
    fail_unless(gst_structure_get_uint64(gst_message_get_structure(msg), "frame", &frame));
    fail_unless_equals_uint64(frame, k * N);
    gst_message_unref(msg);
  }
  fail_unless(gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT) == NULL);
  test_element_bus_clear(h->element, bus);
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_topk_threshold_no_roi_meta)
{
  GstVideoInfo info;
  GstBuffer *in = test_picture_frame(GST_VIDEO_FORMAT_BGRx, 64, 64, 2, 0, &info);
  ens_class_score ref[10];
  test_ref_topk(ref_model, in, &info, NULL, 10, ref);
  /* a threshold between the 3rd and 4th score keeps exactly 3 of the top 10 */
  gfloat thr = (ref[2].prob + ref[3].prob) / 2;
  gchar *extra = g_strdup_printf("top-k=10 threshold=%.9g attach-roi-meta=false", thr);
  GstHarness *h = new_harness(extra, &info);
  g_free(extra);
  GstBuffer *out = push_pull(h, in, 0);
  GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
  test_assert_meta_equals(m, ref, 3);
  fail_unless(gst_buffer_get_video_region_of_interest_meta(out) == NULL);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_roi_list)
{
  GstVideoInfo info;
  GstBuffer *in = test_picture_frame(GST_VIDEO_FORMAT_NV12, 120, 90, 1, 0, &info);
  /* two cars (one partly outside the frame: clipped), one person (filtered out) */
  GstVideoRegionOfInterestMeta *car1 =
      gst_buffer_add_video_region_of_interest_meta(in, "car", 10, 20, 50, 40);
  GstVideoRegionOfInterestMeta *person =
      gst_buffer_add_video_region_of_interest_meta(in, "person", 0, 0, 30, 30);
  GstVideoRegionOfInterestMeta *car2 =
      gst_buffer_add_video_region_of_interest_meta(in, "car", 100, 60, 40, 40);
  /* ids are set by the detector (GStreamer leaves them 0) */
  car1->id = 11;
  person->id = 12;
  car2->id = 13;
  gint car1_id = car1->id, car2_id = car2->id, person_id = person->id;
  ens_rect r1 = {10, 20, 50, 40}, r2 = {100, 60, 20, 30};
  ens_rect rois[2] = {r1, r2};
  ens_class_score ref[10], *ref1 = ref, *ref2 = ref + 5;
  test_ref_topk_batch(ref_model, in, &info, rois, 2, 5, ref);

  GstHarness *h = new_harness("inference-region=roi-list object-class=car", &info);
  GstBuffer *out = push_pull(h, in, 0);
  fail_unless_equals_int(gst_buffer_get_n_ens_classification_meta(out), 2);
  gpointer state = NULL;
  GstEnsClassificationMeta *m;
  guint seen = 0;
  while ((m = gst_buffer_iterate_ens_classification_meta(out, &state))) {
    fail_unless(!m->full_frame);
    fail_unless(m->fresh);
    if (m->roi_id == car1_id) {
      test_assert_meta_equals(m, ref1, 5);
      fail_unless(m->x == 10 && m->y == 20 && m->width == 50 && m->height == 40);
    } else {
      fail_unless_equals_int(m->roi_id, car2_id);
      test_assert_meta_equals(m, ref2, 5);
      fail_unless(m->x == 100 && m->y == 60 && m->width == 20 && m->height == 30);
    }
    seen++;
  }
  fail_unless_equals_int(seen, 2);
  GstVideoRegionOfInterestMeta *roi;
  roi = gst_buffer_get_video_region_of_interest_meta_id(out, car1_id);
  GstStructure *s = gst_video_region_of_interest_meta_get_param(roi, GST_ENS_ROI_PARAM_NAME);
  fail_unless(s != NULL);
  gint id;
  fail_unless(gst_structure_get_int(s, "label_id", &id));
  fail_unless_equals_int(id, ref1[0].id);
  roi = gst_buffer_get_video_region_of_interest_meta_id(out, person_id);
  fail_unless(gst_video_region_of_interest_meta_get_param(roi, GST_ENS_ROI_PARAM_NAME) == NULL);
  /* no full-frame ROI is added in roi-list mode */
  fail_unless_equals_int(gst_buffer_get_n_meta(out, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE), 3);
  gst_buffer_unref(out);

  /* A frame without matching ROIs is not inferred and carries nothing. */
  GstBuffer *in2 = test_picture_frame(GST_VIDEO_FORMAT_NV12, 120, 90, 2, 0, NULL);
  gst_buffer_add_video_region_of_interest_meta(in2, "person", 0, 0, 30, 30);
  out = push_pull(h, in2, 1);
  fail_unless_equals_int(gst_buffer_get_n_ens_classification_meta(out), 0);
  gst_buffer_unref(out);
  guint64 inferred, skipped;
  g_object_get(h->element, "frames-inferred", &inferred, "frames-skipped", &skipped, NULL);
  fail_unless_equals_uint64(inferred, 1);
  fail_unless_equals_uint64(skipped, 1);
  gst_harness_teardown(h);
}
GST_END_TEST;

/* roi-list with inference-interval: a skipped frame's ROI gets the result of the previous
 * frame's ROI of the same type that overlaps it (IoU >= 0.5), marked not fresh. */
GST_START_TEST(test_roi_carry)
{
  GstVideoInfo info;
  guint8 *rgb = test_rgb_picture(120, 90, 1, 0, 0);
  GstBuffer *in0 = test_frame(GST_VIDEO_FORMAT_RGB, 120, 90, rgb, 0, &info);
  GstBuffer *in1 = test_frame(GST_VIDEO_FORMAT_RGB, 120, 90, rgb, 0, NULL);
  GstBuffer *in3 = test_frame(GST_VIDEO_FORMAT_RGB, 120, 90, rgb, 0, NULL);
  g_free(rgb);
  gst_buffer_add_video_region_of_interest_meta(in0, "car", 10, 20, 50, 40);
  ens_rect r0 = {10, 20, 50, 40};
  ens_class_score ref[5];
  test_ref_topk(ref_model, in0, &info, &r0, 5, ref);
  /* frame 1: the car moved a little (IoU ~0.86) and a truck appeared; frame 2 (inferred):
   * nothing; frame 3: a car far away from the last inferred ROI */
  gst_buffer_add_video_region_of_interest_meta(in1, "truck", 10, 20, 50, 40);
  gst_buffer_add_video_region_of_interest_meta(in1, "car", 13, 22, 50, 40);
  gst_buffer_add_video_region_of_interest_meta(in3, "car", 60, 40, 50, 40);

  GstHarness *h = new_harness("inference-region=roi-list inference-interval=2", &info);
  gst_buffer_unref(push_pull(h, in0, 0));
  GstBuffer *out = push_pull(h, in1, 1);
  fail_unless_equals_int(gst_buffer_get_n_ens_classification_meta(out), 1);
  GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(out);
  fail_unless(!m->fresh);
  fail_unless_equals_uint64(m->source_frame, 0);
  test_assert_meta_equals(m, ref, 5);
  fail_unless(m->x == 13 && m->y == 22 && m->width == 50 && m->height == 40);
  gpointer state = NULL;
  GstMeta *meta;
  while ((meta = gst_buffer_iterate_meta_filtered(out, &state,
                                                  GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *)meta;
    gboolean is_car = roi->roi_type == g_quark_from_string("car");
    fail_unless_equals_int(
        gst_video_region_of_interest_meta_get_param(roi, GST_ENS_ROI_PARAM_NAME) != NULL, is_car);
  }
  gst_buffer_unref(out);
  /* frame 2 has no ROI: not inferred, the frame-0 result stays the latest */
  GstBuffer *in2 = test_picture_frame(GST_VIDEO_FORMAT_RGB, 120, 90, 2, 0, NULL);
  out = push_pull(h, in2, 2);
  fail_unless_equals_int(gst_buffer_get_n_ens_classification_meta(out), 0);
  gst_buffer_unref(out);
  out = push_pull(h, in3, 3);
  fail_unless_equals_int(gst_buffer_get_n_ens_classification_meta(out), 0);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}
GST_END_TEST;

/* Async mode copies the frame for the worker: for every format, padded strides and odd sizes
 * (and ROIs), the carried result must be exactly libens's on the original buffer. Interval 2:
 * the first frame after each caps change is inferred, the next one carries its result. */
static void check_async_copy(GstHarness *h, GstBuffer *in, const GstVideoInfo *info,
                             const ens_rect *rois, gint n_rois, guint64 *inferred, guint64 *pts)
{
  ens_class_score ref[10];
  gint n = 5;
  if (n_rois)
    test_ref_topk_batch(ref_model, in, info, rois, n_rois, 5, ref);
  else
    n = test_ref_topk(ref_model, in, info, NULL, 5, ref);
  gst_harness_set_src_caps(h, gst_video_info_to_caps(info));
  guint64 src_index = *pts;
  GstBuffer *out = push_pull(h, gst_buffer_ref(in), (*pts)++ * GST_SECOND);
  gst_buffer_unref(out);
  test_wait_inferred(h->element, ++*inferred);
  out = push_pull(h, gst_buffer_ref(in), (*pts)++ * GST_SECOND);
  fail_unless_equals_int(gst_buffer_get_n_ens_classification_meta(out), MAX(n_rois, 1));
  gpointer state = NULL;
  GstEnsClassificationMeta *m;
  gint r = 0;
  while ((m = gst_buffer_iterate_ens_classification_meta(out, &state))) {
    fail_unless(!m->fresh);
    fail_unless_equals_uint64(m->source_pts, src_index * GST_SECOND);
    if (n_rois) {
      /* ROI metas keep their order: r-th meta = r-th ROI */
      fail_unless(m->x == rois[r].x && m->y == rois[r].y);
      test_assert_meta_equals(m, ref + 5 * r, 5);
    } else {
      test_assert_meta_equals(m, ref, n);
    }
    r++;
  }
  gst_buffer_unref(out);
}

GST_START_TEST(test_precision_bf16)
{
  /* precision=bf16 reaches the engine: results equal a bf16 libens model's, bit for bit */
  ens_options opt;
  ens_options_init(&opt);
  opt.threads = TEST_THREADS;
  opt.input_height = opt.input_width = TEST_INPUT_SIZE;
  opt.precision = ENS_PRECISION_BF16;
  ens_model *bf16 = NULL;
  ens_error err = {0};
  if (ens_model_new_random(TEST_VARIANT, 1000, 0, &opt, &bf16, &err) != ENS_OK) {
    fail_unless(err.code == ENS_ERR_UNSUPPORTED, "bf16 model: %s", err.message);
    g_print("precision=bf16 not checked: %s\n", err.message); /* CPU without AVX512_BF16 */
    return;
  }
  GstVideoInfo info;
  GstBuffer *frame = test_picture_frame(GST_VIDEO_FORMAT_RGB, 80, 60, 1, 0, &info);
  GstHarness *h = new_harness("precision=bf16", &info);
  ens_class_score ref[5], ref32[5];
  gint n = test_ref_topk(bf16, frame, &info, NULL, 5, ref);
  fail_unless_equals_int(test_ref_topk(ref_model, frame, &info, NULL, 5, ref32), 5);
  GstBuffer *out = push_pull(h, gst_buffer_ref(frame), 0);
  test_assert_meta_equals(gst_buffer_get_ens_classification_meta(out), ref, n);
  fail_if(ref[0].prob == ref32[0].prob, "bf16 and f32 gave identical scores: precision ignored?");
  gst_buffer_unref(out);
  gst_buffer_unref(frame);
  gst_harness_teardown(h);
  ens_model_free(bf16);
}
GST_END_TEST;

GST_START_TEST(test_async_copy_matches_engine)
{
  const struct {
    gint w, h, pad;
  } sizes[] = {{96, 64, 0}, {96, 64, 40}, {7, 5, 3}};
  GstVideoInfo info;
  GstBuffer *first = test_picture_frame(GST_VIDEO_FORMAT_RGB, 96, 64, 3, 0, &info);
  GstHarness *h = test_harness_new("ensclassify " TEST_ELEMENT_PROPS
                                   " mode=async inference-interval=2 attach-roi-meta=false");
  guint64 inferred = 0, pts = 0;
  check_async_copy(h, first, &info, NULL, 0, &inferred, &pts);
  gst_buffer_unref(first);
  for (guint s = 0; s < G_N_ELEMENTS(sizes); s++) {
    guint8 *rgb = test_rgb_picture(sizes[s].w, sizes[s].h, 3 + s, 0, 0);
    for (guint i = 0; i < G_N_ELEMENTS(all_formats); i++) {
      GstBuffer *in = test_frame(all_formats[i], sizes[s].w, sizes[s].h, rgb, sizes[s].pad, &info);
      check_async_copy(h, in, &info, NULL, 0, &inferred, &pts);
      gst_buffer_unref(in);
    }
    g_free(rgb);
  }
  gst_harness_teardown(h);

  /* roi-list: the worker crops the ROIs from the copy (I420 with padded strides) */
  h = test_harness_new("ensclassify " TEST_ELEMENT_PROPS
                       " mode=async inference-interval=2 inference-region=roi-list");
  GstBuffer *in = test_picture_frame(GST_VIDEO_FORMAT_I420, 120, 90, 4, 24, &info);
  gst_buffer_add_video_region_of_interest_meta(in, "car", 10, 20, 50, 40);
  gst_buffer_add_video_region_of_interest_meta(in, "dog", 61, 33, 59, 57);
  ens_rect rois[2] = {{10, 20, 50, 40}, {61, 33, 59, 57}};
  inferred = 0;
  check_async_copy(h, in, &info, rois, 2, &inferred, &pts);
  gst_buffer_unref(in);
  gst_harness_teardown(h);
}
GST_END_TEST;

int main(int argc, char **argv)
{
  gst_check_init(&argc, &argv);
  static const TestEntry tests[] = {
      TEST_ENTRY(test_sync_matches_engine),
      TEST_ENTRY(test_formats),
      TEST_ENTRY(test_formats_padded_strides),
      TEST_ENTRY(test_odd_sizes),
      TEST_ENTRY(test_interval),
      TEST_ENTRY(test_topk_threshold_no_roi_meta),
      TEST_ENTRY(test_roi_list),
      TEST_ENTRY(test_roi_carry),
      TEST_ENTRY(test_precision_bf16),
      TEST_ENTRY(test_async_copy_matches_engine),
  };
  return test_run_suite("ensclassify-results", 600, tests, setup, teardown);
}
