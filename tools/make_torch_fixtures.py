#!/usr/bin/python3
"""Writes the PyTorch cross-check fixtures that tests/test_fixtures.c reads.

Run with Debian's python3 (python3-torch, numpy), from the source root:
    /usr/bin/python3 tools/make_torch_fixtures.py [OUT_DIR]
OUT_DIR defaults to datasets/fixtures. CI never runs this: the files are
committed. Everything is deterministic (fixed seeds, CPU, float64).

Files (safetensors, F32, written by hand below with numpy + json):
  ops.safetensors   one case per op, tensors "<case>.<name>": inputs,
                    weights, outputs and gradients on small odd shapes;
                    metadata "<case>" says what the case is.
  unet_*.safetensors  a whole U-Net: input x, target t, logits, [bce, dice],
                    and every parameter's gradient of the bce loss.
How references are computed: inputs are float32, the reference is computed
in float64 by PyTorch (autograd) or numpy (Adam) and rounded to float32 once,
so the clunet result's error is its own.

U-Net weights are not stored (a c=0.25 net has 0.5 M floats): both this
script and the C test make them with the "fixture uniform" generator:
  state = FNV-1a 64 of the parameter name (its clunet name, e.g.
  "enc1.conv1.weight"); the k-th draw (k = 1, 2, ...) is splitmix64's output
  for state + k * 0x9E3779B97F4A7C15; u = (draw >> 40) / 2^24;
  w = float32((2u - 1) * bound), computed in double, with
  bound = sqrt(6 / fan_in) for weights (fan_in = dims 1..3 of the weight,
  clunet's layout) and 0.1 for biases.
Gradients of tensors with up to 8192 elements are stored whole
("grad.<name>"); of larger ones a sample of 2048 elements (indices
"grad_idx.<name>", exact in float32 below 2^24; values "grad_val.<name>"),
the sum of squares "grad_sq.<name>", and four projections "grad_proj.<name>"
onto fixture-uniform vectors named "proj<k>:<name>" (bound 1), so every
element contributes to some check. This keeps all fixtures under 1 MiB.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
FULL_LIMIT = 8192
SAMPLES = 2048


# ---------------------------------------------------------------- writing
def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, float32 ndarray); metadata: dict of str."""
    header = {"__metadata__": metadata}
    off = 0
    blobs = []
    for name, a in sorted(tensors, key=lambda p: p[0]):
        a = np.ascontiguousarray(a, dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        off += a.nbytes
        blobs.append(a.tobytes())
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)
    return os.path.getsize(path)


def f32(t):
    return np.asarray(t.detach().numpy() if torch.is_tensor(t) else t, dtype=np.float32)


# ---------------------------------------------------------------- generators
def fnv1a64(s):
    h = 0xCBF29CE484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def splitmix_draws(seed, n):
    k = np.arange(1, n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + k * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def fixture_uniform(name, shape, bound):
    n = int(np.prod(shape))
    u = (splitmix_draws(fnv1a64(name), n) >> np.uint64(40)).astype(np.float64) * 2.0 ** -24
    return ((2.0 * u - 1.0) * bound).astype(np.float32).reshape(shape)


# ---------------------------------------------------------------- ops
def leaf(a):
    return torch.tensor(np.asarray(a, np.float64), requires_grad=True)


def op_cases(rng):
    T = []
    meta = {}

    def rnd(*shape, lo=-1.0, hi=1.0):
        return rng.uniform(lo, hi, shape).astype(np.float32)

    def put(case, desc, **arrays):
        meta[case] = desc
        for k, v in arrays.items():
            T.append((f"{case}.{k}", f32(v)))

    # convolutions: stride 1, 'same' zero padding, bias; dy is the gradient
    # of the pre-activation output
    for case, n, cin, h, w, cout, k in (("conv3", 2, 3, 7, 5, 4, 3), ("conv1", 3, 5, 4, 6, 2, 1),
                                        ("conv5", 1, 2, 6, 5, 3, 5)):
        x, wt, b = rnd(n, cin, h, w), rnd(cout, cin, k, k, lo=-0.5, hi=0.5), rnd(cout, lo=-0.2, hi=0.2)
        dy = rnd(n, cout, h, w)
        X, W, B = leaf(x), leaf(wt), leaf(b)
        y = F.conv2d(X, W, B, padding=k // 2)
        y.backward(torch.tensor(dy, dtype=torch.float64))
        put(case, f"conv k={k}: y = conv(x, w) + b, yr = relu(y); dy -> dx, dw, db", x=x, w=wt, b=b, y=y,
            yr=F.relu(y), dy=dy, dx=X.grad, dw=W.grad, db=B.grad)

    # relu and sigmoid: values kept away from 0 for relu (the kink)
    x = rnd(2, 3, 5, 4)
    x[np.abs(x) < 0.05] = 0.5
    dy = rnd(2, 3, 5, 4)
    X = leaf(x)
    y = F.relu(X)
    y.backward(torch.tensor(dy, dtype=torch.float64))
    put("relu", "y = max(x, 0); dx = dy * (y > 0)", x=x, y=y, dy=dy, dx=X.grad)
    x, dy = rnd(1, 3, 5, 7, lo=-6, hi=6), rnd(1, 3, 5, 7)
    X = leaf(x)
    y = torch.sigmoid(X)
    y.backward(torch.tensor(dy, dtype=torch.float64))
    put("sigmoid", "y = 1/(1+exp(-x)); dx = dy * y * (1-y)", x=x, y=y, dy=dy, dx=X.grad)

    # 2x2 max-pooling, odd sizes (floor); random floats have no ties
    x, dy = rnd(3, 2, 7, 9), rnd(3, 2, 3, 4)
    X = leaf(x)
    y = F.max_pool2d(X, 2)
    y.backward(torch.tensor(dy, dtype=torch.float64))
    put("maxpool", "2x2 max-pool stride 2, floor", x=x, y=y, dy=dy, dx=X.grad)

    # 2x bilinear up-sampling, half-pixel centres, edge clamping
    for case, shape in (("upsample", (2, 3, 5, 6)), ("upsample1", (1, 2, 1, 3))):
        x = rnd(*shape)
        n, c, h, w = shape
        dy = rnd(n, c, 2 * h, 2 * w)
        X = leaf(x)
        y = F.interpolate(X, scale_factor=2, mode="bilinear", align_corners=False)
        y.backward(torch.tensor(dy, dtype=torch.float64))
        put(case, "interpolate(scale_factor=2, bilinear, align_corners=False)", x=x, y=y, dy=dy, dx=X.grad)

    # transposed convolution 2x2 stride 2, weight (Cin, Cout, 2, 2), bias
    x, wt, b, dy = rnd(2, 5, 3, 4), rnd(5, 3, 2, 2), rnd(3, lo=-0.2, hi=0.2), rnd(2, 3, 6, 8)
    X, W, B = leaf(x), leaf(wt), leaf(b)
    y = F.conv_transpose2d(X, W, B, stride=2)
    y.backward(torch.tensor(dy, dtype=torch.float64))
    put("tconv", "ConvTranspose2d(k=2, s=2): y, dy -> dx, dw, db", x=x, w=wt, b=b, y=y, dy=dy, dx=X.grad, dw=W.grad,
        db=B.grad)

    # channel concatenation [a, b] and its split
    a, bb, dy = rnd(2, 3, 4, 5), rnd(2, 2, 4, 5), rnd(2, 5, 4, 5)
    put("concat", "y = cat([a, b], 1); dy -> da, db", a=a, b=bb, y=np.concatenate([a, bb], 1), dy=dy,
        da=dy[:, :3], db=dy[:, 3:])

    # losses from logits: bce (mean), dice (smooth 1, whole batch), bce+dice
    for case, soft in (("loss", False), ("loss_soft", True)):
        z = rnd(2, 1, 5, 7, lo=-4, hi=4)
        t = rnd(2, 1, 5, 7, lo=0, hi=1)
        if not soft:
            t = (t > 0.6).astype(np.float32)
        arrays = {"z": z, "t": t}
        for kind in ("bce", "dice", "bce_dice"):
            Z = leaf(z)
            tt = torch.tensor(t, dtype=torch.float64)
            p = torch.sigmoid(Z)
            dice = (2 * (tt * p).sum() + 1) / (tt.sum() + p.sum() + 1)
            bce = F.binary_cross_entropy_with_logits(Z, tt)
            loss = {"bce": bce, "dice": 1 - dice, "bce_dice": bce + 1 - dice}[kind]
            loss.backward()
            arrays[f"out_{kind}"] = np.array([loss.item(), dice.item()])
            arrays[f"dz_{kind}"] = Z.grad
        put(case, "out_<kind> = [loss, dice], dz_<kind> = d loss / dz", **arrays)

    # Adam, Keras form (eps on the uncorrected sqrt(v)), in numpy float64
    for case, step, zero in (("adam", 3, False), ("adam1", 1, True)):
        p, g = rnd(3, 4, 1, 1), rnd(3, 4, 1, 1, lo=-0.1, hi=0.1)
        m = np.zeros_like(p) if zero else rnd(3, 4, 1, 1, lo=-0.01, hi=0.01)
        v = np.zeros_like(p) if zero else rnd(3, 4, 1, 1, lo=0, hi=1e-4)
        m1, v1, p1 = keras_adam(p, g, m, v, step)
        put(case, f"one Keras Adam step, step {step}, lr 1e-3, b1 0.9, b2 0.999, eps 1e-7", p=p, g=g, m=m, v=v,
            p1=p1, m1=m1, v1=v1)
    return T, meta


def keras_adam(p, g, m, v, step, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7):
    """Keras keeps its hyper-parameters as float32 variables (so 1 - beta_2
    is 1 - float32(0.999), 1.3e-5 off 0.001): round them the same way, then
    compute in float64."""
    lr, b1, b2, eps = (float(np.float32(a)) for a in (lr, b1, b2, eps))
    p, g, m, v = (np.asarray(a, np.float64) for a in (p, g, m, v))
    m1 = b1 * m + (1 - b1) * g
    v1 = b2 * v + (1 - b2) * g * g
    lr_t = lr * math.sqrt(1 - b2 ** step) / (1 - b1 ** step)
    return m1, v1, p - lr_t * m1 / (np.sqrt(v1) + eps)


# ---------------------------------------------------------------- U-Net
def unet_layers(c, upsample, in_ch=3):
    """clunet's layers in order: (name, kind, cin, cout, k)."""
    f = [int(32 * c), int(64 * c), int(128 * c), int(256 * c), int(512 * c)]
    L = []
    cin = in_ch
    for k in range(4):
        L += [(f"enc{k+1}.conv1", "conv", cin, f[k], 3), (f"enc{k+1}.conv2", "conv", f[k], f[k], 3)]
        cin = f[k]
    L += [("mid.conv1", "conv", f[3], f[4], 3), ("mid.conv2", "conv", f[4], f[4], 3)]
    for k in (3, 2, 1, 0):
        up = f[k] if upsample == "transposed" else f[k + 1]
        if upsample == "transposed":
            L.append((f"dec{k+1}.up", "tconv", f[k + 1], f[k], 2))
        L += [(f"dec{k+1}.conv1", "conv", f[k] + up, f[k], 3), (f"dec{k+1}.conv2", "conv", f[k], f[k], 3)]
    L += [("head.conv", "conv", f[0], 2, 3), ("head.out", "conv", 2, 1, 1)]
    return L


def unet_params(layers):
    P = {}
    for name, kind, cin, cout, k in layers:
        shape = (cout, cin, k, k) if kind == "conv" else (cin, cout, k, k)
        fan_in = shape[1] * k * k
        P[name + ".weight"] = leaf(fixture_uniform(name + ".weight", shape, math.sqrt(6.0 / fan_in)))
        P[name + ".bias"] = leaf(fixture_uniform(name + ".bias", (cout,), 0.1))
    return P


def unet_forward(P, x, upsample):
    def conv(name, h, relu=True):
        w = P[name + ".weight"]
        y = F.conv2d(h, w, P[name + ".bias"], padding=w.shape[2] // 2)
        return F.relu(y) if relu else y

    skips = []
    h = x
    for k in range(4):
        h = conv(f"enc{k+1}.conv2", conv(f"enc{k+1}.conv1", h))
        skips.append(h)
        h = F.max_pool2d(h, 2)
    h = conv("mid.conv2", conv("mid.conv1", h))
    for k in (3, 2, 1, 0):
        if upsample == "transposed":
            u = F.conv_transpose2d(h, P[f"dec{k+1}.up.weight"], P[f"dec{k+1}.up.bias"], stride=2)
        else:
            u = F.interpolate(h, scale_factor=2, mode="bilinear", align_corners=False)
        h = torch.cat([skips[k], u], 1)
        h = conv(f"dec{k+1}.conv2", conv(f"dec{k+1}.conv1", h))
    return conv("head.out", conv("head.conv", h), relu=False)


def unet_fixture(path, S, c, upsample, batch, seed):
    rng = np.random.RandomState(seed)
    layers = unet_layers(c, upsample)
    P = unet_params(layers)
    x = rng.uniform(0, 1, (batch, 3, S, S)).astype(np.float32)
    # a blob-like target so that Dice is not trivial
    yy, xx = np.mgrid[0:S, 0:S]
    t = np.zeros((batch, 1, S, S), np.float32)
    for b in range(batch):
        cy, cx, r = rng.uniform(0.3 * S, 0.7 * S), rng.uniform(0.3 * S, 0.7 * S), rng.uniform(0.15 * S, 0.3 * S)
        t[b, 0] = ((yy - cy) ** 2 + (xx - cx) ** 2 < r * r).astype(np.float32)
    logits = unet_forward(P, torch.tensor(x, dtype=torch.float64), upsample)
    tt = torch.tensor(t, dtype=torch.float64)
    bce = F.binary_cross_entropy_with_logits(logits, tt)
    p = torch.sigmoid(logits)
    dice = (2 * (tt * p).sum() + 1) / (tt.sum() + p.sum() + 1)
    bce.backward()
    T = [("x", x), ("t", t), ("logits", f32(logits)), ("out_bce", f32([bce.item(), dice.item()]))]
    n_full = n_sampled = 0
    for name, w in P.items():
        g = w.grad.numpy().ravel()
        if g.size <= FULL_LIMIT:
            T.append(("grad." + name, f32(w.grad)))
            n_full += 1
            continue
        n_sampled += 1
        idx = np.sort(rng.choice(g.size, SAMPLES, replace=False))
        T.append(("grad_idx." + name, idx.astype(np.float32)))
        T.append(("grad_val." + name, f32(g[idx])))
        T.append(("grad_sq." + name, f32([float(np.dot(g, g))])))
        proj = [float(np.dot(g, fixture_uniform(f"proj{k}:{name}", g.shape, 1.0).astype(np.float64)))
                for k in range(4)]
        T.append(("grad_proj." + name, f32(proj)))
    meta = {"image_size": str(S), "channel_rate": repr(c), "upsample": upsample, "batch": str(batch),
            "loss": "bce", "weights": "fixture uniform generator, see tools/make_torch_fixtures.py",
            "torch": torch.__version__, "params": str(sum(w.numel() for w in P.values())),
            "full_gradients": str(n_full), "sampled_gradients": str(n_sampled)}
    size = write_safetensors(path, T, meta)
    print(f"{path}: {size} bytes, loss {bce.item():.6f}, dice {dice.item():.6f}, {meta['params']} params")
    return size


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join("datasets", "fixtures")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    T, meta = op_cases(np.random.RandomState(1234))
    meta["generated_by"] = "tools/make_torch_fixtures.py, torch " + torch.__version__
    total = write_safetensors(os.path.join(out, "ops.safetensors"), T, meta)
    print(f"{out}/ops.safetensors: {total} bytes, {len(meta) - 1} cases")
    total += unet_fixture(os.path.join(out, "unet_s32_c0.25_bilinear.safetensors"), 32, 0.25, "bilinear", 2, 7)
    total += unet_fixture(os.path.join(out, "unet_s32_c0.125_transposed.safetensors"), 32, 0.125, "transposed", 1, 8)
    print(f"total {total} bytes")
    assert total < 1 << 20, "fixtures must stay under 1 MiB"


if __name__ == "__main__":
    main()
