/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mqtt_test_broker.c - see mqtt_test_broker.h. */
#include "mqtt_test_broker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <mosquitto.h>

struct TestBroker {
  gchar *dir, *conf;
  guint port;
  GPid pid; /* 0 when not running */
};

struct TestSub {
  struct mosquitto *mosq;
  GMutex lock;
  GCond changed;
  GPtrArray *messages; /* gchar* */
  gboolean subscribed;
  gchar *topic;
};

gboolean test_broker_available(void)
{
  return g_file_test(TEST_MOSQUITTO, G_FILE_TEST_IS_EXECUTABLE);
}

/* The kernel's pick for an ephemeral bind. */
guint test_free_port(void)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  fail_unless(fd >= 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  fail_unless(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
  socklen_t len = sizeof a;
  fail_unless(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
  close(fd);
  return ntohs(a.sin_port);
}

static gboolean port_accepts(guint port)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((guint16)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  gboolean ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

TestBroker *test_broker_new(void)
{
  return test_broker_new_with("");
}

TestBroker *test_broker_new_with(const gchar *extra_conf)
{
  TestBroker *b = g_new0(TestBroker, 1);
  b->dir = g_dir_make_tmp("ens-mqtt-broker-XXXXXX", NULL);
  fail_unless(b->dir != NULL);
  b->port = test_free_port();
  b->conf = g_build_filename(b->dir, "mosquitto.conf", NULL);
  /* persistence: a restarted broker still has the subscriber's session and the messages queued
   * for it (saved at SIGTERM). user: stay the current user (as root mosquitto would switch to
   * "mosquitto", which cannot write the directory). */
  gchar *text = g_strdup_printf("listener %u 127.0.0.1\n"
                                "allow_anonymous true\n"
                                "persistence true\n"
                                "persistence_location %s/\n"
                                "log_dest file %s/broker.log\n"
                                "user %s\n"
                                "%s",
                                b->port, b->dir, b->dir, g_get_user_name(), extra_conf);
  fail_unless(g_file_set_contents(b->conf, text, -1, NULL));
  g_free(text);
  return b;
}

guint test_broker_port(const TestBroker *b)
{
  return b->port;
}

/* In the broker process before exec: die with the test (a failing check leaves no broker). */
static void die_with_parent(gpointer data)
{
  (void)data;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
}

void test_broker_start(TestBroker *b)
{
  fail_unless(b->pid == 0);
  gchar *argv[] = {TEST_MOSQUITTO, "-c", b->conf, NULL};
  GError *err = NULL;
  fail_unless(g_spawn_async(NULL, argv, NULL,
                            G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                G_SPAWN_STDERR_TO_DEV_NULL,
                            die_with_parent, NULL, &b->pid, &err),
              "cannot run %s: %s", TEST_MOSQUITTO, err ? err->message : "");
  gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  while (!port_accepts(b->port)) {
    int status;
    fail_if(waitpid(b->pid, &status, WNOHANG) == b->pid, "mosquitto exited (see %s/broker.log)",
            b->dir);
    fail_unless(g_get_monotonic_time() < deadline, "mosquitto not listening on %u after 5 s",
                b->port);
    g_usleep(10000);
  }
}

void test_broker_stop(TestBroker *b)
{
  if (!b->pid)
    return;
  fail_unless(kill(b->pid, SIGTERM) == 0);
  fail_unless(kill(b->pid, SIGCONT) == 0);
  int status;
  fail_unless(waitpid(b->pid, &status, 0) == b->pid);
  g_spawn_close_pid(b->pid);
  b->pid = 0;
}

void test_broker_freeze(TestBroker *b)
{
  fail_unless(b->pid != 0);
  fail_unless(kill(b->pid, SIGSTOP) == 0);
}

void test_broker_free(TestBroker *b)
{
  test_broker_stop(b);
  GDir *d = g_dir_open(b->dir, 0, NULL);
  const gchar *name;
  while (d && (name = g_dir_read_name(d))) {
    gchar *p = g_build_filename(b->dir, name, NULL);
    g_unlink(p);
    g_free(p);
  }
  if (d)
    g_dir_close(d);
  g_rmdir(b->dir);
  g_free(b->dir);
  g_free(b->conf);
  g_free(b);
}

/* --- subscriber (callbacks run on libmosquitto's own thread) --- */

static void sub_on_connect(struct mosquitto *mosq, void *obj, int rc)
{
  TestSub *s = obj;
  if (rc == 0)
    mosquitto_subscribe(mosq, NULL, s->topic, 1);
}

static void sub_on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted)
{
  (void)mosq;
  (void)mid;
  TestSub *s = obj;
  g_mutex_lock(&s->lock);
  s->subscribed = n == 1 && granted[0] == 1;
  g_cond_broadcast(&s->changed);
  g_mutex_unlock(&s->lock);
}

static void sub_on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m)
{
  (void)mosq;
  TestSub *s = obj;
  g_mutex_lock(&s->lock);
  g_ptr_array_add(s->messages, g_strndup(m->payload, (gsize)m->payloadlen));
  g_cond_broadcast(&s->changed);
  g_mutex_unlock(&s->lock);
}

TestSub *test_sub_new(guint port, const gchar *topic)
{
  static gint counter;
  mosquitto_lib_init();
  TestSub *s = g_new0(TestSub, 1);
  g_mutex_init(&s->lock);
  g_cond_init(&s->changed);
  s->messages = g_ptr_array_new_with_free_func(g_free);
  s->topic = g_strdup(topic);
  gchar *id = g_strdup_printf("ens-test-sub-%d-%d", (int)getpid(), g_atomic_int_add(&counter, 1));
  s->mosq = mosquitto_new(id, FALSE, s); /* clean_session false: the session outlives outages */
  g_free(id);
  fail_unless(s->mosq != NULL);
  mosquitto_connect_callback_set(s->mosq, sub_on_connect);
  mosquitto_subscribe_callback_set(s->mosq, sub_on_subscribe);
  mosquitto_message_callback_set(s->mosq, sub_on_message);
  mosquitto_reconnect_delay_set(s->mosq, 1, 1, false);
  fail_unless_equals_int(mosquitto_connect(s->mosq, "127.0.0.1", (int)port, 30), MOSQ_ERR_SUCCESS);
  fail_unless_equals_int(mosquitto_loop_start(s->mosq), MOSQ_ERR_SUCCESS);
  gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  g_mutex_lock(&s->lock);
  while (!s->subscribed && g_cond_wait_until(&s->changed, &s->lock, deadline))
    ;
  gboolean ok = s->subscribed;
  g_mutex_unlock(&s->lock);
  fail_unless(ok, "subscriber not subscribed to %s after 5 s", topic);
  return s;
}

guint test_sub_wait(TestSub *s, guint n, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  g_mutex_lock(&s->lock);
  while (s->messages->len < n && g_cond_wait_until(&s->changed, &s->lock, deadline))
    ;
  guint got = s->messages->len;
  g_mutex_unlock(&s->lock);
  return got;
}

GPtrArray *test_sub_messages(TestSub *s)
{
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  g_mutex_lock(&s->lock);
  for (guint i = 0; i < s->messages->len; i++)
    g_ptr_array_add(out, g_strdup(g_ptr_array_index(s->messages, i)));
  g_mutex_unlock(&s->lock);
  return out;
}

void test_sub_free(TestSub *s)
{
  mosquitto_disconnect(s->mosq);
  mosquitto_loop_stop(s->mosq, TRUE);
  mosquitto_destroy(s->mosq);
  g_ptr_array_unref(s->messages);
  g_cond_clear(&s->changed);
  g_mutex_clear(&s->lock);
  g_free(s->topic);
  g_free(s);
}

gint64 test_json_frame(const gchar *json)
{
  const gchar *p = strstr(json, "\"frame\":");
  if (!p)
    return -1;
  return g_ascii_strtoll(p + strlen("\"frame\":"), NULL, 10);
}
