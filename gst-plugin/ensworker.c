/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ensworker.c - the inference thread of ensclassify: see ensworker.h. */
#include "ensworker.h"

#include <math.h>
#include <string.h>

#define SPARE_JOBS 3

struct _GstEnsJob {
  GstEnsResult res;
  ens_image img;     /* the frame: views pixels (async) or the caller's mapped frame (sync) */
  gint img_x, img_y; /* where img lies in the frame (async: only the pixels preprocessing reads) */
  guint8 *pixels;
  gsize pixels_cap;
};

struct _GstEnsWorker {
  GMutex lock;
  GCond cond;
  GThread *thread;
  guint delay_ms;    /* debug: sleep per inference (ENS_DEBUG_INFER_DELAY_MS) */
  gint64 fail_after; /* debug: forwards after this many inferences fail (-1 = never) */
  GstEnsResultFunc on_result;
  GstEnsNonfiniteFunc on_nonfinite;
  gpointer user_data;
  GstEnsForwardFunc forward; /* NULL: ens_model_forward on model */
  gpointer forward_data;

  /* under lock */
  GstEnsModel *model; /* current: given to jobs acquired from now on */
  gboolean quit;
  GstEnsJob *pending;  /* at most one */
  GstEnsJob *inflight; /* being preprocessed / inferred by the worker */
  GstEnsJob *spare[SPARE_JOBS];
  guint n_spare;
  GstEnsResult latest; /* most recent published result of this generation */
  gboolean has_latest;
  guint generation;
  guint64 next_seq, done_seq;
  gchar *error; /* first preprocessing / forward error, taken by gst_ens_worker_take_error() */
  GstEnsSmoothing smoothing;
  gfloat alpha;
  /* EMA state, touched only by the worker thread (reset via ema_generation, or when the
   * model changes: ema_serial) */
  gfloat *ema;
  gsize ema_cap;
  gboolean ema_valid;
  guint ema_generation;
  guint64 ema_serial;

  /* the in-flight job's preprocessed regions [n_regions, 3, H, W], worker thread only: one
   * buffer, not one per job (a pending job needs none yet) */
  float *input;
  gsize input_cap;

  /* stats, under lock */
  GstEnsWorkerStats stats;
};

GstEnsWorker *gst_ens_worker_new(void)
{
  GstEnsWorker *w = g_new0(GstEnsWorker, 1);
  g_mutex_init(&w->lock);
  g_cond_init(&w->cond);
  w->alpha = 0.3f;
  w->fail_after = -1;
  return w;
}

void gst_ens_worker_free(GstEnsWorker *w)
{
  if (!w)
    return;
  gst_ens_worker_stop(w);
  g_mutex_clear(&w->lock);
  g_cond_clear(&w->cond);
  g_free(w->input);
  g_free(w);
}

/* ------------------------------------------------------------------ jobs and results */

static void job_free(GstEnsJob *job)
{
  if (!job)
    return;
  gst_ens_result_clear(&job->res);
  g_free(job->pixels);
  g_free(job);
}

/* Caller holds the lock. Keeps the job (and its buffers) for the next frame; its model
 * reference is dropped (the worker thread detaches it first, to free an old model unlocked). */
static void recycle(GstEnsWorker *w, GstEnsJob *job)
{
  g_clear_pointer(&job->res.model, gst_ens_model_unref);
  if (w->n_spare < SPARE_JOBS)
    w->spare[w->n_spare++] = job;
  else
    job_free(job);
}

/* Grows buf to hold n elements of size; the old contents are not kept. */
static gpointer ensure_cap(gpointer buf, gsize *cap, gsize n, gsize size)
{
  if (n <= *cap)
    return buf;
  g_free(buf);
  *cap = n;
  return g_malloc_n(n, size);
}

GstEnsJob *gst_ens_worker_job_acquire(GstEnsWorker *w, guint n_regions)
{
  g_mutex_lock(&w->lock);
  GstEnsJob *job = w->n_spare ? w->spare[--w->n_spare] : NULL;
  GstEnsModel *model = gst_ens_model_ref(w->model);
  g_mutex_unlock(&w->lock);
  if (!job)
    job = g_new0(GstEnsJob, 1);

  /* The buffers adapt to this job's model: class count and input size may differ from the
   * previous job's after a swap. */
  GstEnsResult *r = &job->res;
  r->model = model;
  gsize cap = r->regions_cap;
  r->regions = ensure_cap(r->regions, &cap, n_regions, sizeof(GstEnsRegion));
  r->regions_cap = (guint)cap;
  cap = r->probs_cap;
  r->probs =
      ensure_cap(r->probs, &cap, (gsize)n_regions * (gsize)model->num_classes, sizeof(float));
  r->probs_cap = (guint)cap;
  r->n_regions = n_regions;
  r->seq = 0;
  r->pts = GST_CLOCK_TIME_NONE;
  r->frame = 0;
  r->frame_width = r->frame_height = 0;
  r->preprocess_us = r->infer_us = 0;
  memset(&job->img, 0, sizeof job->img);
  return job;
}

void gst_ens_worker_job_release(GstEnsWorker *w, GstEnsJob *job)
{
  g_mutex_lock(&w->lock);
  recycle(w, job);
  g_mutex_unlock(&w->lock);
}

void gst_ens_result_copy(GstEnsResult *dst, const GstEnsResult *src)
{
  GstEnsRegion *regions = dst->regions;
  float *probs = dst->probs;
  GstEnsModel *old_model = dst->model;
  gsize rcap = dst->regions_cap, pcap = dst->probs_cap;
  gsize n_probs = (gsize)src->n_regions * (gsize)(src->model ? src->model->num_classes : 0);
  if (src->n_regions > rcap) {
    regions = g_renew(GstEnsRegion, regions, src->n_regions);
    rcap = src->n_regions;
  }
  if (n_probs > pcap) {
    probs = g_renew(float, probs, n_probs);
    pcap = n_probs;
  }
  *dst = *src;
  dst->regions = regions;
  dst->probs = probs;
  dst->regions_cap = (guint)rcap;
  dst->probs_cap = (guint)pcap;
  dst->model = src->model ? gst_ens_model_ref(src->model) : NULL;
  gst_ens_model_unref(old_model);
  memcpy(dst->regions, src->regions, sizeof(GstEnsRegion) * src->n_regions);
  memcpy(dst->probs, src->probs, sizeof(float) * n_probs);
}

void gst_ens_result_clear(GstEnsResult *r)
{
  gst_ens_model_unref(r->model);
  g_free(r->regions);
  g_free(r->probs);
  memset(r, 0, sizeof *r);
}

GstEnsResult *gst_ens_job_result(GstEnsJob *job)
{
  return &job->res;
}

guint8 *gst_ens_job_pixels(GstEnsJob *job, gsize size)
{
  /* reallocated only when the frame grows (caps change) */
  job->pixels = ensure_cap(job->pixels, &job->pixels_cap, size, 1);
  return job->pixels;
}

void gst_ens_job_set_image(GstEnsJob *job, const ens_image *img, gint x, gint y)
{
  job->img = *img;
  job->img_x = x;
  job->img_y = y;
}

/* ------------------------------------------------------------------ the thread */

/* EMA over the class probabilities of a full-frame job: p <- a * p_new + (1 - a) * p. */
static void smooth(GstEnsWorker *w, GstEnsResult *res, GstEnsSmoothing mode, gfloat alpha)
{
  if (mode != GST_ENS_SMOOTHING_EMA || res->n_regions != 1 || !res->regions[0].full_frame) {
    w->ema_valid = FALSE;
    return;
  }
  gint n = res->model->num_classes;
  /* a new model (hot reload, even of the same file) starts a new average, at its class count */
  if (!w->ema_valid || w->ema_generation != res->generation ||
      w->ema_serial != res->model->serial) {
    gsize cap = w->ema_cap;
    w->ema = ensure_cap(w->ema, &cap, (gsize)n, sizeof(float));
    w->ema_cap = cap;
    memcpy(w->ema, res->probs, (gsize)n * sizeof(float));
    w->ema_valid = TRUE;
    w->ema_generation = res->generation;
    w->ema_serial = res->model->serial;
    return;
  }
  for (gint i = 0; i < n; i++)
    w->ema[i] = alpha * res->probs[i] + (1.0f - alpha) * w->ema[i];
  memcpy(res->probs, w->ema, (gsize)n * sizeof(float));
}

static gboolean all_finite(const float *v, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (!isfinite(v[i]))
      return FALSE;
  return TRUE;
}

/* Preprocesses every region of job and runs the forward pass (no lock held). On failure,
 * *msg describes it. *finite is FALSE when some logits were NaN or infinite: softmax would
 * turn them into invented probabilities, so the caller drops the result.
 * TODO: switch to the engine's ens_softmax_checked once it exists. */
static ens_status process(GstEnsWorker *w, GstEnsJob *job, gboolean debug_fail, gboolean *finite,
                          gchar **msg)
{
  GstEnsResult *res = &job->res;
  GstEnsModel *m = res->model; /* the job's own: a swap meanwhile does not concern it */
  ens_error err = {0};
  /* before preprocessing (so the frame must outlive a slow worker); counted in the latency */
  gint64 t0 = g_get_monotonic_time();
  if (w->delay_ms)
    g_usleep((gulong)w->delay_ms * 1000);
  w->input =
      ensure_cap(w->input, &w->input_cap, (gsize)res->n_regions * m->input_floats, sizeof(float));
  for (guint r = 0; r < res->n_regions; r++) {
    const ens_rect *roi = res->regions[r].full_frame ? NULL : &res->regions[r].box;
    ens_status st =
        ens_preprocess_window(&m->pp, &job->img, job->img_x, job->img_y, res->frame_width,
                              res->frame_height, roi, w->input + r * m->input_floats, &err);
    if (st != ENS_OK) {
      *msg = g_strdup_printf("preprocessing: %s (%s)", err.message, ens_status_name(st));
      return st;
    }
  }
  gint64 t1 = g_get_monotonic_time();
  res->preprocess_us += t1 - t0;

  /* The debug failure goes through the engine's own argument check (batch 0), so the error
   * path is the one a real forward failure takes. */
  int batch = debug_fail ? 0 : (int)res->n_regions;
  ens_status st = w->forward ? w->forward(w->forward_data, m, w->input, batch, res->probs, &err)
                             : ens_model_forward(m->model, w->input, batch, res->probs, NULL, &err);
  if (st != ENS_OK) {
    *msg = g_strdup_printf("forward pass: %s (%s)%s", err.message, ens_status_name(st),
                           debug_fail ? " [ENS_DEBUG_INFER_FAIL_AFTER]" : "");
    return st;
  }
  *finite = all_finite(res->probs, (gsize)res->n_regions * (gsize)m->num_classes);
  for (guint r = 0; r < res->n_regions && *finite; r++) {
    float *p = res->probs + (gsize)r * (gsize)m->num_classes;
    ens_softmax(p, m->num_classes, p);
  }
  res->infer_us = g_get_monotonic_time() - t1;
  return ENS_OK;
}

static gpointer worker_main(gpointer data)
{
  GstEnsWorker *w = data;
  g_mutex_lock(&w->lock);
  for (;;) {
    while (!w->pending && !w->quit)
      g_cond_wait(&w->cond, &w->lock);
    if (w->quit)
      break;
    GstEnsJob *job = w->pending;
    w->pending = NULL;
    w->inflight = job;
    GstEnsSmoothing smoothing = w->smoothing;
    gfloat alpha = w->alpha;
    gboolean debug_fail = w->fail_after >= 0 && w->stats.inferred >= (guint64)w->fail_after;
    g_mutex_unlock(&w->lock);

    gchar *msg = NULL;
    gboolean finite = TRUE;
    GstEnsModel *replaced_model = NULL;
    ens_status st = process(w, job, debug_fail, &finite, &msg);
    if (st == ENS_OK && finite)
      smooth(w, &job->res, smoothing, alpha);

    g_mutex_lock(&w->lock);
    if (st != ENS_OK) {
      if (!w->error)
        w->error = msg;
      else
        g_free(msg);
    }
    if (st == ENS_OK && !finite && job->res.generation == w->generation) {
      guint64 count = ++w->stats.nonfinite;
      if (w->on_nonfinite) {
        g_mutex_unlock(&w->lock);
        w->on_nonfinite(&job->res, count, w->user_data);
        g_mutex_lock(&w->lock);
      }
    } else if (st == ENS_OK && job->res.generation == w->generation) {
      /* the latest result's previous model may be an old one: freed below, unlocked */
      replaced_model = w->latest.model ? gst_ens_model_ref(w->latest.model) : NULL;
      gst_ens_result_copy(&w->latest, &job->res);
      w->has_latest = TRUE;
      w->stats.inferred++;
      w->stats.latency_sum_ms += (double)(job->res.preprocess_us + job->res.infer_us) / 1000.0;
      if (w->on_result) {
        /* Report before marking the job done, so a sync frame's message is posted before its
         * buffer is pushed (and before EOS after a drain). The job stays in flight meanwhile,
         * so nothing else touches it. */
        g_mutex_unlock(&w->lock);
        w->on_result(&job->res, w->user_data);
        g_mutex_lock(&w->lock);
      }
    }
    if (w->done_seq < job->res.seq)
      w->done_seq = job->res.seq;
    w->inflight = NULL;
    GstEnsModel *used = job->res.model; /* freed below if this was its last job */
    job->res.model = NULL;
    recycle(w, job);
    g_cond_broadcast(&w->cond);
    if (used || replaced_model) {
      /* an old model's last reference is freed here, without the lock the streaming thread
       * takes for every frame */
      g_mutex_unlock(&w->lock);
      gst_ens_model_unref(used);
      gst_ens_model_unref(replaced_model);
      g_mutex_lock(&w->lock);
    }
  }
  g_mutex_unlock(&w->lock);
  return NULL;
}

gboolean gst_ens_worker_start(GstEnsWorker *w, GstEnsModel *model, guint delay_ms,
                              gint64 fail_after, GstEnsResultFunc on_result,
                              GstEnsNonfiniteFunc on_nonfinite, gpointer user_data,
                              gchar **error_msg)
{
  gst_ens_worker_stop(w);
  /* under the lock: a shared model's swap may set one meanwhile (its follow catches up later) */
  g_mutex_lock(&w->lock);
  GstEnsModel *stale = w->model;
  w->model = gst_ens_model_ref(model);
  g_mutex_unlock(&w->lock);
  gst_ens_model_unref(stale);
  w->delay_ms = delay_ms;
  w->fail_after = fail_after;
  w->on_result = on_result;
  w->on_nonfinite = on_nonfinite;
  w->user_data = user_data;
  w->quit = FALSE;
  w->next_seq = 1;
  w->done_seq = 0;
  memset(&w->stats, 0, sizeof w->stats);
  w->ema_valid = FALSE;
  GError *gerr = NULL;
  w->thread = g_thread_try_new("ens-infer", worker_main, w, &gerr);
  if (!w->thread) {
    *error_msg = g_strdup(gerr->message);
    g_error_free(gerr);
    g_clear_pointer(&w->model, gst_ens_model_unref);
    return FALSE;
  }
  return TRUE;
}

void gst_ens_worker_stop(GstEnsWorker *w)
{
  g_mutex_lock(&w->lock);
  w->quit = TRUE;
  g_cond_broadcast(&w->cond);
  g_mutex_unlock(&w->lock);
  if (w->thread) {
    g_thread_join(w->thread);
    w->thread = NULL;
  }
  g_mutex_lock(&w->lock);
  /* The jobs' sizes depend on the model: a restart may load another one. */
  g_clear_pointer(&w->pending, job_free);
  while (w->n_spare)
    job_free(w->spare[--w->n_spare]);
  gst_ens_result_clear(&w->latest);
  w->has_latest = FALSE;
  g_clear_pointer(&w->error, g_free);
  g_clear_pointer(&w->ema, g_free);
  w->ema_cap = 0;
  w->ema_valid = FALSE;
  g_clear_pointer(&w->model, gst_ens_model_unref);
  g_cond_broadcast(&w->cond); /* a sync caller waiting for a dropped pending job */
  g_mutex_unlock(&w->lock);
}

GstEnsModel *gst_ens_worker_set_model(GstEnsWorker *w, GstEnsModel *model)
{
  gst_ens_model_ref(model);
  g_mutex_lock(&w->lock);
  GstEnsModel *old = w->model;
  w->model = model;
  g_mutex_unlock(&w->lock);
  return old;
}

GstEnsModel *gst_ens_worker_get_model(GstEnsWorker *w)
{
  g_mutex_lock(&w->lock);
  GstEnsModel *m = w->model ? gst_ens_model_ref(w->model) : NULL;
  g_mutex_unlock(&w->lock);
  return m;
}

/* ------------------------------------------------------------------ streaming side */

/* Caller holds the lock. */
static void queue_job(GstEnsWorker *w, GstEnsJob *job)
{
  job->res.seq = w->next_seq++;
  job->res.generation = w->generation;
  w->pending = job;
  g_cond_broadcast(&w->cond);
}

/* Caller holds the lock: the pending job is dropped (it counts as done). */
static void drop_pending(GstEnsWorker *w)
{
  if (w->done_seq < w->pending->res.seq)
    w->done_seq = w->pending->res.seq;
  recycle(w, w->pending);
  w->pending = NULL;
}

gboolean gst_ens_worker_submit(GstEnsWorker *w, GstEnsJob *job, guint64 *seq)
{
  gboolean replaced = FALSE;
  g_mutex_lock(&w->lock);
  if (w->pending) {
    /* Only the newest frame matters for a live view: the older pending one is dropped. */
    drop_pending(w);
    w->stats.replaced++;
    replaced = TRUE;
  }
  queue_job(w, job);
  if (seq)
    *seq = job->res.seq;
  g_mutex_unlock(&w->lock);
  return replaced;
}

guint64 gst_ens_worker_run(GstEnsWorker *w, GstEnsJob *job)
{
  g_mutex_lock(&w->lock);
  /* Sync mode never has two jobs queued (the mode is fixed while running). */
  if (w->pending)
    drop_pending(w);
  queue_job(w, job);
  guint64 seq = job->res.seq;
  /* Until the worker is done with the job (or a reset / stop dropped it while pending): its
   * frame is borrowed from the caller. The job is not dereferenced here, only compared. */
  while (w->pending == job || w->inflight == job)
    g_cond_wait(&w->cond, &w->lock);
  g_mutex_unlock(&w->lock);
  return seq;
}

gboolean gst_ens_worker_drain_until(GstEnsWorker *w, gint64 end_time)
{
  g_mutex_lock(&w->lock);
  while ((w->pending || w->inflight) && !w->quit && w->thread)
    if (!g_cond_wait_until(&w->cond, &w->lock, end_time))
      break;
  gboolean drained = !(w->pending || w->inflight);
  g_mutex_unlock(&w->lock);
  return drained;
}

gboolean gst_ens_worker_wait_done(GstEnsWorker *w, guint64 seq, gint64 end_time)
{
  g_mutex_lock(&w->lock);
  while (w->done_seq < seq && !w->quit && w->thread)
    if (!g_cond_wait_until(&w->cond, &w->lock, end_time))
      break;
  gboolean done = w->done_seq >= seq;
  g_mutex_unlock(&w->lock);
  return done;
}

guint gst_ens_worker_outstanding(GstEnsWorker *w)
{
  g_mutex_lock(&w->lock);
  guint n = (w->pending != NULL) + (w->inflight != NULL);
  g_mutex_unlock(&w->lock);
  return n;
}

gboolean gst_ens_worker_copy_latest(GstEnsWorker *w, GstEnsResult *dst)
{
  /* dst may hold the last reference to an old model: dropped after unlocking */
  GstEnsModel *hold = dst->model ? gst_ens_model_ref(dst->model) : NULL;
  g_mutex_lock(&w->lock);
  gboolean has = w->has_latest;
  /* seqs are never reused while the thread runs: the same seq is the same result */
  if (has && dst->seq != w->latest.seq)
    gst_ens_result_copy(dst, &w->latest);
  g_mutex_unlock(&w->lock);
  gst_ens_model_unref(hold);
  return has;
}

void gst_ens_worker_get_stats(GstEnsWorker *w, GstEnsWorkerStats *out)
{
  g_mutex_lock(&w->lock);
  *out = w->stats;
  g_mutex_unlock(&w->lock);
}

void gst_ens_worker_reset(GstEnsWorker *w)
{
  g_mutex_lock(&w->lock);
  w->generation++;
  if (w->pending)
    drop_pending(w);
  w->has_latest = FALSE;
  g_cond_broadcast(&w->cond);
  g_mutex_unlock(&w->lock);
}

void gst_ens_worker_set_smoothing(GstEnsWorker *w, GstEnsSmoothing s, gfloat alpha)
{
  g_mutex_lock(&w->lock);
  w->smoothing = s;
  w->alpha = alpha;
  g_mutex_unlock(&w->lock);
}

void gst_ens_worker_set_forward(GstEnsWorker *w, GstEnsForwardFunc fn, gpointer data)
{
  w->forward = fn;
  w->forward_data = data;
}

gchar *gst_ens_worker_take_error(GstEnsWorker *w)
{
  g_mutex_lock(&w->lock);
  gchar *e = w->error;
  w->error = NULL;
  g_mutex_unlock(&w->lock);
  return e;
}
