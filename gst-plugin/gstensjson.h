/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensjson.h - ensjson: writes each buffer's classification metas as one JSON line. */
#ifndef GST_ENS_JSON_H
#define GST_ENS_JSON_H

#include <stdio.h>

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_ENS_JSON (gst_ens_json_get_type())
G_DECLARE_FINAL_TYPE(GstEnsJson, gst_ens_json, GST, ENS_JSON, GstBaseTransform)

struct _GstEnsJson {
  GstBaseTransform parent;
  gchar *location; /* under the object lock; NULL or "-" = stdout */
  FILE *file;      /* between start and stop */
  gboolean is_stdout;
  gint width, height;
  guint64 frame;
  GString *line;
};

GST_ELEMENT_REGISTER_DECLARE(ensjson);

G_END_DECLS

#endif
