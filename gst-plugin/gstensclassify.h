/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensclassify.h - ensclassify: EfficientNet classification of video frames or ROIs. */
#ifndef GST_ENS_CLASSIFY_H
#define GST_ENS_CLASSIFY_H

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "ens.h"
#include "ensloader.h"
#include "ensshared.h"
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

  /* properties, under the object lock; model_path / labels_path are those of the model in use
   * while running (a hot reload changes them when its model is swapped in) */
  gchar *model_path;
  gchar *labels_path;
  guint input_height, input_width; /* 0x0 = the variant's pretrained size */
  guint interval;
  GstEnsClassifyMode mode;
  guint threads;
  ens_precision precision;
  guint top_k;
  gfloat threshold;
  GstEnsSmoothing smoothing;
  gfloat smoothing_alpha;
  GstEnsClassifyRegion region;
  gchar *object_class;
  gboolean attach_roi_meta;
  gboolean post_messages;
  guint max_latency_ms; /* async: how long a scheduled frame may wait for its own result */

  gint want_probs; /* atomic: a downstream ensharvest asked for the full distribution */

  /* stats, under the object lock (inferred / replaced / latency live in the worker) */
  guint64 frames_seen, frames_skipped;
  guint64 qos_skipped;   /* scheduled frames not inferred because downstream reported lateness */
  guint64 rois_dropped;  /* ROIs not classified: empty or entirely outside the frame */
  guint64 rois_clipped;  /* ROIs classified clipped to the frame */
  guint64 eos_delivered; /* async: results completed after the last buffer, posted at EOS */
  guint64 eos_lost;      /* async: inferences still unfinished when the EOS wait gave up */

  /* under the object lock */
  gboolean model_in_use;         /* between start() and stop(): model-defining properties fixed */
  GstClockTime qos_earliest;     /* running time before which a frame is late (QoS), or NONE */
  GstClockTime upstream_latency; /* min latency upstream of us (last LATENCY query) */
  gboolean top_k_clamped;        /* the clamp of top-k to the class count was logged */
  gboolean at_eos;               /* async EOS wait: results posted now have no buffer to go to */

  /* hot reload (gstensclassifyreload.c), under the object lock */
  GstEnsLoader *loader;
  gchar *req_model_path, *req_labels_path; /* of the latest reload request */
  guint64 reload_id;                       /* the latest reload request, 0 = none */
  guint64 shared_ticket; /* its ticket with the shared engine (gst_ens_shared_reload_ticket) */

  /* state between start() and stop(), streaming thread (the model is the worker's) */
  GstVideoInfo vinfo;
  ens_pixel_format pixel_format;
  ens_yuv_matrix yuv_matrix;
  gboolean async;
  gboolean mode_resolved;
  guint64 since_schedule; /* frames since the schedule (re)started; under the object lock */
  GArray *regions;        /* of GstEnsRegion: the scheduled frame's, reused across frames */
  GstEnsWorker *worker;
  GstEnsResult carried; /* streaming thread: copy of the latest result, attached to buffers */

  /* model-instance-id sharing and batching (gstensclassifyshared.c) */
  gchar *instance_id;     /* property, under the object lock */
  guint batch_size;       /* property, under the object lock */
  guint batch_timeout_ms; /* property, under the object lock */
  GstEnsShared *shared;   /* joined engine between start() and stop(); object lock */
};

GST_ELEMENT_REGISTER_DECLARE(ensclassify);

G_END_DECLS

#endif
