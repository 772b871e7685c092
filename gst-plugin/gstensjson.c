/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensjson.c - ensjson: a passthrough element writing one JSON object per buffer (JSON
 * Lines) with the GstEnsClassificationMeta results. Each line is written with one fwrite and
 * flushed, so a killed pipeline leaves only whole lines. The object is built by gstensjsonfmt.c
 * (shared with ensmqtt); schema: docs in the README. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstensjson.h"

#include <errno.h>
#include <string.h>

#include "gstensjsonfmt.h"
#include "gstensplugin.h"

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

static GstFlowReturn gst_ens_json_transform_ip(GstBaseTransform *trans, GstBuffer *buf)
{
  GstEnsJson *self = GST_ENS_JSON(trans);
  GstEnsJsonFrame frame = {
      .running_time = gst_ens_json_running_time(&trans->segment, buf),
      .frame = self->frame++,
      .width = self->width,
      .height = self->height,
  };
  gst_ens_json_format(self->line, buf, &frame);
  g_string_append_c(self->line, '\n');
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
  gst_ens_json_caps_size(incaps, &self->width, &self->height);
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
      g_param_spec_string(
          "location", "Location",
          "File to write JSON Lines to (one object per frame: pts, running_time, "
          "frame, width, height, fresh, source_pts, source_frame, model, results); unset or "
          "\"-\" = stdout",
          NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));

  gst_element_class_set_static_metadata(
      element_class, "ens JSON writer", "Filter/Analyzer/Video",
      "Passes video through and writes each frame's ens classification results as a JSON line",
      GST_ENS_AUTHOR);
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
