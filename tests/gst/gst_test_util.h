/* SPDX-License-Identifier: LGPL-2.1-or-later */
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

/* test_rgb_picture(width, height, pattern) converted to format (pad as in test_frame). */
GstBuffer *test_picture_frame(GstVideoFormat format, gint width, gint height, guint pattern,
                              gint pad, GstVideoInfo *info_out);

/* Frame i of a 25 fps test sequence: picture pattern i with PTS i * 40 ms. */
GstBuffer *test_seq_frame(GstVideoFormat format, gint width, gint height, guint i,
                          GstVideoInfo *info_out);

/* A harness around "ensclassify TEST_ELEMENT_PROPS mode=<mode> <extra>" with info's caps. */
GstHarness *test_classify_harness(const gchar *mode, const gchar *extra, const GstVideoInfo *info);

/* A guint64 property of e. */
guint64 test_get_u64(GstElement *e, const gchar *name);

/* Waits (up to 120 s) until e's frames-inferred reaches n, failing if it never does; returns its
 * value then. */
guint64 test_wait_inferred(GstElement *e, guint64 n);

/* Gives e a private bus (so its messages can be popped without a pipeline); returns it. */
GstBus *test_element_bus(GstElement *e);

/* Detaches and unrefs the bus from test_element_bus. */
void test_element_bus_clear(GstElement *e, GstBus *bus);

/* Pops the next ERROR message from bus, failing (naming what) if there is none. Returns its
 * GError (g_error_free) and, if src_out is not NULL, the object that posted it (unowned). */
GError *test_pop_error(GstBus *bus, const gchar *what, GstObject **src_out);

/* One test function and its name, for test_run_suite. */
typedef struct {
  TFun fn;
  const char *name;
} TestEntry;
#define TEST_ENTRY(fn)                                                                             \
  {                                                                                                \
    fn, #fn                                                                                        \
  }

/* Runs the TestEntry array tests as suite name (one test case, timeout in seconds, setup /
 * teardown as a checked fixture when not NULL). Call after gst_check_init; returns main's exit
 * code. */
#define test_run_suite(name, timeout, tests, setup, teardown)                                      \
  test_run_suite_full(name, timeout, tests, G_N_ELEMENTS(tests), setup, teardown, __FILE__)
int test_run_suite_full(const gchar *name, gint timeout, const TestEntry *tests, gsize n,
                        SFun setup, SFun teardown, const gchar *file);

#endif
