/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ensshared.h - the shared engine of ensclassify's model-instance-id (plugin-private).
 *
 * A process-wide registry keyed by model-instance-id. Each entry holds one loaded ens_model,
 * one ens_pool, one ens_session on it and one batching thread; elements join it (reference
 * counted) and the last one to leave frees it. Every joining element must ask for the same
 * model (path, labels, precision, input size, threads); batch-size / batch-timeout are the
 * first joiner's.
 *
 * The per-element workers (ensworker.c) keep their own threads and preprocess there; only the
 * forward pass comes here: gst_ens_shared_forward() queues the caller's preprocessed rows and
 * blocks until the batching thread has run them. The batching thread takes queued requests in
 * arrival order (each stream has at most one queued, since its worker waits for it: arrival
 * order is round robin) until batch-size frames are queued or batch-timeout has passed since
 * the oldest one arrived, runs them as one forward and hands each caller its logits.
 */
#ifndef GST_ENS_SHARED_H
#define GST_ENS_SHARED_H

#include <glib.h>

#include "ens.h"

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

/* Joins (creating and loading if needed) the engine of id. On failure returns NULL with
 * *status set and *msg (caller frees) saying why; for GST_ENS_SHARED_LOAD, *err is the
 * engine's error. */
GstEnsShared *gst_ens_shared_acquire(const gchar *id, const GstEnsSharedConfig *cfg,
                                     GstEnsSharedStatus *status, gchar **msg, ens_error *err);

/* Leaves; the last user stops the batching thread and frees model, session and pool. Every
 * forward of this user must have returned. */
void gst_ens_shared_release(GstEnsShared *s);

/* The shared model (read-only: labels, info, preprocess parameters). */
ens_model *gst_ens_shared_model(GstEnsShared *s);

const gchar *gst_ens_shared_id(GstEnsShared *s);

/* Runs rows preprocessed images (NCHW) as part of a batch; blocks until done. Any thread. */
ens_status gst_ens_shared_forward(gpointer shared, const float *input, int rows, float *logits,
                                  ens_error *err);

void gst_ens_shared_get_stats(GstEnsShared *s, GstEnsSharedStats *out);

/* Models loaded by the registry in this process so far (tests: sharing loads once). */
guint64 gst_ens_shared_loads_total(void);

/* Engines alive in this process (tests: the last user frees). */
guint gst_ens_shared_alive(void);

#endif
