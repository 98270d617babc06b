#!/usr/bin/env python3
"""Side-by-side speed of the layering method: layercam vs. numpy/scipy vs. OpenCV.

Runs the same frames (fixtures/poster_02.png resized to 640x480, 1280x720, 1920x1080)
through
  * numpy/scipy: the seed-exact reference of tools/reference.py (ndimage.zoom, float32
    power/normalise, histogram KDE) -- the published method made as fast as numpy allows
    (the seed evaluated gaussian_kde over every raw pixel, which takes seconds);
  * OpenCV: the closest OpenCV pipeline (cv2.cvtColor gray, cv2.resize INTER_CUBIC x2,
    square, cv2.normalize, cv2.calcHist, the same 256-point density, cv2.LUT). Not
    seed-exact: OpenCV's cubic is a convolution kernel with half-pixel centres and rounds
    to 8 bits, so it gives other layers;
  * layercam: `cargo bench`'s numbers are the reference; here the release binary's
    `analyze --json` timings are not used -- instead this script reads the criterion
    estimates from target/criterion if present.

    pip install numpy scipy pillow opencv-python-headless
    cargo bench --bench pipeline -- whole      # layercam's medians
    python3 tools/compare.py                   # all three, one table (markdown)
"""
import json
import sys
import os
import statistics
import time

import numpy as np
from PIL import Image

import reference as ref

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = [(640, 480), (1280, 720), (1920, 1080)]


def frames():
    src = Image.open(os.path.join(ROOT, "fixtures", "poster_02.png")).convert("RGB")
    for w, h in SIZES:
        yield (w, h), src.resize((w, h), Image.BILINEAR)


def numpy_scipy(img):
    y = ref.luma(img)
    levels, _ = ref.preprocess(y)
    return ref.layers(levels)["labels"]


def opencv(img):
    import cv2
    rgb = np.asarray(img)
    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    z = cv2.resize(g, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    z = z * z
    q = cv2.normalize(z, None, 0, 255, cv2.NORM_MINMAX).round().astype(np.uint8)
    hist = cv2.calcHist([q], [0], None, [256], [0, 256]).reshape(-1).astype(np.int64)
    dens, _, _ = ref.density(hist, 0.2)
    mins, maxs = ref.extrema(dens)
    b, p = ref.bounds_peaks(dens, mins, maxs)
    lut = np.zeros(256, np.uint8)
    for k in range(len(p)):
        lut[b[k]:b[k + 1]] = k
    return cv2.LUT(q, lut)


def median_ms(fn, arg, repeat):
    fn(arg)  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(arg)
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def criterion(w, h):
    path = os.path.join(ROOT, "target", "criterion", "whole", f"{w}x{h}", "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"] / 1e6
    except OSError:
        return None


def main():
    try:
        import cv2  # noqa: F401
        have_cv = True
    except ImportError:
        have_cv = False
    out = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
    print("| input | layercam (criterion median) | numpy/scipy reference | OpenCV closest |")
    print("|---|---|---|---|")
    peers = {}
    for (w, h), img in frames():
        lc = criterion(w, h)
        ns = median_ms(numpy_scipy, img, 5)
        cv = median_ms(opencv, img, 9) if have_cv else None
        fmt = lambda v, d=1: "n/a" if v is None else f"{v:.{d}f} ms"
        print(f"| {w}x{h} | {fmt(lc, 2)} | {fmt(ns)} | {fmt(cv)} |")
        peers[f"{w}x{h}"] = {"numpy_scipy_ms": ns, "opencv_ms": cv}
    if out:
        with open(out, "w") as f:
            json.dump(peers, f, indent=1)


if __name__ == "__main__":
    main()
