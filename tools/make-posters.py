#!/usr/bin/env python3
"""Writes synthetic posters with the boxes of their texts: material for measuring text
lines on layouts no rule of the project was written against.

    tools/make-posters.py OUTDIR [--count N] [--seed S] [--vertical SHARE]

Each poster is `poster_NN.png` (RGB) with `poster_NN.json` in the schema of
../shared/data/stills: width, height and `texts`, each with `text`, `bbox_xywh` (the
ink box in pixels), `color` and `size_px`. Layouts: a flat or gradient background, colour
panels, an optional picture of photo-like texture (smoothed noise at several scales,
coloured: leaves, fur, gravel, with no text in it), and 4 to 9 texts (Chinese
words and English phrases, 14 to 110 px, regular or bold, set in Noto CJK and DejaVu) placed
without overlapping (with --vertical, that share of the Chinese ones set as a column, one
character under the other), mostly on an even background, each with a brightness contrast of at
least 60 gray levels to the mean of what it sits on. Then camera effects: a slight blur, sensor noise, JPEG at quality 85.

Needs Pillow and numpy, and the fonts of fonts-noto-cjk and fonts-dejavu-core.
"""

import argparse
import json
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-{}.ttc"
LATIN = "/usr/share/fonts/truetype/dejavu/DejaVuSans{}.ttf"
SIZES = [(640, 480), (800, 600), (1280, 720)]
CHINESE = ["新品上市", "限时特惠", "全场五折", "夏日清凉", "会员专享", "立即购买", "买一送一",
           "品质生活", "热卖推荐", "新年快乐", "春季新款", "包邮到家", "精选好物", "今日特价",
           "满减活动", "欢迎光临", "手工制作", "天然有机", "优惠券", "秒杀"]
ENGLISH = ["NEW ARRIVALS", "Summer Sale", "Buy Now", "Limited Offer", "FREE SHIPPING",
           "Best Seller", "Members Only", "50% OFF", "Shop the Look", "Fresh Daily",
           "Only $19.99", "Hand Made", "Open Every Day", "Spring 2027", "Order Online"]


def luma(c):
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def random_color(rng, away_from=None, contrast=60):
    while True:
        c = tuple(rng.randrange(256) for _ in range(3))
        if away_from is None or abs(luma(c) - luma(away_from)) >= contrast:
            return c


def hexcolor(c):
    return "#%02x%02x%02x" % c


def background(rng, w, h):
    a, b = random_color(rng), random_color(rng)
    if rng.random() < 0.3:
        return Image.new("RGB", (w, h), a)
    t = np.linspace(0, 1, h if rng.random() < 0.6 else w)[:, None]
    ramp = (np.array(a)[None, :] * (1 - t) + np.array(b)[None, :] * t).astype(np.uint8)
    if ramp.shape[0] == h:
        arr = np.repeat(ramp[:, None, :], w, axis=1)
    else:
        arr = np.repeat(ramp[None, :, :], h, axis=0)
    return Image.fromarray(arr, "RGB")


def texture(rng, w, h):
    """Photo-like texture: noise smoothed at several scales, mapped through a random
    colour ramp."""
    g = np.random.default_rng(rng.randrange(1 << 30))
    acc = np.zeros((h, w), np.float32)
    for scale, weight in ((4, 1.0), (12, 0.8), (40, 0.6)):
        small = g.normal(0, 1, (max(h // scale, 2), max(w // scale, 2))).astype(np.float32)
        up = Image.fromarray(small, "F").resize((w, h), Image.BICUBIC)
        acc += weight * np.asarray(up)
    acc = (acc - acc.min()) / max(float(np.ptp(acc)), 1e-6)
    a, b, c = (np.array(random_color(rng), np.float32) for _ in range(3))
    t = acc[..., None]
    rgb = np.where(t < 0.5, a * (1 - 2 * t) + b * 2 * t, b * (2 - 2 * t) + c * (2 * t - 1))
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")


def overlaps(box, boxes, pad=6):
    x0, y0, x1, y1 = box
    return any(x0 < b[2] + pad and b[0] < x1 + pad and y0 < b[3] + pad and b[1] < y1 + pad
               for b in boxes)


def vertical_box(draw, s, font, size):
    """Ink box of `s` set as a column (one character under the other, 1.1 em apart) at
    the origin, and each character's drawing origin."""
    boxes, origins = [], []
    for i, ch in enumerate(s):
        oy = int(i * size * 1.1)
        x0, y0, x1, y1 = draw.textbbox((0, oy), ch, font=font)
        boxes.append((x0, y0, x1, y1))
        origins.append((0, oy))
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes)), origins


def poster(rng, vertical=0.0):
    w, h = rng.choice(SIZES)
    img = background(rng, w, h)
    draw = ImageDraw.Draw(img)
    taken = []
    if rng.random() < 0.7:
        pw, ph = int(w * rng.uniform(0.25, 0.45)), int(h * rng.uniform(0.35, 0.7))
        x, y = rng.randrange(0, w - pw), rng.randrange(0, h - ph)
        img.paste(texture(rng, pw, ph), (x, y))
        taken.append((x, y, x + pw, y + ph))
    for _ in range(rng.randrange(0, 3)):
        x0, y0 = rng.randrange(0, w // 2), rng.randrange(0, h - 40)
        x1, y1 = x0 + rng.randrange(w // 5, w // 2), y0 + rng.randrange(30, h // 4)
        if not overlaps((x0, y0, x1, y1), taken, 0):
            draw.rounded_rectangle((x0, y0, x1, y1), radius=rng.randrange(0, 20),
                                   fill=random_color(rng))
    texts = []
    for _ in range(200):
        if len(texts) >= rng.randrange(4, 10):
            break
        chinese = rng.random() < 0.5
        s = rng.choice(CHINESE if chinese else ENGLISH)
        size = int(rng.choice([rng.uniform(14, 30), rng.uniform(30, 60), rng.uniform(60, 110)]))
        bold = rng.random() < 0.4
        font = (ImageFont.truetype(CJK.format("Bold" if bold else "Regular"), size) if chinese
                else ImageFont.truetype(LATIN.format("-Bold" if bold else ""), size))
        upright = chinese and vertical > 0 and rng.random() < vertical
        if upright:
            (x0, y0, x1, y1), origins = vertical_box(draw, s, font, size)
        else:
            x0, y0, x1, y1 = draw.textbbox((0, 0), s, font=font)
        tw, th = x1 - x0, y1 - y0
        if tw >= w - 20 or th >= h - 20:
            continue
        x, y = rng.randrange(10, w - tw - 10), rng.randrange(10, h - th - 10)
        box = (x, y, x + tw, y + th)
        if overlaps(box, [t["_box"] for t in texts]) or overlaps(box, taken[:1], 0):
            continue
        under = np.asarray(img.crop(box)).reshape(-1, 3).astype(np.float32)
        if under.dot([0.299, 0.587, 0.114]).std() > 35 and rng.random() < 0.8:
            continue  # most text is set on one background, not across an edge
        under = under.mean(axis=0)
        color = random_color(rng, tuple(under), 60)
        if upright:
            for ch, (ox, oy) in zip(s, origins):
                draw.text((x - x0 + ox, y - y0 + oy), ch, font=font, fill=color)
        else:
            draw.text((x - x0, y - y0), s, font=font, fill=color)
        texts.append({"text": s, "bbox_xywh": [x, y, tw, th], "color": hexcolor(color),
                      "size_px": size, "vertical": upright, "_box": box})
    img = img.filter(ImageFilter.GaussianBlur(0.6))
    arr = np.asarray(img).astype(np.float32)
    arr += np.random.default_rng(rng.randrange(1 << 30)).normal(0, 3, arr.shape)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    for t in texts:
        del t["_box"]
    return img, {"width": w, "height": h, "texts": texts}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--vertical", type=float, default=0.0,
                    help="share of Chinese texts set as a column (default 0)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    args.outdir.mkdir(parents=True, exist_ok=True)
    for n in range(args.count):
        img, meta = poster(rng, args.vertical)
        name = f"poster_{n:02d}"
        # JPEG round trip: a camera's compression
        tmp = args.outdir / f"{name}.tmp.jpg"
        img.save(tmp, quality=85)
        Image.open(tmp).convert("RGB").save(args.outdir / f"{name}.png")
        tmp.unlink()
        meta.update(image=f"{name}.png")
        (args.outdir / f"{name}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
