/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_classify_churn.c - pipelines sharing one model-instance-id are created, put through
 * random state changes and destroyed (ENS_CHURN_OPS operations, default 1000, seeded) while an
 * anchor pipeline on the same id keeps running: no deadlock (the check timeout), no error on
 * the anchor, no leak (ASan), and once everything is gone the shared model is freed. */
#include "gst_test_util.h"

#include <stdlib.h>

#define SLOTS 4
#define ID "churn"

static const GstState states[] = {GST_STATE_NULL, GST_STATE_READY, GST_STATE_PAUSED,
                                  GST_STATE_PLAYING};

static GstElement *new_pipeline(GRand *rnd)
{
  gboolean live = g_rand_boolean(rnd);
  gchar *desc = g_strdup_printf(
      "videotestsrc is-live=%s pattern=%d ! video/x-raw,format=%s,width=64,height=48,"
      "framerate=30/1 ! ensclassify name=c " TEST_ELEMENT_PROPS " model-instance-id=" ID
      " mode=%s inference-interval=%d batch-size=3 batch-timeout=5 ! fakesink sync=%s",
      live ? "true" : "false", g_rand_int_range(rnd, 0, 20), g_rand_boolean(rnd) ? "I420" : "RGB",
      g_rand_boolean(rnd) ? "async" : "sync", g_rand_int_range(rnd, 1, 4), live ? "true" : "false");
  GError *error = NULL;
  GstElement *p = gst_parse_launch(desc, &error);
  fail_unless(p != NULL, "%s: %s", desc, error ? error->message : "");
  g_free(desc);
  return p;
}

static void destroy(GstElement *p)
{
  fail_unless_equals_int(gst_element_set_state(p, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gst_object_unref(p);
}

static guint64 loads_total(void)
{
  GstElement *e = gst_element_factory_make("ensclassify", NULL);
  guint64 n = test_get_u64(e, "shared-loads");
  gst_object_unref(e);
  return n;
}

GST_START_TEST(test_churn)
{
  const gchar *ops_env = g_getenv("ENS_CHURN_OPS");
  guint ops = ops_env && *ops_env ? (guint)strtoul(ops_env, NULL, 10) : 1000;
  GRand *rnd = g_rand_new_with_seed(14);
  guint64 loads0 = loads_total();

  GstElement *anchor = gst_parse_launch(
      "videotestsrc is-live=true ! video/x-raw,width=64,height=48,framerate=30/1 ! "
      "ensclassify name=c " TEST_ELEMENT_PROPS " model-instance-id=" ID " mode=async "
      "batch-size=3 batch-timeout=5 ! fakesink sync=true",
      NULL);
  fail_unless(anchor != NULL);
  fail_unless(gst_element_set_state(anchor, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  GstBus *anchor_bus = gst_element_get_bus(anchor);

  GstElement *slot[SLOTS] = {0};
  guint created = 0, changes = 0, lone = 0;
  for (guint op = 0; op < ops; op++) {
    guint s = (guint)g_rand_int_range(rnd, 0, SLOTS);
    gint what = g_rand_int_range(rnd, 0, 10);
    if (what == 1) {
      /* a lone element joins the engine (READY->PAUSED) and leaves again */
      GstElement *e = gst_element_factory_make("ensclassify", NULL);
      g_object_set(e, "model", TEST_MODEL, "input-size", "64", "threads", TEST_THREADS,
                   "model-instance-id", ID, NULL);
      fail_if(gst_element_set_state(e, GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE);
      destroy(e);
      lone++;
    } else if (!slot[s]) {
      slot[s] = new_pipeline(rnd);
      created++;
    } else if (what == 0) {
      destroy(slot[s]);
      slot[s] = NULL;
    } else {
      GstState to = states[g_rand_int_range(rnd, 0, 4)];
      GstStateChangeReturn r = gst_element_set_state(slot[s], to);
      fail_if(r == GST_STATE_CHANGE_FAILURE, "op %u: slot %u to %s failed", op, s,
              gst_element_state_get_name(to));
      changes++;
    }
    if (g_rand_int_range(rnd, 0, 4) == 0)
      g_usleep((gulong)g_rand_int_range(rnd, 0, 30000));
  }
  GstMessage *err = gst_bus_pop_filtered(anchor_bus, GST_MESSAGE_ERROR);
  fail_unless(err == NULL, "the anchor pipeline posted an error");
  GstElement *c = gst_bin_get_by_name(GST_BIN(anchor), "c");
  guint64 inferred = test_get_u64(c, "frames-inferred");
  g_print("churn: %u ops (%u pipelines created, %u state changes, %u lone elements), anchor "
          "inferred %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT " loads\n",
          ops, created, changes, lone, inferred, loads_total() - loads0);
  fail_unless(inferred > 0);
  gst_object_unref(c);

  for (guint s = 0; s < SLOTS; s++)
    if (slot[s])
      destroy(slot[s]);
  gst_object_unref(anchor_bus);
  destroy(anchor);
  /* everything gone: the engine was freed, so a new element with the id loads again */
  guint64 loads1 = loads_total();
  GstElement *e = gst_element_factory_make("ensclassify", NULL);
  g_object_set(e, "model", TEST_MODEL, "input-size", "64", "threads", TEST_THREADS,
               "model-instance-id", ID, NULL);
  fail_unless(gst_element_set_state(e, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_uint64(loads_total(), loads1 + 1);
  destroy(e);
  g_rand_free(rnd);
}
GST_END_TEST;

int main(int argc, char **argv)
{
  gst_check_init(&argc, &argv);
  static const TestEntry tests[] = {TEST_ENTRY(test_churn)};
  return test_run_suite("ensclassify-churn", 600, tests, NULL, NULL);
}
