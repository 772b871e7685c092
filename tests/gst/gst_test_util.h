/* gst_test_util.h - helpers for the ensclassify / ensjson GstHarness tests: synthetic
 * pictures in any caps format (optionally with padded strides), and the libens reference
 * result of a frame, computed in the test exactly as the element should. */
#ifndef GST_TEST_UTIL_H
#define GST_TEST_UTIL_H

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include "ens.h"
#include "gstensmeta.h"

/* Model every test uses: small input so forwards are fast under ASan. */
#define TEST_VARIANT "b0"
#define TEST_MODEL "random:" TEST_VARIANT
#define TEST_INPUT_SIZE 64
#define TEST_THREADS 1
#define TEST_ELEMENT_PROPS "model=" TEST_MODEL " input-size=64 threads=1"

/* A deterministic tightly packed RGB picture: smooth colour gradients plus a few shapes;
 * noise > 0 adds uniform noise in [-noise, noise] seeded by noise_seed. Caller g_free()s. */
guint8 *test_rgb_picture(gint width, gint height, guint pattern, gint noise, guint32 noise_seed);

/* A buffer of format, holding rgb converted with GstVideoConverter. pad > 0 adds pad bytes to
 * every plane's stride (with a GstVideoMeta describing the layout). *info_out receives the
 * caps-level info (no padding) when not NULL. */
GstBuffer *test_frame(GstVideoFormat format, gint width, gint height, const guint8 *rgb, gint pad,
                      GstVideoInfo *info_out);

/* The reference model (same options as TEST_ELEMENT_PROPS). */
ens_model *test_ref_model(void);

/* Reference top-k of buffer (described by info) restricted to roi (NULL = full frame),
 * computed directly with libens. Returns the count. */
gint test_ref_topk(ens_model *m, GstBuffer *buf, const GstVideoInfo *info, const ens_rect *roi,
                   gint k, ens_class_score *out);

/* Same for n ROIs run as one batch (as ensclassify does in roi-list mode): out[r * k + i]. */
void test_ref_topk_batch(ens_model *m, GstBuffer *buf, const GstVideoInfo *info,
                         const ens_rect *rois, gint n, gint k, ens_class_score *out);

/* A harness around one element made from a gst-launch description (so h->element is the
 * element itself, not a bin). */
GstHarness *test_harness_new(const gchar *desc);

/* Asserts that the meta's entries are exactly the reference's (ids, labels and scores). */
void test_assert_meta_equals(const GstEnsClassificationMeta *meta, const ens_class_score *ref,
                             gint n);

#endif
