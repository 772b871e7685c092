#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Seed corpus for fuzz_config_json: hub-style config.json files (valid and slightly broken)."""
import json
import os
import sys

out_dir, stamp = sys.argv[1], sys.argv[2]
os.makedirs(out_dir, exist_ok=True)
cfg = {
    "architecture": "tf_efficientnet_b0", "num_classes": 3, "num_features": 1280,
    "label_names": ["cat", "dog", "caf\u00e9 \"x\""],
    "pretrained_cfg": {"tag": "ns_jft_in1k", "input_size": [3, 224, 224], "crop_pct": 0.875,
                       "interpolation": "bicubic", "mean": [0.485, 0.456, 0.406],
                       "std": [0.229, 0.224, 0.225], "crop_mode": "center", "num_classes": 3},
}
seeds = {
    "full.json": json.dumps(cfg, indent=2),
    "dict_labels.json": json.dumps(dict(cfg, label_names={"0": "a", "2": "c"})),
    "bilinear.json": json.dumps({"pretrained_cfg": {"interpolation": "bilinear",
                                                    "input_size": [3, 192, 256]}}),
    "wrong_type.json": json.dumps({"num_classes": "ten"}),
    "truncated.json": json.dumps(cfg)[:57],
}
for name, text in seeds.items():
    with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
        f.write(text)
with open(stamp, "w") as f:
    f.write("ok\n")
