#!/usr/bin/env bash
# Memory over a long looped replay: runs `layercam replay INPUT --loop` with the given
# options for SECONDS, samples the process's resident memory every STEP seconds into
# OUT.csv (seconds,rss_kib), stops it with Ctrl-C (SIGINT) and prints the resident memory
# of the first and the last minute and the growth between them. The run's closing JSON
# summary goes to OUT.csv.summary.
#
#   tools/memory-soak.sh INPUT SECONDS OUT.csv [replay options...]
#   tools/memory-soak.sh /tmp/seq_01_720.y4m 600 soak.csv --fps 30 --features --lines --ocr
#
# Needs a release build (cargo build --release). Memory is flat when the last minute's
# peak is within a few MiB of the first minute's.
set -euo pipefail
if [ $# -lt 3 ]; then
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
input=$1
seconds=$2
out=$3
shift 3
step=${STEP:-5}
bin=${LAYERCAM:-$(dirname "$0")/../target/release/layercam}
# JSON records are made and written as in use; only the closing summary is kept
"$bin" replay "$input" --loop --headless --json "$@" > >(tail -n 1 >"$out.summary") 2>"$out.stderr" &
pid=$!
trap 'kill -INT $pid 2>/dev/null || true' EXIT
echo "seconds,rss_kib" >"$out.tmp"
start=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
    now=$(( $(date +%s) - start ))
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$rss" ] && echo "$now,$rss" >>"$out.tmp"
    [ "$now" -ge "$seconds" ] && break
    sleep "$step"
done
kill -INT "$pid" 2>/dev/null || true
status=0
wait "$pid" || status=$?
trap - EXIT
mv "$out.tmp" "$out"
if [ "$status" -ne 0 ] && [ "$status" -ne 130 ]; then
    echo "layercam ended with $status:" >&2
    cat "$out.stderr" >&2
    exit 1
fi
awk -F, -v total="$seconds" 'NR > 1 {
        if ($1 <= 60 && $2 > first) first = $2
        if ($1 >= total - 60 && $2 > last) last = $2
        if ($2 > peak) peak = $2
        n++
    }
    END {
        printf "samples %d  first minute peak %.1f MiB  last minute peak %.1f MiB  growth %+.1f MiB  overall peak %.1f MiB\n",
            n, first / 1024, last / 1024, (last - first) / 1024, peak / 1024
    }' "$out"
