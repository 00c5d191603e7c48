#!/usr/bin/python3
"""make_measure_fixtures.py: writes datasets/measure/, the label images and
the measurements scikit-image's regionprops gives for them, for
tests/test_measure.c (clunet's --measure must equal regionprops).

Run with Debian's python (python3-skimage 0.19, python3-numpy):
    /usr/bin/python3 tools/make_measure_fixtures.py
Everything is seeded; the output is committed. Per case NAME:
  NAME_labels.png    16-bit gray, 0 background, labels as drawn
  NAME_image.png     8-bit RGB, three different channels (the intensities)
  NAME_prob.png      8-bit gray (the probability map)
  NAME_expected.csv  clunet's nuclei-table columns with a pixel size of
                     0.5 um, from regionprops on the label image, with the
                     intensities as clunet reads the PNGs (v / 255 in
                     float32, then double), values printed with repr
  summary_expected.csv  clunet's summary row of every case, from numpy
Cases: shapes (one of each hard case: single pixel, lines, a diagonal line
whose pixels touch only at corners, a ring, an L, a label in two parts,
labels touching each other and the image's edge, a crescent), ellipses
(random overlapping ellipses, later ones drawn over earlier ones: ragged
touching nuclei) and sparse (large, non-consecutive label values).
"""
import os
import struct
import sys
import zlib

import numpy as np
from skimage.measure import regionprops

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "datasets", "measure")
UM = 0.5


def png(path, a):
    """Writes a (h, w) uint8/uint16 or (h, w, 3) uint8 array as a PNG."""
    a = np.asarray(a)
    h, w = a.shape[:2]
    depth = 16 if a.dtype == np.uint16 else 8
    ctype = 2 if a.ndim == 3 else 0
    raw = a.astype(">u2").tobytes() if depth == 16 else a.tobytes()
    row = len(raw) // h
    data = b"".join(b"\0" + raw[i * row:(i + 1) * row] for i in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(data, 9)))
        f.write(chunk(b"IEND", b""))


def ellipse(lab, cy, cx, a, b, theta, value):
    yy, xx = np.mgrid[0:lab.shape[0], 0:lab.shape[1]]
    c, s = np.cos(theta), np.sin(theta)
    u = (xx - cx) * c + (yy - cy) * s
    v = -(xx - cx) * s + (yy - cy) * c
    lab[(u / a) ** 2 + (v / b) ** 2 <= 1] = value


def shapes():
    lab = np.zeros((48, 64), np.uint16)
    lab[2, 2] = 1                                   # single pixel
    lab[5, 2:12] = 2                                # horizontal line
    lab[8:20, 2] = 3                                # vertical line
    for i in range(8):                              # diagonal: corners only
        lab[8 + i, 5 + i] = 4
    ellipse(lab, 30, 12, 8, 8, 0, 5)                # ring
    ellipse(lab, 30, 12, 3, 3, 0, 0)
    lab[2:14, 20:24] = 6                            # L
    lab[10:14, 20:32] = 6
    lab[2:6, 40:44] = 7                             # two parts
    lab[8:11, 46:50] = 7
    lab[20:30, 26:36] = 8                           # touching square pair
    lab[20:30, 36:44] = 9
    ellipse(lab, 44, 58, 9, 5, 0.6, 10)             # cut by the image's edge
    ellipse(lab, 30, 54, 7, 7, 0, 11)               # crescent
    ellipse(lab, 28, 57, 6, 6, 0, 0)
    lab[40:48, 0:5] = 12                            # bottom-left corner
    return lab


def ellipses(rng):
    lab = np.zeros((64, 80), np.uint16)
    for k in range(1, 26):
        ellipse(lab, rng.uniform(0, 64), rng.uniform(0, 80), rng.uniform(2, 9), rng.uniform(2, 9),
                rng.uniform(0, np.pi), k)
    return lab


def sparse(rng):
    lab = np.zeros((40, 40), np.uint16)
    for value in (7, 300, 4096, 65535):
        ellipse(lab, rng.uniform(5, 35), rng.uniform(5, 35), rng.uniform(3, 8), rng.uniform(2, 6),
                rng.uniform(0, np.pi), value)
    return lab


COLUMNS = ["label", "area", "centroid_x", "centroid_y", "bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1",
           "equivalent_diameter", "perimeter", "eccentricity", "solidity", "convex_area"]


def measure(name, lab, rng):
    h, w = lab.shape
    yy, xx = np.mgrid[0:h, 0:w]
    img8 = np.stack([(40 + 3 * xx + 2 * yy) % 256, rng.integers(0, 256, (h, w)), (lab.astype(np.int64) * 37) % 256],
                    axis=-1).astype(np.uint8)
    prob8 = rng.integers(0, 256, (h, w)).astype(np.uint8)
    png(os.path.join(OUT, name + "_labels.png"), lab)
    png(os.path.join(OUT, name + "_image.png"), img8)
    png(os.path.join(OUT, name + "_prob.png"), prob8)
    img = (img8.astype(np.float32) / np.float32(255)).astype(np.float64)
    prob = (prob8.astype(np.float32) / np.float32(255)).astype(np.float64)
    lab = lab.astype(np.int64)
    cols = COLUMNS + [f"{s}_intensity_ch{c}" for c in (1, 2, 3) for s in ("mean", "min", "max")]
    cols += ["mean_probability", "area_um2", "centroid_x_um", "centroid_y_um", "equivalent_diameter_um",
             "perimeter_um"]
    rows = []
    pr = {r.label: r for r in regionprops(lab, intensity_image=prob)}
    for r in regionprops(lab, intensity_image=img):
        cy, cx = r.centroid
        y0, x0, y1, x1 = r.bbox
        row = [r.label, r.area, cx, cy, x0, y0, x1, y1, r.equivalent_diameter_area, r.perimeter, r.eccentricity,
               r.solidity, r.area_convex]
        for c in range(3):
            row += [r.intensity_mean[c], r.intensity_min[c], r.intensity_max[c]]
        row += [pr[r.label].intensity_mean, r.area * UM * UM, cx * UM, cy * UM, r.equivalent_diameter_area * UM,
                r.perimeter * UM]
        rows.append(row)
    with open(os.path.join(OUT, name + "_expected.csv"), "w") as f:
        f.write(",".join(cols) + "\n")
        for row in rows:
            f.write(",".join(repr(int(v)) if isinstance(v, (int, np.integer)) else repr(float(v)) for v in row) + "\n")
    a = np.array([row[1] for row in rows], float)
    mean = lambda k: float(np.mean([row[cols.index(k)] for row in rows]))
    return [name, w, h, len(rows), a.sum() / (h * w), a.mean(), float(np.median(a)), a.min(), a.max(),
            mean("equivalent_diameter"), mean("perimeter"), mean("eccentricity"), mean("solidity"),
            mean("mean_intensity_ch1"), mean("mean_probability"), UM, a.mean() * UM * UM,
            mean("equivalent_diameter") * UM]


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(18)
    summary = [measure("shapes", shapes(), rng), measure("ellipses", ellipses(rng), rng),
               measure("sparse", sparse(rng), rng)]
    with open(os.path.join(OUT, "summary_expected.csv"), "w") as f:
        f.write("image,width,height,count,area_fraction,mean_area,median_area,min_area,max_area,"
                "mean_equivalent_diameter,mean_perimeter,mean_eccentricity,mean_solidity,mean_intensity,"
                "mean_probability,pixel_size_um,mean_area_um2,mean_equivalent_diameter_um\n")
        for row in summary:
            f.write(",".join(v if isinstance(v, str) else repr(v) for v in row) + "\n")
    print("wrote", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
