/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ensshared.c - the shared engine of model-instance-id: registry, batching thread (one model
 * per batch), hot reload of the id's model (swap, retired sessions). See ensshared.h. */
#include "ensshared.h"

#include <stdio.h>
#include <string.h>

/* One caller's frame, on its stack while it waits in gst_ens_shared_forward(). */
typedef struct Request {
  struct Request *next;
  const GstEnsModel *model; /* its rows were preprocessed for this one */
  const float *input;
  int rows;
  float *logits;
  gint64 queued_us;
  gboolean done;
  ens_status status;
  ens_error err;
} Request;

/* A model the engine runs, with its session on the engine's pool. */
typedef struct Slot {
  struct Slot *next;
  GstEnsModel *model;   /* a reference */
  ens_session *session; /* run by the batching thread only */
  gint64 load_us;
} Slot;

/* An element joined to the engine. */
typedef struct {
  gconstpointer key; /* the user, compared only: release finds its entry without a reference */
  GWeakRef ref;      /* swaps take a reference to call follow on it */
  GstEnsSharedFollowFunc follow;
} User;

/* A user to call after a swap. */
typedef struct {
  GObject *user; /* a reference */
  GstEnsSharedFollowFunc follow;
} Follower;

struct _GstEnsShared {
  gchar *id;
  GstEnsSharedConfig cfg; /* strings owned below; under registry_lock (a swap changes them) */
  gchar *model_path, *labels_path;
  ens_pool *pool;
  guint users;        /* under registry_lock */
  GPtrArray *members; /* of User*, under registry_lock */

  GMutex lock;
  GCond wake; /* batching thread: a request arrived / quit */
  GCond done; /* callers: a batch finished */
  GThread *thread;
  gboolean quit;
  Request *head, *tail;
  guint n_queued;
  GstEnsSharedStats stats;
  guint64 ticket; /* the latest reload request's */
  Slot *current;  /* the model in use: joiners get it, users follow it */
  Slot *retired;  /* older models some element may still send frames of; freed by the batching
                   * thread once it holds their last reference */

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

/* ------------------------------------------------------------------ models */

static void slot_free(Slot *slot)
{
  ens_session_free(slot->session); /* before its model */
  gst_ens_model_unref(slot->model);
  g_free(slot);
}

/* A slot for model (a reference is taken) with a new session on the engine's pool. */
static Slot *slot_new(GstEnsShared *s, GstEnsModel *model, gint64 load_us, ens_error *err)
{
  ens_session_options so;
  ens_session_options_init(&so);
  so.max_batch = (int)s->cfg.batch_size;
  so.pool = s->pool;
  ens_session *session = NULL;
  if (ens_session_new(model->model, &so, &session, err) != ENS_OK)
    return NULL;
  Slot *slot = g_new0(Slot, 1);
  slot->model = gst_ens_model_ref(model);
  slot->session = session;
  slot->load_us = load_us;
  return slot;
}

/* Caller holds s->lock: the slot running model, or NULL if the engine never ran it. */
static Slot *find_slot(GstEnsShared *s, const GstEnsModel *model)
{
  if (s->current && s->current->model == model)
    return s->current;
  for (Slot *r = s->retired; r; r = r->next)
    if (r->model == model)
      return r;
  return NULL;
}

/* Caller holds s->lock: unlinks the retired slots whose model only the engine still holds (no
 * element can send frames of it any more, nor take a new reference) and returns them. */
static Slot *unlink_unused(GstEnsShared *s)
{
  Slot *unused = NULL;
  for (Slot **pp = &s->retired; *pp;) {
    Slot *r = *pp;
    if (gst_ens_model_is_last_ref(r->model)) {
      *pp = r->next;
      r->next = unused;
      unused = r;
    } else {
      pp = &r->next;
    }
  }
  return unused;
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

/* Runs the requests of list (rows in total, all of slot's model) as one forward, without the
 * lock. slot NULL: a model the engine does not run, every request fails. */
static void run_batch(GstEnsShared *s, Slot *slot, Request *list, int rows)
{
  ens_error err = {0};
  ens_status st;
  if (!slot) {
    st = err.code = ENS_ERR_ARG;
    g_snprintf(err.message, sizeof err.message,
               "shared forward of model-instance-id \"%s\": frame preprocessed for model \"%s\", "
               "which this engine does not run",
               s->id, list->model ? list->model->path : "(none)");
    for (Request *r = list; r; r = r->next) {
      r->status = st;
      r->err = err;
    }
    return;
  }
  const gsize row_floats = slot->model->input_floats;
  const gsize classes = (gsize)slot->model->num_classes;
  const float *in;
  float *out;
  if (!list->next) {
    /* a batch of one: straight from / to the caller's buffers */
    in = list->input;
    out = list->logits;
  } else {
    s->batch_in = ensure_floats(s->batch_in, &s->batch_in_cap, (gsize)rows * row_floats);
    s->batch_out = ensure_floats(s->batch_out, &s->batch_out_cap, (gsize)rows * classes);
    gsize off = 0;
    for (Request *r = list; r; r = r->next) {
      memcpy(s->batch_in + off, r->input, (gsize)r->rows * row_floats * sizeof(float));
      off += (gsize)r->rows * row_floats;
    }
    in = s->batch_in;
    out = s->batch_out;
  }
  st = ens_session_forward(slot->session, in, rows, out, NULL, &err);
  gsize off = 0;
  for (Request *r = list; r; r = r->next) {
    r->status = st;
    if (st != ENS_OK)
      r->err = err;
    else if (out != r->logits)
      memcpy(r->logits, out + off, (gsize)r->rows * classes * sizeof(float));
    off += (gsize)r->rows * classes;
  }
}

/* Caller holds s->lock: unlinks the batch to run now. The oldest request's model decides;
 * requests of that model are taken in arrival order (at most batch-size frames and
 * ENS_MAX_BATCH rows), requests of other models stay queued in their order. */
static Request *take_batch(GstEnsShared *s, guint *n_out, int *rows_out)
{
  const GstEnsModel *model = s->head->model;
  Request *list = NULL, **tail = &list, *prev = NULL;
  guint n = 0;
  int rows = 0;
  for (Request *r = s->head, *next; r && n < s->cfg.batch_size; r = next) {
    next = r->next;
    if (r->model != model) {
      prev = r;
      continue;
    }
    if (n > 0 && rows + r->rows > ENS_MAX_BATCH)
      break; /* the rest of this model waits: order within a model is kept */
    if (prev)
      prev->next = next;
    else
      s->head = next;
    if (s->tail == r)
      s->tail = prev;
    r->next = NULL;
    *tail = r;
    tail = &r->next;
    n++;
    rows += r->rows;
  }
  s->n_queued -= n;
  *n_out = n;
  *rows_out = rows;
  return list;
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
    guint n;
    int rows;
    Request *list = take_batch(s, &n, &rows);
    Slot *slot = find_slot(s, list->model); /* a swap only moves it to retired: still valid */
    gint64 t0 = g_get_monotonic_time();
    for (Request *r = list; r; r = r->next)
      s->stats.queue_wait_ms += (gdouble)(t0 - r->queued_us) / 1000.0;
    g_mutex_unlock(&s->lock);

    run_batch(s, slot, list, rows);
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
    Slot *unused = s->retired ? unlink_unused(s) : NULL;
    if (unused) {
      g_mutex_unlock(&s->lock);
      for (Slot *r = unused, *next; r; r = next) {
        next = r->next;
        slot_free(r);
      }
      g_mutex_lock(&s->lock);
    }
  }
  g_mutex_unlock(&s->lock);
  return NULL;
}

ens_status gst_ens_shared_forward(gpointer shared, const GstEnsModel *model, const float *input,
                                  int rows, float *logits, ens_error *err)
{
  GstEnsShared *s = shared;
  if (rows <= 0 || rows > ENS_MAX_BATCH) {
    err->code = ENS_ERR_ARG;
    g_snprintf(err->message, sizeof err->message,
               "shared forward of model-instance-id \"%s\": batch %d out of range 1..%d", s->id,
               rows, ENS_MAX_BATCH);
    return ENS_ERR_ARG;
  }
  Request req = {.model = model, .input = input, .rows = rows, .logits = logits};
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

static void user_free(gpointer data)
{
  User *u = data;
  g_weak_ref_clear(&u->ref);
  g_free(u);
}

static void shared_free(GstEnsShared *s)
{
  if (s->thread) {
    g_mutex_lock(&s->lock);
    s->quit = TRUE;
    g_cond_signal(&s->wake);
    g_mutex_unlock(&s->lock);
    g_thread_join(s->thread);
  }
  /* every user has left: no job holds a model any more */
  g_clear_pointer(&s->current, slot_free);
  while (s->retired) {
    Slot *next = s->retired->next;
    slot_free(s->retired);
    s->retired = next;
  }
  ens_pool_free(s->pool);
  g_free(s->batch_in);
  g_free(s->batch_out);
  g_mutex_clear(&s->lock);
  g_cond_clear(&s->wake);
  g_cond_clear(&s->done);
  g_ptr_array_unref(s->members);
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
  s->members = g_ptr_array_new_with_free_func(user_free);
  g_mutex_init(&s->lock);
  g_cond_init(&s->wake);
  g_cond_init(&s->done);

  ens_options opt;
  ens_options_init(&opt);
  opt.threads = (int)cfg->threads;
  opt.precision = cfg->precision;
  opt.input_height = (int)cfg->input_height;
  opt.input_width = (int)cfg->input_width;
  GstEnsModel *model = NULL;
  gint64 t0 = g_get_monotonic_time();
  if (gst_ens_model_load(cfg->model_path, cfg->labels_path, &opt, &model, err) != ENS_OK) {
    *status = GST_ENS_SHARED_LOAD;
    *msg = g_strdup_printf("model-instance-id \"%s\": %s", id, err->message);
    shared_free(s);
    return NULL;
  }
  gint64 load_us = g_get_monotonic_time() - t0;
  loads_total++;

  if (ens_pool_new((int)cfg->threads, &s->pool, err) != ENS_OK ||
      !(s->current = slot_new(s, model, load_us, err))) {
    *status = GST_ENS_SHARED_RESOURCES;
    *msg = g_strdup_printf("model-instance-id \"%s\": %s", id, err->message);
    gst_ens_model_unref(model);
    shared_free(s);
    return NULL;
  }
  gst_ens_model_unref(model); /* the slot holds it */
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

GstEnsShared *gst_ens_shared_acquire(const gchar *id, const GstEnsSharedConfig *cfg, GObject *user,
                                     GstEnsSharedFollowFunc follow, GstEnsSharedStatus *status,
                                     gchar **msg, ens_error *err)
{
  g_mutex_lock(&registry_lock);
  if (!registry)
    registry = g_hash_table_new(g_str_hash, g_str_equal);
  GstEnsShared *s = g_hash_table_lookup(registry, id);
  if (s) {
    /* against the model in use now, which a reload may have changed */
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
  User *u = g_new0(User, 1);
  u->key = user;
  g_weak_ref_init(&u->ref, user);
  u->follow = follow;
  g_ptr_array_add(s->members, u);
  g_mutex_lock(&s->lock);
  s->stats.users = s->users;
  g_mutex_unlock(&s->lock);
  g_mutex_unlock(&registry_lock);
  *status = GST_ENS_SHARED_OK;
  return s;
}

/* Registry lock held: removes user from s's members. */
static void remove_member(GstEnsShared *s, GObject *user)
{
  for (guint i = 0; i < s->members->len; i++) {
    User *u = g_ptr_array_index(s->members, i);
    if (u->key == user) {
      g_ptr_array_remove_index(s->members, i);
      return;
    }
  }
}

void gst_ens_shared_release(GstEnsShared *s, GObject *user)
{
  if (!s)
    return;
  g_mutex_lock(&registry_lock);
  remove_member(s, user);
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

GstEnsModel *gst_ens_shared_current(GstEnsShared *s, gint64 *load_us)
{
  g_mutex_lock(&s->lock);
  GstEnsModel *m = gst_ens_model_ref(s->current->model);
  if (load_us)
    *load_us = s->current->load_us;
  g_mutex_unlock(&s->lock);
  return m;
}

guint64 gst_ens_shared_reload_ticket(GstEnsShared *s)
{
  /* not the registry lock: a request never waits for another id's first load */
  g_mutex_lock(&s->lock);
  guint64 t = ++s->ticket;
  g_mutex_unlock(&s->lock);
  return t;
}

GstEnsSharedStatus gst_ens_shared_swap(GstEnsShared *s, guint64 ticket, GstEnsModel *model,
                                       gint64 load_us, gchar **msg)
{
  /* the session is made before anything changes: if it fails, nothing did */
  ens_error err = {0};
  Slot *slot = slot_new(s, model, load_us, &err);
  if (!slot) {
    *msg = g_strdup_printf("model-instance-id \"%s\": %s", s->id, err.message);
    return GST_ENS_SHARED_RESOURCES;
  }
  g_mutex_lock(&registry_lock);
  g_mutex_lock(&s->lock);
  if (ticket != s->ticket) {
    g_mutex_unlock(&s->lock);
    g_mutex_unlock(&registry_lock);
    slot_free(slot); /* a newer request was made meanwhile: latest wins */
    return GST_ENS_SHARED_MISMATCH;
  }
  /* Between two batches: the batching thread looks the slot up under this lock. */
  s->current->next = s->retired;
  s->retired = s->current;
  s->current = slot;
  g_mutex_unlock(&s->lock);
  /* joiners are checked against the model in use from now on */
  g_free(s->model_path);
  g_free(s->labels_path);
  s->model_path = g_strdup(model->path);
  s->labels_path = g_strdup(model->labels);
  s->cfg.model_path = s->model_path;
  s->cfg.labels_path = s->labels_path;
  loads_total++;
  GArray *followers = g_array_new(FALSE, FALSE, sizeof(Follower));
  for (guint i = 0; i < s->members->len; i++) {
    User *u = g_ptr_array_index(s->members, i);
    Follower f = {g_weak_ref_get(&u->ref), u->follow};
    if (f.user) /* NULL: being finalized, it leaves */
      g_array_append_val(followers, f);
  }
  g_mutex_unlock(&registry_lock);
  /* Without the lock (a user posts messages, may leave or request another reload). The users
   * follow the engine's current model, not this one: if a newer swap overtakes this loop, each
   * user still ends on the newest. s stays alive: the caller is a user until it returns. */
  for (guint i = 0; i < followers->len; i++) {
    Follower *f = &g_array_index(followers, Follower, i);
    f->follow(f->user, s);
    g_object_unref(f->user);
  }
  g_array_unref(followers);
  return GST_ENS_SHARED_OK;
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
