#!/usr/bin/python3
"""postproc_oracle_dump.py: dumps DSB2018 true label images for
postproc_oracle.c (developer tool, not part of the build).

Each image's masks/*.png become one label image (mask k -> label k+1),
written as raw int32: height, width, then the labels row-major, to
OUT/<id>.bin. Takes every STEP-th image of the folder (sorted by id).

  /usr/bin/python3 tools/postproc_oracle_dump.py \
      ../shared/datasets/dsb2018/stage1_train 5 /tmp/oracle
"""
import os
import sys

import numpy as np
from skimage.io import imread


def main():
    root, step, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(out, exist_ok=True)
    ids = sorted(os.listdir(root))[::step]
    for i in ids:
        md = os.path.join(root, i, 'masks')
        lab = None
        for k, f in enumerate(sorted(os.listdir(md))):
            m = imread(os.path.join(md, f)) > 0
            if m.ndim == 3:
                m = m[..., 0]
            if lab is None:
                lab = np.zeros(m.shape, np.int32)
            lab[m & (lab == 0)] = k + 1
        with open(os.path.join(out, i + '.bin'), 'wb') as fh:
            np.array(lab.shape, np.int32).tofile(fh)
            lab.tofile(fh)
    print(f'{len(ids)} label images in {out}')


if __name__ == '__main__':
    main()
