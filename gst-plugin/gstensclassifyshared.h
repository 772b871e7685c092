/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensclassifyshared.h - ensclassify's side of model sharing: the model-instance-id,
 * batch-size and batch-timeout properties, the shared-* statistics, and joining / leaving the
 * shared engine (ensshared.h) in start() / stop(). Hot reload of the shared model:
 * gstensclassifyreloadshared.h. */
#ifndef GST_ENS_CLASSIFY_SHARED_H
#define GST_ENS_CLASSIFY_SHARED_H

#include "gstensclassify.h"

/* Property ids of this file start here (above every id of gstensclassify.c). */
#define GST_ENS_CLASSIFY_SHARED_PROP_BASE 0x1000

void gst_ens_classify_shared_install_properties(GObjectClass *gobject_class);
void gst_ens_classify_shared_init(GstEnsClassify *self);
/* Leaves the engine if still joined and frees the id. */
void gst_ens_classify_shared_finalize(GstEnsClassify *self);

/* TRUE if prop_id is one of this file's (then it was handled). */
gboolean gst_ens_classify_shared_set_property(GstEnsClassify *self, guint prop_id,
                                              const GValue *value, GParamSpec *pspec);
gboolean gst_ens_classify_shared_get_property(GstEnsClassify *self, guint prop_id, GValue *value);

/* TRUE if model-instance-id is set: start() joins the shared engine instead of loading. */
gboolean gst_ens_classify_shared_wanted(GstEnsClassify *self);

/* Joins the engine of model-instance-id and routes the worker's forwards to it; returns its
 * model in use (a reference). On failure returns NULL: if err->code is set the model failed to
 * load (the caller reports it like its own load error), otherwise an element error was posted.
 * The element then follows the engine's hot reloads (gstensclassifyreloadshared.h). */
GstEnsModel *gst_ens_classify_shared_join(GstEnsClassify *self, const gchar *path,
                                          const ens_options *opt, ens_error *err);

/* Leaves the engine (after the worker stopped); no-op if not joined. */
void gst_ens_classify_shared_leave(GstEnsClassify *self);

#endif
