#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Convert timm's released Noisy Student EfficientNet .pth to .safetensors (+ hub config.json).

timm's GitHub releases hold the NS weights as plain PyTorch state_dicts, e.g.
tf_efficientnet_b0_ns-c0e6a31c.pth (the pretrained_cfg 'url' of tf_efficientnet_b0.ns_jft_in1k).
The Hugging Face hub copies (timm/tf_efficientnet_b0.ns_jft_in1k: model.safetensors + config.json)
are the same tensors as saved by timm's model.state_dict(). This script turns the former into the
latter, so `ens-classify --model DIR` can use either source.

Usage:
  /usr/bin/python3 engine/tools/pth_to_safetensors.py IN.pth OUT.safetensors
  /usr/bin/python3 engine/tools/pth_to_safetensors.py IN.pth --hub-dir DIR [--labels FILE]
      [--variant b0..b7|l2] [--tag ns_jft_in1k|ns_jft_in1k_475]

  OUT.safetensors      write just the weights
  --hub-dir DIR        write DIR/model.safetensors and DIR/config.json (timm hub layout)
  --labels FILE        one class name per line; stored as config.json "label_names"
  --variant V          default: detected from the tensor shapes
  --tag T              pretrained tag for config.json (default ns_jft_in1k; l2 also has
                       ns_jft_in1k_475, the 475x475 fine-tune, tf_efficientnet_l2_ns_475-*.pth)
  --no-num-batches-tracked
                       do not add the BatchNorm 'num_batches_tracked' counters

What is written:
  * tensors with the .pth's key names (a DataParallel 'module.' prefix is stripped), shapes and
    dtypes (float32 stays F32, int64 I64 ...), in the .pth's order, C-contiguous, little-endian;
  * every BatchNorm (a prefix P with P.running_mean) gets P.num_batches_tracked = int64 0, shape []
    when the .pth lacks it, right after P.running_var -- that is what PyTorch fills in when timm
    loads an old checkpoint, hence what the hub's state_dict() files contain;
  * safetensors layout: u64 LE header length, JSON header (padded with spaces to a multiple of 8)
    with "__metadata__": {"format": "pt"}, then the data, tensors back to back;
  * config.json: {"architecture", "num_classes", "num_features", ["label_names"],
    "pretrained_cfg": {tag, custom_load, input_size, fixed_input_size, interpolation, crop_pct,
    crop_mode, mean, std, num_classes, pool_size, first_conv, classifier}} as on the hub.

Reading the .pth needs neither torch nor timm: both torch.save formats (the zip archive of
torch >= 1.6 and the older "legacy" stream) are parsed here with a restricted unpickler that only
accepts tensors, storages and dicts (so a malicious .pth cannot run code). numpy is required.
This script is a one-off preparation step; nothing in ens runs Python at run time.
"""
import argparse
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import numpy as np

# ---------------------------------------------------------------------------- pretrained cfgs

# Per variant: (input size, crop_pct) of the ns_jft_in1k tags (timm's efficientnet.py); all use
# bicubic, center crop, the ImageNet mean/std. pool_size = ceil(input / 32).
NS_CFGS = {
    ('b0', 'ns_jft_in1k'): (224, 0.875),
    ('b1', 'ns_jft_in1k'): (240, 0.882),
    ('b2', 'ns_jft_in1k'): (260, 0.89),
    ('b3', 'ns_jft_in1k'): (300, 0.904),
    ('b4', 'ns_jft_in1k'): (380, 0.922),
    ('b5', 'ns_jft_in1k'): (456, 0.934),
    ('b6', 'ns_jft_in1k'): (528, 0.942),
    ('b7', 'ns_jft_in1k'): (600, 0.949),
    ('l2', 'ns_jft_in1k'): (800, 0.96),
    ('l2', 'ns_jft_in1k_475'): (475, 0.936),
}

# (conv_stem out channels, num_features, number of blocks) -> variant
VARIANT_SHAPES = {
    (32, 1280, 16): 'b0', (32, 1280, 23): 'b1', (32, 1408, 23): 'b2', (40, 1536, 26): 'b3',
    (48, 1792, 32): 'b4', (48, 2048, 39): 'b5', (56, 2304, 45): 'b6', (64, 2560, 55): 'b7',
    (136, 5504, 88): 'l2',
}


def pretrained_cfg(variant, tag, num_classes):
    if (variant, tag) not in NS_CFGS:
        raise ValueError('no pretrained cfg for %s.%s' % (variant, tag))
    size, crop_pct = NS_CFGS[(variant, tag)]
    pool = -(-size // 32)
    return collections.OrderedDict([
        ('tag', tag), ('custom_load', False), ('input_size', [3, size, size]),
        ('fixed_input_size', False), ('interpolation', 'bicubic'), ('crop_pct', crop_pct),
        ('crop_mode', 'center'), ('mean', [0.485, 0.456, 0.406]), ('std', [0.229, 0.224, 0.225]),
        ('num_classes', num_classes), ('pool_size', [pool, pool]), ('first_conv', 'conv_stem'),
        ('classifier', 'classifier')])


def detect_variant(state):
    try:
        stem = state['conv_stem.weight'].shape[0]
        feats = state['conv_head.weight'].shape[0]
    except KeyError as e:
        raise ValueError('not a timm EfficientNet state_dict: no tensor %s' % e)
    blocks = {'.'.join(k.split('.')[:3]) for k in state if k.startswith('blocks.')}
    v = VARIANT_SHAPES.get((stem, feats, len(blocks)))
    if v is None:
        raise ValueError('unknown EfficientNet shape: stem %d, features %d, %d blocks'
                         % (stem, feats, len(blocks)))
    return v


def hub_config(state, variant, tag, label_names=None):
    num_classes = int(state['classifier.weight'].shape[0])
    cfg = collections.OrderedDict([
        ('architecture', 'tf_efficientnet_' + variant),
        ('num_classes', num_classes),
        ('num_features', int(state['conv_head.weight'].shape[0]))])
    if label_names is not None:
        if len(label_names) != num_classes:
            raise ValueError('%d labels for %d classes' % (len(label_names), num_classes))
        cfg['label_names'] = list(label_names)
    cfg['pretrained_cfg'] = pretrained_cfg(variant, tag, num_classes)
    return cfg

# ---------------------------------------------------------------------------- .pth reading

# torch storage class name -> (numpy dtype, safetensors dtype)
STORAGE_DTYPES = {
    'FloatStorage': ('<f4', 'F32'), 'HalfStorage': ('<f2', 'F16'),
    'BFloat16Storage': ('<u2', 'BF16'), 'DoubleStorage': ('<f8', 'F64'),
    'LongStorage': ('<i8', 'I64'), 'IntStorage': ('<i4', 'I32'), 'ShortStorage': ('<i2', 'I16'),
    'CharStorage': ('i1', 'I8'), 'ByteStorage': ('u1', 'U8'), 'BoolStorage': ('u1', 'BOOL'),
}


class PthError(ValueError):
    pass


class StorageType:
    def __init__(self, name):
        if name not in STORAGE_DTYPES:
            raise PthError('unsupported storage type torch.%s' % name)
        self.name = name
        self.np_dtype, self.st_dtype = STORAGE_DTYPES[name]


class Tensor:
    """A rebuilt tensor: numpy array (C order) + safetensors dtype name."""

    def __init__(self, array, st_dtype):
        self.array = array
        self.st_dtype = st_dtype


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, hooks=None,
                       metadata=None):
    arr, st_dtype = storage
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride) or any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise PthError('bad tensor geometry size %s stride %s' % (size, stride))
    if 0 in size:
        return Tensor(np.zeros(size, dtype=arr.dtype), st_dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if offset < 0 or last >= arr.size:
        raise PthError('tensor of size %s stride %s at offset %d exceeds its storage (%d)'
                       % (size, stride, offset, arr.size))
    view = np.lib.stride_tricks.as_strided(
        arr[offset:], shape=size, strides=tuple(s * arr.itemsize for s in stride), writeable=False)
    return Tensor(np.ascontiguousarray(view), st_dtype)


def _rebuild_parameter(data, requires_grad=False, hooks=None, state=None):
    return data


def _rebuild_from_type_v2(func, new_type, args, state):
    return func(*args)


class _Placeholder:
    """Stands for torch classes that only tag a rebuilt value (torch.Tensor, Parameter)."""


# The only globals a state_dict pickle may name (besides torch._utils._rebuild_tensor_v2 and
# torch.*Storage, handled in find_class).
_ALLOWED = {
    ('collections', 'OrderedDict'): collections.OrderedDict,
    ('torch._utils', '_rebuild_parameter'): _rebuild_parameter,
    ('torch._utils', '_rebuild_parameter_with_state'): _rebuild_parameter,
    ('torch._tensor', '_rebuild_from_type_v2'): _rebuild_from_type_v2,
    ('torch', 'Tensor'): _Placeholder,
    ('torch.nn.parameter', 'Parameter'): _Placeholder,
}


class _Unpickler(pickle.Unpickler):
    """Unpickler of state_dicts: load_storage(persistent id fields) gives a storage, rebuild
    (same arguments as torch._utils._rebuild_tensor_v2) a tensor."""

    def __init__(self, f, load_storage, rebuild=_rebuild_tensor_v2):
        super().__init__(f)
        self._load_storage = load_storage
        self._rebuild = rebuild

    def find_class(self, module, name):
        if (module, name) == ('torch._utils', '_rebuild_tensor_v2'):
            return self._rebuild
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == 'torch' and name.endswith('Storage'):
            return StorageType(name)
        raise PthError('refusing to load %s.%s from the pickle (not a plain state_dict)'
                       % (module, name))

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid:
            raise PthError('unexpected persistent id %r' % (pid,))
        kind = pid[0].decode('ascii') if isinstance(pid[0], bytes) else pid[0]
        if kind != 'storage':
            raise PthError('unexpected persistent object %r' % (kind,))
        return self._load_storage(pid[1:])


def _read_zip(path):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        pkl = [n for n in names if n.endswith('data.pkl') and n.count('/') == 1]
        if not pkl:
            raise PthError('%s: zip archive without <name>/data.pkl' % path)
        prefix = pkl[0][:-len('data.pkl')]
        big = False
        if prefix + 'byteorder' in names:
            big = z.read(prefix + 'byteorder').strip() == b'big'
        cache = {}

        def load_storage(data):
            stype, key, _location = data[0], data[1], data[2]
            if not isinstance(stype, StorageType):
                raise PthError('unexpected storage type %r' % (stype,))
            key = key.decode('ascii') if isinstance(key, bytes) else str(key)
            if key not in cache:
                raw = z.read(prefix + 'data/' + key)
                dt = np.dtype(stype.np_dtype)
                if len(raw) % dt.itemsize:
                    raise PthError('%s: storage %s has %d bytes, not a multiple of %d'
                                   % (path, key, len(raw), dt.itemsize))
                arr = np.frombuffer(raw, dtype=dt.newbyteorder('>') if big else dt)
                cache[key] = (arr.astype(dt) if big else arr, stype.st_dtype)
            return cache[key]

        return _Unpickler(io.BytesIO(z.read(pkl[0])), load_storage).load()


LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
LEGACY_PROTOCOL = 1001


def _read_legacy(path):
    with open(path, 'rb') as f:
        try:
            magic = pickle.load(f)
        except Exception as e:
            raise PthError('%s: neither a zip archive nor a torch.save stream (%s)' % (path, e))
        if magic != LEGACY_MAGIC:
            raise PthError('%s: not a torch.save file (bad magic number)' % path)
        if pickle.load(f) != LEGACY_PROTOCOL:
            raise PthError('%s: unsupported torch.save protocol version' % path)
        sys_info = pickle.load(f)
        if isinstance(sys_info, dict) and not sys_info.get('little_endian', True):
            raise PthError('%s: big-endian legacy files are not supported' % path)
        roots = {}  # key -> [StorageType, numel, array or None]
        views = []  # (key, root, offset, size) resolved after the data is read

        class View:
            def __init__(self, root, offset, size):
                self.root, self.offset, self.size = root, offset, size
                self.value = None

        def load_storage(data):
            stype, key, _location, numel, view = data
            if not isinstance(stype, StorageType):
                raise PthError('unexpected storage type %r' % (stype,))
            key = key.decode('ascii') if isinstance(key, bytes) else str(key)
            roots.setdefault(key, [stype, numel, None])
            entry = roots[key]
            if view is not None:
                _vkey, off, size = view
                v = View(entry, off, size)
                views.append(v)
                return v
            return entry

        # Tensors reference storages whose bytes come after the pickle: unpickle with deferred
        # tensors, then read the data and rebuild them.
        deferred = []

        class Pending:
            pass

        def deferred_rebuild(storage, *args):
            p = Pending()
            deferred.append((p, storage, args))
            return p

        result = _Unpickler(f, load_storage, deferred_rebuild).load()
        keys = pickle.load(f)
        for key in keys:
            key = key.decode('ascii') if isinstance(key, bytes) else str(key)
            if key not in roots:
                raise PthError('%s: data for unknown storage %s' % (path, key))
            stype, numel, _ = roots[key]
            (n,) = struct.unpack('<q', f.read(8))
            dt = np.dtype(stype.np_dtype)
            raw = f.read(n * dt.itemsize)
            if n != numel or len(raw) != n * dt.itemsize:
                raise PthError('%s: storage %s truncated or inconsistent' % (path, key))
            roots[key][2] = (np.frombuffer(raw, dtype=dt), stype.st_dtype)
        for v in views:
            arr, st = v.root[2]
            v.value = (arr[v.offset:v.offset + v.size], st)
        resolved = {}
        for p, storage, args in deferred:
            data = storage.value if isinstance(storage, View) else storage[2]
            if data is None:
                raise PthError('%s: storage without data' % path)
            resolved[id(p)] = _rebuild_tensor_v2(data, *args)

        def fix(obj):
            if isinstance(obj, Pending):
                return resolved[id(obj)]
            if isinstance(obj, dict):
                return collections.OrderedDict((k, fix(v)) for k, v in obj.items())
            return obj

        return fix(result)


def read_pth(path):
    """Ordered dict key -> Tensor from a torch.save()d state_dict (zip or legacy format)."""
    obj = _read_zip(path) if zipfile.is_zipfile(path) else _read_legacy(path)
    if isinstance(obj, dict) and 'state_dict' in obj and isinstance(obj['state_dict'], dict):
        obj = obj['state_dict']  # a training checkpoint rather than a bare state_dict
    if not isinstance(obj, dict):
        raise PthError('%s: holds a %s, not a state_dict' % (path, type(obj).__name__))
    out = collections.OrderedDict()
    for k, v in obj.items():
        if not isinstance(v, Tensor):
            raise PthError('%s: entry %r is not a tensor' % (path, k))
        if k.startswith('module.'):
            k = k[len('module.'):]
        out[k] = v
    return out

# ---------------------------------------------------------------------------- writing


def add_num_batches_tracked(state):
    """Insert P.num_batches_tracked (int64 0, shape []) after P.running_var where missing."""
    out = collections.OrderedDict()
    bn = {k[:-len('.running_mean')] for k in state if k.endswith('.running_mean')}
    for k, v in state.items():
        out[k] = v
        if k.endswith('.running_var'):
            p = k[:-len('.running_var')]
            if p in bn and p + '.num_batches_tracked' not in state:
                out[p + '.num_batches_tracked'] = Tensor(np.zeros((), dtype='<i8'), 'I64')
    return out


def write_safetensors(path, tensors, metadata=None):
    """tensors: ordered (key, numpy array, safetensors dtype) triples. Arrays are stored
    little-endian C order; their numpy dtype must have the size of the safetensors dtype.
    Written to path.tmp, then renamed."""
    sizes = {'F32': 4, 'F16': 2, 'BF16': 2, 'F64': 8, 'I64': 8, 'I32': 4, 'I16': 2, 'I8': 1,
             'U8': 1, 'BOOL': 1}
    header = collections.OrderedDict()
    header['__metadata__'] = dict(metadata if metadata is not None else {'format': 'pt'})
    blobs, off = [], 0
    for key, arr, dt in tensors:
        if dt not in sizes or np.dtype(arr.dtype).itemsize != sizes[dt]:
            raise ValueError('%s: numpy %s cannot be stored as %s' % (key, arr.dtype, dt))
        le = np.ascontiguousarray(arr, dtype=np.dtype(arr.dtype).newbyteorder('<'))
        blob = le.tobytes()
        header[key] = {'dtype': dt, 'shape': [int(s) for s in arr.shape],
                       'data_offsets': [off, off + len(blob)]}
        blobs.append(blob)
        off += len(blob)
    hb = json.dumps(header, separators=(',', ':')).encode('utf-8')
    hb += b' ' * (-len(hb) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def convert(pth_path, out_path=None, hub_dir=None, variant=None, tag='ns_jft_in1k',
            label_names=None, num_batches_tracked=True):
    state = read_pth(pth_path)
    if num_batches_tracked:
        state = add_num_batches_tracked(state)
    if hub_dir is not None:
        os.makedirs(hub_dir, exist_ok=True)
        out_path = os.path.join(hub_dir, 'model.safetensors')
        arrays = {k: t.array for k, t in state.items()}
        cfg = hub_config(arrays, variant or detect_variant(arrays), tag, label_names)
        tmp = os.path.join(hub_dir, 'config.json.tmp')
        with open(tmp, 'w') as f:
            json.dump(cfg, f, indent=4)
            f.write('\n')
        os.replace(tmp, os.path.join(hub_dir, 'config.json'))
    write_safetensors(out_path, [(k, t.array, t.st_dtype) for k, t in state.items()])
    return out_path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                 epilog='See the module docstring for details.')
    ap.add_argument('pth')
    ap.add_argument('out', nargs='?', help='output .safetensors (or use --hub-dir)')
    ap.add_argument('--hub-dir')
    ap.add_argument('--labels')
    ap.add_argument('--variant', choices=sorted({v for v, _ in NS_CFGS}))
    ap.add_argument('--tag', default='ns_jft_in1k')
    ap.add_argument('--no-num-batches-tracked', action='store_true')
    a = ap.parse_args(argv)
    if (a.out is None) == (a.hub_dir is None):
        ap.error('give exactly one of OUT.safetensors and --hub-dir DIR')
    if a.labels and not a.hub_dir:
        ap.error('--labels needs --hub-dir (labels live in config.json)')
    labels = None
    if a.labels:
        with open(a.labels, encoding='utf-8') as f:
            labels = [line.rstrip('\r\n') for line in f]
        while labels and labels[-1] == '':
            labels.pop()
    try:
        out = convert(a.pth, a.out, a.hub_dir, a.variant, a.tag, labels,
                      not a.no_num_batches_tracked)
    except (PthError, ValueError, OSError, zipfile.BadZipFile, pickle.UnpicklingError) as e:
        print('pth_to_safetensors: %s' % e, file=sys.stderr)
        return 1
    print('wrote %s' % out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
