/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensmqtt.c - ensmqtt: a passthrough element publishing one MQTT message per buffer, the
 * same JSON object ensjson writes as a line (gstensjsonfmt.c), to a broker through libmosquitto.
 *
 * The streaming thread formats the message and hands it to the sender (ensmqttsender.c: a
 * bounded queue and a thread owning the client), so it never waits for the network. This file
 * maps properties to the sender's settings, reports connection changes on the bus, flushes the
 * queue (bounded by flush-timeout) at EOS and exposes the counters as the `stats` property. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstensmqtt.h"

#include <string.h>

#include "ensmqttsender.h"
#include "gstensjsonfmt.h"
#include "gstensplugin.h"

GST_DEBUG_CATEGORY_STATIC(ens_mqtt_debug);
#define GST_CAT_DEFAULT ens_mqtt_debug

#define DEFAULT_HOST "localhost"
#define DEFAULT_PORT 1883
#define DEFAULT_QOS 1
#define DEFAULT_MAX_QUEUE 1000
#define DEFAULT_KEEPALIVE 60
#define DEFAULT_FLUSH_TIMEOUT 2000
#define TOPIC_PREFIX "ens/"

enum {
  PROP_0,
  PROP_HOST,
  PROP_PORT,
  PROP_TOPIC,
  PROP_QOS,
  PROP_CLIENT_ID,
  PROP_RETAIN,
  PROP_USERNAME,
  PROP_PASSWORD,
  PROP_TLS_CA_FILE,
  PROP_TLS_CERT_FILE,
  PROP_TLS_KEY_FILE,
  PROP_MAX_QUEUE,
  PROP_KEEPALIVE,
  PROP_FLUSH_TIMEOUT,
  PROP_STATS,
};

struct _GstEnsMqtt {
  GstBaseTransform parent;

  /* properties, under the object lock */
  gchar *host, *topic, *client_id, *username, *password;
  gchar *tls_ca_file, *tls_cert_file, *tls_key_file;
  guint port, qos, max_queue, keepalive, flush_timeout;
  gboolean retain;

  /* between start and stop; the pointer is read under the object lock by the stats getter */
  EnsMqttSender *sender;
  EnsMqttStats last_stats; /* kept after stop so `stats` still reads the final counters */
  gchar *resolved_topic;

  /* streaming thread only */
  gint width, height;
  guint64 frame;
  GString *line;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-raw(ANY)"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-raw(ANY)"));

#define gst_ens_mqtt_parent_class parent_class
G_DEFINE_TYPE(GstEnsMqtt, gst_ens_mqtt, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE(ensmqtt, "ensmqtt", GST_RANK_NONE, GST_TYPE_ENS_MQTT);

static GstStructure *stats_structure(const EnsMqttStats *st)
{
  return gst_structure_new(
      "ens-mqtt-stats", "messages", G_TYPE_UINT64, st->messages, "published", G_TYPE_UINT64,
      st->published, "acked", G_TYPE_UINT64, st->acked, "dropped", G_TYPE_UINT64, st->dropped,
      "resent", G_TYPE_UINT64, st->resent, "reconnects", G_TYPE_UINT64, st->reconnects, "queued",
      G_TYPE_UINT, st->queued, "connected", G_TYPE_BOOLEAN, st->connected, NULL);
}

/* Posts an `ens-mqtt` element message: event plus the current counters. */
static void post_event_message(GstEnsMqtt *self, const gchar *event, const gchar *detail,
                               const EnsMqttStats *st)
{
  GstStructure *s = stats_structure(st);
  gst_structure_set_name(s, "ens-mqtt");
  gst_structure_set(s, "event", G_TYPE_STRING, event, "detail", G_TYPE_STRING, detail, NULL);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

/* Sender thread: one WARNING per outage, an INFO when it ends, an element message for both. */
static void on_sender_event(EnsMqttEvent event, gboolean after_outage, const gchar *detail,
                            const EnsMqttStats *st, gpointer user_data)
{
  GstEnsMqtt *self = user_data;
  if (event == ENS_MQTT_UNREACHABLE) {
    GST_ELEMENT_WARNING(self, RESOURCE, WRITE,
                        ("MQTT broker unreachable (%s); queueing messages (oldest dropped when "
                         "max-queue is reached) and reconnecting",
                         detail),
                        (NULL));
    post_event_message(self, "disconnected", detail, st);
  } else if (after_outage) {
    GST_ELEMENT_INFO(
        self, RESOURCE, WRITE, ("MQTT broker %s reachable again", detail),
        ("%u messages queued, %" G_GUINT64_FORMAT " dropped so far", st->queued, st->dropped));
    post_event_message(self, "connected", detail, st);
  } else {
    GST_INFO_OBJECT(self, "connected to %s", detail);
    post_event_message(self, "connected", detail, st);
  }
}

static GstFlowReturn gst_ens_mqtt_transform_ip(GstBaseTransform *trans, GstBuffer *buf)
{
  GstEnsMqtt *self = GST_ENS_MQTT(trans);
  GstEnsJsonFrame frame = {
      .running_time = gst_ens_json_running_time(&trans->segment, buf),
      .frame = self->frame++,
      .width = self->width,
      .height = self->height,
  };
  gst_ens_json_format(self->line, buf, &frame);
  gsize len = self->line->len;
  ens_mqtt_sender_push(self->sender, g_strndup(self->line->str, len), len);
  return GST_FLOW_OK;
}

static gboolean gst_ens_mqtt_set_caps(GstBaseTransform *trans, GstCaps *incaps, GstCaps *outcaps)
{
  (void)outcaps;
  GstEnsMqtt *self = GST_ENS_MQTT(trans);
  gst_ens_json_caps_size(incaps, &self->width, &self->height);
  return TRUE;
}

/* EOS: give the sender up to flush-timeout to deliver what is queued, then say what is left. */
static void flush_at_eos(GstEnsMqtt *self)
{
  GST_OBJECT_LOCK(self);
  guint timeout = self->flush_timeout;
  GST_OBJECT_UNLOCK(self);
  guint left = ens_mqtt_sender_flush(self->sender, timeout);
  EnsMqttStats st;
  ens_mqtt_sender_get_stats(self->sender, &st);
  GST_INFO_OBJECT(self,
                  "EOS: %u messages left after flushing; %" G_GUINT64_FORMAT
                  " acked, %" G_GUINT64_FORMAT " dropped",
                  left, st.acked, st.dropped);
  if (left > 0)
    GST_ELEMENT_WARNING(
        self, RESOURCE, WRITE,
        ("%u MQTT messages were not delivered within flush-timeout (%u ms)", left, timeout),
        ("%" G_GUINT64_FORMAT " acknowledged, %" G_GUINT64_FORMAT " dropped", st.acked,
         st.dropped));
  gchar *detail = g_strdup_printf("%u left", left);
  post_event_message(self, "eos-flushed", detail, &st);
  g_free(detail);
}

static gboolean gst_ens_mqtt_sink_event(GstBaseTransform *trans, GstEvent *event)
{
  GstEnsMqtt *self = GST_ENS_MQTT(trans);
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS && self->sender)
    flush_at_eos(self);
  return GST_BASE_TRANSFORM_CLASS(parent_class)->sink_event(trans, event);
}

static gboolean gst_ens_mqtt_start(GstBaseTransform *trans)
{
  GstEnsMqtt *self = GST_ENS_MQTT(trans);
  GST_OBJECT_LOCK(self);
  g_free(self->resolved_topic);
  self->resolved_topic = self->topic && *self->topic
                             ? g_strdup(self->topic)
                             : g_strconcat(TOPIC_PREFIX, GST_OBJECT_NAME(self), NULL);
  EnsMqttConfig cfg = {
      .host = self->host,
      .port = self->port,
      .topic = self->resolved_topic,
      .qos = (gint)self->qos,
      .retain = self->retain,
      .client_id = self->client_id,
      .username = self->username && *self->username ? self->username : NULL,
      .password = self->password && *self->password ? self->password : NULL,
      .tls_ca_file = self->tls_ca_file && *self->tls_ca_file ? self->tls_ca_file : NULL,
      .tls_cert_file = self->tls_cert_file && *self->tls_cert_file ? self->tls_cert_file : NULL,
      .tls_key_file = self->tls_key_file && *self->tls_key_file ? self->tls_key_file : NULL,
      .max_queue = self->max_queue,
      .keepalive = self->keepalive,
  };
  /* The sender copies the settings before returning. */
  GError *err = NULL;
  self->frame = 0;
  self->width = self->height = 0;
  memset(&self->last_stats, 0, sizeof self->last_stats);
  EnsMqttSender *sender = ens_mqtt_sender_new(&cfg, on_sender_event, self, &err);
  self->sender = sender;
  GST_OBJECT_UNLOCK(self);
  if (!sender) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Invalid ensmqtt settings: %s", err->message),
                      (NULL));
    g_error_free(err);
    return FALSE;
  }
  GST_INFO_OBJECT(self, "publishing to %s:%u topic \"%s\" qos %u", cfg.host, cfg.port, cfg.topic,
                  cfg.qos);
  return TRUE;
}

static gboolean gst_ens_mqtt_stop(GstBaseTransform *trans)
{
  GstEnsMqtt *self = GST_ENS_MQTT(trans);
  GST_OBJECT_LOCK(self);
  EnsMqttSender *sender = self->sender;
  GST_OBJECT_UNLOCK(self);
  if (!sender)
    return TRUE;
  EnsMqttStats st;
  ens_mqtt_sender_get_stats(sender, &st);
  /* The sender thread may post bus messages until joined: never join under the object lock. */
  ens_mqtt_sender_free(sender);
  st.connected = FALSE;
  GST_OBJECT_LOCK(self);
  self->sender = NULL;
  self->last_stats = st;
  GST_OBJECT_UNLOCK(self);
  if (st.queued > 0)
    GST_INFO_OBJECT(self, "stopped with %u undelivered messages", st.queued);
  return TRUE;
}

/* Going down while the streaming thread waits in the EOS flush: end the wait first, otherwise
 * deactivating the sink pad would wait for flush-timeout. */
static GstStateChangeReturn gst_ens_mqtt_change_state(GstElement *element,
                                                      GstStateChange transition)
{
  GstEnsMqtt *self = GST_ENS_MQTT(element);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    GST_OBJECT_LOCK(self);
    if (self->sender)
      ens_mqtt_sender_cancel_flush(self->sender);
    GST_OBJECT_UNLOCK(self);
  }
  return GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);
}

/* Replaces a string property under the object lock. */
static void set_string(GstEnsMqtt *self, gchar **field, const GValue *value)
{
  GST_OBJECT_LOCK(self);
  g_free(*field);
  *field = g_value_dup_string(value);
  GST_OBJECT_UNLOCK(self);
}

static void set_uint(GstEnsMqtt *self, guint *field, const GValue *value)
{
  GST_OBJECT_LOCK(self);
  *field = g_value_get_uint(value);
  GST_OBJECT_UNLOCK(self);
}

static void gst_ens_mqtt_set_property(GObject *object, guint prop_id, const GValue *value,
                                      GParamSpec *pspec)
{
  GstEnsMqtt *self = GST_ENS_MQTT(object);
  switch (prop_id) {
    case PROP_HOST:
      set_string(self, &self->host, value);
      break;
    case PROP_PORT:
      set_uint(self, &self->port, value);
      break;
    case PROP_TOPIC:
      set_string(self, &self->topic, value);
      break;
    case PROP_QOS:
      set_uint(self, &self->qos, value);
      break;
    case PROP_CLIENT_ID:
      set_string(self, &self->client_id, value);
      break;
    case PROP_RETAIN:
      GST_OBJECT_LOCK(self);
      self->retain = g_value_get_boolean(value);
      GST_OBJECT_UNLOCK(self);
      break;
    case PROP_USERNAME:
      set_string(self, &self->username, value);
      break;
    case PROP_PASSWORD:
      set_string(self, &self->password, value);
      break;
    case PROP_TLS_CA_FILE:
      set_string(self, &self->tls_ca_file, value);
      break;
    case PROP_TLS_CERT_FILE:
      set_string(self, &self->tls_cert_file, value);
      break;
    case PROP_TLS_KEY_FILE:
      set_string(self, &self->tls_key_file, value);
      break;
    case PROP_MAX_QUEUE:
      set_uint(self, &self->max_queue, value);
      break;
    case PROP_KEEPALIVE:
      set_uint(self, &self->keepalive, value);
      break;
    case PROP_FLUSH_TIMEOUT:
      set_uint(self, &self->flush_timeout, value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_ens_mqtt_get_property(GObject *object, guint prop_id, GValue *value,
                                      GParamSpec *pspec)
{
  GstEnsMqtt *self = GST_ENS_MQTT(object);
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_HOST:
      g_value_set_string(value, self->host);
      break;
    case PROP_PORT:
      g_value_set_uint(value, self->port);
      break;
    case PROP_TOPIC:
      g_value_set_string(value, self->topic);
      break;
    case PROP_QOS:
      g_value_set_uint(value, self->qos);
      break;
    case PROP_CLIENT_ID:
      g_value_set_string(value, self->client_id);
      break;
    case PROP_RETAIN:
      g_value_set_boolean(value, self->retain);
      break;
    case PROP_USERNAME:
      g_value_set_string(value, self->username);
      break;
    case PROP_TLS_CA_FILE:
      g_value_set_string(value, self->tls_ca_file);
      break;
    case PROP_TLS_CERT_FILE:
      g_value_set_string(value, self->tls_cert_file);
      break;
    case PROP_TLS_KEY_FILE:
      g_value_set_string(value, self->tls_key_file);
      break;
    case PROP_MAX_QUEUE:
      g_value_set_uint(value, self->max_queue);
      break;
    case PROP_KEEPALIVE:
      g_value_set_uint(value, self->keepalive);
      break;
    case PROP_FLUSH_TIMEOUT:
      g_value_set_uint(value, self->flush_timeout);
      break;
    case PROP_STATS: {
      /* The sender lock nests inside the object lock; the sender never takes the object lock
       * while holding its own. */
      EnsMqttStats st = self->last_stats;
      if (self->sender)
        ens_mqtt_sender_get_stats(self->sender, &st);
      g_value_take_boxed(value, stats_structure(&st));
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_ens_mqtt_finalize(GObject *object)
{
  GstEnsMqtt *self = GST_ENS_MQTT(object);
  g_free(self->host);
  g_free(self->topic);
  g_free(self->client_id);
  g_free(self->username);
  g_free(self->password);
  g_free(self->tls_ca_file);
  g_free(self->tls_cert_file);
  g_free(self->tls_key_file);
  g_free(self->resolved_topic);
  g_string_free(self->line, TRUE);
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

#define RW_READY (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)

static void install_string(GObjectClass *klass, guint id, const gchar *name, const gchar *nick,
                           const gchar *blurb, const gchar *def, GParamFlags flags)
{
  g_object_class_install_property(klass, id, g_param_spec_string(name, nick, blurb, def, flags));
}

static void install_uint(GObjectClass *klass, guint id, const gchar *name, const gchar *nick,
                         const gchar *blurb, guint min, guint max, guint def)
{
  g_object_class_install_property(klass, id,
                                  g_param_spec_uint(name, nick, blurb, min, max, def, RW_READY));
}

static void install_properties(GObjectClass *k)
{
  install_string(k, PROP_HOST, "host", "Host", "MQTT broker host name or address", DEFAULT_HOST,
                 RW_READY);
  install_uint(k, PROP_PORT, "port", "Port",
               "MQTT broker TCP port (0 is rejected at start with an error)", 0, 65535,
               DEFAULT_PORT);
  install_string(k, PROP_TOPIC, "topic", "Topic",
                 "Topic to publish to; unset = \"ens/<element name>\"", NULL, RW_READY);
  install_uint(k, PROP_QOS, "qos", "QoS",
               "0: at most once; 1: at least once (kept and resent after a reconnect until the "
               "broker's PUBACK)",
               0, 1, DEFAULT_QOS);
  install_string(k, PROP_CLIENT_ID, "client-id", "Client ID",
                 "MQTT client identifier; unset = a random one", NULL, RW_READY);
  g_object_class_install_property(
      k, PROP_RETAIN,
      g_param_spec_boolean("retain", "Retain",
                           "Set the retain flag (the broker keeps the last message for new "
                           "subscribers)",
                           FALSE, RW_READY));
  install_string(k, PROP_USERNAME, "username", "Username", "MQTT user name (unset = none)", NULL,
                 RW_READY);
  install_string(k, PROP_PASSWORD, "password", "Password",
                 "MQTT password (needs username; write-only)", NULL,
                 G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  install_string(k, PROP_TLS_CA_FILE, "tls-ca-file", "TLS CA file",
                 "PEM file of the CA that signed the broker's certificate; setting it enables TLS",
                 NULL, RW_READY);
  install_string(k, PROP_TLS_CERT_FILE, "tls-cert-file", "TLS client certificate",
                 "PEM client certificate (with tls-key-file and tls-ca-file)", NULL, RW_READY);
  install_string(k, PROP_TLS_KEY_FILE, "tls-key-file", "TLS client key",
                 "PEM private key of tls-cert-file (unencrypted)", NULL, RW_READY);
  install_uint(k, PROP_MAX_QUEUE, "max-queue", "Max queue",
               "Messages held while waiting to be sent or acknowledged; when full the oldest is "
               "dropped (and counted in stats)",
               1, 65535, DEFAULT_MAX_QUEUE);
  install_uint(k, PROP_KEEPALIVE, "keepalive", "Keepalive",
               "MQTT keepalive in seconds (0 = off, else at least 5)", 0, 65535, DEFAULT_KEEPALIVE);
  install_uint(k, PROP_FLUSH_TIMEOUT, "flush-timeout", "Flush timeout",
               "At EOS, wait up to this many ms for queued messages to be acknowledged", 0,
               G_MAXUINT, DEFAULT_FLUSH_TIMEOUT);
  g_object_class_install_property(
      k, PROP_STATS,
      g_param_spec_boxed("stats", "Statistics",
                         "ens-mqtt-stats: messages, published, acked, dropped, resent, "
                         "reconnects (guint64), queued (guint), connected (boolean)",
                         GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

static void gst_ens_mqtt_class_init(GstEnsMqttClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(ens_mqtt_debug, "ensmqtt", 0, "ens MQTT publisher");

  gobject_class->set_property = gst_ens_mqtt_set_property;
  gobject_class->get_property = gst_ens_mqtt_get_property;
  gobject_class->finalize = gst_ens_mqtt_finalize;
  install_properties(gobject_class);
  element_class->change_state = GST_DEBUG_FUNCPTR(gst_ens_mqtt_change_state);

  gst_element_class_set_static_metadata(
      element_class, "ens MQTT publisher", "Filter/Analyzer/Video",
      "Passes video through and publishes each frame's ens classification results as a JSON "
      "MQTT message",
      GST_ENS_AUTHOR);
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR(gst_ens_mqtt_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_ens_mqtt_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_ens_mqtt_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_ens_mqtt_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR(gst_ens_mqtt_transform_ip);
}

static void gst_ens_mqtt_init(GstEnsMqtt *self)
{
  self->host = g_strdup(DEFAULT_HOST);
  self->port = DEFAULT_PORT;
  self->qos = DEFAULT_QOS;
  self->max_queue = DEFAULT_MAX_QUEUE;
  self->keepalive = DEFAULT_KEEPALIVE;
  self->flush_timeout = DEFAULT_FLUSH_TIMEOUT;
  self->line = g_string_sized_new(512);
  gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), TRUE);
}
