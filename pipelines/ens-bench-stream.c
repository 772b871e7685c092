/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ens-bench-stream.c - streaming latency benchmark of ensclassify.
 *
 * Runs  videotestsrc is-live=true ! WxH@FPS ! ensclassify ! fakesink sync=true  for a while
 * and measures, with buffer probes on ensclassify's pads, the time each frame spends inside
 * the element in the streaming thread (sink pad in -> src pad out: the latency ensclassify
 * adds to the stream), the frame rate achieved at the sink, and how many new results were
 * published per second (results with a new source frame). The first --warmup seconds are left
 * out.
 *
 * Usage: ens-bench-stream [--mode async|sync|auto] [--seconds 10] [--warmup 2]
 *                         [--model random:b0] [--width 1280] [--height 720] [--fps 30]
 *                         [--threads 2] [--interval 1] [--format I420]
 * Prints a summary and one line "RESULT mode=... fps=... median_ms=... p90_ms=..." (and max)
 * for scripts. Exit 1 on a pipeline error.
 */
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_latency.h"
#include "gstensmeta.h"

typedef struct {
  GMutex lock;
  GHashTable *t_in; /* PTS -> monotonic time (µs) the buffer entered ensclassify */
  gint64 start_us, warmup_us, end_us;
  GArray *latency_us; /* per frame, after warm-up */
  guint64 frames_out, fresh_out, frames_total;
  guint64 last_source_frame; /* source_frame of the last new result + 1 (0 = none yet) */
  gint64 first_counted_us, last_counted_us;
  GMainLoop *loop;
  gboolean failed;
} Bench;

static GstPadProbeReturn on_sink(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  (void)pad;
  Bench *b = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
  gint64 now = g_get_monotonic_time();
  g_mutex_lock(&b->lock);
  if (b->start_us == 0)
    b->start_us = now;
  g_hash_table_insert(b->t_in, GSIZE_TO_POINTER((gsize)GST_BUFFER_PTS(buf)),
                      (gpointer)(gintptr)now);
  g_mutex_unlock(&b->lock);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn on_src(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  (void)pad;
  Bench *b = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
  gint64 now = g_get_monotonic_time();
  gpointer key = GSIZE_TO_POINTER((gsize)GST_BUFFER_PTS(buf)), t;
  GstEnsClassificationMeta *meta = gst_buffer_get_ens_classification_meta(buf);

  g_mutex_lock(&b->lock);
  b->frames_total++;
  if (g_hash_table_lookup_extended(b->t_in, key, NULL, &t)) {
    g_hash_table_remove(b->t_in, key);
    if (now - b->start_us >= b->warmup_us) {
      gint64 lat = now - (gint64)(gintptr)t;
      g_array_append_val(b->latency_us, lat);
      if (b->frames_out == 0)
        b->first_counted_us = now;
      b->last_counted_us = now;
      b->frames_out++;
      /* A new result is one computed on a frame after the previous result's (async results
       * land on later frames with fresh=FALSE, so count by source frame). */
      if (meta != NULL && meta->n_entries > 0 && meta->source_frame + 1 != b->last_source_frame) {
        b->fresh_out++;
        b->last_source_frame = meta->source_frame + 1;
      }
    }
  }
  if (now - b->start_us >= b->end_us && b->start_us != 0)
    g_main_loop_quit(b->loop);
  g_mutex_unlock(&b->lock);
  return GST_PAD_PROBE_OK;
}

static gboolean on_message(GstBus *bus, GstMessage *msg, gpointer data)
{
  (void)bus;
  Bench *b = data;
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gchar *dbg = NULL;
    gst_message_parse_error(msg, &err, &dbg);
    fprintf(stderr, "ens-bench-stream: error from %s: %s\n%s\n", GST_OBJECT_NAME(msg->src),
            err->message, dbg ? dbg : "");
    g_clear_error(&err);
    g_free(dbg);
    b->failed = TRUE;
    g_main_loop_quit(b->loop);
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
    g_main_loop_quit(b->loop);
  }
  return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
  gchar *mode = NULL, *model = NULL, *format = NULL;
  gint seconds = 10, warmup = 2, width = 1280, height = 720, fps = 30, threads = 2, interval = 1;
  GOptionEntry entries[] = {
      {"mode", 0, 0, G_OPTION_ARG_STRING, &mode, "ensclassify mode (default async)", "MODE"},
      {"seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "Measured seconds (default 10)", "S"},
      {"warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "Seconds left out at the start (default 2)", "S"},
      {"model", 0, 0, G_OPTION_ARG_STRING, &model, "Model (default random:b0)", "MODEL"},
      {"width", 0, 0, G_OPTION_ARG_INT, &width, "Frame width (default 1280)", "W"},
      {"height", 0, 0, G_OPTION_ARG_INT, &height, "Frame height (default 720)", "H"},
      {"fps", 0, 0, G_OPTION_ARG_INT, &fps, "Frame rate (default 30)", "N"},
      {"threads", 0, 0, G_OPTION_ARG_INT, &threads, "Inference threads (default 2)", "N"},
      {"interval", 0, 0, G_OPTION_ARG_INT, &interval, "inference-interval (default 1)", "N"},
      {"format", 0, 0, G_OPTION_ARG_STRING, &format, "Video format (default I420)", "FMT"},
      {NULL, 0, 0, 0, NULL, NULL, NULL},
  };
  GOptionContext *ctx = g_option_context_new("- ensclassify streaming latency benchmark");
  GError *error = NULL;
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_option_context_add_group(ctx, gst_init_get_option_group());
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "ens-bench-stream: %s\n", error->message);
    return 2;
  }
  g_option_context_free(ctx);
  if (seconds < 1 || warmup < 0 || width < 16 || height < 16 || fps < 1 || interval < 1) {
    fprintf(stderr, "ens-bench-stream: bad option value\n");
    return 2;
  }

  gchar *launch = g_strdup_printf(
      "videotestsrc is-live=true pattern=ball ! video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=%d/1 ! ensclassify name=c model=\"%s\" mode=%s threads=%d "
      "inference-interval=%d ! fakesink name=sink sync=true",
      format ? format : "I420", width, height, fps, model ? model : "random:b0",
      mode ? mode : "async", threads, interval);
  GstElement *pipe = gst_parse_launch(launch, &error);
  if (pipe == NULL) {
    fprintf(stderr, "ens-bench-stream: %s\n(pipeline: %s)\n", error->message, launch);
    return 1;
  }

  Bench b = {0};
  g_mutex_init(&b.lock);
  b.t_in = g_hash_table_new(NULL, NULL);
  b.latency_us = g_array_new(FALSE, FALSE, sizeof(gint64));
  b.warmup_us = (gint64)warmup * G_USEC_PER_SEC;
  b.end_us = (gint64)(warmup + seconds) * G_USEC_PER_SEC;
  b.loop = g_main_loop_new(NULL, FALSE);

  GstElement *c = gst_bin_get_by_name(GST_BIN(pipe), "c");
  GstPad *sink = gst_element_get_static_pad(c, "sink"), *src = gst_element_get_static_pad(c, "src");
  gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, on_sink, &b, NULL);
  gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, on_src, &b, NULL);
  GstBus *bus = gst_element_get_bus(pipe);
  gst_bus_add_watch(bus, on_message, &b);

  gst_element_set_state(pipe, GST_STATE_PLAYING);
  g_main_loop_run(b.loop);
  gst_element_set_state(pipe, GST_STATE_NULL);

  if (b.failed)
    return 1;
  bench_latency_sort(b.latency_us);
  double span_s = (b.last_counted_us - b.first_counted_us) / 1e6;
  double fps_out = span_s > 0 && b.frames_out > 1 ? (b.frames_out - 1) / span_s : 0;
  double fresh_fps = span_s > 0 && b.fresh_out > 1 ? b.fresh_out / span_s : 0;
  const char *m = mode ? mode : "async";

  printf("ensclassify %s, %s %dx%d@%d live, inference-interval=%d, threads=%d, %d s measured\n", m,
         model ? model : "random:b0", width, height, fps, interval, threads, seconds);
  printf("  frames through: %" G_GUINT64_FORMAT " (%.2f fps), new results: %" G_GUINT64_FORMAT
         " (%.2f /s)\n",
         b.frames_out, fps_out, b.fresh_out, fresh_fps);
  printf("  added latency per frame: median %.3f ms, p90 %.3f ms, max %.3f ms\n",
         bench_latency_quantile_ms(b.latency_us, 0.5), bench_latency_quantile_ms(b.latency_us, 0.9),
         bench_latency_quantile_ms(b.latency_us, 1.0));
  printf("RESULT mode=%s fps=%.2f results_per_s=%.2f median_ms=%.3f p90_ms=%.3f max_ms=%.3f "
         "frames=%" G_GUINT64_FORMAT "\n",
         m, fps_out, fresh_fps, bench_latency_quantile_ms(b.latency_us, 0.5),
         bench_latency_quantile_ms(b.latency_us, 0.9), bench_latency_quantile_ms(b.latency_us, 1.0),
         b.frames_out);

  gst_object_unref(bus);
  gst_object_unref(sink);
  gst_object_unref(src);
  gst_object_unref(c);
  gst_object_unref(pipe);
  g_hash_table_unref(b.t_in);
  g_array_unref(b.latency_us);
  g_main_loop_unref(b.loop);
  g_free(launch);
  g_free(mode);
  g_free(model);
  g_free(format);
  return b.frames_out > 0 ? 0 : 1;
}
