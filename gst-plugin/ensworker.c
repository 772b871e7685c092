/* ensworker.c - see ensworker.h. */
#include "ensworker.h"

#include <string.h>

void ens_worker_init(EnsWorker *w)
{
  memset(w, 0, sizeof *w);
  g_mutex_init(&w->lock);
  g_cond_init(&w->cond);
  w->alpha = 0.3f;
}

void ens_worker_clear(EnsWorker *w)
{
  ens_worker_stop(w);
  g_mutex_clear(&w->lock);
  g_cond_clear(&w->cond);
}

EnsJob *ens_worker_job_new(EnsWorker *w, guint n_regions)
{
  EnsJob *job = g_new0(EnsJob, 1);
  job->n_regions = n_regions;
  job->regions = g_new0(EnsRegion, n_regions);
  job->input = g_malloc_n((gsize)n_regions * w->input_floats, sizeof(float));
  job->probs = g_malloc_n((gsize)n_regions * (gsize)w->num_classes, sizeof(float));
  job->pts = GST_CLOCK_TIME_NONE;
  return job;
}

void ens_job_free(EnsJob *job)
{
  if (!job)
    return;
  g_free(job->regions);
  g_free(job->input);
  g_free(job->probs);
  g_free(job);
}

/* EMA over the class probabilities of a full-frame job: p <- a * p_new + (1 - a) * p. */
static void smooth(EnsWorker *w, EnsJob *job, EnsSmoothing mode, gfloat alpha, guint generation)
{
  if (mode != ENS_SMOOTHING_EMA || job->n_regions != 1 || !job->regions[0].full_frame) {
    w->ema_valid = FALSE;
    return;
  }
  gint n = w->num_classes;
  if (!w->ema_valid || w->ema_generation != generation) {
    memcpy(w->ema, job->probs, (gsize)n * sizeof(float));
    w->ema_valid = TRUE;
    w->ema_generation = generation;
    return;
  }
  for (gint i = 0; i < n; i++)
    w->ema[i] = alpha * job->probs[i] + (1.0f - alpha) * w->ema[i];
  memcpy(job->probs, w->ema, (gsize)n * sizeof(float));
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
    guint64 seq = job->seq;
    w->pending = NULL;
    w->busy = TRUE;
    EnsSmoothing smoothing = w->smoothing;
    gfloat alpha = w->alpha;
    guint delay_ms = w->delay_ms;
    g_mutex_unlock(&w->lock);

    gint64 t0 = g_get_monotonic_time();
    if (delay_ms)
      g_usleep((gulong)delay_ms * 1000);
    ens_error err = {0};
    ens_status st =
        ens_model_forward(w->model, job->input, (int)job->n_regions, job->probs, NULL, &err);
    if (st == ENS_OK) {
      for (guint r = 0; r < job->n_regions; r++) {
        float *p = job->probs + (gsize)r * (gsize)w->num_classes;
        ens_softmax(p, w->num_classes, p);
      }
      smooth(w, job, smoothing, alpha, job->generation);
    }
    job->infer_us = g_get_monotonic_time() - t0;

    g_mutex_lock(&w->lock);
    gboolean publish = st == ENS_OK && job->generation == w->generation;
    if (st != ENS_OK && !w->error)
      w->error = g_strdup_printf("%s (%s)", err.message, ens_status_name(st));
    if (publish) {
      ens_job_free(w->latest);
      w->latest = job;
      w->inferred++;
      w->latency_sum_ms += (double)(job->preprocess_us + job->infer_us) / 1000.0;
      if (w->on_result) {
        /* Report before marking the job done, so a sync frame's message is posted before
         * its buffer is pushed (and before EOS after a drain). A reset may free latest
         * meanwhile, so the callback gets a copy of what it reads. */
        EnsJob view = *job;
        view.regions = g_memdup2(job->regions, sizeof(EnsRegion) * job->n_regions);
        view.probs = g_memdup2(job->probs, sizeof(float) * job->n_regions * (gsize)w->num_classes);
        view.input = NULL;
        g_mutex_unlock(&w->lock);
        w->on_result(&view, w->user_data);
        g_free(view.regions);
        g_free(view.probs);
        g_mutex_lock(&w->lock);
      }
    } else {
      ens_job_free(job);
    }
    w->busy = FALSE;
    if (w->done_seq < seq)
      w->done_seq = seq;
    g_cond_broadcast(&w->cond);
  }
  g_mutex_unlock(&w->lock);
  return NULL;
}

gboolean ens_worker_start(EnsWorker *w, ens_model *model, guint delay_ms, EnsResultFunc on_result,
                          gpointer user_data, gchar **error_msg)
{
  const ens_model_info *info = ens_model_get_info(model);
  ens_worker_stop(w);
  w->model = model;
  w->num_classes = info->num_classes;
  w->input_floats = (gsize)3 * (gsize)info->input_height * (gsize)info->input_width;
  w->delay_ms = delay_ms;
  w->on_result = on_result;
  w->user_data = user_data;
  w->quit = FALSE;
  w->busy = FALSE;
  w->next_seq = 1;
  w->done_seq = 0;
  w->inferred = w->replaced = 0;
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
  g_clear_pointer(&w->pending, ens_job_free);
  g_clear_pointer(&w->latest, ens_job_free);
  g_clear_pointer(&w->error, g_free);
  g_clear_pointer(&w->ema, g_free);
  w->model = NULL;
  g_mutex_unlock(&w->lock);
}

/* Caller holds the lock. */
static void queue_job(EnsWorker *w, EnsJob *job)
{
  job->seq = w->next_seq++;
  job->generation = w->generation;
  w->pending = job;
  g_cond_broadcast(&w->cond);
}

gboolean ens_worker_submit(EnsWorker *w, EnsJob *job)
{
  gboolean replaced = FALSE;
  g_mutex_lock(&w->lock);
  if (w->pending) {
    /* Only the newest frame matters for a live view: the older pending one is dropped. */
    if (w->done_seq < w->pending->seq)
      w->done_seq = w->pending->seq;
    ens_job_free(w->pending);
    w->pending = NULL;
    w->replaced++;
    replaced = TRUE;
  }
  queue_job(w, job);
  g_mutex_unlock(&w->lock);
  return replaced;
}

guint64 ens_worker_run(EnsWorker *w, EnsJob *job)
{
  g_mutex_lock(&w->lock);
  /* Sync mode never has two jobs queued, but a previous async one may still be pending. */
  while (w->pending && !w->quit)
    g_cond_wait(&w->cond, &w->lock);
  queue_job(w, job);
  guint64 seq = job->seq;
  while (w->done_seq < seq && !w->quit)
    g_cond_wait(&w->cond, &w->lock);
  g_mutex_unlock(&w->lock);
  return seq;
}

void ens_worker_drain(EnsWorker *w)
{
  g_mutex_lock(&w->lock);
  while ((w->pending || w->busy) && !w->quit && w->thread)
    g_cond_wait(&w->cond, &w->lock);
  g_mutex_unlock(&w->lock);
}

void ens_worker_reset(EnsWorker *w)
{
  g_mutex_lock(&w->lock);
  w->generation++;
  if (w->pending) {
    if (w->done_seq < w->pending->seq)
      w->done_seq = w->pending->seq;
    g_clear_pointer(&w->pending, ens_job_free);
  }
  g_clear_pointer(&w->latest, ens_job_free);
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
