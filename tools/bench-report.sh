#!/usr/bin/env bash
# Measures layercam (criterion) and its peers (numpy/scipy, OpenCV) in one run, then the
# replay throughput at 720p and 1080p, for the README's performance section.
# Needs: pip install numpy scipy pillow opencv-python-headless
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
# the host's speed now (it swings within minutes): compare runs only at similar readings
cargo run --quiet --release --example hostprobe
cargo bench --bench pipeline -- --warm-up-time 2 --measurement-time 6 2>&1 \
  | grep -E '^(whole|stage|layers|capture)|time:' | grep -v change
# criterion's "time:" line is its mean-based estimate; the targets are medians, so print
# each benchmark's median (and median absolute deviation) from its estimates.json too
START=$start python3 - <<'PY'
import json, os, pathlib
root = pathlib.Path("target/criterion")
print("medians (ms):")
for est in sorted(root.glob("*/*/new/estimates.json")) + sorted(root.glob("*/*/*/new/estimates.json")):
    if est.stat().st_mtime < int(os.environ["START"]):
        continue  # not measured by this run
    e = json.loads(est.read_text())
    name = "/".join(est.parts[2:-2])
    med, mad = e["median"]["point_estimate"] / 1e6, e["median_abs_dev"]["point_estimate"] / 1e6
    print(f"  {name:40s} {med:8.3f}  (MAD {mad:.3f})")
PY
(cd tools && python3 compare.py)
# replay throughput (y4m reading and YUV->RGB on the capture thread included): 60 frames
# of seq_00 scaled to each size, three runs each, without and with text features
cargo build --quiet --release
mkdir -p target/replay
for size in 1280x720 1920x1080; do
  y4m=target/replay/seq_00_$size.y4m
  [ -s "$y4m" ] || python3 tools/replay-y4m.py "$y4m" "${size%x*}" "${size#*x}" 60
  for extra in "" "--features"; do
    fps=$(for run in 1 2 3; do
      target/release/layercam replay "$y4m" --headless --fast $extra 2>&1 \
        | grep 'frames in' | grep -oE '[0-9.]+ fps' | cut -d' ' -f1
    done | tr '\n' ' ')
    echo "replay $size --fast $extra: $fps(frames/s)"
  done
done
cargo run --quiet --release --example hostprobe
