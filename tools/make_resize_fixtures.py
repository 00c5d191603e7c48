#!/usr/bin/python3
"""make_resize_fixtures.py: writes datasets/resize_fixtures.bin, the expected
outputs of scikit-image's resize for tests/test_resize.c.

Run with Debian's python (python3-skimage 0.19, python3-scipy):
    /usr/bin/python3 tools/make_resize_fixtures.py
The inputs are seeded and the output is committed; rerun only when adding a
case. Each case is resized exactly as the original pipeline
(../shared/peer/unet_torch.py) does:
  rgb  : uint8 (H, W, 3) image -> resize(img, (S, S), mode='constant',
         preserve_range=True, anti_aliasing=True) / 255
  mask : float64 0/1 union -> same call (the loader thresholds it at 0.5)
  prob : float64 probability map (S, S) -> resize(p, (H, W), mode='constant',
         preserve_range=True), as the peer's eval maps it back

File format (little-endian): b"CURZ", int32 version 1, int32 count; then per
case int32 c, sh, sw, dh, dw, float32 src[c][sh][sw] (the C loader's input:
uint8 / 255 for rgb), float32 want[c][dh][dw]. Planes are CHW.
"""
import os
import struct
import sys

import numpy as np
from skimage.transform import resize

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "datasets", "resize_fixtures.bin")


def blobs(rng, h, w, n):
    """0/1 float64 mask of n random ellipses (nucleus-like)."""
    yy, xx = np.mgrid[0:h, 0:w]
    m = np.zeros((h, w))
    for _ in range(n):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        a, b = rng.uniform(2, max(3, h / 4)), rng.uniform(2, max(3, w / 4))
        m[((yy - cy) / a) ** 2 + ((xx - cx) / b) ** 2 <= 1] = 1.0
    return m


def rgb_case(rng, h, w, s_h, s_w):
    img = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    # smooth part + noise, so both the filter and the clip matter
    yy, xx = np.mgrid[0:h, 0:w]
    base = (120 + 100 * np.sin(yy / 5.0) * np.cos(xx / 7.0))[..., None]
    img = np.clip(0.5 * img + 0.5 * base, 0, 255).astype(np.uint8)
    want = resize(img, (s_h, s_w), mode="constant", preserve_range=True, anti_aliasing=True) / 255.0
    src = img.astype(np.float32) / np.float32(255)
    return src.transpose(2, 0, 1), want.transpose(2, 0, 1)


def mask_case(rng, h, w, s_h, s_w):
    m = blobs(rng, h, w, 6)
    want = resize(m, (s_h, s_w), mode="constant", preserve_range=True, anti_aliasing=True)
    return m[None], want[None]


def prob_case(rng, s, h, w):
    p = rng.uniform(0, 1, size=(s, s))
    p = np.clip(0.6 * p + 0.4 * blobs(rng, s, s, 4), 0, 1).astype(np.float32)
    want = resize(p.astype(np.float64), (h, w), mode="constant", preserve_range=True)
    return p[None], want[None]


def main():
    rng = np.random.default_rng(20180416)
    cases = [
        rgb_case(rng, 45, 61, 16, 16),    # down, non-integer factors, aspect
        rgb_case(rng, 64, 64, 16, 16),    # down by 4
        rgb_case(rng, 33, 20, 64, 64),    # up
        rgb_case(rng, 50, 24, 32, 32),    # rows down, columns up
        rgb_case(rng, 17, 17, 17, 17),    # identity
        rgb_case(rng, 7, 300, 8, 8),      # extreme aspect: kernel wider than rows
        rgb_case(rng, 5, 5, 1, 1),        # to one pixel
        mask_case(rng, 70, 90, 32, 32),   # union mask, down
        mask_case(rng, 20, 26, 64, 64),   # union mask, up
        prob_case(rng, 32, 45, 61),       # probabilities back up
        prob_case(rng, 32, 20, 50),       # back, rows down, columns up
        prob_case(rng, 16, 9, 11),        # back, down
    ]
    with open(OUT + ".tmp", "wb") as f:
        f.write(b"CURZ" + struct.pack("<ii", 1, len(cases)))
        for src, want in cases:
            c, sh, sw = src.shape
            _, dh, dw = want.shape
            f.write(struct.pack("<5i", c, sh, sw, dh, dw))
            f.write(np.ascontiguousarray(src, dtype="<f4").tobytes())
            f.write(np.ascontiguousarray(want, dtype="<f4").tobytes())
    os.replace(OUT + ".tmp", OUT)
    print(f"{OUT}: {len(cases)} cases, {os.path.getsize(OUT)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
