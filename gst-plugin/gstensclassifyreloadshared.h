/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensclassifyreloadshared.h - hot reload of a shared model (model-instance-id), element side
 * (plugin-private).
 *
 * The model belongs to the id. Setting `model` / `labels` on any running element of the id
 * loads the new model once, on that element's loader thread (gstensclassifyreload.c, latest
 * request of the id wins); gst_ens_classify_reload_shared_done() then has the shared engine swap
 * it in (ensshared.h), and the engine calls gst_ens_classify_shared_follow() on every element of
 * the id: each swaps its worker to the engine's model, its `model` / `labels` properties read
 * the new values and it posts `ens-model-swapped`. A failed load or swap posts a warning on the
 * element that asked; nothing changes for anyone.
 */
#ifndef GST_ENS_CLASSIFY_RELOAD_SHARED_H
#define GST_ENS_CLASSIFY_RELOAD_SHARED_H

#include "gstensclassify.h"

/* The element's loader thread: the model of shared reload ticket is loaded (transfer full). */
void gst_ens_classify_reload_shared_done(GstEnsClassify *self, GstEnsShared *shared, guint64 ticket,
                                         GstEnsModel *model, const gchar *path, gint64 load_us);

/* Makes the worker run the shared engine's current model if it does not already (properties,
 * message as a reload). Any thread; no-op unless running and joined. Also called by start(),
 * after the worker started, for a swap that came while the element was joining. */
void gst_ens_classify_shared_follow(GstEnsClassify *self);

/* gst_ens_classify_shared_follow as the engine calls it (GstEnsSharedFollowFunc). */
void gst_ens_classify_shared_follow_cb(GObject *user, GstEnsShared *shared);

#endif
