/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ensmqttsender.c - bounded message queue + the sender thread owning the libmosquitto client
 * (see ensmqttsender.h for the guarantees).
 *
 * The thread runs libmosquitto's "external loop": poll() on the client socket and on a wake-up
 * pipe the streaming thread writes to, then mosquitto_loop_read / _write / _misc. Each
 * connection gets a fresh client (mosquitto_new), so libmosquitto never resends anything on its
 * own: which messages go out again after a reconnect, and in which order, is decided here only.
 * libmosquitto callbacks run in this thread inside loop calls; they only record what happened
 * and the loop acts on it afterwards, so no lock is ever held across a callback. */
#include "ensmqttsender.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <mosquitto.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
/* A TCP connect or CONNACK that takes longer counts as a failed attempt. */
#define CONNECT_TIMEOUT_US (5 * G_USEC_PER_SEC)
/* Longest poll() sleep while connected: mosquitto_loop_misc sends keepalive PINGREQs. */
#define POLL_MAX_MS 500
#define PUBLISH_BATCH 64

typedef struct {
  gchar *payload;
  gsize len;
  gint mid;        /* libmosquitto message id while in flight */
  gboolean resend; /* was in flight on an earlier connection */
} Msg;

struct _EnsMqttSender {
  /* settings, fixed after new() */
  gchar *host, *topic, *client_id, *username, *password;
  gchar *tls_ca_file, *tls_cert_file, *tls_key_file;
  guint port, max_queue, keepalive;
  gint qos;
  gboolean retain;
  EnsMqttEventFunc on_event;
  gpointer user_data;

  /* shared with the streaming thread, under lock */
  GMutex lock;
  GCond drained;   /* signalled when the queue shrinks */
  GQueue pending;  /* Msg*, not yet handed to the current connection, oldest first */
  GQueue inflight; /* Msg*, handed to it, waiting for acknowledgement, oldest first */
  EnsMqttStats stats;
  gboolean stopping;
  gboolean flush_cancelled;
  gint wake_fds[2]; /* [0] read by the sender thread, [1] written by push() / free() */

  GThread *thread;

  /* sender thread only */
  struct mosquitto *mosq;
  gboolean connected;      /* CONNACK accepted on the current client */
  gboolean ever_connected; /* to count reconnects */
  gboolean in_outage;      /* UNREACHABLE reported, CONNECTED not yet */
  gint64 attempt_started;  /* monotonic us */
  gint64 next_attempt;     /* monotonic us */
  guint backoff_ms;
  /* recorded by the libmosquitto callbacks, acted on after the loop call returns */
  GArray *acked_mids; /* gint */
  gboolean got_connack;
  gint connack_rc;
  gboolean got_disconnect;
};

static void msg_free(gpointer data)
{
  Msg *m = data;
  g_free(m->payload);
  g_free(m);
}

static void wake(EnsMqttSender *s)
{
  /* The pipe is non-blocking: a full pipe already means "wake up". */
  ssize_t r = write(s->wake_fds[1], "w", 1);
  (void)r;
}

static void drain_wake(EnsMqttSender *s)
{
  gchar buf[64];
  while (read(s->wake_fds[0], buf, sizeof buf) > 0)
    ;
}

static gboolean is_stopping(EnsMqttSender *s)
{
  g_mutex_lock(&s->lock);
  gboolean stop = s->stopping;
  g_mutex_unlock(&s->lock);
  return stop;
}

/* --- libmosquitto callbacks (sender thread, inside loop calls): record only --- */

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
  (void)mosq;
  EnsMqttSender *s = obj;
  s->got_connack = TRUE;
  s->connack_rc = rc;
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
  (void)mosq;
  (void)rc;
  EnsMqttSender *s = obj;
  s->got_disconnect = TRUE;
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
  (void)mosq;
  EnsMqttSender *s = obj;
  g_array_append_val(s->acked_mids, mid);
}

/* --- connection management (sender thread) --- */

/* Applies the settings to a new client. Returns a MOSQ_ERR_* code. */
static int configure_client(EnsMqttSender *s, struct mosquitto *mosq)
{
  int rc = MOSQ_ERR_SUCCESS;
  if (s->username)
    rc = mosquitto_username_pw_set(mosq, s->username, s->password);
  if (rc == MOSQ_ERR_SUCCESS && (s->tls_ca_file || s->tls_cert_file || s->tls_key_file))
    rc = mosquitto_tls_set(mosq, s->tls_ca_file, NULL, s->tls_cert_file, s->tls_key_file, NULL);
  mosquitto_connect_callback_set(mosq, on_connect);
  mosquitto_disconnect_callback_set(mosq, on_disconnect);
  mosquitto_publish_callback_set(mosq, on_publish);
  return rc;
}

static void report_unreachable(EnsMqttSender *s, const gchar *why)
{
  if (s->in_outage)
    return;
  s->in_outage = TRUE;
  EnsMqttStats st;
  ens_mqtt_sender_get_stats(s, &st);
  if (s->on_event)
    s->on_event(ENS_MQTT_UNREACHABLE, FALSE, why, &st, s->user_data);
}

/* Ends the current attempt or connection: everything in flight goes back to the head of the
 * queue, in order, to be sent again on the next connection; the next attempt is scheduled. */
static void connection_failed(EnsMqttSender *s, const gchar *why)
{
  g_debug("ensmqtt: %s:%u: %s; retrying in %u ms", s->host, s->port, why, s->backoff_ms);
  if (s->mosq) {
    mosquitto_destroy(s->mosq);
    s->mosq = NULL;
  }
  g_mutex_lock(&s->lock);
  Msg *m;
  while ((m = g_queue_pop_tail(&s->inflight))) {
    m->resend = TRUE;
    g_queue_push_head(&s->pending, m);
  }
  s->stats.connected = FALSE;
  g_mutex_unlock(&s->lock);
  s->connected = FALSE;
  s->got_connack = s->got_disconnect = FALSE;
  g_array_set_size(s->acked_mids, 0);
  s->next_attempt = g_get_monotonic_time() + (gint64)s->backoff_ms * 1000;
  s->backoff_ms = MIN(s->backoff_ms * 2, BACKOFF_MAX_MS);
  report_unreachable(s, why);
}

static void start_attempt(EnsMqttSender *s)
{
  s->attempt_started = g_get_monotonic_time();
  s->mosq = mosquitto_new(s->client_id, TRUE, s);
  if (!s->mosq) {
    connection_failed(s, "could not create the MQTT client (out of memory)");
    return;
  }
  int rc = configure_client(s, s->mosq);
  if (rc == MOSQ_ERR_SUCCESS) {
    errno = 0;
    rc = mosquitto_connect_async(s->mosq, s->host, (int)s->port, (int)s->keepalive);
  }
  if (rc != MOSQ_ERR_SUCCESS) {
    gchar *why = g_strdup_printf("cannot connect to %s:%u: %s", s->host, s->port,
                                 rc == MOSQ_ERR_ERRNO ? g_strerror(errno) : mosquitto_strerror(rc));
    connection_failed(s, why);
    g_free(why);
  }
}

/* Moves the queue head to the connection, in order, while the client accepts messages, at most
 * PUBLISH_BATCH per round so acknowledgements are read in between. One message per lock hold:
 * publishing only queues a packet and tries a non-blocking write. */
static int publish_pending(EnsMqttSender *s)
{
  for (guint n = 0;; n++) {
    if (n == PUBLISH_BATCH) {
      wake(s); /* more to do: come back right after the next read / write */
      return MOSQ_ERR_SUCCESS;
    }
    g_mutex_lock(&s->lock);
    Msg *m = g_queue_peek_head(&s->pending);
    if (!m) {
      g_mutex_unlock(&s->lock);
      return MOSQ_ERR_SUCCESS;
    }
    int mid = 0;
    int rc = mosquitto_publish(s->mosq, &mid, s->topic, (int)m->len, m->payload, s->qos, s->retain);
    if (rc != MOSQ_ERR_SUCCESS) {
      g_mutex_unlock(&s->lock);
      return rc;
    }
    g_queue_pop_head(&s->pending);
    m->mid = mid;
    g_queue_push_tail(&s->inflight, m);
    if (m->resend)
      s->stats.resent++;
    else
      s->stats.published++;
    g_mutex_unlock(&s->lock);
  }
}

/* Drops acknowledged messages from the in-flight list. A message dropped from a full queue
 * while in flight is not found: nothing to do. */
static void apply_acks(EnsMqttSender *s)
{
  if (s->acked_mids->len == 0)
    return;
  g_mutex_lock(&s->lock);
  for (guint i = 0; i < s->acked_mids->len; i++) {
    gint mid = g_array_index(s->acked_mids, gint, i);
    for (GList *l = s->inflight.head; l; l = l->next) {
      Msg *m = l->data;
      if (m->mid == mid) {
        g_queue_delete_link(&s->inflight, l);
        msg_free(m);
        s->stats.acked++;
        break;
      }
    }
  }
  g_cond_broadcast(&s->drained);
  g_mutex_unlock(&s->lock);
  g_array_set_size(s->acked_mids, 0);
}

/* Handles a CONNACK seen by the last loop call. Returns FALSE if the broker refused. */
static gboolean apply_connack(EnsMqttSender *s)
{
  s->got_connack = FALSE;
  if (s->connack_rc != 0) {
    gchar *why = g_strdup_printf("broker %s:%u refused the connection: %s", s->host, s->port,
                                 mosquitto_connack_string(s->connack_rc));
    connection_failed(s, why);
    g_free(why);
    return FALSE;
  }
  s->connected = TRUE;
  s->backoff_ms = BACKOFF_MIN_MS;
  g_mutex_lock(&s->lock);
  s->stats.connected = TRUE;
  if (s->ever_connected)
    s->stats.reconnects++;
  g_mutex_unlock(&s->lock);
  s->ever_connected = TRUE;
  gboolean after_outage = s->in_outage;
  s->in_outage = FALSE;
  if (s->on_event) {
    EnsMqttStats st;
    ens_mqtt_sender_get_stats(s, &st);
    gchar *where = g_strdup_printf("%s:%u", s->host, s->port);
    s->on_event(ENS_MQTT_CONNECTED, after_outage, where, &st, s->user_data);
    g_free(where);
  }
  return TRUE;
}

static const gchar *loop_error(int rc)
{
  return rc == MOSQ_ERR_ERRNO ? g_strerror(errno) : mosquitto_strerror(rc);
}

/* One round on an open client: wait for socket activity, a wake-up or the poll timeout, then let
 * libmosquitto read, write and do its housekeeping, and act on what it reported. */
static void service_client(EnsMqttSender *s)
{
  int sock = mosquitto_socket(s->mosq);
  if (sock < 0) {
    connection_failed(s, "connection closed");
    return;
  }
  gint timeout_ms = POLL_MAX_MS;
  if (!s->connected) {
    gint64 left = s->attempt_started + CONNECT_TIMEOUT_US - g_get_monotonic_time();
    if (left <= 0) {
      gchar *why = g_strdup_printf("no answer from %s:%u within %d s", s->host, s->port,
                                   (int)(CONNECT_TIMEOUT_US / G_USEC_PER_SEC));
      connection_failed(s, why);
      g_free(why);
      return;
    }
    timeout_ms = (gint)MIN(left / 1000 + 1, POLL_MAX_MS);
  }
  struct pollfd fds[2] = {
      {.fd = sock, .events = POLLIN | (mosquitto_want_write(s->mosq) ? POLLOUT : 0)},
      {.fd = s->wake_fds[0], .events = POLLIN},
  };
  if (poll(fds, 2, timeout_ms) < 0 && errno != EINTR) {
    connection_failed(s, g_strerror(errno));
    return;
  }
  if (fds[1].revents)
    drain_wake(s);

  int rc = MOSQ_ERR_SUCCESS;
  errno = 0;
  /* Before the CONNACK a TLS handshake may be in progress: libmosquitto continues it from
   * loop_read, so that also runs when the socket only became writable. */
  gboolean handshake = !s->connected && s->tls_ca_file && (fds[0].revents & POLLOUT);
  if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) || handshake)
    rc = mosquitto_loop_read(s->mosq, 16);
  if (rc == MOSQ_ERR_SUCCESS && (fds[0].revents & POLLOUT))
    rc = mosquitto_loop_write(s->mosq, 16);
  if (rc == MOSQ_ERR_SUCCESS)
    rc = mosquitto_loop_misc(s->mosq);
  if (rc == MOSQ_ERR_SUCCESS && s->got_connack && !apply_connack(s))
    return;
  apply_acks(s);
  if (rc == MOSQ_ERR_SUCCESS && s->got_disconnect)
    rc = MOSQ_ERR_CONN_LOST;
  if (rc == MOSQ_ERR_SUCCESS && s->connected)
    rc = publish_pending(s);
  /* QoS 0 completions of the writes publish_pending just made */
  apply_acks(s);
  if (rc != MOSQ_ERR_SUCCESS) {
    gchar *why = g_strdup_printf("connection to %s:%u lost: %s", s->host, s->port, loop_error(rc));
    connection_failed(s, why);
    g_free(why);
  }
}

static void wait_for_next_attempt(EnsMqttSender *s)
{
  gint64 left = s->next_attempt - g_get_monotonic_time();
  if (left <= 0)
    return;
  struct pollfd fd = {.fd = s->wake_fds[0], .events = POLLIN};
  if (poll(&fd, 1, (int)(left / 1000) + 1) > 0)
    drain_wake(s);
}

static gpointer sender_thread(gpointer data)
{
  EnsMqttSender *s = data;
  while (!is_stopping(s)) {
    if (s->mosq)
      service_client(s);
    else if (g_get_monotonic_time() >= s->next_attempt)
      start_attempt(s);
    else
      wait_for_next_attempt(s);
  }
  if (s->mosq) {
    if (s->connected) {
      /* Best effort: a DISCONNECT lets the broker drop the session cleanly. */
      if (mosquitto_disconnect(s->mosq) == MOSQ_ERR_SUCCESS)
        mosquitto_loop_write(s->mosq, 1);
    }
    mosquitto_destroy(s->mosq);
    s->mosq = NULL;
  }
  return NULL;
}

/* --- settings --- */

static gboolean check_readable(const gchar *prop, const gchar *path, GError **error)
{
  if (!path)
    return TRUE;
  FILE *f = fopen(path, "rb");
  if (!f) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                "%s \"%s\" cannot be read: %s; set %s to a readable PEM file", prop, path,
                g_strerror(e), prop);
    return FALSE;
  }
  fclose(f);
  return TRUE;
}

static gboolean check_config(const EnsMqttConfig *cfg, GError **error)
{
  if (!cfg->host || !*cfg->host) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "host is empty; set host to the MQTT broker's name or address");
    return FALSE;
  }
  if (cfg->port < 1 || cfg->port > 65535) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "port %u is not a TCP port; set port to the broker's port (1883, or 8883 for TLS)",
                cfg->port);
    return FALSE;
  }
  if (!cfg->topic || !*cfg->topic || mosquitto_pub_topic_check(cfg->topic) != MOSQ_ERR_SUCCESS) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "topic \"%s\" is not a valid topic to publish to (no '+' or '#' wildcards, not "
                "empty)",
                cfg->topic ? cfg->topic : "");
    return FALSE;
  }
  if (cfg->qos < 0 || cfg->qos > 1) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "qos %d: use 0 or 1", cfg->qos);
    return FALSE;
  }
  if (cfg->max_queue < 1 || cfg->max_queue > 65535) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "max-queue %u: use 1..65535",
                cfg->max_queue);
    return FALSE;
  }
  if (cfg->keepalive != 0 && cfg->keepalive < 5) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "keepalive %u s: libmosquitto needs at least 5 s (or 0 to disable)",
                cfg->keepalive);
    return FALSE;
  }
  if (cfg->password && !cfg->username) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "password is set without username; MQTT sends a password only with a username");
    return FALSE;
  }
  if (!cfg->tls_cert_file != !cfg->tls_key_file) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "tls-cert-file and tls-key-file go together (client certificate and its key); "
                "set both or neither");
    return FALSE;
  }
  if (cfg->tls_cert_file && !cfg->tls_ca_file) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "tls-cert-file needs tls-ca-file (the CA that signed the broker's certificate)");
    return FALSE;
  }
  return check_readable("tls-ca-file", cfg->tls_ca_file, error) &&
         check_readable("tls-cert-file", cfg->tls_cert_file, error) &&
         check_readable("tls-key-file", cfg->tls_key_file, error);
}

/* Runs the client set-up once here so a setting libmosquitto rejects is reported at start, not
 * as a retried connection failure. */
static gboolean check_client_setup(EnsMqttSender *s, GError **error)
{
  struct mosquitto *mosq = mosquitto_new(s->client_id, TRUE, s);
  if (!mosq) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "could not create an MQTT client%s%s%s: %s",
                s->client_id ? " with client-id \"" : "", s->client_id ? s->client_id : "",
                s->client_id ? "\"" : "", g_strerror(errno));
    return FALSE;
  }
  int rc = configure_client(s, mosq);
  mosquitto_destroy(mosq);
  if (rc != MOSQ_ERR_SUCCESS) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "libmosquitto rejected the credentials or TLS files (username, tls-ca-file, "
                "tls-cert-file, tls-key-file): %s",
                mosquitto_strerror(rc));
    return FALSE;
  }
  return TRUE;
}

static gsize lib_init_done;

EnsMqttSender *ens_mqtt_sender_new(const EnsMqttConfig *cfg, EnsMqttEventFunc on_event,
                                   gpointer user_data, GError **error)
{
  if (g_once_init_enter(&lib_init_done)) {
    /* Process-wide (socket and TLS library set-up); never undone while the plugin is loaded. */
    mosquitto_lib_init();
    g_once_init_leave(&lib_init_done, 1);
  }
  if (!check_config(cfg, error))
    return NULL;

  EnsMqttSender *s = g_new0(EnsMqttSender, 1);
  s->host = g_strdup(cfg->host);
  s->topic = g_strdup(cfg->topic);
  s->client_id = g_strdup(cfg->client_id && *cfg->client_id ? cfg->client_id : NULL);
  s->username = g_strdup(cfg->username);
  s->password = g_strdup(cfg->password);
  s->tls_ca_file = g_strdup(cfg->tls_ca_file);
  s->tls_cert_file = g_strdup(cfg->tls_cert_file);
  s->tls_key_file = g_strdup(cfg->tls_key_file);
  s->port = cfg->port;
  s->max_queue = cfg->max_queue;
  s->keepalive = cfg->keepalive;
  s->qos = cfg->qos;
  s->retain = cfg->retain;
  s->on_event = on_event;
  s->user_data = user_data;
  g_mutex_init(&s->lock);
  g_cond_init(&s->drained);
  g_queue_init(&s->pending);
  g_queue_init(&s->inflight);
  s->acked_mids = g_array_new(FALSE, FALSE, sizeof(gint));
  s->backoff_ms = BACKOFF_MIN_MS;
  s->wake_fds[0] = s->wake_fds[1] = -1;

  GError *pipe_err = NULL;
  if (!check_client_setup(s, error))
    goto fail;
  if (!g_unix_open_pipe(s->wake_fds, FD_CLOEXEC, &pipe_err) ||
      !g_unix_set_fd_nonblocking(s->wake_fds[0], TRUE, &pipe_err) ||
      !g_unix_set_fd_nonblocking(s->wake_fds[1], TRUE, &pipe_err)) {
    g_propagate_prefixed_error(error, pipe_err, "ensmqtt: ");
    goto fail;
  }
  s->thread = g_thread_try_new("ensmqtt-send", sender_thread, s, error);
  if (!s->thread)
    goto fail;
  return s;

fail:
  ens_mqtt_sender_free(s);
  return NULL;
}

void ens_mqtt_sender_push(EnsMqttSender *s, gchar *payload, gsize len)
{
  Msg *m = g_new0(Msg, 1);
  m->payload = payload;
  m->len = len;
  g_mutex_lock(&s->lock);
  g_queue_push_tail(&s->pending, m);
  s->stats.messages++;
  /* Full: the oldest goes first (in flight ones are older than waiting ones). */
  while (s->pending.length + s->inflight.length > s->max_queue) {
    Msg *old = s->inflight.length ? g_queue_pop_head(&s->inflight) : g_queue_pop_head(&s->pending);
    msg_free(old);
    s->stats.dropped++;
  }
  g_mutex_unlock(&s->lock);
  wake(s);
}

guint ens_mqtt_sender_flush(EnsMqttSender *s, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  g_mutex_lock(&s->lock);
  while (s->pending.length + s->inflight.length > 0 && !s->flush_cancelled &&
         g_cond_wait_until(&s->drained, &s->lock, deadline))
    ;
  guint left = s->pending.length + s->inflight.length;
  g_mutex_unlock(&s->lock);
  return left;
}

void ens_mqtt_sender_cancel_flush(EnsMqttSender *s)
{
  g_mutex_lock(&s->lock);
  s->flush_cancelled = TRUE;
  g_cond_broadcast(&s->drained);
  g_mutex_unlock(&s->lock);
}

void ens_mqtt_sender_get_stats(EnsMqttSender *s, EnsMqttStats *out)
{
  g_mutex_lock(&s->lock);
  *out = s->stats;
  out->queued = s->pending.length + s->inflight.length;
  g_mutex_unlock(&s->lock);
}

void ens_mqtt_sender_free(EnsMqttSender *s)
{
  if (!s)
    return;
  if (s->thread) {
    g_mutex_lock(&s->lock);
    s->stopping = TRUE;
    g_mutex_unlock(&s->lock);
    wake(s);
    g_thread_join(s->thread);
  }
  for (int i = 0; i < 2; i++)
    if (s->wake_fds[i] >= 0)
      close(s->wake_fds[i]);
  g_queue_clear_full(&s->pending, msg_free);
  g_queue_clear_full(&s->inflight, msg_free);
  g_array_free(s->acked_mids, TRUE);
  g_cond_clear(&s->drained);
  g_mutex_clear(&s->lock);
  g_free(s->host);
  g_free(s->topic);
  g_free(s->client_id);
  g_free(s->username);
  g_free(s->password);
  g_free(s->tls_ca_file);
  g_free(s->tls_cert_file);
  g_free(s->tls_key_file);
  g_free(s);
}
