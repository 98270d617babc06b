#!/usr/bin/env python3
"""Writes the replay-throughput input: a sequence of ../shared/data scaled to one size, as
a YUV4MPEG2 4:2:0 file (full-range BT.601, as JPEG/JFIF converts), for

    layercam replay OUT.y4m --headless --fast [--features]

(the README's replay numbers: 60 frames of seq_00 at 1280x720 and 1920x1080).

    pip install numpy pillow
    python3 tools/replay-y4m.py OUT.y4m WIDTH HEIGHT [FRAMES [SEQUENCE_FOLDER]]
"""
import glob
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SEQUENCE = os.path.join(HERE, "..", "..", "shared", "data", "sequences", "seq_00_640x480")


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    out, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    frames = int(sys.argv[4]) if len(sys.argv) > 4 else 60
    folder = sys.argv[5] if len(sys.argv) > 5 else DEFAULT_SEQUENCE
    if w % 2 or h % 2:
        sys.exit("width and height must be even (4:2:0)")
    files = sorted(glob.glob(os.path.join(folder, "frame_*.png")))[:frames]
    if not files:
        sys.exit(f"no frame_*.png in {folder}")
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"YUV4MPEG2 W%d H%d F30:1 Ip A1:1 C420jpeg XCOLORRANGE=FULL\n" % (w, h))
        for p in files:
            rgb = np.asarray(Image.open(p).convert("RGB").resize((w, h), Image.BILINEAR), dtype=np.float64)
            r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
            y = 0.299 * r + 0.587 * g + 0.114 * b
            u = -0.168736 * r - 0.331264 * g + 0.5 * b + 128
            v = 0.5 * r - 0.418688 * g - 0.081312 * b + 128

            def sub(c):
                return c.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))

            f.write(b"FRAME\n")
            for plane in (y, sub(u), sub(v)):
                f.write(np.clip(np.round(plane), 0, 255).astype(np.uint8).tobytes())
    os.replace(tmp, out)
    print(f"{out}: {len(files)} frames of {w}x{h}")


if __name__ == "__main__":
    main()
