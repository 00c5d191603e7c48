#!/usr/bin/python3
"""make_f16_fixture.py: writes datasets/fixtures/f16.safetensors with
Python's safetensors package (the format's reference implementation), for
tests/test_model_f16.c's reader check.

Run from the source root with Debian's numpy and the safetensors wheel that
tools/test fetches:  PYTHONPATH=.whl /usr/bin/python3 tools/make_f16_fixture.py
The file holds the same values twice: "half" as F16 (numpy's float16, which
rounds to nearest even) and "wide" as the F32 widening of those F16 values
(exact), so the reader's F16 -> F32 must reproduce "wide" bit for bit. The
values cover zeros, subnormals, the largest finite F16, infinities, ties
and seeded random weights of a U-Net's size range; shape [4, 25] checks
that the shape survives.
"""
import os
import sys

import numpy as np
import safetensors.numpy

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "datasets", "fixtures", "f16.safetensors")


def main():
    special = np.array([0.0, -0.0, 1.0, -2.5, 65504.0, -65504.0, np.inf, -np.inf,
                        2.0 ** -24, -(2.0 ** -24), 2.0 ** -14, 3 * 2.0 ** -25, 1 + 2.0 ** -11,
                        1 + 3 * 2.0 ** -11, 0.1, 1.0 / 3.0, 6.1e-5, 1e-8, 65519.0, 0.5],
                       dtype=np.float64)
    rng = np.random.default_rng(17)
    weights = rng.normal(0.0, 0.05, 80)
    half = np.concatenate([special, weights]).astype(np.float16).reshape(4, 25)
    safetensors.numpy.save_file({"half": half, "wide": half.astype(np.float32)}, OUT,
                                metadata={"made_by": "tools/make_f16_fixture.py",
                                          "safetensors": safetensors.__version__,
                                          "numpy": np.__version__})
    print("wrote", OUT)


if __name__ == "__main__":
    sys.exit(main())
