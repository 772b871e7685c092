#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ens-bench's command-line contract: exit 2 on usage errors, 1 on a bad model, and a tiny
--json run prints one JSON object with the documented keys and self-consistent values.

usage: test_ens_bench.py ENS_BENCH TMPDIR"""
import json
import math
import os
import subprocess
import sys

KEYS = {"variant", "batch", "threads", "input", "runs", "median_ms", "p90_ms", "min_ms",
        "ms_per_image", "images_per_s", "peak_rss_mb", "weight_mb", "gflop_per_image",
        "gflops", "peak_gflops", "pct_fma_peak"}


def run(args):
    p = subprocess.run([BENCH] + args, capture_output=True, text=True, timeout=240)
    return p.returncode, p.stdout, p.stderr


def expect(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    print("ok:", what)


BENCH, tmp = sys.argv[1], sys.argv[2]
os.makedirs(tmp, exist_ok=True)

for args in ([], ["--variant", "b0"], ["--variant", "b0", "--random-weights", "--batch", "0"],
             ["--variant", "b0", "--random-weights", "--threads", "x"],
             ["--variant", "b0", "--random-weights", "--bogus"],
             ["--model", "a.safetensors", "--variant", "b0", "--random-weights"],
             ["--variant", "b99", "--random-weights"],
             ["--variant", "b0", "--random-weights", "--precision", "f64"]):
    rc, out, err = run(args)
    expect(rc == 2 and "usage" in err and err.count("\n") == 1,
           "usage error %s -> exit %d, one line: %s" % (args, rc, err.strip()))
rc, out, err = run(["--variant", "b0", "--random-weights", "--batch", "100000"])
expect(rc == 2 and "at most 4096" in err and err.count("\n") == 1,
       "--batch 100000 names the limit: %s" % err.strip())

bad = os.path.join(tmp, "bad.safetensors")
with open(bad, "wb") as f:
    f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
for args in (["--model", os.path.join(tmp, "missing.safetensors")], ["--model", bad]):
    rc, out, err = run(args)
    expect(rc == 1 and err.startswith("ens-bench: "), "model error %s -> exit %d: %s"
           % (args, rc, err.strip()))

rc, out, err = run(["--variant", "b0", "--random-weights", "--runs", "2", "--warmup", "1",
                    "--batch", "2", "--threads", "2", "--input-size", "96x128",
                    "--peak-gflops", "100", "--json", "--times"])
expect(rc == 0, "tiny run exits 0 (%s)" % err.strip())
lines = out.strip().splitlines()
expect(len(lines) == 1, "one output line")
r = json.loads(lines[0])
expect(KEYS <= set(r), "documented keys present, missing %s" % (KEYS - set(r)))
expect(r["variant"] == "b0" and r["batch"] == 2 and r["threads"] == 2 and r["runs"] == 2 and
       r["input"] == "96x128", "echoes the options")
expect(0 < r["min_ms"] <= r["median_ms"] <= r["p90_ms"], "min <= median <= p90")
expect(len(r["times_ms"]) == 2 and min(r["times_ms"]) == r["min_ms"], "times_ms")
expect(math.isclose(r["ms_per_image"], r["median_ms"] / 2, rel_tol=1e-3), "ms per image")
expect(math.isclose(r["images_per_s"], 1000 / r["ms_per_image"], rel_tol=1e-3), "images/s")
# b0 at 96x128 is about 0.77 GFLOP x (96 * 128) / 224^2
expect(0.15 < r["gflop_per_image"] < 0.25, "gflop_per_image %g" % r["gflop_per_image"])
expect(math.isclose(r["gflops"], r["gflop_per_image"] * r["images_per_s"], rel_tol=1e-2),
       "gflops = gflop_per_image x images/s")
expect(r["peak_gflops"] == 100 and
       math.isclose(r["pct_fma_peak"], r["gflops"], rel_tol=1e-2, abs_tol=0.01),
       "pct_fma_peak against --peak-gflops 100")
expect(5 < r["peak_rss_mb"] < 1000, "peak RSS %g MiB" % r["peak_rss_mb"])

rc, out, err = run(["--variant", "b0", "--random-weights", "--runs", "1", "--warmup", "0",
                    "--input-size", "64", "--logits-out", os.path.join(tmp, "no-dir", "x.f32")])
expect(rc == 1, "unwritable --logits-out -> exit 1")
print("all ok")
