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
  maps TIFF (predict --maps, tifffile): float32 in [0, 1], one page per
    output map: (H, W) for the one-output model, equal to the probability
    TIFF; (3, H, W) for a three-output model (export_labels --model3), its
    first page equal to that model's probability TIFF, three distinct maps.
  nuclei CSV (predict): every column equal to regionprops on the predicted
    labels, with the intensities of the input file (8-bit RGB / 255, three
    channels; a 16-bit gray PNG / 65535, one channel, whose pHYs chunk
    gives the micrometre columns, unless it is a print resolution of 72
    dpi; a 2-channel 16-bit ImageJ TIFF, predicted from channel 1, measured
    on both channels at the TIFF's 0.5 um), tolerances as test_measure.c's.
3. More nuclei than a 16-bit PNG holds (68,644): predict writes a 32-bit
   label TIFF instead and says so; the ROI set needs zip64 end records.
Exact comparisons elsewhere: everything compared is an integer or a
float32 value that round-trips exactly.
"""
import csv
import json
import os
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib

import numpy as np
import roifile
import tifffile
from scipy import ndimage
from skimage.io import imread, imsave
from skimage.measure import points_in_poly, regionprops

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


def png16_with_phys(path, a, px_per_metre):
    """A 16-bit gray PNG with a pHYs chunk (pixels per metre)."""
    h, w = a.shape
    raw = a.astype(">u2").tobytes()
    data = b"".join(b"\0" + raw[i * 2 * w:(i + 1) * 2 * w] for i in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 0, 0, 0, 0)))
        f.write(chunk(b"pHYs", struct.pack(">IIB", px_per_metre, px_per_metre, 1)))
        f.write(chunk(b"IDAT", zlib.compress(data)) + chunk(b"IEND", b""))


def check_table(what, L, rows, intensity, names, prob, um):
    """The nuclei CSV against regionprops on the predicted labels: CSV
    values have 10 significant digits (2e-9 relative); eccentricity near 0
    amplifies rounding (1e-6 absolute); integers exact."""
    labels = [int(v) for v in np.unique(L) if v > 0]
    if not check([int(r["label"]) for r in rows] == labels, f"{what}: nuclei CSV has one row per label"):
        return
    pr = {r.label: r for r in regionprops(L, intensity_image=prob)}
    worst = {}
    for row, rp in zip(rows, regionprops(L, intensity_image=intensity)):
        cy, cx = rp.centroid
        want = {"area": rp.area, "centroid_x": cx, "centroid_y": cy, "bbox_x0": rp.bbox[1], "bbox_y0": rp.bbox[0],
                "bbox_x1": rp.bbox[3], "bbox_y1": rp.bbox[2], "equivalent_diameter": rp.equivalent_diameter_area,
                "perimeter": rp.perimeter, "solidity": rp.solidity, "convex_area": rp.area_convex,
                "mean_probability": pr[rp.label].intensity_mean}
        means, mins, maxs = (np.atleast_1d(v) for v in (rp.intensity_mean, rp.intensity_min, rp.intensity_max))
        for k, n in enumerate(names):
            want["mean_intensity" + n], want["min_intensity" + n], want["max_intensity" + n] = means[k], mins[k], maxs[k]
        if um:
            want["area_um2"] = rp.area * um * um
            want["perimeter_um"] = rp.perimeter * um
        for k, v in want.items():
            got = float(row[k]) if k in row else float("nan")
            e = abs(got - v) / max(abs(v), 1e-300)
            worst[k] = max(worst.get(k, 0), e if e == e else float("inf"))
        e = abs(float(row["eccentricity"]) - rp.eccentricity)
        worst["eccentricity"] = max(worst.get("eccentricity", 0), e / 1e-6 * 2e-9)
    bad = {k: v for k, v in worst.items() if v > 2e-9}
    check(not bad, f"{what}: {len(worst)} columns equal regionprops on the predicted labels (off: {bad})")
    check(um or "area_um2" not in rows[0], f"{what}: micrometre columns only with a pixel size")


def wide(export_labels, tmp):
    """ImageJ stores ROI coordinates as 16-bit offsets; beyond 32,767 the
    ROI also carries float coordinates, which roifile returns."""
    L = np.zeros((4, 40000), np.uint16)
    L[1:3, 32760:32780] = 1  # straddles 32,767
    L[0:4, 39990:40000] = 2  # at the far edge
    L[1, 5:9] = 3
    png = os.path.join(tmp, "wide_labels.png")
    imsave(png, L, check_contrast=False)
    subprocess.run([export_labels, png, tmp, "wide"], check=True)
    rois = roifile.roiread(os.path.join(tmp, "wide_rois.zip"))
    want = {1: [[32760, 1], [32780, 1], [32780, 3], [32760, 3]], 2: [[39990, 0], [40000, 0], [40000, 4], [39990, 4]],
            3: [[5, 1], [9, 1], [9, 2], [5, 2]]}
    got = {int(r.name): np.asarray(r.coordinates()).tolist() for r in rois}
    check(got == want, f"ROIs beyond x = 32,767 read back at their place ({got})")


def check_maps(what, clunet, export_labels, tmp, image, out, i, prob):
    """predict --maps of image with the one-output model (out holds its
    probability TIFF prob) and with a three-output one."""
    m1 = os.path.join(tmp, "maps1")
    model = os.path.join(tmp, "model.safetensors")
    subprocess.run([clunet, "--device", "ref", "predict", model, image, "--out", m1, "-q", "--maps"], check=True)
    a = tifffile.imread(os.path.join(m1, i + "_maps.tif"))
    check(a.dtype == np.float32 and a.shape == prob.shape and np.array_equal(a, prob),
          f"{what}: one-output --maps TIFF is the probability map ({a.dtype}, {a.shape})")
    model3 = os.path.join(tmp, "model3.safetensors")
    if not os.path.exists(model3):
        subprocess.run([export_labels, "--model3", model3], check=True)
    m3 = os.path.join(tmp, "maps3")
    subprocess.run([clunet, "--device", "ref", "predict", model3, image, "--out", m3, "-q", "--maps",
                    "--prob-format", "tif"], check=True)
    with tifffile.TiffFile(os.path.join(m3, i + "_maps.tif")) as t:
        pages = len(t.pages)
        b = t.asarray()
    p3 = tifffile.imread(os.path.join(m3, i + "_prob.tif"))
    check(pages == 3 and b.dtype == np.float32 and b.shape == (3,) + prob.shape and np.array_equal(b[0], p3)
          and b.min() >= 0 and b.max() <= 1 and not np.array_equal(b[1], b[0]) and not np.array_equal(b[2], b[1]),
          f"{what}: three-output --maps TIFF: 3 float32 pages in [0, 1], the first the probability ({pages}, {b.shape})")


def predicted(clunet, export_labels, root, tmp):
    model = os.path.join(tmp, "model.safetensors")
    subprocess.run([export_labels, "--model", model], check=True)
    names = ("shapes", "ellipses")
    images = [os.path.join(root, "datasets", "measure", n + "_image.png") for n in names]
    # a 16-bit gray image that says its pixels are 0.25 um (4,000,000 per metre)
    rgb = imread(images[1])
    gray = (rgb[..., 0].astype(np.uint16) * 200 + rgb[..., 1]).astype(np.uint16)
    png16_with_phys(os.path.join(tmp, "gray16.png"), gray, 4000000)
    # the same at 72 dpi (2835 per metre: 353 um), a print resolution, not a pixel size
    png16_with_phys(os.path.join(tmp, "gray72dpi.png"), gray, 2835)
    images += [os.path.join(tmp, "gray16.png"), os.path.join(tmp, "gray72dpi.png")]
    ids = [n + "_image" for n in names] + ["gray16", "gray72dpi"]
    first = os.path.join(tmp, "p1")
    subprocess.run([clunet, "--device", "ref", "predict", model, *images, "--out", first, "-q",
                    "--prob-format", "tif"], check=True)
    probs = np.concatenate([tifffile.imread(os.path.join(first, i + "_prob.tif")).ravel() for i in ids])
    t = float(np.quantile(probs, 0.6))
    out = os.path.join(tmp, "p2")
    subprocess.run([clunet, "--device", "ref", "predict", model, *images, "--out", out, "-q", "--threshold",
                    repr(t), "--min-size", "3", "--rois", "--geojson", "--measure", "--labels-format", "tif",
                    "--prob-format", "png,tif"], check=True)
    total = 0
    for i, path in zip(ids, images):
        what = "predict " + i
        L = tifffile.imread(os.path.join(out, i + "_labels.tif")).astype(np.int64)
        total += L.max()
        mask = imread(os.path.join(out, i + ".png"))
        check(np.array_equal(L > 0, mask > 0), f"{what}: labels TIFF covers the mask")
        check_rois(what, L, os.path.join(out, i + "_rois.zip"))
        check_geojson(what, L, os.path.join(out, i + ".geojson"))
        with open(os.path.join(out, i + "_nuclei.csv")) as f:
            rows = list(csv.DictReader(f))
        pf = tifffile.imread(os.path.join(out, i + "_prob.tif"))
        src = imread(path)
        if src.dtype == np.uint16:  # the file's samples / 65535, one channel, its pixel size
            check_table(what, L, rows, (src.astype(np.float32) / np.float32(65535)).astype(np.float64), [""],
                        pf.astype(np.float64), 0.25 if i == "gray16" else 0)
        else:  # 8-bit RGB: / 255, three channels, no pixel size
            check_table(what, L, rows, (src.astype(np.float32) / np.float32(255)).astype(np.float64),
                        ["_ch1", "_ch2", "_ch3"], pf.astype(np.float64), 0)
        check_maps(what, clunet, export_labels, tmp, path, out, i, pf)
        p8 = imread(os.path.join(out, i + "_prob.png")).astype(np.float64)
        # the PNG stores round(p * 255): within half a step, plus float32 rounding
        check(pf.dtype == np.float32 and np.max(np.abs(pf * 255.0 - p8)) <= 0.5 + 1e-4,
              f"{what}: float32 probability TIFF matches the 8-bit PNG")
    # a 2-channel 16-bit ImageJ TIFF at 0.5 um per pixel, the network fed channel 1: every channel measured
    rgb = imread(os.path.join(root, "datasets", "measure", "ellipses_image.png"))
    two = np.stack([rgb[..., 0].astype(np.uint16) * 200 + 7, rgb[..., 1].astype(np.uint16) * 100]).astype(np.uint16)
    tifffile.imwrite(os.path.join(tmp, "two.tif"), two, imagej=True, resolution=(2.0, 2.0),
                     metadata={"axes": "CYX", "unit": "um"})
    out2 = os.path.join(tmp, "p3")
    subprocess.run([clunet, "--device", "ref", "predict", model, os.path.join(tmp, "two.tif"), "--out", out2, "-q",
                    "--channel", "1", "--threshold", repr(t), "--min-size", "3", "--measure", "--rois", "--geojson",
                    "--labels-format", "tif", "--prob-format", "tif"], check=True)
    L = tifffile.imread(os.path.join(out2, "two_labels.tif")).astype(np.int64)
    total += L.max()
    with open(os.path.join(out2, "two_nuclei.csv")) as f:
        rows = list(csv.DictReader(f))
    check_table("predict two.tif --channel 1", L, rows,
                (np.moveaxis(two, 0, -1).astype(np.float32) / np.float32(65535)).astype(np.float64), ["_ch1", "_ch2"],
                tifffile.imread(os.path.join(out2, "two_prob.tif")).astype(np.float64), 0.5)
    check_rois("predict two.tif", L, os.path.join(out2, "two_rois.zip"))
    check_geojson("predict two.tif", L, os.path.join(out2, "two.geojson"))
    with open(os.path.join(out, "nuclei_summary.csv")) as f:
        rows = list(csv.DictReader(f))
    check([r["image"] for r in rows] == sorted(ids) and rows[sorted(ids).index("gray16")]["pixel_size_um"] == "0.25"
          and rows[sorted(ids).index("gray72dpi")]["pixel_size_um"] == "",
          "nuclei_summary.csv: one row per image, the file's pixel size (none at 72 dpi)")
    check(total >= 5, f"predict found nuclei to export ({total})")


def many(clunet, export_labels, tmp):
    """More nuclei than a 16-bit PNG holds: a 784x784 image whose every
    third pixel in both directions is bright (262^2 = 68,644 one-pixel
    nuclei) through the identity model (export_labels --identity)."""
    model = os.path.join(tmp, "identity.safetensors")
    subprocess.run([export_labels, "--identity", model, "784"], check=True)
    dots = np.zeros((784, 784), np.uint8)
    dots[::3, ::3] = 255
    imsave(os.path.join(tmp, "dots.png"), dots, check_contrast=False)
    out = os.path.join(tmp, "many")
    p = subprocess.run([clunet, "--device", "ref", "predict", model, os.path.join(tmp, "dots.png"), "--out", out,
                        "-q", "--min-size", "0", "--instances", "--rois"], capture_output=True, text=True)
    check(p.returncode == 0 and "68644 nuclei do not fit a 16-bit PNG; wrote dots_labels.tif" in p.stderr,
          f"68,644 nuclei: exit 0 and a note that the labels went to a TIFF ({p.returncode}: {p.stderr.strip()})")
    check(sorted(os.listdir(out)) == ["dots.png", "dots_labels.tif", "dots_rois.zip"],
          f"68,644 nuclei: mask, label TIFF and ROI set, no PNG labels ({sorted(os.listdir(out))})")
    L = tifffile.imread(os.path.join(out, "dots_labels.tif"))
    ys, xs = np.nonzero(L)
    check(L.dtype == np.uint32 and np.array_equal(L > 0, dots > 0) and
          np.array_equal(np.sort(L[ys, xs]), np.arange(1, 68645)),
          "68,644 nuclei: the 32-bit label TIFF gives each bright pixel its own label")
    with zipfile.ZipFile(os.path.join(out, "dots_rois.zip")) as z:
        names = z.namelist()
        check(names == [f"{k}.roi" for k in range(1, 68645)] and z.testzip() is None,
              "68,644 nuclei: the ROI zip (zip64 end records) lists every label, CRCs right")
        where = {int(L[y, x]): (int(x), int(y)) for y, x in zip(ys, xs)}
        bad = []
        for k in range(1, 68645, 997):
            r = roifile.ImagejRoi.frombytes(z.read(f"{k}.roi"))
            x, y = where[k]
            if r.name != str(k) or r.coordinates().tolist() != [[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1]]:
                bad.append(k)
        check(not bad, f"68,644 nuclei: every 997th ROI is its pixel's square (wrong: {bad[:5]})")


def main():
    clunet, export_labels, root = sys.argv[1:4]
    with tempfile.TemporaryDirectory(prefix="clunet-exports-") as tmp:
        fixtures(export_labels, root, tmp)
        wide(export_labels, tmp)
        predicted(clunet, export_labels, root, tmp)
        many(clunet, export_labels, tmp)
    print(f"{len(FAILS)} failed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
