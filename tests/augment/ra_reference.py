# SPDX-License-Identifier: LGPL-2.1-or-later
"""What timm's RandAugment does, through Pillow: the reference for ens's tests.

level_to_arg: timm's _LEVEL_TO_ARG formulas (auto_augment.py), written out with the random
sign given; pillow_op: the Pillow call each timm op function makes. Shared by
test_ra_pillow.py and test_augment_cli.py.
"""
from PIL import Image, ImageEnhance, ImageOps

RESAMPLE = {'nearest': Image.NEAREST, 'bilinear': Image.BILINEAR, 'bicubic': Image.BICUBIC}
GEOMETRIC = {'Rotate', 'ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'TranslateXRel',
             'TranslateYRel'}
SIGNED = GEOMETRIC | {'ColorIncreasing', 'ContrastIncreasing', 'BrightnessIncreasing',
                      'SharpnessIncreasing'}
ALL_OPS = ['AutoContrast', 'Equalize', 'Invert', 'Rotate', 'Posterize', 'Solarize',
           'SolarizeAdd', 'Color', 'Contrast', 'Brightness', 'Sharpness', 'ShearX', 'ShearY',
           'TranslateXRel', 'TranslateYRel', 'PosterizeIncreasing', 'PosterizeOriginal',
           'SolarizeIncreasing', 'ColorIncreasing', 'ContrastIncreasing',
           'BrightnessIncreasing', 'SharpnessIncreasing', 'TranslateX', 'TranslateY']
HP = {'translate_const': 12, 'translate_pct': 0.45}


def level_to_arg(name, level, negate, hp):
    """timm's _LEVEL_TO_ARG, with the random sign given."""
    sign = (lambda v: -v if negate else v)
    f = level / 10.
    if name == 'Rotate':
        return sign(f * 30.)
    if name == 'Posterize':
        return int(f * 4)
    if name == 'PosterizeIncreasing':
        return 4 - int(f * 4)
    if name == 'PosterizeOriginal':
        return int(f * 4) + 4
    if name == 'Solarize':
        return min(256, int(f * 256))
    if name == 'SolarizeIncreasing':
        return 256 - min(256, int(f * 256))
    if name == 'SolarizeAdd':
        return min(128, int(f * 110))
    if name in ('Color', 'Contrast', 'Brightness', 'Sharpness'):
        return f * 1.8 + 0.1
    if name.endswith('Increasing'):  # the four enhance ops
        return max(0.1, 1.0 + sign(f * .9))
    if name in ('ShearX', 'ShearY'):
        return sign(f * 0.3)
    if name in ('TranslateX', 'TranslateY'):
        return sign(f * float(hp['translate_const']))
    if name in ('TranslateXRel', 'TranslateYRel'):
        return sign(f * hp.get('translate_pct', 0.45))
    return None  # AutoContrast, Equalize, Invert


def pillow_op(name, img, arg, resample, fill):
    """What timm's op functions do, through Pillow."""
    if name == 'AutoContrast':
        return ImageOps.autocontrast(img)
    if name == 'Equalize':
        return ImageOps.equalize(img)
    if name == 'Invert':
        return ImageOps.invert(img)
    if name.startswith('Posterize'):
        return img if arg >= 8 else ImageOps.posterize(img, arg)
    if name.startswith('SolarizeAdd'):
        lut = [min(255, i + arg) if i < 128 else i for i in range(256)]
        return img.point(lut * len(img.getbands()))
    if name.startswith('Solarize'):
        return ImageOps.solarize(img, arg)
    for base, cls in (('Color', ImageEnhance.Color), ('Contrast', ImageEnhance.Contrast),
                      ('Brightness', ImageEnhance.Brightness),
                      ('Sharpness', ImageEnhance.Sharpness)):
        if name.startswith(base):
            return cls(img).enhance(arg)
    kw = dict(resample=RESAMPLE[resample], fillcolor=fill)
    if name == 'Rotate':
        return img.rotate(arg, **kw)
    w, h = img.size
    matrix = {'ShearX': (1, arg, 0, 0, 1, 0), 'ShearY': (1, 0, 0, arg, 1, 0),
              'TranslateX': (1, 0, arg, 0, 1, 0), 'TranslateY': (1, 0, 0, 0, 1, arg),
              'TranslateXRel': (1, 0, arg * w, 0, 1, 0),
              'TranslateYRel': (1, 0, 0, 0, 1, arg * h)}[name]
    return img.transform(img.size, Image.AFFINE, matrix, **kw)
