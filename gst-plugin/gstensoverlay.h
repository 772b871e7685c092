/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensoverlay.h - ensoverlay: draws ens classification results on video frames. */
#ifndef GST_ENS_OVERLAY_H
#define GST_ENS_OVERLAY_H

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_ENS_OVERLAY (gst_ens_overlay_get_type())
G_DECLARE_FINAL_TYPE(GstEnsOverlay, gst_ens_overlay, GST, ENS_OVERLAY, GstVideoFilter)

/* Corner of the frame the full-frame results panel is anchored to. */
typedef enum {
  GST_ENS_OVERLAY_TOP_LEFT = 0,
  GST_ENS_OVERLAY_TOP_RIGHT,
  GST_ENS_OVERLAY_BOTTOM_LEFT,
  GST_ENS_OVERLAY_BOTTOM_RIGHT,
} GstEnsOverlayPosition;

#define GST_TYPE_ENS_OVERLAY_POSITION (gst_ens_overlay_position_get_type())
GType gst_ens_overlay_position_get_type(void);

GST_ELEMENT_REGISTER_DECLARE(ensoverlay);

G_END_DECLS

#endif /* GST_ENS_OVERLAY_H */
