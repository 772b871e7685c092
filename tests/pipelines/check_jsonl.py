#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks an ensjson JSON Lines file written by a pipeline test.

Every line must be a JSON object with the ensjson keys; frames count up from 0, pts increase.
  --frames N        exactly N lines
  --min-frames N    at least N lines
  --size WxH        every line's width/height
  --sync K          sync mode with inference-interval K: fresh iff frame % K == 0, the result of
                    a skipped frame is the one of frame - frame % K (same classes), every frame
                    has one full-frame result
  --async           async mode: results (once they start) come from earlier-or-same frames,
                    source_frame never goes back, and at least half of the lines have results
  --top-k K         each result has K classes (scores descending, in [0, 1], labels set)
  --model-has S / --model-lacks S   substring of the model name (lines with results)
Always: each result names its model (the first one's is the top-level model); running_time is
null or a non-negative integer that increases with pts.
Prints a one-line summary; exits 1 with the reason on the first failure.
"""
import argparse
import json
import sys

KEYS = {"pts", "running_time", "frame", "width", "height", "fresh", "source_pts", "source_frame", "model", "results"}


def fail(msg):
    print("check_jsonl: FAIL: " + msg)
    sys.exit(1)


def check_classes(where, res, top_k):
    classes = res.get("classes")
    if not isinstance(classes, list) or not classes:
        fail(f"{where}: no classes")
    if top_k is not None and len(classes) != top_k:
        fail(f"{where}: {len(classes)} classes, want {top_k}")
    prev = 2.0
    for c in classes:
        if not isinstance(c.get("id"), int) or c["id"] < 0:
            fail(f"{where}: bad class id {c.get('id')!r}")
        if not isinstance(c.get("label"), str) or not c["label"]:
            fail(f"{where}: bad label {c.get('label')!r}")
        s = c.get("score")
        if not isinstance(s, (int, float)) or not (0.0 <= s <= 1.0) or s > prev:
            fail(f"{where}: score {s!r} not in [0,1] or not descending")
        prev = s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--frames", type=int)
    ap.add_argument("--min-frames", type=int)
    ap.add_argument("--size")
    ap.add_argument("--sync", type=int, metavar="K")
    ap.add_argument("--async", dest="is_async", action="store_true")
    ap.add_argument("--top-k", type=int)
    ap.add_argument("--model-has")
    ap.add_argument("--model-lacks")
    a = ap.parse_args()

    with open(a.path, encoding="utf-8") as f:
        raw = f.read()
    if raw and not raw.endswith("\n"):
        fail("last line is not terminated")
    lines = raw.splitlines()
    if a.frames is not None and len(lines) != a.frames:
        fail(f"{len(lines)} lines, want {a.frames}")
    if a.min_frames is not None and len(lines) < a.min_frames:
        fail(f"{len(lines)} lines, want at least {a.min_frames}")

    objs = []
    for i, line in enumerate(lines):
        try:
            o = json.loads(line)
        except json.JSONDecodeError as e:
            fail(f"line {i + 1} is not JSON: {e}")
        if not isinstance(o, dict) or not KEYS <= o.keys():
            fail(f"line {i + 1}: missing keys {sorted(KEYS - set(o))}")
        if o["frame"] != i:
            fail(f"line {i + 1}: frame {o['frame']}, want {i}")
        if i > 0 and not o["pts"] > objs[-1]["pts"]:
            fail(f"line {i + 1}: pts {o['pts']} does not increase")
        if a.size and f"{o['width']}x{o['height']}" != a.size:
            fail(f"line {i + 1}: size {o['width']}x{o['height']}, want {a.size}")
        rt = o["running_time"]
        if rt is not None and (not isinstance(rt, int) or rt < 0):
            fail(f"line {i + 1}: bad running_time {rt!r}")
        if i > 0 and rt is not None and objs[-1]["running_time"] is not None \
                and not rt > objs[-1]["running_time"]:
            fail(f"line {i + 1}: running_time {rt} does not increase")
        for r in o["results"]:
            if not isinstance(r.get("model"), str) or not r["model"]:
                fail(f"line {i + 1}: result without model: {r}")
            check_classes(f"line {i + 1}", r, a.top_k)
        if o["results"] and o["results"][0]["model"] != o["model"]:
            fail(f"line {i + 1}: top-level model {o['model']!r} is not the first result's")
        if o["results"]:
            if a.model_has and a.model_has not in (o["model"] or ""):
                fail(f"line {i + 1}: model {o['model']!r} lacks {a.model_has!r}")
            if a.model_lacks and a.model_lacks in (o["model"] or ""):
                fail(f"line {i + 1}: model {o['model']!r} has {a.model_lacks!r}")
        objs.append(o)

    with_results = sum(1 for o in objs if o["results"])
    fresh = sum(1 for o in objs if o["fresh"])
    if a.sync:
        k = a.sync
        for o in objs:
            n = o["frame"]
            src = n - n % k
            if o["fresh"] != (n % k == 0):
                fail(f"frame {n}: fresh={o['fresh']} with inference-interval {k}")
            if o["source_frame"] != src:
                fail(f"frame {n}: source_frame {o['source_frame']}, want {src}")
            if len(o["results"]) != 1:
                fail(f"frame {n}: {len(o['results'])} results, want 1")
            if o["source_pts"] != objs[src]["pts"]:
                fail(f"frame {n}: source_pts {o['source_pts']}, want {objs[src]['pts']}")
            if o["results"] != objs[src]["results"]:
                fail(f"frame {n}: result differs from that of its source frame {src}")
    if a.is_async:
        started = False
        last_src = -1
        for o in objs:
            if o["results"]:
                started = True
                if o["source_frame"] is None or o["source_frame"] > o["frame"]:
                    fail(f"frame {o['frame']}: source_frame {o['source_frame']} is in the future")
                if o["source_frame"] < last_src:
                    fail(f"frame {o['frame']}: source_frame went back to {o['source_frame']}")
                last_src = o["source_frame"]
            elif started:
                fail(f"frame {o['frame']}: no result after results had started")
        if with_results * 2 < len(objs):
            fail(f"only {with_results} of {len(objs)} frames have a result")
    print(f"check_jsonl: OK: {len(objs)} lines, {with_results} with results, {fresh} fresh")


if __name__ == "__main__":
    main()
