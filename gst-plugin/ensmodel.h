/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ensmodel.h - a loaded ens_model shared by reference (plugin-private; not libens API).
 *
 * ensclassify's worker, each job and each result (the worker's latest, the element's carried
 * copy) hold a reference to the model that computes / computed them. Hot reload replaces the
 * worker's current model while jobs and results of the old one still exist: the old model is
 * freed only when the last of them lets go, never under a frame that uses it, and a result
 * always names the model that made it. Everything but the reference count is fixed at load.
 */
#ifndef GST_ENS_MODEL_H
#define GST_ENS_MODEL_H

#include <glib.h>

#include "ens.h"

/* The prefix of the model property for deterministic random weights ("random:b0"). */
#define GST_ENS_RANDOM_PREFIX "random:"

typedef struct {
  ens_model *model;
  gchar *name;   /* ens_model_info.name, e.g. "tf_efficientnet_b0.ns_jft_in1k" */
  gchar *path;   /* the model property value it was loaded from */
  gchar *labels; /* the labels property value it was loaded with (NULL: the model's own) */
  gint num_classes;
  ens_preprocess_params pp;
  gsize input_floats; /* floats of one preprocessed region: 3 x H x W */
  guint64 serial;     /* unique per load in this process: tells two loads of one path apart */
  gint refcount;      /* atomic */
  gboolean borrowed;  /* model belongs to a shared engine (ensshared.h): not freed here */
} GstEnsModel;

/* Loads path (a .safetensors file, a hub directory or random:VARIANT) with opt (its
 * labels_path is replaced by labels). On failure fills err (code and message) and returns its
 * code; *out is then NULL. */
ens_status gst_ens_model_load(const gchar *path, const gchar *labels, const ens_options *opt,
                              GstEnsModel **out, ens_error *err);

/* Wraps a loaded model (refcount 1). borrowed: the caller keeps ownership of model and frees it
 * only after the last unref (the shared engine of model-instance-id). */
GstEnsModel *gst_ens_model_wrap(ens_model *model, const gchar *path, const gchar *labels,
                                gboolean borrowed);

GstEnsModel *gst_ens_model_ref(GstEnsModel *m);

/* Drops a reference (NULL is ignored); the last one frees the ens_model. */
void gst_ens_model_unref(GstEnsModel *m);

#endif
