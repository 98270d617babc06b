"""Run layercam over an archive with Ray: image folders, y4m files and raw camera recordings,
on one machine or a cluster, results as JSON Lines.

    python python/examples/ray_archive.py ARCHIVE... --out results.jsonl [--workers N]
        [--features] [--lines] [--address auto]

Each Ray worker process is an actor holding one ``layercam.Pipeline`` (with one thread: one
worker per core), so its buffers are made once and reused for every frame it gets. Images
are sent to the actors in batches of paths; a recording is replayed whole by one actor
(its frames depend on each other through the bandwidth cache and stable layers). Only paths
and the small JSON records cross between processes, never pixels: the workers read the
files themselves, so on a cluster the archive must be on a filesystem every node sees.

On a cluster, start Ray there (``ray start --head`` on one node, ``ray start --address
HEAD:6379`` on the others, each with ``pip install ./python``), then run this script on
the head node with ``--address auto``. Without ``--address`` Ray starts a local cluster
of this machine's cores.

Every input gives one JSON line per frame, the record of ``layercam analyze --json``
(images) or ``layercam replay --json`` (recording frames) with ``"source"`` naming the
input; a frame that cannot be read gives ``{"source", "file", "error"}`` instead. The file
is written whole (a temp file renamed) and ends with a summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Iterable

import ray
from ray.util import ActorPool

import layercam

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


def is_recording(p: Path) -> bool:
    """A unit one worker replays whole: a y4m file or a raw camera recording."""
    return p.suffix.lower() == ".y4m" or (p.is_dir() and (p / "camera.json").is_file())


def units(inputs: Iterable[Path], batch: int) -> list[tuple[str, list[str]]]:
    """The archive as work units: ("recording", [path]) or ("images", [path, ...])."""
    out: list[tuple[str, list[str]]] = []
    images: list[str] = []
    for p in inputs:
        if is_recording(p):
            out.append(("recording", [str(p)]))
        elif p.is_dir():
            for child in sorted(p.iterdir()):
                if is_recording(child):
                    out.append(("recording", [str(child)]))
                elif child.suffix.lower() in IMAGE_SUFFIXES and child.is_file():
                    images.append(str(child))
        elif p.is_file():
            images.append(str(p))
        else:
            raise SystemExit(f"{p}: no such file or folder")
    out += [("images", images[i : i + batch]) for i in range(0, len(images), batch)]
    return out


@ray.remote(num_cpus=1)
class LayercamWorker:
    """One pipeline per worker process, reused for every frame it is given."""

    def __init__(self, params: dict):
        self.params = params
        self.pipeline = layercam.Pipeline(threads=1, **params)

    def run(self, unit: tuple[str, list[str]]) -> list[str]:
        kind, paths = unit
        if kind == "recording":
            return self.recording(paths[0])
        return self.images(paths)

    def images(self, paths: list[str]) -> list[str]:
        lines = []
        for path in paths:
            try:
                rec = self.pipeline.analyze(path).to_dict()
            except (OSError, ValueError) as e:
                rec = {"file": Path(path).name, "error": str(e)}
            lines.append(json.dumps({"source": path, **rec}))
        return lines

    def recording(self, path: str) -> list[str]:
        lines = []
        try:
            with layercam.replay(path, threads=1, **self.params) as stream:
                for r in stream:
                    lines.append(json.dumps({"source": path, **r.to_dict()}))
        except (OSError, ValueError) as e:
            lines.append(json.dumps({"source": path, "file": Path(path).name, "error": str(e)}))
        return lines


def write_whole(path: Path, lines: Iterable[str]) -> None:
    """Writes the lines into a temp file beside `path`, then renames it over `path`."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w") as f:
            for line in lines:
                f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def run(
    inputs: list[Path],
    out: Path,
    workers: int,
    params: dict,
    batch: int = 8,
    address: str | None = None,
) -> dict:
    """Processes the archive and writes `out`; returns the summary."""
    work = units(inputs, batch)
    if not ray.is_initialized():
        ray.init(address=address, num_cpus=None if address else workers,
                 include_dashboard=False, log_to_driver=False)
    actors = [LayercamWorker.remote(params) for _ in range(workers)]
    # the actors are ready (their pipelines made) before the clock starts
    ray.get([a.__ray_ready__.remote() for a in actors])
    started = time.perf_counter()
    results = list(ActorPool(actors).map(lambda a, u: a.run.remote(u), work))
    seconds = time.perf_counter() - started
    lines = [line for chunk in results for line in chunk]
    errors = sum("error" in json.loads(line) for line in lines)
    summary = {
        "summary": {
            "workers": workers,
            "units": len(work),
            "frames": len(lines) - errors,
            "errors": errors,
            "seconds": round(seconds, 3),
            "frames_per_s": round((len(lines) - errors) / seconds, 2) if seconds > 0 else None,
        }
    }
    write_whole(out, [*lines, json.dumps(summary)])
    for a in actors:
        ray.kill(a)
    return summary["summary"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("inputs", nargs="+", type=Path, help="image files or folders, .y4m files, raw recordings")
    ap.add_argument("--out", type=Path, required=True, help="JSON Lines file to write")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes (default: one per core)")
    ap.add_argument("--batch", type=int, default=8, help="images per task (default 8)")
    ap.add_argument("--address", help="a running Ray cluster ('auto' on its head node)")
    ap.add_argument("--features", action="store_true", help="text features")
    ap.add_argument("--lines", action="store_true", help="text lines (implies --features)")
    args = ap.parse_args(argv)
    if args.workers < 1 or args.batch < 1:
        ap.error("--workers and --batch must be at least 1")
    params = {"features": args.features, "lines": args.lines}
    summary = run(args.inputs, args.out, args.workers, params, args.batch, args.address)
    print(json.dumps(summary), file=sys.stderr)
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
