/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensjsonfmt.h - the JSON object ensjson writes per buffer (one line) and ensmqtt publishes
 * per buffer (one message): built in one place so both are byte-for-byte the same. Schema in the
 * README ("ensjson output"). */
#ifndef GST_ENS_JSON_FMT_H
#define GST_ENS_JSON_FMT_H

#include <gst/gst.h>

G_BEGIN_DECLS

/* What the element knows about the buffer beyond its metas. */
typedef struct {
  GstClockTime running_time; /* GST_CLOCK_TIME_NONE if unknown: written as null */
  guint64 frame;             /* index of the buffer as counted by the element */
  gint width, height;        /* from the negotiated caps (0 if unknown) */
} GstEnsJsonFrame;

/* Replaces out's contents with the JSON object for buf (no trailing newline). */
void gst_ens_json_format(GString *out, GstBuffer *buf, const GstEnsJsonFrame *frame);

/* Running time of buf's PTS in segment, or GST_CLOCK_TIME_NONE when the PTS is unset, the
 * segment is not in TIME format or the PTS lies outside it. */
GstClockTime gst_ens_json_running_time(const GstSegment *segment, GstBuffer *buf);

/* Width and height of caps' first structure; 0 for a missing field. */
void gst_ens_json_caps_size(GstCaps *caps, gint *width, gint *height);

G_END_DECLS

#endif
