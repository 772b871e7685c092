/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ensmqttsender.h - the MQTT side of ensmqtt: a bounded message queue and the thread that owns
 * the libmosquitto client.
 *
 * The streaming thread only calls ens_mqtt_sender_push(), which appends to the queue (dropping
 * the oldest message when it is full) and wakes the sender thread: it never waits for the
 * network. The sender thread connects, publishes queued messages in order, keeps each one until
 * the broker acknowledges it (PUBACK for QoS 1; written to the socket for QoS 0), and on a lost
 * connection puts the unacknowledged ones back at the head of the queue, reconnects with
 * exponential backoff (100 ms doubling to 5 s) and sends them again in order. No GStreamer
 * objects here: connection changes are reported through a callback. */
#ifndef ENS_MQTT_SENDER_H
#define ENS_MQTT_SENDER_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const gchar *host;
  guint port;
  const gchar *topic;
  gint qos; /* 0 or 1 */
  gboolean retain;
  const gchar *client_id; /* NULL: the library makes a random one */
  const gchar *username, *password;
  const gchar *tls_ca_file, *tls_cert_file, *tls_key_file; /* any set: TLS */
  guint max_queue;                                         /* messages held, 1..65535 */
  guint keepalive;                                         /* seconds */
} EnsMqttConfig;

typedef struct {
  guint64 messages;   /* pushed by the stream */
  guint64 published;  /* handed to the broker connection for the first time */
  guint64 resent;     /* sent again on a new connection (not acknowledged on the old one) */
  guint64 acked;      /* acknowledged: PUBACK (QoS 1) or fully written (QoS 0) */
  guint64 dropped;    /* discarded because the queue was full (oldest first) */
  guint64 reconnects; /* successful connections after the first */
  guint queued;       /* held now: waiting to be sent or waiting for acknowledgement */
  gboolean connected;
} EnsMqttStats;

typedef enum {
  ENS_MQTT_CONNECTED,   /* CONNACK accepted; detail: "host:port" */
  ENS_MQTT_UNREACHABLE, /* first failure of an outage (lost, refused, timed out); detail: why */
} EnsMqttEvent;

/* Called from the sender thread, without any sender lock held. after_outage: for
 * ENS_MQTT_CONNECTED, TRUE when an ENS_MQTT_UNREACHABLE came before. stats: the counters then. */
typedef void (*EnsMqttEventFunc)(EnsMqttEvent event, gboolean after_outage, const gchar *detail,
                                 const EnsMqttStats *stats, gpointer user_data);

typedef struct _EnsMqttSender EnsMqttSender;

/* Checks cfg (port, topic, TLS files readable, credentials) and starts the sender thread,
 * which starts connecting. On bad settings returns NULL with *error (G_FILE_ERROR_INVAL or,
 * for an unreadable file, the G_FILE_ERROR of its errno) whose message names the property to fix.
 */
EnsMqttSender *ens_mqtt_sender_new(const EnsMqttConfig *cfg, EnsMqttEventFunc on_event,
                                   gpointer user_data, GError **error);

/* Queues a message (takes ownership of payload, g_free'd). Never blocks on the network. */
void ens_mqtt_sender_push(EnsMqttSender *s, gchar *payload, gsize len);

/* Waits until every queued message is acknowledged or timeout_ms passes; returns how many are
 * still held. */
guint ens_mqtt_sender_flush(EnsMqttSender *s, guint timeout_ms);

/* Makes a running (and any later) ens_mqtt_sender_flush return at once: shutting down must not
 * wait for flush-timeout. */
void ens_mqtt_sender_cancel_flush(EnsMqttSender *s);

void ens_mqtt_sender_get_stats(EnsMqttSender *s, EnsMqttStats *out);

/* Stops and joins the sender thread (sending DISCONNECT if connected), frees everything. Messages
 * still held are discarded. */
void ens_mqtt_sender_free(EnsMqttSender *s);

G_END_DECLS

#endif
