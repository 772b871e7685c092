/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensjsonfmt.c - builds the per-buffer JSON object shared by ensjson and ensmqtt from the
 * buffer's GstEnsClassificationMeta list. Keys in a fixed order; the README documents them. */
#include "gstensjsonfmt.h"

#include <math.h>

#include "gstensmeta.h"

/* Appends s as a JSON string literal (RFC 8259 escaping; bytes >= 0x80 pass through, labels
 * are UTF-8; invalid UTF-8 is replaced so the line stays valid JSON). */
static void append_json_string(GString *out, const gchar *s)
{
  if (!s) {
    g_string_append(out, "null");
    return;
  }
  gchar *valid = g_utf8_make_valid(s, -1);
  g_string_append_c(out, '"');
  for (const guchar *p = (const guchar *)valid; *p; p++) {
    switch (*p) {
      case '"':
        g_string_append(out, "\\\"");
        break;
      case '\\':
        g_string_append(out, "\\\\");
        break;
      case '\n':
        g_string_append(out, "\\n");
        break;
      case '\r':
        g_string_append(out, "\\r");
        break;
      case '\t':
        g_string_append(out, "\\t");
        break;
      case '\b':
        g_string_append(out, "\\b");
        break;
      case '\f':
        g_string_append(out, "\\f");
        break;
      default:
        if (*p < 0x20)
          g_string_append_printf(out, "\\u%04x", *p);
        else
          g_string_append_c(out, (gchar)*p);
    }
  }
  g_string_append_c(out, '"');
  g_free(valid);
}

static void append_time(GString *out, GstClockTime t)
{
  if (GST_CLOCK_TIME_IS_VALID(t))
    g_string_append_printf(out, "%" G_GUINT64_FORMAT, (guint64)t);
  else
    g_string_append(out, "null");
}

static void append_score(GString *out, gfloat v)
{
  if (!isfinite(v)) {
    g_string_append(out, "null");
    return;
  }
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  /* Locale-independent, shortest exact float representation. */
  g_ascii_formatd(buf, sizeof buf, "%.9g", (gdouble)v);
  g_string_append(out, buf);
}

/* One "results" entry: the model that produced it (chained ensclassify elements put results of
 * different models on one buffer), the region for ROIs (and whether it was clipped to the frame),
 * the classes. */
static void append_result(GString *out, const GstEnsClassificationMeta *m)
{
  g_string_append(out, "{\"model\":");
  append_json_string(out, m->model_name);
  if (!m->full_frame)
    g_string_append_printf(out,
                           ",\"box\":{\"x\":%d,\"y\":%d,\"w\":%d,\"h\":%d},\"roi_id\":%d,"
                           "\"clipped\":%s",
                           m->x, m->y, m->width, m->height, m->roi_id,
                           m->clipped ? "true" : "false");
  g_string_append(out, ",\"classes\":[");
  for (guint i = 0; i < m->n_entries; i++) {
    if (i)
      g_string_append_c(out, ',');
    g_string_append_printf(out, "{\"id\":%d,\"label\":", m->entries[i].class_id);
    append_json_string(out, m->entries[i].label);
    g_string_append(out, ",\"score\":");
    append_score(out, m->entries[i].score);
    g_string_append_c(out, '}');
  }
  g_string_append(out, "]}");
}

void gst_ens_json_format(GString *out, GstBuffer *buf, const GstEnsJsonFrame *frame)
{
  GstEnsClassificationMeta *first = gst_buffer_get_ens_classification_meta(buf);
  g_string_truncate(out, 0);
  g_string_append(out, "{\"pts\":");
  append_time(out, GST_BUFFER_PTS(buf));
  g_string_append(out, ",\"running_time\":");
  append_time(out, frame->running_time);
  g_string_append_printf(out, ",\"frame\":%" G_GUINT64_FORMAT ",\"width\":%d,\"height\":%d",
                         frame->frame, frame->width, frame->height);
  /* The top-level fields describe the first result (the format before per-result models). */
  g_string_append_printf(out, ",\"fresh\":%s", first && first->fresh ? "true" : "false");
  g_string_append(out, ",\"source_pts\":");
  if (first)
    append_time(out, first->source_pts);
  else
    g_string_append(out, "null");
  g_string_append(out, ",\"source_frame\":");
  if (first)
    g_string_append_printf(out, "%" G_GUINT64_FORMAT, first->source_frame);
  else
    g_string_append(out, "null");
  g_string_append(out, ",\"model\":");
  append_json_string(out, first ? first->model_name : NULL);
  g_string_append(out, ",\"results\":[");
  gpointer state = NULL;
  GstEnsClassificationMeta *m;
  gboolean first_result = TRUE;
  while ((m = gst_buffer_iterate_ens_classification_meta(buf, &state))) {
    if (!first_result)
      g_string_append_c(out, ',');
    first_result = FALSE;
    append_result(out, m);
  }
  g_string_append(out, "]}");
}

GstClockTime gst_ens_json_running_time(const GstSegment *segment, GstBuffer *buf)
{
  GstClockTime pts = GST_BUFFER_PTS(buf);
  if (!GST_CLOCK_TIME_IS_VALID(pts) || segment->format != GST_FORMAT_TIME)
    return GST_CLOCK_TIME_NONE;
  return gst_segment_to_running_time(segment, GST_FORMAT_TIME, pts);
}

void gst_ens_json_caps_size(GstCaps *caps, gint *width, gint *height)
{
  *width = *height = 0;
  if (!caps || gst_caps_get_size(caps) == 0)
    return;
  GstStructure *s = gst_caps_get_structure(caps, 0);
  gst_structure_get_int(s, "width", width);
  gst_structure_get_int(s, "height", height);
}
