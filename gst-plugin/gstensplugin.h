/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstensplugin.h - who made the ens plugin and where it comes from: the one author string
 * every element's metadata uses, and the plugin's origin URL (gst-inspect-1.0 shows both). */
#ifndef GST_ENS_PLUGIN_H
#define GST_ENS_PLUGIN_H

/* The maintainers' address, as in the project's history. */
#define GST_ENS_AUTHOR "ens developers <maintainers@users.noreply.r-seed-81b43329.example>"

/* ens has no public home page yet: until it has one, the origin is GStreamer's own site (where
 * the plugin API it implements is documented) rather than gst-template's "Unknown package
 * origin". Change it here, in one place, when the project is published. */
#define GST_ENS_ORIGIN "https://gstreamer.freedesktop.org"

#endif
