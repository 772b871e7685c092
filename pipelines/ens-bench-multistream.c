/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ens-bench-multistream.c - N live streams into ensclassify in one process, shared or not.
 *
 * One pipeline holding N chains  videotestsrc is-live=true ! WxH@FPS ! ensclassify (async)
 * ! fakesink sync=true, either each element with a model of its own or all with one
 * model-instance-id (one model, one pool, cross-stream batches of --batch-size frames). After
 * --warmup seconds it counts, per frame reaching a sink: lateness at the sink (clock time at
 * render minus the frame's due time; "late" = beyond --late-ms), result age (frames between
 * the frame and the source frame of the result it carries; "stale" = older than one inference,
 * i.e. >= 2 x inference-interval), and per new result its latency (frame entering ensclassify
 * -> its result on a buffer leaving it). Prints one line for scripts:
 *   RESULT streams=N shared=0|1 interval=K fps=... ontime=... fresh=... p50_ms=... p90_ms=...
 *          rss_mib=... results_per_s=... sustained=0|1
 * sustained = every stream got >= 97% of its frames, >= 99% on time and >= 99% not stale.
 */
#include <gst/base/gstbasesink.h>
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_latency.h"
#include "gstensmeta.h"

#define MAX_STREAMS 32
#define RING 4096 /* entry times by frame index modulo RING */

typedef struct Bench Bench;

typedef struct {
  Bench *b;
  GstElement *sink;
  gint64 t_in[RING];
  guint64 in_frames;   /* frames entered ensclassify */
  guint64 last_source; /* source_frame + 1 of the last new result seen leaving */
  guint64 out_frames;  /* frames leaving ensclassify (counted after warm-up) */
  guint64 sunk, late, stale;
} Stream;

struct Bench {
  GMutex lock;
  gint64 start_us, warmup_us, end_us;
  guint interval;
  gint late_ns;
  GArray *latency_us;
  GMainLoop *loop;
  gboolean failed;
  GstElement *pipeline;
};

static gboolean counting(Bench *b, gint64 now)
{
  return b->start_us && now - b->start_us >= b->warmup_us;
}

static GstPadProbeReturn on_in(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  (void)pad;
  (void)info;
  Stream *s = data;
  gint64 now = g_get_monotonic_time();
  g_mutex_lock(&s->b->lock);
  if (!s->b->start_us)
    s->b->start_us = now;
  s->t_in[s->in_frames++ % RING] = now;
  g_mutex_unlock(&s->b->lock);
  return GST_PAD_PROBE_OK;
}

/* Leaving ensclassify: result age and, for a new result, its latency. */
static GstPadProbeReturn on_out(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  (void)pad;
  Stream *s = data;
  Bench *b = s->b;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
  GstEnsClassificationMeta *m = gst_buffer_get_ens_classification_meta(buf);
  gint64 now = g_get_monotonic_time();
  g_mutex_lock(&b->lock);
  guint64 frame = GST_BUFFER_OFFSET(buf); /* videotestsrc numbers its frames */
  if (counting(b, now)) {
    s->out_frames++;
    if (!m || frame - m->source_frame >= 2 * (guint64)b->interval)
      s->stale++;
  }
  if (m && m->source_frame + 1 != s->last_source) {
    s->last_source = m->source_frame + 1;
    if (counting(b, now) && s->in_frames - m->source_frame <= RING) {
      gint64 lat = now - s->t_in[m->source_frame % RING];
      g_array_append_val(b->latency_us, lat);
    }
  }
  if (now - b->start_us >= b->end_us)
    g_main_loop_quit(b->loop);
  g_mutex_unlock(&b->lock);
  return GST_PAD_PROBE_OK;
}

/* fakesink's handoff runs after the clock wait: how late is the frame rendered? */
static void on_handoff(GstElement *sink, GstBuffer *buf, GstPad *pad, gpointer data)
{
  (void)pad;
  Stream *s = data;
  GstClock *clock = gst_element_get_clock(sink);
  if (!clock)
    return;
  GstClockTime now = gst_clock_get_time(clock) - gst_element_get_base_time(sink);
  gst_object_unref(clock);
  GstSegment *seg = &GST_BASE_SINK(sink)->segment;
  /* due: running time plus the pipeline latency the sink waits for */
  GstClockTime due = gst_segment_to_running_time(seg, GST_FORMAT_TIME, GST_BUFFER_PTS(buf)) +
                     gst_base_sink_get_latency(GST_BASE_SINK(sink));
  g_mutex_lock(&s->b->lock);
  if (counting(s->b, g_get_monotonic_time())) {
    s->sunk++;
    if (GST_CLOCK_TIME_IS_VALID(due) && (gint64)(now - due) > s->b->late_ns)
      s->late++;
  }
  g_mutex_unlock(&s->b->lock);
}

static gboolean on_message(GstBus *bus, GstMessage *msg, gpointer data)
{
  (void)bus;
  Bench *b = data;
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gst_message_parse_error(msg, &err, NULL);
    fprintf(stderr, "ens-bench-multistream: error from %s: %s\n", GST_OBJECT_NAME(msg->src),
            err->message);
    g_clear_error(&err);
    b->failed = TRUE;
    g_main_loop_quit(b->loop);
  }
  return G_SOURCE_CONTINUE;
}

static double rss_mib(void)
{
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, resident = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &size, &resident) != 2)
      resident = 0;
    fclose(f);
  }
  return (double)resident * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

int main(int argc, char **argv)
{
  gint streams = 2, seconds = 10, warmup = 3, width = 1280, height = 720, fps = 30;
  gint interval = 1, shared = 0, batch = 0, timeout_ms = -1, late_ms = 40, threads = 0;
  gchar *model = NULL;
  GOptionEntry entries[] = {
      {"streams", 0, 0, G_OPTION_ARG_INT, &streams, "Live streams (default 2)", "N"},
      {"shared", 0, 0, G_OPTION_ARG_INT, &shared, "1: one model-instance-id (default 0)", "0|1"},
      {"batch-size", 0, 0, G_OPTION_ARG_INT, &batch, "Shared: batch-size (default N)", "B"},
      {"batch-timeout", 0, 0, G_OPTION_ARG_INT, &timeout_ms,
       "Shared: batch-timeout ms (default: the element's)", "MS"},
      {"interval", 0, 0, G_OPTION_ARG_INT, &interval, "inference-interval (default 1)", "K"},
      {"threads", 0, 0, G_OPTION_ARG_INT, &threads, "ensclassify threads (0: online CPUs)", "T"},
      {"seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "Measured seconds (default 10)", "S"},
      {"warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "Seconds left out (default 3)", "S"},
      {"late-ms", 0, 0, G_OPTION_ARG_INT, &late_ms, "Late beyond this at the sink (40)", "MS"},
      {"model", 0, 0, G_OPTION_ARG_STRING, &model, "Model (default random:b0)", "MODEL"},
      {"width", 0, 0, G_OPTION_ARG_INT, &width, "Frame width (default 1280)", "W"},
      {"height", 0, 0, G_OPTION_ARG_INT, &height, "Frame height (default 720)", "H"},
      {"fps", 0, 0, G_OPTION_ARG_INT, &fps, "Frame rate (default 30)", "N"},
      {NULL, 0, 0, 0, NULL, NULL, NULL},
  };
  GOptionContext *ctx = g_option_context_new("- N live streams into ensclassify");
  GError *error = NULL;
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_option_context_add_group(ctx, gst_init_get_option_group());
  if (!g_option_context_parse(ctx, &argc, &argv, &error) || streams < 1 || streams > MAX_STREAMS ||
      interval < 1) {
    fprintf(stderr, "ens-bench-multistream: %s\n", error ? error->message : "bad arguments");
    return 2;
  }
  g_option_context_free(ctx);
  gst_ens_classification_meta_get_info(); /* registers the meta API for the probes */
  if (batch < 1)
    batch = MIN(streams, 8);

  /* cheap patterns only: snow or zone plates at 720p would cost the source more than ens */
  static const char *patterns[] = {"smpte", "ball", "smpte75", "checkers-8", "bar", "colors"};
  GString *desc = g_string_new(NULL);
  for (gint i = 0; i < streams; i++) {
    g_string_append_printf(desc,
                           "videotestsrc is-live=true pattern=%s ! video/x-raw,format=I420,"
                           "width=%d,height=%d,framerate=%d/1 ! ensclassify name=c%d model=%s "
                           "inference-interval=%d threads=%d post-messages=false",
                           patterns[i % G_N_ELEMENTS(patterns)], width, height, fps, i,
                           model ? model : "random:b0", interval, threads);
    if (shared) {
      g_string_append_printf(desc, " model-instance-id=bench batch-size=%d", batch);
      if (timeout_ms >= 0)
        g_string_append_printf(desc, " batch-timeout=%d", timeout_ms);
    }
    g_string_append_printf(desc, " ! fakesink name=s%d sync=true signal-handoffs=true ", i);
  }
  Bench b = {.warmup_us = (gint64)warmup * G_USEC_PER_SEC,
             .end_us = (gint64)(warmup + seconds) * G_USEC_PER_SEC,
             .interval = (guint)interval,
             .late_ns = late_ms * 1000000};
  g_mutex_init(&b.lock);
  b.latency_us = g_array_new(FALSE, FALSE, sizeof(gint64));
  b.pipeline = gst_parse_launch(desc->str, &error);
  if (!b.pipeline) {
    fprintf(stderr, "ens-bench-multistream: %s\n", error->message);
    return 2;
  }
  g_string_free(desc, TRUE);
  Stream *st = g_new0(Stream, streams);
  for (gint i = 0; i < streams; i++) {
    gchar name[16];
    st[i].b = &b;
    g_snprintf(name, sizeof name, "c%d", i);
    GstElement *c = gst_bin_get_by_name(GST_BIN(b.pipeline), name);
    GstPad *sp = gst_element_get_static_pad(c, "sink"), *op = gst_element_get_static_pad(c, "src");
    gst_pad_add_probe(sp, GST_PAD_PROBE_TYPE_BUFFER, on_in, &st[i], NULL);
    gst_pad_add_probe(op, GST_PAD_PROBE_TYPE_BUFFER, on_out, &st[i], NULL);
    gst_object_unref(sp);
    gst_object_unref(op);
    gst_object_unref(c);
    g_snprintf(name, sizeof name, "s%d", i);
    st[i].sink = gst_bin_get_by_name(GST_BIN(b.pipeline), name);
    g_signal_connect(st[i].sink, "handoff", G_CALLBACK(on_handoff), &st[i]);
  }
  b.loop = g_main_loop_new(NULL, FALSE);
  GstBus *bus = gst_element_get_bus(b.pipeline);
  gst_bus_add_watch(bus, on_message, &b);
  gst_element_set_state(b.pipeline, GST_STATE_PLAYING);
  g_main_loop_run(b.loop);
  double rss = rss_mib();

  GstElement *c0 = gst_bin_get_by_name(GST_BIN(b.pipeline), "c0");
  gdouble mean_batch = 0;
  if (shared)
    g_object_get(c0, "shared-mean-batch", &mean_batch, NULL);
  gst_object_unref(c0);
  g_mutex_lock(&b.lock);
  guint64 sunk = 0, late = 0, out = 0, stale = 0;
  double min_fps = 1e9;
  for (gint i = 0; i < streams; i++) {
    sunk += st[i].sunk;
    late += st[i].late;
    out += st[i].out_frames;
    stale += st[i].stale;
    min_fps = MIN(min_fps, (double)st[i].sunk / seconds);
  }
  guint64 results = b.latency_us->len;
  bench_latency_sort(b.latency_us);
  double ontime = sunk ? 1.0 - (double)late / (double)sunk : 0;
  double fresh = out ? 1.0 - (double)stale / (double)out : 0;
  gboolean ok = !b.failed && min_fps >= 0.97 * fps && ontime >= 0.99 && fresh >= 0.99;
  printf("RESULT streams=%d shared=%d interval=%d fps_total=%.1f fps_min=%.1f ontime=%.4f "
         "fresh=%.4f results_per_s=%.1f p50_ms=%.1f p90_ms=%.1f rss_mib=%.1f mean_batch=%.2f "
         "sustained=%d\n",
         streams, shared, interval, (double)sunk / seconds, min_fps, ontime, fresh,
         (double)results / seconds, bench_latency_quantile_ms(b.latency_us, 0.5),
         bench_latency_quantile_ms(b.latency_us, 0.9), rss, mean_batch, ok);
  g_mutex_unlock(&b.lock);
  gst_element_set_state(b.pipeline, GST_STATE_NULL);
  for (gint i = 0; i < streams; i++)
    gst_object_unref(st[i].sink);
  gst_bus_remove_watch(bus);
  gst_object_unref(bus);
  gst_object_unref(b.pipeline);
  g_main_loop_unref(b.loop);
  g_array_free(b.latency_us, TRUE);
  g_free(st);
  g_free(model);
  return b.failed ? 1 : 0;
}
