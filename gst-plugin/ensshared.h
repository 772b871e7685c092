/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ensshared.h - the shared engine of ensclassify's model-instance-id (plugin-private).
 *
 * A process-wide registry keyed by model-instance-id. Each entry holds one loaded ens_model,
 * one ens_pool, one ens_session on it and one batching thread; elements join it (reference
 * counted) and the last one to leave frees it. Every joining element must ask for the model in
 * use (path, labels, precision, input size, threads; after a hot reload the new path and labels,
 * so an element joining with the id's original path then fails with a mismatch naming both);
 * batch-size / batch-timeout are the first joiner's.
 *
 * The per-element workers (ensworker.c) keep their own threads and preprocess there; only the
 * forward pass comes here: gst_ens_shared_forward() queues the caller's preprocessed rows and
 * blocks until the batching thread has run them. The batching thread takes queued requests in
 * arrival order (each stream has at most one queued, since its worker waits for it: arrival
 * order is round robin) until batch-size frames are queued or batch-timeout has passed since
 * the oldest one arrived, runs them as one forward and hands each caller its logits.
 *
 * Hot reload (gst_ens_shared_swap): the model belongs to the id. A new model (loaded by the
 * loader thread of the element that asked) replaces the engine's current one between two
 * batches, with a session of its own on the same pool; then every user's follow callback runs,
 * so each element swaps its worker to it. The agreement check compares joiners with the model
 * now in use. Each request carries the model its rows were preprocessed for; a batch only ever
 * holds rows of one model (requests of another model wait for a batch of their own, arrival
 * order kept within each model), and runs on that model's session. An old model's session is
 * kept (retired) until no element holds the model any more, so frames preprocessed before the
 * swap still finish on the old model and their results name it.
 */
#ifndef GST_ENS_SHARED_H
#define GST_ENS_SHARED_H

#include <glib.h>

#include <glib-object.h>

#include "ens.h"
#include "ensmodel.h"

/* What an element asks of the shared engine. */
typedef struct {
  const gchar *model_path; /* a file, hub directory or "random:<variant>" */
  const gchar *labels_path;
  ens_precision precision;
  guint input_height, input_width; /* 0 = the variant's size */
  guint threads;                   /* 0 = online CPUs */
  guint batch_size;                /* frames per forward (1 = no batching) */
  guint batch_timeout_ms;          /* a partial batch runs this long after its oldest frame */
} GstEnsSharedConfig;

typedef enum {
  GST_ENS_SHARED_OK = 0,
  GST_ENS_SHARED_MISMATCH,  /* a model-defining property differs from the engine's */
  GST_ENS_SHARED_LOAD,      /* the model could not be loaded (err filled) */
  GST_ENS_SHARED_RESOURCES, /* pool / session / thread could not be made */
} GstEnsSharedStatus;

typedef struct {
  guint users;            /* elements joined */
  guint64 batches;        /* forwards run */
  guint64 frames;         /* requests (frames) run */
  guint64 rows;           /* images run (a frame with ROIs has several) */
  guint max_batch;        /* most frames in one forward */
  guint64 timeouts;       /* batches run partial because batch-timeout passed */
  gdouble queue_wait_ms;  /* summed over frames: queued until its batch started */
  gdouble forward_ms;     /* summed over batches */
  guint batch_size;       /* in use */
  guint batch_timeout_ms; /* in use */
} GstEnsSharedStats;

typedef struct _GstEnsShared GstEnsShared;

/* Called after a swap (on the swapping thread, no lock of the engine held) for each user still
 * joined: the user then follows the engine's current model (gst_ens_shared_current). */
typedef void (*GstEnsSharedFollowFunc)(GObject *user, GstEnsShared *s);

/* Joins (creating and loading if needed) the engine of id as user (weakly referenced: follow
 * is called on it after each swap while it is joined). On failure returns NULL with *status set
 * and *msg (caller frees) saying why; for GST_ENS_SHARED_LOAD, *err is the engine's error. */
GstEnsShared *gst_ens_shared_acquire(const gchar *id, const GstEnsSharedConfig *cfg, GObject *user,
                                     GstEnsSharedFollowFunc follow, GstEnsSharedStatus *status,
                                     gchar **msg, ens_error *err);

/* user leaves; the last user stops the batching thread and frees models, sessions and pool.
 * Every forward of this user must have returned. */
void gst_ens_shared_release(GstEnsShared *s, GObject *user);

/* The model in use (a new reference: unref it) and, if load_us is not NULL, how long its load
 * took. */
GstEnsModel *gst_ens_shared_current(GstEnsShared *s, gint64 *load_us);

/* Hot reload, step 1: a ticket for a reload request of the id. Only the latest ticket's model
 * is swapped in (latest request wins, whichever element asked). */
guint64 gst_ens_shared_reload_ticket(GstEnsShared *s);

/* Hot reload, step 2 (the loader thread of the element that asked): if ticket is still the
 * latest, makes model (loaded with the id's options; the engine takes a reference) the engine's
 * current model between two batches, counts it in shared-loads and calls every user's follow.
 * Returns GST_ENS_SHARED_OK when swapped, GST_ENS_SHARED_MISMATCH when superseded by a newer
 * ticket (nothing changed), GST_ENS_SHARED_RESOURCES with *msg (caller frees) when its session
 * could not be made (nothing changed). */
GstEnsSharedStatus gst_ens_shared_swap(GstEnsShared *s, guint64 ticket, GstEnsModel *model,
                                       gint64 load_us, gchar **msg);

const gchar *gst_ens_shared_id(GstEnsShared *s);

/* Runs rows images (NCHW) preprocessed for model (the engine's current or a retired one) as part
 * of a batch of that model; blocks until done. Any thread. */
ens_status gst_ens_shared_forward(gpointer shared, const GstEnsModel *model, const float *input,
                                  int rows, float *logits, ens_error *err);

void gst_ens_shared_get_stats(GstEnsShared *s, GstEnsSharedStats *out);

/* Models loaded by the registry in this process so far (tests: sharing loads once). */
guint64 gst_ens_shared_loads_total(void);

/* Engines alive in this process (tests: the last user frees). */
guint gst_ens_shared_alive(void);

#endif
