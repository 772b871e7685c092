#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""`ens-train bench`'s command-line contract: exit 2 on usage errors, 0 for --help, and a tiny
--json run prints ONE JSON line with the documented keys and self-consistent values.

usage: test_train_bench.py ENS_TRAIN"""
import json
import math
import subprocess
import sys

KEYS = {"ms_per_step", "ms_per_image", "images_per_s", "peak_rss_mb", "cpu_ms_per_image",
        "cpu_ms_per_step", "width", "depth", "classes", "batch", "input_size", "threads",
        "steps", "warmup", "fwd_gflop_per_image", "train_gflop_per_image", "gflops",
        "arena_mb", "loss_first", "loss_last"}


def run(args):
    p = subprocess.run([TRAIN, "bench"] + args, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def expect(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    print("ok:", what)


TRAIN = sys.argv[1]
TINY = ["--batch", "2", "--input-size", "32", "--threads", "1", "--steps", "2", "--warmup", "1"]

for args in ([], ["--width", "0.5"], ["--depth", "0.5"], ["--arch", "nano", "--width", "1"],
             ["--arch", "b99"], ["--arch", "nano", "--batch", "0"],
             ["--arch", "nano", "--batch", "x"], ["--arch", "nano", "--threads", "0"],
             ["--arch", "nano", "--input-size", "4"], ["--arch", "nano", "--steps", "0"],
             ["--arch", "nano", "--warmup", "-1"], ["--arch", "nano", "--classes", "0"],
             ["--width", "0", "--depth", "1"], ["--width", "9", "--depth", "1"],
             ["--width", "1e", "--depth", "1"], ["--arch", "nano", "--bogus"],
             ["--arch", "nano", "stray"], ["--arch"]):
    rc, out, err = run(args)
    expect(rc == 2 and err.startswith("ens-train bench: ") and not out,
           "usage error %s -> exit %d: %s" % (args, rc, err.strip().splitlines()[0] if err else ""))

rc, out, err = run(["--help"])
expect(rc == 0 and out.startswith("usage: ens-train bench"), "--help -> exit 0")

rc, out, err = run(["--arch", "nano", "--json"] + TINY)
expect(rc == 0, "tiny nano run exits 0 (%s)" % err.strip())
lines = out.strip().splitlines()
expect(len(lines) == 1, "one output line")
r = json.loads(lines[0])
expect(KEYS <= set(r), "documented keys present, missing %s" % (KEYS - set(r)))
expect(r["width"] == 0.5 and r["depth"] == 0.5 and r["classes"] == 10 and r["batch"] == 2 and
       r["input_size"] == 32 and r["threads"] == 1 and r["steps"] == 2 and r["warmup"] == 1,
       "echoes the shape and options")
expect(r["ms_per_step"] > 0 and r["cpu_ms_per_step"] > 0, "positive times")
expect(math.isclose(r["ms_per_image"], r["ms_per_step"] / 2, rel_tol=2e-3), "ms per image")
expect(math.isclose(r["images_per_s"], 1000 / r["ms_per_image"], rel_tol=2e-3), "images/s")
expect(math.isclose(r["cpu_ms_per_image"], r["cpu_ms_per_step"] / 2, rel_tol=2e-3),
       "cpu ms per image")
# nano (w0.5 d0.5, 10 classes) at 32x32: 3.17 MFLOP forward by the documented formula (the
# same sum over train_peer_torch.py's block table); the step counts 3 x forward
expect(math.isclose(r["fwd_gflop_per_image"], 0.003174, rel_tol=1e-3),
       "forward GFLOP %g" % r["fwd_gflop_per_image"])
expect(math.isclose(r["train_gflop_per_image"], 3 * r["fwd_gflop_per_image"], rel_tol=1e-3),
       "train step = 3 x forward FLOPs")
expect(math.isclose(r["gflops"], r["train_gflop_per_image"] * r["images_per_s"], rel_tol=2e-2),
       "gflops = train GFLOP/image x images/s")
expect(3 < r["peak_rss_mb"] < 2000, "peak RSS %g MiB" % r["peak_rss_mb"])
expect(r["arena_mb"] > 0 and r["arena_mb"] < r["peak_rss_mb"], "arena inside peak RSS")
# smoothed CE of random init over 10 classes starts near ln 10; the steps keep it finite
expect(1.0 < r["loss_first"] < 5.0 and math.isfinite(r["loss_last"]),
       "losses %g -> %g" % (r["loss_first"], r["loss_last"]))

# --width/--depth names the same network as --arch nano; the human line without --json
rc, out, err = run(["--width", "0.5", "--depth", "0.5", "--classes", "3"] + TINY)
expect(rc == 0 and out.startswith("ens-train bench: w0.5 d0.5, 3 classes, batch 2 @ 32x32, "
                                  "1 thread:") and "ms/step" in out, "human line: %s" % out.strip())
print("all ok")
