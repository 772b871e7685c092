#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# test_train_peer_torch.py - the PyTorch training peer (engine/bench/train_peer_torch.py) is
# timm's network: with the synthetic weights it reproduces the timm training golden (loss,
# logits, gradients, BN statistics; for nano also the two-step RMSpropTF loop), and its bench
# mode prints the JSON line the benchmark reads.
# usage: test_train_peer_torch.py <peer script> <scratch dir> <nano|b0>
# Exit 77 (skip) when ../shared or torch is missing (fails under CI=true if shared is missing).
import json
import os
import subprocess
import sys

PY = "/usr/bin/python3"


def skip(msg):
    print("SKIP:", msg)
    sys.exit(77)


def main():
    peer, scratch, variant = sys.argv[1], sys.argv[2], sys.argv[3]
    shared = os.environ.get("ENS_SHARED_DIR", "")
    if not os.path.isdir(shared):
        if os.environ.get("CI") == "true":
            print("FAIL: %s not found; CI must provide ../shared" % shared)
            return 1
        skip("%s not found: training goldens absent" % shared)
    if subprocess.run([PY, "-c", "import torch, numpy"], capture_output=True).returncode:
        skip("%s has no torch / numpy" % PY)
    os.makedirs(scratch, exist_ok=True)
    weights = os.path.join(scratch, "%s.safetensors" % variant)
    subprocess.run([PY, os.path.join(shared, "tools", "ens_synth_weights.py"), "--variant",
                    variant, "--out", weights], check=True)
    golden = os.path.join(shared, "goldens", "train", "%s_train_step.safetensors" % variant)
    cmd = [PY, peer, "check", "--variant", variant, "--weights", weights, "--golden", golden,
           "--threads", "1"]
    if variant == "nano":
        cmd += ["--rmsprop-golden",
                os.path.join(shared, "goldens", "train", "nano_rmsprop_steps.safetensors")]
    rc = subprocess.run(cmd).returncode
    if rc != 0:
        print("FAIL: %s check against %s" % (variant, golden))
        return 1
    os.remove(weights)
    if variant != "nano":
        return 0
    # bench mode: one short step, the JSON contract
    out = subprocess.run([PY, peer, "bench", "--variant", "nano", "--batch", "4", "--input-size",
                          "32", "--threads", "1", "--steps", "1", "--warmup", "1"],
                         check=True, capture_output=True, text=True).stdout
    line = json.loads(out.strip().splitlines()[-1])
    for key in ("ms_per_step", "ms_per_image", "images_per_s", "peak_rss_mb"):
        if not (isinstance(line.get(key), (int, float)) and line[key] > 0):
            print("FAIL: bench JSON has no positive %s: %s" % (key, line))
            return 1
    print("bench:", json.dumps(line))
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
