/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ensharvestwriter.h - the writer thread of ensharvest.
 *
 * The streaming thread only decides what to save, copies the frame (a deep copy, so no pool
 * buffer is held while the disk is slow) and queues it; this thread crops, encodes (PNG +
 * JSON) and stores the samples atomically through libens (ens_harvest.h). The queue is
 * bounded: when it is full a new frame's samples are dropped and counted, the streaming
 * thread never waits. The caps (count, bytes) and a failed write end harvesting once: the
 * done callback runs exactly once per start with the reason. */
#ifndef ENS_HARVEST_WRITER_H
#define ENS_HARVEST_WRITER_H

#include <glib.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "ens.h"
#include "ens_harvest.h"

/* One region of a queued frame: what the sidecar records about it. */
typedef struct {
  ens_rect box;
  gboolean full_frame;
  gint roi_id;
  gchar *roi_type; /* NULL for the full frame */
  GstClockTime source_pts;
  guint64 source_frame;
  gboolean fresh;
  guint n_top;
  ens_class_score *top; /* labels owned here (g_strdup) */
  guint n_probs;
  gfloat *probs; /* the full distribution, or NULL */
} EnsHarvestRegion;

/* One frame to save, with its regions. Owned by the writer once pushed. */
typedef struct {
  GstBuffer *buffer; /* a deep copy of the frame */
  GstVideoInfo info;
  ens_pixel_format format;
  ens_yuv_matrix matrix;
  gchar *model;
  gboolean have_pp; /* pp is the model's preprocessing (save-size=model) */
  ens_preprocess_params pp;
  ens_harvest_size save_size;
  GstClockTime buffer_pts;
  guint64 buffer_frame;
  guint n_regions;
  EnsHarvestRegion *regions;
} EnsHarvestItem;

void ens_harvest_item_free(EnsHarvestItem *item);

typedef enum {
  ENS_HARVEST_RUNNING = 0,
  ENS_HARVEST_DONE_MAX_COUNT,
  ENS_HARVEST_DONE_MAX_BYTES,
  ENS_HARVEST_DONE_ERROR,
} EnsHarvestState;

/* "max-count", "max-bytes", "error" (NULL while running). */
const gchar *ens_harvest_state_name(EnsHarvestState s);

typedef struct {
  guint64 results; /* results considered (fresh, or new with fresh-only=false) */
  guint64 saved;   /* samples written (PNG + sidecar) */
  guint64 skipped; /* samples left out by the interval or the confidence band */
  guint64 dropped; /* samples not written: queue full, or harvesting ended first */
  guint64 errors;  /* samples that failed (a write failure also ends harvesting) */
  guint64 bytes;   /* PNG + sidecar bytes written */
  guint queued;    /* frames waiting */
  EnsHarvestState state;
} EnsHarvestStats;

/* Called once when harvesting ends (writer or streaming thread, no lock held). message: the
 * failure for ENS_HARVEST_DONE_ERROR, else NULL. */
typedef void (*EnsHarvestDoneFunc)(EnsHarvestState why, const gchar *message,
                                   const EnsHarvestStats *stats, gpointer user_data);

typedef struct {
  GMutex lock;
  GCond cond;
  GThread *thread;
  GQueue queue; /* of EnsHarvestItem* */
  gboolean quit, busy;
  gchar *dir, *session;
  guint64 seq;
  guint64 max_count, max_bytes, accepted;
  guint max_queue;
  guint delay_ms; /* debug: sleep per frame (ENS_DEBUG_HARVEST_DELAY_MS) */
  EnsHarvestStats stats;
  EnsHarvestDoneFunc on_done;
  gpointer user_data;
} EnsHarvestWriter;

void ens_harvest_writer_init(EnsHarvestWriter *w);
void ens_harvest_writer_clear(EnsHarvestWriter *w);

/* Resets the counters and starts the thread writing into dir (which must exist). Sample names
 * are <session>-<8-digit sequence>, session = UTC start time + a random tag, so names sort
 * in harvest order and runs into one folder never collide. FALSE + *error if the thread
 * cannot start. */
gboolean ens_harvest_writer_start(EnsHarvestWriter *w, const gchar *dir, guint64 max_count,
                                  guint64 max_bytes, guint max_queue, guint delay_ms,
                                  EnsHarvestDoneFunc on_done, gpointer user_data, gchar **error);

/* Joins the thread after the frame in flight; queued frames are dropped (counted). */
void ens_harvest_writer_stop(EnsHarvestWriter *w);

/* Ends harvesting with an error found outside the thread (e.g. the folder cannot be made). */
void ens_harvest_writer_fail(EnsHarvestWriter *w, const gchar *message);

/* Counts results and skipped samples (streaming thread). */
void ens_harvest_writer_count(EnsHarvestWriter *w, guint64 results, guint64 skipped);

/* How many of n samples of a new frame may be queued: 0 when harvesting has ended or the queue
 * is full (then they count as dropped), fewer than n at the max-count cap. */
guint ens_harvest_writer_accept(EnsHarvestWriter *w, guint n);

/* Queues an accepted frame (takes ownership; never waits). */
void ens_harvest_writer_push(EnsHarvestWriter *w, EnsHarvestItem *item);

gboolean ens_harvest_writer_done(EnsHarvestWriter *w);

/* Waits until every queued frame has been written (EOS). */
void ens_harvest_writer_drain(EnsHarvestWriter *w);

void ens_harvest_writer_get_stats(EnsHarvestWriter *w, EnsHarvestStats *out);

#endif
