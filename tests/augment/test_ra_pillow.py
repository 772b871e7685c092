#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""RandAugment ops of ens against Pillow itself, and the level -> argument formulas against
timm's _LEVEL_TO_ARG (written out below from timm's auto_augment.py).

Images: dog.jpg from ../shared downscaled (RGB and L), a synthetic gradient + noise picture
(RGB and L, odd size), a 28x28 Fashion-MNIST-like L picture (black background), and edge cases
(1x1, 2x3, 3x3, 5x1, flat, two-level, few-level pictures). Every op
of timm's lists at levels 0, 3, 5, 9, 10, 15 with both signs; geometric ops with nearest,
bilinear and bicubic, fill 0 and a colour; exact quarter / half turns of Rotate.

Pass criterion: every output byte equal to Pillow's, for every op (pixel AND geometric).

usage: test_ra_pillow.py RA_TOOL WORKDIR SHARED_DIR      (exit 77 = skipped: no Pillow / numpy)
"""
import os
import random
import subprocess
import sys

try:
    import numpy as np
    from PIL import Image
except ImportError as e:  # pragma: no cover
    print('SKIP: %s (install python3-pil python3-numpy)' % e)
    sys.exit(77)

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ra_reference import (ALL_OPS, GEOMETRIC, HP, RESAMPLE, SIGNED,  # noqa: E402
                          level_to_arg, pillow_op)

tool, work, shared = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(work, exist_ok=True)
failures = 0

def make_images():
    rng = np.random.default_rng(7)
    ims = {}
    dog = os.path.join(shared, 'data', 'dog.jpg')
    if os.path.exists(dog):
        d = Image.open(dog).convert('RGB').resize((96, 72), Image.BICUBIC)
        ims['dog_rgb'] = d
        ims['dog_l'] = d.convert('L')
    elif os.environ.get('CI') == 'true':
        print('FAIL: %s missing (CI always has shared/)' % dog)
        sys.exit(1)
    else:
        print('note: %s missing; dog images skipped' % dog)
    yy, xx = np.mgrid[0:47, 0:61]
    grad = np.stack([xx * 4, yy * 5, (xx + yy) * 2], -1).astype(np.float64)
    noisy = np.clip(grad + rng.normal(0, 25, grad.shape), 0, 255).astype(np.uint8)
    ims['synth_rgb'] = Image.fromarray(noisy, 'RGB')
    ims['synth_l'] = ims['synth_rgb'].convert('L')
    blob = np.zeros((28, 28), np.uint8)
    blob[6:22, 8:20] = np.clip(rng.normal(150, 40, (16, 12)), 0, 255).astype(np.uint8)
    ims['fmnist_l'] = Image.fromarray(blob, 'L')
    # edge cases: pictures smaller than the 3x3 filter and the 4x4 bicubic window, a flat
    # picture (AutoContrast / Equalize leave it alone), two levels per channel, and few
    # levels with one dominant (Equalize's table runs past 255 and is clipped)
    ims['tiny1x1_rgb'] = Image.fromarray(np.array([[[10, 200, 30]]], np.uint8), 'RGB')
    ims['tiny2x3_l'] = Image.fromarray(rng.integers(0, 256, (3, 2), dtype=np.uint8), 'L')
    ims['tiny3x3_rgb'] = Image.fromarray(rng.integers(0, 256, (3, 3, 3), dtype=np.uint8), 'RGB')
    ims['row5x1_l'] = Image.fromarray(rng.integers(0, 256, (1, 5), dtype=np.uint8), 'L')
    ims['flat_l'] = Image.new('L', (16, 16), 77)
    ims['twolevel_rgb'] = Image.fromarray(
        (rng.integers(0, 2, (15, 20, 3)) * 255).astype(np.uint8), 'RGB')
    few = np.full(400, 250, np.uint8)  # 300 dark values + 100 at 250: step 1, table to 300
    few[:300] = rng.integers(0, 100, 300, dtype=np.uint8)
    ims['few_l'] = Image.fromarray(rng.permutation(few).reshape(20, 20), 'L')
    return ims


def raw_input(img, key):
    path = os.path.join(work, key + '.raw')
    if not os.path.exists(path):
        with open(path, 'wb') as f:
            f.write(img.tobytes())
    return path


def run_batch(jobs):
    """jobs: (name, arg, resample, fill, img, key); one ra_tool process runs them all."""
    lines, outs = [], []
    for i, (name, arg, resample, fill, img, key) in enumerate(jobs):
        w, h = img.size
        c = len(img.getbands())
        dst = os.path.join(work, 'out%d.raw' % i)
        fill_s = ','.join(str(v) for v in fill) if isinstance(fill, tuple) else str(fill)
        lines.append(' '.join([name, repr(float(0 if arg is None else arg)), resample, fill_s,
                               str(w), str(h), str(c), raw_input(img, key), dst]))
        outs.append((dst, h, w, c))
    subprocess.run([tool, 'batch'], input='\n'.join(lines) + '\n', text=True, check=True)
    res = []
    for dst, h, w, c in outs:
        with open(dst, 'rb') as f:
            got = np.frombuffer(f.read(), np.uint8)
        os.remove(dst)
        res.append(got.reshape(h, w, c) if c > 1 else got.reshape(h, w))
    return res


def check_levels():
    """ens_ra_level_to_arg against the formulas above, bit for bit."""
    global failures
    rnd = random.Random(3)
    levels = [0, 0.5, 1, 2.5, 3, 4, 5, 6.25, 7.3, 9, 9.999, 10, 12, 15, 20, 30, 100]
    levels += [rnd.uniform(0, 20) for _ in range(40)]
    rows, want, got = [], [], []
    for hp in ({'translate_const': 12, 'translate_pct': 0.45},
               {'translate_const': 250, 'translate_pct': 0.3}):
        lines = []
        for name in ALL_OPS:
            for level in levels:
                for neg in (0, 1):
                    lines.append('%s %r %d' % (name, float(level), neg))
                    v = level_to_arg(name, float(level), neg, hp)
                    want.append(0.0 if v is None else float(v))
                    rows.append((name, level, neg, hp['translate_const']))
        r = subprocess.run([tool, 'levels', repr(float(hp['translate_const'])),
                            repr(hp['translate_pct'])], input='\n'.join(lines) + '\n',
                           capture_output=True, text=True, check=True)
        got_part = [float(v) for v in r.stdout.split()]
        if len(got_part) != len(lines):
            print('FAIL levels: %d answers for %d questions' % (len(got_part), len(lines)))
            failures += 1
            return
        got += got_part
    bad = [(row, g, w) for row, g, w in zip(rows, got, want) if g != w]
    for row, g, w in bad[:10]:
        print('FAIL level_to_arg %s level %r negate %d tconst %r: ens %r timm %r' % (row + (g, w)))
    failures += bool(bad)
    print('level_to_arg: %d cases, %d mismatches' % (len(rows), len(bad)))


def case_args(name):
    out = []
    for level in (0, 3, 5, 9, 10, 15):
        for neg in ((0, 1) if name in SIGNED else (0,)):
            out.append(level_to_arg(name, float(level), neg, HP))
    if name == 'Rotate':  # Pillow's transpose shortcuts and the modulo
        out += [90.0, -90.0, 180.0, 270.0, 360.0, -360.0, 45.0, -0.0, 450.0, 1e-9]
    if name in ('ShearX', 'ShearY'):  # nearest: corners beyond 16.16 fixed point -> doubles
        out += [1000.0, -1000.0, 2.5]
    if name in ('TranslateX', 'TranslateY'):  # all fill; fractional shifts
        out += [1e5, -0.5, 0.5, 2.25]
    if name in ('Color', 'Contrast', 'Brightness', 'Sharpness'):
        out += [0.0, 1.0, 2.5, -0.5, 0.999, 1.001]
    return out or [None]


def main():
    global failures
    check_levels()
    ims = make_images()
    print('%-22s %6s %10s %8s %9s' % ('op', 'cases', 'bytes', 'max|d|', 'differing'))
    for name in ALL_OPS:
        jobs = []
        for key, img in ims.items():
            rgb = img.mode == 'RGB'
            fills = [0, (128, 64, 200) if rgb else 77]
            for arg in case_args(name):
                if name in GEOMETRIC:
                    jobs += [(name, arg, rs, f, img, key) for rs in RESAMPLE for f in fills]
                else:
                    jobs.append((name, arg, 'bilinear', 0, img, key))
        cases = pixels = differ = maxd = 0
        for (name, arg, rs, fill, img, key), got in zip(jobs, run_batch(jobs)):
            want = np.asarray(pillow_op(name, img, arg, rs, fill))
            d = np.abs(got.astype(int) - want.astype(int))
            n_bad = int((d > 0).sum())
            cases += 1
            pixels += d.size
            differ += n_bad
            maxd = max(maxd, int(d.max()))
            if n_bad:
                failures += 1
                if failures <= 20:
                    print('FAIL %s arg %r %s fill %r on %s: %d bytes differ, max %d' %
                          (name, arg, rs, fill, key, n_bad, int(d.max())))
        print('%-22s %6d %10d %8d %9d' % (name, cases, pixels, maxd, differ))
    print('FAIL (%d)' % failures if failures else 'PASS: every op byte-identical to Pillow')
    return 1 if failures else 0


sys.exit(main())
