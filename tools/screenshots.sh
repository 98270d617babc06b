#!/usr/bin/env bash
# Regenerates the viewer screenshots in docs/img/ (one per view, and the lines with their
# text read by `o`) under a virtual display.
#   xvfb-run -a -s "-screen 0 1280x1024x24" tools/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
target/release/layercam replay fixtures/demo --loop --fps 2 --features --window --max-frames 400 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do wid=$(xdotool search --name '^layercam' 2>/dev/null | head -1) && [ -n "$wid" ] && break; sleep 0.2; done
sleep 1.5
key() { xdotool windowfocus --sync "$wid" 2>/dev/null || true; xdotool keydown "$1"; sleep 0.2; xdotool keyup "$1"; sleep 0.6; }
key space   # pause on one frame so every view shows the same picture
for view in layer overlay labels mosaic text; do
  import -window "$wid" "docs/img/view-$view.png"
  key Tab
done
key h
import -window "$wid" docs/img/view-help.png
key q
wait "$pid" || true
# lines and their text read live, over the overlay view of a poster
dir=$(mktemp -d)
cp fixtures/poster_00.png "$dir/"
target/release/layercam replay "$dir" --loop --fps 10 --view overlay --window >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do wid=$(xdotool search --name '^layercam' 2>/dev/null | head -1) && [ -n "$wid" ] && break; sleep 0.2; done
sleep 1.5
key o
sleep 8      # the engine loads, then reads the lines one by one
import -window "$wid" docs/img/view-ocr.png
key q
wait "$pid" || true
rm -r "$dir"
