/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ensworker.h - the inference thread of ensclassify (plugin-private; not libens API).
 *
 * The worker preprocesses and classifies frames with its current model, which hot reload
 * replaces between frames (gst_ens_worker_set_model): each job takes a reference to the model
 * current when it is acquired and is preprocessed and inferred by that model alone, so a job in
 * flight across a swap finishes on the old model and its result names it; the old model is
 * freed when its last job and result let go. The streaming thread takes a
 * recycled job (gst_ens_worker_job_acquire), fills its result record with the frame's regions
 * and gives it the frame (gst_ens_job_set_image: in async mode a copy of just the pixels its
 * regions' preprocessing reads, written into the job's own pixel buffer, or a borrowed view of
 * the whole frame in sync mode), and hands it over through a single
 * pending slot (a newer job replaces an older pending one). The worker runs ens_preprocess +
 * forward without its lock, so the streaming thread only ever takes the lock for pointer
 * swaps. Jobs are recycled (at most three exist: being filled, pending, in flight), so their
 * buffers are reused across frames and only grow when a frame needs more room.
 *
 * The most recent completed result ("latest") is kept apart from the jobs; the streaming thread
 * copies it out (gst_ens_worker_copy_latest). A generation counter, bumped by
 * gst_ens_worker_reset() on flush and caps change, makes the worker discard jobs that were in
 * flight across the reset, so a stale result is never published. The worker's lock and state
 * are private to ensworker.c.
 */
#ifndef GST_ENS_WORKER_H
#define GST_ENS_WORKER_H

#include <glib.h>
#include <gst/gst.h>

#include "ens.h"
#include "ensmodel.h"

/* One region of a job: the whole frame or one ROI, in frame pixels. */
typedef struct {
  ens_rect box;
  gboolean full_frame;
  gint roi_id;      /* GstVideoRegionOfInterestMeta id, -1 for full frame */
  gint roi_index;   /* position among the frame's ROI metas (ids need not be unique) */
  GQuark roi_type;  /* ROI label of the detector, 0 for full frame */
  gboolean clipped; /* the ROI reached outside the frame; box is the part inside */
} GstEnsRegion;

/* What one inference produced, and of which frame. */
typedef struct {
  guint64 seq;      /* submission order, from 1 */
  guint generation; /* worker generation at submission */
  GstClockTime pts; /* of the source frame */
  guint64 frame;    /* index of the source frame */
  gint frame_width, frame_height;
  guint n_regions;
  GstEnsRegion *regions;
  float *probs;       /* [n_regions, model->num_classes] */
  GstEnsModel *model; /* the model that computes / computed it (a reference; NULL if none) */
  gint64 preprocess_us, infer_us;
  guint regions_cap, probs_cap; /* allocated elements */
} GstEnsResult;

/* Copies src into dst, whose buffers are kept (grown if needed); dst then holds a reference to
 * src's model (and drops its own). */
void gst_ens_result_copy(GstEnsResult *dst, const GstEnsResult *src);

/* Frees r's buffers, drops its model and zeroes it. */
void gst_ens_result_clear(GstEnsResult *r);

typedef enum { GST_ENS_SMOOTHING_NONE = 0, GST_ENS_SMOOTHING_EMA = 1 } GstEnsSmoothing;

/* Called from the worker thread, without its lock held, for each published result. */
typedef void (*GstEnsResultFunc)(const GstEnsResult *res, gpointer user_data);

/* Called from the worker thread, without its lock held, for an inference whose logits were not
 * all finite (its result is not published); count: such inferences so far, this one included. */
typedef void (*GstEnsNonfiniteFunc)(const GstEnsResult *res, guint64 count, gpointer user_data);

typedef struct _GstEnsJob GstEnsJob;
typedef struct _GstEnsWorker GstEnsWorker;

typedef struct {
  guint64 inferred;  /* results published */
  guint64 replaced;  /* async jobs dropped from the pending slot by a newer one */
  guint64 nonfinite; /* inferences dropped for non-finite logits */
  gdouble latency_sum_ms;
} GstEnsWorkerStats;

GstEnsWorker *gst_ens_worker_new(void);

/* Stops the thread if running and frees everything. */
void gst_ens_worker_free(GstEnsWorker *w);

/* Starts the thread on model (the worker takes a reference). Returns FALSE
 * (with *error_msg set) if the thread cannot start. delay_ms (debug) sleeps per inference;
 * fail_after >= 0 (debug) makes every forward pass after that many inferences fail. */
gboolean gst_ens_worker_start(GstEnsWorker *w, GstEnsModel *model, guint delay_ms,
                              gint64 fail_after, GstEnsResultFunc on_result,
                              GstEnsNonfiniteFunc on_nonfinite, gpointer user_data,
                              gchar **error_msg);

/* Stops and joins the thread (waits for the job in flight), frees every job. */
void gst_ens_worker_stop(GstEnsWorker *w);

/* Hot reload: jobs acquired from now on use model (the worker takes a reference); jobs already
 * acquired, pending or in flight keep theirs. Returns the previous model (transfer full). Never
 * waits for inference. */
GstEnsModel *gst_ens_worker_set_model(GstEnsWorker *w, GstEnsModel *model);

/* The current model (a new reference: unref it), or NULL before start. */
GstEnsModel *gst_ens_worker_get_model(GstEnsWorker *w);

/* A recycled (or new) job for n regions of the current model (its result's model), its result
 * record reset (regions to be filled by the caller); its frame is not set. Streaming thread
 * only. */
GstEnsJob *gst_ens_worker_job_acquire(GstEnsWorker *w, guint n_regions);

/* Gives back a job that was acquired but not submitted. */
void gst_ens_worker_job_release(GstEnsWorker *w, GstEnsJob *job);

/* The job's result record: the caller fills regions, pts, frame, frame size, preprocess_us. */
GstEnsResult *gst_ens_job_result(GstEnsJob *job);

/* The job's own pixel buffer of at least size bytes (grown only when needed; old contents are
 * not kept), for a copy of the frame that outlives the caller's buffer. */
guint8 *gst_ens_job_pixels(GstEnsJob *job, gsize size);

/* The frame to preprocess: img holds the rectangle at (x, y) of the frame (the result's
 * frame_width x frame_height; regions in frame coordinates): planes in the job's pixel buffer
 * (async: the pixels ens_preprocess_source_rect says the regions need) or the caller's whole
 * mapped frame (sync, x = y = 0; see gst_ens_worker_run). */
void gst_ens_job_set_image(GstEnsJob *job, const ens_image *img, gint x, gint y);

/* Async: queue job (takes ownership), replacing a pending one. Returns TRUE if one was
 * replaced; *seq (if not NULL) receives the job's seq. Never waits for inference. */
gboolean gst_ens_worker_submit(GstEnsWorker *w, GstEnsJob *job, guint64 *seq);

/* Sync: queue job (takes ownership) and wait until the worker is done with it, so a borrowed
 * frame may be unmapped on return. Returns its seq (to compare with the latest result). */
guint64 gst_ens_worker_run(GstEnsWorker *w, GstEnsJob *job);

/* Waits until nothing is pending or in flight, or end_time (g_get_monotonic_time() clock)
 * passes; returns TRUE if drained. */
gboolean gst_ens_worker_drain_until(GstEnsWorker *w, gint64 end_time);

/* Waits until the job of seq is done (published, dropped or discarded) or end_time
 * (g_get_monotonic_time() clock) passes; returns TRUE if it is done. */
gboolean gst_ens_worker_wait_done(GstEnsWorker *w, guint64 seq, gint64 end_time);

/* Jobs pending or in flight (0..2). */
guint gst_ens_worker_outstanding(GstEnsWorker *w);

/* Flush / caps change: drops the pending job and the latest result, resets smoothing; a job in
 * flight is discarded when it completes. (A model swap resets smoothing too: the EMA belongs to
 * one model.) */
void gst_ens_worker_reset(GstEnsWorker *w);

void gst_ens_worker_set_smoothing(GstEnsWorker *w, GstEnsSmoothing s, gfloat alpha);

/* Copies the latest result of this generation into dst (its buffers reused; nothing is copied
 * when dst already holds that result: same seq); FALSE if none. Set dst->seq = 0 whenever the
 * worker is (re)started, since seqs restart from 1. */
gboolean gst_ens_worker_copy_latest(GstEnsWorker *w, GstEnsResult *dst);

void gst_ens_worker_get_stats(GstEnsWorker *w, GstEnsWorkerStats *out);

/* Runs a forward pass in place of ens_model_forward(model->model, ...) (logits only), e.g. a
 * shared engine's batched one (ensshared.h); model is the job's, which preprocessed input.
 * Called from the worker thread without its lock. */
typedef ens_status (*GstEnsForwardFunc)(gpointer data, const GstEnsModel *model, const float *input,
                                        int batch, float *logits, ens_error *err);

/* Forwards through fn(data, ...) instead of the model's own session (NULL: the model's);
 * set before gst_ens_worker_start(). */
void gst_ens_worker_set_forward(GstEnsWorker *w, GstEnsForwardFunc fn, gpointer data);

/* The worker's error, if any (caller frees), clearing it. */
gchar *gst_ens_worker_take_error(GstEnsWorker *w);

#endif
