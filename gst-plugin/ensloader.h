/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ensloader.h - ensclassify's model loader thread (plugin-private): hot reload loads the new
 * model here, off the streaming thread, which never waits for it.
 *
 * One request slot, latest wins: a request replaces one not yet started, and a load that
 * finishes after a newer request was made is discarded (a load in progress cannot be
 * interrupted inside the engine). The completion callback runs on the loader thread for the
 * latest request, with the model (or the error); the element swaps it in from there. A request
 * made while the callback starts can still race it, so the callee compares the id with the
 * latest one it requested.
 */
#ifndef GST_ENS_LOADER_H
#define GST_ENS_LOADER_H

#include <glib.h>

#include "ensmodel.h"

/* Called on the loader thread, without the loader's lock, when the latest request is done:
 * model (transfer full) or NULL with err filled; load_us: how long the load took. */
typedef void (*GstEnsLoadDoneFunc)(guint64 id, GstEnsModel *model, const gchar *path,
                                   const ens_error *err, gint64 load_us, gpointer user_data);

typedef struct _GstEnsLoader GstEnsLoader;

GstEnsLoader *gst_ens_loader_new(GstEnsLoadDoneFunc done, gpointer user_data);

/* Stops (see gst_ens_loader_stop) and frees. */
void gst_ens_loader_free(GstEnsLoader *l);

/* Debug (ENS_DEBUG_LOAD_DELAY_MS): wait this long before each load, as a slow disk would. */
void gst_ens_loader_set_delay(GstEnsLoader *l, guint delay_ms);

/* Queues a load of path with labels and opt (all copied; opt's labels_path is ignored),
 * replacing a request not yet started; starts the thread on first use. Returns the request's
 * id (> 0), or 0 with *error_msg set if the thread cannot start. Never waits for a load. */
guint64 gst_ens_loader_request(GstEnsLoader *l, const gchar *path, const gchar *labels,
                               const ens_options *opt, gchar **error_msg);

/* Drops the pending request, waits for the load in progress (its model is discarded, the
 * callback is not called) and joins the thread. A later request starts it again. */
void gst_ens_loader_stop(GstEnsLoader *l);

#endif
