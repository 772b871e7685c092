/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ensvideoformat.h - GStreamer raw video frames as libens images (shared by ensclassify and
 * ensharvest). */
#ifndef ENS_VIDEO_FORMAT_H
#define ENS_VIDEO_FORMAT_H

#include <gst/gst.h>
#include <gst/video/video.h>

#include "ens.h"

/* The ens pixel format of a GStreamer video format; FALSE if ens does not read it. */
gboolean ens_video_map_format(GstVideoFormat f, ens_pixel_format *out);

/* The YUV matrix and range of a colorimetry (BT.601 unless BT.709 is stated). */
ens_yuv_matrix ens_video_map_matrix(const GstVideoColorimetry *c);

/* A borrowed ens_image view of a mapped frame (format and matrix as mapped above). */
void ens_video_frame_image(const GstVideoFrame *frame, ens_pixel_format format,
                           ens_yuv_matrix matrix, ens_image *out);

#endif
