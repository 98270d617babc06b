"""Pipeline.process from Python against the Rust pipeline on the same frame, in one run.

    python python/bench.py [--size 1280x720] [--features] [--rounds 3]

The frame is fixtures/poster_02.png resized to the size. Both sides process it 40 times
per round; the rounds alternate (Rust, Python, Rust, …) so that a machine whose speed
drifts treats both alike. The Rust side is `cargo run --release --example frametime
--image FRAME` (built first). Prints each side's median of round medians and the ratio.
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

import layercam

ROOT = Path(__file__).resolve().parents[1]


def python_median(frame: np.ndarray, features: bool, n: int = 40) -> float:
    p = layercam.Pipeline(features=features)
    p.process(frame)  # buffers and pool made
    times = []
    r = None
    for _ in range(n):
        t = time.perf_counter()
        r = p.process(frame)
        times.append((time.perf_counter() - t) * 1e3)
    del r
    return statistics.median(times)


def rust_median(image: Path, features: bool) -> float:
    args = ["cargo", "run", "--quiet", "--release", "--example", "frametime", "--",
            "--image", str(image)] + (["--features"] if features else [])
    out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"median ([0-9.]+) ms", out).group(1))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--features", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    w, h = map(int, args.size.split("x"))
    src = Image.open(ROOT / "fixtures" / "poster_02.png").convert("RGB")
    frame = np.asarray(src.resize((w, h), Image.BILINEAR))
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "frame.png"
        Image.fromarray(frame).save(image)
        subprocess.run(["cargo", "build", "--quiet", "--release", "--example", "frametime"],
                       cwd=ROOT, check=True)
        rust, py = [], []
        for _ in range(args.rounds):
            rust.append(rust_median(image, args.features))
            py.append(python_median(frame, args.features))
    r, p = statistics.median(rust), statistics.median(py)
    print(json.dumps({
        "size": f"{w}x{h}", "features": args.features,
        "rust_ms": round(r, 2), "python_ms": round(p, 2), "ratio": round(p / r, 3),
        "rust_rounds": rust, "python_rounds": [round(x, 2) for x in py],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
