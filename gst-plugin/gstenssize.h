/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstenssize.h - the "H" / "HxW" network input size syntax of ensclassify's input-size
 * property (the same syntax as ens-classify --input-size; 0 = the model's own size). */
#ifndef GST_ENS_SIZE_H
#define GST_ENS_SIZE_H

#include <glib.h>

/* Largest accepted side, as the engine's limit. */
#define GST_ENS_MAX_INPUT_SIDE 8192

/* Parses "H", "HxW" (or "HXW"), "0" or NULL / "" (both 0: the model's size). Sides are
 * 1..GST_ENS_MAX_INPUT_SIDE; "0" alone means unset. Returns FALSE (outputs untouched) on
 * anything else. */
gboolean gst_ens_parse_input_size(const gchar *s, guint *height, guint *width);

/* "0", "H" (square) or "HxW"; caller g_free()s. */
gchar *gst_ens_format_input_size(guint height, guint width);

#endif
