#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# demo.sh - the main demo, offline: classify a clip made of Fashion-MNIST *test* images (never
# trained on) with the embedded default model, write an annotated video and the results as JSON
# Lines, and print the pipeline's top-1 accuracy against the images' true labels.
#
#   t10k images -> ens-fmnist-clip (raw RGB 28x28, F frames per image) -> rawvideoparse
#     -> ensclassify (default model, inference every F frames) -> ensjson -> videoscale (nearest,
#     448x448) -> ensoverlay -> H.264 -> mp4mux  =>  out/demo.mp4 + out/demo.jsonl
#   ens-jsonl-score out/demo.jsonl + the true labels  =>  "top-1 P % (C/N)"
#
# The network sees the 28x28 frame itself (its eval transform resizes to 28 and center-crops
# 32 with zero padding, exactly as `ens-train eval`); the upscaling is for the video only.
#
#   pipelines/demo.sh [--model DIR] [--photos]
#   --model DIR   a Fashion-MNIST hub model directory instead of the default model
#   --photos      the ImageNet demo instead (pipelines/demo_photos.sh: sample photos, the real
#                 tf_efficientnet_b0.ns_jft_in1k downloaded when there is network, else
#                 random:b0); also chosen when ENS_PHOTOS is set
#
# It builds nothing: build first (meson setup build && ninja -C build). Environment:
#   ENS_BUILD_DIR     meson build directory (plugin, pipelines/ens-fmnist-clip, ens-jsonl-score)
#   ENS_OUT_DIR       output directory (default: out/ in the project root)
#   ENS_FMNIST_DIR    Fashion-MNIST IDX files (default: /usr/share/datasets/fashion-mnist, the
#                     Debian package dataset-fashion-mnist)
#   ENS_DEMO_IMAGES (200), ENS_DEMO_FIRST (0)   which test images
#   ENS_FRAMES_PER_IMAGE (4), ENS_FPS (8)
#   ENS_DEFAULT_MODEL  where the default model is looked for first (ens_default_model_path)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
model=""
while [ $# -gt 0 ]; do
  case $1 in
  --photos) exec "$here/demo_photos.sh" ;;
  --model)
    [ $# -ge 2 ] || { echo "error: --model needs a directory" >&2; exit 2; }
    model=$2
    shift 2
    ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "error: unknown argument '$1' (try --help)" >&2
    exit 2
    ;;
  esac
done
[ -z "${ENS_PHOTOS:-}" ] || exec "$here/demo_photos.sh"

# shellcheck source=pipelines/common.sh
. "$here/common.sh"
ens_find_plugin

out_dir=${ENS_OUT_DIR:-$ens_root/out}
data=${ENS_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
count=${ENS_DEMO_IMAGES:-200}
first=${ENS_DEMO_FIRST:-0}
per_image=${ENS_FRAMES_PER_IMAGE:-4}
fps=${ENS_FPS:-8}
size=448
build=${ENS_BUILD_DIR:-$ens_root/build}
clip_tool=$build/pipelines/ens-fmnist-clip
score_tool=$build/pipelines/ens-jsonl-score
[ -x "$clip_tool" ] && [ -x "$score_tool" ] ||
  ens_die "$clip_tool or $score_tool not built (meson setup build && ninja -C build)"
images=$data/t10k-images-idx3-ubyte.gz
labels=$data/t10k-labels-idx1-ubyte.gz
[ -f "$images" ] && [ -f "$labels" ] ||
  ens_die "Fashion-MNIST test images not found in $data (apt-get install dataset-fashion-mnist, or set ENS_FMNIST_DIR)"
classify=(ensclassify mode=sync inference-interval="$per_image" top-k=3)
if [ -n "$model" ]; then
  classify+=(model="$model")
elif [ -n "${ENS_DEFAULT_MODEL:-}" ]; then
  model=$ENS_DEFAULT_MODEL
elif [ -f "$ens_root/engine/data/models/fashion_mnist/model.safetensors" ]; then
  model=$ens_root/engine/data/models/fashion_mnist
else
  model="(installed default)"
fi
overlay=(ensoverlay max-labels=3)
case $model in
random:*) overlay+=(banner="RANDOM WEIGHTS — labels are meaningless") ;;
esac
mkdir -p "$out_dir"
rm -f "$out_dir/demo.mp4" "$out_dir/demo.jsonl" "$out_dir/demo_input.rgb" "$out_dir/demo_labels.txt"
start=$(date +%s)

read -r dims n < <("$clip_tool" --images "$images" --labels "$labels" --count "$count" \
  --first "$first" --frames-per-image "$per_image" --out "$out_dir/demo_input.rgb" \
  --labels-out "$out_dir/demo_labels.txt")
w=${dims%x*}
h=${dims#*x}
echo "ens demo: $n Fashion-MNIST test images (from #$first), $per_image frames each at $fps fps, model=$model"
read -r -a encoder <<<"$(ens_h264_encoder)"
if ! gst-launch-1.0 -q -e \
  filesrc location="$out_dir/demo_input.rgb" \
  ! rawvideoparse width="$w" height="$h" format=rgb framerate="$fps/1" \
  ! "${classify[@]}" \
  ! ensjson location="$out_dir/demo.jsonl" \
  ! videoscale method=nearest-neighbour ! "video/x-raw,width=$size,height=$size" \
  ! "${overlay[@]}" \
  ! videoconvert ! "${encoder[@]}" ! h264parse ! mp4mux ! filesink location="$out_dir/demo.mp4"; then
  ens_die "the pipeline failed (above); without the embedded model give --model DIR or set ENS_DEFAULT_MODEL=DIR"
fi
[ -s "$out_dir/demo.mp4" ] || ens_die "no video was written"
rm -f "$out_dir/demo_input.rgb"

score=$("$score_tool" --labels "$out_dir/demo_labels.txt" --frames-per-image "$per_image" \
  "$out_dir/demo.jsonl") || ens_die "could not score $out_dir/demo.jsonl"
echo "ens demo: done in $(($(date +%s) - start)) s ($((n * per_image)) frames, ${size}x$size)"
echo "demo: $n Fashion-MNIST test images, $score — $out_dir/demo.mp4, $out_dir/demo.jsonl"
