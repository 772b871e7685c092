#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Cross-check of ens's resampler and ens_preprocess against Pillow (and torchvision when it
is installed) on random images: both filters, down- and upscaling, one-axis changes,
identity, output windows, odd sizes, non-square crops (timm's ResizeKeepRatio path) and
crop_pct > 1 (CenterCrop's zero padding). Everything must match bit for bit.

usage: test_pil_crosscheck.py PP_TOOL WORKDIR     (exit 77 = skipped: no Pillow / numpy)
"""
import math
import os
import subprocess
import sys

try:
    import numpy as np
    from PIL import Image, ImageFile
    ImageFile.MAXBLOCK = 1 << 24  # Pillow cannot write big noisy progressive JPEGs otherwise
except ImportError as e:  # pragma: no cover
    print('SKIP: %s (install python3-pil python3-numpy)' % e)
    sys.exit(77)

try:
    import torch
    import torchvision.transforms as T
    import torchvision.transforms.functional as TF
except ImportError:
    torch = None

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)
FILTERS = {'bicubic': Image.BICUBIC, 'bilinear': Image.BILINEAR}

tool, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(20260101)
failures = 0


def make_image(w, h, kind):
    if kind == 'noise':
        return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    if kind == 'checker':  # 0/255 edges: maximal bicubic overshoot, exercises clip8
        yy, xx = np.mgrid[0:h, 0:w]
        a = (((yy // 2) + (xx // 3)) % 2 * 255).astype(np.uint8)
        return np.stack([a, 255 - a, a[:, ::-1]], axis=2).copy()
    yy, xx = np.mgrid[0:h, 0:w]  # smooth
    r = (xx * 255 // max(w - 1, 1)).astype(np.uint8)
    g = (yy * 255 // max(h - 1, 1)).astype(np.uint8)
    b = ((xx + yy) * 7 % 256).astype(np.uint8)
    return np.stack([r, g, b], axis=2).copy()


def run(args):
    p = subprocess.run([tool] + [str(a) for a in args], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError('pp_tool %s failed: %s' % (' '.join(map(str, args)), p.stderr))


def check_resize(img, ow, oh, filt, win=None):
    global failures
    h, w = img.shape[:2]
    fin, fout = os.path.join(work, 'in.rgb'), os.path.join(work, 'out.rgb')
    img.tofile(fin)
    want = np.asarray(Image.fromarray(img).resize((ow, oh), FILTERS[filt]))
    args = ['resize', w, h, ow, oh, filt, fin, fout]
    if win:
        x, y, ww, wh = win
        args += [x, y, ww, wh]
        want = want[y:y + wh, x:x + ww]
    run(args)
    got = np.fromfile(fout, np.uint8).reshape(want.shape)
    d = int(np.abs(got.astype(int) - want.astype(int)).max())
    if d:
        failures += 1
        print('FAIL resize %dx%d -> %dx%d %s win=%s: max|diff| %d, %d bytes differ'
              % (w, h, ow, oh, filt, win, d, int((got != want).sum())))
    return d


def ref_preprocess(img, oh, ow, crop_pct, interp):
    """timm transforms_imagenet_eval (crop_mode center), as torchvision runs it."""
    pil = Image.fromarray(img)
    if oh == ow:
        s = math.floor(ow / crop_pct)
        if torch is not None:
            pil = T.Resize(s, interpolation=T.InterpolationMode(interp))(pil)
        else:  # torchvision's shorter-side rule
            w, h = pil.size
            short, long = (w, h) if w <= h else (h, w)
            ns, nl = s, int(s * long / short)
            size = (ns, nl) if w <= h else (nl, ns)
            if size != pil.size:
                pil = pil.resize(size, FILTERS[interp])
    else:  # timm ResizeKeepRatio(scale_size): no interpolation passed -> bilinear
        th, tw = math.floor(oh / crop_pct), math.floor(ow / crop_pct)
        ih, iw = img.shape[:2]
        ratio = min(ih / th, iw / tw)
        nh, nw = round(ih * 1.0 / ratio), round(iw * 1.0 / ratio)
        if torch is not None:
            pil = TF.resize(pil, [nh, nw], T.InterpolationMode.BILINEAR)
        else:
            pil = pil.resize((nw, nh), Image.BILINEAR)
    if torch is not None:
        t = T.CenterCrop((oh, ow))(pil)
        x = T.Normalize(mean=torch.tensor(MEAN), std=torch.tensor(STD))(T.ToTensor()(t))
        return x.numpy()
    a = np.asarray(pil)
    h, w = a.shape[:2]
    pl = (ow - w) // 2 if ow > w else 0
    pt = (oh - h) // 2 if oh > h else 0
    if pl or pt or ow > w or oh > h:
        pad = np.zeros((max(h, oh), max(w, ow), 3), np.uint8)
        pad[pt:pt + h, pl:pl + w] = a
        a = pad
        h, w = a.shape[:2]
    top, left = int(round((h - oh) / 2.0)), int(round((w - ow) / 2.0))
    a = a[top:top + oh, left:left + ow]
    x = a.astype(np.float32) / np.float32(255)
    x = (x - MEAN) / STD
    return x.transpose(2, 0, 1)


def check_preprocess(img, oh, ow, crop_pct, interp):
    global failures
    h, w = img.shape[:2]
    fin, fout = os.path.join(work, 'pin.rgb'), os.path.join(work, 'pout.f32')
    img.tofile(fin)
    # the C side gets 'default' for non-square (timm's bilinear) and the filter for square
    run(['preprocess', w, h, oh, ow, repr(crop_pct), interp if oh == ow else 'default', fin, fout])
    got = np.fromfile(fout, np.float32).reshape(3, oh, ow)
    want = ref_preprocess(img, oh, ow, crop_pct, interp)
    n = int((got.view(np.uint32) != want.view(np.uint32)).sum())
    if n:
        failures += 1
        print('FAIL preprocess %dx%d -> %dx%d crop_pct %g %s: %d floats differ, max|diff| %g'
              % (w, h, ow, oh, crop_pct, interp, n, float(np.abs(got - want).max())))
    return n


def decode(path):
    fout = os.path.join(work, 'dec.rgb')
    p = subprocess.run([tool, 'decode', path, fout], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError('pp_tool decode %s failed: %s' % (path, p.stderr))
    w, h = map(int, p.stdout.split())
    return np.fromfile(fout, np.uint8).reshape(h, w, 3)


def check_decode(path, want, what):
    global failures
    got = decode(path)
    if got.shape != want.shape or (got != want).any():
        failures += 1
        d = int(np.abs(got.astype(int) - want.astype(int)).max()) if got.shape == want.shape else -1
        print('FAIL decode %s: shape %s vs %s, max|diff| %d' % (what, got.shape, want.shape, d))


def write_pnm(path, kind, img, maxval, comment=True):
    h, w = img.shape[:2]
    head = b'P%d\n' % kind + (b'# made by test_pil_crosscheck\n' if comment else b'')
    head += b'%d %d\n%d\n' % (w, h, maxval)
    if kind in (5, 6):
        body = img.astype('>u2').tobytes() if maxval > 255 else img.astype(np.uint8).tobytes()
    else:
        flat = img.reshape(-1)
        body = b''.join(b'%d%s' % (v, b'\n' if i % 17 == 16 else b' ') for i, v in enumerate(flat))
    with open(path, 'wb') as f:
        f.write(head + body)


def check_decoders():
    cases = 0
    # JPEG: Pillow (libjpeg-turbo) encodes, both decode; must be identical
    for (w, h) in ((1, 1), (7, 5), (67, 45), (320, 241)):
        img = make_image(w, h, 'smooth')
        img[::3, ::2] = rng.integers(0, 256, img[::3, ::2].shape, dtype=np.uint8)
        for sub in (0, 1, 2):
            for prog in (False, True):
                path = os.path.join(work, 'x.jpg')
                Image.fromarray(img).save(path, quality=85, subsampling=sub, progressive=prog)
                want = np.asarray(Image.open(path).convert('RGB'))
                check_decode(path, want, 'jpeg %dx%d subsampling %d progressive %s'
                             % (w, h, sub, prog))
                cases += 1
        path = os.path.join(work, 'g.jpg')
        Image.fromarray(img[:, :, 1]).save(path, quality=90)
        check_decode(path, np.asarray(Image.open(path).convert('RGB')), 'gray jpeg')
        cases += 1
    dog = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'shared',
                       'data', 'dog.jpg')
    if os.path.exists(dog):
        check_decode(dog, np.asarray(Image.open(dog).convert('RGB')), 'dog.jpg')
        cases += 1
    # PNM: every kind, maxvals 1..65535
    for maxval in (1, 2, 3, 6, 15, 100, 254, 255, 256, 1000, 4095, 65535):
        for kind in (2, 3, 5, 6):
            chans = 3 if kind in (3, 6) else 1
            img = rng.integers(0, maxval + 1, (5, 7, chans))
            img[0, 0] = maxval
            img[0, 1] = 0
            if chans == 1:
                img = img[:, :, 0]
            path = os.path.join(work, 'x.pnm')
            write_pnm(path, kind, img, maxval)
            if maxval > 255 and chans == 1:
                # Pillow makes mode "I" and convert('RGB') clips at 255; ens rescales like
                # every other case (documented), so compare with the rescale formula
                v = np.array([[min(255, round(int(x) / maxval * 255)) for x in row] for row in img])
                want = np.repeat(v[:, :, None], 3, axis=2).astype(np.uint8)
            else:
                want = np.asarray(Image.open(path).convert('RGB'))
            check_decode(path, want, 'P%d maxval %d' % (kind, maxval))
            cases += 1
    return cases


def main():
    cases = check_decoders()
    # resize: sizes x factors x filters x image kinds
    sizes = [(1, 1), (2, 3), (7, 5), (17, 64), (100, 37), (333, 250), (640, 480), (4095, 1),
             (1, 300)]
    for (w, h) in sizes:
        for kind in ('noise', 'checker', 'smooth'):
            img = make_image(w, h, kind)
            outs = {(w, h), (max(1, w // 2), max(1, h // 3)), (w * 2 + 1, h * 3),
                    (w, max(1, h // 2)), (w, h * 2 + 3), (max(1, w // 3), h), (w * 3, h),
                    (max(1, int(w * 0.73)), max(1, int(h * 1.41))), (1, 1), (224, 224)}
            if w * h < 5000:
                outs.add((97, 131))
            for (ow, oh) in sorted(outs):
                if ow * oh > 3_000_000:
                    continue
                for filt in FILTERS:
                    check_resize(img, ow, oh, filt)
                    cases += 1
    # windows of the output (what the center crop uses)
    for _ in range(40):
        w, h = int(rng.integers(1, 400)), int(rng.integers(1, 400))
        ow, oh = int(rng.integers(1, 500)), int(rng.integers(1, 500))
        x, y = int(rng.integers(0, ow)), int(rng.integers(0, oh))
        ww, wh = int(rng.integers(1, ow - x + 1)), int(rng.integers(1, oh - y + 1))
        img = make_image(w, h, 'noise')
        for filt in FILTERS:
            check_resize(img, ow, oh, filt, (x, y, ww, wh))
            cases += 1
    # whole eval transform
    pp = [((1213, 1546), 224, 224, 0.875), ((1, 1), 224, 224, 0.875), ((7, 5), 224, 224, 0.875),
          ((5, 7), 32, 32, 0.875), ((4095, 1), 8, 8, 0.875), ((1, 4095), 8, 8, 0.875),
          ((300, 200), 300, 300, 0.904), ((640, 480), 240, 320, 0.875),
          ((480, 640), 240, 320, 0.9), ((333, 333), 224, 160, 0.875), ((50, 70), 64, 64, 1.25),
          ((70, 50), 60, 40, 1.1), ((200, 100), 224, 224, 0.8), ((321, 123), 100, 100, 1.0),
          ((999, 601), 260, 260, 0.89), ((123, 457), 456, 456, 0.934)]
    for (h, w), oh, ow, pct in pp:
        img = make_image(w, h, 'noise' if w * h < 10000 else 'smooth')
        for interp in (('bicubic', 'bilinear') if oh == ow else ('bilinear',)):
            check_preprocess(img, oh, ow, pct, interp)
            cases += 1
    print('%d cases, %d failures (reference: Pillow %s%s)'
          % (cases, failures, Image.__version__,
             ', torchvision transforms' if torch is not None else ', numpy restatement of torchvision'))
    return 1 if failures else 0


sys.exit(main())
