#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Check the synthetic weight files we generate against the sha256 table in goldens/README.md.

Files are generated on demand into <build>/tests/generated/<tag>.safetensors with the same
protocol as tests/support/ens_test.c (exclusive flock on .lock, write <tag>.safetensors.tmp,
then rename), so the C tests reuse them. Exit 77 = skipped (no ../shared, unless CI=true).
"""
import argparse
import fcntl
import hashlib
import os
import re
import subprocess
import sys

DEFAULT_TAGS = ['b0', 'b0_f16', 'b0_bf16', 'b0_nc10'] + ['b%d' % i for i in range(1, 8)]


def shared_dir():
    env = os.environ.get('ENS_SHARED_DIR')
    if env:
        return env
    return os.path.join(os.environ['ENS_SOURCE_ROOT'], '..', 'shared')


def tool_args(tag):
    """'b0_f16' -> ['--variant', 'b0', '--dtype', 'f16'], 'b0_nc10' -> [..., '--num-classes', '10']."""
    variant, _, suffix = tag.partition('_')
    args = ['--variant', variant]
    if suffix in ('f16', 'bf16'):
        args += ['--dtype', suffix]
    elif suffix.startswith('nc') and suffix[2:].isdigit():
        args += ['--num-classes', suffix[2:]]
    elif suffix:
        raise SystemExit('unknown tag %r' % tag)
    return args


def read_table(readme):
    """{tag: (bytes, sha256)} from rows like | `b0.safetensors` | 21355928 | `dabb...` |."""
    row = re.compile(r'^\|\s*`([A-Za-z0-9_]+)\.safetensors`\s*\|\s*(\d+)\s*\|\s*`([0-9a-f]{64})`\s*\|')
    table = {}
    with open(readme, encoding='utf-8') as f:
        for line in f:
            m = row.match(line.strip())
            if m:
                table[m.group(1)] = (int(m.group(2)), m.group(3))
    return table


def generate_once(gen_dir, tag, shared):
    out = os.path.join(gen_dir, tag + '.safetensors')
    with open(os.path.join(gen_dir, '.lock'), 'a+') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not os.access(out, os.R_OK):
                print('generating', out, flush=True)
                cmd = ['/usr/bin/python3', os.path.join(shared, 'tools', 'ens_synth_weights.py')]
                cmd += tool_args(tag) + ['--out', out + '.tmp']
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
                os.rename(out + '.tmp', out)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return out


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 22), b''):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--only', action='append', help='tag to check (repeatable)')
    args = ap.parse_args()
    shared = shared_dir()
    readme = os.path.join(shared, 'goldens', 'README.md')
    if not os.path.isfile(readme):
        if os.environ.get('CI') == 'true':
            print('FAIL: %s not found; CI must provide ../shared' % readme)
            return 1
        print('SKIP: %s not found' % readme)
        return 77
    table = read_table(readme)
    tags = args.only or DEFAULT_TAGS
    gen_dir = os.path.join(os.environ['ENS_BUILD_ROOT'], 'tests', 'generated')
    os.makedirs(gen_dir, exist_ok=True)
    failures = 0
    for tag in tags:
        if tag not in table:
            print('FAIL %s: no row in the README table (rows: %s)' % (tag, ' '.join(sorted(table))))
            failures += 1
            continue
        want_size, want_sha = table[tag]
        path = generate_once(gen_dir, tag, shared)
        size, sha = os.path.getsize(path), sha256_of(path)
        ok = size == want_size and sha == want_sha
        print('%-4s %-8s %10d bytes sha256 %s' % ('ok' if ok else 'FAIL', tag, size, sha))
        if not ok:
            print('     %-8s %10d bytes sha256 %s (README)' % ('want', want_size, want_sha))
            failures += 1
    print('%d of %d files match goldens/README.md' % (len(tags) - failures, len(tags)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
