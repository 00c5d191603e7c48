#!/usr/bin/python3
"""compare_loader.py: compares clunet's dataset loader with the original
pipeline (load_split of ../shared/peer/unet_torch.py: skimage resize, mask =
resized union > 0.5) on a DSB2018-layout folder.

    ninja -C build
    /usr/bin/python3 tools/compare_loader.py [DIR] [S]

DIR defaults to ../shared/datasets/dsb2018/stage1_train, S to 128. Prints the
largest image difference and the number of mask pixels that differ. Set
NPY_DISABLE_CPU_FEATURES="AVX512F AVX512_SKX" to make numpy use the C
library's exp, as clunet does (see docs/data.md).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "..", "shared", "peer"))
from unet_torch import load_split  # noqa: E402


def main():
    data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "datasets", "dsb2018",
                                                              "stage1_train")
    S = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "arrays.bin")
        env = dict(os.environ, CLUNET_DUMP=dump)
        subprocess.run([os.path.join(ROOT, "build", "tests", "bench_load"), data, str(S)], env=env, check=True,
                       stderr=subprocess.DEVNULL)
        a = np.fromfile(dump, np.float32)
    X, Y, ids = load_split(data, S)
    n = len(ids)
    x = a[:n * 3 * S * S].reshape(n, 3, S, S)
    y = a[n * 3 * S * S:].reshape(n, 1, S, S)
    d = (y != Y).reshape(n, -1).sum(1)
    print(f"{n} images at S={S}: image max abs diff {np.abs(x - X).max():.3g}; "
          f"mask pixels differing {int(d.sum())} of {Y.size} ({int((d > 0).sum())} images)")


if __name__ == "__main__":
    main()
