/* ensworker.h - the inference thread of ensclassify.
 *
 * The worker owns forward passes of one ens_model. The streaming thread hands it preprocessed
 * jobs through a single pending slot (a newer job replaces an older pending one) and reads the
 * most recent completed job ("latest") under the worker's lock. A generation counter, bumped
 * by ens_worker_reset() on flush and caps change, makes the worker discard jobs that were in
 * flight across the reset, so a stale result is never published.
 */
#ifndef ENS_WORKER_H
#define ENS_WORKER_H

#include <glib.h>
#include <gst/gst.h>

#include "ens.h"

/* One region of a job: the whole frame or one ROI, in frame pixels. */
typedef struct {
  ens_rect box;
  gboolean full_frame;
  gint roi_id;     /* GstVideoRegionOfInterestMeta id, -1 for full frame */
  gint roi_index;  /* position among the frame's ROI metas (ids need not be unique) */
  GQuark roi_type; /* ROI label of the detector, 0 for full frame */
} EnsRegion;

typedef struct {
  guint64 seq;      /* submission order, from 1 */
  guint generation; /* worker generation at submission */
  GstClockTime pts; /* of the source frame */
  guint64 frame;    /* index of the source frame */
  gint frame_width, frame_height;
  guint n_regions;
  EnsRegion *regions;
  float *input; /* [n_regions, 3, H, W], preprocessed by the streaming thread */
  float *probs; /* [n_regions, num_classes], filled by the worker */
  gint64 preprocess_us, infer_us;
} EnsJob;

typedef enum { ENS_SMOOTHING_NONE = 0, ENS_SMOOTHING_EMA = 1 } EnsSmoothing;

/* Called from the worker thread, without the lock held, for each published job. */
typedef void (*EnsResultFunc)(const EnsJob *job, gpointer user_data);

typedef struct {
  GMutex lock;
  GCond cond;
  GThread *thread;
  ens_model *model; /* borrowed: freed by the owner after ens_worker_stop() */
  gint num_classes;
  gsize input_floats; /* floats of one preprocessed region */
  guint delay_ms;     /* debug: sleep per inference (ENS_DEBUG_INFER_DELAY_MS) */
  EnsResultFunc on_result;
  gpointer user_data;

  /* under lock */
  gboolean quit;
  gboolean busy;   /* a job is in forward */
  EnsJob *pending; /* at most one */
  EnsJob *latest;  /* most recent completed job of this generation */
  guint generation;
  guint64 next_seq, done_seq;
  gchar *error; /* first forward error, taken by ens_worker_take_error() */
  EnsSmoothing smoothing;
  gfloat alpha;
  /* EMA state, touched only by the worker thread (reset via ema_generation) */
  gfloat *ema;
  gboolean ema_valid;
  guint ema_generation;

  /* stats, under lock */
  guint64 inferred, replaced;
  gdouble latency_sum_ms;
} EnsWorker;

void ens_worker_init(EnsWorker *w);
void ens_worker_clear(EnsWorker *w);

/* Starts the thread on model. Returns FALSE (with *error_msg set) if the thread cannot start. */
gboolean ens_worker_start(EnsWorker *w, ens_model *model, guint delay_ms, EnsResultFunc on_result,
                          gpointer user_data, gchar **error_msg);

/* Stops and joins the thread (waits for the forward pass in flight), frees every job. */
void ens_worker_stop(EnsWorker *w);

/* A job for n regions, input allocated (not initialised). */
EnsJob *ens_worker_job_new(EnsWorker *w, guint n_regions);
void ens_job_free(EnsJob *job);

/* Async: queue job (takes ownership), replacing a pending one. Returns TRUE if one was
 * replaced. Never waits for inference. */
gboolean ens_worker_submit(EnsWorker *w, EnsJob *job);

/* Sync: queue job and wait until it is done. Returns its seq (to compare with latest). */
guint64 ens_worker_run(EnsWorker *w, EnsJob *job);

/* Waits until nothing is pending or in flight. */
void ens_worker_drain(EnsWorker *w);

/* Flush / caps change: drops pending and latest results, resets smoothing; a job in flight
 * is discarded when it completes. */
void ens_worker_reset(EnsWorker *w);

void ens_worker_set_smoothing(EnsWorker *w, EnsSmoothing s, gfloat alpha);

/* The forward error, if any (caller frees), clearing it. */
gchar *ens_worker_take_error(EnsWorker *w);

#endif
