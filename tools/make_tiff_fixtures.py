#!/usr/bin/python3
"""make_tiff_fixtures.py: writes the TIFF and JPEG fixtures of
tests/test_image_read.c into datasets/images/, each with the array its
reference library decodes from it (<name>.npy), and two damaged TIFFs.

Run with Debian's python (python3-tifffile, python3-pil, python3-numpy;
tools/install-deps installs them):
    /usr/bin/python3 tools/make_tiff_fixtures.py
tifffile writes and decodes the TIFFs, but for two that Pillow writes
(tifffile needs imagecodecs to encode LZW and PackBits): the PackBits one
is decoded by tifffile, the LZW one by Pillow. The pixel values are seeded; the files and arrays are committed, so the C
test needs no Python. Rerun only when adding a case.

Expected arrays are what clunet's reader returns for the file: shape
(pages, channels, height, width), samples unscaled, alpha dropped, in the
file's sample type. They come from tifffile.imread / PIL.Image.open (the
reference decoders), rearranged to that shape, never from clunet.
"""
import os
import sys

import numpy as np
import tifffile
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "datasets", "images")
rng = np.random.default_rng(20261206)


def save(name, want):
    want = np.ascontiguousarray(want)
    assert want.ndim == 4, name
    np.save(os.path.join(OUT, name + ".npy"), want, allow_pickle=False)


def ints(dtype, shape, lo=None, hi=None):
    info = np.iinfo(dtype)
    return rng.integers(info.min if lo is None else lo, (info.max if hi is None else hi), size=shape,
                        endpoint=True).astype(dtype)


def tif(name, data, **kw):
    path = os.path.join(OUT, name + ".tif")
    tifffile.imwrite(path, data, **kw)
    return tifffile.imread(path)


def main():
    os.makedirs(OUT, exist_ok=True)
    H, W = 9, 13
    # Plain single-page files: every sample type, strips and tiles, compressions.
    d = tif("u8_gray", ints(np.uint8, (H, W)), metadata=None, rowsperstrip=2)
    save("u8_gray", d[None, None])
    # LZW through Pillow (tifffile codes LZW only with imagecodecs), decoded by Pillow.
    path = os.path.join(OUT, "u16_gray_lzw.tif")
    Image.fromarray(ints(np.uint16, (H, W))).save(path, compression="tiff_lzw")
    save("u16_gray_lzw", np.asarray(Image.open(path))[None, None])
    d = tif("u16_gray_be", ints(np.uint16, (H, W)), metadata=None, byteorder=">", compression="deflate",
            predictor=True)
    save("u16_gray_be", d[None, None])
    d = tif("u32_gray_deflate", ints(np.uint32, (H, W)), metadata=None, compression="zlib")
    save("u32_gray_deflate", d[None, None])
    d = tif("i16_gray", ints(np.int16, (H, W)), metadata=None)
    save("i16_gray", d[None, None])
    # PackBits through Pillow (tifffile encodes it only with imagecodecs), decoded by tifffile.
    path = os.path.join(OUT, "u8_gray_packbits.tif")
    Image.fromarray(np.repeat(ints(np.uint8, (H, 4)), 4, axis=1)[:, :W]).save(path, compression="packbits")
    save("u8_gray_packbits", tifffile.imread(path)[None, None])
    d = tif("f32_gray", rng.normal(100, 30, (H, W)).astype(np.float32), metadata=None)
    save("f32_gray", d[None, None])
    d = tif("rgb8_tiled", ints(np.uint8, (20, 18, 3)), metadata=None, photometric="rgb", tile=(16, 16),
            compression="zlib")
    save("rgb8_tiled", d.transpose(2, 0, 1)[None])
    d = tif("u16_c4_planar", ints(np.uint16, (4, H, W)), metadata=None, photometric="minisblack",
            planarconfig="separate", compression="zlib")
    save("u16_c4_planar", d[None])
    d = tif("u16_c2_contig", ints(np.uint16, (H, W, 2)), metadata=None, photometric="minisblack",
            planarconfig="contig")
    save("u16_c2_contig", d.transpose(2, 0, 1)[None])
    # Several pages without metadata: each page one image.
    d = tif("u8_pages3", ints(np.uint8, (3, H, W)), metadata=None, photometric="minisblack")
    save("u8_pages3", d[:, None])
    # ImageJ hyperstack: 3 z-slices of 2 channels, 16-bit, 0.5 um pixels.
    d = tif("ij_z3c2", ints(np.uint16, (3, 2, H, W), 0, 4095), imagej=True,
            resolution=(2.0, 2.0), metadata={"axes": "ZCYX", "unit": "um"})
    save("ij_z3c2", d)
    # OME-TIFF: 2 time points of 3 channels, 0.25 um pixels.
    d = tif("ome_t2c3", ints(np.uint16, (2, 3, H, W)), ome=True,
            metadata={"axes": "TCYX", "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.25})
    save("ome_t2c3", d)
    # A 1-bit mask written by Pillow.
    m = rng.random((H, W)) > 0.5
    Image.fromarray(m).save(os.path.join(OUT, "mask1.tif"))
    save("mask1", np.asarray(Image.open(os.path.join(OUT, "mask1.tif"))).astype(np.uint8)[None, None])
    # JPEG through Pillow (libjpeg-turbo): grey, colour 4:2:0, progressive.
    yy, xx = np.mgrid[0:24, 0:32]
    rgb = np.stack([(xx * 8) % 256, (yy * 10) % 256, ((xx + yy) * 5) % 256], axis=-1).astype(np.uint8)
    for name, im, kw in [("gray", Image.fromarray(rgb[..., 0]), {}),
                         ("rgb", Image.fromarray(rgb), {"subsampling": 2}),
                         ("rgb_progressive", Image.fromarray(rgb), {"progressive": True, "dpi": (254, 254)})]:
        path = os.path.join(OUT, name + ".jpg")
        im.save(path, quality=90, **kw)
        a = np.asarray(Image.open(path))
        save(name, (a[None] if a.ndim == 2 else a.transpose(2, 0, 1))[None])
    # Percentile stretch (numpy's np.percentile, linear interpolation), per
    # plane, clipped: what cu_raw_to_rgb gives for channel 1 of these files.
    for name, lo, hi in [("u16_gray_lzw", 1, 99.8), ("f32_gray", 1, 99.8), ("i16_gray", 1, 99.8),
                         ("u8_gray", 2, 98), ("u32_gray_deflate", 0.5, 99.5)]:
        a = np.load(os.path.join(OUT, name + ".npy"))[0, 0].astype(np.float64)
        plo, phi = np.percentile(a, [lo, hi])
        want = np.clip((a - plo) / (phi - plo), 0, 1).astype(np.float32)
        save("%s_norm_%g_%g" % (name, lo, hi), want[None, None])
    # Damaged files: a TIFF cut inside its pixel data (tifffile puts the IFD
    # first, so the header still reads) and an IFD offset past the end.
    raw = open(os.path.join(OUT, "u16_c4_planar.tif"), "rb").read()
    open(os.path.join(OUT, "bad_truncated.tif"), "wb").write(raw[: len(raw) * 2 // 3])
    open(os.path.join(OUT, "bad_ifd.tif"), "wb").write(b"II*\0" + (999999).to_bytes(4, "little") + bytes(32))
    print("wrote", len(os.listdir(OUT)), "files to", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
