/* ensworker.h - the inference thread of ensclassify.
 *
 * The worker preprocesses and classifies frames of one ens_model. The streaming thread takes a
 * recycled job (ens_worker_job_acquire), fills it with the frame's pixels (a copy in async mode,
 * a borrowed view in sync mode) and its regions, and hands it over through a single pending
 * slot (a newer job replaces an older pending one). The worker runs ens_preprocess + forward
 * without the lock, so the streaming thread only ever takes the lock for pointer swaps. Jobs
 * are recycled (at most three exist: being filled, pending, in flight), so their pixel, input
 * and output buffers are reused across frames and only grow when the frame needs more room.
 *
 * The most recent completed result ("latest") is a copy kept apart from the jobs, read by the
 * streaming thread under the worker's lock. A generation counter, bumped by ens_worker_reset()
 * on flush and caps change, makes the worker discard jobs that were in flight across the reset,
 * so a stale result is never published.
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
  gint roi_id;      /* GstVideoRegionOfInterestMeta id, -1 for full frame */
  gint roi_index;   /* position among the frame's ROI metas (ids need not be unique) */
  GQuark roi_type;  /* ROI label of the detector, 0 for full frame */
  gboolean clipped; /* the ROI reached outside the frame; box is the part inside */
} EnsRegion;

/* What one inference produced, and of which frame. */
typedef struct {
  guint64 seq;      /* submission order, from 1 */
  guint generation; /* worker generation at submission */
  GstClockTime pts; /* of the source frame */
  guint64 frame;    /* index of the source frame */
  gint frame_width, frame_height;
  guint n_regions;
  EnsRegion *regions;
  float *probs; /* [n_regions, num_classes] */
  gint64 preprocess_us, infer_us;
  guint regions_cap, probs_cap; /* allocated elements */
} EnsResult;

typedef struct {
  EnsResult res;
  ens_image img; /* the frame: views pixels (async) or the caller's mapped frame (sync) */
  guint8 *pixels;
  gsize pixels_cap;
  float *input; /* [n_regions, 3, H, W], preprocessed by the worker */
  gsize input_cap;
} EnsJob;

typedef enum { ENS_SMOOTHING_NONE = 0, ENS_SMOOTHING_EMA = 1 } EnsSmoothing;

/* Called from the worker thread, without the lock held, for each published result. */
typedef void (*EnsResultFunc)(const EnsResult *res, gpointer user_data);

/* Called from the worker thread, without the lock held, for an inference whose logits were not
 * all finite (its result is not published); count: such inferences so far, this one included. */
typedef void (*EnsNonfiniteFunc)(const EnsResult *res, guint64 count, gpointer user_data);

#define ENS_WORKER_SPARE_JOBS 3

typedef struct {
  GMutex lock;
  GCond cond;
  GThread *thread;
  ens_model *model; /* borrowed: freed by the owner after ens_worker_stop() */
  ens_preprocess_params pp;
  gint num_classes;
  gsize input_floats; /* floats of one preprocessed region */
  guint delay_ms;     /* debug: sleep per inference (ENS_DEBUG_INFER_DELAY_MS) */
  gint64 fail_after;  /* debug: forwards after this many inferences fail (-1 = never) */
  EnsResultFunc on_result;
  EnsNonfiniteFunc on_nonfinite;
  gpointer user_data;

  /* under lock */
  gboolean quit;
  EnsJob *pending;  /* at most one */
  EnsJob *inflight; /* being preprocessed / inferred by the worker */
  EnsJob *spare[ENS_WORKER_SPARE_JOBS];
  guint n_spare;
  EnsResult latest; /* most recent published result of this generation */
  gboolean has_latest;
  guint generation;
  guint64 next_seq, done_seq;
  gchar *error; /* first preprocessing / forward error, taken by ens_worker_take_error() */
  EnsSmoothing smoothing;
  gfloat alpha;
  /* EMA state, touched only by the worker thread (reset via ema_generation) */
  gfloat *ema;
  gboolean ema_valid;
  guint ema_generation;

  /* stats, under lock */
  guint64 inferred, replaced;
  guint64 nonfinite; /* inferences dropped for non-finite logits */
  gdouble latency_sum_ms;
} EnsWorker;

void ens_worker_init(EnsWorker *w);
void ens_worker_clear(EnsWorker *w);

/* Starts the thread on model. Returns FALSE (with *error_msg set) if the thread cannot start.
 * fail_after >= 0 (debug) makes every forward pass after that many inferences fail. */
gboolean ens_worker_start(EnsWorker *w, ens_model *model, guint delay_ms, gint64 fail_after,
                          EnsResultFunc on_result, gpointer user_data, gchar **error_msg);

/* Stops and joins the thread (waits for the job in flight), frees every job. */
void ens_worker_stop(EnsWorker *w);

/* A recycled (or new) job for n regions; its frame is not set. Streaming thread only. */
EnsJob *ens_worker_job_acquire(EnsWorker *w, guint n_regions);

/* Gives back a job that was acquired but not submitted. */
void ens_worker_job_release(EnsWorker *w, EnsJob *job);

/* Copies src's pixels into the job (tightly packed; the job's buffer grows only if needed). */
void ens_job_copy_image(EnsJob *job, const ens_image *src);

/* Async: queue job (takes ownership), replacing a pending one. Returns TRUE if one was
 * replaced; *seq (if not NULL) receives the job's seq. Never waits for preprocessing or
 * inference. */
gboolean ens_worker_submit(EnsWorker *w, EnsJob *job, guint64 *seq);

/* Sync: queue job (takes ownership) and wait until the worker is done with it, so a borrowed
 * frame may be unmapped on return. Returns its seq (to compare with latest). */
guint64 ens_worker_run(EnsWorker *w, EnsJob *job);

/* Waits until nothing is pending or in flight. */
void ens_worker_drain(EnsWorker *w);

/* Same, but gives up at end_time (g_get_monotonic_time() clock); returns TRUE if drained. */
gboolean ens_worker_drain_until(EnsWorker *w, gint64 end_time);

/* Waits until the job of seq is done (published, dropped or discarded) or end_time
 * (g_get_monotonic_time() clock) passes; returns TRUE if it is done. */
gboolean ens_worker_wait_done(EnsWorker *w, guint64 seq, gint64 end_time);

/* Sets the callback for inferences with non-finite logits (before ens_worker_start). */
void ens_worker_set_nonfinite_func(EnsWorker *w, EnsNonfiniteFunc func);

/* Flush / caps change: drops the pending job and the latest result, resets smoothing; a job in
 * flight is discarded when it completes. */
void ens_worker_reset(EnsWorker *w);

void ens_worker_set_smoothing(EnsWorker *w, EnsSmoothing s, gfloat alpha);

/* The worker's error, if any (caller frees), clearing it. */
gchar *ens_worker_take_error(EnsWorker *w);

#endif
