#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# harvest_test.sh - the Noisy Student loop on live video, end to end with the built tools:
#   1. a small labeled image folder (four videotestsrc patterns, 24 PNGs each);
#   2. a teacher trained on it (ens-train fit, b0 shape at a 32 px input: the inference
#      engine loads only the b0..b7 / l2 shapes, not nano, and the harvest runs this model);
#   3. gst-launch-1.0: 60 frames -> ensclassify model=teacher -> ensharvest interval=5 harvests
#      12 samples (PNG + sidecar, the teacher's 4-class distribution, no temporary file);
#   4. ens-train noisy-student --unlabeled <the harvest folder> trains a student from them.
# meson sets ENS_SOURCE_ROOT, ENS_BUILD_ROOT, GST_PLUGIN_PATH and a private GST_REGISTRY.
set -euo pipefail
build=${ENS_BUILD_ROOT:?}
train=$build/engine/cli/ens-train
work=$build/tests/pipelines/work-harvest
rm -rf "$work"
mkdir -p "$work"
cd "$work"

fail() {
  echo "FAIL (harvest): $*" >&2
  exit 1
}
launch() { timeout --kill-after=5 60 gst-launch-1.0 -q -e "$@"; }

for p in smpte snow ball pinwheel; do
  mkdir -p "data/$p"
  launch videotestsrc pattern=$p num-buffers=24 horizontal-speed=3 \
    ! video/x-raw,width=48,height=40 ! videoconvert ! pngenc ! multifilesink location="data/$p/%03d.png"
done

common=(--data data --val-split 0.25 --input-size 32 --batch 16 --threads 2 --no-progress)
timeout 60 "$train" fit --arch b0 --epochs 1 --out teacher "${common[@]}" > fit.log 2>&1 ||
  { cat fit.log >&2; fail "ens-train fit"; }

launch videotestsrc num-buffers=60 pattern=ball ! video/x-raw,width=64,height=48 \
  ! ensclassify model=teacher mode=sync ! ensharvest location=harvest interval=5 ! fakesink
pngs=$(ls harvest | grep -c '\.png$' || true)
jsons=$(ls harvest | grep -c '\.json$' || true)
others=$(ls harvest | grep -vc '\.png$\|\.json$' || true)
[ "$pngs" = 12 ] && [ "$jsons" = 12 ] || fail "harvested $pngs PNG / $jsons JSON, want 12 / 12"
[ "$others" = 0 ] || fail "other files in the harvest folder: $(ls harvest)"
for j in harvest/*.json; do
  [ -f "${j%.json}.png" ] || fail "$j has no PNG"
  grep -q '"save_size":"model","width":32,"height":32' "$j" || fail "$j: not a 32x32 model crop"
  grep -q '"num_classes":4,"probs":\[' "$j" || fail "$j: no 4-class distribution"
done
# harvest order = name order: frames 0, 5, ..., 55
frames=$(for j in harvest/*.json; do grep -o '"frame":[0-9]*' "$j" | head -1 | cut -d: -f2; done | tr '\n' ' ')
[ "$frames" = "0 5 10 15 20 25 30 35 40 45 50 55 " ] || fail "frames in name order: $frames"

timeout 60 "$train" noisy-student --teacher teacher --student-arch b0 --unlabeled harvest \
  --student-epochs 1 --out ns "${common[@]}" > ns.log 2>&1 || { cat ns.log >&2; fail "noisy-student"; }
grep -q 'harvest: 12 harvested samples (0 skipped' ns.log || { cat ns.log >&2; fail "harvest not read"; }
grep -q '"phase":"pseudo-labels","round":1,"unlabeled":12,' ns/log.jsonl || fail "pseudo-labels"
[ -s ns/student-r1/model.safetensors ] || fail "no student"
"$build/engine/cli/ens-classify" --model ns/student-r1 --topk 1 data/ball/000.png > /dev/null ||
  fail "the student does not load"
echo "harvest: 12 samples harvested, student trained"
