#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# run_pipeline_test.sh CASE - real gst-launch-1.0 pipelines with the built ens plugin.
#
# meson sets ENS_SOURCE_ROOT, ENS_BUILD_ROOT, GST_PLUGIN_PATH (the build's gst-plugin/) and a
# private GST_REGISTRY per case. Each case works in its own directory under the build tree
# and bounds its run time with `timeout`. Cases:
#   launch_sync   videotestsrc -> ensclassify (sync, interval 3) -> ensjson -> ensoverlay
#                 -> x264enc -> mp4mux, in I420 and RGB; JSON and MP4 frame count checked
#   launch_async  live videotestsrc -> ensclassify mode=async -> ensjson
#   file_to_mp4   pipelines/file_to_mp4.sh on a generated MP4
#   demo_offline  pipelines/demo.sh with ENS_OFFLINE=1 (random:b0, banner on the video)
#   demo_synth    pipelines/demo.sh with ENS_MODEL = synthetic b0 weights (needs ../shared)
#   demo_fmnist   pipelines/demo.sh (the offline Fashion-MNIST demo, default model) on 30 test
#                 images: the accuracy line equals the accuracy recomputed from demo.jsonl
#   rtsp          ens-rtsp-server on 127.0.0.1 (free port) -> pipelines/rtsp_to_json.sh
#   rtsp_errors   ens-rtsp-server with a missing model / bad sources: exit 1 with the error,
#                 never "ready" (issue 10 item 3)
#   bench_smoke   ens-bench-stream runs briefly in both modes and reports frames
set -euo pipefail
case_name=$1
src=${ENS_SOURCE_ROOT:?}
build=${ENS_BUILD_ROOT:?}
work=$build/tests/pipelines/work-$case_name
check=("/usr/bin/python3" "$src/tests/pipelines/check_jsonl.py")
rm -rf "$work"
mkdir -p "$work"
cd "$work"
export ENS_BUILD_DIR=$build
export ENS_CACHE_DIR=$work/cache

fail() {
  echo "FAIL ($case_name): $*" >&2
  exit 1
}

launch() { timeout --kill-after=5 120 gst-launch-1.0 -q -e "$@"; }

# Number of video frames (H.264 access units) in an MP4.
mp4_frames() {
  timeout 60 gst-launch-1.0 -v filesrc location="$1" ! qtdemux ! h264parse \
    ! fakesink silent=false 2>&1 | grep -c 'chain'
}

# First frame of a video file as packed RGB (WxH) in $2.
first_frame_rgb() {
  timeout 60 gst-launch-1.0 -q filesrc location="$1" ! decodebin ! videoconvert \
    ! video/x-raw,format=RGB ! identity eos-after=2 ! filesink location="$2"
}

# Mean R,G,B of the bottom $4 rows of an RGB frame of width $2, height $3.
bottom_rows_mean() {
  /usr/bin/python3 - "$@" <<'EOF'
import sys
path, w, h, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
data = open(path, "rb").read()
assert len(data) >= w * h * 3, f"frame has {len(data)} bytes, want {w * h * 3}"
seg = data[(h - rows) * w * 3:h * w * 3]
n = len(seg) // 3
print(" ".join(str(round(sum(seg[c::3]) / n)) for c in range(3)))
EOF
}

# Two small test photos of different sizes (so the demo's scaling is exercised).
make_photos() {
  launch videotestsrc num-buffers=1 pattern=smpte ! video/x-raw,width=400,height=200 \
    ! jpegenc ! filesink location="$work/a.jpg"
  launch videotestsrc num-buffers=1 pattern=ball ! video/x-raw,width=300,height=400 \
    ! jpegenc ! filesink location="$work/b.jpg"
}

case $case_name in
launch_sync)
  for fmt in I420 RGB; do
    launch videotestsrc num-buffers=30 pattern=ball \
      ! "video/x-raw,format=$fmt,width=320,height=240,framerate=30/1" \
      ! ensclassify model=random:b0 mode=sync inference-interval=3 top-k=3 \
      ! ensjson location="$work/$fmt.jsonl" ! ensoverlay ! videoconvert ! video/x-raw,format=I420 \
      ! x264enc speed-preset=ultrafast ! h264parse ! mp4mux ! filesink location="$work/$fmt.mp4"
    "${check[@]}" "$work/$fmt.jsonl" --frames 30 --size 320x240 --sync 3 --top-k 3 \
      --model-has random
    n=$(mp4_frames "$work/$fmt.mp4")
    [ "$n" = 30 ] || fail "$fmt.mp4 has $n frames, want 30"
  done
  ;;
launch_async)
  launch videotestsrc is-live=true num-buffers=45 pattern=ball \
    ! video/x-raw,format=NV12,width=320,height=240,framerate=30/1 \
    ! ensclassify model=random:b0 mode=async top-k=2 ! ensjson location="$work/async.jsonl" \
    ! ensoverlay ! fakesink sync=true
  "${check[@]}" "$work/async.jsonl" --frames 45 --size 320x240 --async --top-k 2
  ;;
file_to_mp4)
  launch videotestsrc num-buffers=20 pattern=smpte \
    ! video/x-raw,format=I420,width=352,height=288,framerate=25/1 \
    ! x264enc speed-preset=ultrafast ! h264parse ! mp4mux ! filesink location="$work/in.mp4"
  ENS_JSON=$work/out.jsonl ENS_INTERVAL=2 timeout 120 "$src/pipelines/file_to_mp4.sh" \
    "$work/in.mp4" "$work/out.mp4" random:b0
  n=$(mp4_frames "$work/out.mp4")
  [ "$n" = 20 ] || fail "out.mp4 has $n frames, want 20"
  "${check[@]}" "$work/out.jsonl" --frames 20 --size 352x288 --sync 2 --top-k 5
  # The random-weights banner is drawn along the bottom (default colour: dark red).
  first_frame_rgb "$work/out.mp4" "$work/frame.rgb"
  read -r r g b <<<"$(bottom_rows_mean "$work/frame.rgb" 352 288 2)"
  [ "$r" -gt 120 ] && [ "$g" -lt 80 ] && [ "$b" -lt 80 ] || fail "no banner at the bottom: RGB $r $g $b"
  ;;
demo_offline | demo_synth)
  make_photos
  export ENS_PHOTOS="$work/a.jpg $work/b.jpg" ENS_SECONDS_PER_PHOTO=1 ENS_FPS=10
  export ENS_OUT_DIR=$work/out
  if [ "$case_name" = demo_offline ]; then
    ENS_OFFLINE=1 timeout 300 "$src/pipelines/demo.sh" | tee "$work/demo.log"
    grep -q "ENS_OFFLINE=1: running with random:b0" "$work/demo.log" || fail "no offline notice"
    grep -q "NOTE: random weights" "$work/demo.log" || fail "no random-weights note"
    "${check[@]}" "$work/out/demo.jsonl" --frames 20 --size 640x480 --sync 1 --top-k 5 \
      --model-has random
    banner_expected=1
  else
    shared=$src/../shared
    if [ ! -f "$shared/tools/ens_synth_weights.py" ]; then
      [ "${CI:-}" = true ] && fail "../shared is missing"
      echo "SKIP: ../shared/tools/ens_synth_weights.py not found"
      exit 77
    fi
    # Same file and lock as tests/support's ens_test_weights("b0", NULL, "b0").
    gen=$build/tests/generated
    mkdir -p "$gen"
    flock "$gen/.lock" sh -c "[ -f '$gen/b0.safetensors' ] || { /usr/bin/python3 \
      '$shared/tools/ens_synth_weights.py' --variant b0 --out '$gen/b0.safetensors.tmp' \
      >/dev/null && mv '$gen/b0.safetensors.tmp' '$gen/b0.safetensors'; }"
    ENS_MODEL=$gen/b0.safetensors timeout 300 "$src/pipelines/demo.sh" | tee "$work/demo.log"
    if grep -q "NOTE: random weights" "$work/demo.log"; then fail "random note with real weights"; fi
    "${check[@]}" "$work/out/demo.jsonl" --frames 20 --size 640x480 --sync 1 --top-k 5 \
      --model-lacks random
    banner_expected=0
  fi
  n=$(mp4_frames "$work/out/demo.mp4")
  [ "$n" = 20 ] || fail "demo.mp4 has $n frames, want 20"
  first_frame_rgb "$work/out/demo.mp4" "$work/frame.rgb"
  read -r r g b <<<"$(bottom_rows_mean "$work/frame.rgb" 640 480 2)"
  # Photo a (smpte bars, letterboxed) has black bars at the bottom without the banner.
  if [ "$banner_expected" = 1 ]; then
    [ "$r" -gt 120 ] && [ "$g" -lt 80 ] || fail "no banner at the bottom: RGB $r $g $b"
  else
    [ "$r" -lt 60 ] || fail "banner drawn with real weights: RGB $r $g $b"
  fi
  ;;
demo_fmnist)
  # The offline demo on 30 Fashion-MNIST test images with the default model: the printed
  # accuracy line, and that it is the accuracy of out/demo.jsonl against the IDX labels
  # (recomputed here independently of ens-jsonl-score).
  fm=${ENS_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
  model_file=$src/engine/data/models/fashion_mnist/model.safetensors
  if [ -z "${ENS_DEFAULT_MODEL:-}" ] && [ ! -f "$model_file" ]; then
    echo "SKIP: no default model: $model_file is not in the tree (nor ENS_DEFAULT_MODEL set)"
    exit 77
  fi
  if [ ! -f "$fm/t10k-labels-idx1-ubyte.gz" ]; then
    [ "${CI:-}" = true ] && fail "$fm missing; CI installs dataset-fashion-mnist"
    echo "SKIP: Debian dataset-fashion-mnist not installed"
    exit 77
  fi
  export ENS_OUT_DIR=$work/out ENS_DEMO_IMAGES=30 ENS_DEMO_FIRST=100 ENS_FRAMES_PER_IMAGE=2
  timeout 300 "$src/pipelines/demo.sh" | tee "$work/demo.log"
  line=$(grep '^demo: ' "$work/demo.log") || fail "no 'demo: ' line"
  re='^demo: 30 Fashion-MNIST test images, top-1 ([0-9]+\.[0-9]) % \(([0-9]+)/30\) — .*/demo\.mp4, .*/demo\.jsonl$'
  [[ $line =~ $re ]] || fail "accuracy line format: $line"
  printed="${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
  recomputed=$(
    /usr/bin/python3 - "$work/out/demo.jsonl" "$fm/t10k-labels-idx1-ubyte.gz" <<'EOF'
import gzip, json, sys
labels = gzip.open(sys.argv[2]).read()[8:]
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 60, f"{len(lines)} JSON lines, want 60"
right = 0
for i in range(30):
    l = lines[2 * i]
    assert l["frame"] == 2 * i and l["fresh"], l
    right += l["results"][0]["classes"][0]["id"] == labels[100 + i]
print(f"{100 * right / 30:.1f} {right}")
EOF
  )
  [ "$printed" = "$recomputed" ] || fail "printed '$printed', recomputed '$recomputed' from demo.jsonl"
  # The network must see what `ens-train eval` feeds it (28x28 padded to 32, the model's
  # mean/std): eval of the same 30 images agrees within one image (two forward implementations
  # may split a near tie differently).
  model_dir=${ENS_DEFAULT_MODEL:-$src/engine/data/models/fashion_mnist}
  /usr/bin/python3 - "$fm" "$work" <<'EOF'
import gzip, struct, sys
fm, work = sys.argv[1], sys.argv[2]
im = gzip.open(fm + "/t10k-images-idx3-ubyte.gz").read()[16 + 100 * 784:16 + 130 * 784]
lb = gzip.open(fm + "/t10k-labels-idx1-ubyte.gz").read()[8 + 100:8 + 130]
open(work + "/sub-images.idx", "wb").write(struct.pack(">IIII", 0x803, 30, 28, 28) + im)
open(work + "/sub-labels.idx", "wb").write(struct.pack(">II", 0x801, 30) + lb)
EOF
  "$build/engine/cli/ens-train" eval --model "$model_dir" --data "$work/sub-images.idx" \
    --labels "$work/sub-labels.idx" --threads 2 >"$work/eval.txt"
  eval_right=$(sed -n 's/.*top-1 \([0-9.]*\) %.*/\1/p' "$work/eval.txt" | head -n 1 |
    awk '{printf "%d", $1 * 30 / 100 + 0.5}')
  pipe_right=${printed#* }
  diff=$((eval_right - pipe_right))
  [ "${diff#-}" -le 1 ] || fail "ens-train eval: $eval_right/30 right, the pipeline $pipe_right/30"
  echo "ok: ens-train eval $eval_right/30, pipeline $pipe_right/30"
  "${check[@]}" "$work/out/demo.jsonl" --frames 60 --size 28x28 --sync 2 --top-k 3 --model-lacks random
  n=$(mp4_frames "$work/out/demo.mp4")
  [ "$n" = 60 ] || fail "demo.mp4 has $n frames, want 60"
  ;;
rtsp)
  server=$build/pipelines/ens-rtsp-server
  [ -x "$server" ] || fail "ens-rtsp-server was not built"
  # Created here, not by the background job's redirection, which may come after the first awk.
  : >"$work/server.out"
  "$server" --port 0 --interval 2 >>"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true' EXIT
  url=""
  for _ in $(seq 300); do # the start-up check runs the media up to its first frame first
    url=$(awk '/^ready /{print $2}' "$work/server.out")
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err" >&2; fail "server exited"; }
    sleep 0.1
  done
  [ -n "$url" ] || fail "server not ready after 30 s"
  case $url in rtsp://127.0.0.1:*) ;; *) fail "server bound to $url, want 127.0.0.1" ;; esac
  ENS_TIMEOUT=90 ENS_MODE=async "$src/pipelines/rtsp_to_json.sh" "$url" "$work/rtsp.jsonl" 40
  "${check[@]}" "$work/rtsp.jsonl" --frames 40 --size 640x480 --async --top-k 5 --model-has random
  kill "$server_pid"
  wait "$server_pid" || fail "server exited with status $? on SIGTERM"
  trap - EXIT
  ;;
rtsp_errors)
  server=$build/pipelines/ens-rtsp-server
  [ -x "$server" ] || fail "ens-rtsp-server was not built"
  # args | text the one error line must contain
  check_refused() {
    local want=$1
    shift
    local rc=0
    timeout --kill-after=5 90 "$server" --port 0 --check-timeout 20 "$@" \
      >"$work/out.txt" 2>"$work/err.txt" || rc=$?
    [ "$rc" = 1 ] || { cat "$work/err.txt" >&2; fail "$* exited $rc, want 1"; }
    ! grep -q '^ready' "$work/out.txt" || fail "$*: printed ready"
    grep -q -- "$want" "$work/err.txt" || { cat "$work/err.txt" >&2; fail "$*: no '$want'"; }
    echo "ok: $* -> $(tail -n 1 "$work/err.txt")"
  }
  check_refused "cannot open model '/nonexistent'" --model /nonexistent
  check_refused 'no element "nosuchsrc"' --source nosuchsrc
  check_refused "could not link" --source "videotestsrc ! audio/x-raw"
  check_refused "the source ended before the first frame" --source "videotestsrc num-buffers=0"
  # an error in a client's media later on is logged (the start-up check sees only frame 1)
  : >"$work/server.out"
  "$server" --port 0 --source "videotestsrc is-live=true ! video/x-raw,width=320,height=240,\
framerate=30/1 ! identity error-after=20" >>"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true' EXIT
  url=""
  for _ in $(seq 300); do
    url=$(awk '/^ready /{print $2}' "$work/server.out")
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { cat "$work/server.err" >&2; fail "server not ready after 30 s"; }
  timeout --kill-after=5 30 gst-launch-1.0 -q rtspsrc location="$url" ! fakesink \
    >/dev/null 2>&1 || true
  for _ in $(seq 50); do
    grep -q "media error on /ens: identity" "$work/server.err" && break
    sleep 0.2
  done
  grep -q "media error on /ens: identity" "$work/server.err" ||
    { cat "$work/server.err" >&2; fail "the client's media error was not logged"; }
  echo "ok: $(grep -m1 'media error' "$work/server.err")"
  kill "$server_pid"
  wait "$server_pid" || fail "server exited with status $? on SIGTERM"
  trap - EXIT
  ;;
bench_smoke)
  for mode in async sync; do
    timeout 60 "$build/pipelines/ens-bench-stream" --mode "$mode" --seconds 2 --warmup 1 \
      --width 320 --height 240 --fps 30 | tee "$work/$mode.txt"
    line=$(grep '^RESULT ' "$work/$mode.txt") || fail "$mode: no RESULT line"
    frames=$(sed -n 's/.* frames=\([0-9]*\).*/\1/p' <<<"$line")
    [ "${frames:-0}" -ge 10 ] || fail "$mode: only ${frames:-0} frames measured"
  done
  ;;
*)
  fail "unknown case"
  ;;
esac
echo "PASS ($case_name)"
