/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_mqtt.c - ensmqtt against a real mosquitto broker started by the test: every message
 * arrives in order with the payload ensjson writes; with QoS 1 a broker restart mid-stream loses
 * nothing that fit in the queue and never stalls the stream; a full queue drops the oldest; an
 * unreachable broker only warns; TLS with the right CA delivers, with a wrong one warns; QoS 0
 * delivers in order; start/stop cycles and retain work; bad settings are element errors at
 * start. Skips (exit 77) without /usr/sbin/mosquitto, fails instead under CI=true. */
#include "gst_test_util.h"
#include "mqtt_test_broker.h"

#include <glib/gstdio.h>

#define TOPIC "ens/test"

/* Buffer i of a stream: 2x2 RGB, PTS i * 10 ms, one result whose label names the frame. */
static GstBuffer *result_buffer(guint i)
{
  GstBuffer *b = gst_buffer_new_allocate(NULL, 16, NULL);
  GST_BUFFER_PTS(b) = i * 10 * GST_MSECOND;
  gchar *label = g_strdup_printf("frame %u", i);
  GstEnsClassEntry e = {.class_id = (gint)i, .label = label, .score = 0.25f};
  gst_buffer_add_ens_classification_meta(b, "test-model", &e, 1);
  g_free(label);
  return b;
}

/* A harness around one ensmqtt element publishing to 127.0.0.1:port, with a private bus set
 * before it starts (so connection warnings from the first attempt are kept). */
static GstHarness *mqtt_harness(guint port, const gchar *extra, GstBus **bus_out)
{
  gchar *desc = g_strdup_printf("ensmqtt host=127.0.0.1 port=%u topic=" TOPIC " %s", port,
                                extra ? extra : "");
  GError *error = NULL;
  GstElement *e = gst_parse_launch(desc, &error);
  fail_unless(e != NULL, "%s: %s", desc, error ? error->message : "");
  g_free(desc);
  *bus_out = test_element_bus(e);
  GstHarness *h = gst_harness_new_with_element(e, "sink", "src");
  gst_object_unref(e);
  gst_harness_set_src_caps_str(h, "video/x-raw,format=RGB,width=2,height=2");
  return h;
}

static void harness_teardown(GstHarness *h, GstBus *bus)
{
  gst_object_ref(h->element);
  GstElement *e = h->element;
  gst_harness_teardown(h);
  test_element_bus_clear(e, bus);
  gst_object_unref(e);
}

static void push_one(GstHarness *h, GstBuffer *b)
{
  fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  gst_buffer_unref(gst_harness_pull(h));
}

static guint64 stat_u64(GstElement *e, const gchar *field)
{
  GstStructure *s = NULL;
  g_object_get(e, "stats", &s, NULL);
  fail_unless(s != NULL);
  guint64 v = 0;
  if (strcmp(field, "queued") == 0) {
    guint q = 0;
    fail_unless(gst_structure_get_uint(s, field, &q));
    v = q;
  } else {
    fail_unless(gst_structure_get_uint64(s, field, &v), "no %s in stats", field);
  }
  gst_structure_free(s);
  return v;
}

/* Pops every message on bus; returns the number of warnings and sets *infos to the number of
 * INFO messages and *connected to the `ens-mqtt` element messages with event=connected. */
static guint count_messages(GstBus *bus, guint *infos, guint *connected)
{
  guint warnings = 0, n_infos = 0, n_connected = 0;
  GstMessage *m;
  while ((m = gst_bus_pop(bus))) {
    const GstStructure *st = gst_message_get_structure(m);
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_WARNING) {
      GError *err = NULL;
      gst_message_parse_warning(m, &err, NULL);
      GST_INFO("warning: %s", err->message);
      g_error_free(err);
      warnings++;
    } else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_INFO) {
      n_infos++;
    } else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT &&
               gst_structure_has_name(st, "ens-mqtt") &&
               g_strcmp0(gst_structure_get_string(st, "event"), "connected") == 0) {
      n_connected++;
    }
    gst_message_unref(m);
  }
  if (infos)
    *infos = n_infos;
  if (connected)
    *connected = n_connected;
  return warnings;
}

/* Checks the received frame numbers: strictly increasing except re-deliveries of a frame seen
 * before (QoS 1 is at least once); returns the number of distinct frames and sets *dups. */
static guint check_order(GPtrArray *msgs, guint *dups)
{
  GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
  gint64 last = -1;
  *dups = 0;
  for (guint i = 0; i < msgs->len; i++) {
    gint64 f = test_json_frame(g_ptr_array_index(msgs, i));
    fail_unless(f >= 0, "no frame in %s", (gchar *)g_ptr_array_index(msgs, i));
    if (g_hash_table_contains(seen, GINT_TO_POINTER(f + 1))) {
      (*dups)++;
      continue;
    }
    fail_unless(f > last, "message %u: frame %" G_GINT64_FORMAT " after %" G_GINT64_FORMAT, i, f,
                last);
    last = f;
    g_hash_table_add(seen, GINT_TO_POINTER(f + 1));
  }
  guint distinct = g_hash_table_size(seen);
  g_hash_table_destroy(seen);
  return distinct;
}

/* (a) 200 buffers through ensclassify ! ensjson ! ensmqtt: 200 messages, in order, each
 * byte-for-byte the line ensjson wrote for the same buffer (without its newline). */
GST_START_TEST(test_payload_equals_ensjson)
{
  TestBroker *b = test_broker_new();
  test_broker_start(b);
  TestSub *sub = test_sub_new(test_broker_port(b), TOPIC);
  gchar *out = g_build_filename(g_get_tmp_dir(), "ens-mqtt-json-XXXXXX", NULL);
  close(g_mkstemp(out));
  gchar *desc = g_strdup_printf("ensclassify " TEST_ELEMENT_PROPS " mode=sync top-k=3 "
                                "inference-interval=50 ! ensjson location=\"%s\" ! ensmqtt name=m "
                                "host=127.0.0.1 port=%u topic=" TOPIC,
                                out, test_broker_port(b));
  GstHarness *h = gst_harness_new_parse(desc);
  g_free(desc);
  const guint n = 200;
  GstVideoInfo info;
  GstBuffer *pictures[2];
  for (guint p = 0; p < 2; p++)
    pictures[p] = test_picture_frame(GST_VIDEO_FORMAT_RGB, 40, 30, p, 0, &info);
  gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
  for (guint i = 0; i < n; i++) {
    GstBuffer *buf = gst_buffer_copy_deep(pictures[(i / 50) % 2]);
    GST_BUFFER_PTS(buf) = i * 40 * GST_MSECOND;
    push_one(h, buf);
  }
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  GstElement *mqtt = gst_bin_get_by_name(GST_BIN(h->element), "m");
  fail_unless(mqtt != NULL);
  fail_unless_equals_uint64(stat_u64(mqtt, "acked"), n);
  gst_object_unref(mqtt);
  gst_harness_teardown(h);
  for (guint p = 0; p < 2; p++)
    gst_buffer_unref(pictures[p]);

  fail_unless_equals_int(test_sub_wait(sub, n, 10000), n);
  GPtrArray *msgs = test_sub_messages(sub);
  gchar *text = NULL;
  fail_unless(g_file_get_contents(out, &text, NULL, NULL));
  gchar **lines = g_strsplit(text, "\n", -1);
  fail_unless_equals_int(g_strv_length(lines), n + 1);
  fail_unless_equals_int(msgs->len, n);
  for (guint i = 0; i < n; i++)
    fail_unless_equals_string(g_ptr_array_index(msgs, i), lines[i]);
  GST_INFO("200 messages equal the ensjson lines; first: %s", lines[0]);
  g_strfreev(lines);
  g_free(text);
  g_ptr_array_unref(msgs);
  g_unlink(out);
  g_free(out);
  test_sub_free(sub);
  test_broker_free(b);
}
GST_END_TEST;

/* (b) QoS 1, buffers every 10 ms. The broker freezes at buffer 80 (SIGSTOP: messages 80.. are
 * written but never acknowledged), is terminated at buffer 100 without reading them and
 * restarted on the same port ~1 s later. No push waits for the network, one warning is posted,
 * the unacknowledged messages are resent, and every message arrives, in order (re-deliveries
 * allowed). */
GST_START_TEST(test_broker_restart)
{
  TestBroker *b = test_broker_new();
  test_broker_start(b);
  TestSub *sub = test_sub_new(test_broker_port(b), TOPIC);
  GstBus *bus;
  GstHarness *h = mqtt_harness(test_broker_port(b), "qos=1 flush-timeout=15000", &bus);
  const guint n = 300, freeze_at = 80, stop_at = 100, restart_at = 200;
  gint64 worst_push = 0, stopped_at_us = 0, restarted_at_us = 0;
  guint pushed_while_down = 0;
  gint64 t0 = g_get_monotonic_time();
  for (guint i = 0; i < n; i++) {
    if (i == freeze_at)
      test_broker_freeze(b);
    if (i == stop_at) {
      test_broker_stop(b);
      stopped_at_us = g_get_monotonic_time();
    }
    if (i == restart_at) {
      restarted_at_us = g_get_monotonic_time();
      test_broker_start(b);
    }
    gint64 start = g_get_monotonic_time();
    push_one(h, result_buffer(i));
    gint64 took = g_get_monotonic_time() - start;
    worst_push = MAX(worst_push, took);
    if (i >= stop_at && i < restart_at)
      pushed_while_down++;
    /* 100 buffers per second, on schedule */
    gint64 next = t0 + (gint64)(i + 1) * 10000;
    gint64 now = g_get_monotonic_time();
    if (next > now)
      g_usleep((gulong)(next - now));
  }
  gdouble down_s = (restarted_at_us - stopped_at_us) / 1e6;
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  guint64 messages = stat_u64(h->element, "messages"),
          published = stat_u64(h->element, "published");
  guint64 acked = stat_u64(h->element, "acked"), dropped = stat_u64(h->element, "dropped");
  guint64 resent = stat_u64(h->element, "resent"), queued = stat_u64(h->element, "queued");
  guint64 reconnects = stat_u64(h->element, "reconnects");
  /* Wait for every distinct frame (re-deliveries count in the subscriber's total). */
  gint64 deadline = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
  guint received = test_sub_wait(sub, n, 15000), dups = 0, distinct = 0;
  GPtrArray *msgs = NULL;
  for (;;) {
    msgs = test_sub_messages(sub);
    distinct = check_order(msgs, &dups);
    if (distinct >= n || g_get_monotonic_time() > deadline)
      break;
    received = test_sub_wait(sub, msgs->len + 1, 100);
    g_ptr_array_unref(msgs);
  }
  g_print(
      "broker restart: %u buffers, broker down %.2f s (%u buffers pushed meanwhile), worst push "
      "%.1f ms; messages %" G_GUINT64_FORMAT " published %" G_GUINT64_FORMAT
      " resent %" G_GUINT64_FORMAT " acked %" G_GUINT64_FORMAT " dropped %" G_GUINT64_FORMAT
      " queued %" G_GUINT64_FORMAT " reconnects %" G_GUINT64_FORMAT
      "; received %u (%u distinct, %u re-delivered)\n",
      n, down_s, pushed_while_down, worst_push / 1000.0, messages, published, resent, acked,
      dropped, queued, reconnects, msgs->len, distinct, dups);
  fail_unless_equals_uint64(messages, n);
  fail_unless_equals_uint64(dropped, 0);
  fail_unless_equals_uint64(queued, 0);
  fail_unless_equals_uint64(acked, n);
  fail_unless_equals_uint64(reconnects, 1);
  fail_unless(resent > 0, "nothing was in flight when the broker went away");
  fail_unless(received >= n);
  fail_unless_equals_int(distinct, messages - dropped);
  /* The stream never waited for the broker: 100 buffers in the ~1 s outage on schedule, and no
   * push near the outage's length (a push waiting for the network would wait until the broker
   * is back; pushes take a few ms, tens under ASan on a loaded machine). */
  fail_unless(worst_push < 250000, "a push took %.1f ms", worst_push / 1000.0);
  /* one outage: one warning; connected twice, the second time also as INFO */
  guint infos = 0, connected = 0;
  fail_unless_equals_int(count_messages(bus, &infos, &connected), 1);
  fail_unless_equals_int(infos, 1);
  fail_unless_equals_int(connected, 2);
  g_ptr_array_unref(msgs);
  harness_teardown(h, bus);
  test_sub_free(sub);
  test_broker_free(b);
}
GST_END_TEST;

/* (c) Broker down, max-queue=10, 50 buffers: 40 dropped (the oldest), 10 kept; when the broker
 * comes back exactly frames 40..49 arrive. */
GST_START_TEST(test_queue_overflow_drops_oldest)
{
  TestBroker *b = test_broker_new();
  test_broker_start(b);
  TestSub *sub = test_sub_new(test_broker_port(b), TOPIC);
  test_broker_stop(b); /* the subscriber's session survives in the broker's database */
  GstBus *bus;
  GstHarness *h = mqtt_harness(test_broker_port(b), "qos=1 max-queue=10 flush-timeout=15000", &bus);
  for (guint i = 0; i < 50; i++)
    push_one(h, result_buffer(i));
  fail_unless_equals_uint64(stat_u64(h->element, "messages"), 50);
  fail_unless_equals_uint64(stat_u64(h->element, "dropped"), 40);
  fail_unless_equals_uint64(stat_u64(h->element, "queued"), 10);
  fail_unless_equals_uint64(stat_u64(h->element, "published"), 0);
  test_broker_start(b);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  fail_unless_equals_uint64(stat_u64(h->element, "acked"), 10);
  fail_unless_equals_uint64(stat_u64(h->element, "queued"), 0);
  fail_unless_equals_int(test_sub_wait(sub, 10, 10000), 10);
  g_usleep(200000); /* nothing more may come */
  GPtrArray *msgs = test_sub_messages(sub);
  fail_unless_equals_int(msgs->len, 10);
  for (guint i = 0; i < 10; i++)
    fail_unless_equals_int(test_json_frame(g_ptr_array_index(msgs, i)), 40 + i);
  fail_unless(count_messages(bus, NULL, NULL) >= 1);
  g_ptr_array_unref(msgs);
  harness_teardown(h, bus);
  test_sub_free(sub);
  test_broker_free(b);
}
GST_END_TEST;

static gpointer push_eos(gpointer data)
{
  gst_harness_push_event(data, gst_event_new_eos());
  return NULL;
}

/* (d) Nothing listens on the port: buffers flow, one warning, EOS gives up after flush-timeout
 * and says how many were left, shutdown does not hang (also not in the middle of the EOS
 * flush). Then an address that never answers
 * (TEST-NET-1): shutdown with a connect in progress does not hang either. */
GST_START_TEST(test_unreachable_broker)
{
  TestBroker *b = test_broker_new(); /* never started: its port is closed */
  GstBus *bus;
  GstHarness *h = mqtt_harness(test_broker_port(b), "flush-timeout=300", &bus);
  gint64 t0 = g_get_monotonic_time();
  for (guint i = 0; i < 20; i++)
    push_one(h, result_buffer(i));
  fail_unless(g_get_monotonic_time() - t0 < G_USEC_PER_SEC, "20 pushes took over 1 s");
  GstMessage *w = gst_bus_timed_pop_filtered(bus, 3 * GST_SECOND, GST_MESSAGE_WARNING);
  fail_unless(w != NULL, "no warning for an unreachable broker");
  gst_message_unref(w);
  gint64 t1 = g_get_monotonic_time();
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  gint64 eos_us = g_get_monotonic_time() - t1;
  fail_unless(eos_us >= 250000 && eos_us < 2 * G_USEC_PER_SEC, "EOS flush took %.2f s",
              eos_us / 1e6);
  w = gst_bus_timed_pop_filtered(bus, 0, GST_MESSAGE_WARNING);
  fail_unless(w != NULL, "no warning about undelivered messages at EOS");
  GError *err = NULL;
  gst_message_parse_warning(w, &err, NULL);
  fail_unless(strstr(err->message, "20 MQTT messages were not delivered") != NULL, "%s",
              err->message);
  g_error_free(err);
  gst_message_unref(w);
  gint64 t2 = g_get_monotonic_time();
  harness_teardown(h, bus);
  fail_unless(g_get_monotonic_time() - t2 < G_USEC_PER_SEC, "shutdown took over 1 s");

  /* Shutting down while the EOS flush waits (flush-timeout 20 s) ends the wait. */
  h = mqtt_harness(test_broker_port(b), "flush-timeout=20000", &bus);
  push_one(h, result_buffer(0));
  GThread *eos = g_thread_new("eos", push_eos, h);
  g_usleep(300000);
  t2 = g_get_monotonic_time();
  fail_unless_equals_int(gst_element_set_state(h->element, GST_STATE_NULL),
                         GST_STATE_CHANGE_SUCCESS);
  g_thread_join(eos);
  fail_unless(g_get_monotonic_time() - t2 < G_USEC_PER_SEC, "shutdown during the EOS flush took "
                                                            "over 1 s");
  harness_teardown(h, bus);
  test_broker_free(b);

  GError *perr = NULL;
  GstElement *e = gst_parse_launch("ensmqtt host=192.0.2.1 port=1883", &perr);
  fail_unless(e != NULL);
  h = gst_harness_new_with_element(e, "sink", "src");
  gst_object_unref(e);
  gst_harness_set_src_caps_str(h, "video/x-raw,format=RGB,width=2,height=2");
  push_one(h, result_buffer(0));
  g_usleep(200000);
  t2 = g_get_monotonic_time();
  gst_harness_teardown(h);
  fail_unless(g_get_monotonic_time() - t2 < G_USEC_PER_SEC, "shutdown took over 1 s");
}
GST_END_TEST;

/* QoS 0: acknowledged = written; with the broker up all 50 arrive, in order. */
GST_START_TEST(test_qos0)
{
  TestBroker *b = test_broker_new();
  test_broker_start(b);
  TestSub *sub = test_sub_new(test_broker_port(b), TOPIC);
  GstBus *bus;
  GstHarness *h = mqtt_harness(test_broker_port(b), "qos=0", &bus);
  for (guint i = 0; i < 50; i++)
    push_one(h, result_buffer(i));
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  fail_unless_equals_uint64(stat_u64(h->element, "acked"), 50);
  fail_unless_equals_uint64(stat_u64(h->element, "queued"), 0);
  harness_teardown(h, bus);
  fail_unless_equals_int(test_sub_wait(sub, 50, 10000), 50);
  GPtrArray *msgs = test_sub_messages(sub);
  for (guint i = 0; i < 50; i++)
    fail_unless_equals_int(test_json_frame(g_ptr_array_index(msgs, i)), i);
  g_ptr_array_unref(msgs);
  test_sub_free(sub);
  test_broker_free(b);
}
GST_END_TEST;

/* Start / stop cycles: counters restart at each start and stay readable after stop; the sender
 * thread is joined each time (ASan would report leaks). retain + client-id + credentials: a
 * subscriber arriving later gets the last message from the broker. */
GST_START_TEST(test_lifecycle_and_retain)
{
  TestBroker *b = test_broker_new();
  test_broker_start(b);
  gchar *desc = g_strdup_printf("ensmqtt host=127.0.0.1 port=%u topic=ens/retained retain=true "
                                "client-id=ens-test-pub username=u password=p",
                                test_broker_port(b));
  GError *perr = NULL;
  GstElement *e = gst_parse_launch(desc, &perr);
  fail_unless(e != NULL);
  g_free(desc);
  for (guint cycle = 0; cycle < 3; cycle++) {
    GstHarness *h = gst_harness_new_with_element(e, "sink", "src");
    gst_harness_set_src_caps_str(h, "video/x-raw,format=RGB,width=2,height=2");
    for (guint i = 0; i <= cycle; i++)
      push_one(h, result_buffer(10 * cycle + i));
    fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
    gst_harness_teardown(h); /* to NULL: sender joined */
    fail_unless_equals_uint64(stat_u64(e, "messages"), cycle + 1);
    fail_unless_equals_uint64(stat_u64(e, "acked"), cycle + 1);
    fail_unless_equals_uint64(stat_u64(e, "queued"), 0);
  }
  gst_object_unref(e);
  TestSub *late = test_sub_new(test_broker_port(b), "ens/retained");
  fail_unless_equals_int(test_sub_wait(late, 1, 5000), 1);
  GPtrArray *msgs = test_sub_messages(late);
  fail_unless_equals_int(test_json_frame(g_ptr_array_index(msgs, 0)), 2); /* last of cycle 2 */
  fail_unless(strstr(g_ptr_array_index(msgs, 0), "\"label\":\"frame 22\"") != NULL);
  g_ptr_array_unref(msgs);
  test_sub_free(late);
  test_broker_free(b);
}
GST_END_TEST;

/* Runs openssl with args (space-separated, no quoting needed) in dir. */
static void run_openssl(const gchar *dir, const gchar *args)
{
  gchar *cmd = g_strconcat("/usr/bin/openssl ", args, NULL);
  gchar **argv = g_strsplit(cmd, " ", -1);
  gchar *err = NULL;
  gint status = 0;
  fail_unless(g_spawn_sync(dir, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                           &status, NULL),
              "cannot run %s", cmd);
  fail_unless(g_spawn_check_wait_status(status, NULL), "%s failed: %s", cmd, err);
  g_free(err);
  g_strfreev(argv);
  g_free(cmd);
}

/* A CA, a server certificate for 127.0.0.1 signed by it, and an unrelated CA, in dir. */
static void make_certificates(const gchar *dir)
{
  const gchar *ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  gchar *args = g_strdup_printf("req -x509 %s -keyout ca.key -out ca.pem -days 2 "
                                "-subj /CN=ens-test-ca",
                                ec);
  run_openssl(dir, args);
  g_free(args);
  args = g_strdup_printf("req -x509 %s -keyout other.key -out other.pem -days 2 "
                         "-subj /CN=ens-other-ca",
                         ec);
  run_openssl(dir, args);
  g_free(args);
  args = g_strdup_printf("req %s -keyout server.key -out server.csr -subj /CN=127.0.0.1", ec);
  run_openssl(dir, args);
  g_free(args);
  gchar *ext = g_build_filename(dir, "ext.cnf", NULL);
  fail_unless(g_file_set_contents(ext, "subjectAltName=IP:127.0.0.1\n", -1, NULL));
  g_free(ext);
  run_openssl(dir, "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                   "-out server.pem -days 2 -extfile ext.cnf");
}

/* (f) TLS: a broker with a second, TLS listener (certificate from a test CA). With tls-ca-file =
 * that CA the messages arrive (the subscriber uses the plain listener); with an unrelated CA the
 * handshake fails: a warning, nothing delivered. */
GST_START_TEST(test_tls)
{
  if (!g_file_test("/usr/bin/openssl", G_FILE_TEST_IS_EXECUTABLE)) {
    fail_if(g_strcmp0(g_getenv("CI"), "true") == 0, "/usr/bin/openssl missing under CI");
    g_print("SKIP test_tls: /usr/bin/openssl not found\n");
    return;
  }
  gchar *dir = g_dir_make_tmp("ens-mqtt-tls-XXXXXX", NULL);
  make_certificates(dir);
  guint tls_port = test_free_port();
  gchar *conf = g_strdup_printf("listener %u 127.0.0.1\ncafile %s/ca.pem\ncertfile %s/server.pem\n"
                                "keyfile %s/server.key\n",
                                tls_port, dir, dir, dir);
  TestBroker *b = test_broker_new_with(conf);
  g_free(conf);
  test_broker_start(b);
  TestSub *sub = test_sub_new(test_broker_port(b), TOPIC);

  gchar *extra = g_strdup_printf("tls-ca-file=%s/ca.pem flush-timeout=10000", dir);
  GstBus *bus;
  GstHarness *h = mqtt_harness(tls_port, extra, &bus);
  g_free(extra);
  for (guint i = 0; i < 20; i++)
    push_one(h, result_buffer(i));
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  fail_unless_equals_uint64(stat_u64(h->element, "acked"), 20);
  fail_unless_equals_int(count_messages(bus, NULL, NULL), 0);
  harness_teardown(h, bus);
  fail_unless_equals_int(test_sub_wait(sub, 20, 10000), 20);

  extra = g_strdup_printf("tls-ca-file=%s/other.pem flush-timeout=300", dir);
  h = mqtt_harness(tls_port, extra, &bus);
  g_free(extra);
  push_one(h, result_buffer(100));
  GstMessage *w = gst_bus_timed_pop_filtered(bus, 5 * GST_SECOND, GST_MESSAGE_WARNING);
  fail_unless(w != NULL, "no warning with a CA that did not sign the broker's certificate");
  gst_message_unref(w);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  fail_unless_equals_uint64(stat_u64(h->element, "acked"), 0);
  harness_teardown(h, bus);
  fail_unless_equals_int(test_sub_wait(sub, 21, 300), 20);

  test_sub_free(sub);
  test_broker_free(b);
  const gchar *files[] = {"ca.key",     "ca.pem",     "ca.srl",     "other.key", "other.pem",
                          "server.key", "server.csr", "server.pem", "ext.cnf"};
  for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
    gchar *p = g_build_filename(dir, files[i], NULL);
    g_unlink(p);
    g_free(p);
  }
  fail_unless(g_rmdir(dir) == 0, "%s not empty", dir);
  g_free(dir);
}
GST_END_TEST;

/* Starting e must fail with an element error whose message contains want. */
static void expect_start_error(const gchar *desc, const gchar *want)
{
  GError *perr = NULL;
  GstElement *e = gst_parse_launch(desc, &perr);
  fail_unless(e != NULL);
  GstBus *bus = test_element_bus(e);
  fail_unless_equals_int(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GError *err = test_pop_error(bus, desc, NULL);
  fail_unless(strstr(err->message, want) != NULL, "%s: \"%s\" lacks \"%s\"", desc, err->message,
              want);
  g_error_free(err);
  gst_element_set_state(e, GST_STATE_NULL);
  test_element_bus_clear(e, bus);
  gst_object_unref(e);
}

/* (e) Bad settings are element errors at start, naming what to fix. */
GST_START_TEST(test_bad_settings)
{
  expect_start_error("ensmqtt tls-ca-file=/nonexistent/ca.pem",
                     "tls-ca-file \"/nonexistent/ca.pem\"");
  expect_start_error("ensmqtt port=0", "port 0");
  expect_start_error("ensmqtt topic=ens/#", "topic \"ens/#\"");
  expect_start_error("ensmqtt password=x", "password is set without username");
  expect_start_error("ensmqtt keepalive=2", "keepalive 2");
  gchar *ca = g_build_filename(g_get_tmp_dir(), "ens-mqtt-ca-XXXXXX", NULL);
  close(g_mkstemp(ca));
  gchar *desc = g_strdup_printf("ensmqtt tls-ca-file=%s tls-cert-file=%s", ca, ca);
  expect_start_error(desc, "tls-cert-file and tls-key-file go together");
  g_free(desc);
  g_unlink(ca);
  g_free(ca);
}
GST_END_TEST;

int main(int argc, char **argv)
{
  gst_check_init(&argc, &argv);
  if (!test_broker_available()) {
    if (g_strcmp0(g_getenv("CI"), "true") == 0) {
      g_printerr("FAIL: %s not found; CI installs mosquitto (.ci/install-deps)\n", TEST_MOSQUITTO);
      return 1;
    }
    g_print("SKIP: %s not found (Debian package mosquitto)\n", TEST_MOSQUITTO);
    return 77;
  }
  GstElementFactory *f = gst_element_factory_find("ensmqtt");
  if (!f) {
    g_printerr("FAIL: the ens plugin has no ensmqtt element (built without libmosquitto?)\n");
    return 1;
  }
  gst_object_unref(f);
  static const TestEntry tests[] = {
      TEST_ENTRY(test_payload_equals_ensjson),
      TEST_ENTRY(test_broker_restart),
      TEST_ENTRY(test_queue_overflow_drops_oldest),
      TEST_ENTRY(test_unreachable_broker),
      TEST_ENTRY(test_bad_settings),
      TEST_ENTRY(test_tls),
      TEST_ENTRY(test_lifecycle_and_retain),
      TEST_ENTRY(test_qos0),
  };
  return test_run_suite("ensmqtt", 120, tests, NULL, NULL);
}
