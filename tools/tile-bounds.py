#!/usr/bin/env python3
"""How many output tiles a tile-bounds zoom would have to evaluate exactly.

The normalisation needs the zoom's exact minimum and maximum (of x², x the upscaled
value) before any level can be written, so the f32 plane goes through memory. A
tile-bounds design would bound every output tile first, evaluate exactly only the tiles
that could hold an extreme, then write levels straight from the zoom (docs/performance.md,
"What limits the frame"). This script measures the first half of that
idea on real frames: for each image, resized to 1920x1080 like the benchmarks, it counts
the tiles whose bound reaches the true extreme, for three kinds of bound:

  * coef2d: the 4x4 spline coefficients under a 16x16 output tile (B-spline weights are
    non-negative, so every output lies between their minimum and maximum);
  * tile16: the horizontally interpolated rows (one axis already evaluated) under a
    16x16 tile: tighter, but needs the row pass's work before the bound;
  * rowpair: the same per pair of output rows and 16 columns (the vertical taps' own
    unit).

A tile is a candidate for the minimum when its lower bound of x² (0 if its interval holds
0) is at most the true minimum, and for the maximum when its upper bound is at least the
true maximum. The counts printed are (tiles, candidates for the minimum, candidates for
the maximum, pixels in the minimum's candidates).

    pip install numpy scipy pillow
    python3 tools/tile-bounds.py ../shared/data/stills/poster_02.png ...
"""
import os
import sys

import numpy as np
from PIL import Image
from scipy import ndimage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402  (tools/reference.py: the seed-exact luma)

SIZE = (1920, 1080)
TILE = 16


def luma(path):
    im = Image.open(path).convert("RGB").resize(SIZE, Image.BILINEAR)
    return reference.luma(im).astype(np.float64)


def taps(n):
    """Coefficient indices (mirrored) and weights of the x2 zoom of an n-sample axis."""
    m = 2 * n
    x = np.arange(m) * (n - 1) / (m - 1)
    f = np.floor(x).astype(int)
    t = x - f
    w = np.stack(
        [(1 - t) ** 3 / 6, (4 - 6 * t**2 + 3 * t**3) / 6, (1 + 3 * t + 3 * t**2 - 3 * t**3) / 6, t**3 / 6],
        1,
    )
    idx = np.stack([f - 1, f, f + 1, f + 2], 1)
    idx = np.where(idx < 0, -idx, idx)
    idx = np.where(idx > n - 1, 2 * (n - 1) - idx, idx)
    return idx, w


def square_bounds(a, b):
    lb = 0.0 if a <= 0 <= b else min(a * a, b * b)
    return lb, max(a * a, b * b)


def count(path):
    y = luma(path)
    h, w = y.shape
    c = ndimage.spline_filter(y, order=3, mode="mirror")
    ix, wx = taps(w)
    iy, wy = taps(h)
    rows = (c[:, ix] * wx[None]).sum(-1)  # horizontally interpolated rows, h x 2w
    out = (rows[iy] * wy[:, :, None]).sum(1)
    ref = ndimage.zoom(y, 2, order=3)
    assert np.abs(out - ref).max() < 1e-6, "the separable evaluation is scipy's zoom"
    v = ref.astype(np.float32) ** 2
    lo, hi = float(v.min()), float(v.max())
    oh, ow = v.shape
    result = {}
    for name, tall in (("tile16", TILE), ("rowpair", 2)):
        tiles = cand_lo = cand_hi = px_lo = 0
        for r in range(0, oh, tall):
            seg = rows[np.unique(iy[r : r + tall].ravel())]
            for col in range(0, ow, TILE):
                s = seg[:, col : col + TILE]
                lb, ub = square_bounds(s.min(), s.max())
                tiles += 1
                if lb <= lo:
                    cand_lo += 1
                    px_lo += s.shape[1] * min(tall, oh - r)
                cand_hi += int(ub >= hi)
        result[name] = (tiles, cand_lo, cand_hi, px_lo)
    tiles = cand_lo = cand_hi = px_lo = 0
    for r in range(0, oh, TILE):
        rr = np.unique(iy[r : r + TILE].ravel())
        for col in range(0, ow, TILE):
            s = c[np.ix_(rr, np.unique(ix[col : col + TILE].ravel()))]
            lb, ub = square_bounds(s.min(), s.max())
            tiles += 1
            if lb <= lo:
                cand_lo += 1
                px_lo += TILE * TILE
            cand_hi += int(ub >= hi)
    result["coef2d"] = (tiles, cand_lo, cand_hi, px_lo)
    print(f"{path}: min {lo:.4g}, max {hi:.6g}")
    for name in ("coef2d", "tile16", "rowpair"):
        print(f"  {name:8} {result[name]}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for p in sys.argv[1:]:
        count(p)
