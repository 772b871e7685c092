#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""`ens-train augment` end to end: pictures from --ops and --policy compared with Pillow
(each output line names the ops with their exact arguments, so Pillow can redo them), seeds,
counts, grey / RGB, PNG and PNM output, atomic writes, usage errors (exit 2) and bad images
(exit 1 naming the file).

usage: test_augment_cli.py ENS_TRAIN WORKDIR SHARED_DIR   (exit 77 = skipped: no Pillow / numpy)
"""
import os
import re
import shutil
import subprocess
import sys

try:
    import numpy as np
    from PIL import Image
except ImportError as e:  # pragma: no cover
    print('SKIP: %s (install python3-pil python3-numpy)' % e)
    sys.exit(77)

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ra_reference import level_to_arg, pillow_op  # noqa: E402

exe, work, shared = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []


def check(cond, what):
    print('%s: %s' % ('ok' if cond else 'FAIL', what))
    if not cond:
        failures.append(what)
    return cond


def run(*args):
    r = subprocess.run([exe, 'augment'] + [str(a) for a in args], capture_output=True,
                       text=True)
    return r.returncode, r.stdout, r.stderr


def fresh(name):
    d = os.path.join(work, name)
    shutil.rmtree(d, ignore_errors=True)
    return d


def make_inputs():
    os.makedirs(work, exist_ok=True)
    dog = os.path.join(shared, 'data', 'dog.jpg')
    if os.path.exists(dog):
        src = Image.open(dog).convert('RGB').resize((120, 90), Image.BICUBIC)
    elif os.environ.get('CI') == 'true':
        print('FAIL: %s missing (CI always has shared/)' % dog)
        sys.exit(1)
    else:  # a synthetic stand-in keeps the test meaningful without shared/
        yy, xx = np.mgrid[0:90, 0:120]
        src = Image.fromarray(np.stack([xx * 2, yy * 2, xx + yy], -1).astype(np.uint8), 'RGB')
    path = os.path.join(work, 'dog.ppm')
    src.save(path)  # PPM: ens decodes it exactly as Pillow does
    rng = np.random.default_rng(5)
    blob = np.zeros((28, 28), np.uint8)
    blob[5:23, 7:21] = rng.integers(60, 255, (18, 14), dtype=np.uint8)
    gpath = os.path.join(work, 'item.pgm')
    Image.fromarray(blob, 'L').save(gpath)
    return path, src, gpath


LINE = re.compile(r'^(\S+): ?(.*)$')
OP = re.compile(r'(\w+)(?:\(([^)]*)\))?')


def redo_with_pillow(line, img, fill):
    """Applies the ops named on an output line to img with Pillow."""
    m = LINE.match(line)
    for name, inner in OP.findall(m.group(2)):
        if inner == 'skipped':
            continue
        parts = inner.split()
        arg = float(parts[0]) if parts else None
        if name.startswith(('Posterize', 'Solarize')):
            arg = int(arg)
        rs = parts[1] if len(parts) > 1 else 'bilinear'
        img = pillow_op(name, img, arg, rs, fill)
    return m.group(1), img


def same(path, want):
    got = np.asarray(Image.open(path))
    want = np.asarray(want)
    return got.shape == want.shape and np.array_equal(got, want)


def test_ops(dog, src):
    out = fresh('ops')
    ops = 'Rotate:-9,Contrast:3,TranslateXRel:5,Equalize,ShearY:7,Posterize:4'
    rc, so, se = run('--ops', ops, '--interpolation', 'bicubic', '--fill', '10,20,30', dog,
                     '--out', out)
    check(rc == 0, '--ops exits 0 (%s)' % se.strip())
    lines = so.splitlines()
    check(len(lines) == 1 and lines[0].startswith(out + '/dog_0.png:'), 'one output line')
    # the arguments must be timm's for those levels
    hp = {'translate_const': 250, 'translate_pct': 0.45}
    img = src
    for name, level, neg in (('Rotate', 9, 1), ('Contrast', 3, 0), ('TranslateXRel', 5, 0),
                             ('Equalize', 0, 0), ('ShearY', 7, 0), ('Posterize', 4, 0)):
        img = pillow_op(name, img, level_to_arg(name, float(level), neg, hp), 'bicubic',
                        (10, 20, 30))
    check(same(os.path.join(out, 'dog_0.png'), img), '--ops picture == Pillow (RGB, bicubic)')
    _, redo = redo_with_pillow(lines[0], src, (10, 20, 30))
    check(same(os.path.join(out, 'dog_0.png'), redo), 'the output line reproduces the picture')


def test_policy(dog, src, item):
    out = fresh('policy')
    rc, so, se = run('--policy', 'rand-m9-n2-mstd0.5', '--drop', 'Invert,Color',
                     '--translate-const', 12, '--fill', 0, '--seed', 7, '--count', 12, '--gray',
                     item, dog, '--out', out)
    check(rc == 0, '--policy exits 0 (%s)' % se.strip())
    lines = so.splitlines()
    check(len(lines) == 24, '12 copies of 2 images: %d lines' % len(lines))
    ok = applied = 0
    for line in lines:
        path = LINE.match(line).group(1)
        base = Image.open(item if 'item_' in path else dog).convert('L')
        _, want = redo_with_pillow(line, base, 0)
        ok += same(path, want)
        applied += line.count('(') - line.count('(skipped)')
        check('Invert' not in line and 'Color' not in line, 'dropped ops never drawn: ' + line)
    check(ok == len(lines), 'every --policy picture == Pillow redoing its line (%d/%d, %d ops '
          'applied)' % (ok, len(lines), applied))
    check(Image.open(os.path.join(out, 'dog_0.png')).mode == 'L', '--gray writes L pictures')

    out2 = fresh('policy2')
    rc, so2, _ = run('--policy', 'rand-m9-n2-mstd0.5', '--drop', 'Invert,Color',
                     '--translate-const', 12, '--fill', 0, '--seed', 7, '--count', 12, '--gray',
                     item, dog, '--out', out2)
    check(so2.replace(out2, out) == so, 'same seed, same draws')
    check(all(open(os.path.join(out, f), 'rb').read() == open(os.path.join(out2, f), 'rb').read()
              for f in os.listdir(out)), 'same seed, same bytes')
    out3 = fresh('policy3')
    rc, so3, _ = run('--policy', 'rand-m9-n2-mstd0.5', '--seed', 8, '--count', 12, '--gray',
                     item, dog, '--out', out3)
    check(so3.replace(out3, out) != so, 'another seed, other draws')

    out4 = fresh('pnm')
    rc, so4, se = run('--policy', 'rand-m9-n3-p1', '--format', 'pnm', '--count', 2, dog, item,
                      '--out', out4)
    check(rc == 0 and sorted(os.listdir(out4)) == ['dog_0.ppm', 'dog_1.ppm', 'item_0.ppm',
                                                   'item_1.ppm'],
          '--format pnm writes PPM for RGB (%s)' % sorted(os.listdir(out4)))
    for line in so4.splitlines():
        path = LINE.match(line).group(1)
        _, want = redo_with_pillow(line, Image.open(item if 'item_' in path else dog)
                                   .convert('RGB'), (128, 128, 128))
        check(same(path, want), 'PNM output == Pillow: ' + os.path.basename(path))


def test_errors(dog):
    out = fresh('errors')
    cases = [
        ((), 2, 'give exactly one of --policy and --ops'),
        (('--policy', 'rand-m9', '--ops', 'Rotate', dog, '--out', out), 2, 'exactly one'),
        (('--policy', 'rand-m9-x3', dog, '--out', out), 2, "unknown section 'x3'"),
        (('--policy', 'rand-m9-m', dog, '--out', out), 2, "section 'm'"),
        (('--policy', 'rand-m9', '--drop', 'Blur', dog, '--out', out), 2, "unknown op 'Blur'"),
        (('--ops', 'Rotate,Blur', dog, '--out', out), 2, "unknown op 'Blur'"),
        (('--ops', 'Invert:-3', dog, '--out', out), 2, 'Invert has no direction'),
        (('--ops', 'Rotate:abc', dog, '--out', out), 2, "bad magnitude 'abc'"),
        (('--ops', 'Rotate', '--drop', 'Invert', dog, '--out', out), 2, '--drop applies'),
        (('--ops', 'Rotate', '--count', 0, dog, '--out', out), 2, "invalid --count '0'"),
        (('--ops', 'Rotate', '--fill', '1,2', dog, '--out', out), 2, "invalid --fill '1,2'"),
        (('--ops', 'Rotate', '--interpolation', 'lanczos', dog, '--out', out), 2,
         "invalid --interpolation 'lanczos'"),
        (('--ops', 'Rotate', '--seed', '-1', dog, '--out', out), 2, "invalid --seed '-1'"),
        (('--ops', 'Rotate', dog), 2, 'no --out directory'),
        (('--ops', 'Rotate', '--out', out), 2, 'no images given'),
        (('--ops', 'Rotate', '--bogus', dog, '--out', out), 2, "unknown option '--bogus'"),
        (('--ops', 'Rotate', dog, os.path.join(work, 'x', 'dog.jpg'), '--out', out), 2,
         'would both write dog_*'),
    ]
    for args, want_rc, msg in cases:
        rc, so, se = run(*args)
        check(rc == want_rc and msg in se, 'exit %d with "%s": got %d %s' % (want_rc, msg, rc,
                                                                             se.strip()[:160]))
    rc, so, se = run('--help')
    check(rc == 0 and '--policy CONFIG' in so, '--help exits 0')

    missing = os.path.join(work, 'missing.jpg')
    garbage = os.path.join(work, 'garbage.jpg')
    with open(garbage, 'wb') as f:
        f.write(b'\xff\xd8\xff\xe0 not really a jpeg')
    for bad in (missing, garbage):
        out = fresh('bad')
        rc, so, se = run('--ops', 'Rotate', bad, dog, '--out', out)
        check(rc == 1 and bad in se, 'bad image %s: exit 1 naming it (%d: %s)' %
              (os.path.basename(bad), rc, se.strip()[:160]))
        check(os.listdir(out) == ['dog_0.png'], 'the good image is still written, no temp '
              'files left: %s' % os.listdir(out))
    not_dir = os.path.join(work, 'a_file')
    open(not_dir, 'w').close()
    rc, so, se = run('--ops', 'Rotate', dog, '--out', not_dir)
    check(rc == 1 and not_dir in se, '--out naming a file: exit 1 (%s)' % se.strip())


def main():
    dog, src, item = make_inputs()
    test_ops(dog, src)
    test_policy(dog, src, item)
    test_errors(dog)
    print('FAIL (%d)' % len(failures) if failures else 'PASS')
    return 1 if failures else 0


sys.exit(main())
