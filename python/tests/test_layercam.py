"""The Python bindings against the program: same numbers for the same input, arrays without
copies, the GIL released while the pipeline runs, clear errors, and streams that end."""

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import layercam

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
POSTER = FIXTURES / "poster_00.png"
Y4M = FIXTURES / "small.y4m"
# stream fields that depend on timing, not on the input
TIMING = {"timestamp_ms", "latency_ms", "timings_ms", "dropped", "bandwidth_reused"}


def binary() -> Path:
    """The program built next to these bindings (`LAYERCAM_BIN`, else target/)."""
    if os.environ.get("LAYERCAM_BIN"):
        return Path(os.environ["LAYERCAM_BIN"])
    for profile in ("release", "debug"):
        p = ROOT / "target" / profile / "layercam"
        if p.exists():
            return p
    pytest.skip("the layercam binary is not built (cargo build --bins)")


def cli(*args: str) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "LAYERCAM_FAKE_CAMERA")}
    out = subprocess.run(
        [str(binary()), *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


# ---- parity with the program ----


def test_analyze_matches_the_cli_field_for_field(tmp_path):
    (rec,) = cli("analyze", str(POSTER), "--json", "--features", "--lines", "seed",
                 "--out", str(tmp_path))
    r = layercam.analyze(POSTER, features=True, lines="seed")
    assert r.to_dict() == rec
    for field in ("width", "height", "upscaled_width", "upscaled_height", "sigma",
                  "bandwidth", "minima", "maxima", "bounds", "peaks", "layers",
                  "features", "lines"):
        assert getattr(r, field) == rec[field], field
    assert r.file == rec["file"] == POSTER.name
    labels = np.asarray(Image.open(tmp_path / "poster_00.labels.png"))
    assert np.array_equal(r.labels, labels)
    text = np.asarray(Image.open(tmp_path / "poster_00.text.png"))
    assert np.array_equal(r.text_mask, text)
    assert r.lines, "the poster has text lines"


def test_default_lines_match_the_cli():
    (rec,) = cli("analyze", str(POSTER), "--json", "--lines")
    r = layercam.analyze(POSTER, lines=True)
    assert r.lines == rec["lines"] and len(r.lines) >= 5
    assert layercam.Pipeline(lines="text").params["lines"] == "text"


def test_process_equals_analyze_and_bgr_equals_rgb():
    frame = rgb(POSTER)
    p = layercam.Pipeline(features=True, lines=True)
    a = layercam.analyze(POSTER, features=True, lines=True)
    r = p.process(frame)
    assert r.bounds == a.bounds and r.layers == a.layers and r.lines == a.lines
    assert np.array_equal(r.labels, a.labels)
    assert np.array_equal(r.text_mask, a.text_mask)
    b = p.process(np.ascontiguousarray(frame[:, :, ::-1]), bgr=True)
    assert b.bounds == a.bounds and np.array_equal(b.labels, a.labels)
    # a strided view (not C-contiguous) is packed first, same result
    c = p.process(frame[:, :, ::-1], bgr=True)
    assert np.array_equal(c.labels, a.labels)


def test_pipeline_analyze_reuses_one_pipeline_over_files():
    p = layercam.Pipeline(features=True)
    for f in sorted((FIXTURES / "demo").glob("*.jpg"))[:4]:
        assert p.analyze(f).to_dict() == layercam.analyze(f, features=True).to_dict()


def test_replay_matches_the_cli_frame_for_frame():
    recs = [r for r in cli("replay", str(Y4M), "--json", "--fast", "--features") if "frame" in r]
    with layercam.replay(Y4M, features=True) as stream:
        got = [r.to_dict() for r in stream]
    assert len(got) == len(recs) > 1
    for mine, theirs in zip(got, recs):
        assert {k: v for k, v in mine.items() if k not in TIMING} == {
            k: v for k, v in theirs.items() if k not in TIMING
        }


def test_replay_of_image_folder_with_stable_layers_matches_the_cli():
    recs = [r for r in cli("replay", str(FIXTURES / "demo"), "--json", "--fast", "--stable")
            if "frame" in r]
    got = [(r.frame, r.bounds, r.stability) for r in layercam.replay(FIXTURES / "demo", stable=True)]
    assert got == [(r["frame"], r["bounds"], r["stability"]) for r in recs]


# ---- arrays without copies, buffers reused ----


def test_label_map_is_a_view_of_the_result_not_a_copy():
    p = layercam.Pipeline(features=True)
    r = p.process(rgb(POSTER))
    labels = r.labels
    assert labels.base is r and not labels.flags.owndata
    assert labels.dtype == np.uint8 and labels.shape == (r.upscaled_height, r.upscaled_width)
    assert labels.flags.c_contiguous
    assert np.shares_memory(labels, r.labels)
    assert r.text_mask.base is r
    # the array keeps its result (and so its buffer) alive
    before = labels.copy()
    del r
    p.process(np.zeros((480, 640, 3), np.uint8))
    assert np.array_equal(labels, before)


def test_buffers_of_released_results_are_reused():
    p = layercam.Pipeline()
    frame = rgb(POSTER)
    addresses = set()
    r = None
    for _ in range(6):
        r = p.process(frame)
        addresses.add(r.labels.__array_interface__["data"][0])
    # a loop that keeps one result at a time cycles through two buffers
    assert len(addresses) <= 2, addresses


# ---- the GIL ----


def test_process_releases_the_gil():
    big = np.random.default_rng(1).integers(0, 256, (1500, 2000, 3), dtype=np.uint8)
    p = layercam.Pipeline(features=True, threads=1)
    p.process(big)  # warm up: buffers, pool
    started = time.perf_counter()
    p.process(big)
    one = time.perf_counter() - started

    running = threading.Event()
    done = threading.Event()

    def work():
        running.set()
        p.process(big)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    running.wait()
    ticks, last, gap = 0, time.perf_counter(), 0.0
    while not done.is_set():
        now = time.perf_counter()
        gap = max(gap, now - last)
        last = now
        ticks += 1
    t.join()
    # the main thread kept running while process() ran; holding the GIL it would have
    # stopped for the whole call
    assert ticks > 1000, ticks
    assert gap < one / 2, (gap, one)


# ---- bad input ----


def test_bad_frames_raise_value_error():
    p = layercam.Pipeline()
    with pytest.raises(ValueError, match="height × width × 3"):
        p.process(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="height × width × 3"):
        p.process(np.zeros((10, 10, 4), np.uint8))
    with pytest.raises(ValueError, match="empty"):
        p.process(np.zeros((0, 10, 3), np.uint8))
    with pytest.raises(TypeError):
        p.process(np.zeros((10, 10, 3), np.float32))
    small = layercam.Pipeline(max_pixels=100)
    with pytest.raises(ValueError, match="limit of 100"):
        small.process(np.zeros((20, 20, 3), np.uint8))
    # the pipeline still works after refusals
    assert p.process(np.full((8, 8, 3), 7, np.uint8)).width == 8


def test_bad_parameters_raise_value_error():
    with pytest.raises(ValueError, match="factor"):
        layercam.Pipeline(factor=0)
    with pytest.raises(ValueError, match="zoom"):
        layercam.Pipeline(zoom=9)
    with pytest.raises(ValueError, match="lines"):
        layercam.Pipeline(lines="sideways")
    with pytest.raises(ValueError, match="fps"):
        layercam.replay(Y4M, fps=-1)


def test_bad_files_raise_os_or_value_error(tmp_path):
    with pytest.raises(OSError, match="missing.png"):
        layercam.analyze(tmp_path / "missing.png")
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(ValueError, match="junk.png"):
        layercam.analyze(junk)
    with pytest.raises(ValueError, match="limit"):
        layercam.analyze(FIXTURES / "hostile" / "gray_10000x10000.png")
    with pytest.raises(OSError, match="nowhere"):
        layercam.replay(tmp_path / "nowhere.y4m")


# ---- streams: their end and their errors ----


def test_replay_ends_and_stays_ended():
    stream = layercam.replay(Y4M)
    frames = [r.frame for r in stream]
    assert frames == list(range(len(frames))) and len(frames) > 1
    with pytest.raises(StopIteration):
        next(stream)
    stream.close()  # idempotent


def test_replay_skips_broken_files_and_counts_them():
    stream = layercam.replay(FIXTURES / "broken")
    good = list(stream)
    recs = [r for r in cli("replay", str(FIXTURES / "broken"), "--json", "--fast")
            if "frame" in r]
    assert [r.file for r in good] == [r["file"] for r in recs]
    files = list((FIXTURES / "broken").iterdir())
    assert stream.stats["skipped"] == len(files) - len(good) > 0
    assert stream.stats["frames_processed"] == len(good)


def test_strict_replay_raises_at_the_broken_file():
    with pytest.raises(ValueError, match="frame_001.jpg"):
        for _ in layercam.replay(FIXTURES / "broken", strict=True):
            pass


def test_leaving_a_stream_early_stops_its_threads():
    names = lambda: {t.name for t in threading.enumerate()}  # noqa: E731
    started = time.perf_counter()
    with layercam.replay(Y4M, loop=True) as stream:
        for i, r in enumerate(stream):
            if i == 5:
                break
        assert stream.stats["frames_processed"] >= 5
    assert time.perf_counter() - started < 5
    assert "layercam-worker" not in names()


def test_max_frames_and_paced_replay():
    started = time.perf_counter()
    got = list(layercam.replay(Y4M, loop=True, max_frames=6, fps=60))
    assert len(got) == 6
    assert time.perf_counter() - started >= 5 / 60


def test_stream_frames_carry_their_image():
    (r,) = list(layercam.replay(POSTER))
    assert r.image.shape == (r.height, r.width, 3) and r.image.base is r
    assert np.array_equal(r.image, rgb(POSTER))


def test_camera_through_a_scripted_device(tmp_path, monkeypatch):
    shutil.copy(FIXTURES / "demo" / "demo_00.jpg", tmp_path / "f.jpg")
    script = {"devices": [{
        "index": 0, "name": "Scripted Cam", "bus": "usb-1",
        "modes": [{"format": "MJPG", "width": 640, "height": 480, "fps": [30]}],
        "script": [{"frames": 1000, "jpeg": "f.jpg"}],
    }]}
    (tmp_path / "cam.json").write_text(json.dumps(script))
    monkeypatch.setenv("LAYERCAM_FAKE_CAMERA", str(tmp_path / "cam.json"))
    want = layercam.analyze(tmp_path / "f.jpg")
    with layercam.camera(0, max_frames=4, stable=False) as cam:
        got = list(cam)
    assert len(got) == 4
    assert all(r.bounds == want.bounds for r in got)
    with pytest.raises(OSError, match="not found"):
        layercam.camera(5)
    with pytest.raises(OSError, match="not found"):
        layercam.camera("no such camera")


def test_camera_that_dies_raises_with_exit_on_loss(tmp_path, monkeypatch):
    shutil.copy(FIXTURES / "demo" / "demo_00.jpg", tmp_path / "f.jpg")
    script = {"devices": [{
        "index": 0, "name": "Scripted Cam", "bus": "usb-1",
        "modes": [{"format": "MJPG", "width": 640, "height": 480, "fps": [30]}],
        "script": [{"frames": 3, "jpeg": "f.jpg"}, {"stall": "forever"}],
    }]}
    (tmp_path / "cam.json").write_text(json.dumps(script))
    monkeypatch.setenv("LAYERCAM_FAKE_CAMERA", str(tmp_path / "cam.json"))
    seen = 0
    with pytest.raises(OSError, match="camera"):
        for _ in layercam.camera(0, exit_on_loss=True):
            seen += 1
    assert seen == 3
