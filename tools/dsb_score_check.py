#!/usr/bin/python3
"""dsb_score_check.py: recomputes the DSB2018 score of the label images that
tools/postproc_oracle.c dumped, with numpy and a dense IoU matrix (the way
the public Kaggle example did it), and prints the largest difference from
clunet's scores (developer tool, not part of the build).

  /usr/bin/python3 tools/dsb_score_check.py /tmp/oracle
"""
import os
import sys

import numpy as np


def score(t, p):
    nt, np_ = t.max() + 1, p.max() + 1
    inter = np.histogram2d(t.ravel(), p.ravel(), bins=(nt, np_),
                           range=((0, nt), (0, np_)))[0][1:, 1:]
    at = np.bincount(t.ravel(), minlength=nt)[1:]
    ap = np.bincount(p.ravel(), minlength=np_)[1:]
    iou = inter / np.maximum(at[:, None] + ap[None, :] - inter, 1)
    iou = iou[at > 0][:, ap > 0]
    if iou.size == 0:
        return 1.0 if iou.shape == (0, 0) else 0.0
    precs = []
    for k in range(10):
        m = iou > (10 + k) / 20
        tp = m.sum()
        fp = (m.sum(0) == 0).sum()
        fn = (m.sum(1) == 0).sum()
        precs.append(tp / (tp + fp + fn))
    return float(np.mean(precs))


def main():
    d = sys.argv[1]
    worst, n = 0.0, 0
    for line in open(os.path.join(d, 'scores.txt')):
        name, s = line.split()
        raw = np.fromfile(os.path.join(d, name), np.int32)
        h, w = raw[:2]
        t = raw[2:].reshape(h, w)
        p = np.fromfile(os.path.join(d, name + '.pred'), np.int32).reshape(h, w)
        worst = max(worst, abs(score(t, p) - float(s)))
        n += 1
    print(f'{n} images, max |numpy - clunet| = {worst:.3g}')


if __name__ == '__main__':
    main()
