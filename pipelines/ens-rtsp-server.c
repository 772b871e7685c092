/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ens-rtsp-server.c - serves an annotated H.264 stream over RTSP:
 *   <source> ! ensclassify ! ensoverlay ! x264enc ! rtph264pay
 *
 * Usage: ens-rtsp-server [--address 127.0.0.1] [--port 8554] [--mount /ens]
 *                        [--model random:b0] [--source "videotestsrc is-live=true ..."]
 *                        [--banner TEXT] [--interval N]
 * --port 0 picks a free port. Before listening, the media pipeline is built and run once, up
 * to its first encoded frame (at most --check-timeout seconds): a model that cannot load or a
 * source that cannot be built or negotiated ends the server with exit 1 and the error, instead
 * of clients getting 503 or hanging. When the server listens it prints one line
 *   ready rtsp://ADDRESS:PORT/MOUNT
 * on stdout (the tests read it). All clients share one pipeline; errors of that pipeline later
 * on are logged on stderr. Stops on SIGINT/SIGTERM. Exit: 0 after a signal, 1 error, 2 usage.
 */
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_SOURCE                                                                             \
  "videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=480,framerate=30/1"

#define CHECK_SINK "ens_check_sink"
#define FIRST_FRAME "ens-first-frame"

/* First buffer at the check pipeline's sink: tell the waiting thread through the bus. */
static void on_handoff(GstElement *sink, GstBuffer *buf, GstPad *pad, gpointer seen)
{
  (void)buf;
  (void)pad;
  if (!g_atomic_int_compare_and_exchange((gint *)seen, 0, 1))
    return;
  gst_element_post_message(
      sink, gst_message_new_application(GST_OBJECT(sink), gst_structure_new_empty(FIRST_FRAME)));
}

/* "element: message" of an error message, newly allocated. */
static gchar *error_text(GstMessage *msg)
{
  GError *e = NULL;
  gchar *debug = NULL;
  gst_message_parse_error(msg, &e, &debug);
  gchar *text = g_strdup_printf("%s: %s", GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)),
                                e ? e->message : "unknown error");
  g_clear_error(&e);
  g_free(debug);
  return text;
}

/* Runs `body ! fakesink` until its first buffer. Returns NULL when the media works, else the
 * reason (newly allocated). */
static gchar *check_media(const gchar *body, guint timeout_s)
{
  gchar *line = g_strdup_printf("%s ! fakesink name=" CHECK_SINK " sync=false", body);
  GError *error = NULL;
  GstElement *pipe = gst_parse_launch(line, &error);
  g_free(line);
  if (error || !pipe) {
    gchar *why = g_strdup_printf("cannot build the media pipeline: %s",
                                 error ? error->message : "unknown error");
    g_clear_error(&error);
    if (pipe)
      gst_object_unref(pipe);
    return why;
  }
  gint seen = 0;
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipe), CHECK_SINK);
  g_object_set(sink, "signal-handoffs", TRUE, NULL);
  g_signal_connect(sink, "handoff", G_CALLBACK(on_handoff), &seen);
  gst_object_unref(sink);

  GstBus *bus = gst_element_get_bus(pipe);
  gchar *why = NULL;
  gst_element_set_state(pipe, GST_STATE_PLAYING); /* a failure also posts an error */
  GstMessage *msg =
      gst_bus_timed_pop_filtered(bus, (GstClockTime)timeout_s * GST_SECOND,
                                 GST_MESSAGE_ERROR | GST_MESSAGE_EOS | GST_MESSAGE_APPLICATION);
  if (!msg)
    why = g_strdup_printf("the media pipeline gave no frame within %u s (--check-timeout)",
                          timeout_s);
  else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR)
    why = error_text(msg);
  else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS)
    why = g_strdup("the source ended before the first frame");
  if (msg)
    gst_message_unref(msg);
  gst_element_set_state(pipe, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipe);
  return why;
}

/* Errors of a client's media later on: logged (the media reports them to clients as it can). */
static GstBusSyncReply log_media_error(GstBus *bus, GstMessage *msg, gpointer mount)
{
  (void)bus;
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    gchar *text = error_text(msg);
    g_printerr("ens-rtsp-server: media error on %s: %s\n", (const gchar *)mount, text);
    g_free(text);
  }
  return GST_BUS_PASS;
}

static void on_media_configure(GstRTSPMediaFactory *factory, GstRTSPMedia *media, gpointer mount)
{
  (void)factory;
  GstElement *element = gst_rtsp_media_get_element(media);
  GstObject *pipeline = element ? gst_object_get_parent(GST_OBJECT(element)) : NULL;
  if (pipeline && GST_IS_PIPELINE(pipeline)) {
    GstBus *bus = gst_pipeline_get_bus(GST_PIPELINE(pipeline));
    gst_bus_set_sync_handler(bus, log_media_error, mount, NULL);
    gst_object_unref(bus);
  }
  if (pipeline)
    gst_object_unref(pipeline);
  if (element)
    gst_object_unref(element);
}

static gboolean on_signal(gpointer loop)
{
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

/* Quotes a property value for a launch line ("..." with \ and " escaped). */
static gchar *launch_quote(const gchar *s)
{
  GString *q = g_string_new("\"");
  for (const gchar *p = s; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c(q, '\\');
    g_string_append_c(q, *p);
  }
  g_string_append_c(q, '"');
  return g_string_free(q, FALSE);
}

int main(int argc, char **argv)
{
  gchar *address = NULL, *mount = NULL, *model = NULL, *source = NULL, *banner = NULL;
  gint port = 8554, interval = 1, check_timeout = 30;
  GOptionEntry entries[] = {
      {"address", 0, 0, G_OPTION_ARG_STRING, &address, "Address to bind (default 127.0.0.1)",
       "ADDR"},
      {"port", 'p', 0, G_OPTION_ARG_INT, &port, "Port (default 8554, 0 = any free port)", "PORT"},
      {"mount", 0, 0, G_OPTION_ARG_STRING, &mount, "Mount point (default /ens)", "PATH"},
      {"model", 'm', 0, G_OPTION_ARG_STRING, &model,
       "ensclassify model: .safetensors, hub directory or random:VARIANT (default random:b0)",
       "MODEL"},
      {"source", 's', 0, G_OPTION_ARG_STRING, &source,
       "Launch-line fragment producing raw video (default: a 640x480 30 fps test pattern)",
       "LAUNCH"},
      {"banner", 'b', 0, G_OPTION_ARG_STRING, &banner, "ensoverlay banner text", "TEXT"},
      {"interval", 'i', 0, G_OPTION_ARG_INT, &interval, "ensclassify inference-interval", "N"},
      {"check-timeout", 0, 0, G_OPTION_ARG_INT, &check_timeout,
       "Seconds the start-up check waits for the first frame (default 30)", "S"},
      {NULL, 0, 0, 0, NULL, NULL, NULL},
  };
  GOptionContext *ctx = g_option_context_new("- RTSP server of an ens-annotated stream");
  GError *error = NULL;

  g_option_context_add_main_entries(ctx, entries, NULL);
  g_option_context_add_group(ctx, gst_init_get_option_group());
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "ens-rtsp-server: %s\n", error->message);
    return 2;
  }
  g_option_context_free(ctx);
  if (port < 0 || port > 65535 || interval < 1 || check_timeout < 1) {
    fprintf(stderr, "ens-rtsp-server: --port must be 0..65535, --interval >= 1 and "
                    "--check-timeout >= 1\n");
    return 2;
  }
  if (address == NULL)
    address = g_strdup("127.0.0.1");
  if (mount == NULL)
    mount = g_strdup("/ens");
  if (mount[0] != '/') {
    fprintf(stderr, "ens-rtsp-server: --mount must start with '/'\n");
    return 2;
  }
  if (model == NULL)
    model = g_strdup("random:b0");
  if (source == NULL)
    source = g_strdup(DEFAULT_SOURCE);

  /* Fail early with a clear message when the plugin cannot be found. */
  if (gst_element_factory_find("ensclassify") == NULL) {
    fprintf(stderr, "ens-rtsp-server: element ensclassify not found; set GST_PLUGIN_PATH to "
                    "the build's gst-plugin directory or install ens\n");
    return 1;
  }

  gchar *qmodel = launch_quote(model);
  gchar *qbanner = launch_quote(banner ? banner : "");
  gchar *body = g_strdup_printf(
      "%s ! videoconvert ! ensclassify model=%s inference-interval=%d ! ensoverlay banner=%s "
      "! videoconvert ! video/x-raw,format=I420 ! x264enc tune=zerolatency "
      "speed-preset=ultrafast key-int-max=30 ! rtph264pay name=pay0 pt=96 config-interval=1",
      source, qmodel, interval, qbanner);
  gchar *launch = g_strdup_printf("( %s )", body);
  g_printerr("ens-rtsp-server: pipeline %s\n", launch);

  gchar *why = check_media(body, (guint)check_timeout);
  g_free(body);
  if (why) {
    fprintf(stderr, "ens-rtsp-server: %s\n", why);
    g_free(why);
    g_free(launch);
    g_free(qmodel);
    g_free(qbanner);
    g_free(address);
    g_free(mount);
    g_free(model);
    g_free(source);
    g_free(banner);
    return 1;
  }

  GstRTSPServer *server = gst_rtsp_server_new();
  gchar *service = g_strdup_printf("%d", port);
  gst_rtsp_server_set_address(server, address);
  gst_rtsp_server_set_service(server, service);
  GstRTSPMediaFactory *factory = gst_rtsp_media_factory_new();
  gst_rtsp_media_factory_set_launch(factory, launch);
  gst_rtsp_media_factory_set_shared(factory, TRUE);
  g_signal_connect(factory, "media-configure", G_CALLBACK(on_media_configure), mount);
  GstRTSPMountPoints *mounts = gst_rtsp_server_get_mount_points(server);
  gst_rtsp_mount_points_add_factory(mounts, mount, factory);
  g_object_unref(mounts);

  GMainLoop *loop = g_main_loop_new(NULL, FALSE);
  guint id = gst_rtsp_server_attach(server, NULL);
  if (id == 0) {
    fprintf(stderr, "ens-rtsp-server: cannot listen on %s:%d\n", address, port);
    return 1;
  }
  g_unix_signal_add(SIGINT, on_signal, loop);
  g_unix_signal_add(SIGTERM, on_signal, loop);
  printf("ready rtsp://%s:%d%s\n", address, gst_rtsp_server_get_bound_port(server), mount);
  fflush(stdout);

  g_main_loop_run(loop);

  g_source_remove(id);
  g_main_loop_unref(loop);
  g_object_unref(server);
  g_free(service);
  g_free(launch);
  g_free(qmodel);
  g_free(qbanner);
  g_free(address);
  g_free(mount);
  g_free(model);
  g_free(source);
  g_free(banner);
  return 0;
}
