# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# common.sh - sourced by the pipeline scripts: finds the ens GStreamer plugin.
#
# Uses, in order: $ENS_BUILD_DIR (a meson build directory), the project's build/ directory,
# or an installed plugin. Exports GST_PLUGIN_PATH when a build directory is used, and fails
# with one clear line when ensclassify cannot be found.

ens_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

ens_find_plugin() {
  local dir
  for dir in "${ENS_BUILD_DIR:-}" "$ens_root/build"; do
    if [ -n "$dir" ] && [ -e "$dir/gst-plugin/libgstens.so" ]; then
      export GST_PLUGIN_PATH="$dir/gst-plugin${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
      ENS_BUILD_DIR=$dir
      break
    fi
  done
  if ! gst-inspect-1.0 ensclassify >/dev/null 2>&1; then
    echo "error: GStreamer element ensclassify not found; build first" \
      "(meson setup build && ninja -C build) or set ENS_BUILD_DIR" >&2
    exit 1
  fi
}

ens_die() {
  echo "error: $*" >&2
  exit 1
}

# Prints the H.264 encoder to use, fed 4:2:0 (what every decoder and player accepts):
# x264enc from gst-plugins-ugly, else openh264enc.
ens_h264_encoder() {
  if gst-inspect-1.0 x264enc >/dev/null 2>&1; then
    echo "video/x-raw,format=I420 ! x264enc speed-preset=veryfast"
  elif gst-inspect-1.0 openh264enc >/dev/null 2>&1; then
    echo "video/x-raw,format=I420 ! openh264enc"
  else
    ens_die "no H.264 encoder (install gstreamer1.0-plugins-ugly for x264enc)"
  fi
}
