/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensclassifyreload.h - hot reload of ensclassify's model (plugin-private).
 *
 * Setting `model` (or `labels`) while the element runs asks the loader thread (ensloader.c) for
 * the new model; the streaming thread never waits for it. The loader's callback swaps it into
 * the worker (jobs acquired from then on use it; a frame in flight finishes on the old one),
 * updates the properties to the model now in use and posts an `ens-model-swapped` element
 * message. A failed load posts a warning and keeps the old model and property values. The
 * latest request wins.
 *
 * With model-instance-id the model is the id's: the element's loader loads it the same way, then
 * the shared engine swaps it in and every element of the id follows
 * (gstensclassifyreloadshared.h).
 */
#ifndef GST_ENS_CLASSIFY_RELOAD_H
#define GST_ENS_CLASSIFY_RELOAD_H

#include "gstensclassify.h"

/* Name of the element message posted when a reloaded model is swapped in. */
#define GST_ENS_MODEL_SWAPPED_MESSAGE "ens-model-swapped"

/* The options every load of self's model uses (threads, precision, input size; labels are
 * passed apart). Caller holds the object lock. */
void gst_ens_classify_model_options(GstEnsClassify *self, ens_options *opt);

/* instance_init: creates the loader. */
void gst_ens_classify_reload_init(GstEnsClassify *self);

/* start(), once the model is loaded: reload requests start from the values in use; reads
 * ENS_DEBUG_LOAD_DELAY_MS (debug: the loader waits that long before each load). */
void gst_ens_classify_reload_start(GstEnsClassify *self);

/* stop(), after model_in_use was cleared: waits for a load in progress (discarded). */
void gst_ens_classify_reload_stop(GstEnsClassify *self);

/* Caller holds the object lock: the next request starts again from the values in use. */
void gst_ens_classify_reload_forget(GstEnsClassify *self);

/* Posts the ens-model-swapped element message (old may be NULL). */
void gst_ens_classify_reload_post_swapped(GstEnsClassify *self, const GstEnsModel *old,
                                          const GstEnsModel *model, gint64 load_us);

/* A failed reload of path (err): a warning saying in_use keeps running. Warnings, not errors:
 * the stream is fine. */
void gst_ens_classify_reload_post_warning(GstEnsClassify *self, const gchar *path,
                                          const ens_error *err, const gchar *in_use);

/* set_property of `model` (is_labels FALSE) or `labels`: while the model is in use, requests
 * a reload with value and returns TRUE; otherwise returns FALSE (the caller stores value). */
gboolean gst_ens_classify_reload_request(GstEnsClassify *self, gboolean is_labels,
                                         const gchar *value);

#endif
