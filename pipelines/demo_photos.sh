#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# demo_photos.sh - the ImageNet demo (`pipelines/demo.sh --photos`): classify a short clip made
# of sample photos and write an annotated video plus the results as JSON Lines.
#
#   photos -> jpegdec -> 640x480, 2 s per photo -> ensclassify -> ensjson -> ensoverlay
#          -> x264enc -> mp4mux   =>  out/demo.mp4 + out/demo.jsonl (+ out/demo_input.mkv)
#
# Photos: ../shared/data/dog.jpg and the sample photos of Debian's `darknet` package (dog,
# horses, person, eagle, giraffe, kite, scream), fetched once with `apt-get download` into the
# cache; without apt only the shared photo(s) are used.
# Model: $ENS_MODEL if set (a .safetensors file, hub directory or random:VARIANT); else the real
# timm tf_efficientnet_b0.ns_jft_in1k (model.safetensors + config.json) downloaded once from
# the Hugging Face hub into the cache. Without network (or with ENS_OFFLINE=1) it says so in one
# line and runs the same pipeline with model=random:b0 and a banner on the video: the labels are
# then meaningless.
#
# It builds nothing: build first (meson setup build && ninja -C build). Environment:
#   ENS_BUILD_DIR   meson build directory holding gst-plugin/libgstens.so (default: build/)
#   ENS_OUT_DIR     output directory (default: out/ in the project root)
#   ENS_CACHE_DIR   downloads (default: ${XDG_CACHE_HOME:-$HOME/.cache}/ens)
#   ENS_MODEL       model to use instead of the hub download
#   ENS_OFFLINE=1   do not try the network (random:b0 unless ENS_MODEL is set)
#   ENS_PHOTOS      space-separated JPEG paths to use instead of the photos above
#   ENS_SECONDS_PER_PHOTO (2), ENS_FPS (15), ENS_INTERVAL (inference-interval, 1)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=pipelines/common.sh
. "$here/common.sh"
ens_find_plugin

out_dir=${ENS_OUT_DIR:-$ens_root/out}
cache=${ENS_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/ens}
secs=${ENS_SECONDS_PER_PHOTO:-2}
fps=${ENS_FPS:-15}
interval=${ENS_INTERVAL:-1}
hub_name=tf_efficientnet_b0.ns_jft_in1k
hub_url=https://huggingface.co/timm/$hub_name/resolve/main
mkdir -p "$out_dir" "$cache"
start=$(date +%s)

# ---- photos
photos=()
if [ -n "${ENS_PHOTOS:-}" ]; then
  read -r -a photos <<<"$ENS_PHOTOS"
else
  [ -f "$ens_root/../shared/data/dog.jpg" ] && photos+=("$(cd "$ens_root/../shared/data" && pwd)/dog.jpg")
  darknet_data=$cache/darknet/usr/share/darknet/data
  if [ ! -f "$darknet_data/horses.jpg" ]; then
    tmp=$(mktemp -d)
    if (cd "$tmp" && apt-get download darknet >/dev/null 2>&1 &&
      dpkg -x darknet_*.deb "$cache/darknet"); then
      echo "ens demo: sample photos from Debian's darknet package cached in $cache/darknet"
    else
      echo "ens demo: could not fetch Debian's darknet package (sample photos); using the shared photo only"
    fi
    rm -rf "$tmp"
  fi
  for name in dog horses person eagle giraffe kite scream; do
    [ -f "$darknet_data/$name.jpg" ] && photos+=("$darknet_data/$name.jpg")
  done
fi
[ "${#photos[@]}" -gt 0 ] || ens_die "no photos: ../shared/data/dog.jpg is missing and the darknet package could not be fetched (set ENS_PHOTOS)"
for p in "${photos[@]}"; do [ -f "$p" ] || ens_die "photo not found: $p"; done

# ---- model
banner=""
model=""
if [ -n "${ENS_MODEL:-}" ]; then
  model=$ENS_MODEL
elif [ "${ENS_OFFLINE:-0}" = 1 ]; then
  echo "ens demo: ENS_OFFLINE=1: running with random:b0 weights (labels are meaningless)"
  model=random:b0
else
  hub_dir=$cache/models/$hub_name
  if [ ! -s "$hub_dir/model.safetensors" ] || [ ! -s "$hub_dir/config.json" ]; then
    mkdir -p "$hub_dir"
    if curl -fsSL --connect-timeout 5 --max-time 600 -o "$hub_dir/config.json.part" "$hub_url/config.json" 2>/dev/null &&
      curl -fsSL --connect-timeout 5 --max-time 600 -o "$hub_dir/model.safetensors.part" "$hub_url/model.safetensors" 2>/dev/null; then
      mv "$hub_dir/config.json.part" "$hub_dir/config.json"
      mv "$hub_dir/model.safetensors.part" "$hub_dir/model.safetensors"
      echo "ens demo: downloaded $hub_name into $hub_dir"
    else
      rm -f "$hub_dir"/*.part
    fi
  fi
  if [ -s "$hub_dir/model.safetensors" ] && [ -s "$hub_dir/config.json" ]; then
    model=$hub_dir
  else
    echo "ens demo: no network to download $hub_name: running with random:b0 weights (labels are meaningless)"
    model=random:b0
  fi
fi
case $model in
random:*) banner="RANDOM WEIGHTS — labels are meaningless" ;;
esac

# ---- pipeline: one concat branch per photo, each frozen for $secs seconds
frames_per_photo=$((secs * fps))
branches=()
for p in "${photos[@]}"; do
  branches+=(filesrc location="$p" ! jpegdec ! videoconvert ! videoscale
    ! "video/x-raw,format=I420,width=640,height=480,pixel-aspect-ratio=1/1"
    ! imagefreeze num-buffers="$frames_per_photo" ! "video/x-raw,framerate=$fps/1" ! c.)
done
read -r -a encoder <<<"$(ens_h264_encoder)"
overlay=(ensoverlay)
[ -z "$banner" ] || overlay+=(banner="$banner")
rm -f "$out_dir/demo.mp4" "$out_dir/demo.jsonl" "$out_dir/demo_input.mkv"

echo "ens demo: ${#photos[@]} photos x ${secs} s at $fps fps, model=$model"
# The clip (MJPEG in Matroska: only good plugins needed to read it back, timestamps continuous).
gst-launch-1.0 -q -e concat name=c ! jpegenc quality=92 ! matroskamux \
  ! filesink location="$out_dir/demo_input.mkv" "${branches[@]}"
gst-launch-1.0 -q -e \
  filesrc location="$out_dir/demo_input.mkv" ! matroskademux ! jpegdec ! videoconvert \
  ! ensclassify model="$model" mode=sync inference-interval="$interval" top-k=5 \
  ! ensjson location="$out_dir/demo.jsonl" \
  ! "${overlay[@]}" \
  ! videoconvert ! "${encoder[@]}" ! h264parse ! mp4mux ! filesink location="$out_dir/demo.mp4"

[ -s "$out_dir/demo.mp4" ] || ens_die "no video was written"
lines=$(wc -l <"$out_dir/demo.jsonl")
echo
echo "ens demo: done in $(($(date +%s) - start)) s"
echo "  video:   $out_dir/demo.mp4 ($((${#photos[@]} * frames_per_photo)) frames, 640x480, $fps fps)"
echo "  results: $out_dir/demo.jsonl ($lines JSON lines, one per frame)"
echo "  input:   $out_dir/demo_input.mkv (the clip made from the photos)"
if [ -n "$banner" ]; then
  echo "  NOTE: random weights (model=$model): the labels in the video and JSON are meaningless."
fi
echo "first result of the first photos:"
awk -v n="$frames_per_photo" '(NR - 1) % n == 0' "$out_dir/demo.jsonl" | head -n 3
