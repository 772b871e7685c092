/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin.c - registers the ens plugin's elements. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstensclassify.h"
#include "gstensharvest.h"
#include "gstensjson.h"
#include "gstensoverlay.h"
#ifdef ENS_HAVE_MQTT
#include "gstensmqtt.h"
#endif
#include "gstensplugin.h"

static gboolean plugin_init(GstPlugin *plugin)
{
  gboolean ok = TRUE;
  ok &= GST_ELEMENT_REGISTER(ensclassify, plugin);
  ok &= GST_ELEMENT_REGISTER(ensoverlay, plugin);
  ok &= GST_ELEMENT_REGISTER(ensjson, plugin);
  ok &= GST_ELEMENT_REGISTER(ensharvest, plugin);
#ifdef ENS_HAVE_MQTT
  ok &= GST_ELEMENT_REGISTER(ensmqtt, plugin);
#endif
  return ok;
}

#ifndef PACKAGE
#define PACKAGE "ens"
#endif
#ifndef ENS_VERSION
#define ENS_VERSION "0.1.0"
#endif

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, ens,
                  "EfficientNet (timm Noisy Student) video classification", plugin_init,
                  ENS_VERSION, "LGPL", "ens", GST_ENS_ORIGIN)
