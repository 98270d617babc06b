#!/usr/bin/env bash
# Measures layercam (criterion) and its peers (numpy/scipy, OpenCV) in one run, then the
# replay throughput at 720p and 1080p, and keeps the run as data:
#
#   benches/runs/<date>-<cpu>/raw.txt       everything printed
#   benches/runs/<date>-<cpu>/summary.json  machine, commit, host speed, medians, peers, replay
#   benches/runs/<date>-<cpu>/summary.md    the README's performance table for this run
#
# Needs: pip install numpy scipy pillow opencv-python-headless
# Compare runs only on the same machine at similar host-probe readings: a VM's speed swings.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || uname -m)
slug=$(echo "$cpu" | tr 'A-Z' 'a-z' | sed -E 's/\((r|tm)\)//g; s/(cpu|processor|[0-9]+-core)//g; s/@.*//; s/[^a-z0-9]+/-/g; s/^-|-$//g')
run=benches/runs/$(date -u +%Y-%m-%d)-${slug:-cpu}
mkdir -p "$run"
exec > >(tee "$run/raw.txt") 2>&1
git update-index -q --refresh || true
echo "machine: $cpu, $(nproc) cores; commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (modified)'); $(date -u +%FT%TZ)"
# the host's speed now (it swings within minutes): compare runs only at similar readings
probe() { cargo run --quiet --release --example hostprobe; }
probe | tee "$run/.probe_before"
cargo bench --bench pipeline -- --warm-up-time 2 --measurement-time 6 2>&1 \
  | grep -E '^(whole|stage|layers|lines|capture)|time:' | grep -v change
(cd tools && python3 compare.py --json "../$run/.peers.json")
# replay throughput (y4m reading and YUV->RGB on the capture thread included): 60 frames
# of seq_00 scaled to each size, three runs each, without and with text features
cargo build --quiet --release
mkdir -p target/replay
: >"$run/.replay"
for size in 1280x720 1920x1080; do
  y4m=target/replay/seq_00_$size.y4m
  [ -s "$y4m" ] || python3 tools/replay-y4m.py "$y4m" "${size%x*}" "${size#*x}" 60
  for extra in "" "--features"; do
    fps=$(for _ in 1 2 3; do
      target/release/layercam replay "$y4m" --headless --fast $extra 2>&1 \
        | grep 'frames in' | grep -oE '[0-9.]+ fps' | cut -d' ' -f1
    done | tr '\n' ' ')
    echo "replay $size --fast $extra: $fps(frames/s)"
    echo "$size${extra:+ $extra}|$fps" >>"$run/.replay"
  done
done
probe | tee "$run/.probe_after"
# criterion's "time:" line is its mean-based estimate; the targets are medians, so the
# summary takes each benchmark's median (and median absolute deviation) from its
# estimates.json, for the benchmarks this run measured
START=$start RUN=$run CPU="$cpu" COMMIT=$(git rev-parse --short HEAD) python3 - <<'PY'
import json, os, pathlib
run = pathlib.Path(os.environ["RUN"])
medians = {}
root = pathlib.Path("target/criterion")
for est in sorted(root.glob("*/*/new/estimates.json")) + sorted(root.glob("*/*/*/new/estimates.json")):
    if est.stat().st_mtime < int(os.environ["START"]):
        continue
    e = json.loads(est.read_text())
    name = "/".join(est.parts[2:-2])
    medians[name] = {"median_ms": e["median"]["point_estimate"] / 1e6,
                     "mad_ms": e["median_abs_dev"]["point_estimate"] / 1e6}
replay = {}
for line in (run / ".replay").read_text().splitlines():
    key, fps = line.split("|")
    replay[key] = [float(v) for v in fps.split()]
summary = {
    "machine": os.environ["CPU"], "cores": os.cpu_count(), "commit": os.environ["COMMIT"],
    "date": run.name[:10],
    "host_probe": {"before": (run / ".probe_before").read_text().strip(),
                   "after": (run / ".probe_after").read_text().strip()},
    "medians": medians, "peers": json.loads((run / ".peers.json").read_text()),
    "replay_fps": replay,
}
(run / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
def ms(name):
    m = medians.get(name)
    return "n/a" if m is None else f"{m['median_ms']:.2f} ms"
rows = ["| frame | layercam: layers | layers + text features | numpy/scipy, same method | OpenCV, closest pipeline |",
        "|---|---|---|---|---|"]
for size, p in summary["peers"].items():
    fmt = lambda v: "n/a" if v is None else f"{v:.1f} ms"
    rows.append(f"| {size} | **{ms('whole/' + size)}** | {ms('layers+features/' + size)} | "
                f"{fmt(p['numpy_scipy_ms'])} | {fmt(p['opencv_ms'])} |")
head = (f"Medians, {summary['machine']} ({summary['cores']} cores), commit {summary['commit']}, "
        f"{summary['date']}; host probe before: {summary['host_probe']['before']}\n\n")
(run / "summary.md").write_text(head + "\n".join(rows) + "\n")
print(head + "\n".join(rows))
PY
rm -f "$run"/.probe_before "$run"/.probe_after "$run"/.peers.json "$run"/.replay
echo "run kept in $run"
