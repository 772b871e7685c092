/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ensshared.c - the shared engine of model-instance-id: registry, batching thread. See
 * ensshared.h. */
#include "ensshared.h"

#include <stdio.h>
#include <string.h>

#define RANDOM_PREFIX "random:"

/* One caller's frame, on its stack while it waits in gst_ens_shared_forward(). */
typedef struct Request {
  struct Request *next;
  const float *input;
  int rows;
  float *logits;
  gint64 queued_us;
  gboolean done;
  ens_status status;
  ens_error err;
} Request;

struct _GstEnsShared {
  gchar *id;
  GstEnsSharedConfig cfg; /* strings owned below */
  gchar *model_path, *labels_path;
  ens_model *model;
  ens_pool *pool;
  ens_session *session; /* used by the batching thread only */
  gsize row_floats;     /* floats of one preprocessed image */
  gint num_classes;
  guint users; /* under registry_lock */

  GMutex lock;
  GCond wake; /* batching thread: a request arrived / quit */
  GCond done; /* callers: a batch finished */
  GThread *thread;
  gboolean quit;
  Request *head, *tail;
  guint n_queued;
  GstEnsSharedStats stats;

  /* batching thread only */
  float *batch_in, *batch_out;
  gsize batch_in_cap, batch_out_cap;
};

static GMutex registry_lock;
static GHashTable *registry; /* id -> GstEnsShared*, under registry_lock */
static guint64 loads_total;  /* under registry_lock */

static const gchar *str_or_empty(const gchar *s)
{
  return s ? s : "";
}

static const gchar *precision_name(ens_precision p)
{
  return p == ENS_PRECISION_BF16 ? "bf16" : "f32";
}

/* The first model-defining property where want differs from have, described, or NULL. */
static gchar *describe_mismatch(const gchar *id, const GstEnsSharedConfig *have,
                                const GstEnsSharedConfig *want)
{
  if (g_strcmp0(str_or_empty(have->model_path), str_or_empty(want->model_path)))
    return g_strdup_printf("model-instance-id \"%s\": model \"%s\" differs from the shared "
                           "model \"%s\"",
                           id, str_or_empty(want->model_path), str_or_empty(have->model_path));
  if (g_strcmp0(str_or_empty(have->labels_path), str_or_empty(want->labels_path)))
    return g_strdup_printf("model-instance-id \"%s\": labels \"%s\" differ from the shared "
                           "model's \"%s\"",
                           id, str_or_empty(want->labels_path), str_or_empty(have->labels_path));
  if (have->precision != want->precision)
    return g_strdup_printf("model-instance-id \"%s\": precision %s differs from the shared "
                           "model's %s",
                           id, precision_name(want->precision), precision_name(have->precision));
  if (have->input_height != want->input_height || have->input_width != want->input_width)
    return g_strdup_printf("model-instance-id \"%s\": input-size %ux%u differs from the shared "
                           "model's %ux%u (0 = the variant's size)",
                           id, want->input_height, want->input_width, have->input_height,
                           have->input_width);
  if (have->threads != want->threads)
    return g_strdup_printf("model-instance-id \"%s\": threads %u differs from the shared "
                           "model's %u (0 = online CPUs)",
                           id, want->threads, have->threads);
  return NULL;
}

/* ------------------------------------------------------------------ batching thread */

static gpointer ensure_floats(float *buf, gsize *cap, gsize n)
{
  if (n <= *cap)
    return buf;
  g_free(buf);
  *cap = n;
  return g_new(float, n);
}

/* Runs the requests of list (rows in total) as one forward, without the lock. */
static void run_batch(GstEnsShared *s, Request *list, int rows)
{
  ens_error err = {0};
  ens_status st;
  const float *in;
  float *out;
  if (!list->next) {
    /* a batch of one: straight from / to the caller's buffers */
    in = list->input;
    out = list->logits;
  } else {
    s->batch_in = ensure_floats(s->batch_in, &s->batch_in_cap, (gsize)rows * s->row_floats);
    s->batch_out =
        ensure_floats(s->batch_out, &s->batch_out_cap, (gsize)rows * (gsize)s->num_classes);
    gsize off = 0;
    for (Request *r = list; r; r = r->next) {
      memcpy(s->batch_in + off, r->input, (gsize)r->rows * s->row_floats * sizeof(float));
      off += (gsize)r->rows * s->row_floats;
    }
    in = s->batch_in;
    out = s->batch_out;
  }
  st = ens_session_forward(s->session, in, rows, out, NULL, &err);
  gsize off = 0;
  for (Request *r = list; r; r = r->next) {
    r->status = st;
    if (st != ENS_OK)
      r->err = err;
    else if (out != r->logits)
      memcpy(r->logits, out + off, (gsize)r->rows * (gsize)s->num_classes * sizeof(float));
    off += (gsize)r->rows * (gsize)s->num_classes;
  }
}

static gpointer batcher_main(gpointer data)
{
  GstEnsShared *s = data;
  gint64 timeout_us = (gint64)s->cfg.batch_timeout_ms * 1000;
  g_mutex_lock(&s->lock);
  for (;;) {
    while (!s->head && !s->quit)
      g_cond_wait(&s->wake, &s->lock);
    if (!s->head)
      break; /* quit, nothing left */
    /* Wait for a full batch, at most batch-timeout after the oldest frame arrived. */
    gint64 deadline = s->head->queued_us + timeout_us;
    gboolean timed_out = FALSE;
    while (s->n_queued < s->cfg.batch_size && !s->quit) {
      if (!g_cond_wait_until(&s->wake, &s->lock, deadline)) {
        timed_out = TRUE;
        break;
      }
    }
    /* Take frames in arrival order: at most batch-size, and at most ENS_MAX_BATCH rows. */
    Request *list = s->head, *last = s->head;
    guint n = 1;
    int rows = list->rows;
    while (last->next && n < s->cfg.batch_size && rows + last->next->rows <= ENS_MAX_BATCH) {
      last = last->next;
      rows += last->rows;
      n++;
    }
    s->head = last->next;
    if (!s->head)
      s->tail = NULL;
    last->next = NULL;
    s->n_queued -= n;
    gint64 t0 = g_get_monotonic_time();
    for (Request *r = list; r; r = r->next)
      s->stats.queue_wait_ms += (gdouble)(t0 - r->queued_us) / 1000.0;
    g_mutex_unlock(&s->lock);

    run_batch(s, list, rows);
    gint64 t1 = g_get_monotonic_time();

    g_mutex_lock(&s->lock);
    s->stats.batches++;
    s->stats.frames += n;
    s->stats.rows += (guint64)rows;
    if (n > s->stats.max_batch)
      s->stats.max_batch = n;
    if (timed_out && n < s->cfg.batch_size)
      s->stats.timeouts++;
    s->stats.forward_ms += (gdouble)(t1 - t0) / 1000.0;
    for (Request *r = list, *next; r; r = next) {
      next = r->next; /* r belongs to its caller once done is set */
      r->done = TRUE;
    }
    g_cond_broadcast(&s->done);
  }
  g_mutex_unlock(&s->lock);
  return NULL;
}

ens_status gst_ens_shared_forward(gpointer shared, const float *input, int rows, float *logits,
                                  ens_error *err)
{
  GstEnsShared *s = shared;
  if (rows <= 0 || rows > ENS_MAX_BATCH) {
    err->code = ENS_ERR_ARG;
    g_snprintf(err->message, sizeof err->message,
               "shared forward of model-instance-id \"%s\": batch %d out of range 1..%d", s->id,
               rows, ENS_MAX_BATCH);
    return ENS_ERR_ARG;
  }
  Request req = {.input = input, .rows = rows, .logits = logits};
  g_mutex_lock(&s->lock);
  req.queued_us = g_get_monotonic_time();
  if (s->tail)
    s->tail->next = &req;
  else
    s->head = &req;
  s->tail = &req;
  s->n_queued++;
  g_cond_signal(&s->wake);
  while (!req.done)
    g_cond_wait(&s->done, &s->lock);
  g_mutex_unlock(&s->lock);
  if (req.status != ENS_OK)
    *err = req.err;
  return req.status;
}

/* ------------------------------------------------------------------ registry */

static void shared_free(GstEnsShared *s)
{
  if (s->thread) {
    g_mutex_lock(&s->lock);
    s->quit = TRUE;
    g_cond_signal(&s->wake);
    g_mutex_unlock(&s->lock);
    g_thread_join(s->thread);
  }
  ens_session_free(s->session);
  ens_pool_free(s->pool);
  ens_model_free(s->model);
  g_free(s->batch_in);
  g_free(s->batch_out);
  g_mutex_clear(&s->lock);
  g_cond_clear(&s->wake);
  g_cond_clear(&s->done);
  g_free(s->model_path);
  g_free(s->labels_path);
  g_free(s->id);
  g_free(s);
}

/* Loads the model and starts pool, session and thread. Registry lock held (a second element
 * of the same id waits for the load instead of loading again). */
static GstEnsShared *shared_new(const gchar *id, const GstEnsSharedConfig *cfg,
                                GstEnsSharedStatus *status, gchar **msg, ens_error *err)
{
  GstEnsShared *s = g_new0(GstEnsShared, 1);
  s->id = g_strdup(id);
  s->cfg = *cfg;
  s->model_path = g_strdup(cfg->model_path);
  s->labels_path = g_strdup(cfg->labels_path);
  s->cfg.model_path = s->model_path;
  s->cfg.labels_path = s->labels_path;
  if (s->cfg.batch_size < 1)
    s->cfg.batch_size = 1;
  s->stats.batch_size = s->cfg.batch_size;
  s->stats.batch_timeout_ms = s->cfg.batch_timeout_ms;
  g_mutex_init(&s->lock);
  g_cond_init(&s->wake);
  g_cond_init(&s->done);

  ens_options opt;
  ens_options_init(&opt);
  opt.threads = (int)cfg->threads;
  opt.precision = cfg->precision;
  opt.input_height = (int)cfg->input_height;
  opt.input_width = (int)cfg->input_width;
  opt.labels_path = cfg->labels_path;
  ens_status st;
  if (g_str_has_prefix(cfg->model_path, RANDOM_PREFIX))
    st = ens_model_new_random(cfg->model_path + strlen(RANDOM_PREFIX), 1000, 0, &opt, &s->model,
                              err);
  else
    st = ens_model_load(cfg->model_path, &opt, &s->model, err);
  if (st != ENS_OK) {
    if (!err->message[0])
      g_strlcpy(err->message, ens_status_name(st), sizeof err->message);
    err->code = st;
    *status = GST_ENS_SHARED_LOAD;
    *msg = g_strdup_printf("model-instance-id \"%s\": %s", id, err->message);
    shared_free(s);
    return NULL;
  }
  loads_total++;
  const ens_model_info *mi = ens_model_get_info(s->model);
  s->num_classes = mi->num_classes;
  s->row_floats = (gsize)3 * (gsize)mi->input_height * (gsize)mi->input_width;

  ens_session_options so;
  ens_session_options_init(&so);
  so.max_batch = (int)s->cfg.batch_size;
  if ((st = ens_pool_new((int)cfg->threads, &s->pool, err)) != ENS_OK ||
      (so.pool = s->pool, st = ens_session_new(s->model, &so, &s->session, err)) != ENS_OK) {
    *status = GST_ENS_SHARED_RESOURCES;
    *msg = g_strdup_printf("model-instance-id \"%s\": %s", id, err->message);
    shared_free(s);
    return NULL;
  }
  GError *gerr = NULL;
  s->thread = g_thread_try_new("ens-batch", batcher_main, s, &gerr);
  if (!s->thread) {
    *status = GST_ENS_SHARED_RESOURCES;
    *msg = g_strdup_printf("model-instance-id \"%s\": batching thread: %s", id, gerr->message);
    g_error_free(gerr);
    shared_free(s);
    return NULL;
  }
  return s;
}

GstEnsShared *gst_ens_shared_acquire(const gchar *id, const GstEnsSharedConfig *cfg,
                                     GstEnsSharedStatus *status, gchar **msg, ens_error *err)
{
  g_mutex_lock(&registry_lock);
  if (!registry)
    registry = g_hash_table_new(g_str_hash, g_str_equal);
  GstEnsShared *s = g_hash_table_lookup(registry, id);
  if (s) {
    gchar *why = describe_mismatch(id, &s->cfg, cfg);
    if (why) {
      g_mutex_unlock(&registry_lock);
      *status = GST_ENS_SHARED_MISMATCH;
      *msg = why;
      return NULL;
    }
  } else {
    s = shared_new(id, cfg, status, msg, err);
    if (!s) {
      g_mutex_unlock(&registry_lock);
      return NULL;
    }
    g_hash_table_insert(registry, s->id, s);
  }
  s->users++;
  g_mutex_lock(&s->lock);
  s->stats.users = s->users;
  g_mutex_unlock(&s->lock);
  g_mutex_unlock(&registry_lock);
  *status = GST_ENS_SHARED_OK;
  return s;
}

void gst_ens_shared_release(GstEnsShared *s)
{
  if (!s)
    return;
  g_mutex_lock(&registry_lock);
  gboolean last = --s->users == 0;
  if (last) {
    g_hash_table_remove(registry, s->id);
    if (g_hash_table_size(registry) == 0)
      g_clear_pointer(&registry, g_hash_table_destroy);
  } else {
    g_mutex_lock(&s->lock);
    s->stats.users = s->users;
    g_mutex_unlock(&s->lock);
  }
  g_mutex_unlock(&registry_lock);
  if (last)
    shared_free(s); /* no forward can be queued: every user has left */
}

ens_model *gst_ens_shared_model(GstEnsShared *s)
{
  return s->model;
}

const gchar *gst_ens_shared_id(GstEnsShared *s)
{
  return s->id;
}

void gst_ens_shared_get_stats(GstEnsShared *s, GstEnsSharedStats *out)
{
  g_mutex_lock(&s->lock);
  *out = s->stats;
  g_mutex_unlock(&s->lock);
}

guint64 gst_ens_shared_loads_total(void)
{
  g_mutex_lock(&registry_lock);
  guint64 n = loads_total;
  g_mutex_unlock(&registry_lock);
  return n;
}

guint gst_ens_shared_alive(void)
{
  g_mutex_lock(&registry_lock);
  guint n = registry ? g_hash_table_size(registry) : 0;
  g_mutex_unlock(&registry_lock);
  return n;
}
