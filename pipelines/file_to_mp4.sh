#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# file_to_mp4.sh IN OUT.mp4 [MODEL] - classify every frame of any video file GStreamer can
# decode and write it annotated (top-5 labels drawn by ensoverlay) as H.264 in MP4.
#
#   filesrc ! decodebin ! videoconvert ! ensclassify ! ensoverlay ! x264enc ! mp4mux
#
# MODEL: a timm .safetensors file, a hub directory (model.safetensors + config.json) or
# random:b0 (default $ENS_MODEL, else random:b0; random weights get a banner saying the labels
# are meaningless). ENS_INTERVAL sets inference-interval (default 1); ENS_JSON=path also writes
# the results as JSON Lines. ENS_BUILD_DIR: see common.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=pipelines/common.sh
. "$here/common.sh"
[ $# -ge 2 ] || ens_die "usage: $0 IN OUT.mp4 [MODEL]"
in=$1 out=$2 model=${3:-${ENS_MODEL:-random:b0}}
[ -f "$in" ] || ens_die "input not found: $in"
ens_find_plugin

overlay=(ensoverlay)
case $model in random:*) overlay+=(banner="RANDOM WEIGHTS — labels are meaningless") ;; esac
json=()
[ -z "${ENS_JSON:-}" ] || json=(! ensjson location="$ENS_JSON")
read -r -a encoder <<<"$(ens_h264_encoder)"

gst-launch-1.0 -q -e filesrc location="$in" ! decodebin ! videoconvert \
  ! ensclassify model="$model" mode=sync inference-interval="${ENS_INTERVAL:-1}" "${json[@]}" \
  ! "${overlay[@]}" ! videoconvert ! "${encoder[@]}" ! h264parse ! mp4mux \
  ! filesink location="$out"
[ -s "$out" ] || ens_die "nothing written to $out"
echo "wrote $out"
