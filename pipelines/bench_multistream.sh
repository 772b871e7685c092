#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench_multistream.sh [SECONDS] [MAX_N] - how many live 1280x720 30 fps streams ensclassify
# (random:b0, async) sustains in one process: one model per element vs one shared model with
# cross-stream batching, at inference-interval 1 and 3. For every N = 1 .. MAX_N (default 4)
# runs ens-bench-multistream for SECONDS (default 8, after 3 s of warm-up; N goes on past the
# first failure, so throughput and RSS can be compared, and stops after two in a row); a run is not
# sustained (a stream below 97% of its frames at the sink, > 1% of frames later than 40 ms at
# the synchronised sink, or > 1% carrying a result more than one inference old), prints every
# RESULT line and a summary: the largest N per setup. ENS_BUILD_DIR: see common.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=pipelines/common.sh
. "$here/common.sh"
ens_find_plugin
bench=${ENS_BUILD_DIR:-$ens_root/build}/pipelines/ens-bench-multistream
[ -x "$bench" ] || ens_die "$bench not built (meson setup build && ninja -C build)"
seconds=${1:-8}
max_n=${2:-4}

summary=""
for interval in 1 3; do
  for shared in 0 1; do
    best=0
    ok=1
    misses=0
    for n in $(seq 1 "$max_n"); do
      line=$("$bench" --streams "$n" --shared "$shared" --interval "$interval" \
        --seconds "$seconds" --warmup 3 --model "${ENS_MODEL:-random:b0}" | grep '^RESULT') ||
        line="RESULT streams=$n shared=$shared interval=$interval failed"
      echo "$line"
      case $line in
        *sustained=1*) [ $ok = 1 ] && best=$n; misses=0 ;;
        *) ok=0; misses=$((misses + 1)) ;;
      esac
      [ $misses -lt 2 ] || break # two N in a row not sustained: more streams will not be
    done
    summary+="interval=$interval shared=$shared: largest sustained N = $best"$'\n'
  done
done
echo
printf '%s' "$summary"
