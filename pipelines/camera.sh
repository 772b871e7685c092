#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# camera.sh [DEVICE] [MODEL] - live classification of a V4L2 camera shown in a window.
#
#   v4l2src ! videoconvert ! ensclassify mode=async ! ensoverlay ! autovideosink
#
# Async mode: frames never wait for inference; each carries the newest finished result
# (fresh=false until the next one lands), so the preview stays at the camera's rate.
# DEVICE defaults to /dev/video0, MODEL to $ENS_MODEL or random:b0 (random weights get a
# banner: labels are meaningless). Needs a camera and a display: not run by the tests.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=pipelines/common.sh
. "$here/common.sh"
device=${1:-/dev/video0} model=${2:-${ENS_MODEL:-random:b0}}
[ -e "$device" ] || ens_die "no camera at $device"
ens_find_plugin

overlay=(ensoverlay)
case $model in random:*) overlay+=(banner="RANDOM WEIGHTS — labels are meaningless") ;; esac

exec gst-launch-1.0 -e v4l2src device="$device" ! videoconvert \
  ! ensclassify model="$model" mode=async ! "${overlay[@]}" \
  ! videoconvert ! autovideosink sync=false
