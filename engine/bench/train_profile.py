#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# train_profile.py - where an ens training step spends its time, per op, from `perf record`
# (software cpu-clock event: works on VMs without hardware counters; nothing in the engine).
#
#   engine/bench/train_profile.py ENS_TRAIN [ens-train bench options...]
#   e.g. train_profile.py build/engine/cli/ens-train --arch nano --batch 128 --input-size 32 \
#            --threads 1 --steps 20 --warmup 1
#
# Runs `ens-train bench` under perf with DWARF call graphs and files every sample of the
# calling thread by phase (forward, backward, optimizer; graph setup is left out) and by the op
# function on its stack (conv1x1_forward, dwconv_backward, ...); the 1x1 convolution's
# backward is split into its two GEMMs by OpenBLAS driver (sgemm_nt: weight gradient, sgemm_nn:
# input gradient). Samples of pool worker threads carry no op frame (the work was handed to
# them); with --threads > 1 they are filed by their leaf function instead, so profile on 1
# thread for the per-op table and on 2 for the cost of the split (idle / sync time).
import collections
import os
import subprocess
import sys
import tempfile

OPS = ["conv1x1_forward", "conv1x1_backward", "stem_forward", "stem_backward", "dwconv_forward",
       "dwconv_backward", "batchnorm_train_forward", "batchnorm_backward", "silu_forward",
       "silu_backward", "se_forward", "se_backward", "residual_forward",
       "residual_backward_branch", "avgpool_forward", "avgpool_backward", "linear_forward",
       "linear_backward", "softmax_xent_forward_backward", "input_to_nhwc", "dropout_forward",
       "dropout_backward"]
PHASES = ["ens_tg_forward", "ens_tg_backward", "ens_optim_step"]


def classify(frames):
    """frames innermost first -> (phase, op) or None for setup / other code."""
    names = [f for f in frames if f]
    phase = next((p for p in PHASES if p in names), None)
    if phase is None and "ens_rmsprop_tf_update" in names:
        phase = "ens_optim_step"  # ens_optim_step tail-calls the pool: not on the stack
    op = next((f for f in names if f in OPS), None)
    if op == "conv1x1_backward":
        # row-major cblas calls reach the column-major driver with A and B swapped: the
        # weight gradient dy^T.x runs as sgemm_nt, the input gradient dy.w as sgemm_nn
        if "sgemm_nt" in names:
            op += " (weight grad GEMM)"
        elif "sgemm_nn" in names:
            op += " (input grad GEMM)"
    if phase is None:
        return None
    if op is None:
        op = "(%s: %s)" % ("optimizer" if phase == "ens_optim_step" else "other", names[0])
    return phase, op


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: train_profile.py ENS_TRAIN [ens-train bench options]")
    exe, opts = sys.argv[1], sys.argv[2:]
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "perf.data")
        r = subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "2000",
                            "--call-graph", "dwarf,16384", "-o", data, "--", exe, "bench"] + opts)
        if r.returncode:
            sys.exit("train_profile: perf record failed (exit %d)" % r.returncode)
        out = subprocess.run(["perf", "script", "-i", data, "-F", "tid,ip,sym"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    samples = []  # (tid, frames innermost first)
    for block in out.split("\n\n"):
        lines = [ln.strip() for ln in block.strip().splitlines()]
        if not lines:
            continue
        tid = lines[0].split()[0]
        frames = [ln.split(None, 1)[1] if len(ln.split(None, 1)) > 1 else "" for ln in lines[1:]]
        samples.append((tid, frames))
    if not samples:
        sys.exit("train_profile: no samples")
    main_tid = collections.Counter(t for t, f in samples if "ens_train_cmd_bench" in f)
    main_tid = main_tid.most_common(1)[0][0] if main_tid else samples[0][0]
    by_op = collections.Counter()
    by_phase = collections.Counter()
    workers = collections.Counter()
    for tid, frames in samples:
        if tid != main_tid:
            workers[frames[0] if frames else "?"] += 1
            continue
        c = classify(frames)
        if c:
            by_phase[c[0]] += 1
            by_op[c] += 1
    step = sum(by_phase.values())
    if not step:
        sys.exit("train_profile: no samples inside the train step")
    print("calling thread: %d samples in train steps (%.0f%% forward, %.0f%% backward, %.0f%% "
          "optimizer)" % (step, 100 * by_phase["ens_tg_forward"] / step,
                          100 * by_phase["ens_tg_backward"] / step,
                          100 * by_phase["ens_optim_step"] / step))
    print("%-48s %7s" % ("phase / op", "% step"))
    for (phase, op), n in by_op.most_common():
        if 100 * n / step >= 0.3:
            print("%-48s %6.1f%%" % (phase.replace("ens_tg_", "").replace("ens_", "") + " / " + op,
                                     100 * n / step))
    if workers:
        tot = sum(workers.values())
        print("\npool worker threads: %d samples (%.2f x the calling thread's step samples); "
              "leaf functions:" % (tot, tot / step))
        for leaf, n in workers.most_common(12):
            print("  %-46s %6.1f%%" % (leaf, 100 * n / tot))


if __name__ == "__main__":
    main()
