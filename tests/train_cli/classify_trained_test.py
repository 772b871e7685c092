#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A model trained by ens-train (nano = w0.5 d0.5, not one of b0..l2) classified by ens-classify.

Run by meson as: classify_trained_test.py CASE --train BUILD/.../ens-train
                 --classify BUILD/.../ens-classify
Cases:
  classify  fit a nano hub directory on a small IDX set made here, write the test images as PNG
            and PGM files, and check that ens-classify loads the directory and predicts per
            image exactly what `ens-train eval` counts: the same confusion matrix (so the same
            top-1) over the same images.
  errors    the custom shape without an input size / mean / std in config.json, a config whose
            multipliers or architecture contradict the tensors, a corrupt config, a bare file.
Exit 0 = pass, 1 = fail.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.dont_write_bytecode = True  # importing the sibling test below must not write __pycache__
# the ens-train tests' IDX writer and check(), which records failures in their FAILURES list
from train_cli_test import FAILURES, check, write_idx  # noqa: E402

A = None


def run(exe, args, expect=0):
    p = subprocess.run([exe] + args, capture_output=True, text=True, timeout=300)
    if expect is not None and p.returncode != expect:
        print('command: %s %s\nexit %d (expected %d)\nstdout:\n%s\nstderr:\n%s' %
              (exe, ' '.join(args), p.returncode, expect, p.stdout[-3000:], p.stderr[-3000:]))
    return p


def make_bars(root, name, n, seed):
    """n 28x28 gray pictures of 4 classes (horizontal / vertical bar, left / right block)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    imgs = rng.random((n, 28, 28)) * 60
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
    imgs = np.clip(imgs, 0, 255).astype(np.uint8)
    ip = os.path.join(root, '%s-images-idx3-ubyte.gz' % name)
    write_idx(ip, imgs, 0x803)
    write_idx(os.path.join(root, '%s-labels-idx1-ubyte.gz' % name), labels, 0x801)
    return ip, imgs, labels


def fit_nano(tmp):
    """A nano hub directory trained until it tells the 4 bar classes apart (so equal
    predictions below are not those of a constant classifier)."""
    tr, _, _ = make_bars(tmp, 'train', 512, 1)
    out = os.path.join(tmp, 'nano')
    p = run(A.train, ['fit', '--arch', 'nano', '--data', tr, '--epochs', '3', '--batch', '32',
                      '--threads', '2', '--no-progress', '--lr', '0.01', '--out', out])
    if not check(p.returncode == 0, 'ens-train fit --arch nano'):
        sys.exit(1)
    return out


def confusion(stdout, k):
    """The rows of ens-train eval's confusion matrix: the last k integers of k lines."""
    lines = stdout.splitlines()
    start = [i for i, l in enumerate(lines) if l.startswith('confusion matrix')][0] + 2
    return np.array([[int(x) for x in lines[start + r].split()[-k:]] for r in range(k)])


def case_classify(tmp):
    model = fit_nano(tmp)
    cfg = json.load(open(os.path.join(model, 'config.json')))
    check(cfg['architecture'] == 'tf_efficientnet w0.5 d0.5' and
          cfg['channel_multiplier'] == 0.5, 'the hub config names the custom shape')
    k = cfg['num_classes']
    te, imgs, labels = make_bars(tmp, 't10k', 32, 2)
    files = []
    for i, im in enumerate(imgs):  # half PNG (libpng), half binary PGM
        if i % 2 == 0:
            f = os.path.join(tmp, 'img%02d.png' % i)
            Image.fromarray(im, 'L').save(f)
        else:
            f = os.path.join(tmp, 'img%02d.pgm' % i)
            with open(f, 'wb') as fh:
                fh.write(b'P5\n28 28\n255\n' + im.tobytes())
        files.append(f)
    p = run(A.classify, ['--model', model, '--json', '--topk', '1', '--threads', '2'] + files)
    if not check(p.returncode == 0, 'ens-classify --model <nano hub dir> exits 0'):
        return
    rows = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    check(len(rows) == len(files), '%d results for %d images' % (len(rows), len(files)))
    names = cfg.get('label_names')
    pred = [r['topk'][0]['id'] for r in rows]
    if names:
        check(all(r['topk'][0]['label'] == names[r['topk'][0]['id']] for r in rows),
              'labels are the config\'s label_names')
    check(len(set(pred)) >= 3, 'the trained model predicts %d different classes' % len(set(pred)))
    cm = np.zeros((k, k), dtype=np.int64)
    for t, q in zip(labels, pred):
        cm[t, q] += 1
    p = run(A.train, ['eval', '--model', model, '--data', te, '--threads', '2'])
    if not check(p.returncode == 0, 'ens-train eval exits 0'):
        return
    want = confusion(p.stdout, k)
    top1 = 100.0 * np.trace(cm) / len(files)
    print('ens-classify top-1 %.2f %% on %d images; ens-train eval:\n%s' %
          (top1, len(files), p.stdout.strip()))
    check(np.array_equal(cm, want),
          'ens-classify per-image predictions give ens-train eval\'s confusion matrix\n%s\nvs\n%s'
          % (cm, want))
    p = run(A.train, ['eval', '--model', model, '--data', te, '--threads', '2', '--json'])
    if check(p.returncode == 0, 'ens-train eval --json'):
        check(abs(json.loads(p.stdout)['top1'] - top1) < 0.005,  # printed with 2 decimals
              'same top-1 (%.2f %%) as ens-train eval' % top1)


def edited(tmp, model, name, edit):
    """A copy of the hub dir with config.json edited (edit: dict -> dict, or bytes)."""
    d = os.path.join(tmp, name)
    shutil.copytree(model, d)
    cp = os.path.join(d, 'config.json')
    if isinstance(edit, bytes):
        open(cp, 'wb').write(edit)
    else:
        cfg = json.load(open(cp))
        edit(cfg)
        json.dump(cfg, open(cp, 'w'))
    return d


def case_errors(tmp):
    model = fit_nano(tmp)
    img = os.path.join(tmp, 'x.pgm')
    with open(img, 'wb') as f:
        f.write(b'P5\n28 28\n255\n' + bytes(range(28)) * 28)

    def expect(d, extra, parts, what):
        p = run(A.classify, ['--model', d, img] + extra, expect=1)
        msg = p.stderr.strip()
        check(p.returncode == 1 and all(s in msg for s in parts), '%s: "%s"' % (what, msg))

    no_size = edited(tmp, model, 'no_size', lambda c: c['pretrained_cfg'].pop('input_size'))
    expect(no_size, [], ['is not one of tf_efficientnet b0..b7, l2', 'pretrained_cfg.input_size',
                         'or pass an input size'], 'custom shape, config without input_size')
    p = run(A.classify, ['--model', no_size, '--input-size', '32', img])
    check(p.returncode == 0, 'the same with --input-size 32 classifies')

    def drop_norm(c):
        c['pretrained_cfg'].pop('mean')
        c['pretrained_cfg'].pop('std')
    expect(edited(tmp, model, 'no_norm', drop_norm), [], ['pretrained_cfg.mean and std',
           'mean/std'], 'custom shape, config without mean/std (no ImageNet default)')
    bare = os.path.join(tmp, 'bare.safetensors')
    shutil.copy(os.path.join(model, 'model.safetensors'), bare)
    expect(bare, [], ['bare.safetensors', 'input_size, mean and std'],
           'custom shape as a bare .safetensors file')
    expect(edited(tmp, model, 'corrupt', b'{"architecture": "tf_efficientnet w0.5 d0.5", '
                  b'"pretrained_cfg": {"input_size": [3, 32'), [], ['config.json'],
           'truncated config.json')
    expect(edited(tmp, model, 'bad_type', lambda c: c['pretrained_cfg'].update(input_size='32')),
           [], ['config.json', 'input_size'], 'input_size of the wrong type')
    expect(edited(tmp, model, 'bad_mult', lambda c: c.update(channel_multiplier=0.75)), [],
           ['channel_multiplier 0.75', 'model.safetensors'],
           'multipliers that do not give the tensor shapes')
    expect(edited(tmp, model, 'neg_mult', lambda c: c.update(depth_multiplier=-1)), [],
           ['config.json', "'depth_multiplier' = -1 is out of range"], 'a negative multiplier')
    expect(edited(tmp, model, 'bad_arch', lambda c: c.update(architecture='tf_efficientnet_b0')),
           [], ['architecture tf_efficientnet_b0', 'another width / depth'],
           'a named architecture on custom shapes')


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument('case', choices=['classify', 'errors'])
    ap.add_argument('--train', required=True)
    ap.add_argument('--classify', required=True)
    A = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix='ens_classify_trained_') as tmp:
        globals()['case_' + A.case](tmp)
    if FAILURES:
        print('%d check(s) failed' % len(FAILURES))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
