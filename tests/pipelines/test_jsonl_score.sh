#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# test_jsonl_score.sh BUILD_ROOT - ens-jsonl-score on hand-made JSON Lines (the demo's scorer):
# the right count, the image <-> frame mapping, and refusals of incomplete or stale results;
# ens-fmnist-clip on a hand-made IDX pair (frames, repeats and labels byte for byte).
set -euo pipefail
build=${1:?build root}
score=$build/pipelines/ens-jsonl-score
clip=$build/pipelines/ens-fmnist-clip
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# frame F with fresh flag and top-1 id (a second class after it, never scored)
line() {
  printf '{"pts":%d,"running_time":null,"frame":%d,"width":28,"height":28,"fresh":%s,' "$1" "$1" "$2"
  printf '"source_pts":0,"source_frame":%d,"model":"m","results":[{"model":"m","classes":' "$1"
  printf '[{"id":%d,"label":"a","score":0.9},{"id":7,"label":"b","score":0.1}]}]}\n' "$3"
}
printf '3\n1\n4\n' >"$work/labels.txt"
# 2 frames per image: frames 0, 2, 4 are scored (3 right, 1 wrong at image 1, 4 right);
# the odd frames repeat a stale result with another id that must be ignored
{
  line 0 true 3
  line 1 false 9
  line 2 true 5
  line 3 false 1
  line 4 true 4
  line 5 false 9
} >"$work/r.jsonl"
out=$("$score" --labels "$work/labels.txt" --frames-per-image 2 "$work/r.jsonl")
[ "$out" = "top-1 66.7 % (2/3)" ] || fail "got '$out', want 'top-1 66.7 % (2/3)'"
echo "ok: $out"
# every frame scored (F = 1): ids 3, 9, 5 against 3, 1, 4 -> 1/3
{ line 0 true 3; line 1 true 9; line 2 true 5; } >"$work/r3.jsonl"
out=$("$score" --labels "$work/labels.txt" "$work/r3.jsonl")
[ "$out" = "top-1 33.3 % (1/3)" ] || fail "F=1: got '$out'"
echo "ok: F=1 $out"

refused() { # what, then the command; must exit 1 with one line on stderr
  local what=$1 rc=0
  shift
  "$@" >/dev/null 2>"$work/err" || rc=$?
  [ "$rc" = 1 ] || fail "$what: exit $rc, want 1"
  [ "$(wc -l <"$work/err")" = 1 ] || fail "$what: stderr not one line: $(cat "$work/err")"
  echo "ok: $what -> $(cat "$work/err")"
}
head -n 4 "$work/r.jsonl" >"$work/short.jsonl"
refused "an image without results" "$score" --labels "$work/labels.txt" --frames-per-image 2 "$work/short.jsonl"
{ line 0 true 3; line 2 false 5; line 4 true 4; } >"$work/stale.jsonl"
refused "a stale first frame" "$score" --labels "$work/labels.txt" --frames-per-image 2 "$work/stale.jsonl"
{ line 0 true 3; echo '{"frame":2,'; } >"$work/bad.jsonl"
refused "invalid JSON" "$score" --labels "$work/labels.txt" --frames-per-image 2 "$work/bad.jsonl"
printf 'x\n' >"$work/badlabels.txt"
refused "labels not integers" "$score" --labels "$work/badlabels.txt" "$work/r.jsonl"

# ens-fmnist-clip: 3 images of 2x2 (values 10*i + p), labels 7 8 9; images 1..2, 3 frames each
printf '\0\0\x08\x03\0\0\0\x03\0\0\0\x02\0\0\0\x02\x00\x01\x02\x03\x0a\x0b\x0c\x0d\x14\x15\x16\x17' \
  >"$work/im.idx"
printf '\0\0\x08\x01\0\0\0\x03\x07\x08\x09' >"$work/lab.idx"
out=$("$clip" --images "$work/im.idx" --labels "$work/lab.idx" --first 1 --count 2 \
  --frames-per-image 3 --out "$work/clip.rgb" --labels-out "$work/clip.txt")
[ "$out" = "2x2 2" ] || fail "ens-fmnist-clip printed '$out', want '2x2 2'"
[ "$(tr '\n' ' ' <"$work/clip.txt")" = "8 9 " ] || fail "labels $(cat "$work/clip.txt")"
want=""
for img in 10 20; do
  frame=""
  for p in 0 1 2 3; do frame+=$(printf '%02x%02x%02x' $((img + p)) $((img + p)) $((img + p))); done
  want+=$frame$frame$frame
done
got=$(od -An -v -tx1 "$work/clip.rgb" | tr -d ' \n')
[ "$got" = "$want" ] || fail "clip bytes $got, want $want"
echo "ok: ens-fmnist-clip: 2 images x 3 frames, gray copied to RGB, labels 8 9"
rc=0
"$clip" --images "$work/im.idx" --labels "$work/lab.idx" --first 2 --count 2 \
  --out "$work/c2.rgb" --labels-out "$work/c2.txt" >/dev/null 2>"$work/err" || rc=$?
[ "$rc" = 1 ] && grep -q "has 3 images" "$work/err" || fail "out-of-range images not refused"
echo "ok: out of range -> $(cat "$work/err")"
echo PASS
