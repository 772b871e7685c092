/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_classify_soak.c (suite slow) - four streams (64x48) on one shared model, batched,
 * (two sync, two async) until ENS_SOAK_FRAMES frames in total (default 1,000,000) or
 * ENS_SOAK_SECONDS pass; the process RSS is sampled every ENS_SOAK_SAMPLE_S (default 10) s and,
 * after ENS_SOAK_WARMUP_S (default 60), must stay within 1 MiB of its first post-warm-up sample.
 * The default suite runs a 30-second version (test_classify_soak_short); under AddressSanitizer
 * its quarantine of freed memory grows the RSS by design, so there only errors, the frame flow
 * and LeakSanitizer's exit check judge it. */
#include "gst_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define STREAMS 4
#define MAX_DRIFT (1024 * 1024)

#if defined(__SANITIZE_ADDRESS__)
#define JUDGE_RSS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JUDGE_RSS 0
#endif
#endif
#ifndef JUDGE_RSS
#define JUDGE_RSS 1
#endif

static gint64 rss_bytes(void)
{
  FILE *f = fopen("/proc/self/statm", "r");
  fail_unless(f != NULL);
  long size, resident;
  fail_unless(fscanf(f, "%ld %ld", &size, &resident) == 2);
  fclose(f);
  return (gint64)resident * sysconf(_SC_PAGESIZE);
}

static guint64 env_u64(const gchar *name, guint64 def)
{
  const gchar *v = g_getenv(name);
  return v && *v ? g_ascii_strtoull(v, NULL, 10) : def;
}

GST_START_TEST(test_soak)
{
  guint64 want_frames = env_u64("ENS_SOAK_FRAMES", 1000000);
  guint64 max_s = env_u64("ENS_SOAK_SECONDS", 0);
  guint64 warmup_s = env_u64("ENS_SOAK_WARMUP_S", 60);
  guint64 sample_s = MAX(env_u64("ENS_SOAK_SAMPLE_S", 10), 1);
  GstElement *p[STREAMS], *c[STREAMS];
  for (int s = 0; s < STREAMS; s++) {
    /* streams 0, 2: sync, as fast as inference allows; 1, 3: async behind a live 200 fps
     * source (most of their scheduled frames are replaced). No element messages: nobody reads
     * the bus, which would otherwise grow by one message per inference. */
    gboolean async = s % 2;
    gchar *desc = g_strdup_printf(
        "videotestsrc pattern=%d is-live=%s ! video/x-raw,format=I420,width=64,height=48,"
        "framerate=%s ! ensclassify name=c " TEST_ELEMENT_PROPS " model-instance-id=soak "
        "mode=%s inference-interval=4 post-messages=false batch-size=4 batch-timeout=5 ! "
        "fakesink sync=false",
        s, async ? "true" : "false", async ? "200/1" : "30/1", async ? "async" : "sync");
    p[s] = gst_parse_launch(desc, NULL);
    fail_unless(p[s] != NULL);
    g_free(desc);
    c[s] = gst_bin_get_by_name(GST_BIN(p[s]), "c");
    fail_unless(gst_element_set_state(p[s], GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  }
  gint64 t0 = g_get_monotonic_time();
  gint64 base = -1, lo = G_MAXINT64, hi = 0;
  guint64 frames = 0;
  for (;;) {
    g_usleep(sample_s * G_USEC_PER_SEC);
    gint64 el = (g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
    frames = 0;
    for (int s = 0; s < STREAMS; s++) {
      frames += test_get_u64(c[s], "frames-seen");
      GstMessage *err = gst_bus_pop_filtered(GST_ELEMENT_BUS(p[s]), GST_MESSAGE_ERROR);
      fail_unless(err == NULL, "stream %d: error", s);
    }
    gint64 rss = rss_bytes();
    if ((guint64)el >= warmup_s) {
      if (base < 0)
        base = rss;
      lo = MIN(lo, rss);
      hi = MAX(hi, rss);
    }
    g_print("soak: %4" G_GINT64_FORMAT " s  %10" G_GUINT64_FORMAT " frames  rss %.2f MiB%s\n", el,
            frames, (double)rss / 1048576.0, base < 0 ? " (warm-up)" : "");
    if (frames >= want_frames || (max_s && (guint64)el >= max_s))
      break;
  }
  guint64 inferred = 0;
  for (int s = 0; s < STREAMS; s++) {
    guint64 n = test_get_u64(c[s], "frames-inferred");
    fail_unless(n > 0, "stream %d: no frame inferred", s);
    inferred += n;
  }
  gdouble mean_batch;
  g_object_get(c[0], "shared-mean-batch", &mean_batch, NULL);
  g_print("soak: %" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT
          " inferred, mean batch %.2f, rss after warm-up %.2f .. %.2f MiB (first %.2f)\n",
          frames, inferred, mean_batch, (double)lo / 1048576.0, (double)hi / 1048576.0,
          (double)base / 1048576.0);
  fail_unless(base >= 0, "the run ended before the warm-up did: no RSS samples to judge");
  if (JUDGE_RSS)
    fail_unless(hi - base <= MAX_DRIFT && base - lo <= MAX_DRIFT,
                "RSS drifted by more than 1 MiB after warm-up");
  else
    g_print("soak: RSS not judged under AddressSanitizer (its quarantine grows it by design)\n");
  for (int s = 0; s < STREAMS; s++) {
    gst_object_unref(c[s]);
    fail_unless_equals_int(gst_element_set_state(p[s], GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    gst_object_unref(p[s]);
  }
}
GST_END_TEST;

int main(int argc, char **argv)
{
  gst_check_init(&argc, &argv);
  static const TestEntry tests[] = {TEST_ENTRY(test_soak)};
  return test_run_suite("ensclassify-soak", 0, tests, NULL, NULL);
}
