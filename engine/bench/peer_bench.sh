#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# peer_bench.sh - ens vs ONNX Runtime 1.30 (npm onnxruntime-node) on b0, in one command.
#
#   engine/bench/peer_bench.sh [BUILD_DIR] [--quick] [--rounds N]
#
# BUILD_DIR (default: build) is a configured meson build directory of this project. The
# script builds ens-bench and fma_peak there, writes the synthetic b0/b3 weights into
# BUILD_DIR/bench-data, installs onnxruntime-node into BUILD_DIR/bench-ort (npm, once) and
# runs peer_bench.js. Needs ../shared (the ONNX export and the goldens) beside the project.
# Run it on a quiet machine: both engines use the same cores.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build=build
case "${1:-}" in
  ''|--*) ;;
  *) build=$1; shift ;;
esac
case "$build" in /*) ;; *) build="$root/$build" ;; esac
shared="$root/../shared"

[ -f "$build/build.ninja" ] || { echo "peer_bench: $build is not a meson build dir" >&2; exit 2; }
[ -f "$shared/bench/tf_efficientnet_b0_synth.onnx" ] || { echo "peer_bench: no $shared/bench/tf_efficientnet_b0_synth.onnx" >&2; exit 2; }

ninja -C "$build" engine/cli/ens-bench engine/bench/fma_peak >/dev/null

data="$build/bench-data"
mkdir -p "$data"
for v in b0 b3; do
  [ -f "$data/$v.safetensors" ] ||
    /usr/bin/python3 "$shared/tools/ens_synth_weights.py" --variant "$v" --out "$data/$v.safetensors"
done

ort="$build/bench-ort"
if [ ! -f "$ort/node_modules/onnxruntime-node/package.json" ]; then
  mkdir -p "$ort"
  # --ignore-scripts: the CPU binaries ship in the package; the install script only fetches CUDA.
  (cd "$ort" && npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@1.30 >/dev/null)
fi

NODE_PATH="$ort/node_modules" exec node "$root/engine/bench/peer_bench.js" \
  --ens-bench "$build/engine/cli/ens-bench" --fma-peak "$build/engine/bench/fma_peak" \
  --b0 "$data/b0.safetensors" --b3 "$data/b3.safetensors" \
  --onnx "$shared/bench/tf_efficientnet_b0_synth.onnx" \
  --goldens "$shared/goldens/all_variants_logits.safetensors" --work "$data" "$@"
