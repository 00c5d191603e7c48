#!/usr/bin/python3
"""check_exports.py: clunet's exports read back by their reference readers.

Usage: check_exports.py CLUNET EXPORT_LABELS SOURCE_ROOT  (meson passes them;
roifile and tifffile come from PyPI into .whl/, tools/test fetches them)

1. The committed label images of datasets/measure/ (single pixels, lines, a
   diagonal whose pixels touch only at corners, a ring, a label in two
   parts, labels at the image's edge) through export_labels (the library's
   writers, no model).
2. `clunet predict` with a small He-initialised model (export_labels
   --model) on the intensity images of the same fixtures, --rois --geojson --measure --labels-format tif --prob-format
   png,tif, at a threshold chosen from its own probability TIFF so that
   the watershed has nuclei to cut (the model is untrained).

For every label image L and its exports:
  ROI set (roifile): one polygon ROI per label present, named by the label,
    in label order; the pixels whose centres the polygon holds (even-odd
    rule) are exactly the 8-connected part of the label holding its first
    pixel (top row, then leftmost), with its holes filled (contour.h);
    the shoelace area equals that pixel count.
  GeoJSON (json): a FeatureCollection; per label one Feature with a closed
    Polygon ring over the same pixels, properties objectType "detection",
    name = the label, measurements.area = the label's pixel count.
  label TIFF (tifffile): equal to L, dtype uint32.
  probability TIFF (tifffile): float32; export_labels's ramp exactly; for
    predict within half an 8-bit step of the PNG (the PNG rounds p * 255).
  nuclei CSV (predict): one row per label with its area.
Exact comparisons throughout: everything compared is an integer or a
float32 value that round-trips exactly.
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import roifile
import tifffile
from scipy import ndimage
from skimage.io import imread
from skimage.measure import points_in_poly

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)
    return cond


def outlined_part(L, l):
    """The pixels the outline of label l must enclose."""
    m = L == l
    parts, _ = ndimage.label(m, structure=np.ones((3, 3)))
    ys, xs = np.nonzero(m)
    first = parts[ys[0], xs[0]]  # np.nonzero is in raster order
    return ndimage.binary_fill_holes(parts == first)


def enclosed(poly, shape):
    """Pixels whose centre lies inside the polygon (x, y vertices)."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    centres = np.stack([xx.ravel() + 0.5, yy.ravel() + 0.5], axis=1)
    return points_in_poly(centres, np.asarray(poly, float)).reshape(h, w)


def shoelace(poly):
    p = np.asarray(poly, float)
    x, y = p[:, 0], p[:, 1]
    return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def check_rois(what, L, path):
    labels = [int(v) for v in np.unique(L) if v > 0]
    rois = roifile.roiread(path)
    rois = rois if isinstance(rois, list) else [rois]
    check([r.name for r in rois] == [str(l) for l in labels], f"{what}: one ROI per label, named and ordered by label")
    bad = []
    for r, l in zip(rois, labels):
        poly = r.coordinates()
        want = outlined_part(L, l)
        if r.roitype != roifile.ROI_TYPE.POLYGON or not np.array_equal(enclosed(poly, L.shape), want) \
                or shoelace(poly) != want.sum():
            bad.append(l)
    check(not bad, f"{what}: {len(rois)} ROI polygons enclose their label's pixels (wrong: {bad[:5]})")


def check_geojson(what, L, path):
    labels = [int(v) for v in np.unique(L) if v > 0]
    with open(path) as f:
        g = json.load(f)
    check(g.get("type") == "FeatureCollection", f"{what}: a FeatureCollection")
    feats = g.get("features", [])
    check([f["properties"]["name"] for f in feats] == [str(l) for l in labels], f"{what}: one Feature per label")
    bad = []
    for f, l in zip(feats, labels):
        ring = f["geometry"]["coordinates"][0]
        ok = (f["type"] == "Feature" and f["geometry"]["type"] == "Polygon" and ring[0] == ring[-1]
              and f["properties"]["objectType"] == "detection"
              and f["properties"]["measurements"]["area"] == int((L == l).sum())
              and np.array_equal(enclosed(ring[:-1], L.shape), outlined_part(L, l)))
        if not ok:
            bad.append(l)
    check(not bad, f"{what}: {len(feats)} detections with their label's outline and area (wrong: {bad[:5]})")


def check_tif_labels(what, L, path):
    t = tifffile.imread(path)
    check(t.dtype == np.uint32 and np.array_equal(t, L), f"{what}: 32-bit label TIFF equals the labels")


def fixtures(export_labels, root, tmp):
    for name in ("shapes", "ellipses", "sparse"):
        png = os.path.join(root, "datasets", "measure", name + "_labels.png")
        subprocess.run([export_labels, png, tmp, name], check=True)
        L = imread(png).astype(np.int64)
        check_rois(name, L, os.path.join(tmp, name + "_rois.zip"))
        check_geojson(name, L, os.path.join(tmp, name + ".geojson"))
        check_tif_labels(name, L, os.path.join(tmp, name + "_labels.tif"))
        p = tifffile.imread(os.path.join(tmp, name + "_prob.tif"))
        n = L.size
        ramp = (np.arange(n, dtype=np.float32) / np.float32(n)).reshape(L.shape)
        check(p.dtype == np.float32 and np.array_equal(p, ramp), f"{name}: float32 TIFF holds the values written")


def predicted(clunet, export_labels, root, tmp):
    model = os.path.join(tmp, "model.safetensors")
    subprocess.run([export_labels, "--model", model], check=True)
    images = [os.path.join(root, "datasets", "measure", n + "_image.png") for n in ("shapes", "ellipses")]
    first = os.path.join(tmp, "p1")
    subprocess.run([clunet, "--device", "ref", "predict", model, *images, "--out", first, "-q",
                    "--prob-format", "tif"], check=True)
    probs = np.concatenate([tifffile.imread(os.path.join(first, n + "_image_prob.tif")).ravel()
                            for n in ("shapes", "ellipses")])
    t = float(np.quantile(probs, 0.6))
    out = os.path.join(tmp, "p2")
    subprocess.run([clunet, "--device", "ref", "predict", model, *images, "--out", out, "-q", "--threshold",
                    repr(t), "--min-size", "3", "--rois", "--geojson", "--measure", "--labels-format", "tif",
                    "--prob-format", "png,tif", "--pixel-size", "0.25"], check=True)
    total = 0
    for n in ("shapes", "ellipses"):
        what = "predict " + n
        L = tifffile.imread(os.path.join(out, n + "_image_labels.tif")).astype(np.int64)
        total += L.max()
        mask = imread(os.path.join(out, n + "_image.png"))
        check(np.array_equal(L > 0, mask > 0), f"{what}: labels TIFF covers the mask")
        check_rois(what, L, os.path.join(out, n + "_image_rois.zip"))
        check_geojson(what, L, os.path.join(out, n + "_image.geojson"))
        with open(os.path.join(out, n + "_image_nuclei.csv")) as f:
            rows = list(csv.DictReader(f))
        labels = [int(v) for v in np.unique(L) if v > 0]
        check([int(r["label"]) for r in rows] == labels and
              all(int(r["area"]) == int((L == int(r["label"])).sum()) for r in rows) and
              all(abs(float(r["area_um2"]) - int(r["area"]) * 0.0625) <= 1e-9 * int(r["area"]) for r in rows),
              f"{what}: nuclei CSV has each label's area (px and um^2)")
        p8 = imread(os.path.join(out, n + "_image_prob.png")).astype(np.float64)
        pf = tifffile.imread(os.path.join(out, n + "_image_prob.tif"))
        # the PNG stores round(p * 255): within half a step, plus float32 rounding
        check(pf.dtype == np.float32 and np.max(np.abs(pf * 255.0 - p8)) <= 0.5 + 1e-4,
              f"{what}: float32 probability TIFF matches the 8-bit PNG")
    with open(os.path.join(out, "nuclei_summary.csv")) as f:
        rows = list(csv.DictReader(f))
    check([r["image"] for r in rows] == ["ellipses_image", "shapes_image"], "nuclei_summary.csv: one row per image")
    check(total >= 5, f"predict found nuclei to export ({total})")


def main():
    clunet, export_labels, root = sys.argv[1:4]
    with tempfile.TemporaryDirectory(prefix="clunet-exports-") as tmp:
        fixtures(export_labels, root, tmp)
        predicted(clunet, export_labels, root, tmp)
    print(f"{len(FAILS)} failed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
