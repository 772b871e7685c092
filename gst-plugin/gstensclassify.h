/* gstensclassify.h - ensclassify: EfficientNet classification of video frames or ROIs. */
#ifndef GST_ENS_CLASSIFY_H
#define GST_ENS_CLASSIFY_H

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "ens.h"
#include "ensworker.h"

G_BEGIN_DECLS

#define GST_TYPE_ENS_CLASSIFY (gst_ens_classify_get_type())
G_DECLARE_FINAL_TYPE(GstEnsClassify, gst_ens_classify, GST, ENS_CLASSIFY, GstBaseTransform)

typedef enum {
  GST_ENS_CLASSIFY_MODE_AUTO = 0,
  GST_ENS_CLASSIFY_MODE_ASYNC = 1,
  GST_ENS_CLASSIFY_MODE_SYNC = 2,
} GstEnsClassifyMode;

typedef enum {
  GST_ENS_CLASSIFY_REGION_FULL_FRAME = 0,
  GST_ENS_CLASSIFY_REGION_ROI_LIST = 1,
} GstEnsClassifyRegion;

struct _GstEnsClassify {
  GstBaseTransform parent;

  /* properties, under the object lock */
  gchar *model_path;
  gchar *labels_path;
  guint input_size;
  guint interval;
  GstEnsClassifyMode mode;
  guint threads;
  ens_precision precision;
  guint top_k;
  gfloat threshold;
  EnsSmoothing smoothing;
  gfloat smoothing_alpha;
  GstEnsClassifyRegion region;
  gchar *object_class;
  gboolean attach_roi_meta;
  gboolean post_messages;

  gint want_probs; /* atomic: a downstream ensharvest asked for the full distribution */

  /* stats, under the object lock (inferred / replaced / latency live in the worker) */
  guint64 frames_seen, frames_skipped;

  /* state between start() and stop(), streaming thread */
  ens_model *model;
  gchar *model_name;
  GstVideoInfo vinfo;
  ens_pixel_format pixel_format;
  ens_yuv_matrix yuv_matrix;
  gboolean async;
  gboolean mode_resolved;
  guint64 since_schedule; /* frames since the schedule (re)started; under the object lock */
  GArray *regions;        /* of EnsRegion: the scheduled frame's, reused across frames */
  EnsWorker worker;
};

GST_ELEMENT_REGISTER_DECLARE(ensclassify);

G_END_DECLS

#endif
