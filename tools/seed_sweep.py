#!/usr/bin/python3
"""seed_sweep.py: chooses a three-output model's seed parameters (predict's
--seed-threshold T and --border-weight W) on images with true masks, from
the maps predict wrote once (developer tool, not part of the build).

  clunet predict --model MODEL TUNE --maps --out MAPS -q
  /usr/bin/python3 tools/seed_sweep.py MAPS TUNE [--threshold 0.5]
        [--min-size 25] [--seeds 0.1,0.2,0.3,0.5] [--weights 1,2,3,4]

TUNE: a DSB2018-layout folder (<id>/images/<id>.png, <id>/masks/*.png),
never the images the result is reported on. For every (T, W) it prints the
mean DSB2018 score over the images and per image size, best first.

The chain is clunet's (instances.h, cu_instances_from_maps) redone with
scipy/scikit-image: mask = body > threshold; s = body - contour - W border;
markers = 8-connected components of s > T inside the mask; watershed of -s
from the markers inside the mask; mask left unreached becomes nuclei of
its own; nuclei under min-size pixels dropped. scikit-image orders equal
values in the flooding differently, so scores differ from `clunet eval`'s
by about 0.001 (0.5787 here against 0.5782 on 45 images).
"""
import argparse
import glob
import os

import numpy as np
import tifffile
from scipy import ndimage as ndi
from skimage.io import imread
from skimage.segmentation import watershed

EIGHT = np.ones((3, 3), int)


def truth(folder, iid):
    files = sorted(glob.glob(os.path.join(folder, iid, "masks", "*.png")))
    lab = None
    for k, f in enumerate(files, 1):
        m = imread(f) > 0
        if m.ndim == 3:
            m = m[..., 0]
        if lab is None:
            lab = np.zeros(m.shape, np.int32)
        lab[m & (lab == 0)] = k
    return lab


def dsb(gt, pr):
    ng, npd = int(gt.max()), int(pr.max())
    if ng == 0 or npd == 0:
        return float(ng == npd)
    inter = np.bincount(gt.ravel().astype(np.int64) * (npd + 1) + pr.ravel(),
                        minlength=(ng + 1) * (npd + 1)).reshape(ng + 1, npd + 1)
    ag, ap = inter.sum(1), inter.sum(0)
    i = inter[1:, 1:]
    iou = i / np.maximum(ag[1:, None] + ap[None, 1:] - i, 1)
    iou = iou[ag[1:] > 0][:, ap[1:] > 0]
    ng, npd = iou.shape
    out = []
    for t in np.arange(0.5, 1.0, 0.05):
        tp = int((iou > t).sum())
        out.append(tp / (ng + npd - tp))
    return float(np.mean(out))


def nuclei(maps, threshold, t, w, min_size):
    body, contour, border = maps
    mask = body > threshold
    s = body - contour - w * border
    markers, _ = ndi.label(mask & (s > t), EIGHT)
    lab = watershed(-s, markers, mask=mask)
    rest, _ = ndi.label(mask & (lab == 0), EIGHT)
    lab = np.where(rest > 0, rest + lab.max(), lab)
    if min_size:
        size = np.bincount(lab.ravel())
        small = size < min_size
        small[0] = False
        lab[small[lab]] = 0
    return np.unique(lab, return_inverse=True)[1].reshape(lab.shape).astype(np.int64)


def floats(text):
    return [float(v) for v in text.split(",")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("maps")
    ap.add_argument("data")
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--min-size", type=int, default=25)
    ap.add_argument("--seeds", type=floats, default=floats("0.1,0.2,0.3,0.4,0.5"))
    ap.add_argument("--weights", type=floats, default=floats("1,2,3,4"))
    a = ap.parse_args()
    images = []
    for path in sorted(glob.glob(os.path.join(a.maps, "*_maps.tif"))):
        iid = os.path.basename(path)[:-len("_maps.tif")]
        maps = tifffile.imread(path)
        if maps.ndim != 3 or maps.shape[0] != 3:
            raise SystemExit(f"{path}: not three maps (shape {maps.shape}): a three-output model's --maps")
        gt = truth(a.data, iid)
        if gt is None or gt.shape != maps.shape[1:]:
            raise SystemExit(f"{a.data}/{iid}: no masks of the maps' size")
        images.append((f"{maps.shape[2]}x{maps.shape[1]}", maps, gt))
    if not images:
        raise SystemExit(f"{a.maps}: no *_maps.tif (clunet predict --maps)")
    rows = []
    for t in a.seeds:
        for w in a.weights:
            groups = {}
            for size, maps, gt in images:
                groups.setdefault(size, []).append(dsb(gt, nuclei(maps, a.threshold, t, w, a.min_size)))
            every = [v for g in groups.values() for v in g]
            rows.append((float(np.mean(every)), t, w, groups))
    print(f"{len(images)} images, threshold {a.threshold}, min size {a.min_size}")
    for score, t, w, groups in sorted(rows, key=lambda r: -r[0]):
        per = " ".join(f"{k}:{np.mean(v):.3f}" for k, v in sorted(groups.items()))
        print(f"seed threshold {t:g}  border weight {w:g}  DSB {score:.4f}  {per}")


if __name__ == "__main__":
    main()
