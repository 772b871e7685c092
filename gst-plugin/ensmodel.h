/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ensmodel.h - a loaded ens_model shared by reference (plugin-private; not libens API).
 *
 * ensclassify's worker, each job and each result (the worker's latest, the element's carried
 * copy) hold a reference to the model that computes / computed them. Hot reload replaces the
 * worker's current model while jobs and results of the old one still exist: the old model is
 * freed only when the last of them lets go, never under a frame that uses it, and a result
 * always names the model that made it. Everything but the reference count is fixed at load.
 * The shared engine of model-instance-id (ensshared.h) holds its models the same way, and its
 * elements' workers, jobs and results hold references to them.
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
} GstEnsModel;

/* Loads path (a .safetensors file, a hub directory or random:VARIANT) with opt (its
 * labels_path is replaced by labels). On failure fills err (code and message) and returns its
 * code; *out is then NULL. */
ens_status gst_ens_model_load(const gchar *path, const gchar *labels, const ens_options *opt,
                              GstEnsModel **out, ens_error *err);

/* Wraps a loaded model (refcount 1; the last unref frees it). */
GstEnsModel *gst_ens_model_wrap(ens_model *model, const gchar *path, const gchar *labels);

GstEnsModel *gst_ens_model_ref(GstEnsModel *m);

/* Drops a reference (NULL is ignored); the last one frees the ens_model. */
void gst_ens_model_unref(GstEnsModel *m);

/* TRUE if the caller's reference is the only one: nobody else can take a new one (references
 * are only copied from a holder), so nothing else uses m any more (the shared engine frees an
 * old model's session then). */
gboolean gst_ens_model_is_last_ref(const GstEnsModel *m);

#endif
