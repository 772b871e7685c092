/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensclassifyreloadshared.c - hot reload of a shared model, element side: hands the loaded
 * model to the shared engine and follows the engine's swaps. See gstensclassifyreloadshared.h.
 */
#include "gstensclassifyreloadshared.h"

#include "gstensclassifyreload.h"

GST_DEBUG_CATEGORY_STATIC(ens_reload_shared_debug);
#define GST_CAT_DEFAULT ens_reload_shared_debug

static void init_debug(void)
{
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(ens_reload_shared_debug, "ensclassify-reload-shared", 0,
                            "ensclassify hot reload of a model-instance-id's model");
    g_once_init_leave(&once, 1);
  }
}

void gst_ens_classify_reload_shared_done(GstEnsClassify *self, GstEnsShared *shared, guint64 ticket,
                                         GstEnsModel *model, const gchar *path, gint64 load_us)
{
  init_debug();
  gchar *msg = NULL;
  GstEnsSharedStatus st = gst_ens_shared_swap(shared, ticket, model, load_us, &msg);
  gst_ens_model_unref(model); /* the engine holds it if swapped */
  GST_OBJECT_LOCK(self);
  /* swapped: the follow already reset the requested values; otherwise they start again from
   * the model in use (a newer request of another element, or a failure) */
  gst_ens_classify_reload_forget(self);
  gchar *in_use = g_strdup(self->model_path);
  GST_OBJECT_UNLOCK(self);
  if (st == GST_ENS_SHARED_MISMATCH) {
    GST_DEBUG_OBJECT(self, "reload of \"%s\" superseded by a newer request of \"%s\": discarded",
                     path, gst_ens_shared_id(shared));
  } else if (st == GST_ENS_SHARED_RESOURCES) {
    ens_error err = {.code = ENS_ERR_NOMEM};
    g_strlcpy(err.message, msg, sizeof err.message);
    gst_ens_classify_reload_post_warning(self, path, &err, in_use);
  }
  g_free(msg);
  g_free(in_use);
}

void gst_ens_classify_shared_follow(GstEnsClassify *self)
{
  init_debug();
  GST_OBJECT_LOCK(self);
  if (!self->shared || !self->model_in_use) {
    GST_OBJECT_UNLOCK(self);
    return; /* not started: start() follows once its worker runs */
  }
  gint64 load_us = 0;
  GstEnsModel *now = gst_ens_shared_current(self->shared, &load_us);
  GstEnsModel *have = gst_ens_worker_get_model(self->worker);
  GstEnsModel *old = NULL;
  if (have && have != now) {
    /* as an own reload: jobs acquired from now on use it, the properties change with it */
    old = gst_ens_worker_set_model(self->worker, now);
    g_free(self->model_path);
    g_free(self->labels_path);
    self->model_path = g_strdup(now->path);
    self->labels_path = g_strdup(now->labels);
    self->top_k_clamped = FALSE;
    gst_ens_classify_reload_forget(self);
  }
  GST_OBJECT_UNLOCK(self);
  if (old) {
    GST_INFO_OBJECT(self, "follows model-instance-id's new model \"%s\" (%s, %d classes)",
                    now->path, now->name, now->num_classes);
    gst_ens_classify_reload_post_swapped(self, old, now, load_us);
  }
  /* an old model's last reference may go here, never under the object lock */
  gst_ens_model_unref(old);
  gst_ens_model_unref(have);
  gst_ens_model_unref(now);
}

void gst_ens_classify_shared_follow_cb(GObject *user, GstEnsShared *shared)
{
  (void)shared; /* the element follows the engine it is joined to */
  gst_ens_classify_shared_follow(GST_ENS_CLASSIFY(user));
}
