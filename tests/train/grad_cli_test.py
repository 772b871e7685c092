#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""`ens-train grad` end to end: the nano golden input / soft targets through the CLI, the
output .safetensors compared with goldens/train/nano_train_step.safetensors (loss, logits,
input.grad, all 135 parameter grads, running stats after the step) at the README's
tolerances; then the error paths (exit codes and messages)."""
import argparse
import fcntl
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

import numpy as np

DT = {'F32': np.float32, 'F64': np.float64, 'I64': np.int64, 'F16': np.float16}


def read_st(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == '__metadata__':
            continue
        b, e = v['data_offsets']
        out[k] = np.frombuffer(data[b:e], dtype=DT[v['dtype']]).reshape(v['shape'])
    return out


def weights(a, variant):
    gen = os.path.join(a.build, 'tests', 'generated')
    os.makedirs(gen, exist_ok=True)
    out = os.path.join(gen, variant + '.safetensors')
    with open(os.path.join(gen, '.lock'), 'a+') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not os.access(out, os.R_OK):
                subprocess.run(['/usr/bin/python3', os.path.join(a.shared, 'tools',
                                'ens_synth_weights.py'), '--variant', variant, '--out',
                                out + '.tmp'], check=True, stdout=subprocess.DEVNULL)
                os.replace(out + '.tmp', out)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return out


FAILS = []


def check(cond, msg):
    print(('ok   ' if cond else 'FAIL ') + msg)
    if not cond:
        FAILS.append(msg)


def zero_grad_bias(name):
    return re.fullmatch(r'blocks\.\d+\.\d+\.bn3\.bias', name) or name == 'blocks.0.0.bn2.bias'


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--bin', required=True)
    p.add_argument('--build', required=True)
    p.add_argument('--shared', required=True)
    a = p.parse_args()
    golden_path = os.path.join(a.shared, 'goldens', 'train', 'nano_train_step.safetensors')
    if not os.path.exists(golden_path):
        if os.environ.get('CI') == 'true':
            print('FAIL: shared/ missing in CI: %s' % golden_path)
            return 1
        print('SKIP: no shared goldens at %s' % golden_path)
        return 77
    gold = read_st(golden_path)
    model = weights(a, 'nano')
    with tempfile.TemporaryDirectory() as tmp:
        x, t, out = (os.path.join(tmp, n) for n in ('x.npy', 't.npy', 'g.safetensors'))
        np.save(x, gold['input'])
        np.save(t, gold['target'])
        r = subprocess.run([a.bin, 'grad', '--model', model, '--input', x, '--target', t,
                            '--smoothing', '0.1', '--threads', '2', '--out', out],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        check(r.returncode == 0, 'ens-train grad exit 0 (%s)' % r.stderr.strip())
        if r.returncode:
            return 1
        got = read_st(out)

        loss, gl = float(got['loss'][0]), float(gold['loss'][0])
        check(abs(loss - gl) <= 1e-5 + 1e-5 * abs(gl), 'loss %.7f vs %.7f' % (loss, gl))
        d = np.abs(got['logits'] - gold['logits'])
        check(np.all(d <= 1e-4 + 1e-4 * np.abs(gold['logits'])), 'logits max|d| %.3g' % d.max())
        worst, worst_name, ngrad = 0.0, '', 0
        for k in sorted(gold):
            if not k.endswith('.grad'):
                continue
            if k not in got:
                check(False, '%s missing from the output' % k)
                continue
            c, g = got[k].astype(np.float64), gold[k].astype(np.float64)
            if c.shape != g.shape:
                check(False, '%s shape %s vs %s' % (k, c.shape, g.shape))
                continue
            md, mg = np.abs(c - g).max(), np.abs(g).max()
            name = k[:-5]
            if zero_grad_bias(name):
                ok = md <= 1e-6
            else:
                ok = md <= 1e-4 * mg + 1e-6
                if mg > 0 and md / mg > worst:
                    worst, worst_name = md / mg, name
            if not ok:
                check(False, '%s max|d| %.3g max|g| %.3g' % (k, md, mg))
            ngrad += k != 'input.grad'
        check(ngrad == 135, '135 parameter grads compared (%d), worst ratio %.3g (%s)'
              % (ngrad, worst, worst_name))
        nstat, worst_stat = 0, 0.0
        for k in gold:
            if k.endswith('.running_mean.after') or k.endswith('.running_var.after'):
                d = np.abs(got[k] - gold[k])
                worst_stat = max(worst_stat, float(d.max()))
                if not np.all(d <= 1e-5 + 1e-4 * np.abs(gold[k])):
                    check(False, '%s max|d| %.3g' % (k, d.max()))
                nstat += 1
        check(nstat == 62, '62 running stats after the step (%d), max|d| %.3g'
              % (nstat, worst_stat))

        # error paths: clear message, exit 1 for bad inputs, 2 for usage
        def err(args, code, needle, what):
            r = subprocess.run([a.bin, 'grad'] + args, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
            check(r.returncode == code and needle in r.stderr,
                  '%s: exit %d, message %r' % (what, r.returncode, r.stderr.strip()[:150]))
        bad_t = os.path.join(tmp, 'bad_t.npy')
        np.save(bad_t, gold['target'][:, :5])
        err(['--model', model, '--input', x, '--target', bad_t, '--out', out], 1, 'bad_t.npy',
            'target with 5 classes')
        f64 = os.path.join(tmp, 'i8.npy')
        np.save(f64, np.zeros((2, 3), np.int8))
        err(['--model', model, '--input', f64, '--target', t, '--out', out], 1, 'float32',
            'int8 input')
        trunc = os.path.join(tmp, 'trunc.npy')
        with open(x, 'rb') as f, open(trunc, 'wb') as g:
            g.write(f.read()[:1000])
        err(['--model', model, '--input', trunc, '--target', t, '--out', out], 1, 'truncated',
            'truncated input')
        err(['--model', os.path.join(tmp, 'none.safetensors'), '--input', x, '--target', t,
             '--out', out], 1, 'none.safetensors', 'missing model')
        err(['--model', model, '--input', x, '--target', t, '--out',
             os.path.join(tmp, 'nodir', 'g.safetensors')], 1, 'nodir', 'unwritable output')
        err(['--model', model, '--input', x], 2, 'required', 'missing options')
        err(['--model', model, '--input', x, '--target', t, '--out', out, '--smoothing', '2'],
            2, 'smoothing', 'smoothing out of range')
    print('%s grad_cli' % ('FAIL' if FAILS else 'PASS'))
    return 1 if FAILS else 0


if __name__ == '__main__':
    sys.exit(main())
