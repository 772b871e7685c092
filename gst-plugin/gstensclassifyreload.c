/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensclassifyreload.c - hot reload of ensclassify's model: requests to the loader thread,
 * the swap into the worker, the ens-model-swapped message and the warning of a failed load.
 * With model-instance-id the loaded model goes to the shared engine instead
 * (gstensclassifyreloadshared.c). See gstensclassifyreload.h. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstensclassifyreload.h"
#include "gstensclassifyreloadshared.h"

#include <stdlib.h>

GST_DEBUG_CATEGORY_STATIC(ens_reload_debug);
#define GST_CAT_DEFAULT ens_reload_debug

void gst_ens_classify_model_options(GstEnsClassify *self, ens_options *opt)
{
  ens_options_init(opt);
  opt->threads = (int)self->threads;
  opt->precision = self->precision;
  opt->input_height = (int)self->input_height;
  opt->input_width = (int)self->input_width;
}

void gst_ens_classify_reload_post_warning(GstEnsClassify *self, const gchar *path,
                                          const ens_error *err, const gchar *in_use)
{
  const gchar *status = ens_status_name(err->code);
  switch (err->code) {
    case ENS_ERR_IO:
      GST_ELEMENT_WARNING(
          self, RESOURCE, OPEN_READ,
          ("Could not load model \"%s\": %s; still using \"%s\"", path, err->message, in_use),
          ("ens status: %s", status));
      break;
    case ENS_ERR_FORMAT:
    case ENS_ERR_MODEL:
      GST_ELEMENT_WARNING(
          self, RESOURCE, READ,
          ("Could not load model \"%s\": %s; still using \"%s\"", path, err->message, in_use),
          ("ens status: %s", status));
      break;
    case ENS_ERR_NOMEM:
      GST_ELEMENT_WARNING(
          self, RESOURCE, NO_SPACE_LEFT,
          ("Could not load model \"%s\": %s; still using \"%s\"", path, err->message, in_use),
          ("ens status: %s", status));
      break;
    default:
      GST_ELEMENT_WARNING(
          self, RESOURCE, SETTINGS,
          ("Could not load model \"%s\": %s; still using \"%s\"", path, err->message, in_use),
          ("ens status: %s", status));
      break;
  }
}

void gst_ens_classify_reload_forget(GstEnsClassify *self)
{
  g_free(self->req_model_path);
  g_free(self->req_labels_path);
  self->req_model_path = g_strdup(self->model_path);
  self->req_labels_path = g_strdup(self->labels_path);
}

void gst_ens_classify_reload_post_swapped(GstEnsClassify *self, const GstEnsModel *old,
                                          const GstEnsModel *model, gint64 load_us)
{
  GstStructure *s = gst_structure_new(
      GST_ENS_MODEL_SWAPPED_MESSAGE, "old", G_TYPE_STRING, old ? old->path : NULL, "old-name",
      G_TYPE_STRING, old ? old->name : NULL, "new", G_TYPE_STRING, model->path, "new-name",
      G_TYPE_STRING, model->name, "num-classes", G_TYPE_INT, model->num_classes, "load-ms",
      G_TYPE_DOUBLE, (gdouble)load_us / 1000.0, NULL);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

/* Loader thread: the latest request is done. */
static void on_model_loaded(guint64 id, GstEnsModel *model, const gchar *path, const ens_error *err,
                            gint64 load_us, gpointer user_data)
{
  GstEnsClassify *self = user_data;
  GST_OBJECT_LOCK(self);
  if (id != self->reload_id || !self->model_in_use) {
    /* a newer request was made meanwhile (latest wins), or the element stops */
    GST_OBJECT_UNLOCK(self);
    GST_DEBUG_OBJECT(self, "reload %" G_GUINT64_FORMAT " of \"%s\" superseded: discarded", id,
                     path);
    gst_ens_model_unref(model);
    return;
  }
  if (!model) {
    gchar *in_use = g_strdup(self->model_path);
    gst_ens_classify_reload_forget(self);
    GST_OBJECT_UNLOCK(self);
    gst_ens_classify_reload_post_warning(self, path, err, in_use);
    g_free(in_use);
    return;
  }
  if (self->shared) {
    /* the id's model: swapped in the shared engine, which every element of the id follows */
    GstEnsShared *shared = self->shared; /* joined until stop() has joined this thread */
    guint64 ticket = self->shared_ticket;
    GST_OBJECT_UNLOCK(self);
    gst_ens_classify_reload_shared_done(self, shared, ticket, model, path, load_us);
    return;
  }
  /* Jobs acquired from now on use the new model: the swap falls between two frames. The
   * properties change with it, under the same lock, so they always name the model in use. */
  GstEnsModel *old = gst_ens_worker_set_model(self->worker, model);
  g_free(self->model_path);
  g_free(self->labels_path);
  self->model_path = g_strdup(model->path);
  self->labels_path = g_strdup(model->labels);
  self->top_k_clamped = FALSE;
  GST_OBJECT_UNLOCK(self);
  GST_INFO_OBJECT(self, "swapped in \"%s\" (%s, %d classes), loaded in %.1f ms", model->path,
                  model->name, model->num_classes, (gdouble)load_us / 1000.0);
  gst_ens_classify_reload_post_swapped(self, old, model, load_us);
  /* freed here unless a job or a carried result still uses it */
  gst_ens_model_unref(old);
  gst_ens_model_unref(model);
}

void gst_ens_classify_reload_init(GstEnsClassify *self)
{
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(ens_reload_debug, "ensclassify-reload", 0,
                            "ensclassify hot model reload");
    g_once_init_leave(&once, 1);
  }
  self->loader = gst_ens_loader_new(on_model_loaded, self);
}

void gst_ens_classify_reload_start(GstEnsClassify *self)
{
  guint delay_ms = 0;
  const gchar *env = g_getenv("ENS_DEBUG_LOAD_DELAY_MS");
  if (env && *env) {
    delay_ms = (guint)strtoul(env, NULL, 10);
    GST_WARNING_OBJECT(self, "ENS_DEBUG_LOAD_DELAY_MS: waiting %u ms before each reload", delay_ms);
  }
  gst_ens_loader_set_delay(self->loader, delay_ms);
  GST_OBJECT_LOCK(self);
  gst_ens_classify_reload_forget(self);
  self->reload_id = 0;
  GST_OBJECT_UNLOCK(self);
}

void gst_ens_classify_reload_stop(GstEnsClassify *self)
{
  gst_ens_loader_stop(self->loader);
}

gboolean gst_ens_classify_reload_request(GstEnsClassify *self, gboolean is_labels,
                                         const gchar *value)
{
  GST_OBJECT_LOCK(self);
  if (!self->model_in_use) {
    GST_OBJECT_UNLOCK(self);
    return FALSE;
  }
  /* model and labels set together (two calls) make one request: the second replaces the
   * first, which carries the other's requested value */
  gchar **field = is_labels ? &self->req_labels_path : &self->req_model_path;
  g_free(*field);
  *field = g_strdup(value);
  ens_options opt;
  gst_ens_classify_model_options(self, &opt);
  gchar *msg = NULL;
  guint64 id =
      gst_ens_loader_request(self->loader, self->req_model_path, self->req_labels_path, &opt, &msg);
  gchar *path = g_strdup(self->req_model_path);
  if (id) {
    self->reload_id = id;
    /* shared: also the id's latest request, whichever element made it */
    self->shared_ticket = self->shared ? gst_ens_shared_reload_ticket(self->shared) : 0;
  } else
    gst_ens_classify_reload_forget(self);
  GST_OBJECT_UNLOCK(self);
  if (id) {
    GST_INFO_OBJECT(self, "reload %" G_GUINT64_FORMAT ": loading \"%s\" off the streaming thread",
                    id, path);
  } else {
    GST_ELEMENT_WARNING(
        self, RESOURCE, FAILED,
        ("Could not load model \"%s\": %s; the model in use keeps running", path, msg), (NULL));
    g_free(msg);
  }
  g_free(path);
  return TRUE;
}
