#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# train_peer_bench.py - ens vs PyTorch 1.13 on full training steps, interleaved, same network,
# batch, input size, threads and optimizer. Run through train_peer_bench.sh, which builds the
# tools and writes the synthetic nano weights.
#
# 1. Same computation: both sides run one train step of the synthetic nano on the input of
#    goldens/train/nano_train_step.safetensors (timm's numbers): torch through
#    train_peer_torch.py check (loss, logits, all gradients, BN statistics, the RMSpropTF loop),
#    ens through `ens-train grad` compared here at the golden README's tolerances.
# 2. Timing: per config the rounds run ens and torch one after the other (the first side
#    alternates), each a fresh process that warms up and times full steps (forward, backward,
#    RMSpropTF lr 0.016 alpha 0.9 eps 1e-3 momentum 0.9 wd 1e-5 on >= 2-D tensors, label
#    smoothing 0.1). Each process reports its median step; the table shows the median over
#    rounds per side, the ratio of those medians (ens / torch time per image), the median of
#    the per-round ratios (both sides of a round saw about the same load), wall and CPU time
#    (CPU time of all threads: the calmer figure when other processes share the cores), peak
#    RSS and ens's share of the FMA peak.
# 3. FMA share: a train step counts 3 x the forward FLOPs (ens-train bench's
#    train_gflop_per_image, formula in engine/cli/train_flops.h); wall share = GFLOP/s over the
#    measured T-thread peak of engine/bench/fma_peak; CPU share = GFLOP per CPU-second over the
#    1-thread peak (how well the cycles ens actually got are used, robust to load).
import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile

import numpy as np

PY = "/usr/bin/python3"
DT = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "F16": np.float16}

# (name, arch, classes, batch, input size, timed steps, warm-up steps)
CONFIGS = [
    ("nano b128 @32", "nano", 10, 128, 32, 5, 2),
    ("nano b32 @64", "nano", 10, 32, 64, 5, 2),
    ("b0 b16 @224", "b0", 1000, 16, 224, 3, 1),
]


def read_st(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        out[k] = np.frombuffer(data[b:e], dtype=DT[v["dtype"]]).reshape(v["shape"])
    return out


def run_json(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode:
        sys.exit("train_peer_bench: %s failed (exit %d): %s"
                 % (" ".join(cmd[:3]), p.returncode, p.stderr.strip()[-500:]))
    return json.loads(p.stdout.strip().splitlines()[-1])


def parity_ens(a, golden_path):
    """ens-train grad on the golden input vs timm's loss, logits, gradients, BN statistics."""
    gold = read_st(golden_path)
    with tempfile.TemporaryDirectory() as tmp:
        x, t, out = (os.path.join(tmp, n) for n in ("x.npy", "t.npy", "g.safetensors"))
        np.save(x, gold["input"])
        np.save(t, gold["target"])
        p = subprocess.run([a.ens_train, "grad", "--model", a.nano_weights, "--input", x,
                            "--target", t, "--smoothing", "0.1", "--threads", "2", "--out", out],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode:
            return False, "ens-train grad failed: " + p.stderr.strip()
        got = read_st(out)
    bad = []
    lw, lg = float(gold["loss"][0]), float(got["loss"][0])
    if not abs(lg - lw) <= 1e-5 + 1e-5 * abs(lw):
        bad.append("loss %.7g vs %.7g" % (lg, lw))
    if not np.all(np.abs(got["logits"] - gold["logits"]) <= 1e-4 + 1e-4 * np.abs(gold["logits"])):
        bad.append("logits")
    n, worst = 0, 0.0
    for k in gold:
        if k.endswith(".grad"):
            c, g = got[k].astype(np.float64), gold[k].astype(np.float64)
            md, mg = float(np.abs(c - g).max()), float(np.abs(g).max())
            if not md <= 1e-4 * mg + 1e-6:
                bad.append(k)
            if mg > 1e-5:
                worst = max(worst, md / mg)
            n += 1
        elif k.endswith(".running_mean.after") or k.endswith(".running_var.after"):
            if not np.all(np.abs(got[k] - gold[k]) <= 1e-5 + 1e-4 * np.abs(gold[k])):
                bad.append(k)
    msg = "loss %.7f (timm %.7f), %d gradients, worst max|d|/max|g| %.2g" % (lg, lw, n, worst)
    return not bad, msg + ("; off: " + ", ".join(bad[:5]) if bad else "")


def parity_torch(a, golden_path):
    rms = os.path.join(os.path.dirname(golden_path), "nano_rmsprop_steps.safetensors")
    p = subprocess.run([PY, a.torch_peer, "check", "--variant", "nano", "--weights",
                        a.nano_weights, "--golden", golden_path, "--rmsprop-golden", rms,
                        "--threads", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode:
        return False, p.stderr.strip()
    s = json.loads(p.stdout.strip().splitlines()[0])
    return True, ("loss %.7f (timm %.7f), %d gradients, worst max|d|/max|g| %.2g, "
                  "RMSpropTF loop ok" % (s["loss"], s["loss_golden"], s["grads_checked"],
                                         s["worst_grad_rel"]))


def ens_cmd(a, arch, classes, batch, size, threads, steps, warmup):
    return [a.ens_train, "bench", "--arch", arch, "--classes", str(classes), "--batch",
            str(batch), "--input-size", str(size), "--threads", str(threads), "--steps",
            str(steps), "--warmup", str(warmup), "--json"]


def torch_cmd(a, arch, classes, batch, size, threads, steps, warmup):
    return [PY, a.torch_peer, "bench", "--variant", arch, "--num-classes", str(classes),
            "--batch", str(batch), "--input-size", str(size), "--threads", str(threads),
            "--steps", str(steps), "--warmup", str(warmup), "--lr", "0.016"]


def slow_rounds(values):
    """Rounds slower than 1.5 x the side's best round: disturbed by other load."""
    best = min(values)
    return sum(1 for v in values if v > 1.5 * best)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ens-train", required=True)
    ap.add_argument("--fma-peak", required=True)
    ap.add_argument("--torch-peer", required=True)
    ap.add_argument("--nano-weights", required=True)
    ap.add_argument("--golden", required=True, help="goldens/train/nano_train_step.safetensors")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--only", help="run only the configs whose name contains this")
    ap.add_argument("--peak-1t", type=float, help="FMA peak GFLOP/s on 1 thread (else measured)")
    ap.add_argument("--peak-2t", type=float, help="FMA peak GFLOP/s on 2 threads")
    a = ap.parse_args()

    ok_e, msg_e = parity_ens(a, a.golden)
    print("parity %s ens:   %s" % ("ok" if ok_e else "FAIL", msg_e))
    ok_t, msg_t = parity_torch(a, a.golden)
    print("parity %s torch: %s" % ("ok" if ok_t else "FAIL", msg_t))
    if not (ok_e and ok_t):
        sys.exit("train_peer_bench: a side does not compute timm's training step; no timing")

    given = a.peak_1t is not None and a.peak_2t is not None
    peak = {"1": a.peak_1t, "2": a.peak_2t} if given else \
        run_json([a.fma_peak, "--json", "1", "2"])
    try:
        print("load average at start: %s" % open("/proc/loadavg").read().split()[0:3])
    except OSError:
        pass
    sys.stdout.flush()

    threads_list = [int(t) for t in a.threads.split(",")]
    rows = []
    for name, arch, classes, batch, size, steps, warmup in CONFIGS:
        if a.only and a.only not in name:
            continue
        for threads in threads_list:
            args = (arch, classes, batch, size, threads, steps, warmup)
            e_runs, t_runs = [], []
            for r in range(a.rounds):
                order = [("ens", ens_cmd), ("torch", torch_cmd)]
                if r % 2:
                    order.reverse()
                for side, cmd in order:
                    res = run_json(cmd(a, *args))
                    (e_runs if side == "ens" else t_runs).append(res)
            row = summarize(name, threads, e_runs, t_runs)
            rows.append(row)
            print_row(row)
            sys.stdout.flush()
    if not given:
        # a busy machine lowers the measured peak: keep the better of two measurements
        again = run_json([a.fma_peak, "--json", "1", "2"])
        peak = {t: max(peak[t], again[t]) for t in ("1", "2")}
    for r in rows:
        add_fma_shares(r, peak)
    print("\nFMA peak (float32 AVX-512, %s): 1 thread %.1f GFLOP/s, 2 threads %.1f GFLOP/s"
          % ("given" if given else "best of two engine/bench/fma_peak runs", peak["1"],
             peak["2"]))
    if peak["2"] < 1.8 * peak["1"]:
        print("WARNING: the 2-thread FMA peak is not ~2 x the 1-thread one: the machine is busy; "
              "wall-time figures are unreliable, CPU-time ones less so")
    print_table(rows, a.rounds)
    print(json.dumps({"train_peer_bench": rows, "fma_peak_gflops": peak, "rounds": a.rounds}))


def add_fma_shares(r, peak):
    """ens's share of the FMA peak: GFLOP/s of the step over the T-thread peak (wall), and
    GFLOP per CPU-second over the 1-thread peak (CPU; torch's too)."""
    g = r["train_gflop_per_image"]
    r["ens_pct_fma_peak_wall"] = 100 * g / (r["ens_ms_per_image"] * 1e-3) / peak[str(r["threads"])]
    r["ens_pct_fma_peak_cpu"] = 100 * g / (r["ens_cpu_ms_per_image"] * 1e-3) / peak["1"]
    r["torch_pct_fma_peak_cpu"] = 100 * g / (r["torch_cpu_ms_per_image"] * 1e-3) / peak["1"]


def summarize(name, threads, e_runs, t_runs):
    med = statistics.median
    ew = [r["ms_per_image"] for r in e_runs]
    tw = [r["ms_per_image"] for r in t_runs]
    ec = [r["cpu_ms_per_image"] for r in e_runs]
    tc = [r["cpu_ms_per_image"] for r in t_runs]
    gflop = e_runs[0]["train_gflop_per_image"]
    return {
        "config": name, "threads": threads, "rounds": len(e_runs),
        "ens_ms_per_image": med(ew), "torch_ms_per_image": med(tw),
        "ens_cpu_ms_per_image": med(ec), "torch_cpu_ms_per_image": med(tc),
        "ratio_wall": med(ew) / med(tw), "ratio_cpu": med(ec) / med(tc),
        "round_ratios_wall": [e / t for e, t in zip(ew, tw)],
        "round_ratios_cpu": [e / t for e, t in zip(ec, tc)],
        "ens_images_per_s": 1e3 / med(ew), "torch_images_per_s": 1e3 / med(tw),
        "ens_peak_rss_mb": max(r["peak_rss_mb"] for r in e_runs),
        "torch_peak_rss_mb": max(r["peak_rss_mb"] for r in t_runs),
        "train_gflop_per_image": gflop,
        "ens_slow_rounds": slow_rounds(ew), "torch_slow_rounds": slow_rounds(tw),
    }


def print_row(r):
    print("%-14s %dT: ens %.3f ms/img (CPU %.3f), torch %.3f ms/img (CPU %.3f); ens/torch wall "
          "%.3f, CPU %.3f; per-round wall %s, CPU %s; RSS ens %.0f MiB, torch %.0f MiB"
          % (r["config"], r["threads"], r["ens_ms_per_image"], r["ens_cpu_ms_per_image"],
             r["torch_ms_per_image"], r["torch_cpu_ms_per_image"], r["ratio_wall"],
             r["ratio_cpu"], " ".join("%.2f" % x for x in r["round_ratios_wall"]),
             " ".join("%.2f" % x for x in r["round_ratios_cpu"]), r["ens_peak_rss_mb"],
             r["torch_peak_rss_mb"]))


def print_table(rows, rounds):
    print("\nFull train steps (forward + backward + RMSpropTF), ms per image: median over %d "
          "interleaved rounds per side (each round = the median step of a fresh process)"
          % rounds)
    print("config          thr |  ens wall    CPU | torch wall    CPU | ens/torch wall  CPU "
          "| per-round wall (median) | ens %FMA wall  CPU | RSS MiB ens torch | slow rounds")
    for r in rows:
        print("%-15s %3d | %9.3f %6.3f | %10.3f %6.3f | %14.3f %5.3f | %23.3f | %13.1f %4.1f "
              "| %11.0f %5.0f | ens %d torch %d"
              % (r["config"], r["threads"], r["ens_ms_per_image"], r["ens_cpu_ms_per_image"],
                 r["torch_ms_per_image"], r["torch_cpu_ms_per_image"], r["ratio_wall"],
                 r["ratio_cpu"], statistics.median(r["round_ratios_wall"]),
                 r["ens_pct_fma_peak_wall"], r["ens_pct_fma_peak_cpu"], r["ens_peak_rss_mb"],
                 r["torch_peak_rss_mb"], r["ens_slow_rounds"], r["torch_slow_rounds"]))
    print("(ens/torch < 1: ens is faster. CPU = CPU time of all threads per image, the calmer "
          "figure on a shared machine. %FMA: train step = 3 x forward FLOPs over the T-thread "
          "peak (wall) or over the 1-thread peak per CPU-second (CPU). slow rounds: slower "
          "than 1.5 x the side's best round.)")
    goal = [r for r in rows if r["config"].startswith("nano b128") and r["threads"] == 2]
    for r in goal:
        print("Goal (nano b128 @32, 2 threads): ens/torch time per image %.3f wall, %.3f CPU "
              "(goal <= 0.5, aim 0.33); peak RSS ens %.0f vs torch %.0f MiB (goal: below)"
              % (r["ratio_wall"], r["ratio_cpu"], r["ens_peak_rss_mb"], r["torch_peak_rss_mb"]))


if __name__ == "__main__":
    main()
