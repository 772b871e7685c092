#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tests of the ens-train command line (suite 'train').

Run by meson as: train_cli_test.py CASE --bin BUILD/engine/cli/ens-train
Each CASE is one meson test. Exit 0 = pass, 1 = fail, 77 = skipped.

The data is made here: a small 4-class IDX data set of 28x28 gray pictures (a bar in one of
four orientations / places, with noise), which a nano network learns in a few steps, so
"the loss falls" and "the model beats chance" are real checks, and nothing depends on
downloads. The Fashion-MNIST case uses Debian's dataset-fashion-mnist (required under CI).
"""
import argparse
import gzip
import json
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile

import numpy as np

sys.dont_write_bytecode = True
A = None
FAILURES = []


def check(cond, what):
    print('%s: %s' % ('ok' if cond else 'FAIL', what))
    if not cond:
        FAILURES.append(what)
    return cond


def run(args, env=None, expect=0, timeout=300):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([A.bin] + args, capture_output=True, text=True, env=e, timeout=timeout)
    if expect is not None and p.returncode != expect:
        print('command: %s\nexit %d (expected %d)\nstdout:\n%s\nstderr:\n%s' %
              (' '.join(args), p.returncode, expect, p.stdout[-3000:], p.stderr[-3000:]))
    return p


def write_idx(path, arr, magic):
    with gzip.open(path, 'wb') as f:
        f.write(struct.pack('>I', magic))
        for d in arr.shape:
            f.write(struct.pack('>I', d))
        f.write(arr.astype(np.uint8).tobytes())


def make_bars(root, name, n, seed):
    """n 28x28 pictures of 4 classes: horizontal / vertical bar, left / right block."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    imgs = (rng.random((n, 28, 28)) * 60).astype(np.float64)
    for i, c in enumerate(labels):
        o = rng.integers(6, 20)
        if c == 0:
            imgs[i, o:o + 4, 3:25] += 180
        elif c == 1:
            imgs[i, 3:25, o:o + 4] += 180
        elif c == 2:
            imgs[i, 8:20, 2:12] += 150
        else:
            imgs[i, 8:20, 16:26] += 150
    imgs = np.clip(imgs, 0, 255)
    ip = os.path.join(root, '%s-images-idx3-ubyte.gz' % name)
    write_idx(ip, imgs, 0x803)
    write_idx(os.path.join(root, '%s-labels-idx1-ubyte.gz' % name), labels, 0x801)
    return ip


def data(tmp):
    return make_bars(tmp, 'train', 512, 1), make_bars(tmp, 't10k', 256, 2)


def jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


FIT = ['--arch', 'nano', '--batch', '32', '--threads', '2', '--no-progress', '--lr', '0.01']


def case_fit(tmp):
    tr, te = data(tmp)
    out = os.path.join(tmp, 'm')
    p = run(['fit', '--data', tr, '--val-data', te, '--epochs', '3', '--out', out] + FIT)
    if not check(p.returncode == 0, 'fit exits 0'):
        return
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    log = jsonl(os.path.join(out, 'log.jsonl'))
    check(len(log) == 3 and [l['epoch'] for l in log] == [1, 2, 3], 'one JSON line per epoch')
    check(all(k in log[0] for k in ('train_loss', 'val_top1', 'val_top5', 'seconds', 'lr')),
          'epoch lines carry loss, top-1/5, seconds, lr')
    check(log[-1]['train_loss'] < log[0]['train_loss'], 'the training loss falls (%.3f -> %.3f)' %
          (log[0]['train_loss'], log[-1]['train_loss']))
    check(summary['val_top1'] > 60.0, '4-class bars: val top-1 %.1f %% > 60 %%' % summary['val_top1'])
    cfg = json.load(open(os.path.join(out, 'config.json')))
    check(cfg['num_classes'] == 4 and cfg['pretrained_cfg']['input_size'] == [3, 32, 32],
          'config.json: 4 classes, input 32')
    check(abs(cfg['pretrained_cfg']['crop_pct'] - 32 / 28) < 1e-6,
          'crop_pct 32/28: timm CenterCrop pads 28 -> 32 like training')
    st = open(os.path.join(out, 'model.safetensors'), 'rb').read()
    hlen = struct.unpack('<Q', st[:8])[0]
    header = json.loads(st[8:8 + hlen])
    check('classifier.weight' in header and header['classifier.weight']['shape'] == [4, 640] and
          header['classifier.weight']['dtype'] == 'F32', 'model.safetensors in timm names, F32')
    check(header.get('bn1.num_batches_tracked', {}).get('dtype') == 'I64',
          'num_batches_tracked saved as I64')
    # eval reproduces the trainer's last validation figure
    p = run(['eval', '--model', out, '--data', te, '--json', '--threads', '2'])
    if check(p.returncode == 0, 'eval exits 0'):
        ev = json.loads(p.stdout)
        check(abs(ev['top1'] - summary['val_top1']) < 1e-9,
              'eval top-1 %.2f == the trainer\'s %.2f' % (ev['top1'], summary['val_top1']))
    p = run(['eval', '--model', out, '--data', te, '--threads', '2'])
    check('confusion matrix' in p.stdout and len(p.stdout.splitlines()) >= 6,
          'eval prints a confusion matrix')


def case_resume(tmp):
    """An interrupted run continued with --resume equals the uninterrupted one bit for bit."""
    tr, te = data(tmp)
    a, b = os.path.join(tmp, 'a'), os.path.join(tmp, 'b')
    args = ['fit', '--data', tr, '--val-data', te, '--epochs', '2', '--seed', '7',
            '--ema', '0.9', '--drop', '0.2', '--drop-path', '0.1', '--hflip', '0.5'] + FIT
    p = run(args + ['--out', a])
    check(p.returncode == 0, 'uninterrupted run')
    p = run(args + ['--out', b], env={'ENS_TRAIN_STOP_AFTER_STEPS': '21'}, expect=130)
    check(p.returncode == 130 and 'checkpoint saved' in p.stderr,
          'stopped mid-epoch 2 (step 21 of 32): exit 130, checkpoint saved')
    check(not os.path.exists(os.path.join(b, 'model.safetensors')), 'no model after a stop')
    p = run(args + ['--out', b, '--resume'])
    check(p.returncode == 0, 'resumed run exits 0')
    ma = open(os.path.join(a, 'model.safetensors'), 'rb').read()
    mb = open(os.path.join(b, 'model.safetensors'), 'rb').read()
    check(ma == mb, 'resumed model is bit-identical to the uninterrupted one')
    # same seed + threads -> identical weights; another seed -> different
    c = os.path.join(tmp, 'c')
    run(args[:-len(FIT)] + FIT + ['--out', c])
    check(open(os.path.join(c, 'model.safetensors'), 'rb').read() == ma, 'rerun: bit-identical')
    # a checkpoint of another recipe is refused with a clear line
    p = run(['fit', '--data', tr, '--val-data', te, '--epochs', '3', '--seed', '7', '--out', b,
             '--resume'] + FIT, expect=1)
    check(p.returncode == 1 and '--epochs 2' in p.stderr, 'resume with other --epochs: "%s"' %
          p.stderr.strip()[:120])
    p = run(['fit', '--data', tr, '--val-data', te, '--epochs', '2', '--seed', '7', '--out', b,
             '--resume', '--arch', 'b0', '--batch', '32', '--threads', '2', '--no-progress'],
            expect=1)
    check(p.returncode == 1 and 'another network' in p.stderr,
          'resume with another network: "%s"' % p.stderr.strip()[:120])


def make_two_class_folder(tmp, n=24):
    """A 2-class image folder made of classes 0 and 1 of the bars (n PGMs each)."""
    imgs = os.path.join(tmp, 'two')
    os.makedirs(imgs)
    rng = np.random.default_rng(5)
    for cname, c in (('horizontal', 0), ('vertical', 1)):
        d = os.path.join(imgs, cname)
        os.makedirs(d)
        for i in range(n):
            im = (rng.random((28, 28)) * 60)
            o = rng.integers(6, 20)
            if c == 0:
                im[o:o + 4, 3:25] += 180
            else:
                im[3:25, o:o + 4] += 180
            im = np.clip(im, 0, 255).astype(np.uint8)
            with open(os.path.join(d, '%02d.pgm' % i), 'wb') as f:
                f.write(b'P5\n28 28\n255\n' + im.tobytes())
    return imgs


def case_finetune(tmp):
    tr, te = data(tmp)
    base = os.path.join(tmp, 'base')
    run(['fit', '--data', tr, '--val-data', te, '--epochs', '2', '--out', base] + FIT)
    imgs = make_two_class_folder(tmp)
    out = os.path.join(tmp, 'ft')
    p = run(['fit', '--init', base, '--data', imgs, '--val-split', '0.25', '--input-size', '32',
             '--epochs', '2', '--out', out, '--batch', '8', '--threads', '2', '--no-progress',
             '--lr', '0.005'])
    if check(p.returncode == 0, 'finetune a new 2-class head from --init DIR'):
        cfg = json.load(open(os.path.join(out, 'config.json')))
        check(cfg['num_classes'] == 2 and cfg['label_names'] == ['horizontal', 'vertical'],
              'finetuned config: 2 classes named after the folders')
    p = run(['fit', '--init', base, '--keep-head', '--data', imgs, '--val-split', '0.25',
             '--input-size', '32', '--out', os.path.join(tmp, 'x'), '--threads', '2'], expect=1)
    check(p.returncode == 1 and '4 classes' in p.stderr and '2' in p.stderr,
          '--keep-head with a mismatched class count: "%s"' % p.stderr.strip()[:120])


def safetensors_tensors(path):
    """{name: (dtype, shape, raw bytes)} of a .safetensors file (header JSON + data offsets)."""
    raw = open(path, 'rb').read()
    hlen = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + hlen])
    body = raw[8 + hlen:]
    return {k: (v['dtype'], v['shape'], body[v['data_offsets'][0]:v['data_offsets'][1]])
            for k, v in header.items() if k != '__metadata__'}


def case_probe(tmp):
    """fit --freeze-backbone: only the classifier changes, the probe learns, --init is needed."""
    tr, te = data(tmp)
    base = os.path.join(tmp, 'base')
    p = run(['fit', '--data', tr, '--val-data', te, '--epochs', '3', '--out', base] + FIT)
    if not check(p.returncode == 0, 'base model trained'):
        return
    # 96 pictures a class: 144 to train the probe on, 48 to validate (12 were too few to tell
    # a probe from chance). The frozen features are unnormalized (up to ~60), so AdamW.
    imgs = make_two_class_folder(tmp, 96)
    args = ['fit', '--init', base, '--freeze-backbone', '--data', imgs, '--val-split', '0.25',
            '--input-size', '32', '--epochs', '10', '--batch', '16', '--threads', '2',
            '--no-progress', '--opt', 'adamw', '--lr', '0.003', '--wd', '0']
    out = os.path.join(tmp, 'probe')
    p = run(args + ['--out', out])
    if not check(p.returncode == 0, 'fit --init base --freeze-backbone exits 0'):
        return
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    log = jsonl(os.path.join(out, 'log.jsonl'))
    print('probe log: ' + ' '.join('%.3f/%.1f' % (l['train_loss'], l['val_top1']) for l in log))
    check([l['epoch'] for l in log] == list(range(1, 11)) and all(l['phase'] == 'fit' for l in log),
          'one JSON line per epoch, phase fit')
    check(all(k in log[0] for k in ('train_loss', 'val_top1', 'val_top5', 'seconds', 'lr')),
          'epoch lines carry loss, top-1/5, seconds, lr')
    check(log[-1]['train_loss'] < log[0]['train_loss'], 'the probe\'s loss falls (%.3f -> %.3f)' %
          (log[0]['train_loss'], log[-1]['train_loss']))
    check(summary['val_top1'] > 80.0,
          '2-class bars, linear probe: val top-1 %.1f %% > 80 %%' % summary['val_top1'])
    check(not os.path.exists(os.path.join(out, 'checkpoint.safetensors')),
          'the probe writes no checkpoint')
    a = safetensors_tensors(os.path.join(base, 'model.safetensors'))
    b = safetensors_tensors(os.path.join(out, 'model.safetensors'))
    frozen = [k for k in a if not k.startswith('classifier.')]
    check(sorted(frozen) == sorted(k for k in b if not k.startswith('classifier.')),
          'same backbone tensors (%d)' % len(frozen))
    changed = [k for k in frozen if k in b and a[k] != b[k]]
    check(not changed, 'every backbone tensor byte-identical to the base model (changed: %s)' %
          changed[:5])
    bn = [k for k in frozen if 'running_' in k or 'num_batches_tracked' in k]
    check(len(bn) > 10 and all(a[k] == b[k] for k in bn),
          'BN running statistics unchanged (%d buffers)' % len(bn))
    check(b['classifier.weight'][1] == [2, 640] and b['classifier.bias'][1] == [2],
          'a new 2-class classifier [2, 640]')
    p = run(args + ['--out', os.path.join(tmp, 'probe2')])
    check(p.returncode == 0 and open(os.path.join(tmp, 'probe2', 'model.safetensors'), 'rb').read()
          == open(os.path.join(out, 'model.safetensors'), 'rb').read(),
          'rerun with the same seed: bit-identical model')
    p = run(['fit', '--freeze-backbone', '--data', imgs, '--val-split', '0.25', '--input-size',
             '32', '--arch', 'nano', '--out', os.path.join(tmp, 'x'), '--threads', '2'], expect=1)
    check(p.returncode == 1 and
          '--freeze-backbone needs --init MODEL (a linear probe of a trained backbone)' in p.stderr,
          '--freeze-backbone without --init: "%s"' % p.stderr.strip()[:120])
    p = run(args + ['--out', out, '--resume'], expect=1)
    check(p.returncode == 1 and '--resume' in p.stderr,
          '--freeze-backbone with --resume: "%s"' % p.stderr.strip()[:120])


def case_errors(tmp):
    tr, te = data(tmp)
    out = os.path.join(tmp, 'o')
    cases = [
        (['fit', '--data', tr, '--out', out], 1, 'exactly one of --arch'),
        (['fit', '--arch', 'b9', '--data', tr, '--out', out], 1, "unknown --arch 'b9'"),
        (['fit', '--arch', 'nano', '--out', out], 1, 'no training data'),
        (['fit', '--arch', 'nano', '--data', tr], 2, '--out DIR is required'),
        (['fit', '--arch', 'nano', '--data', tr, '--out', out, '--lr', 'x'], 2, '--lr must be'),
        (['fit', '--arch', 'nano', '--data', tr, '--out', out, '--batch', '0'], 2, '--batch'),
        (['fit', '--arch', 'nano', '--data', os.path.join(tmp, 'missing'), '--out', out], 1,
         'missing'),
        (['fit', '--arch', 'nano', '--data', tr, '--out', out, '--batch', '1000'], 1,
         'fewer than one batch'),
        (['fit', '--arch', 'nano', '--data', tr, '--out', out, '--randaugment', 'rand-x9'], 1,
         'rand-x9'),
        (['nope'], 2, "unknown command 'nope'"),
        (['eval', '--model', tmp, '--data', te], 1, 'config.json'),
    ]
    for args, code, msg in cases:
        p = run(args + ['--threads', '1'] if args[0] != 'nope' else args, expect=None)
        check(p.returncode == code and msg in p.stderr,
              '%s -> exit %d, "%s" (got %d: %s)' % (' '.join(args[:4]), code, msg, p.returncode,
                                                   p.stderr.strip().splitlines()[-1:]))
    # a corrupt IDX file names the file
    bad = os.path.join(tmp, 'bad-images-idx3-ubyte')
    with open(bad, 'wb') as f:
        f.write(b'\x00\x00\x08\x03garbage')
    with open(os.path.join(tmp, 'bad-labels-idx1-ubyte'), 'wb') as f:
        f.write(b'\x00\x00\x08\x01\x00\x00\x00\x01\x00')
    p = run(['fit', '--arch', 'nano', '--data', bad, '--out', out, '--threads', '1'], expect=1)
    check(p.returncode == 1 and bad in p.stderr, 'corrupt IDX named: "%s"' % p.stderr.strip()[:150])
    # an unwritable output directory is refused before any training
    ro = os.path.join(tmp, 'ro')
    os.makedirs(ro)
    os.chmod(ro, 0o500)
    if os.geteuid() != 0:
        p = run(['fit', '--arch', 'nano', '--data', tr, '--out', ro, '--threads', '1'], expect=1)
        check(p.returncode == 1 and 'not writable' in p.stderr, 'read-only --out refused')
    # the augment pictures tool and plot with bad input
    p = run(['plot', '--log', os.path.join(tmp, 'none.jsonl'), '--out', os.path.join(tmp, 'p.svg')],
            expect=1)
    check(p.returncode == 1 and 'none.jsonl' in p.stderr, 'plot of a missing log names it')


def case_noisy_student(tmp):
    tr, te = data(tmp)
    un = make_bars(tmp, 'unlab', 384, 3)
    out = os.path.join(tmp, 'ns')
    args = ['noisy-student', '--arch', 'nano', '--data', tr, '--val-data', te, '--unlabeled', un,
            '--teacher-epochs', '3', '--student-epochs', '1', '--rounds', '2',
            '--baseline-epochs', '1', '--out', out, '--batch', '32', '--threads', '2',
            '--no-progress', '--lr', '0.01', '--student-randaugment', 'rand-m9-n2-mstd0.5']
    p = run(args)
    if not check(p.returncode == 0, 'noisy-student exits 0'):
        return
    for d in ('teacher', 'baseline', 'student-r1', 'student-r2'):
        check(os.path.exists(os.path.join(out, d, 'config.json')), '%s/ exported' % d)
    log = jsonl(os.path.join(out, 'log.jsonl'))
    phases = [l['phase'] for l in log]
    check(phases.count('pseudo-labels') == 2, 'two pseudo-label rounds logged')
    pl = [l for l in log if l['phase'] == 'pseudo-labels'][0]
    check(pl['unlabeled'] == 384 and pl['kept'] <= 384 and pl['label_accuracy'] > 50,
          'round 1 pseudo-labels: %d kept of 384, accuracy %.1f %%' % (pl['kept'],
                                                                     pl['label_accuracy']))
    check(log[-1]['phase'] == 'summary' and 'student-r2_top1' in log[-1], 'summary line')
    check('teacher' in p.stdout and 'student-r2' in p.stdout, 'summary table printed')
    # --resume reuses every finished phase and reproduces the summary
    p2 = run(args + ['--resume'])
    check(p2.returncode == 0 and 'reusing the finished model' in p2.stderr, '--resume reuses phases')
    s1 = [l for l in p.stdout.splitlines() if '%' in l]
    s2 = [l for l in p2.stdout.splitlines() if '%' in l]
    check([re.sub(r'\s+\S+ s$', '', l) for l in s1] == [re.sub(r'\s+\S+ s$', '', l) for l in s2],
          'resumed summary = first summary')
    svg = os.path.join(tmp, 'plot.svg')
    p = run(['plot', '--log', os.path.join(out, 'log.jsonl'), '--out', svg])
    body = open(svg).read() if os.path.exists(svg) else ''
    check(p.returncode == 0 and body.startswith('<svg') and 'student-r2' in body and
          'labels r1' in body, 'plot writes an SVG with every phase and the label accuracy')
    # a smaller student is refused before training
    p = run(['noisy-student', '--arch', 'b0', '--student-arch', 'nano', '--data', tr,
             '--val-data', te, '--unlabeled', un, '--out', os.path.join(tmp, 'small'),
             '--teacher-epochs', '1', '--batch', '32', '--threads', '2', '--no-progress'],
            expect=1)
    check(p.returncode == 1 and 'smaller than the teacher' in p.stderr, 'smaller student refused')


def bf16_round(a):
    """float32 -> bfloat16 bits, round to nearest even (no NaN in trained weights)."""
    u = a.astype(np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7fff + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def read_st(path):
    buf = open(path, 'rb').read()
    hlen = struct.unpack('<Q', buf[:8])[0]
    header = json.loads(buf[8:8 + hlen])
    data = buf[8 + hlen:]
    return header, data


def case_export(tmp):
    tr, te = data(tmp)
    out = os.path.join(tmp, 'm')
    p = run(['fit', '--data', tr, '--val-data', te, '--epochs', '3', '--out', out] + FIT)
    if not check(p.returncode == 0, 'fit exits 0'):
        return
    ref = json.loads(run(['eval', '--model', out, '--data', te, '--json', '--threads', '2']).stdout)
    h32, d32 = read_st(os.path.join(out, 'model.safetensors'))
    for dt, name in (('f16', 'F16'), ('bf16', 'BF16')):
        o = os.path.join(tmp, dt)
        p = run(['export', '--model', out, '--dtype', dt, '--out', o])
        if not check(p.returncode == 0, 'export --dtype %s exits 0' % dt):
            continue
        h, d = read_st(os.path.join(o, 'model.safetensors'))
        check(set(h) == set(h32), '%s: the same tensor names (and metadata)' % dt)
        exact = True
        for k, v in h32.items():
            if k == '__metadata__':
                continue
            w = h[k]
            b0, e0 = v['data_offsets']
            b1, e1 = w['data_offsets']
            if v['dtype'] != 'F32':
                exact &= w['dtype'] == v['dtype'] and d[b1:e1] == d32[b0:e0]
                continue
            exact &= w['dtype'] == name and w['shape'] == v['shape']
            f = np.frombuffer(d32[b0:e0], '<f4')
            got = np.frombuffer(d[b1:e1], '<u2')
            want = f.astype('<f2').view('<u2') if dt == 'f16' else bf16_round(f)
            exact &= np.array_equal(got, want)
        check(exact, '%s: every float tensor (BN running stats included) is the F32 value rounded '
              'to nearest even; integers (num_batches_tracked I64) unchanged' % dt)
        check(h['bn1.num_batches_tracked']['dtype'] == 'I64', '%s: num_batches_tracked stays I64' % dt)
        size32 = os.path.getsize(os.path.join(out, 'model.safetensors'))
        size = os.path.getsize(os.path.join(o, 'model.safetensors'))
        check(size < 0.55 * size32, '%s: %d bytes, about half of F32\'s %d' % (dt, size, size32))
        check(open(os.path.join(o, 'config.json'), 'rb').read() ==
              open(os.path.join(out, 'config.json'), 'rb').read(), '%s: config.json copied' % dt)
        p = run(['eval', '--model', o, '--data', te, '--json', '--threads', '2'])
        if check(p.returncode == 0, 'eval of the %s model exits 0' % dt):
            ev = json.loads(p.stdout)
            # 256 images: one flipped near-tie moves top-1 by 0.39 pt
            check(abs(ev['top1'] - ref['top1']) <= 0.8,
                  '%s top-1 %.2f vs F32 %.2f: within 0.8 pt (2 of the 256 images)' %
                  (dt, ev['top1'], ref['top1']))
    p = run(['export', '--model', out, '--dtype', 'f8', '--out', os.path.join(tmp, 'x')], expect=2)
    check(p.returncode == 2 and 'f16 or bf16' in p.stderr, 'export --dtype f8: usage error')
    p = run(['export', '--model', os.path.join(tmp, 'none'), '--dtype', 'f16', '--out',
             os.path.join(tmp, 'y')], expect=1)
    check(p.returncode == 1 and 'none' in p.stderr, 'export of a missing model names it')


def case_fashion_mnist(tmp):
    d = '/usr/share/datasets/fashion-mnist'
    if not os.path.isdir(d):
        if os.environ.get('CI') == 'true':
            print('FAIL: %s missing; CI installs dataset-fashion-mnist' % d)
            sys.exit(1)
        print('SKIP: Debian dataset-fashion-mnist not installed')
        sys.exit(77)
    out = os.path.join(tmp, 'f')
    p = run(['fit', '--arch', 'nano', '--data', 'fashion-mnist', '--subset', 'labeled',
             '--limit', '1024', '--val-limit', '1000', '--epochs', '1', '--out', out,
             '--batch', '64', '--threads', '2', '--no-progress'])
    if check(p.returncode == 0, 'fit on the Fashion-MNIST labeled split'):
        cfg = json.load(open(os.path.join(out, 'config.json')))
        check(cfg['label_names'][0] == 'T-shirt/top' and cfg['label_names'][9] == 'Ankle boot',
              'Fashion-MNIST class names in label order')
        check(cfg['pretrained_cfg']['mean'] == [0.286] * 3 and cfg['pretrained_cfg']['std'] ==
              [0.353] * 3, 'the recipe\'s normalisation 0.2860 / 0.3530')


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument('case')
    ap.add_argument('--bin', required=True)
    A = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix='ens-train-test-') as tmp:
        globals()['case_' + A.case](tmp)
        for root, dirs, files in os.walk(tmp):
            for f in files:
                check('.tmp.' not in f, 'no temporary file left: %s' % f) if '.tmp.' in f else None
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o700)
    if FAILURES:
        print('%d check(s) failed' % len(FAILURES))
        sys.exit(1)
    print('all checks passed')


if __name__ == '__main__':
    main()
