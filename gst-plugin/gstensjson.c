/* gstensjson.c - ensjson: a passthrough element writing one JSON object per buffer (JSON
 * Lines) with the GstEnsClassificationMeta results. Each line is written with one fwrite and
 * flushed, so a killed pipeline leaves only whole lines. Schema: docs in the README. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstensjson.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "gstensmeta.h"

GST_DEBUG_CATEGORY_STATIC(ens_json_debug);
#define GST_CAT_DEFAULT ens_json_debug

enum { PROP_0, PROP_LOCATION };

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-raw(ANY)"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-raw(ANY)"));

#define gst_ens_json_parent_class parent_class
G_DEFINE_TYPE(GstEnsJson, gst_ens_json, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE(ensjson, "ensjson", GST_RANK_NONE, GST_TYPE_ENS_JSON);

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

static void build_line(GstEnsJson *self, GstBuffer *buf, GString *out)
{
  GstEnsClassificationMeta *first = gst_buffer_get_ens_classification_meta(buf);
  g_string_truncate(out, 0);
  g_string_append(out, "{\"pts\":");
  append_time(out, GST_BUFFER_PTS(buf));
  g_string_append_printf(out, ",\"frame\":%" G_GUINT64_FORMAT ",\"width\":%d,\"height\":%d",
                         self->frame, self->width, self->height);
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
  gboolean first_region = TRUE;
  while ((m = gst_buffer_iterate_ens_classification_meta(buf, &state))) {
    if (!first_region)
      g_string_append_c(out, ',');
    first_region = FALSE;
    g_string_append_c(out, '{');
    if (!m->full_frame)
      g_string_append_printf(out, "\"box\":{\"x\":%d,\"y\":%d,\"w\":%d,\"h\":%d},\"roi_id\":%d,",
                             m->x, m->y, m->width, m->height, m->roi_id);
    g_string_append(out, "\"classes\":[");
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
  g_string_append(out, "]}\n");
}

static GstFlowReturn gst_ens_json_transform_ip(GstBaseTransform *trans, GstBuffer *buf)
{
  GstEnsJson *self = GST_ENS_JSON(trans);
  build_line(self, buf, self->line);
  self->frame++;
  if (fwrite(self->line->str, 1, self->line->len, self->file) != self->line->len ||
      fflush(self->file) != 0) {
    GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("Could not write JSON output"),
                      ("%s", g_strerror(errno)));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

static gboolean gst_ens_json_set_caps(GstBaseTransform *trans, GstCaps *incaps, GstCaps *outcaps)
{
  (void)outcaps;
  GstEnsJson *self = GST_ENS_JSON(trans);
  GstStructure *s = gst_caps_get_structure(incaps, 0);
  self->width = self->height = 0;
  gst_structure_get_int(s, "width", &self->width);
  gst_structure_get_int(s, "height", &self->height);
  return TRUE;
}

static gboolean gst_ens_json_start(GstBaseTransform *trans)
{
  GstEnsJson *self = GST_ENS_JSON(trans);
  GST_OBJECT_LOCK(self);
  gchar *location = g_strdup(self->location);
  GST_OBJECT_UNLOCK(self);
  self->frame = 0;
  if (!location || !*location || strcmp(location, "-") == 0) {
    self->file = stdout;
    self->is_stdout = TRUE;
  } else {
    self->file = fopen(location, "w");
    self->is_stdout = FALSE;
    if (!self->file) {
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                        ("Could not open \"%s\" for writing: %s", location, g_strerror(errno)),
                        (NULL));
      g_free(location);
      return FALSE;
    }
  }
  g_free(location);
  return TRUE;
}

static gboolean gst_ens_json_stop(GstBaseTransform *trans)
{
  GstEnsJson *self = GST_ENS_JSON(trans);
  if (self->file && !self->is_stdout)
    fclose(self->file);
  else if (self->file)
    fflush(self->file);
  self->file = NULL;
  return TRUE;
}

static void gst_ens_json_set_property(GObject *object, guint prop_id, const GValue *value,
                                      GParamSpec *pspec)
{
  GstEnsJson *self = GST_ENS_JSON(object);
  switch (prop_id) {
    case PROP_LOCATION:
      GST_OBJECT_LOCK(self);
      g_free(self->location);
      self->location = g_value_dup_string(value);
      GST_OBJECT_UNLOCK(self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_ens_json_get_property(GObject *object, guint prop_id, GValue *value,
                                      GParamSpec *pspec)
{
  GstEnsJson *self = GST_ENS_JSON(object);
  switch (prop_id) {
    case PROP_LOCATION:
      GST_OBJECT_LOCK(self);
      g_value_set_string(value, self->location);
      GST_OBJECT_UNLOCK(self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_ens_json_finalize(GObject *object)
{
  GstEnsJson *self = GST_ENS_JSON(object);
  g_free(self->location);
  g_string_free(self->line, TRUE);
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_ens_json_class_init(GstEnsJsonClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(ens_json_debug, "ensjson", 0, "ens JSON Lines writer");

  gobject_class->set_property = gst_ens_json_set_property;
  gobject_class->get_property = gst_ens_json_get_property;
  gobject_class->finalize = gst_ens_json_finalize;

  g_object_class_install_property(
      gobject_class, PROP_LOCATION,
      g_param_spec_string("location", "Location",
                          "File to write JSON Lines to (one object per frame: pts, frame, width, "
                          "height, fresh, source_pts, source_frame, model, results); unset or "
                          "\"-\" = stdout",
                          NULL,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));

  gst_element_class_set_static_metadata(
      element_class, "ens JSON writer", "Filter/Analyzer/Video",
      "Passes video through and writes each frame's ens classification results as a JSON line",
      "ens developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR(gst_ens_json_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_ens_json_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_ens_json_set_caps);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR(gst_ens_json_transform_ip);
}

static void gst_ens_json_init(GstEnsJson *self)
{
  self->line = g_string_sized_new(512);
  gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), TRUE);
}
