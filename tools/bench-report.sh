#!/usr/bin/env bash
# Measures layercam (criterion) and its peers (numpy/scipy, OpenCV) in one run, for the
# README's performance section. Needs: pip install numpy scipy pillow opencv-python-headless
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench pipeline -- --warm-up-time 2 --measurement-time 6 2>&1 \
  | grep -E '^(whole|stage|layers)|time:' | grep -v change
(cd tools && python3 compare.py)
