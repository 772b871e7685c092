#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# rtsp_to_json.sh URL OUT.jsonl [FRAMES] - classify an RTSP stream and write one JSON line per
# frame (ensjson) without displaying anything.
#
#   rtspsrc ! decodebin ! videoconvert ! ensclassify ! ensjson ! fakesink
#
# FRAMES > 0 stops after that many frames (default: run until the stream ends or Ctrl-C).
# ENS_MODEL (default random:b0), ENS_INTERVAL (inference-interval, default 1),
# ENS_MODE (auto|async|sync, default auto), ENS_RTSP_PROTOCOLS (default tcp),
# ENS_TIMEOUT (seconds before giving up, default none). ENS_BUILD_DIR: see common.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=pipelines/common.sh
. "$here/common.sh"
[ $# -ge 2 ] || ens_die "usage: $0 rtsp://HOST:PORT/PATH OUT.jsonl [FRAMES]"
url=$1 out=$2 frames=${3:-0}
ens_find_plugin

stop=()
[ "$frames" -gt 0 ] && stop=(! identity eos-after="$((frames + 1))") # passes N-1 buffers, then EOS
runner=()
[ -z "${ENS_TIMEOUT:-}" ] || runner=(timeout --kill-after=5 "$ENS_TIMEOUT")

"${runner[@]}" gst-launch-1.0 -q -e rtspsrc location="$url" latency=200 \
  protocols="${ENS_RTSP_PROTOCOLS:-tcp}" ! decodebin ! videoconvert \
  ! ensclassify model="${ENS_MODEL:-random:b0}" mode="${ENS_MODE:-auto}" \
  inference-interval="${ENS_INTERVAL:-1}" "${stop[@]}" \
  ! ensjson location="$out" ! fakesink sync=false
echo "wrote $(wc -l <"$out") JSON lines to $out"
