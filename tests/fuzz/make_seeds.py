#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write a small seed corpus for fuzz_safetensors: valid files with every dtype, a scalar,
metadata and an empty tensor, plus a few near-misses. Usage: make_seeds.py OUT_DIR STAMP."""
import json
import os
import struct
import sys


def st_file(entries, meta=None, pad=0):
    """entries: [(name, dtype, shape, payload bytes)], packed back to back."""
    header, data = {}, b''
    if meta is not None:
        header['__metadata__'] = meta
    for name, dtype, shape, payload in entries:
        header[name] = {'dtype': dtype, 'shape': shape,
                        'data_offsets': [len(data), len(data) + len(payload)]}
        data += payload
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((-len(text)) % 8 + pad)
    return struct.pack('<Q', len(text)) + text + data


def main():
    out_dir, stamp = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    f32 = struct.pack('<4f', 1.0, -2.5, 0.0, 3.25)
    seeds = {
        'all_dtypes': st_file([
            ('conv.weight', 'F32', [2, 2], f32),
            ('h', 'F16', [3], struct.pack('<3H', 0x3C00, 0x0001, 0x7C00)),
            ('b', 'BF16', [2], struct.pack('<2H', 0x3F80, 0x7FC0)),
            ('d', 'F64', [1], struct.pack('<d', 0.1)),
            ('bn.num_batches_tracked', 'I64', [], struct.pack('<q', 0)),
            ('i32', 'I32', [1], struct.pack('<i', -1)),
            ('i16', 'I16', [1], struct.pack('<h', 7)),
            ('i8', 'I8', [2], b'\x01\xff'),
            ('u8', 'U8', [1, 1, 3], b'abc'),
            ('m', 'BOOL', [1], b'\x01'),
            ('empty', 'F32', [0, 4], b''),
        ], meta={'format': 'pt', 'variant': 'b0'}),
        'minimal': st_file([('x', 'F32', [1], struct.pack('<f', 1.0))]),
        'empty_header': st_file([]),
        'metadata_only': st_file([], meta={'k': 'v\u00e9\U0001F600'}),
        'overlap': st_file([('a', 'F32', [2], f32[:8])]).replace(b'[0,8]', b'[0,4]'),
        'truncated': st_file([('x', 'F32', [4], f32)])[:-3],
    }
    for name, blob in seeds.items():
        with open(os.path.join(out_dir, name + '.safetensors'), 'wb') as f:
            f.write(blob)
    with open(stamp, 'w') as f:
        f.write('\n'.join(sorted(seeds)) + '\n')


if __name__ == '__main__':
    main()
