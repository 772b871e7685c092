/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensmqtt.h - ensmqtt: publishes each buffer's classification results (the ensjson object)
 * as one MQTT message. */
#ifndef GST_ENS_MQTT_H
#define GST_ENS_MQTT_H

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_ENS_MQTT (gst_ens_mqtt_get_type())
G_DECLARE_FINAL_TYPE(GstEnsMqtt, gst_ens_mqtt, GST, ENS_MQTT, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE(ensmqtt);

G_END_DECLS

#endif
