/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ensloader.c - ensclassify's model loader thread: see ensloader.h. */
#include "ensloader.h"

typedef struct {
  guint64 id;
  gchar *path;
  gchar *labels;
  ens_options opt;
} LoadRequest;

struct _GstEnsLoader {
  GMutex lock;
  GCond cond;
  GThread *thread;
  GstEnsLoadDoneFunc done;
  gpointer user_data;

  /* under lock */
  gboolean quit;
  LoadRequest *pending; /* the latest request not yet started */
  guint64 last_id;      /* of the latest request */
  guint delay_ms;
};

static void request_free(LoadRequest *r)
{
  if (!r)
    return;
  g_free(r->path);
  g_free(r->labels);
  g_free(r);
}

GstEnsLoader *gst_ens_loader_new(GstEnsLoadDoneFunc done, gpointer user_data)
{
  GstEnsLoader *l = g_new0(GstEnsLoader, 1);
  g_mutex_init(&l->lock);
  g_cond_init(&l->cond);
  l->done = done;
  l->user_data = user_data;
  return l;
}

void gst_ens_loader_free(GstEnsLoader *l)
{
  if (!l)
    return;
  gst_ens_loader_stop(l);
  g_mutex_clear(&l->lock);
  g_cond_clear(&l->cond);
  g_free(l);
}

void gst_ens_loader_set_delay(GstEnsLoader *l, guint delay_ms)
{
  g_mutex_lock(&l->lock);
  l->delay_ms = delay_ms;
  g_mutex_unlock(&l->lock);
}

/* Caller holds the lock: TRUE if req is no longer worth finishing. */
static gboolean superseded(GstEnsLoader *l, const LoadRequest *req)
{
  return l->quit || req->id != l->last_id;
}

static gpointer loader_main(gpointer data)
{
  GstEnsLoader *l = data;
  g_mutex_lock(&l->lock);
  for (;;) {
    while (!l->pending && !l->quit)
      g_cond_wait(&l->cond, &l->lock);
    if (l->quit)
      break;
    LoadRequest *req = l->pending;
    l->pending = NULL;
    /* debug delay, cut short by stop; a newer request meanwhile cancels this one unloaded */
    gint64 until = g_get_monotonic_time() + (gint64)l->delay_ms * 1000;
    while (!superseded(l, req) && g_get_monotonic_time() < until)
      g_cond_wait_until(&l->cond, &l->lock, until);
    if (superseded(l, req)) {
      request_free(req);
      continue;
    }
    g_mutex_unlock(&l->lock);

    gint64 t0 = g_get_monotonic_time();
    GstEnsModel *model = NULL;
    ens_error err;
    gst_ens_model_load(req->path, req->labels, &req->opt, &model, &err);
    gint64 load_us = g_get_monotonic_time() - t0;

    g_mutex_lock(&l->lock);
    gboolean stale = superseded(l, req);
    g_mutex_unlock(&l->lock);
    if (stale)
      gst_ens_model_unref(model); /* latest wins: a newer request is pending (or we stop) */
    else
      l->done(req->id, model, req->path, &err, load_us, l->user_data);
    request_free(req);
    g_mutex_lock(&l->lock);
  }
  g_mutex_unlock(&l->lock);
  return NULL;
}

guint64 gst_ens_loader_request(GstEnsLoader *l, const gchar *path, const gchar *labels,
                               const ens_options *opt, gchar **error_msg)
{
  LoadRequest *req = g_new0(LoadRequest, 1);
  req->path = g_strdup(path);
  req->labels = g_strdup(labels);
  req->opt = *opt;
  req->opt.labels_path = NULL; /* the loader passes req->labels */

  g_mutex_lock(&l->lock);
  if (l->quit && l->thread) {
    /* the owner stops the loader before it could make this request; refuse rather than
     * queue a request no thread will take */
    g_mutex_unlock(&l->lock);
    *error_msg = g_strdup("the model loader is stopping");
    request_free(req);
    return 0;
  }
  if (!l->thread) {
    GError *gerr = NULL;
    l->quit = FALSE;
    l->thread = g_thread_try_new("ens-load", loader_main, l, &gerr);
    if (!l->thread) {
      g_mutex_unlock(&l->lock);
      *error_msg = g_strdup(gerr->message);
      g_error_free(gerr);
      request_free(req);
      return 0;
    }
  }
  req->id = ++l->last_id;
  request_free(l->pending); /* not started yet: replaced */
  l->pending = req;
  guint64 id = req->id;
  g_cond_broadcast(&l->cond);
  g_mutex_unlock(&l->lock);
  return id;
}

void gst_ens_loader_stop(GstEnsLoader *l)
{
  g_mutex_lock(&l->lock);
  l->quit = TRUE;
  g_clear_pointer(&l->pending, request_free);
  g_cond_broadcast(&l->cond);
  GThread *thread = l->thread;
  g_mutex_unlock(&l->lock);
  if (thread)
    g_thread_join(thread);
  g_mutex_lock(&l->lock);
  l->thread = NULL;
  g_mutex_unlock(&l->lock);
}
