#!/usr/bin/env python3
"""Loads a clunet model file with Python's `safetensors` package and checks
it against a manifest written by tests/test_model_python.c.

usage: check_model_python.py MODEL MANIFEST BLOB
MANIFEST: one line per tensor, "name ndim d0 .. d{ndim-1} offset count";
BLOB: the expected values, native-order float32, at those float offsets
(written with fwrite, not by clunet's safetensors code). Exit 0 when every
name, shape and value matches and the metadata describes the model."""
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file


def main():
    model, manifest, blob = sys.argv[1:4]
    want = {}
    with open(manifest) as f:
        for line in f:
            p = line.split()
            nd = int(p[1])
            want[p[0]] = (tuple(int(v) for v in p[2:2 + nd]), int(p[2 + nd]), int(p[3 + nd]))
    values = np.fromfile(blob, dtype="=f4")
    tensors = load_file(model)
    with safe_open(model, framework="numpy") as f:
        meta = f.metadata()
    bad = []
    if set(tensors) != set(want):
        bad.append(f"names differ: extra {sorted(set(tensors) - set(want))[:3]}, "
                   f"missing {sorted(set(want) - set(tensors))[:3]}")
    for name, (shape, off, count) in want.items():
        t = tensors.get(name)
        if t is None:
            continue
        if t.dtype != np.float32 or t.shape != shape:
            bad.append(f"{name}: {t.dtype} {t.shape}, expected float32 {shape}")
        elif not np.array_equal(t.ravel(), values[off:off + count]):
            bad.append(f"{name}: values differ")
    for key, val in (("format", "clunet-unet"), ("version", "1"), ("image_size", "32"),
                     ("channel_rate", "0.25"), ("upsample", "transposed"), ("input_channels", "3"),
                     ("epochs", "3")):
        if meta.get(key) != val:
            bad.append(f"metadata {key} = {meta.get(key)!r}, expected {val!r}")
    for b in bad:
        print("FAIL", b)
    print(f"python safetensors read {len(tensors)} tensors, {sum(t.size for t in tensors.values())} floats, "
          f"{len(meta)} metadata keys: {'OK' if not bad else 'FAILED'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
