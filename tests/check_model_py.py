#!/usr/bin/python3
"""check_model_py.py: a model written by `clunet train` loads unchanged in
Python's safetensors package (the reference implementation of the format),
with the documented names, shapes, metadata and values.

usage: check_model_py.py CLUNET MAKE_FIXTURE
Trains 1 epoch on a tiny set (ref, S=16, c=0.125), then:
  - safetensors.numpy.load_file and safe_open read model.safetensors and
    checkpoint.safetensors without error;
  - the tensor names are exactly the U-Net's (enc1..4, mid, dec4..1 with
    conv1/conv2, head.conv, head.out; .weight and .bias), shapes as unet.h
    (conv weights [Cout, Cin, k, k], biases [Cout]) for widths 4..64;
  - metadata: format clunet-unet, version, image_size 16, channel_rate
    0.125, upsample bilinear, input_channels 3, epochs 1;
  - values: float32, finite, equal bit for bit to an independent numpy
    parse of the raw file (8-byte length, JSON header, data offsets) and to
    the weights inside the checkpoint;
  - `clunet convert --dtype f16 --meta` writes a file that loads as float16,
    each value equal to numpy's float16 rounding of the float32 weight, with
    the same metadata plus the new fact.
Needs the safetensors package: in CI `.ci/run` installs it into .whl/
(python3 -m pip install --target .whl safetensors), found via PYTHONPATH.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

try:
    import safetensors
    import safetensors.numpy
except ImportError:
    sys.exit("check_model_py: the safetensors package is missing; install it with "
             "`python3 -m pip install --target .whl safetensors` in the source root")

checks = failed = 0


def check(cond, what):
    global checks, failed
    checks += 1
    failed += not cond
    print(("ok   " if cond else "FAIL ") + what)


def raw_read(path):
    """An independent reader: the format spelled out with numpy."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        assert e["dtype"] in ("F32", "F16")
        b, end = e["data_offsets"]
        dt = "<f4" if e["dtype"] == "F32" else "<f2"
        out[name] = np.frombuffer(blob[8 + n + b:8 + n + end], dtype=dt).reshape(e["shape"])
    return out, meta


def expected_shapes(c=0.125, cin=3):
    f = [int(32 * c * 2 ** k) for k in range(5)]
    shapes = {}

    def conv(name, ci, co, k=3):
        shapes[name + ".weight"] = (co, ci, k, k)
        shapes[name + ".bias"] = (co,)

    prev = cin
    for k in range(4):
        conv("enc%d.conv1" % (k + 1), prev, f[k])
        conv("enc%d.conv2" % (k + 1), f[k], f[k])
        prev = f[k]
    conv("mid.conv1", f[3], f[4])
    conv("mid.conv2", f[4], f[4])
    for k in range(3, -1, -1):
        conv("dec%d.conv1" % (k + 1), f[k] + f[k + 1], f[k])
        conv("dec%d.conv2" % (k + 1), f[k], f[k])
    conv("head.conv", f[0], 2)
    conv("head.out", 2, 1, 1)
    return shapes


def main():
    clunet, fixture = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="clunet-py-") as tmp:
        data, run = os.path.join(tmp, "data"), os.path.join(tmp, "run")
        subprocess.run([fixture, data], check=True)
        subprocess.run([clunet, "--device", "ref", "train", "-s", "16", "-c", "0.125", "-e", "1",
                        "--batch", "4", "--data", data, "--out", run, "-q"], check=True)
        model = os.path.join(run, "model.safetensors")
        ckpt = os.path.join(run, "checkpoint.safetensors")

        tensors = safetensors.numpy.load_file(model)
        with safetensors.safe_open(model, framework="numpy") as f:
            meta = f.metadata()
        check(True, "safetensors %s loads model.safetensors" % safetensors.__version__)
        want = expected_shapes()
        check(set(tensors) == set(want), "tensor names are the U-Net's %d parameters (got %d)"
              % (len(want), len(tensors)))
        bad = [n for n in want if n in tensors and tuple(tensors[n].shape) != want[n]]
        check(not bad, "every shape as documented" + (": wrong " + ", ".join(bad) if bad else ""))
        check(all(t.dtype == np.float32 for t in tensors.values()), "every tensor is float32")
        check(all(np.isfinite(t).all() for t in tensors.values()), "every value finite")
        w = tensors.get("enc1.conv1.weight")
        check(w is not None and float(np.abs(w).max()) > 0, "weights are not all zero")
        for key, value in [("format", "clunet-unet"), ("image_size", "16"), ("upsample", "bilinear"),
                           ("input_channels", "3"), ("epochs", "1")]:
            check(meta.get(key) == value, "metadata %s = %s (got %r)" % (key, value, meta.get(key)))
        check(meta.get("channel_rate") is not None and float(meta["channel_rate"]) == 0.125,
              "metadata channel_rate = 0.125")
        check("version" in meta, "metadata has a version")

        raw, raw_meta = raw_read(model)
        same = set(raw) == set(tensors) and all(np.array_equal(raw[n], tensors[n]) for n in raw)
        check(same and raw_meta == meta, "values and metadata equal a raw numpy parse of the file")

        ck = safetensors.numpy.load_file(ckpt)
        check(all(n in ck and np.array_equal(ck[n], tensors[n]) for n in tensors),
              "the checkpoint (also loadable) holds the same final weights")
        check("adam.m.enc1.conv1.weight" in ck and "adam.v.head.out.bias" in ck,
              "the checkpoint holds the Adam moments")

        half = os.path.join(tmp, "half.safetensors")
        subprocess.run([clunet, "convert", model, half, "--dtype", "f16", "--meta", "source=test"], check=True)
        h = safetensors.numpy.load_file(half)
        with safetensors.safe_open(half, framework="numpy") as f:
            hmeta = f.metadata()
        check(set(h) == set(tensors) and all(t.dtype == np.float16 for t in h.values()),
              "convert --dtype f16: the same tensors, float16")
        check(all(np.array_equal(h[n].view(np.uint16), tensors[n].astype(np.float16).view(np.uint16))
                  for n in tensors), "each F16 value is numpy's float16 rounding of the float32 weight")
        check(hmeta == dict(meta, source="test"), "convert keeps the metadata and adds the --meta fact")
        rh, _ = raw_read(half)
        check(all(np.array_equal(rh[n], h[n]) for n in h), "the F16 file equals a raw numpy parse")
    print("%d checks, %d failed" % (checks, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
