#!/usr/bin/env python3
"""Seed-exact reference for layercam: generates the golden files under fixtures/golden/.

This follows ../shared/docs/algorithm.md, which in turn follows the published Python code of
the OCR series (scipy + numpy + Pillow).  It is the oracle the Rust tests compare against;
the tests themselves never run Python.

    pip install numpy scipy pillow
    python3 tools/reference.py                 # regenerate every golden (REGENERATE=1 in
                                               # `cargo test` only checks they are current)
    python3 tools/reference.py --check-kde     # also cross-check the density against
                                               # scipy.stats.gaussian_kde over raw pixels

Golden layout per fixture <name>:
    fixtures/golden/<name>.json          summary numbers (schema like `layercam analyze --json`;
                                         "lines": the seed's text-line boxes, section 5)
    fixtures/golden/<name>.labels.png    label map (upscaled size, value = layer index)
    fixtures/golden/<name>.text.png      text-feature mask (255 = feature)
"""
import argparse
import hashlib
import json
import math
import os
import sys

import numpy as np
from PIL import Image
from scipy import ndimage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures")
GOLDEN = os.path.join(FIXTURES, "golden")
SEED = os.path.normpath(os.path.join(ROOT, "..", "shared", "seed", "cn.jpg"))


# ---------------------------------------------------------------- 1. preprocess

def luma(img):
    """Pillow's convert('F'): (299 R + 587 G + 114 B) / 1000 in float32; gray used as is."""
    if img.mode in ("L", "LA", "I;16", "I"):
        return np.asarray(img.convert("L"), dtype=np.float32)
    rgb = np.asarray(img.convert("RGB"), dtype=np.int64)
    num = 299 * rgb[..., 0] + 587 * rgb[..., 1] + 114 * rgb[..., 2]
    return (num.astype(np.float32) / np.float32(1000)).astype(np.float32)


def preprocess(y, zoom=2, power=2):
    """zoom (scipy, order 3, float32 out), power, normalise + round half to even."""
    if zoom != 1:
        z = ndimage.zoom(y, zoom)
    else:
        z = y.copy()
    z = z.astype(np.float32)
    p = (z ** power).astype(np.float32)
    lo, hi = p.min(), p.max()
    if hi == lo:
        return np.zeros(p.shape, dtype=np.uint8), z
    q = ((p - lo) / (hi - lo) * np.float32(255)).astype(np.float32)
    return np.round(q).astype(np.uint8), z


# ---------------------------------------------------------------- 2. density and layers

def density(hist, factor):
    n = int(hist.sum())
    v = np.arange(256, dtype=np.float64)
    if n < 2:
        sigma = 0.0
    else:
        mean = (hist * v).sum() / n
        sigma = float(np.sqrt((hist * (v - mean) ** 2).sum() / (n - 1)))
    h = factor * sigma
    if h == 0.0:
        return hist.astype(np.float64), sigma, h
    d = v[:, None] - v[None, :]
    w = np.exp(-(d * d) / (2.0 * h * h))
    return w @ hist.astype(np.float64), sigma, h


def extrema(dens, convention="seed"):
    d = np.diff(dens)
    mins = np.where((d[:-1] < 0) * (d[1:] > 0))[0]
    maxs = np.where((d[:-1] > 0) * (d[1:] < 0))[0]
    if convention == "true":
        mins, maxs = mins + 1, maxs + 1
    return [int(i) for i in mins], [int(i) for i in maxs]


def bounds_peaks(dens, mins, maxs):
    # a minimum at 0 (seed convention) would open an empty first layer: dropped, which
    # leaves every pixel's peak as the seed has it
    b = [0] + [m for m in mins if m > 0] + [256]
    p = list(maxs)
    if p:
        if b[1] < p[0]:
            p = [0] + p
        if b[-2] > p[-1]:
            p = p + [255]
    inside = len(p) == len(b) - 1 and all(b[k] <= p[k] < b[k + 1] for k in range(len(p)))
    if not inside:
        # The seed crashes or leaves pixels unlabelled here: every bound interval is a layer,
        # its peak the level of the largest density inside it (first on ties).
        p = [int(lo + np.argmax(dens[lo:hi])) for lo, hi in zip(b[:-1], b[1:])]
    return b, p


def layers(levels, factor=0.2, convention="seed"):
    hist = np.bincount(levels.reshape(-1), minlength=256).astype(np.int64)
    dens, sigma, h = density(hist, factor)
    mins, maxs = extrema(dens, convention)
    b, p = bounds_peaks(dens, mins, maxs)
    lut = np.zeros(256, dtype=np.uint8)
    for k in range(len(p)):
        lut[b[k]:b[k + 1]] = k
    labels = lut[levels]
    counts = [int(hist[b[k]:b[k + 1]].sum()) for k in range(len(p))]
    return dict(hist=hist, density=dens, sigma=sigma, h=h, minima=mins, maxima=maxs,
                bounds=b, peaks=p, counts=counts, labels=labels)


# ---------------------------------------------------------------- 4. feature extraction (2)

EIGHT = np.ones((3, 3), dtype=bool)
CROSS = ndimage.generate_binary_structure(2, 1)


def erosion_filter(labels, k_layers):
    kept = []
    for k in range(k_layers):
        f = labels == k
        lab, n = ndimage.label(f, structure=EIGHT)
        if n == 0:
            kept.append(f)
            continue
        ff = ndimage.binary_erosion(f, structure=CROSS, border_value=0)
        area = np.bincount(lab.reshape(-1), minlength=n + 1)
        er = np.bincount(lab.reshape(-1), weights=ff.reshape(-1), minlength=n + 1)
        r = er / np.maximum(area, 1)
        drop = (r > 0.9) | (r < 0.1)
        drop[0] = False
        f = f & ~drop[lab]
        kept.append(f)
    return kept


def pooling(kept):
    union = np.zeros_like(kept[0])
    for f in kept:
        union |= f
    lab, n = ndimage.label(union, structure=EIGHT)
    # per component, pixels contributed by each layer; argmax takes the lowest layer on ties
    counts = np.stack([np.bincount(lab[f], minlength=n + 1) for f in kept])
    best = np.argmax(counts, axis=0)
    layer_of = np.full(union.shape, -1, dtype=np.int64)
    for k, f in enumerate(kept):
        layer_of[f] = k
    pooled = union & (layer_of == best[lab])
    return pooled


def post_process(pic):
    pic = pic.copy()
    lab, n = ndimage.label(pic, structure=EIGHT)
    objs = ndimage.find_objects(lab)
    areas = np.bincount(lab.reshape(-1), minlength=n + 1)
    H, W = pic.shape
    T = pic.size
    for i in range(1, n + 1):
        sl = objs[i - 1]
        a, b = sl[0].start, sl[0].stop
        c, d = sl[1].start, sl[1].stop
        S = (b - a) * (d - c)
        A = int(areas[i])
        ss = T / float(S * S)
        if A * ss < 16 or (1 + S - A) * ss < 16:
            pic[sl][lab[sl] == i] = False
        else:
            grown = (slice(max(0, 2 * a - b), min(H, 2 * b - a)),
                     slice(max(0, 2 * c - d), min(W, 2 * d - c)))
            if int(pic[grown].sum()) == A and A / float(S) > 0.75:
                pic[sl] = False
    return pic


def features(labels, k_layers):
    kept = erosion_filter(labels, k_layers)
    pooled = pooling(kept)
    final = post_process(pooled)
    return dict(kept_per_layer=[int(f.sum()) for f in kept], pooled=int(pooled.sum()),
                pixels=int(final.sum()), mask=final)


# ---------------------------------------------------------------- 5. text localisation

def _boxes(lab, n):
    """Bounding boxes (a, b, c, d) of components 1..n, half-open, raster order."""
    return [(sl[0].start, sl[0].stop, sl[1].start, sl[1].stop) for sl in ndimage.find_objects(lab, n)]


def areas(F):
    """M: F with every component's bounding box filled."""
    lab, n = ndimage.label(F, structure=EIGHT)
    M = np.zeros_like(F)
    for a, b, c, d in _boxes(lab, n):
        M[a:b, c:d] = True
    return M


def integrate(M):
    """Horizontal integration (section 5, step 2): all pairs, as published."""
    H, W = M.shape
    lab, n = ndimage.label(M, structure=EIGHT)
    out = M.copy()
    if n < 2:
        return out
    boxes = _boxes(lab, n)
    for i, (a, b, c, d) in enumerate(boxes):
        h, w = b - a, d - c
        ci, cj = (a + b) / 2.0, (c + d) / 2.0
        best, bestD = None, None
        for j, (a2, b2, c2, d2) in enumerate(boxes):
            if j == i:
                continue
            dr = (a2 + b2) / 2.0 - ci
            dc = (c2 + d2) / 2.0 - cj
            D = max(0.0, abs(dr) - (h + b2 - a2) / 2.0) ** 2 + max(0.0, abs(dc) - (w + d2 - c2) / 2.0) ** 2
            if bestD is None or D < bestD:
                best, bestD = (dr, dc), D
        dr, dc = best
        theta = math.atan2(dc, dr)
        if bestD <= (min(h, w) // 4) ** 2:
            if math.pi / 4 < theta < 3 * math.pi / 4:
                out[a:b, c:min(d + w // 4, W)] = True
            elif -3 * math.pi / 4 < theta < -math.pi / 4:
                out[a:b, max(c - w // 4, 0):d] = True
    return out


def trim(M, F, p):
    lab, n = ndimage.label(M, structure=EIGHT)
    out = M.copy()
    for i, (a, b, c, d) in enumerate(_boxes(lab, n)):
        crop = F[a:b, c:d] & (lab[a:b, c:d] == i + 1)
        rows = np.where(crop.any(axis=1))[0]
        cols = np.where(crop.any(axis=0))[0]
        out[lab == i + 1] = False
        if len(rows) == 0:
            continue  # an empty crop counts as 1x1: too small
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        if r1 - r0 >= p and c1 - c0 >= p and (r1 - r0) * (c1 - c0) >= p * p:
            out[a + r0:a + r1, c + c0:c + c1] = True
    return out


def boundary_ok(F, box):
    a, b, c, d = box
    f = F[a:b, c:d]
    total = int(f.sum())
    if total == 0:
        return True  # 0/0 in the published code: kept
    x = f[:-1, :-1]
    diff = (x != f[:-1, 1:]) | (x != f[1:, :-1]) | (x != f[1:, 1:])
    return diff.sum() / float(total) >= 0.15


def localise(F):
    """Section 5: text-line boxes (x, y, w, h at label-map size) from the feature mask."""
    F = F.astype(bool)
    M = areas(F)
    M = trim(integrate(M), F, 5)
    M = trim(integrate(M), F, 10)
    lab, n = ndimage.label(M, structure=EIGHT)
    lines = []
    for a, b, c, d in _boxes(lab, n):
        if boundary_ok(F, (a, b, c, d)):
            lines.append(dict(x=int(c), y=int(a), w=int(d - c), h=int(b - a)))
    return lines


# ---------------------------------------------------------------- fixtures

def synthetic():
    """Small edge-case frames, written as PNG fixtures (deterministic)."""
    rng = np.random.default_rng(20161)
    out = {}
    out["edge_constant"] = np.full((8, 8, 3), 77, np.uint8)
    two = np.zeros((16, 16, 3), np.uint8)
    two[:, 8:] = 200
    out["edge_two_levels"] = two
    out["edge_1x1"] = np.array([[[10, 200, 30]]], np.uint8)
    out["edge_1x9"] = rng.integers(0, 256, (1, 9, 3), dtype=np.uint8)
    out["edge_9x1"] = rng.integers(0, 256, (9, 1, 3), dtype=np.uint8)
    g = np.tile(np.linspace(0, 255, 48).astype(np.uint8), (20, 1))
    out["edge_gradient"] = np.stack([g, g, g], -1)
    noise = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    out["edge_noise"] = noise
    # colourful blocks with text-like strokes, a tiny poster
    img = np.zeros((60, 90, 3), np.uint8)
    img[:] = (250, 240, 200)
    img[10:50, 5:45] = (30, 90, 160)
    img[20:24, 10:40] = (250, 250, 30)
    img[30:34, 10:40] = (250, 250, 30)
    img[20:44, 60:63] = (200, 20, 20)
    img[20:23, 55:70] = (200, 20, 20)
    img += rng.integers(0, 6, img.shape, dtype=np.uint8)
    out["edge_poster"] = img
    return out


def source_fixtures():
    """(name, path) of every fixture image, creating the synthetic ones."""
    os.makedirs(GOLDEN, exist_ok=True)
    items = []
    for name in ["poster_00.png", "poster_02.png", "page.png"]:
        items.append((os.path.splitext(name)[0], os.path.join(FIXTURES, name)))
    for name, arr in synthetic().items():
        path = os.path.join(FIXTURES, "edge", name + ".png")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        Image.fromarray(arr).save(path)
        items.append((name, path))
    # palette and RGBA versions of the tiny poster (decoding coverage, same layers expected
    # as their RGB source since palette holds the exact colours and alpha is ignored)
    src = Image.open(os.path.join(FIXTURES, "edge", "edge_poster.png"))
    rgba = src.convert("RGBA")
    a = np.asarray(rgba).copy()
    a[..., 3] = 128
    Image.fromarray(a).save(os.path.join(FIXTURES, "edge", "edge_poster_rgba.png"))
    items.append(("edge_poster_rgba", os.path.join(FIXTURES, "edge", "edge_poster_rgba.png")))
    pal = Image.fromarray(np.asarray(src)[:, :, :]).quantize(colors=16, method=Image.Quantize.MEDIANCUT)
    pal.save(os.path.join(FIXTURES, "edge", "edge_palette.png"))
    items.append(("edge_palette", os.path.join(FIXTURES, "edge", "edge_palette.png")))
    return items


def analyse(path, factor=0.2, zoom=2, power=2, convention="seed", with_features=True):
    img = Image.open(path)
    y = luma(img)
    levels, z = preprocess(y, zoom, power)
    L = layers(levels, factor, convention)
    res = dict(
        file=os.path.basename(path), width=int(y.shape[1]), height=int(y.shape[0]),
        upscaled_width=int(levels.shape[1]), upscaled_height=int(levels.shape[0]),
        sigma=L["sigma"], bandwidth=L["h"], zoom_min=float(z.min()), zoom_max=float(z.max()),
        minima=L["minima"], maxima=L["maxima"], bounds=L["bounds"], peaks=L["peaks"],
        layers=[dict(index=k, peak=L["peaks"][k], lo=L["bounds"][k], hi=L["bounds"][k + 1],
                     pixels=L["counts"][k]) for k in range(len(L["peaks"]))],
        density=[float(x) for x in L["density"]],
        histogram=[int(x) for x in L["hist"]],
        params=dict(factor=factor, zoom=zoom, power=power, convention=convention),
    )
    F = None
    if with_features:
        F = features(L["labels"], len(L["peaks"]))
        res["features"] = dict(kept_per_layer=F["kept_per_layer"], pooled=F["pooled"],
                               pixels=F["pixels"])
        # section 5 on the final mask: the seed's text-line boxes, label-map pixels
        res["lines"] = localise(F["mask"])
    return res, L["labels"], (F["mask"] if F else None), levels


def write_golden(name, res, labels, mask, images=True):
    with open(os.path.join(GOLDEN, name + ".json"), "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    if images:
        Image.fromarray(labels).save(os.path.join(GOLDEN, name + ".labels.png"), optimize=True)
        if mask is not None:
            Image.fromarray(mask.astype(np.uint8) * 255).save(
                os.path.join(GOLDEN, name + ".text.png"), optimize=True)


def zoom_unit_cases():
    """Small arrays zoomed by scipy, for the Rust unit test of the zoom stage."""
    rng = np.random.default_rng(7)
    cases = []
    for shape in [(1, 1), (1, 5), (5, 1), (2, 2), (3, 4), (7, 6), (16, 11)]:
        a = rng.uniform(0, 255, shape).astype(np.float32)
        for z in (2, 3):
            cases.append(dict(shape=list(shape), zoom=z, input=[float(v) for v in a.reshape(-1)],
                              output=[float(v) for v in ndimage.zoom(a, z).reshape(-1)]))
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check-kde", action="store_true",
                    help="cross-check extrema against scipy.stats.gaussian_kde over raw pixels")
    args = ap.parse_args()

    for name, path in source_fixtures():
        res, labels, mask, levels = analyse(path)
        write_golden(name, res, labels, mask)
        print(f"{name}: minima {res['minima']} maxima {res['maxima']} "
              f"features {res['features']['pixels']}")
    # the other extremum convention and other parameters, on one still
    for suffix, kw in [("true", dict(convention="true")), ("f030_z1", dict(factor=0.3, zoom=1)),
                       ("p1", dict(power=1))]:
        res, labels, mask, _ = analyse(os.path.join(FIXTURES, "poster_00.png"), **kw)
        write_golden("poster_00." + suffix, res, labels, None)
        print(f"poster_00.{suffix}: minima {res['minima']} maxima {res['maxima']}")

    with open(os.path.join(GOLDEN, "zoom_cases.json"), "w") as f:
        json.dump(zoom_unit_cases(), f)
        f.write("\n")

    if os.path.exists(SEED):
        digest = hashlib.sha256(open(SEED, "rb").read()).hexdigest()
        res, labels, mask, levels = analyse(SEED)
        res["sha256"] = digest
        # cn.jpg itself is not committed; neither are images derived from it
        write_golden("cn", res, labels, mask, images=False)
        print(f"cn: sigma {res['sigma']:.5f} h {res['bandwidth']:.5f} minima {res['minima']} "
              f"maxima {res['maxima']} counts {[l['pixels'] for l in res['layers']]} "
              f"features {res['features']}")
        if args.check_kde:
            from scipy.stats import gaussian_kde
            d0 = gaussian_kde(levels.reshape(-1).astype(np.float64), bw_method=0.2)(range(256))
            print("gaussian_kde extrema:", extrema(d0))
    else:
        print(f"warning: {SEED} not found; cn golden not regenerated", file=sys.stderr)


if __name__ == "__main__":
    main()
