#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench_stream.sh [SECONDS] - streaming latency benchmark of ensclassify (build first).
#
# A live 1280x720 30 fps videotestsrc stream through ensclassify (inference-interval=1,
# threads=2, $ENS_MODEL or random:b0: same compute as real b0 weights) into a synchronised
# fakesink, once in async and once in sync mode. ens-bench-stream measures, with pad probes,
# the time each frame spends inside ensclassify in the streaming thread (median / p90 / max),
# the frame rate reaching the sink and the rate of new results. SECONDS measured per mode
# (default 10, after 3 s of warm-up). ENS_BUILD_DIR: see common.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=pipelines/common.sh
. "$here/common.sh"
ens_find_plugin
bench=${ENS_BUILD_DIR:-$ens_root/build}/pipelines/ens-bench-stream
[ -x "$bench" ] || ens_die "$bench not built (meson setup build && ninja -C build)"
seconds=${1:-10}

for mode in async sync; do
  "$bench" --mode "$mode" --seconds "$seconds" --warmup 3 --width 1280 --height 720 --fps 30 \
    --threads 2 --interval 1 --model "${ENS_MODEL:-random:b0}"
done
