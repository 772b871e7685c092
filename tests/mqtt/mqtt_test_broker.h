/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mqtt_test_broker.h - a private mosquitto broker for the ensmqtt tests (free port on
 * 127.0.0.1, its own config and persistence directory, so a test can stop and restart it), and a
 * subscriber on it (libmosquitto, persistent session, QoS 1) that records every message. */
#ifndef MQTT_TEST_BROKER_H
#define MQTT_TEST_BROKER_H

#include <glib.h>

#define TEST_MOSQUITTO "/usr/sbin/mosquitto"

typedef struct TestBroker TestBroker;
typedef struct TestSub TestSub;

/* TRUE if TEST_MOSQUITTO can be run. */
gboolean test_broker_available(void);

/* A broker on a free 127.0.0.1 port, not started yet. */
TestBroker *test_broker_new(void);
/* Same with extra configuration lines appended (e.g. a second, TLS listener). */
TestBroker *test_broker_new_with(const gchar *extra_conf);
/* A 127.0.0.1 TCP port nobody listens on right now. */
guint test_free_port(void);
guint test_broker_port(const TestBroker *b);
/* Starts it (same port every time) and waits until it accepts connections (fails after 5 s). */
void test_broker_start(TestBroker *b);
/* SIGTERM (it saves its sessions and queued messages to disk) and waits for the exit. A frozen
 * broker gets SIGTERM before SIGCONT, so it exits without reading what clients sent meanwhile. */
void test_broker_stop(TestBroker *b);
/* SIGSTOP: connections stay open but nothing is read or acknowledged. */
void test_broker_freeze(TestBroker *b);
/* Stops it if running and removes its directory. */
void test_broker_free(TestBroker *b);

/* A subscriber to topic with a persistent session: messages published while it (or the broker)
 * is down are delivered after it reconnects. Returns once subscribed (fails after 5 s). */
TestSub *test_sub_new(guint port, const gchar *topic);
/* Waits until at least n messages arrived or timeout_ms passed; returns the count. */
guint test_sub_wait(TestSub *s, guint n, guint timeout_ms);
/* Payloads received so far, in arrival order (a new array of strings; g_ptr_array_unref). */
GPtrArray *test_sub_messages(TestSub *s);
void test_sub_free(TestSub *s);

/* The "frame" value of an ensjson / ensmqtt object, or -1. */
gint64 test_json_frame(const gchar *json);

#endif
