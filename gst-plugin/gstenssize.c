/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstenssize.c - see gstenssize.h. */
#include "gstenssize.h"

#include <string.h>

/* One side: decimal digits only (no sign, no spaces), 1..GST_ENS_MAX_INPUT_SIDE. */
static gboolean parse_side(const gchar *s, gsize len, guint *out)
{
  if (len == 0 || len > 5)
    return FALSE;
  guint v = 0;
  for (gsize i = 0; i < len; i++) {
    if (!g_ascii_isdigit(s[i]))
      return FALSE;
    v = v * 10 + (guint)(s[i] - '0');
  }
  if (v > GST_ENS_MAX_INPUT_SIDE)
    return FALSE;
  *out = v;
  return TRUE;
}

gboolean gst_ens_parse_input_size(const gchar *s, guint *height, guint *width)
{
  if (!s || !*s) {
    *height = *width = 0;
    return TRUE;
  }
  const gchar *x = strpbrk(s, "xX");
  guint h, w;
  if (!x) {
    if (!parse_side(s, strlen(s), &h))
      return FALSE;
    *height = *width = h; /* "0" unsets, like the default */
    return TRUE;
  }
  if (!parse_side(s, (gsize)(x - s), &h) || !parse_side(x + 1, strlen(x + 1), &w) || h == 0 ||
      w == 0)
    return FALSE;
  *height = h;
  *width = w;
  return TRUE;
}

gchar *gst_ens_format_input_size(guint height, guint width)
{
  if (height == width)
    return g_strdup_printf("%u", height);
  return g_strdup_printf("%ux%u", height, width);
}
