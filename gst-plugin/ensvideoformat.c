/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ensvideoformat.c - see ensvideoformat.h. */
#include "ensvideoformat.h"

#include <string.h>

gboolean ens_video_map_format(GstVideoFormat f, ens_pixel_format *out)
{
  switch (f) {
    case GST_VIDEO_FORMAT_RGB:
      *out = ENS_PIXEL_RGB;
      return TRUE;
    case GST_VIDEO_FORMAT_BGR:
      *out = ENS_PIXEL_BGR;
      return TRUE;
    case GST_VIDEO_FORMAT_RGBx:
      *out = ENS_PIXEL_RGBX;
      return TRUE;
    case GST_VIDEO_FORMAT_BGRx:
      *out = ENS_PIXEL_BGRX;
      return TRUE;
    case GST_VIDEO_FORMAT_xRGB:
      *out = ENS_PIXEL_XRGB;
      return TRUE;
    case GST_VIDEO_FORMAT_xBGR:
      *out = ENS_PIXEL_XBGR;
      return TRUE;
    case GST_VIDEO_FORMAT_RGBA:
      *out = ENS_PIXEL_RGBA;
      return TRUE;
    case GST_VIDEO_FORMAT_BGRA:
      *out = ENS_PIXEL_BGRA;
      return TRUE;
    case GST_VIDEO_FORMAT_ARGB:
      *out = ENS_PIXEL_ARGB;
      return TRUE;
    case GST_VIDEO_FORMAT_ABGR:
      *out = ENS_PIXEL_ABGR;
      return TRUE;
    case GST_VIDEO_FORMAT_I420:
      *out = ENS_PIXEL_I420;
      return TRUE;
    case GST_VIDEO_FORMAT_NV12:
      *out = ENS_PIXEL_NV12;
      return TRUE;
    default:
      return FALSE;
  }
}

ens_yuv_matrix ens_video_map_matrix(const GstVideoColorimetry *c)
{
  gboolean full = c->range == GST_VIDEO_COLOR_RANGE_0_255;
  /* Unknown matrices default to BT.601 like most decoders for SD; 709 only when stated. */
  if (c->matrix == GST_VIDEO_COLOR_MATRIX_BT709)
    return full ? ENS_YUV_BT709_FULL : ENS_YUV_BT709;
  return full ? ENS_YUV_BT601_FULL : ENS_YUV_BT601;
}

void ens_video_frame_image(const GstVideoFrame *frame, ens_pixel_format format,
                           ens_yuv_matrix matrix, ens_image *out)
{
  memset(out, 0, sizeof *out);
  out->format = format;
  out->width = GST_VIDEO_FRAME_WIDTH(frame);
  out->height = GST_VIDEO_FRAME_HEIGHT(frame);
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(frame) && p < 3; p++) {
    out->planes[p] = GST_VIDEO_FRAME_PLANE_DATA(frame, p);
    out->strides[p] = GST_VIDEO_FRAME_PLANE_STRIDE(frame, p);
  }
  out->yuv_matrix = matrix;
}
