/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensharvest.h - ensharvest: saves what ensclassify's model saw (frame or ROI crops, PNG) with
 * the teacher's probabilities (JSON sidecar), on a schedule, for Noisy Student training. */
#ifndef GST_ENS_HARVEST_H
#define GST_ENS_HARVEST_H

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "ens.h"
#include "ensharvestwriter.h"

G_BEGIN_DECLS

/* Name of the custom upstream query ensharvest sends and ensclassify answers (fields: model,
 * num-classes, input-width, input-height, crop-pct, interpolation); answering it also makes
 * ensclassify attach the full distribution to its metas. */
#define GST_ENS_HARVEST_INFO_QUERY "ens-harvest-info"

#define GST_TYPE_ENS_HARVEST (gst_ens_harvest_get_type())
G_DECLARE_FINAL_TYPE(GstEnsHarvest, gst_ens_harvest, GST, ENS_HARVEST, GstBaseTransform)

struct _GstEnsHarvest {
  GstBaseTransform parent;

  /* properties, under the object lock */
  gchar *location;
  guint interval;
  gfloat min_confidence, max_confidence;
  guint64 max_count, max_bytes;
  gboolean fresh_only;
  ens_harvest_size save_size;
  guint max_queue;

  /* streaming thread, between start and stop */
  GstVideoInfo vinfo;
  gboolean have_info;
  ens_pixel_format pixel_format;
  ens_yuv_matrix yuv_matrix;
  gboolean have_model;  /* the info query was answered */
  gchar *model_name;    /* of the answer (or of the first meta seen without one) */
  gchar *requeried_for; /* the model name that made us ask again (a reloaded model) */
  ens_preprocess_params pp;
  gboolean warned_no_model;
  guint stale_buffers;  /* buffers with results but none to consider (fresh-only) */
  guint64 buffer_frame; /* buffers seen since start */
  gboolean have_last;   /* fresh-only=false: the last result considered */
  guint64 last_source_frame;
  GPtrArray *candidates; /* of GstEnsClassificationMeta*, reused per buffer */

  EnsHarvestWriter writer;
};

GST_ELEMENT_REGISTER_DECLARE(ensharvest);

G_END_DECLS

#endif
