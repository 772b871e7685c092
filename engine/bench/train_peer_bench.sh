#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# train_peer_bench.sh - ens vs PyTorch 1.13 on full training steps, in one command.
#
#   engine/bench/train_peer_bench.sh BUILD_DIR [ROUNDS] [-- options of train_peer_bench.py]
#
# BUILD_DIR is a configured meson build directory of this project (built here: ens-train and
# fma_peak). Writes the synthetic nano weights into BUILD_DIR/bench-data, checks that both
# sides reproduce timm's nano training step (goldens/train of ../shared), then runs nano
# (w0.5 d0.5, 10 classes) at batch 128 @32 and batch 32 @64 and b0 (1000 classes) at batch 16
# @224, on 1 and 2 threads, ens and torch interleaved round by round (ROUNDS, default 3).
# Both sides use the same cores: numbers from a busy machine are noisy (see the CPU columns).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [ROUNDS] [-- train_peer_bench.py options]" >&2; exit 2; }
build=$1
shift
rounds=3
if [ $# -ge 1 ] && [ "$1" != "--" ]; then
  rounds=$1
  shift
fi
[ "${1:-}" = "--" ] && shift
case "$rounds" in ''|*[!0-9]*|0) echo "train_peer_bench: ROUNDS must be a positive integer" >&2; exit 2 ;; esac
case "$build" in /*) ;; *) build="$PWD/$build" ;; esac
shared="$root/../shared"

[ -f "$build/build.ninja" ] || { echo "train_peer_bench: $build is not a meson build dir" >&2; exit 2; }
golden="$shared/goldens/train/nano_train_step.safetensors"
[ -f "$golden" ] || { echo "train_peer_bench: no $golden (../shared beside the project)" >&2; exit 2; }
/usr/bin/python3 -c 'import torch, numpy' 2>/dev/null ||
  { echo "train_peer_bench: /usr/bin/python3 has no torch / numpy (Debian python3-torch)" >&2; exit 2; }

ninja -C "$build" engine/cli/ens-train engine/bench/fma_peak >/dev/null

data="$build/bench-data"
mkdir -p "$data"
[ -f "$data/nano.safetensors" ] ||
  /usr/bin/python3 "$shared/tools/ens_synth_weights.py" --variant nano --out "$data/nano.safetensors" >/dev/null

exec /usr/bin/python3 "$root/engine/bench/train_peer_bench.py" \
  --ens-train "$build/engine/cli/ens-train" --fma-peak "$build/engine/bench/fma_peak" \
  --torch-peer "$root/engine/bench/train_peer_torch.py" --nano-weights "$data/nano.safetensors" \
  --golden "$golden" --rounds "$rounds" "$@"
