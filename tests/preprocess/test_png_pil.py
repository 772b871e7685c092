#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""PNG decoding (ens_image_load through libpng) against Pillow's Image.open(f).convert('RGB'),
pixel for pixel, on PNGs of every colour type and bit depth: written by Pillow (L, LA, RGB,
RGBA, P, P with transparency, 1, I;16, 4-bit P) and by a small writer here (gray 1/2/4/8/16,
gray+alpha 8/16, RGB 8/16, RGBA 8/16, palette 1/2/4/8, tRNS colour keys, Adam7 interlacing,
1x1 and thin sizes). The one documented difference: 16-bit gray, where Pillow clips the
16-bit value at 255 and ens keeps the high byte. Then corrupt files: every truncation
point of a few PNGs, flipped bytes, bad CRCs: ens must fail with a message naming the file
(or, for damage after the pixel data, may succeed), and never crash.

usage: test_png_pil.py DECODE_MANY WORKDIR     (exit 77 = skipped: no Pillow / numpy)
"""
import os
import struct
import subprocess
import sys
import zlib

try:
    import numpy as np
    from PIL import Image
except ImportError as e:  # pragma: no cover
    print('SKIP: %s (install python3-pil python3-numpy)' % e)
    sys.exit(77)

tool, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(20261206)
failures = 0


def fail(msg):
    global failures
    failures += 1
    print('FAIL: ' + msg)


def chunk(kind, data):
    body = kind + data
    return struct.pack('>I', len(data)) + body + struct.pack('>I', zlib.crc32(body))


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2)]


def pack_rows(samples, depth):
    """samples: (h, w*channels) unsigned ints -> filter-0 scanlines."""
    out = b''
    for row in samples:
        if depth == 16:
            raw = row.astype('>u2').tobytes()
        elif depth == 8:
            raw = row.astype(np.uint8).tobytes()
        else:
            per = 8 // depth
            padded = np.concatenate([row, np.zeros((-len(row)) % per, row.dtype)])
            raw = bytes(int(sum(int(v) << (8 - depth * (k + 1)) for k, v in enumerate(grp)))
                        for grp in padded.reshape(-1, per))
        out += b'\x00' + raw
    return out


def write_png(path, pix, color_type, depth, interlace=0, palette=None, trns=None):
    """pix: (h, w, channels) sample values."""
    h, w, ch = pix.shape
    if interlace:
        data = b''
        for x0, y0, dx, dy in ADAM7:
            sub = pix[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                data += pack_rows(sub.reshape(sub.shape[0], -1), depth)
    else:
        data = pack_rows(pix.reshape(h, -1), depth)
    png = b'\x89PNG\r\n\x1a\n'
    png += chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, depth, color_type, 0, 0, interlace))
    if palette is not None:
        png += chunk(b'PLTE', bytes(np.asarray(palette, np.uint8).reshape(-1)))
    if trns is not None:
        png += chunk(b'tRNS', trns)
    png += chunk(b'IDAT', zlib.compress(data, 6))
    png += chunk(b'IEND', b'')
    with open(path, 'wb') as f:
        f.write(png)


def ens_decode_all(paths):
    """One decode_many run over all paths: {path: (pixels or None, error message)}."""
    r = subprocess.run([tool] + paths, capture_output=True, text=True)
    lines = r.stdout.splitlines()
    if r.returncode != 0 or len(lines) != len(paths):
        fail('decode_many exited %d after %d of %d files (crash?): %s' % (
            r.returncode, len(lines), len(paths), r.stderr[-2000:]))
    out = {}
    for path, line in zip(paths, lines):
        if line.startswith('ok '):
            w, h = map(int, line.split()[1:3])
            with open(path + '.rgb', 'rb') as f:
                out[path] = (np.frombuffer(f.read(), np.uint8).reshape(h, w, 3), '')
        else:
            out[path] = (None, line[4:])
    return out


pending = []  # (name, path, want)


def compare(name, path, want=None):
    pending.append((name, path, want))


def check_decoded(name, path, want, got, msg):
    if got is None:
        fail('%s: ens failed: %s' % (name, msg))
        return
    pil = np.asarray(Image.open(path).convert('RGB'))
    if want is None:
        want = pil
    if got.shape != want.shape:
        fail('%s: shape %s, want %s' % (name, got.shape, want.shape))
    elif not np.array_equal(got, want):
        bad = np.argwhere(got != want)[0]
        fail('%s: %d samples differ, first at %s: %d vs %d' % (
            name, int((got != want).sum()), tuple(bad), got[tuple(bad)], want[tuple(bad)]))
    else:
        print('ok   %-34s %dx%d %s' % (name, got.shape[1], got.shape[0], Image.open(path).mode))


# ---- PNGs written by Pillow
def noise(h, w, c=None, hi=256, dtype=np.uint8):
    shape = (h, w) if c is None else (h, w, c)
    return rng.integers(0, hi, shape).astype(dtype)


pil_cases = {
    'pil_L': Image.fromarray(noise(17, 23), 'L'),
    'pil_LA': Image.fromarray(noise(9, 31, 2), 'LA'),
    'pil_RGB': Image.fromarray(noise(21, 19, 3), 'RGB'),
    'pil_RGBA': Image.fromarray(noise(12, 13, 4), 'RGBA'),
    'pil_1': Image.fromarray(noise(11, 29, hi=2) * 255, 'L').convert('1'),
}
p = Image.fromarray(noise(15, 14, hi=200), 'P')
p.putpalette(list(noise(200, 3).reshape(-1)))
pil_cases['pil_P'] = p
pt = p.copy()
pt.info['transparency'] = 3
pil_cases['pil_P_transparency'] = pt
p16 = Image.fromarray(noise(8, 9, hi=16), 'P')
p16.putpalette(list(noise(16, 3).reshape(-1)))
for name, im in pil_cases.items():
    path = os.path.join(work, name + '.png')
    im.save(path, 'PNG', **({'transparency': 3} if name == 'pil_P_transparency' else {}))
    compare(name, path)
path = os.path.join(work, 'pil_P_4bit.png')
p16.save(path, 'PNG', bits=4)
compare('pil_P_4bit', path)

# 16-bit gray: Pillow -> mode I, convert('RGB') clips; ens takes the high byte
g16 = noise(7, 10, hi=65536, dtype=np.uint16)
path = os.path.join(work, 'pil_I16.png')
Image.fromarray(g16).save(path, 'PNG')
pil = np.asarray(Image.open(path).convert('RGB'))[..., 0]
if not np.array_equal(pil, np.minimum(g16, 255)):
    fail('pil_I16: Pillow no longer clips 16-bit gray; revisit image_png.c')
compare('pil_I16 (high byte, Pillow clips)', path, np.repeat((g16 >> 8).astype(np.uint8)[..., None], 3, 2))

# ---- PNGs from the writer above: every colour type / depth, both interlace modes
sizes = [(13, 7), (1, 1), (3, 1), (1, 5), (10, 9)]
for interlace in (0, 1):
    for (w, h) in sizes:
        tag = '%dx%d%s' % (w, h, '_adam7' if interlace else '')
        for depth in (1, 2, 4, 8, 16):
            pix = noise(h, w, 1, hi=1 << depth, dtype=np.uint32)
            path = os.path.join(work, 'g%d_%s.png' % (depth, tag))
            write_png(path, pix, 0, depth, interlace)
            if depth == 16:
                compare('gray16 %s' % tag, path,
                        np.repeat((pix >> 8).astype(np.uint8), 3, 2))
            else:
                compare('gray%d %s' % (depth, tag), path)
        for depth in (8, 16):
            for ct, ch in ((4, 2), (2, 3), (6, 4)):
                pix = noise(h, w, ch, hi=1 << depth, dtype=np.uint32)
                path = os.path.join(work, 'ct%d_%d_%s.png' % (ct, depth, tag))
                write_png(path, pix, ct, depth, interlace)
                compare('colortype%d/%d %s' % (ct, depth, tag), path)
        for depth in (1, 2, 4, 8):
            n = 1 << depth
            pal = noise(n, 3)
            pix = noise(h, w, 1, hi=n, dtype=np.uint32)
            for trns in (None, bytes(noise(min(n, 3), 1).reshape(-1))):
                path = os.path.join(work, 'p%d%s_%s.png' % (depth, '_t' if trns else '', tag))
                write_png(path, pix, 3, depth, interlace, palette=pal, trns=trns)
                compare('palette%d%s %s' % (depth, '+tRNS' if trns else '', tag), path)
        # colour keys: Pillow keeps L / RGB and ignores them in convert('RGB')
        pix = noise(h, w, 1, dtype=np.uint32)
        path = os.path.join(work, 'g8_key_%s.png' % tag)
        write_png(path, pix, 0, 8, interlace, trns=struct.pack('>H', int(pix[0, 0, 0])))
        compare('gray8+tRNS %s' % tag, path)
        pix = noise(h, w, 3, dtype=np.uint32)
        path = os.path.join(work, 'rgb8_key_%s.png' % tag)
        write_png(path, pix, 2, 8, interlace, trns=struct.pack('>HHH', *map(int, pix[0, 0])))
        compare('rgb8+tRNS %s' % tag, path)

results = ens_decode_all([p for _, p, _ in pending])
for name, path, want in pending:
    if path in results:
        check_decoded(name, path, want, *results[path])


# ---- corrupt and truncated files
damaged = []  # (name, path, must_fail)


def expect_no_crash(name, data, must_fail):
    path = os.path.join(work, 'bad_' + name + '.png')
    with open(path, 'wb') as f:
        f.write(data)
    damaged.append((name, path, must_fail))


count = 0
for src in ('pil_RGB.png', 'g4_13x7_adam7.png', 'p8_t_10x9.png', 'ct6_16_13x7.png'):
    data = open(os.path.join(work, src), 'rb').read()
    tail = 12 + 4  # IEND chunk and the last IDAT's CRC: may be cut after the pixels are read
    for cut in range(0, len(data) - 1):
        expect_no_crash('%s_cut%d' % (src, cut), data[:cut], cut < len(data) - tail)
        count += 1
    for k in range(40):  # random byte damage: errors or other pixels, never a crash
        d = bytearray(data)
        pos = int(rng.integers(8, len(d)))
        d[pos] ^= int(rng.integers(1, 256))
        expect_no_crash('%s_flip%d' % (src, k), bytes(d), False)
        count += 1
    d = bytearray(data)
    d[29] ^= 0xFF  # inside IHDR's CRC: a critical chunk with a bad CRC is an error
    expect_no_crash('%s_ihdr_crc' % src, bytes(d), True)
    count += 1
# a huge announced size with no data: refused before allocating
expect_no_crash('huge', b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 1 << 30, 1 << 30, 8, 2, 0, 0, 0)), True)
results = ens_decode_all([p for _, p, _ in damaged])
for name, path, must_fail in damaged:
    if path not in results:
        continue
    got, msg = results[path]
    if must_fail and got is not None:
        fail('%s: damaged PNG decoded without an error' % name)
    elif got is None and path not in msg:
        fail('%s: message does not name the file: %s' % (name, msg))
print('%d damaged files: no crash, errors name the file' % count)

if failures:
    print('%d failure(s)' % failures)
    sys.exit(1)
print('PASS')
