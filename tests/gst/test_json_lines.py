#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ensjson output of a real gst-launch-1.0 pipeline parses as JSON Lines with the documented
schema: every line a JSON object with the expected fields and types, fresh exactly on inferred
frames (inference-interval), source_pts of the inferring frame, running_time from the segment,
labels round-tripping through escaping, and with two chained ensclassify elements (b0 then b1)
two results per frame, each naming its model. Exit 77 (skip) if gst-launch-1.0 is missing."""
import json
import os
import shutil
import subprocess
import sys
import tempfile


def main():
    launch = shutil.which("gst-launch-1.0")
    if not launch:
        print("SKIP: gst-launch-1.0 not found")
        return 77
    tmp = tempfile.mkdtemp(prefix="ens-json-")
    labels = [f'c{i} "q" \\ tab\there café' for i in range(1000)]
    labels_path = os.path.join(tmp, "labels.txt")
    with open(labels_path, "w", encoding="utf-8") as f:
        f.write("\n".join(labels) + "\n")
    out = os.path.join(tmp, "out.jsonl")
    frames, interval = 10, 3
    cmd = [launch, "-q", "videotestsrc", f"num-buffers={frames}", "pattern=ball", "!",
           "video/x-raw,format=NV12,width=97,height=61,framerate=25/1", "!",
           "ensclassify", "model=random:b0", "input-size=64", "threads=1", "mode=sync",
           f"inference-interval={interval}", f"labels={labels_path}", "top-k=3", "!",
           "ensclassify", "model=random:b1", "input-size=64", "threads=1", "mode=sync",
           f"inference-interval={interval}", f"labels={labels_path}", "top-k=3", "!",
           "ensjson", f"location={out}", "!", "fakesink"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    if r.returncode != 0:
        print("gst-launch failed:", r.returncode, r.stderr)
        return 1
    with open(out, encoding="utf-8") as f:
        text = f.read()
    assert text.endswith("\n"), "output does not end with a newline"
    lines = text.splitlines()
    assert len(lines) == frames, f"{len(lines)} lines for {frames} frames"
    keys = ["pts", "running_time", "frame", "width", "height", "fresh", "source_pts", "source_frame", "model",
            "results"]
    frame_ns = 1_000_000_000 // 25
    for i, line in enumerate(lines):
        obj = json.loads(line)
        assert list(obj.keys()) == keys, obj.keys()
        assert obj["frame"] == i
        assert obj["width"] == 97 and obj["height"] == 61
        assert abs(obj["pts"] - i * frame_ns) <= 1, obj["pts"]
        assert obj["running_time"] == obj["pts"], obj  # videotestsrc's segment starts at 0
        src = i - i % interval
        assert obj["fresh"] is (i % interval == 0), (i, obj["fresh"])
        assert obj["source_frame"] == src
        assert abs(obj["source_pts"] - src * frame_ns) <= 1
        models = [r.get("model") for r in obj["results"]]
        assert models == ["tf_efficientnet_b0 (random weights)",
                          "tf_efficientnet_b1 (random weights)"], models
        assert obj["model"] == models[0]
        for res in obj["results"]:
            assert list(res.keys()) == ["model", "classes"], res.keys()
            classes = res["classes"]
            assert len(classes) == 3
            scores = [c["score"] for c in classes]
            assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
            for c in classes:
                assert c["label"] == labels[c["id"]], (c, labels[c["id"]])
    print(f"{frames} JSON lines OK; first: {lines[0][:160]}")
    shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
