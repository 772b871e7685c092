#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tests of the ens-classify command line (suite 'cli').

Run by meson as: cli_test.py CASE --bin BUILD/engine/cli/ens-classify --build BUILD
                 --source SRC --shared SHARED
Each CASE is one meson test. Exit 0 = pass, 1 = fail, 77 = skipped (../shared absent and not CI).

Synthetic weights come from shared/tools/ens_synth_weights.py and are generated once into
BUILD/tests/generated/<tag>.safetensors under an exclusive flock on BUILD/tests/generated/.lock
(same protocol and tags as tests/support/ens_test.c, so C and Python tests share the files).
"""
import argparse
import collections
import contextlib
import fcntl
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import types
import zipfile

import numpy as np

# The test imports engine/tools/pth_to_safetensors.py and shared/tools/ens_synth_weights.py:
# keep __pycache__ out of the source tree and the read-only shared/ directory.
sys.dont_write_bytecode = True

A = None  # parsed arguments
FAILURES = []
# tolerances for the dog goldens (shared/goldens/README.md: atol 5e-4, rtol 1e-4 for dog files)
DOG_ATOL, DOG_RTOL = 5e-4, 1e-4
DOG_TOP5 = {'b0': [96, 893, 799, 984, 973], 'b3': [544, 423, 732, 115, 679]}


def check(cond, what):
    print('%s: %s' % ('ok' if cond else 'FAIL', what))
    if not cond:
        FAILURES.append(what)
    return cond


def skip(msg):
    print('SKIP: ' + msg)
    sys.exit(77)


def shared(rel=''):
    if not os.path.isdir(A.shared):
        if os.environ.get('CI') == 'true':
            print('FAIL: %s not found; CI must provide ../shared' % A.shared)
            sys.exit(1)
        skip('%s not found: parity data is absent' % A.shared)
    return os.path.join(A.shared, rel)


def synth_module():
    sys.path.insert(0, shared('tools'))
    import ens_synth_weights
    return ens_synth_weights


def gen_dir():
    d = os.path.join(A.build, 'tests', 'generated')
    os.makedirs(d, exist_ok=True)
    return d


def weights(variant, tag, extra=()):
    """Path of synthetic weights, generated once (flock + .tmp + rename, like ens_test.c)."""
    out = os.path.join(gen_dir(), tag + '.safetensors')
    with open(os.path.join(gen_dir(), '.lock'), 'a+') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not os.access(out, os.R_OK):
                print('generating %s' % out)
                cmd = ['/usr/bin/python3', shared('tools/ens_synth_weights.py'), '--variant',
                       variant] + list(extra) + ['--out', out + '.tmp']
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
                os.replace(out + '.tmp', out)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return out


def dog():
    return shared('data/dog.jpg')


def run(*args, ok=True):
    """Run ens-classify; returns CompletedProcess (bytes stdout/stderr)."""
    cmd = [A.bin] + [a if isinstance(a, bytes) else str(a) for a in args]
    # bounded: an output that blocks (a fifo opened for writing) must fail, not hang the suite
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=240)
    if ok and p.returncode != 0:
        print('command failed (%d): %s\n%s' % (p.returncode, ' '.join(map(str, cmd)),
                                               p.stderr.decode(errors='replace')))
        sys.exit(1)
    return p


@contextlib.contextmanager
def scratch_dir(prefix):
    """A new temporary directory and the list of paths made in it; afterwards those are removed
    (latest first, directories with rmdir) and so is the directory, with rmdir: anything else
    left in it fails the test."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    made = []
    try:
        yield tmp, made
    finally:
        for f in reversed(made):
            if os.path.isdir(f):
                os.rmdir(f)
            elif os.path.exists(f):
                os.remove(f)
        os.rmdir(tmp)


def run_logits(*args, features=False):
    """Logits (and features) that the CLI saves for args."""
    with scratch_dir('ens_cli_') as (tmp, made):
        lp, fp = os.path.join(tmp, 'l.npy'), os.path.join(tmp, 'f.npy')
        made += [lp, fp]
        extra = ['--save-logits', lp] + (['--save-features', fp] if features else [])
        p = run(*(extra + list(args)))
        lg = np.load(lp)
        ft = np.load(fp) if features else None
    return (lg, ft, p) if features else lg


def json_lines(p):
    return [json.loads(line) for line in p.stdout.decode('utf-8').splitlines()]


def close(what, got, want, atol, rtol):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if not check(got.shape == want.shape, '%s shape %s == %s' % (what, got.shape, want.shape)):
        return False
    d = np.abs(got - want)
    bad = d > atol + rtol * np.abs(want)
    print('  %s: max|d| = %.3g (max|want| %.3g), %d beyond atol %g rtol %g'
          % (what, d.max(), np.abs(want).max(), bad.sum(), atol, rtol))
    return check(not bad.any() and np.isfinite(got).all(), what + ' within tolerance')


def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def imagenet_labels():
    with open(shared('data/imagenet_classes.txt')) as f:
        return [line.rstrip('\n') for line in f]


# ---------------------------------------------------------------------------- cases


def case_dog(variant):
    st = synth_module()
    w = weights(variant, variant)
    golden, _ = st.read_safetensors(shared('goldens/dog_%s.safetensors' % variant))
    lg, ft, p = run_logits('--model', w, '--json', '--topk', 5, dog(), features=True)
    res = json_lines(p)
    check(len(res) == 1, 'one JSON line per image')
    ids = [e['id'] for e in res[0]['topk']]
    check(ids == DOG_TOP5[variant], 'top-5 ids %s == %s' % (ids, DOG_TOP5[variant]))
    check(res[0]['file'] == dog(), 'JSON file name')
    names = imagenet_labels()
    check([e['label'] for e in res[0]['topk']] == [names[i] for i in ids],
          'labels are the ImageNet names of the ids')
    want_p = softmax(golden['logits'][0].astype(np.float64))
    check(all(abs(e['prob'] - want_p[e['id']]) <= 1e-4 for e in res[0]['topk']),
          'probs = softmax(golden logits) within 1e-4')
    close('dog_%s logits' % variant, lg, golden['logits'], DOG_ATOL, DOG_RTOL)
    close('dog_%s features' % variant, ft, golden['features'], DOG_ATOL, DOG_RTOL)
    check(lg.dtype == np.float32 and ft.dtype == np.float32, 'npy dtype float32')
    # argv order: model given after the image works too (getopt permutes)
    p2 = run(dog(), '--model', w, '--json')
    check(json_lines(p2)[0]['topk'] == res[0]['topk'], 'options after the image')


def case_dog_b0():
    case_dog('b0')


def case_dog_b3():
    case_dog('b3')


def rewrite_as_f32(src, dst):
    """F16 / BF16 weight file -> F32 file holding exactly the same (rounded) values."""
    st = synth_module()
    tensors, _ = st.read_safetensors(src)
    items = []
    for k, a in tensors.items():
        items.append((k, a.astype(np.float32) if a.dtype != np.int64 else a,
                      'I64' if a.dtype == np.int64 else 'F32'))
    st.write_safetensors(dst, items, {'format': 'pt'})


def case_dtypes():
    b0 = weights('b0', 'b0')
    ref, ref_f, _ = run_logits('--model', b0, dog(), features=True)
    for dt in ('f16', 'bf16'):
        w = weights('b0', 'b0_' + dt, ['--dtype', dt])
        f32 = os.path.join(gen_dir(), 'cli_b0_%s_as_f32.safetensors' % dt)
        rewrite_as_f32(w, f32)
        got = run_logits('--model', w, dog())
        want = run_logits('--model', f32, dog())
        print('  %s: max|%s - f32 copy| = %g, max|%s - f32 weights| = %g'
              % (dt, dt, np.abs(got - want).max(), dt, np.abs(got - ref).max()))
        check(np.array_equal(got, want), '%s file logits == F32 file of the same values' % dt)
        check(not np.array_equal(got, ref) and np.abs(got - ref).max() < 0.5,
              '%s logits differ slightly from the unrounded weights' % dt)
        os.remove(f32)
    nc10 = weights('b0', 'b0_nc10', ['--num-classes', '10'])
    lg, ft, p = run_logits('--model', nc10, '--json', '--topk', 20, dog(), features=True)
    print('  nc10: max|logits - b0[:10]| = %g, max|features - b0| = %g'
          % (np.abs(lg - ref[:, :10]).max(), np.abs(ft - ref_f).max()))
    check(lg.shape == (1, 10), 'nc10 logits shape (1, 10)')
    check(np.array_equal(lg, ref[:, :10]), 'nc10 logits == first 10 logits of b0 (bit-exact)')
    check(np.array_equal(ft, ref_f), 'nc10 features == b0 features (bit-exact)')
    top = json_lines(p)[0]['topk']
    check(len(top) == 10, '--topk 20 on 10 classes gives 10')
    check(all(e['label'] == 'class_%d' % e['id'] for e in top), 'nc10 labels are class_<id>')
    check(sorted(e['id'] for e in top) == list(range(10)), 'all 10 classes listed')


def write_config(path, labels=None, **cfg_over):
    sys.path.insert(0, os.path.join(A.source, 'engine', 'tools'))
    import pth_to_safetensors as conv
    cfg = collections.OrderedDict([('architecture', 'tf_efficientnet_b0'), ('num_classes', 1000),
                                   ('num_features', 1280)])
    if labels is not None:
        cfg['label_names'] = labels
    pc = conv.pretrained_cfg('b0', 'ns_jft_in1k', 1000)
    pc.update(cfg_over)
    cfg['pretrained_cfg'] = pc
    with open(path, 'w') as f:
        json.dump(cfg, f, indent=4)


def case_hub():
    b0 = weights('b0', 'b0')
    hub = tempfile.mkdtemp(prefix='ens_hub_')
    try:
        os.symlink(b0, os.path.join(hub, 'model.safetensors'))  # as in a hub cache snapshot
        write_config(os.path.join(hub, 'config.json'), ['hub_%d' % i for i in range(1000)])
        ref = run_logits('--model', b0, dog())
        p = run('--model', hub, '--json', dog())
        top = json_lines(p)[0]['topk']
        check([e['id'] for e in top] == DOG_TOP5['b0'], 'hub dir: same top-5 as the file')
        check([e['label'] for e in top] == ['hub_%d' % e['id'] for e in top],
              'hub dir: labels from config.json label_names')
        check(np.array_equal(run_logits('--model', hub, dog()), ref),
              'hub dir: logits identical to the bare file')
        lab = os.path.join(hub, 'labels.txt')
        with open(lab, 'w') as f:
            f.write(''.join('file label %d\n' % i for i in range(1000)))
        top = json_lines(run('--model', hub, '--labels', lab, '--json', dog()))[0]['topk']
        check([e['label'] for e in top] == ['file label %d' % e['id'] for e in top],
              '--labels overrides config.json label_names')
        p = run('--model', hub, '--labels', lab, dog())
        first = p.stdout.decode().splitlines()[0]
        check(first.startswith('file label %d ' % DOG_TOP5['b0'][0]), 'text line "%s"' % first)
    finally:
        for f in os.listdir(hub):
            os.remove(os.path.join(hub, f))
        os.rmdir(hub)


def case_options():
    b0 = weights('b0', 'b0')
    ref = run_logits('--model', b0, dog())
    same = run_logits('--model', b0, '--input-size', '224x224', dog())
    check(np.array_equal(ref, same), '--input-size 224x224 == default for b0')
    ns = run_logits('--model', b0, '--input-size', '256x192', dog())
    check(ns.shape == (1, 1000) and np.isfinite(ns).all(), '--input-size 256x192 runs')
    check(not np.array_equal(ns, ref), '--input-size 256x192 changes the logits')
    sq = run_logits('--model', b0, '--input-size', '240', dog())
    check(sq.shape == (1, 1000) and not np.array_equal(sq, ref), '--input-size 240 runs')
    t1 = run_logits('--model', b0, '--threads', 1, dog())
    t2 = run_logits('--model', b0, '--threads', 2, dog())
    top = lambda v: list(np.argsort(-v[0], kind='stable')[:5])
    check(top(t1) == top(t2) == DOG_TOP5['b0'], '--threads 1 and 2: same top-5')
    close('threads 1 vs 2 logits', t1, t2, 1e-5, 1e-5)
    # --topk extremes
    p = run('--model', b0, '--json', '--topk', 1000, dog())
    top = json_lines(p)[0]['topk']
    probs = [e['prob'] for e in top]
    check(len(top) == 1000 and sorted(e['id'] for e in top) == list(range(1000)),
          '--topk 1000 lists every class once')
    check(all(a >= b for a, b in zip(probs, probs[1:])), 'probs descending')
    check(abs(sum(probs) - 1) < 1e-3, 'probs sum to 1 (%.6f)' % sum(probs))
    p = run('--model', b0, '--topk', 1, dog())
    lines = p.stdout.decode().splitlines()
    check(len(lines) == 1, '--topk 1: one line')
    # --help / --version
    p = run('--help')
    check(p.stdout.startswith(b'Usage: ens-classify [--model PATH|DIR]') and not p.stderr, '--help')
    p = run('--version')
    check(p.stdout.decode().strip() == 'ens-classify ' + A.version, '--version "%s"'
          % p.stdout.decode().strip())
    # random weights: runs, prints 5 lines
    p = run('--random-weights', 'b0', dog())
    check(len(p.stdout.decode().splitlines()) == 5, '--random-weights b0 prints 5 classes')


def case_output():
    b0 = weights('b0', 'b0')
    with scratch_dir('ens_out_') as (tmp, made):
        # text format, one image
        p = run('--model', b0, dog())
        lines = p.stdout.decode().splitlines()
        js = json_lines(run('--model', b0, '--json', dog()))[0]['topk']
        want = ['%s %.4f' % (e['label'], e['prob']) for e in js]
        check(lines == want, 'text output = "label prob" lines: %s' % lines[:2])
        # PPM of the decoded JPEG (same pixels) gives the same logits
        st = synth_module()
        rgb = st.read_safetensors(shared('goldens/dog_decoded.safetensors'))[0]['rgb_u8']
        ppm = os.path.join(tmp, 'dog.ppm')
        with open(ppm, 'wb') as f:
            f.write(b'P6\n%d %d\n255\n' % (rgb.shape[1], rgb.shape[0]) + rgb.tobytes())
        made.append(ppm)
        pgm = os.path.join(tmp, 'dog.pgm')
        with open(pgm, 'wb') as f:
            f.write(b'P5\n%d %d\n255\n' % (rgb.shape[1], rgb.shape[0]) + rgb[:, :, 1].tobytes())
        made.append(pgm)
        ref = run_logits('--model', b0, dog())
        check(np.array_equal(run_logits('--model', b0, ppm), ref),
              'PPM of the decoded pixels == JPEG logits')
        # 9 images: two batches (8 + 1); mixed formats; rows in argv order
        imgs = [dog()] * 4 + [ppm, pgm] + [dog()] * 3
        lg = run_logits('--model', b0, *imgs)
        check(lg.shape == (9, 1000), '9 images -> logits [9, 1000]')
        for i in (0, 1, 2, 3, 4, 6, 7, 8):
            close('row %d vs single image' % i, lg[i], ref[0], 1e-5, 1e-5)
        gray = run_logits('--model', b0, pgm)
        close('row 5 (PGM) vs single PGM', lg[5], gray[0], 1e-5, 1e-5)
        check(not np.allclose(gray, ref, atol=1e-3), 'grey image gives other logits')
        # several images in text: 'FILE:' header lines
        p = run('--model', b0, '--topk', 2, dog(), ppm)
        lines = p.stdout.decode().splitlines()
        check(len(lines) == 6 and lines[0] == dog() + ':' and lines[3] == ppm + ':',
              'text output for 2 images has FILE: headers')
        # JSON escaping of odd file names (quote, backslash, newline, tab, UTF-8, invalid byte)
        raw = os.fsencode(tmp) + b'/q"b\\s\nn\tt\xc3\xa9\x01\xff.jpg'
        with open(dog(), 'rb') as src, open(raw, 'wb') as dst:
            dst.write(src.read())
        made.append(raw)
        p = run('--model', b0, '--json', '--topk', 1, raw)
        lines = p.stdout.decode('utf-8').splitlines()
        check(len(lines) == 1, 'escaped JSON stays on one line')
        got = json.loads(lines[0])['file']
        want = tmp + '/q"b\\s\nn\tt\u00e9\u0001\ufffd.jpg'
        check(got == want, 'JSON file name round-trips (%r)' % got[-20:])
        # NaN in the weights: refused at load (no invented probabilities, no JSON NaN)
        tensors, _ = st.read_safetensors(b0)
        tensors['classifier.bias'][3] = np.nan
        nan_w = os.path.join(tmp, 'nan.safetensors')
        st.write_safetensors(nan_w, [(k, a, None) for k, a in tensors.items()], {'format': 'pt'})
        made.append(nan_w)
        p = run('--model', nan_w, '--json', '--topk', 1000, dog(), ok=False)
        check(p.returncode == 1 and not p.stdout and b'classifier.bias' in p.stderr,
              'NaN weights: exit 1 naming the tensor, no output (exit %d, %r)'
              % (p.returncode, p.stderr[:200]))
        # .npy byte-identical to numpy.save of the same array
        out = os.path.join(tmp, 'l.npy')
        run('--model', b0, '--save-logits', out, dog(), ppm, pgm)
        made.append(out)
        buf = io.BytesIO()
        np.save(buf, np.load(out))
        with open(out, 'rb') as f:
            mine = f.read()
        check(mine == buf.getvalue(), '.npy bytes == numpy.save of the same array')
        check(mine[8 + 2 + struct.unpack('<H', mine[8:10])[0] - 1:][:1] == b'\n'
              and (10 + struct.unpack('<H', mine[8:10])[0]) % 64 == 0,
              '.npy header padded to 64 bytes, ends with newline')


def expect_error(what, args, code, must_contain=None):
    p = run(*args, ok=False)
    err = p.stderr.decode(errors='replace')
    one_line = err.endswith('\n') and err.count('\n') == 1
    good = p.returncode == code and one_line and err.startswith('ens-classify: ')
    if must_contain:
        good = good and must_contain in err
    check(good, '%s: exit %d (want %d), stderr %r' % (what, p.returncode, code, err))
    check(p.returncode >= 0, '%s: not killed by a signal' % what)
    return p


def case_errors():
    b0 = weights('b0', 'b0')
    st = synth_module()
    with scratch_dir('ens_err_') as (tmp, made):
        def tmpfile(name, data):
            path = os.path.join(tmp, name)
            with open(path, 'wb') as f:
                f.write(data)
            made.append(path)
            return path

        # usage errors -> 2
        expect_error('no arguments', [], 2)
        expect_error('unknown long option', ['--bogus', '--model', b0, dog()], 2, '--bogus')
        expect_error('unknown short option', ['-x', '--model', b0, dog()], 2, '-x')
        for bad in ('0', '-1', 'abc', '5x', ''):
            expect_error('--topk %r' % bad, ['--model', b0, '--topk', bad, dog()], 2, 'topk')
        for bad in ('0', '12x', 'x12', '256x192x3', '-5', '224x0', '99999'):
            expect_error('--input-size %r' % bad, ['--model', b0, '--input-size', bad, dog()], 2,
                         'input-size')
        expect_error('--threads -1', ['--model', b0, '--threads', '-1', dog()], 2, 'threads')
        expect_error('missing option argument', [dog(), '--model'], 2, '--model')
        expect_error('no images', ['--model', b0], 2, 'no images')
        # no model: the default one; when there is none, a model error naming where it looked
        os.environ['ENS_DEFAULT_MODEL'] = '/nonexistent/ens-default-model'
        expect_error('no model, no default model', [dog()], 1, 'ENS_DEFAULT_MODEL')
        del os.environ['ENS_DEFAULT_MODEL']
        expect_error('--model and --random-weights', ['--model', b0, '--random-weights', 'b0',
                                                      dog()], 2)
        # model errors -> 1
        missing = os.path.join(tmp, 'nope.safetensors')
        expect_error('missing model file', ['--model', missing, dog()], 1,
                     "cannot open model '%s': No such file or directory" % missing)
        with open(b0, 'rb') as f:
            full = f.read()
        expect_error('model truncated in the header', ['--model', tmpfile('t1.safetensors',
                                                                          full[:1000]), dog()], 1)
        expect_error('model truncated in the data', ['--model', tmpfile(
            't2.safetensors', full[:len(full) // 2]), dog()], 1)
        expect_error('garbage model', ['--model', tmpfile(
            'g.safetensors', np.random.default_rng(5).bytes(4096)), dog()], 1)
        expect_error('empty model', ['--model', tmpfile('e.safetensors', b''), dog()], 1)
        tensors, _ = st.read_safetensors(b0)
        key = 'blocks.1.0.conv_pw.weight'
        items = [(k, np.zeros((96, 16, 3, 3), np.float32) if k == key else a, None)
                 for k, a in tensors.items()]
        bad_shape = os.path.join(tmp, 'shape.safetensors')
        st.write_safetensors(bad_shape, items, {'format': 'pt'})
        made.append(bad_shape)
        expect_error('wrong tensor shape', ['--model', bad_shape, dog()], 1, key)
        items = [(k, a, None) for k, a in tensors.items() if k != 'bn2.running_var']
        no_t = os.path.join(tmp, 'missing.safetensors')
        st.write_safetensors(no_t, items, {'format': 'pt'})
        made.append(no_t)
        expect_error('missing tensor', ['--model', no_t, dog()], 1, 'bn2.running_var')
        expect_error('unknown random variant', ['--random-weights', 'b9', dog()], 2, 'b9')
        expect_error('--precision f64', ['--model', b0, '--precision', 'f64', dog()], 2, 'f64')
        emptydir = os.path.join(tmp, 'emptyhub')
        os.mkdir(emptydir)
        expect_error('directory without model.safetensors', ['--model', emptydir, dog()], 1,
                     "cannot open model '%s/model.safetensors'" % emptydir)
        os.rmdir(emptydir)
        lab = tmpfile('labels.txt', b'a\nb\nc\n')
        expect_error('labels file of the wrong length', ['--model', b0, '--labels', lab, dog()],
                     1, "labels file '%s' has 3 labels, but the model has 1000 classes" % lab)
        expect_error('missing labels file', ['--model', b0, '--labels', missing + '.txt',
                                             dog()], 1,
                     "cannot open labels file '%s.txt': No such file or directory" % missing)
        # classifier with no rows: the message names the shape
        items = [(k, np.zeros((0, 1280), np.float32) if k == 'classifier.weight' else
                  np.zeros((0,), np.float32) if k == 'classifier.bias' else a, None)
                 for k, a in tensors.items()]
        zero_cls = os.path.join(tmp, 'zero_cls.safetensors')
        st.write_safetensors(zero_cls, items, {'format': 'pt'})
        made.append(zero_cls)
        expect_error('classifier [0, 1280]', ['--model', zero_cls, dog()], 1,
                     'classifier.weight has shape [0, 1280], expected [K, 1280]')
        # image errors -> 1
        with open(dog(), 'rb') as f:
            jpg = f.read()
        nope = os.path.join(tmp, 'nope.jpg')
        expect_error('nonexistent image', ['--model', b0, nope], 1,
                     "cannot open image '%s': No such file or directory" % nope)
        expect_error('nonexistent image after a good one', ['--model', b0, dog(), nope], 1, nope)
        tj = tmpfile('trunc.jpg', jpg[:len(jpg) // 2])
        expect_error('truncated JPEG', ['--model', b0, tj], 1, tj)
        gj = tmpfile('garbage.jpg', b'\xff\xd8\xff\xe0' + np.random.default_rng(7).bytes(3000))
        expect_error('garbage JPEG', ['--model', b0, gj], 1, gj)
        expect_error('empty image file', ['--model', b0, tmpfile('empty.jpg', b'')], 1)
        expect_error('text file as image', ['--model', b0, tmpfile('x.txt', b'hello\n')], 1)
        expect_error('truncated PPM', ['--model', b0, tmpfile('t.ppm', b'P6\n100 100\n255\n' +
                                                              b'\x80' * 1000)], 1)
        expect_error('directory as image', ['--model', b0, tmp], 1)
        # output errors -> 1
        expect_error('unwritable --save-logits', ['--model', b0, '--save-logits',
                                                  '/nonexistent/dir/l.npy', dog()], 1,
                     "cannot write --save-logits '/nonexistent/dir/l.npy': directory "
                     "'/nonexistent/dir': No such file or directory")
        expect_error('both arrays to stdout', ['--model', b0, '--save-logits', '-',
                                               '--save-features', '-', dog()], 2, 'standard output')


# ---------------------------------------------------------------------------- hardening (issue 10)


def assert_untouched(path, what, kind, before):
    """path still exists as the same kind of node (same inode / contents as before)."""
    try:
        st_ = os.lstat(path)
    except FileNotFoundError:
        return check(False, '%s: %s still exists' % (what, path))
    ok = kind(st_.st_mode) and st_.st_ino == before.st_ino
    return check(ok, '%s: %s left as it was' % (what, path))


def case_outputs():
    """--save-logits / --save-features never destroy what was there (issue 10 item 1)."""
    import stat as S
    b0 = weights('b0', 'b0')
    with scratch_dir('ens_outs_') as (tmp, made):
        good = os.path.join(tmp, 'l.npy')
        made.append(good)
        # a device node like /dev/full (root), else a fifo: refused before any work, kept
        node = os.path.join(tmp, 'node')
        if os.geteuid() == 0:
            os.mknod(node, 0o666 | S.S_IFCHR, os.makedev(1, 7))
            kind, name = S.S_ISCHR, 'a character device'
        else:
            print('  not root: a fifo instead of a device node')
            os.mkfifo(node)
            kind, name = S.S_ISFIFO, 'a fifo'
        made.append(node)
        before = os.lstat(node)
        for opt in ('--save-logits', '--save-features'):
            p = expect_error('%s to %s' % (opt, name), ['--model', b0, opt, node, dog()], 1,
                             "refusing to write %s '%s': it is %s" % (opt, node, name))
            check(not p.stdout, '%s to %s: nothing classified (checked first)' % (opt, name))
            assert_untouched(node, '%s to %s' % (opt, name), kind, before)
        fifo = os.path.join(tmp, 'fifo')
        os.mkfifo(fifo)
        made.append(fifo)
        fb = os.lstat(fifo)
        expect_error('--save-logits to a fifo', ['--model', b0, '--save-logits', fifo, dog()], 1,
                     'it is a fifo')
        assert_untouched(fifo, 'fifo', S.S_ISFIFO, fb)
        sub = os.path.join(tmp, 'sub')
        os.mkdir(sub)
        made.append(sub)
        db = os.lstat(sub)
        expect_error('--save-logits to a directory', ['--model', b0, '--save-logits', sub,
                                                      dog()], 1, 'it is a directory')
        assert_untouched(sub, 'directory', S.S_ISDIR, db)
        # a read-only directory (root may write anyway: then the write must simply succeed)
        ro = os.path.join(tmp, 'ro')
        os.mkdir(ro)
        made.append(ro)
        os.chmod(ro, 0o555)
        target = os.path.join(ro, 'l.npy')
        if os.geteuid() != 0:
            p = expect_error('read-only directory', ['--model', b0, '--save-logits', target,
                                                     dog()], 1, "cannot create a file in directory")
            check(not p.stdout, 'read-only directory: checked before classifying')
        else:
            print('  root: a read-only directory is writable, checking a plain write instead')
            run('--model', b0, '--save-logits', target, dog())
            check(np.load(target).shape == (1, 1000), 'root writes into a 0555 directory')
            os.chmod(ro, 0o755)
            os.remove(target)
        os.chmod(ro, 0o755)
        check(os.listdir(ro) == [], 'no temporary left in the read-only directory')
        # an existing file is replaced only by a complete array; on failure it is kept
        with open(good, 'wb') as f:
            f.write(b'precious')
        nope = os.path.join(tmp, 'nope.jpg')
        p = expect_error('model error with an existing target',
                         ['--model', os.path.join(tmp, 'no.safetensors'), '--save-logits', good,
                          dog()], 1, 'cannot open model')
        with open(good, 'rb') as f:
            check(f.read() == b'precious', 'existing target untouched when the run fails early')
        # a bad image after good ones: the rows of the good ones are saved (9 = two batches)
        feats = os.path.join(tmp, 'f.npy')
        made.append(feats)
        imgs = [dog()] * 9 + [nope, dog()]
        p = expect_error('bad image after 9 good ones',
                         ['--model', b0, '--json', '--save-logits', good, '--save-features', feats]
                         + imgs, 1, 'the 9 images before it are saved')
        check(nope in p.stderr.decode(), 'the bad image is named')
        check(len(json_lines(p)) == 9, 'results of the 9 good images printed')
        lg, ft = np.load(good), np.load(feats)
        ref = run_logits('--model', b0, dog())
        check(lg.shape == (9, 1000) and ft.shape == (9, 1280), 'saved rows: %s, %s'
              % (lg.shape, ft.shape))
        close('saved rows vs a single image', lg, np.repeat(ref, 9, axis=0), 1e-5, 1e-5)
        # the first image bad: nothing saved, the target kept
        with open(good, 'wb') as f:
            f.write(b'precious')
        p = expect_error('first image bad', ['--model', b0, '--save-logits', good, nope, dog()],
                         1, 'nothing saved')
        with open(good, 'rb') as f:
            check(f.read() == b'precious', 'existing target kept when no image succeeded')
        # mode of a replaced file is kept
        os.chmod(good, 0o640)
        run('--model', b0, '--save-logits', good, dog())
        check(S.S_IMODE(os.stat(good).st_mode) == 0o640, 'replaced file keeps its mode')
        # through a symlink: the file it points to is replaced, the link kept
        link = os.path.join(tmp, 'link.npy')
        os.symlink(good, link)
        made.append(link)
        run('--model', b0, '--save-logits', link, dog(), dog())
        check(os.path.islink(link) and np.load(good).shape == (2, 1000),
              'symlink kept, its target replaced')
        # '-' writes the array to stdout, results go to stderr
        p = run('--model', b0, '--save-logits', '-', '--json', dog())
        arr = np.load(io.BytesIO(p.stdout))
        check(arr.shape == (1, 1000) and np.array_equal(arr, ref), '--save-logits - to stdout')
        check(b'"topk"' in p.stderr, 'results on stderr when the array uses stdout')
        if os.path.exists('/dev/full'):
            with open('/dev/full', 'wb') as full:
                p = subprocess.run([A.bin, '--model', b0, '--save-logits', '-', dog()],
                                   stdout=full, stderr=subprocess.PIPE)
            check(p.returncode == 1 and b'No space left' in p.stderr,
                  'stdout on /dev/full: exit 1 (%d, %r)' % (p.returncode, p.stderr[-120:]))
        check(sorted(os.listdir(tmp)) == sorted(os.path.basename(m) for m in made),
              'no temporary files left: %s' % sorted(os.listdir(tmp)))


def case_oom():
    """Out of memory ends the tools with exit 1 and a message, never a hang (item 4)."""
    if any('libasan' in line for line in
           subprocess.run(['ldd', A.bin], capture_output=True, text=True).stdout.splitlines()):
        skip('AddressSanitizer build: its shadow memory cannot run under ulimit -v')
    b0 = weights('b0', 'b0')
    oom_words = ('out of memory', 'Cannot allocate memory')
    tools = [('ens-classify', [A.bin, '--model', b0, dog()])]
    if A.bench:
        tools.append(('ens-bench', [A.bench, '--variant', 'b0', '--random-weights', '--runs', '1',
                                    '--warmup', '0', '--input-size', '64']))
    ran_out = 0
    for name, cmd in tools:
        for kb in (60000, 80000, 100000, 120000, 150000, 200000):
            shell = 'ulimit -v %d && exec "$@"' % kb
            try:
                p = subprocess.run(['/bin/sh', '-c', shell, 'sh'] + cmd, capture_output=True,
                                   timeout=60)
            except subprocess.TimeoutExpired:
                check(False, '%s under ulimit -v %d: terminates within 60 s' % (name, kb))
                continue
            err = p.stderr.decode(errors='replace').strip()
            if p.returncode == 127 and 'error while loading shared libraries' in err:
                print('  %s %d: the loader itself failed (%s)' % (name, kb, err[-60:]))
                continue
            ok = p.returncode == 0 or (p.returncode == 1 and err.count('\n') == 0 and
                                       any(w in err for w in oom_words))
            ran_out += p.returncode == 1
            check(ok, '%s under ulimit -v %d: exit %d, %r' % (name, kb, p.returncode, err[-160:]))
    check(ran_out > 0, 'at least one limit ran out of memory (%d)' % ran_out)


def case_nonfinite():
    """NaN / Inf weights are refused by name; non-finite logits are an error (item 5)."""
    b0 = weights('b0', 'b0')
    st = synth_module()
    tensors, _ = st.read_safetensors(b0)
    with scratch_dir('ens_nan_') as (tmp, made):
        def variant(name, key, fn):
            t = dict(tensors)
            t[key] = fn(t[key].copy())
            path = os.path.join(tmp, name)
            st.write_safetensors(path, [(k, a, None) for k, a in t.items()], {'format': 'pt'})
            made.append(path)
            return path

        def set_at(v, i):
            def f(a):
                a.reshape(-1)[i] = v
                return a
            return f

        for name, key, val in (('nan_dw.safetensors', 'blocks.2.1.conv_dw.weight', np.nan),
                               ('inf_bn.safetensors', 'bn2.running_var', np.inf),
                               ('ninf_cls.safetensors', 'classifier.weight', -np.inf)):
            path = variant(name, key, set_at(val, 7))
            expect_error('%s in %s' % (val, key), ['--model', path, dog()], 1,
                         'tensor %s has 1 non-finite value' % key)
        # finite weights whose logits overflow: +-3e38 rows give +-inf and inf - inf = NaN
        def huge(a):
            a[:] = 3e38
            a[:, 1::2] = -3e38
            return a
        path = variant('huge_cls.safetensors', 'classifier.weight', huge)
        out = os.path.join(tmp, 'l.npy')
        p = expect_error('non-finite logits', ['--model', path, '--json', '--save-logits', out,
                                               dog(), dog()], 1, 'non-finite logits')
        check(dog() in p.stderr.decode() and not p.stdout, 'names the image, prints no result')
        check(not os.path.exists(out), 'nothing saved when the first image has no answer')


def case_config():
    """config.json label_names of the wrong length is an error as --labels is (item 6)."""
    b0 = weights('b0', 'b0')
    hub = tempfile.mkdtemp(prefix='ens_cfg_')
    try:
        os.symlink(b0, os.path.join(hub, 'model.safetensors'))
        cfg = os.path.join(hub, 'config.json')
        with open(cfg, 'w') as f:
            json.dump({'architecture': 'tf_efficientnet_b0', 'label_names': ['a', 'b', 'c']}, f)
        expect_error('label_names of 3, no num_classes', ['--model', hub, dog()], 1,
                     "config '%s': label_names has 3 labels, but the model has 1000 classes" % cfg)
        with open(cfg, 'w') as f:
            json.dump({'architecture': 'tf_efficientnet_b0',
                       'label_names': ['n%d' % i for i in range(1000)]}, f)
        top = json_lines(run('--model', hub, '--json', '--topk', 1, dog()))[0]['topk']
        check(top[0]['label'] == 'n%d' % DOG_TOP5['b0'][0], 'label_names of 1000 used')
    finally:
        for f in os.listdir(hub):
            os.remove(os.path.join(hub, f))
        os.rmdir(hub)
    if A.bench:
        nc3 = weights('b0', 'b0_nc3', ['--num-classes', '3'])
        p = subprocess.run([A.bench, '--model', nc3, '--runs', '1', '--warmup', '0',
                            '--input-size', '64'], capture_output=True, text=True)
        line = [ln for ln in p.stdout.splitlines() if ln.startswith('model')]
        check(p.returncode == 0 and line and 'tf_efficientnet_b0 (3 classes)' in line[0] and
              'ns_jft_in1k' not in line[0], 'a bare 3-class file is named honestly: %s' % line)


def case_bench_messages():
    """ens-bench usage errors are one line that names the limit (item 7)."""
    if not A.bench:
        skip('no --bench given')
    for args, needle in ((['--variant', 'b0', '--random-weights', '--batch', '100000'],
                          'at most 4096 images'),
                         (['--variant', 'b9', '--random-weights'], 'b9'),
                         (['--variant', 'b0', '--random-weights', '--precision', 'f64'], 'f64')):
        p = subprocess.run([A.bench] + args, capture_output=True, text=True, timeout=60)
        check(p.returncode == 2 and p.stderr.count('\n') == 1 and needle in p.stderr and
              'max_batch' not in p.stderr,
              'ens-bench %s: exit %d, %r' % (' '.join(args), p.returncode, p.stderr))


# ---------------------------------------------------------------------------- converter


def fake_torch_modules():
    """Stand-ins for the torch globals a state_dict pickle names, so this test can write .pth
    files (both torch.save formats) without torch. Only used for pickling."""
    torch = types.ModuleType('torch')
    utils = types.ModuleType('torch._utils')

    def _rebuild_tensor_v2(*args):
        raise RuntimeError('fake')

    _rebuild_tensor_v2.__module__ = 'torch._utils'
    _rebuild_tensor_v2.__qualname__ = '_rebuild_tensor_v2'
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    for name in ('FloatStorage', 'LongStorage', 'HalfStorage'):
        setattr(torch, name, type(name, (), {'__module__': 'torch'}))
    torch._utils = utils
    return {'torch': torch, 'torch._utils': utils}


class FakeStorage:
    def __init__(self, key, array):
        self.key, self.array = key, array  # 1-D


class FakeTensor:
    def __init__(self, storage, offset, shape, stride):
        self.storage, self.offset, self.shape, self.stride = storage, offset, shape, stride

    def __reduce__(self):
        utils = sys.modules['torch._utils']
        return (utils._rebuild_tensor_v2, (self.storage, self.offset, tuple(self.shape),
                                           tuple(self.stride), False, collections.OrderedDict()))


def fake_state_dict(tensors):
    """(OrderedDict key -> FakeTensor, list of storages): exercises shared storages with offsets
    (each BN's four tensors in one storage) and non-contiguous strides (transposed 1x1 convs).
    Like TF-ported timm checkpoints, it has no num_batches_tracked (the converter adds them)."""
    state, storages = collections.OrderedDict(), []
    state._metadata = collections.OrderedDict([('', {'version': 1})])
    bn_keys = collections.OrderedDict()  # BN prefix -> its float tensors, in file order
    for k, a in tensors.items():
        prefix, _, leaf = k.rpartition('.')
        if a.dtype != np.int64 and prefix + '.running_mean' in tensors:
            bn_keys.setdefault(prefix, []).append(k)
    bn_store = {}
    for prefix, keys in bn_keys.items():
        s = FakeStorage(str(len(storages)), np.concatenate([tensors[k] for k in keys]))
        storages.append(s)
        bn_store[prefix] = s
    for k, a in tensors.items():
        if a.dtype == np.int64:
            continue
        prefix = k.rpartition('.')[0]
        if prefix in bn_store:
            keys = bn_keys[prefix]
            off = sum(tensors[q].size for q in keys[:keys.index(k)])
            state[k] = FakeTensor(bn_store[prefix], off, a.shape, (1,))
        elif a.ndim == 4 and a.shape[2:] == (1, 1):
            # stored transposed: the storage holds a[:, :, 0, 0].T contiguous
            s = FakeStorage(str(len(storages)), np.ascontiguousarray(a[:, :, 0, 0].T).ravel())
            storages.append(s)
            state[k] = FakeTensor(s, 0, a.shape, (1, a.shape[0], 1, 1))
        else:
            s = FakeStorage(str(len(storages)), np.ascontiguousarray(a).ravel())
            storages.append(s)
            strides = [int(np.prod(a.shape[i + 1:])) for i in range(a.ndim)]
            state[k] = FakeTensor(s, 0, a.shape, strides)
    return state, storages


def storage_type(arr):
    mods = sys.modules['torch']
    return {np.dtype('float32'): mods.FloatStorage, np.dtype('int64'): mods.LongStorage,
            np.dtype('float16'): mods.HalfStorage}[arr.dtype]


def write_fake_pth(path, tensors, legacy):
    saved = {k: sys.modules.get(k) for k in ('torch', 'torch._utils')}
    sys.modules.update(fake_torch_modules())
    try:
        state, storages = fake_state_dict(tensors)

        class P(pickle.Pickler):
            def persistent_id(self, obj):
                if isinstance(obj, FakeStorage):
                    base = ('storage', storage_type(obj.array), obj.key, 'cpu', obj.array.size)
                    return base + (None,) if legacy else base
                return None

        if legacy:
            with open(path, 'wb') as f:
                pickle.dump(0x1950a86a20f9469cfc6c, f, protocol=2)
                pickle.dump(1001, f, protocol=2)
                pickle.dump({'protocol_version': 1001, 'little_endian': True,
                             'type_sizes': {'short': 2, 'int': 4, 'long': 4}}, f, protocol=2)
                P(f, protocol=2).dump(state)
                keys = sorted(s.key for s in storages)
                pickle.dump(keys, f, protocol=2)
                by_key = {s.key: s for s in storages}
                for k in keys:
                    a = by_key[k].array
                    f.write(struct.pack('<q', a.size))
                    f.write(a.astype(a.dtype.newbyteorder('<')).tobytes())
        else:
            buf = io.BytesIO()
            P(buf, protocol=2).dump(state)
            with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as z:
                z.writestr('archive/data.pkl', buf.getvalue())
                z.writestr('archive/byteorder', 'little')
                for s in storages:
                    z.writestr('archive/data/' + s.key, s.array.tobytes())
                z.writestr('archive/version', '3\n')
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def case_convert():
    st = synth_module()
    sys.path.insert(0, os.path.join(A.source, 'engine', 'tools'))
    import pth_to_safetensors as conv
    script = os.path.join(A.source, 'engine', 'tools', 'pth_to_safetensors.py')
    # the embedded pretrained cfgs and variant detection agree with timm's (variants.json)
    with open(shared('goldens/variants.json')) as f:
        vj = json.load(f)['variants']
    for v, d in vj.items():
        for tag, want in d['pretrained_cfgs'].items():
            got = conv.pretrained_cfg(v, tag, 1000)
            check(all(got[k] == want[k] for k in want if k in got),
                  'pretrained_cfg %s.%s matches timm' % (v, tag))
        shapes = {k: types.SimpleNamespace(shape=s) for k, s, _ in d['manifest']}
        check(conv.detect_variant(shapes) == v, 'variant %s detected from shapes' % v)

    b0 = weights('b0', 'b0')
    tensors, _ = st.read_safetensors(b0)
    with scratch_dir('ens_conv_') as (tmp, made):
        ref = run_logits('--model', b0, dog())
        for legacy in (False, True):
            kind = 'legacy' if legacy else 'zip'
            pth = os.path.join(tmp, 'b0_%s.pth' % kind)
            write_fake_pth(pth, tensors, legacy)
            made.append(pth)
            out = os.path.join(tmp, 'b0_%s.safetensors' % kind)
            p = subprocess.run(['/usr/bin/python3', script, pth, out], capture_output=True)
            check(p.returncode == 0, '%s .pth converts: %s' % (kind, p.stderr.decode()))
            made.append(out)
            got, meta = st.read_safetensors(out)
            check(list(got) == list(tensors), '%s: same keys in state_dict order' % kind)
            check(all(got[k].dtype == tensors[k].dtype and got[k].shape == tensors[k].shape and
                      np.array_equal(got[k], tensors[k]) for k in tensors),
                  '%s: every tensor equal (values, shape, dtype; num_batches_tracked I64 [])'
                  % kind)
            check(meta == {'format': 'pt'}, '%s: metadata {"format": "pt"}' % kind)
            check(np.array_equal(run_logits('--model', out, dog()), ref),
                  '%s: ens-classify logits identical to the source file' % kind)
        # hub layout with labels
        lab = os.path.join(tmp, 'labels.txt')
        with open(lab, 'w') as f:
            f.write(''.join('conv %d\n' % i for i in range(1000)))
        made.append(lab)
        hub = os.path.join(tmp, 'hub')
        made.append(hub)  # removed (after its files) if the conversion made it
        p = subprocess.run(['/usr/bin/python3', script, os.path.join(tmp, 'b0_zip.pth'),
                            '--hub-dir', hub, '--labels', lab], capture_output=True)
        check(p.returncode == 0, 'hub conversion: %s' % p.stderr.decode())
        made += [os.path.join(hub, 'model.safetensors'), os.path.join(hub, 'config.json')]
        with open(os.path.join(hub, 'config.json')) as f:
            cfg = json.load(f)
        check(cfg['architecture'] == 'tf_efficientnet_b0' and cfg['num_classes'] == 1000 and
              cfg['num_features'] == 1280 and cfg['pretrained_cfg']['input_size'] == [3, 224, 224]
              and cfg['pretrained_cfg']['tag'] == 'ns_jft_in1k', 'config.json contents')
        pj = run('--model', hub, '--json', dog())
        top = json_lines(pj)[0]['topk']
        check([e['label'] for e in top] == ['conv %d' % i for i in DOG_TOP5['b0']],
              'hub dir from the converter: labels from config.json')
        check(np.array_equal(run_logits('--model', hub, dog()), ref),
              'hub dir from the converter: identical logits')
        # a pickle naming anything but tensors is refused, not executed
        evil = os.path.join(tmp, 'evil.pth')
        with zipfile.ZipFile(evil, 'w') as z:
            z.writestr('archive/data.pkl', b'cos\nsystem\n(S"touch /tmp/ens_pwned"\ntR.')
        made.append(evil)
        p = subprocess.run(['/usr/bin/python3', script, evil, os.path.join(tmp, 'e.st')],
                           capture_output=True)
        check(p.returncode == 1 and b'refusing to load os.system' in p.stderr,
              'malicious pickle refused: %s' % p.stderr.decode().strip())
        p = subprocess.run(['/usr/bin/python3', script, lab, os.path.join(tmp, 'e.st')],
                           capture_output=True)
        check(p.returncode == 1 and p.stderr.count(b'\n') == 1,
              'non-.pth input: one-line error: %s' % p.stderr.decode().strip())


def read_safetensors_f32(path):
    """{name: float32 array} of a safetensors file of F32 tensors (header checked)."""
    import json
    import struct
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    check(n % 8 == 0, '%s: header length %d is a multiple of 8' % (path, n))
    head = json.loads(b[8:8 + n])
    out = {}
    for k, v in head.items():
        if k == '__metadata__':
            continue
        check(v['dtype'] == 'F32', '%s: %s is F32' % (path, k))
        s, e = v['data_offsets']
        out[k] = np.frombuffer(b[8 + n + s:8 + n + e], dtype='<f4').reshape(v['shape'])
    return out, [k for k in head if k != '__metadata__']


def case_feature_maps():
    """--save-feature-maps: timm's features_only maps (b0: blocks.0, .1, .2, .4, .6 at strides 2
    to 32) and the forward_features map (head), NCHW, for two images; the head map pooled is
    the saved pooled features, and an unwritable path fails with one line and leaves nothing."""
    w = weights('b0', 'b0')
    want = {'blocks.0': (16, 112), 'blocks.1': (24, 56), 'blocks.2': (40, 28),
            'blocks.4': (112, 14), 'blocks.6': (320, 7), 'head': (1280, 7)}
    with scratch_dir('ens_cli_maps_') as (tmp, made):
        mp, fp = os.path.join(tmp, 'maps.safetensors'), os.path.join(tmp, 'f.npy')
        made += [mp, fp]
        run('-m', w, '-t', '2', '--save-feature-maps', mp, '--save-features', fp, dog(), dog())
        maps, order = read_safetensors_f32(mp)
        check(order == list(want), 'keys in timm order: %s' % order)
        for k, (c, hw) in want.items():
            check(k in maps and maps[k].shape == (2, c, hw, hw),
                  '%s shape %s' % (k, maps[k].shape if k in maps else None))
            check(k in maps and np.isfinite(maps[k]).all(), '%s finite' % k)
        feats = np.load(fp)
        pooled = maps['head'].astype(np.float64).mean(axis=(2, 3))
        close('pooled head map vs --save-features', pooled, feats, 1e-5, 1e-5)
        check(np.array_equal(maps['blocks.2'][0], maps['blocks.2'][1]), 'same image, same maps')
        bad = os.path.join(tmp, 'missing_dir', 'maps.safetensors')
        p = run('-m', w, '--save-feature-maps', bad, dog(), ok=False)
        check(p.returncode == 1 and len(p.stderr.decode().strip().splitlines()) == 1 and
              'missing_dir' in p.stderr.decode(),
              'unwritable maps path: exit 1, one line naming it: %s' % p.stderr.decode().strip())
        check(sorted(os.listdir(tmp)) == ['f.npy', 'maps.safetensors'],
              'nothing else left: %s' % os.listdir(tmp))


CASES = {
    'dog_b0': case_dog_b0, 'dog_b3': case_dog_b3, 'dtypes': case_dtypes, 'hub': case_hub,
    'options': case_options, 'output': case_output, 'errors': case_errors,
    'convert': case_convert, 'outputs': case_outputs, 'oom': case_oom,
    'nonfinite': case_nonfinite, 'config': case_config, 'bench_messages': case_bench_messages,
    'feature_maps': case_feature_maps,
}


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument('case', choices=sorted(CASES))
    ap.add_argument('--bin', required=True)
    ap.add_argument('--build', required=True)
    ap.add_argument('--source', required=True)
    ap.add_argument('--shared', required=True)
    ap.add_argument('--version', required=True)
    ap.add_argument('--bench', default='', help='ens-bench, for the cases that also check it')
    A = ap.parse_args()
    CASES[A.case]()
    if FAILURES:
        print('FAIL cli_%s: %d check(s) failed' % (A.case, len(FAILURES)))
        return 1
    print('PASS cli_%s' % A.case)
    return 0


if __name__ == '__main__':
    sys.exit(main())
