/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_meta.c - GstEnsClassificationMeta: add / get / iterate, deep copy on buffer copy, and
 * region scaling through the video scale transform (as videoscale applies it). */
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

#include "gstensmeta.h"

static GstEnsClassificationMeta *add(GstBuffer *b, gint x, gint y, gint w, gint h, gint roi_id)
{
  GstEnsClassEntry e[2] = {{7, (gchar *)"cat \"tabby\"", 0.75f}, {3, (gchar *)"dog", 0.125f}};
  GstEnsClassificationMeta *m = gst_buffer_add_ens_classification_meta(b, "model-x", e, 2);
  m->source_pts = 42 * GST_MSECOND;
  m->source_frame = 9;
  m->fresh = TRUE;
  m->full_frame = roi_id < 0;
  m->roi_id = roi_id;
  m->x = x;
  m->y = y;
  m->width = w;
  m->height = h;
  return m;
}

static void check_entries(const GstEnsClassificationMeta *m)
{
  fail_unless_equals_int(m->n_entries, 2);
  fail_unless_equals_int(m->entries[0].class_id, 7);
  fail_unless_equals_string(m->entries[0].label, "cat \"tabby\"");
  fail_unless_equals_float(m->entries[0].score, 0.75f);
  fail_unless_equals_int(m->entries[1].class_id, 3);
  fail_unless_equals_string(m->model_name, "model-x");
  fail_unless_equals_uint64(m->source_pts, 42 * GST_MSECOND);
  fail_unless_equals_uint64(m->source_frame, 9);
  fail_unless(m->fresh);
}

GST_START_TEST(test_add_get_iterate_copy)
{
  GstBuffer *b = gst_buffer_new_allocate(NULL, 16, NULL);
  fail_unless(gst_buffer_get_ens_classification_meta(b) == NULL);
  add(b, 0, 0, 640, 480, -1);
  add(b, 10, 20, 30, 40, 5);
  fail_unless_equals_int(gst_buffer_get_n_ens_classification_meta(b), 2);
  GstEnsClassificationMeta *first = gst_buffer_get_ens_classification_meta(b);
  fail_unless(first->full_frame);
  check_entries(first);

  GstBuffer *c = gst_buffer_copy(b);
  gst_buffer_unref(b); /* the copy must own its strings */
  gpointer state = NULL;
  GstEnsClassificationMeta *m;
  guint n = 0;
  while ((m = gst_buffer_iterate_ens_classification_meta(c, &state))) {
    check_entries(m);
    if (n == 1) {
      fail_unless(!m->full_frame);
      fail_unless_equals_int(m->roi_id, 5);
      fail_unless(m->x == 10 && m->y == 20 && m->width == 30 && m->height == 40);
    }
    n++;
  }
  fail_unless_equals_int(n, 2);
  gst_buffer_unref(c);
}
GST_END_TEST;

GST_START_TEST(test_scale_transform)
{
  GstBuffer *src = gst_buffer_new_allocate(NULL, 16, NULL);
  GstBuffer *dst = gst_buffer_new_allocate(NULL, 16, NULL);
  GstEnsClassificationMeta *m = add(src, 100, 50, 200, 100, 3);
  GstVideoInfo in, out;
  gst_video_info_set_format(&in, GST_VIDEO_FORMAT_RGB, 640, 480);
  gst_video_info_set_format(&out, GST_VIDEO_FORMAT_RGB, 320, 120);
  GstVideoMetaTransform t = {&in, &out};
  const GstMetaInfo *info = m->meta.info;
  fail_unless(
      info->transform_func(dst, &m->meta, src, gst_video_meta_transform_scale_get_quark(), &t));
  GstEnsClassificationMeta *d = gst_buffer_get_ens_classification_meta(dst);
  fail_unless(d != NULL);
  check_entries(d);
  fail_unless_equals_int(d->x, 50);
  fail_unless_equals_int(d->y, 12);
  fail_unless_equals_int(d->width, 100);
  fail_unless_equals_int(d->height, 25);

  /* an unknown transform is refused (the meta is dropped, not left wrong) */
  GstBuffer *dst2 = gst_buffer_new_allocate(NULL, 16, NULL);
  fail_if(
      info->transform_func(dst2, &m->meta, src, g_quark_from_static_string("gst-rotate"), NULL));
  fail_unless(gst_buffer_get_ens_classification_meta(dst2) == NULL);
  gst_buffer_unref(dst2);
  gst_buffer_unref(dst);
  gst_buffer_unref(src);
}
GST_END_TEST;

GST_START_TEST(test_api_tags)
{
  GType api = GST_ENS_CLASSIFICATION_META_API_TYPE;
  fail_unless(gst_meta_api_type_has_tag(api, g_quark_from_string(GST_META_TAG_VIDEO_STR)));
  fail_unless(gst_meta_api_type_has_tag(api, g_quark_from_string(GST_META_TAG_VIDEO_SIZE_STR)));
}
GST_END_TEST;

/* The optional full distribution: absent by default, copied (not shared) with the buffer. */
GST_START_TEST(test_probs_copy)
{
  GstBuffer *b = gst_buffer_new_allocate(NULL, 16, NULL);
  add(b, 0, 0, 64, 48, -1);
  GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(b);
  fail_unless(m->n_probs == 0 && m->probs == NULL);
  const gfloat p[4] = {0.1f, 0.2f, 0.3f, 0.4f};
  gst_ens_classification_meta_set_probs(m, p, 4);
  GstBuffer *c = gst_buffer_copy(b);
  gst_buffer_unref(b);
  GstEnsClassificationMeta *mc = gst_buffer_get_ens_classification_meta(c);
  fail_unless(mc->n_probs == 4 && mc->probs != p && memcmp(mc->probs, p, sizeof p) == 0);
  gst_ens_classification_meta_set_probs(mc, NULL, 0);
  fail_unless(mc->n_probs == 0 && mc->probs == NULL);
  gst_buffer_unref(c);
}
GST_END_TEST;

static Suite *ens_suite(void)
{
  Suite *s = suite_create("ensmeta");
  TCase *tc = tcase_create("meta");
  tcase_add_test(tc, test_add_get_iterate_copy);
  tcase_add_test(tc, test_scale_transform);
  tcase_add_test(tc, test_api_tags);
  tcase_add_test(tc, test_probs_copy);
  suite_add_tcase(s, tc);
  return s;
}

GST_CHECK_MAIN(ens);
