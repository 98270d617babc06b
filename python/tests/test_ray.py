"""Scale-out: the Ray example over an archive, in Ray's local mode, gives the program's
records for every frame, an error record for every unreadable one, and a summary."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
EXAMPLE = ROOT / "python" / "examples" / "ray_archive.py"

if importlib.util.find_spec("ray") is None:
    if os.environ.get("LAYERCAM_REQUIRE_RAY"):
        raise RuntimeError("ray is not installed and LAYERCAM_REQUIRE_RAY is set")
    pytest.skip("ray is not installed", allow_module_level=True)

sys.path.insert(0, str(EXAMPLE.parent))
import ray_archive  # noqa: E402

from test_layercam import binary, cli  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_archive_on_two_workers_matches_the_cli(tmp_path, local_ray):
    out = tmp_path / "results.jsonl"
    inputs = [FIXTURES / "demo", FIXTURES / "small.y4m", FIXTURES / "broken"]
    summary = ray_archive.run(inputs, out, workers=2, params={"features": True}, batch=4)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[-1]["summary"] == summary
    records = lines[:-1]

    images = {r["file"]: r for r in records if "/demo/" in r["source"]}
    demo = sorted((FIXTURES / "demo").glob("*.jpg"))
    assert sorted(images) == [p.name for p in demo]
    for rec in cli("analyze", *map(str, demo), "--json", "--features"):
        mine = {k: v for k, v in images[rec["file"]].items() if k != "source"}
        assert mine == rec

    frames = [r for r in records if r["source"].endswith("small.y4m")]
    theirs = [r for r in cli("replay", str(FIXTURES / "small.y4m"), "--json", "--fast", "--features")
              if "frame" in r]
    assert [(r["frame"], r["bounds"]) for r in frames] == [(r["frame"], r["bounds"]) for r in theirs]

    errors = [r for r in records if "error" in r]
    # the folder's unreadable images; files that are not images are not inputs
    assert {r["file"] for r in errors} == {"frame_001.jpg", "frame_002.png", "frame_004.png"}
    assert summary["workers"] == 2 and summary["errors"] == len(errors)
    assert summary["frames"] == len(records) - len(errors)


def test_the_example_runs_as_a_program(tmp_path):
    out = tmp_path / "r.jsonl"
    run = subprocess.run(
        [sys.executable, str(EXAMPLE), str(FIXTURES / "demo"), "--out", str(out), "--workers", "1"],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    lines = out.read_text().splitlines()
    assert json.loads(lines[-1])["summary"]["frames"] == 16 == len(lines) - 1
    assert binary()  # the same build as the CLI the other tests compare with
