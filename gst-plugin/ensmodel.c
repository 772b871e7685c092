/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ensmodel.c - loading and reference counting of ensclassify's models: see ensmodel.h. */
#include "ensmodel.h"

#include <string.h>

static guint64 next_serial; /* atomic */

ens_status gst_ens_model_load(const gchar *path, const gchar *labels, const ens_options *opt,
                              GstEnsModel **out, ens_error *err)
{
  *out = NULL;
  memset(err, 0, sizeof *err);
  if (!path || !*path) {
    err->code = ENS_ERR_ARG;
    g_strlcpy(err->message,
              "no model set: set the \"model\" property to a .safetensors file, a hub "
              "directory or random:b0 .. random:l2",
              sizeof err->message);
    return err->code;
  }
  ens_options o = *opt;
  o.labels_path = labels;
  ens_model *model = NULL;
  ens_status st;
  if (g_str_has_prefix(path, GST_ENS_RANDOM_PREFIX))
    st = ens_model_new_random(path + strlen(GST_ENS_RANDOM_PREFIX), 1000, 0, &o, &model, err);
  else
    st = ens_model_load(path, &o, &model, err);
  if (st != ENS_OK) {
    if (!err->message[0])
      g_strlcpy(err->message, ens_status_name(st), sizeof err->message);
    err->code = st;
    return st;
  }

  *out = gst_ens_model_wrap(model, path, labels);
  return ENS_OK;
}

GstEnsModel *gst_ens_model_wrap(ens_model *model, const gchar *path, const gchar *labels)
{
  const ens_model_info *mi = ens_model_get_info(model);
  GstEnsModel *m = g_new0(GstEnsModel, 1);
  m->model = model;
  m->name = g_strdup(mi->name);
  m->path = g_strdup(path);
  m->labels = g_strdup(labels);
  m->num_classes = mi->num_classes;
  ens_model_preprocess_params(model, &m->pp);
  m->input_floats = (gsize)3 * (gsize)mi->input_height * (gsize)mi->input_width;
  m->serial = __atomic_add_fetch(&next_serial, 1, __ATOMIC_RELAXED);
  m->refcount = 1;
  return m;
}

GstEnsModel *gst_ens_model_ref(GstEnsModel *m)
{
  g_atomic_int_inc(&m->refcount);
  return m;
}

void gst_ens_model_unref(GstEnsModel *m)
{
  if (!m || !g_atomic_int_dec_and_test(&m->refcount))
    return;
  ens_model_free(m->model);
  g_free(m->name);
  g_free(m->path);
  g_free(m->labels);
  g_free(m);
}

gboolean gst_ens_model_is_last_ref(const GstEnsModel *m)
{
  return g_atomic_int_get(&m->refcount) == 1;
}
