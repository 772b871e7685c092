/* ensworker.c - see ensworker.h. */
#include "ensworker.h"

#include <math.h>
#include <string.h>

void ens_worker_init(EnsWorker *w)
{
  memset(w, 0, sizeof *w);
  g_mutex_init(&w->lock);
  g_cond_init(&w->cond);
  w->alpha = 0.3f;
  w->fail_after = -1;
}

void ens_worker_clear(EnsWorker *w)
{
  ens_worker_stop(w);
  g_mutex_clear(&w->lock);
  g_cond_clear(&w->cond);
}

/* ------------------------------------------------------------------ jobs and results */

static void job_free(EnsJob *job)
{
  if (!job)
    return;
  g_free(job->res.regions);
  g_free(job->res.probs);
  g_free(job->pixels);
  g_free(job->input);
  g_free(job);
}

/* Caller holds the lock. Keeps the job (and its buffers) for the next frame. */
static void recycle(EnsWorker *w, EnsJob *job)
{
  if (w->n_spare < ENS_WORKER_SPARE_JOBS)
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

EnsJob *ens_worker_job_acquire(EnsWorker *w, guint n_regions)
{
  g_mutex_lock(&w->lock);
  EnsJob *job = w->n_spare ? w->spare[--w->n_spare] : NULL;
  g_mutex_unlock(&w->lock);
  if (!job)
    job = g_new0(EnsJob, 1);

  EnsResult *r = &job->res;
  gsize cap = r->regions_cap;
  r->regions = ensure_cap(r->regions, &cap, n_regions, sizeof(EnsRegion));
  r->regions_cap = (guint)cap;
  cap = r->probs_cap;
  r->probs = ensure_cap(r->probs, &cap, (gsize)n_regions * (gsize)w->num_classes, sizeof(float));
  r->probs_cap = (guint)cap;
  job->input =
      ensure_cap(job->input, &job->input_cap, (gsize)n_regions * w->input_floats, sizeof(float));
  r->n_regions = n_regions;
  r->seq = 0;
  r->pts = GST_CLOCK_TIME_NONE;
  r->frame = 0;
  r->frame_width = r->frame_height = 0;
  r->preprocess_us = r->infer_us = 0;
  memset(&job->img, 0, sizeof job->img);
  return job;
}

void ens_worker_job_release(EnsWorker *w, EnsJob *job)
{
  g_mutex_lock(&w->lock);
  recycle(w, job);
  g_mutex_unlock(&w->lock);
}

/* Bytes per row and rows of plane p of a width x height frame (0 rows: no such plane). */
static void plane_layout(ens_pixel_format f, int width, int height, int p, gsize *row_bytes,
                         gsize *rows)
{
  gsize cw = (gsize)(width + 1) / 2, ch = (gsize)(height + 1) / 2;
  *rows = 0;
  *row_bytes = 0;
  switch (f) {
    case ENS_PIXEL_RGB:
    case ENS_PIXEL_BGR:
      if (p == 0)
        *row_bytes = (gsize)width * 3, *rows = (gsize)height;
      break;
    case ENS_PIXEL_I420:
      if (p == 0)
        *row_bytes = (gsize)width, *rows = (gsize)height;
      else if (p <= 2)
        *row_bytes = cw, *rows = ch;
      break;
    case ENS_PIXEL_NV12:
      if (p == 0)
        *row_bytes = (gsize)width, *rows = (gsize)height;
      else if (p == 1)
        *row_bytes = 2 * cw, *rows = ch;
      break;
    default: /* the 4-byte packed formats */
      if (p == 0)
        *row_bytes = (gsize)width * 4, *rows = (gsize)height;
      break;
  }
}

void ens_job_copy_image(EnsJob *job, const ens_image *src)
{
  gsize row_bytes[3], rows[3], total = 0;
  for (int p = 0; p < 3; p++) {
    plane_layout(src->format, src->width, src->height, p, &row_bytes[p], &rows[p]);
    total += row_bytes[p] * rows[p];
  }
  /* reallocated only when the frame grows (caps change) */
  job->pixels = ensure_cap(job->pixels, &job->pixels_cap, total, 1);

  job->img = *src;
  guint8 *dst = job->pixels;
  for (int p = 0; p < 3; p++) {
    if (!rows[p]) {
      job->img.planes[p] = NULL;
      job->img.strides[p] = 0;
      continue;
    }
    const guint8 *s = src->planes[p];
    if ((gsize)src->strides[p] == row_bytes[p]) {
      memcpy(dst, s, row_bytes[p] * rows[p]);
    } else {
      for (gsize y = 0; y < rows[p]; y++)
        memcpy(dst + y * row_bytes[p], s + (gssize)y * src->strides[p], row_bytes[p]);
    }
    job->img.planes[p] = dst;
    job->img.strides[p] = (int)row_bytes[p];
    dst += row_bytes[p] * rows[p];
  }
}

/* Caller holds the lock. dst keeps its buffers (grown if needed). */
static void result_copy(EnsResult *dst, const EnsResult *src, gint num_classes)
{
  EnsRegion *regions = dst->regions;
  float *probs = dst->probs;
  gsize rcap = dst->regions_cap, pcap = dst->probs_cap;
  gsize n_probs = (gsize)src->n_regions * (gsize)num_classes;
  if (src->n_regions > rcap) {
    regions = g_renew(EnsRegion, regions, src->n_regions);
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
  memcpy(dst->regions, src->regions, sizeof(EnsRegion) * src->n_regions);
  memcpy(dst->probs, src->probs, sizeof(float) * n_probs);
}

/* ------------------------------------------------------------------ the thread */

/* EMA over the class probabilities of a full-frame job: p <- a * p_new + (1 - a) * p. */
static void smooth(EnsWorker *w, EnsResult *res, EnsSmoothing mode, gfloat alpha)
{
  if (mode != ENS_SMOOTHING_EMA || res->n_regions != 1 || !res->regions[0].full_frame) {
    w->ema_valid = FALSE;
    return;
  }
  gint n = w->num_classes;
  if (!w->ema_valid || w->ema_generation != res->generation) {
    memcpy(w->ema, res->probs, (gsize)n * sizeof(float));
    w->ema_valid = TRUE;
    w->ema_generation = res->generation;
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
static ens_status process(EnsWorker *w, EnsJob *job, gboolean debug_fail, gboolean *finite,
                          gchar **msg)
{
  EnsResult *res = &job->res;
  ens_error err = {0};
  /* before preprocessing (so the frame must outlive a slow worker); counted in the latency */
  gint64 t0 = g_get_monotonic_time();
  if (w->delay_ms)
    g_usleep((gulong)w->delay_ms * 1000);
  for (guint r = 0; r < res->n_regions; r++) {
    const ens_rect *roi = res->regions[r].full_frame ? NULL : &res->regions[r].box;
    ens_status st = ens_preprocess(&w->pp, &job->img, roi, job->input + r * w->input_floats, &err);
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
  ens_status st = ens_model_forward(w->model, job->input, batch, res->probs, NULL, &err);
  if (st != ENS_OK) {
    *msg = g_strdup_printf("forward pass: %s (%s)%s", err.message, ens_status_name(st),
                           debug_fail ? " [ENS_DEBUG_INFER_FAIL_AFTER]" : "");
    return st;
  }
  *finite = all_finite(res->probs, (gsize)res->n_regions * (gsize)w->num_classes);
  for (guint r = 0; r < res->n_regions && *finite; r++) {
    float *p = res->probs + (gsize)r * (gsize)w->num_classes;
    ens_softmax(p, w->num_classes, p);
  }
  res->infer_us = g_get_monotonic_time() - t1;
  return ENS_OK;
}

static gpointer worker_main(gpointer data)
{
  EnsWorker *w = data;
  g_mutex_lock(&w->lock);
  for (;;) {
    while (!w->pending && !w->quit)
      g_cond_wait(&w->cond, &w->lock);
    if (w->quit)
      break;
    EnsJob *job = w->pending;
    w->pending = NULL;
    w->inflight = job;
    EnsSmoothing smoothing = w->smoothing;
    gfloat alpha = w->alpha;
    gboolean debug_fail = w->fail_after >= 0 && w->inferred >= (guint64)w->fail_after;
    g_mutex_unlock(&w->lock);

    gchar *msg = NULL;
    gboolean finite = TRUE;
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
      guint64 count = ++w->nonfinite;
      if (w->on_nonfinite) {
        g_mutex_unlock(&w->lock);
        w->on_nonfinite(&job->res, count, w->user_data);
        g_mutex_lock(&w->lock);
      }
    } else if (st == ENS_OK && job->res.generation == w->generation) {
      result_copy(&w->latest, &job->res, w->num_classes);
      w->has_latest = TRUE;
      w->inferred++;
      w->latency_sum_ms += (double)(job->res.preprocess_us + job->res.infer_us) / 1000.0;
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
    recycle(w, job);
    g_cond_broadcast(&w->cond);
  }
  g_mutex_unlock(&w->lock);
  return NULL;
}

gboolean ens_worker_start(EnsWorker *w, ens_model *model, guint delay_ms, gint64 fail_after,
                          EnsResultFunc on_result, gpointer user_data, gchar **error_msg)
{
  const ens_model_info *info = ens_model_get_info(model);
  ens_worker_stop(w);
  w->model = model;
  ens_model_preprocess_params(model, &w->pp);
  w->num_classes = info->num_classes;
  w->input_floats = (gsize)3 * (gsize)info->input_height * (gsize)info->input_width;
  w->delay_ms = delay_ms;
  w->fail_after = fail_after;
  w->on_result = on_result;
  w->user_data = user_data;
  w->quit = FALSE;
  w->next_seq = 1;
  w->done_seq = 0;
  w->inferred = w->replaced = w->nonfinite = 0;
  w->latency_sum_ms = 0;
  w->ema = g_new0(gfloat, w->num_classes);
  w->ema_valid = FALSE;
  GError *gerr = NULL;
  w->thread = g_thread_try_new("ens-infer", worker_main, w, &gerr);
  if (!w->thread) {
    *error_msg = g_strdup(gerr->message);
    g_error_free(gerr);
    g_clear_pointer(&w->ema, g_free);
    w->model = NULL;
    return FALSE;
  }
  return TRUE;
}

void ens_worker_stop(EnsWorker *w)
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
  g_clear_pointer(&w->latest.regions, g_free);
  g_clear_pointer(&w->latest.probs, g_free);
  w->latest.regions_cap = w->latest.probs_cap = 0;
  w->has_latest = FALSE;
  g_clear_pointer(&w->error, g_free);
  g_clear_pointer(&w->ema, g_free);
  w->model = NULL;
  g_cond_broadcast(&w->cond); /* a sync caller waiting for a dropped pending job */
  g_mutex_unlock(&w->lock);
}

/* ------------------------------------------------------------------ streaming side */

/* Caller holds the lock. */
static void queue_job(EnsWorker *w, EnsJob *job)
{
  job->res.seq = w->next_seq++;
  job->res.generation = w->generation;
  w->pending = job;
  g_cond_broadcast(&w->cond);
}

/* Caller holds the lock: the pending job is dropped (it counts as done). */
static void drop_pending(EnsWorker *w)
{
  if (w->done_seq < w->pending->res.seq)
    w->done_seq = w->pending->res.seq;
  recycle(w, w->pending);
  w->pending = NULL;
}

gboolean ens_worker_submit(EnsWorker *w, EnsJob *job, guint64 *seq)
{
  gboolean replaced = FALSE;
  g_mutex_lock(&w->lock);
  if (w->pending) {
    /* Only the newest frame matters for a live view: the older pending one is dropped. */
    drop_pending(w);
    w->replaced++;
    replaced = TRUE;
  }
  queue_job(w, job);
  if (seq)
    *seq = job->res.seq;
  g_mutex_unlock(&w->lock);
  return replaced;
}

guint64 ens_worker_run(EnsWorker *w, EnsJob *job)
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

void ens_worker_drain(EnsWorker *w)
{
  g_mutex_lock(&w->lock);
  while ((w->pending || w->inflight) && !w->quit && w->thread)
    g_cond_wait(&w->cond, &w->lock);
  g_mutex_unlock(&w->lock);
}

gboolean ens_worker_drain_until(EnsWorker *w, gint64 end_time)
{
  g_mutex_lock(&w->lock);
  while ((w->pending || w->inflight) && !w->quit && w->thread)
    if (!g_cond_wait_until(&w->cond, &w->lock, end_time))
      break;
  gboolean drained = !(w->pending || w->inflight);
  g_mutex_unlock(&w->lock);
  return drained;
}

gboolean ens_worker_wait_done(EnsWorker *w, guint64 seq, gint64 end_time)
{
  g_mutex_lock(&w->lock);
  while (w->done_seq < seq && !w->quit && w->thread)
    if (!g_cond_wait_until(&w->cond, &w->lock, end_time))
      break;
  gboolean done = w->done_seq >= seq;
  g_mutex_unlock(&w->lock);
  return done;
}

void ens_worker_set_nonfinite_func(EnsWorker *w, EnsNonfiniteFunc func)
{
  g_mutex_lock(&w->lock);
  w->on_nonfinite = func;
  g_mutex_unlock(&w->lock);
}

void ens_worker_reset(EnsWorker *w)
{
  g_mutex_lock(&w->lock);
  w->generation++;
  if (w->pending)
    drop_pending(w);
  w->has_latest = FALSE;
  g_cond_broadcast(&w->cond);
  g_mutex_unlock(&w->lock);
}

void ens_worker_set_smoothing(EnsWorker *w, EnsSmoothing s, gfloat alpha)
{
  g_mutex_lock(&w->lock);
  w->smoothing = s;
  w->alpha = alpha;
  g_mutex_unlock(&w->lock);
}

gchar *ens_worker_take_error(EnsWorker *w)
{
  g_mutex_lock(&w->lock);
  gchar *e = w->error;
  w->error = NULL;
  g_mutex_unlock(&w->lock);
  return e;
}
