/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensmeta.h - GstEnsClassificationMeta: the classification result ens attaches to buffers.
 *
 * One meta per classified region: the whole frame (inference-region=full-frame) or one
 * GstVideoRegionOfInterestMeta (inference-region=roi-list). Apps link gstensmeta-1.0 and read
 * it with gst_buffer_get_ens_classification_meta() / gst_buffer_iterate_ens_classification_meta().
 */
#ifndef GST_ENS_META_H
#define GST_ENS_META_H

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_ENS_CLASSIFICATION_META_API_TYPE (gst_ens_classification_meta_api_get_type())
#define GST_ENS_CLASSIFICATION_META_INFO (gst_ens_classification_meta_get_info())

/* One of the top-k classes. */
typedef struct {
  gint class_id;
  gchar *label; /* owned by the meta */
  gfloat score; /* softmax probability (EMA-smoothed when smoothing=ema) */
} GstEnsClassEntry;

typedef struct {
  GstMeta meta;

  gchar *model_name; /* e.g. "tf_efficientnet_b0.ns_jft_in1k" */

  /* The frame the result was computed on (differs from this buffer's when fresh is FALSE:
   * a skipped frame (inference-interval) or async mode carries the last result). */
  GstClockTime source_pts;
  guint64 source_frame; /* index of that frame in the stream, counted by ensclassify from 0 */
  gboolean fresh;       /* TRUE iff this buffer's own pixels produced the result */

  /* Region classified, in this buffer's pixel coordinates. */
  gboolean full_frame;
  gint roi_id; /* id of the GstVideoRegionOfInterestMeta classified, -1 for full frame */
  gint x, y, width, height;

  guint n_entries;
  GstEnsClassEntry *entries; /* highest score first */

  /* TRUE when the ROI reached outside the frame and was classified clipped to it (x, y,
   * width, height are the clipped box); always FALSE for full-frame results. */
  gboolean clipped;

  /* Optional: the full distribution the entries were taken from (n_probs = the model's class
   * count, indexed by class id, same smoothing), or NULL / 0. ensclassify fills it only while
   * a downstream element has asked for it (ensharvest does, through its info query), so other
   * pipelines do not copy 1000 floats per buffer. */
  guint n_probs;
  gfloat *probs;
} GstEnsClassificationMeta;

GType gst_ens_classification_meta_api_get_type(void);
const GstMetaInfo *gst_ens_classification_meta_get_info(void);

/* Adds a meta holding copies of model_name and entries (labels copied too). Region fields
 * default to full frame at 0,0 size 0x0, roi_id -1; the caller sets them. */
GstEnsClassificationMeta *gst_buffer_add_ens_classification_meta(GstBuffer *buffer,
                                                                 const gchar *model_name,
                                                                 const GstEnsClassEntry *entries,
                                                                 guint n_entries);

/* Sets (copies) the meta's full probability distribution, replacing any; n 0 clears it. */
void gst_ens_classification_meta_set_probs(GstEnsClassificationMeta *meta, const gfloat *probs,
                                           guint n);

/* The first classification meta of buffer, or NULL. */
GstEnsClassificationMeta *gst_buffer_get_ens_classification_meta(GstBuffer *buffer);

/* Iterates over every classification meta of buffer: start with *state = NULL; returns NULL
 * at the end. */
GstEnsClassificationMeta *gst_buffer_iterate_ens_classification_meta(GstBuffer *buffer,
                                                                     gpointer *state);

/* Number of classification metas on buffer. */
guint gst_buffer_get_n_ens_classification_meta(GstBuffer *buffer);

/* Name of the GstStructure ensclassify adds to GstVideoRegionOfInterestMeta params (fields
 * label, label_id, confidence, model_name, layer_name: DL Streamer's tensor convention). */
#define GST_ENS_ROI_PARAM_NAME "classification"

G_END_DECLS

#endif
