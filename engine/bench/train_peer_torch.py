#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# train_peer_torch.py - the PyTorch peer of ens's training benchmark: tf_efficientnet (nano,
# b0, ... from the block tables, in plain PyTorch without timm) and a full train step
# (forward, label-smoothed soft-target loss, backward, timm's RMSpropTF update).
#
#   check: load synthetic timm weights (shared/tools/ens_synth_weights.py) and reproduce a
#          training golden (goldens/train/nano_train_step.safetensors or b0_train_step):
#          loss, logits, every parameter gradient, BN running statistics. This is what makes
#          the timing below a timing of timm's network.
#   bench: time full train steps; prints one JSON line
#          {"ms_per_step", "ms_per_image", "images_per_s", "peak_rss_mb", "cpu_ms_per_image",
#          ...} (wall times over --steps after --warmup untimed steps; cpu_ms_per_image is the CPU
#          time of all threads, which a busy machine distorts less).
#
# Run with Debian's /usr/bin/python3 (torch 1.13). Threads as the reference recipe:
# torch.set_num_threads(N), OMP_WAIT_POLICY=PASSIVE, torch.set_flush_denormal(True).
import argparse
import json
import math
import os
import resource
import struct
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads its OpenMP runtime

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Architecture: tf_efficientnet_b0's stage table (block type, repeats, kernel, stride, expansion,
# output channels; SE ratio 0.25 of the block input everywhere), scaled by the width / depth
# multipliers with timm's rounding rules.

B0_STAGES = [
    # type, repeats, kernel, stride, expand, out_chs
    ("ds", 1, 3, 1, 1, 16),
    ("ir", 2, 3, 2, 6, 24),
    ("ir", 2, 5, 2, 6, 40),
    ("ir", 3, 3, 2, 6, 80),
    ("ir", 3, 5, 1, 6, 112),
    ("ir", 4, 5, 2, 6, 192),
    ("ir", 1, 3, 1, 6, 320),
]
SE_RATIO = 0.25
STEM_CHS = 32
HEAD_CHS = 1280
BN_EPS = 1e-3  # TensorFlow's default, timm BN_EPS_TF_DEFAULT
BN_MOMENTUM = 0.1

# (width, depth, default resolution) of the tf_efficientnet entrypoints, plus the 'nano' of
# goldens/train (w 0.5, d 0.5, 10 classes).
VARIANTS = {
    "nano": (0.5, 0.5, 64),
    "b0": (1.0, 1.0, 224),
    "b1": (1.0, 1.1, 240),
    "b2": (1.1, 1.2, 260),
    "b3": (1.2, 1.4, 300),
}


def round_channels(chs, multiplier, divisor=8, round_limit=0.9):
    """Width scaling: nearest multiple of 8, never more than 10 % below the scaled value."""
    v = chs * multiplier
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < round_limit * v:
        new_v += divisor
    return new_v


def scale_repeats(repeats, depth_multiplier):
    """Depth scaling of one stage (each stage here is a single block type): ceil."""
    return int(math.ceil(repeats * depth_multiplier))


def same_pad(size, k, s):
    """TensorFlow 'SAME' padding of one dimension: (before, after), extra pixel after."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class Conv2dSame(nn.Conv2d):
    """Convolution with TF 'SAME' padding computed from the input size (asymmetric when the
    total is odd, e.g. stride 2 on even sizes)."""

    def __init__(self, cin, cout, k, stride=1, groups=1, bias=False):
        super().__init__(cin, cout, k, stride=stride, padding=0, groups=groups, bias=bias)

    def forward(self, x):
        k, s = self.kernel_size[0], self.stride[0]
        ph = same_pad(x.shape[-2], k, s)
        pw = same_pad(x.shape[-1], k, s)
        if ph != (0, 0) or pw != (0, 0):
            x = F.pad(x, (pw[0], pw[1], ph[0], ph[1]))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, 1, self.groups)


class BNAct(nn.BatchNorm2d):
    """BatchNorm (eps 1e-3, momentum 0.1) optionally followed by SiLU."""

    def __init__(self, chs, act=True):
        super().__init__(chs, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.act = act

    def forward(self, x):
        x = super().forward(x)
        return F.silu(x) if self.act else x


class SqueezeExcite(nn.Module):
    def __init__(self, chs, rd_chs):
        super().__init__()
        self.conv_reduce = nn.Conv2d(chs, rd_chs, 1, bias=True)
        self.conv_expand = nn.Conv2d(rd_chs, chs, 1, bias=True)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        s = F.silu(self.conv_reduce(s))
        return x * torch.sigmoid(self.conv_expand(s))


def conv_same(cin, cout, k, stride, groups):
    """timm's create_conv2d(padding='same'): static symmetric padding when stride 1 (and odd k)
    gives the same result, so only strided convolutions pad at run time."""
    if stride == 1 and k % 2 == 1:
        return nn.Conv2d(cin, cout, k, stride=1, padding=(k - 1) // 2, groups=groups, bias=False)
    return Conv2dSame(cin, cout, k, stride, groups=groups)


def drop_path(x, rate, training):
    """Stochastic depth: one Bernoulli(keep) per sample, kept samples scaled by 1/keep."""
    if rate == 0.0 or not training:
        return x
    keep = 1.0 - rate
    mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
    return x * mask.div_(keep)


class DepthwiseSeparable(nn.Module):
    """Stage 0 block: dw conv, BN+SiLU, SE, 1x1 conv, BN (skip when shapes allow)."""

    def __init__(self, cin, cout, k, stride, drop_path_rate):
        super().__init__()
        self.conv_dw = conv_same(cin, cin, k, stride, cin)
        self.bn1 = BNAct(cin)
        self.se = SqueezeExcite(cin, round(cin * SE_RATIO))
        self.conv_pw = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn2 = BNAct(cout, act=False)
        self.has_skip = stride == 1 and cin == cout
        self.drop_path_rate = drop_path_rate

    def forward(self, x):
        y = self.bn2(self.conv_pw(self.se(self.bn1(self.conv_dw(x)))))
        if self.has_skip:
            y = drop_path(y, self.drop_path_rate, self.training) + x
        return y


class InvertedResidual(nn.Module):
    """MBConv: 1x1 expand, BN+SiLU, dw conv, BN+SiLU, SE, 1x1 project, BN (+ skip)."""

    def __init__(self, cin, cout, k, stride, expand, drop_path_rate):
        super().__init__()
        mid = round_channels(cin * expand, 1.0)  # timm: make_divisible(in * exp_ratio)
        self.conv_pw = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn1 = BNAct(mid)
        self.conv_dw = conv_same(mid, mid, k, stride, mid)
        self.bn2 = BNAct(mid)
        self.se = SqueezeExcite(mid, round(cin * SE_RATIO))  # SE width from the block input
        self.conv_pwl = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = BNAct(cout, act=False)
        self.has_skip = stride == 1 and cin == cout
        self.drop_path_rate = drop_path_rate

    def forward(self, x):
        y = self.bn2(self.conv_dw(self.bn1(self.conv_pw(x))))
        y = self.bn3(self.conv_pwl(self.se(y)))
        if self.has_skip:
            y = drop_path(y, self.drop_path_rate, self.training) + x
        return y


class EfficientNet(nn.Module):
    def __init__(self, width, depth, num_classes, drop_rate=0.0, drop_path_rate=0.0):
        super().__init__()
        stem = round_channels(STEM_CHS, width)
        self.conv_stem = conv_same(3, stem, 3, 2, 1)
        self.bn1 = BNAct(stem)
        plan = []  # (type, cin, cout, k, stride, expand) per block
        cin = stem
        for kind, reps, k, s, e, c in B0_STAGES:
            cout = round_channels(c, width)
            stage = []
            for i in range(scale_repeats(reps, depth)):
                stage.append((kind, cin, cout, k, s if i == 0 else 1, e))
                cin = cout
            plan.append(stage)
        n_blocks = sum(len(st) for st in plan)
        idx = 0
        stages = []
        for stage in plan:
            blocks = []
            for kind, bi, bo, k, s, e in stage:
                rate = drop_path_rate * idx / n_blocks  # linear in the global block index
                if kind == "ds":
                    blocks.append(DepthwiseSeparable(bi, bo, k, s, rate))
                else:
                    blocks.append(InvertedResidual(bi, bo, k, s, e, rate))
                idx += 1
            stages.append(nn.Sequential(*blocks))
        self.blocks = nn.Sequential(*stages)
        self.num_features = round_channels(HEAD_CHS, width)
        self.conv_head = nn.Conv2d(cin, self.num_features, 1, bias=False)
        self.bn2 = BNAct(self.num_features)
        self.drop_rate = drop_rate
        self.classifier = nn.Linear(self.num_features, num_classes)
        self._init_goog()

    def _init_goog(self):
        """timm's _init_weight_goog: conv N(0, sqrt(2 / fan_out)) with fan_out = k*k*out/groups,
        BN (1, 0), linear U(+-1/sqrt(out)), biases 0."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels // m.groups
                nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_out))
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                r = 1.0 / math.sqrt(m.weight.shape[0])
                nn.init.uniform_(m.weight, -r, r)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.bn1(self.conv_stem(x))
        x = self.blocks(x)
        x = self.bn2(self.conv_head(x))
        x = x.mean((2, 3))
        if self.drop_rate > 0:
            x = F.dropout(x, self.drop_rate, self.training)
        return self.classifier(x)


def build(variant, num_classes, drop_rate=0.0, drop_path_rate=0.0):
    width, depth, _ = VARIANTS[variant]
    return EfficientNet(width, depth, num_classes, drop_rate, drop_path_rate)


# ---------------------------------------------------------------------------------------------
# Loss and optimizer (the recipe's)

def smooth_targets(t, eps=0.1):
    return t * (1.0 - eps) + eps / t.shape[1]


def soft_target_ce(logits, ts):
    return torch.sum(-ts * F.log_softmax(logits, dim=-1), dim=-1).mean()


class RMSpropTF:
    """timm RMSpropTF's arithmetic (goldens/train/README.md): square_avg starts at 1, eps inside
    the sqrt, coupled weight decay, lr folded into the momentum buffer. Weight decay only on
    >= 2-D tensors (timm's param_groups_weight_decay) unless exclude_1d is False."""

    def __init__(self, named_params, lr, alpha=0.9, eps=1e-3, momentum=0.9, weight_decay=1e-5,
                 exclude_1d=True):
        self.lr, self.alpha, self.eps, self.momentum = lr, alpha, eps, momentum
        self.items = []
        for name, p in named_params:
            excluded = exclude_1d and (p.ndim <= 1 or name.endswith(".bias"))
            wd = 0.0 if excluded else weight_decay
            self.items.append((p, wd, torch.ones_like(p), torch.zeros_like(p)))

    @torch.no_grad()
    def step(self):
        for p, wd, sq, buf in self.items:
            g = p.grad if wd == 0 else p.grad.add(p, alpha=wd)
            sq.add_(g.pow(2) - sq, alpha=1.0 - self.alpha)
            avg = sq.add(self.eps).sqrt_()
            buf.mul_(self.momentum).addcdiv_(g, avg, value=self.lr)
            p.sub_(buf)


# ---------------------------------------------------------------------------------------------
# safetensors without the safetensors package

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "F64": np.float64}


def read_safetensors(path, metadata=None):
    """{key: numpy array}; the header's __metadata__ goes into `metadata` if given."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        blob = f.read()
    out = {}
    for key, v in header.items():
        if key == "__metadata__":
            if metadata is not None:
                metadata.update(v)
            continue
        if v["dtype"] == "BF16":
            raw = np.frombuffer(blob[v["data_offsets"][0]:v["data_offsets"][1]], dtype=np.uint16)
            arr = (raw.astype(np.uint32) << 16).view(np.float32)
        else:
            a, b = v["data_offsets"]
            arr = np.frombuffer(blob[a:b], dtype=_DTYPES[v["dtype"]])
        out[key] = arr.reshape(v["shape"]).copy()
    return out


def load_weights(model, path):
    """Strict: every state_dict key present with the same shape, no extra keys."""
    tensors = read_safetensors(path)
    sd = model.state_dict()
    missing = [k for k in sd if k not in tensors]
    extra = [k for k in tensors if k not in sd]
    bad = [k for k in sd if k in tensors and tuple(sd[k].shape) != tensors[k].shape]
    if missing or extra or bad:
        raise SystemExit("%s does not fit the network: missing %s, unexpected %s, shape %s"
                         % (path, missing[:5], extra[:5], bad[:5]))
    model.load_state_dict({k: torch.from_numpy(tensors[k]) for k in sd})


# ---------------------------------------------------------------------------------------------
# check: reproduce a training golden

def cmd_check(args):
    torch.set_num_threads(args.threads)
    meta = {}
    g = read_safetensors(args.golden, meta)
    all_grads = "grad_norms" not in g  # nano: every gradient; b0: norms + three tensors
    x = torch.from_numpy(g["input"])
    model = build(args.variant, g["logits"].shape[1])
    load_weights(model, args.weights)
    model.train()
    x.requires_grad_(True)
    logits = model(x)
    ts = smooth_targets(torch.from_numpy(g["target"]))
    loss = soft_target_ce(logits, ts)
    loss.backward()

    failures = []
    report = {}

    def compare(key, got, want, atol, rtol_scale):
        d = float(np.max(np.abs(got - want))) if got.size else 0.0
        lim = atol + rtol_scale
        report[key] = d
        if not d <= lim:
            failures.append("%s: max|d| %.3g > %.3g" % (key, d, lim))
        return d

    lw = float(g["loss"][0])
    compare("loss", np.array([loss.item()]), np.array([lw]), 1e-5, 1e-5 * abs(lw))
    # logits: atol 1e-4, rtol 1e-4 elementwise
    lg = logits.detach().numpy()
    d = np.abs(lg - g["logits"]) - (1e-4 + 1e-4 * np.abs(g["logits"]))
    report["logits"] = float(np.max(np.abs(lg - g["logits"])))
    if np.any(d > 0):
        failures.append("logits beyond atol 1e-4 rtol 1e-4")
    # gradients: per tensor max|c-g| <= 1e-4 max|g_T| + 1e-6
    n_grads = 0
    worst_rel = (0.0, "")
    grads = [("input", x.grad)] + [(n, p.grad) for n, p in model.named_parameters()]
    for name, grad in grads:
        key = name + ".grad"
        if key not in g:
            if all_grads:
                failures.append("golden has no %s" % key)
            continue
        want = g[key]
        got = grad.numpy()
        scale = float(np.max(np.abs(want)))
        dd = compare(key, got, want, 1e-6, 1e-4 * scale)
        if scale > 1e-5 and dd / scale > worst_rel[0]:  # not the analytically-zero ones
            worst_rel = (dd / scale, key)
        n_grads += 1
    # b0 golden: L2 norms of every gradient
    if "grad_norms" in g:
        by_name = dict(model.named_parameters())
        order = json.loads(meta["grad_norm_keys"])
        if sorted(order) != sorted(by_name):
            failures.append("grad_norm_keys do not name this network's parameters")
            order = [n for n in order if n in by_name]
        norms = np.array([by_name[n].grad.double().norm().item() for n in order])
        want = g["grad_norms"].astype(np.float64)
        if norms.shape != want.shape:
            failures.append("grad_norms: %d tensors, golden %d" % (norms.size, want.size))
        else:
            dn = np.abs(norms - want) - (1e-6 + 1e-4 * want)
            report["grad_norms"] = float(np.max(np.abs(norms - want)))
            if np.any(dn > 0):
                failures.append("grad_norms beyond 1e-4 relative + 1e-6")
    # BN running statistics after the train-mode forward
    n_bn = 0
    for name, m in model.named_modules():
        if isinstance(m, nn.BatchNorm2d) and name + ".running_mean.after" in g:
            for stat in ("running_mean", "running_var"):
                want = g["%s.%s.after" % (name, stat)]
                got = getattr(m, stat).numpy()
                dd = np.abs(got - want) - (1e-5 + 1e-4 * np.abs(want))
                report.setdefault("bn_running_max", 0.0)
                report["bn_running_max"] = max(report["bn_running_max"],
                                               float(np.max(np.abs(got - want))))
                if np.any(dd > 0):
                    failures.append("%s.%s.after beyond atol 1e-5 rtol 1e-4" % (name, stat))
            n_bn += 1
    rms = check_rmsprop_loop(args, failures) if args.rmsprop_golden else {}
    n_params = sum(1 for _ in model.parameters())
    summary = {
        "variant": args.variant,
        "params": sum(p.numel() for p in model.parameters()),
        "param_tensors": n_params,
        "grads_checked": n_grads,
        "bn_checked": n_bn,
        "loss": loss.item(),
        "loss_golden": lw,
        "max_abs_loss": report["loss"],
        "max_abs_logits": report["logits"],
        "worst_grad_rel": worst_rel[0],
        "worst_grad_tensor": worst_rel[1],
        "bn_running_max_abs": report.get("bn_running_max"),
        "grad_norms_max_abs": report.get("grad_norms"),
    }
    if rms:
        summary["rmsprop_loop_max_abs_weights"] = max(v for k, v in rms.items() if ".step" in k)
        summary["rmsprop_loop_max_abs_loss"] = max(v for k, v in rms.items() if k.startswith("loss"))
    print(json.dumps(summary))
    if args.verbose:
        for k, v in list(report.items()) + list(rms.items()):
            print("%s: max|d| %.3g" % (k, v))
    if all_grads and n_grads != n_params + 1:
        failures.append("checked %d gradients, expected %d" % (n_grads, n_params + 1))
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    return 1 if failures else 0


def check_rmsprop_loop(args, failures):
    """The full two-step loop of goldens/train/nano_rmsprop_steps (RMSpropTF lr 0.01, alpha 0.9,
    eps 1e-3, momentum 0.9, weight_decay 1e-5; on every tensor, then with the 1-D exclusion for
    the .nowd keys): losses and the tracked weights after each step."""
    rg = read_safetensors(args.rmsprop_golden)
    ng = read_safetensors(args.golden)
    x = torch.from_numpy(ng["input"])
    ts = smooth_targets(torch.from_numpy(ng["target"]))
    tracked = sorted({k.rsplit(".", 1)[0] for k in rg if k.endswith(".step0")})
    worst = {}
    for exclude_1d in (False, True):
        model = build(args.variant, ng["logits"].shape[1])
        load_weights(model, args.weights)
        model.train()
        params = dict(model.named_parameters())
        opt = RMSpropTF(model.named_parameters(), lr=0.01, alpha=0.9, eps=1e-3, momentum=0.9,
                        weight_decay=1e-5, exclude_1d=exclude_1d)
        for step in (1, 2, 3):
            for p in model.parameters():
                p.grad = None
            loss = soft_target_ce(model(x), ts)
            if not exclude_1d:
                want = float(rg["loss%d" % step][0])
                d = abs(loss.item() - want)
                worst["loss%d" % step] = d
                if not d <= 1e-5 + 1e-5 * abs(want):
                    failures.append("rmsprop loop loss%d: %.7g, golden %.7g" % (step, loss.item(), want))
            if step == 3:
                break
            loss.backward()
            opt.step()
            for t in tracked:
                key = "%s.step%d" % (t, step)
                if exclude_1d:
                    if key + ".nowd" not in rg:
                        continue
                    key += ".nowd"
                want = rg[key]
                got = params[t].detach().numpy()
                # step 1 from identical grads: optimizer rounding; step 2 on own gradients
                tol = (1e-7 + 1e-6 * np.abs(want)) if step == 1 else (1e-6 + 1e-5 * np.abs(want))
                d = np.abs(got - want)
                worst[key] = float(np.max(d))
                if np.any(d > tol):
                    failures.append("rmsprop loop %s: max|d| %.3g" % (key, float(np.max(d))))
    return worst


# ---------------------------------------------------------------------------------------------
# bench: full train steps

def cmd_bench(args):
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    model = build(args.variant, args.num_classes, args.drop_rate, args.drop_path_rate)
    model.train()
    opt = RMSpropTF(model.named_parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(args.batch, 3, args.input_size, args.input_size, generator=gen)
    labels = torch.randint(0, args.num_classes, (args.batch,), generator=gen)
    ts = smooth_targets(F.one_hot(labels, args.num_classes).float())

    def step():
        for p in model.parameters():
            p.grad = None
        loss = soft_target_ce(model(x), ts)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        step()
    dt = (time.perf_counter() - t0) / args.steps
    # CPU time of all threads: on a busy machine wall time mostly measures the other processes
    cpu = (time.process_time() - c0) / args.steps
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    print(json.dumps({
        "ms_per_step": round(dt * 1e3, 3),
        "ms_per_image": round(dt * 1e3 / args.batch, 4),
        "images_per_s": round(args.batch / dt, 2),
        "peak_rss_mb": round(rss, 1),
        "cpu_ms_per_image": round(cpu * 1e3 / args.batch, 4),
        "peer": "torch %s" % torch.__version__,
        "variant": args.variant,
        "batch": args.batch,
        "input_size": args.input_size,
        "threads": args.threads,
        "steps": args.steps,
    }))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="reproduce a timm training golden")
    c.add_argument("--variant", default="nano", choices=sorted(VARIANTS))
    c.add_argument("--weights", required=True, help="ens_synth_weights.py output")
    c.add_argument("--golden", required=True, help="goldens/train/<variant>_train_step.safetensors")
    c.add_argument("--rmsprop-golden", help="also run the two-step RMSpropTF loop of "
                   "goldens/train/nano_rmsprop_steps.safetensors")
    c.add_argument("--threads", type=int, default=1)
    c.add_argument("--verbose", action="store_true")
    b = sub.add_parser("bench", help="time full train steps")
    b.add_argument("--variant", default="nano", choices=sorted(VARIANTS))
    b.add_argument("--num-classes", type=int, default=10)
    b.add_argument("--batch", type=int, default=128)
    b.add_argument("--input-size", type=int, default=32)
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--steps", type=int, default=5)
    b.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    b.add_argument("--lr", type=float, default=0.016)
    b.add_argument("--drop-rate", type=float, default=0.0)
    b.add_argument("--drop-path-rate", type=float, default=0.0)
    args = ap.parse_args()
    if getattr(args, "threads", 1) < 1 or getattr(args, "steps", 1) < 1 or \
            getattr(args, "batch", 1) < 1:
        ap.error("--threads, --steps and --batch must be >= 1")
    return cmd_check(args) if args.cmd == "check" else cmd_bench(args)


if __name__ == "__main__":
    sys.exit(main())
