/* ens-rtsp-server.c - serves an annotated H.264 stream over RTSP:
 *   <source> ! ensclassify ! ensoverlay ! x264enc ! rtph264pay
 *
 * Usage: ens-rtsp-server [--address 127.0.0.1] [--port 8554] [--mount /ens]
 *                        [--model random:b0] [--source "videotestsrc is-live=true ..."]
 *                        [--banner TEXT] [--interval N]
 * --port 0 picks a free port. When the server listens it prints one line
 *   ready rtsp://ADDRESS:PORT/MOUNT
 * on stdout (the tests read it). All clients share one pipeline. Stops on SIGINT/SIGTERM.
 */
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_SOURCE                                                                             \
  "videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=480,framerate=30/1"

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
  gint port = 8554, interval = 1;
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
  if (port < 0 || port > 65535 || interval < 1) {
    fprintf(stderr, "ens-rtsp-server: --port must be 0..65535 and --interval >= 1\n");
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
  gchar *launch = g_strdup_printf(
      "( %s ! videoconvert ! ensclassify model=%s inference-interval=%d ! ensoverlay banner=%s "
      "! videoconvert ! video/x-raw,format=I420 ! x264enc tune=zerolatency "
      "speed-preset=ultrafast key-int-max=30 ! rtph264pay name=pay0 pt=96 config-interval=1 )",
      source, qmodel, interval, qbanner);

  GstRTSPServer *server = gst_rtsp_server_new();
  gchar *service = g_strdup_printf("%d", port);
  gst_rtsp_server_set_address(server, address);
  gst_rtsp_server_set_service(server, service);
  GstRTSPMediaFactory *factory = gst_rtsp_media_factory_new();
  gst_rtsp_media_factory_set_launch(factory, launch);
  gst_rtsp_media_factory_set_shared(factory, TRUE);
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
  g_printerr("ens-rtsp-server: pipeline %s\n", launch);

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
