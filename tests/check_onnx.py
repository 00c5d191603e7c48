#!/usr/bin/python3
"""check_onnx.py: `clunet export --onnx` checked by the reference tools of
the format: onnx.checker (full check, with shape inference) and ONNX Runtime.

usage: check_onnx.py CLUNET ONNX_FIXTURE
For bilinear and transposed up-sampling: onnx_fixture writes a small clunet
model (S=32, c=0.25) and clunet's own probabilities for two inputs (ref);
`clunet export` writes it as ONNX with opset 13 and with opset 17 (and a
bilinear net with 3 output channels goes through the exporter directly,
opset 13); then
  - onnx.checker.check_model(full_check=True) passes; IR version 8, the
    opset asked for, only the documented operators;
  - input "image" (N, 3, 32, 32) with N symbolic, output "probability"
    (N, K, 32, 32); metadata_props hold clunet_version, image_size 32,
    channel_rate 0.25, the up-sampling and the normalisation;
  - ONNX Runtime (CPU) on the two inputs, batched and one at a time (the
    batch is dynamic), gives clunet's probabilities within 1e-5.
Needs onnx and onnxruntime from PyPI: tools/test installs both into
.whl/onnxrt (one environment: Debian's python3-onnx needs an older protobuf
than onnxruntime), found via PYTHONPATH.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

try:
    import onnx
    import onnxruntime as ort
except ImportError as e:
    sys.exit(f"check_onnx: {e}; tools/test installs onnx and onnxruntime into .whl/onnxrt")

# ONNX Runtime's float32 convolutions sum in another order than clunet's
# ref backend (double accumulation); through 23 layers that moves a
# probability by about 1e-7 (measured: at most 1.8e-7). A wrong layout,
# pad, concatenation order or up-sampling convention moves it by > 1e-3.
TOL = 1e-5
OPS = {"Conv", "Relu", "MaxPool", "Resize", "ConvTranspose", "Concat", "Sigmoid"}
checks = failed = 0


def check(cond, what):
    global checks, failed
    checks += 1
    failed += not cond
    print(("ok   " if cond else "FAIL ") + what)
    return cond


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    return {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype="<f4").reshape(v["shape"])
            for k, v in header.items() if k != "__metadata__"}


def dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def main():
    clunet, fixture = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        # (mode, output channels): 3 channels as the instance-aware head has,
        # exported by the library (model files do not record K yet).
        for mode, k in (("bilinear", 1), ("transposed", 1), ("bilinear", 3)):
            d = os.path.join(tmp, mode if k == 1 else f"{mode}-{k}")
            os.mkdir(d)
            subprocess.run([fixture, mode, d, str(k)], check=True)
            io = read_safetensors(os.path.join(d, "io.safetensors"))
            for opset in ((13, 17) if k == 1 else (13,)):
                path = os.path.join(d, f"model-{opset}.onnx")
                what = f"{mode} opset {opset}" + (f", {k} output channels" if k > 1 else "")
                if k == 1:
                    r = subprocess.run([clunet, "export", os.path.join(d, "model.safetensors"), "--onnx", path,
                                        "--opset", str(opset)], capture_output=True, text=True)
                    if not check(r.returncode == 0, f"{what}: clunet export ({r.stderr.strip()})"):
                        continue
                m = onnx.load(path)
                try:
                    onnx.checker.check_model(m, full_check=True)
                    check(True, f"{what}: onnx.checker (full check) passes")
                except onnx.checker.ValidationError as e:
                    check(False, f"{what}: onnx.checker: {e}")
                check(m.ir_version == 8 and [(o.domain, o.version) for o in m.opset_import] == [("", opset)],
                      f"{what}: IR version 8, opset {opset} (got {m.ir_version}, {m.opset_import})")
                ops = {n.op_type for n in m.graph.node}
                want_up = "Resize" if mode == "bilinear" else "ConvTranspose"
                check(ops <= OPS and want_up in ops, f"{what}: operators {sorted(ops)}")
                g = m.graph
                check([i.name for i in g.input] == ["image"] and dims(g.input[0])[1:] == [3, 32, 32]
                      and isinstance(dims(g.input[0])[0], str), f"{what}: input image (N, 3, 32, 32)")
                check([o.name for o in g.output] == ["probability"] and dims(g.output[0])[1:] == [k, 32, 32],
                      f"{what}: output probability (N, {k}, 32, 32)")
                meta = {p.key: p.value for p in m.metadata_props}
                check(meta.get("image_size") == "32" and meta.get("channel_rate") == "0.25"
                      and meta.get("upsample") == mode and meta.get("output_channels") == str(k)
                      and "clunet_version" in meta and "normalisation" in meta,
                      f"{what}: metadata_props {sorted(meta)}")
                sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
                y = sess.run(None, {"image": io["x"]})[0]
                err = float(np.abs(y - io["y"]).max())
                check(y.shape == io["y"].shape and err <= TOL,
                      f"{what}: ONNX Runtime gives clunet's probabilities (max |diff| {err:.2e} <= {TOL:g})")
                y1 = np.concatenate([sess.run(None, {"image": io["x"][i:i + 1]})[0] for i in range(2)])
                check(float(np.abs(y1 - y).max()) <= TOL, f"{what}: batch of 1 gives the same")
        # Refusals: one line, the documented exit code, no file left behind.
        bad = os.path.join(tmp, "bad.onnx")
        for args, code, what in (([os.path.join(tmp, "bilinear", "io.safetensors")], 2, "not a clunet model"),
                                 ([os.path.join(tmp, "bilinear", "model.safetensors"), "--opset", "12"], 1,
                                  "opset 12"),
                                 ([os.path.join(tmp, "none.safetensors")], 2, "a missing model")):
            r = subprocess.run([clunet, "export"] + args + ["--onnx", bad], capture_output=True, text=True)
            check(r.returncode == code and r.stderr.count("\n") == 1 and r.stderr.startswith("clunet: ")
                  and not os.path.exists(bad), f"export refuses {what}: exit {code}, one line ({r.stderr.strip()})")
    print(f"{checks} checks, {failed} failed (onnx {onnx.__version__}, onnxruntime {ort.__version__})")
    return 1 if failed else 0


sys.exit(main())
