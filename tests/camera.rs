//! The camera path without a camera: a scripted device behind the same boundary as V4L2
//! (frames as drivers deliver them, stalls, read errors, corrupt buffers, unplugging), and
//! raw recordings of driver-shaped buffers replayed through the camera's own decoding.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use layercam::runtime::{Pacing, Policy, Runtime, RuntimeConfig};
use layercam::source::camera::scripted::{
    mjpeg_device, Event, ScriptedDevice, ScriptedSystem, Step,
};
use layercam::source::camera::{CameraRequest, CameraSource, Mode, WATCHDOG};
use layercam::source::raw::RawFormat;
use layercam::source::rawdir::{CameraJson, RawRecorder};
use layercam::source::{FrameSource, Next};
use serde_json::Value;

fn jpeg(name: &str) -> Vec<u8> {
    std::fs::read(fixture(&format!("demo/{name}"))).unwrap()
}

/// A JPEG as a driver hands it over: in a buffer of `width × height × 2` bytes.
fn zero_padded(j: &[u8], len: usize) -> Vec<u8> {
    let mut b = j.to_vec();
    b.resize(len.max(j.len()), 0);
    b
}

fn frames(bufs: Vec<Vec<u8>>, count: u64) -> Step {
    Step::Frames {
        count,
        buffers: bufs.into_iter().map(Arc::new).collect(),
    }
}

fn device(script: Vec<Step>) -> ScriptedDevice {
    ScriptedDevice {
        info: mjpeg_device(0, "Scripted Cam", "usb-0000:00:14.0-1", 640, 480, 30),
        dead_modes: vec![],
        script,
        repeat: false,
    }
}

fn open(system: &ScriptedSystem, exit_on_loss: bool) -> CameraSource {
    let req = CameraRequest {
        exit_on_loss,
        ..CameraRequest::default()
    };
    CameraSource::open(Box::new(system.clone()), req).expect("opens")
}

/// Everything the source yields for `how_long` (or until `stop` says so).
fn collect(
    src: &mut CameraSource,
    how_long: Duration,
    mut stop: impl FnMut(&[(Instant, Result<String, String>)]) -> bool,
) -> Vec<(Instant, Result<String, String>)> {
    let t = Instant::now();
    let mut out = Vec::new();
    while t.elapsed() < how_long && !stop(&out) {
        let item = match src.next() {
            Ok(Next::Frame(f)) => Ok(format!("frame {}x{}", f.width, f.height)),
            Ok(Next::Skipped { reason, .. }) => Ok(format!("skipped: {reason}")),
            Ok(Next::Stalled(m)) => Ok(format!("stalled: {m}")),
            Ok(Next::Notice(m)) => Ok(format!("notice: {m}")),
            Ok(Next::End) => Ok("end".into()),
            Err(e) => Err(e.to_string()),
        };
        let fatal = item.is_err();
        out.push((Instant::now(), item));
        if fatal {
            break;
        }
    }
    out
}

fn count(items: &[(Instant, Result<String, String>)], prefix: &str) -> usize {
    items
        .iter()
        .filter(|(_, i)| i.as_ref().is_ok_and(|s| s.starts_with(prefix)))
        .count()
}

#[test]
fn mjpeg_buffers_as_drivers_deliver_them_decode() {
    let a = jpeg("demo_00.jpg");
    let b = jpeg("demo_01.jpg");
    // zero padding to the buffer size, and a small JPEG written over a larger older one
    let mut over = zero_padded(&b, 640 * 480 * 2);
    let mut bigger = b.clone();
    bigger.extend(std::iter::repeat_n(0x77, 9000));
    over[..bigger.len()].copy_from_slice(&bigger);
    over[..a.len()].copy_from_slice(&a);
    let sys = ScriptedSystem::new(vec![device(vec![frames(
        vec![zero_padded(&a, 640 * 480 * 2), over],
        6,
    )])]);
    let mut src = open(&sys, false);
    let mut alone = Vec::new();
    layercam::decode::decode_jpeg_into(&a, &mut alone).unwrap();
    let mut got = 0;
    let t = Instant::now();
    while got < 6 && t.elapsed() < Duration::from_secs(5) {
        match src.next().unwrap() {
            Next::Frame(f) => {
                assert_eq!((f.width, f.height), (640, 480));
                assert_eq!(f.rgb, alone, "frame {got} decodes as the JPEG alone");
                got += 1;
            }
            Next::Skipped { reason, .. } => panic!("a good buffer was skipped: {reason}"),
            _ => {}
        }
    }
    assert_eq!(got, 6);
}

#[test]
fn a_mode_that_yields_nothing_gives_way_to_the_next() {
    let (w, h) = (64usize, 48usize);
    let yuyv: Vec<u8> = (0..w * h * 2).map(|i| (i * 7 % 200 + 20) as u8).collect();
    let mut dev = device(vec![frames(vec![yuyv], 1000)]);
    dev.info.modes = vec![
        Mode::new(RawFormat::Mjpeg, 640, 480, &[30]),
        Mode::new(RawFormat::Yuyv, 64, 48, &[30]),
    ];
    dev.dead_modes = vec![(RawFormat::Mjpeg, 640, 480)];
    let sys = ScriptedSystem::new(vec![dev]);
    let mut src = open(&sys, false);
    let items = collect(&mut src, Duration::from_secs(6), |o| count(o, "frame") >= 3);
    assert!(count(&items, "frame 64x48") >= 3, "{items:?}");
    let notice = items
        .iter()
        .find_map(|(_, i)| i.as_ref().ok().filter(|s| s.contains("trying")))
        .expect("a notice of the next mode");
    assert!(
        notice.contains("MJPG 640x480@30 gave no frame within 2 s"),
        "{notice}"
    );
    assert!(notice.contains("trying YUYV 64x48@30"), "{notice}");
    // every mode dead: an error that names each attempt
    let mut dev = device(vec![]);
    dev.info.modes = vec![
        Mode::new(RawFormat::Mjpeg, 640, 480, &[30]),
        Mode::new(RawFormat::Yuyv, 64, 48, &[30]),
    ];
    dev.dead_modes = vec![(RawFormat::Mjpeg, 640, 480), (RawFormat::Yuyv, 64, 48)];
    let mut src = open(&ScriptedSystem::new(vec![dev]), false);
    let items = collect(&mut src, Duration::from_secs(8), |_| false);
    let err = items.last().unwrap().1.clone().unwrap_err();
    assert!(
        err.contains("MJPG 640x480@30: no frame within 2 s")
            && err.contains("YUYV 64x48@30: no frame within 2 s"),
        "{err}"
    );
}

/// The time from the last frame before the camera counted as lost to that moment.
fn time_to_loss(items: &[(Instant, Result<String, String>)]) -> Duration {
    let lost = items
        .iter()
        .find(|(_, i)| i.as_ref().is_ok_and(|s| s.contains("lost")))
        .map(|(t, _)| *t)
        .expect("the camera is lost");
    let last_frame = items
        .iter()
        .filter(|(t, i)| *t < lost && i.as_ref().is_ok_and(|s| s.starts_with("frame")))
        .map(|(t, _)| *t)
        .next_back()
        .expect("frames first");
    lost - last_frame
}

#[test]
fn the_watchdog_fires_after_errors_or_corrupt_frames_and_reopens() {
    let a = zero_padded(&jpeg("demo_00.jpg"), 640 * 480 * 2);
    for bad in [
        Step::Errors(Duration::from_secs(3)),
        Step::Garbage(Duration::from_secs(3)),
    ] {
        let what = format!("{bad:?}").chars().take(8).collect::<String>();
        let sys = ScriptedSystem::new(vec![device(vec![
            frames(vec![a.clone()], 3),
            bad,
            frames(vec![a.clone()], 1000),
        ])]);
        let mut src = open(&sys, false);
        let items = collect(&mut src, Duration::from_secs(10), |o| {
            o.iter()
                .any(|(_, i)| i.as_ref().is_ok_and(|s| s.contains("reconnected")))
                && count(o, "frame") >= 6
        });
        let lost = time_to_loss(&items);
        assert!(
            lost >= WATCHDOG && lost < WATCHDOG + Duration::from_millis(400),
            "{what}: lost after {lost:?}"
        );
        // reopened (same device), frames again
        let opens = sys
            .events()
            .iter()
            .filter(|e| matches!(e, Event::Opened { .. }))
            .count();
        assert!(opens >= 2, "{what}: {:?}", sys.events());
        assert!(count(&items, "frame") >= 6, "{what}: {items:?}");
        if what.starts_with("Garbage") {
            assert!(count(&items, "skipped") > 10, "{items:?}");
        }
    }
}

#[test]
fn exit_on_loss_fails_the_stream() {
    let a = zero_padded(&jpeg("demo_00.jpg"), 640 * 480 * 2);
    let sys = ScriptedSystem::new(vec![device(vec![frames(vec![a], 3), Step::Stall(None)])]);
    let mut src = open(&sys, true);
    let items = collect(&mut src, Duration::from_secs(5), |_| false);
    let err = items.last().unwrap().1.clone().unwrap_err();
    assert!(
        err.contains("lost") && err.contains("no frame for 1.5 s"),
        "{err}"
    );
}

#[test]
fn a_replugged_camera_is_found_by_name_and_bus_under_another_index() {
    let a = zero_padded(&jpeg("demo_00.jpg"), 640 * 480 * 2);
    // another camera stays at index 3's neighbour, with another name
    let other = ScriptedDevice {
        info: mjpeg_device(1, "Other Cam", "usb-2", 640, 480, 30),
        dead_modes: vec![],
        script: vec![],
        repeat: false,
    };
    let sys = ScriptedSystem::new(vec![
        device(vec![
            frames(vec![a.clone()], 3),
            Step::Unplug {
                away: Duration::from_millis(2500),
                replug_index: Some(3),
            },
            frames(vec![a], 1000),
        ]),
        other,
    ]);
    let mut src = open(&sys, false);
    let items = collect(&mut src, Duration::from_secs(12), |o| {
        o.iter()
            .any(|(_, i)| i.as_ref().is_ok_and(|s| s.contains("reconnected")))
            && count(o, "frame") >= 6
    });
    let notice = items
        .iter()
        .find_map(|(_, i)| i.as_ref().ok().filter(|s| s.contains("reconnected")))
        .unwrap_or_else(|| panic!("no reconnect: {items:?}"));
    assert!(notice.contains("(now /dev/video3)"), "{notice}");
    assert!(
        src.describe().contains("camera 3 'Scripted Cam'"),
        "{}",
        src.describe()
    );
    // while it was away: retries with backoff 0.25 s, 0.5 s, 1 s, 2 s
    let waits: Vec<String> = items
        .iter()
        .filter_map(|(_, i)| i.as_ref().ok())
        .filter_map(|s| s.split("retrying in ").nth(1).map(String::from))
        .collect();
    assert_eq!(waits[..3], ["0.25 s", "0.50 s", "1.00 s"], "{waits:?}");
    let opened: Vec<u32> = sys
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::Opened { index, .. } => Some(*index),
            _ => None,
        })
        .collect();
    assert_eq!(opened, [0, 3], "never the other camera at index 1");
}

fn stalling_runtime() -> Runtime {
    let a = zero_padded(&jpeg("demo_00.jpg"), 640 * 480 * 2);
    let sys = ScriptedSystem::new(vec![device(vec![frames(vec![a], 2), Step::Stall(None)])]);
    let cfg = RuntimeConfig {
        policy: Policy::LatestWins,
        pacing: Pacing::Fast,
        capacity: 1,
        ..RuntimeConfig::default()
    };
    Runtime::start(
        Box::new(move || Ok(Box::new(open(&sys, false)) as Box<dyn FrameSource>)),
        cfg,
    )
    .unwrap()
}

#[test]
fn stop_is_honoured_within_a_second_while_the_device_stalls() {
    let rt = stalling_runtime();
    let first = rt.results.recv_timeout(Duration::from_secs(10));
    assert!(first.is_ok(), "frames before the stall");
    std::thread::sleep(Duration::from_millis(2500)); // well into the stall, and lost
    let t = Instant::now();
    rt.join().expect("every thread joins without error");
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
}

// ---- raw recordings: driver-shaped buffers through the camera's own decoding ----

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_layercam"));
    c.env_remove("DISPLAY").env_remove("LAYERCAM_FAKE_CAMERA");
    c
}

fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const LAYER_FIELDS: [&str; 8] = [
    "width",
    "height",
    "sigma",
    "bandwidth",
    "minima",
    "maxima",
    "bounds",
    "layers",
];

fn replay_json(path: &Path) -> (i32, Vec<Value>, Value, String) {
    let out = bin()
        .args([
            "replay",
            path.to_str().unwrap(),
            "--fast",
            "--json",
            "--bandwidth-tolerance",
            "0",
        ])
        .output()
        .unwrap();
    let mut lines = json_lines(&out.stdout);
    let summary = lines.pop().expect("summary")["summary"].clone();
    (
        out.status.code().unwrap_or(-1),
        lines,
        summary,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn mjpeg_recording(dir: &Path, buffers: &[Vec<u8>]) {
    let json = CameraJson {
        format: "MJPG".into(),
        width: 640,
        height: 480,
        fps: 30.0,
        stride: 0,
        device: String::new(),
        name: String::new(),
    };
    let mut rec = RawRecorder::create(dir, &json).unwrap();
    for b in buffers {
        rec.write(b).unwrap();
    }
}

#[test]
fn raw_mjpeg_recordings_replay_as_the_jpegs_themselves() {
    let tmp = tempfile::tempdir().unwrap();
    let names = ["demo_00.jpg", "demo_01.jpg", "demo_02.jpg"];
    let jpegs: Vec<Vec<u8>> = names.iter().map(|n| jpeg(n)).collect();
    let files = tmp.path().join("files");
    std::fs::create_dir(&files).unwrap();
    for (n, j) in names.iter().zip(&jpegs) {
        std::fs::write(files.join(n), j).unwrap();
    }
    let full = 640 * 480 * 2;
    // buffer 0: zero-padded; 1: written over a larger older frame (demo_03 with a tail);
    // 2: cut in its scan and zero-padded (refused); 3: zero-padded; 4: shorter than a
    // JPEG header (refused)
    let mut older = jpeg("demo_03.jpg");
    older.resize(full, 0x33);
    let mut over = older.clone();
    over[..jpegs[1].len()].copy_from_slice(&jpegs[1]);
    let cut = zero_padded(&jpegs[2][..jpegs[2].len() * 2 / 3], full);
    let buffers = vec![
        zero_padded(&jpegs[0], full),
        over,
        cut,
        zero_padded(&jpegs[2], full),
        vec![0xFF, 0xD8],
    ];
    let raw = tmp.path().join("raw");
    mjpeg_recording(&raw, &buffers);

    let (code, want, _, err) = replay_json(&files);
    assert_eq!(code, 0, "{err}");
    let (code, got, summary, err) = replay_json(&raw);
    assert_eq!(code, 0, "{err}");
    assert_eq!(got.len(), 3, "{err}");
    assert_eq!(summary["skipped"], 2, "{summary}");
    assert!(
        err.contains("frame_000002.raw") && err.contains("truncated JPEG"),
        "{err}"
    );
    for (g, w) in got.iter().zip(&want) {
        for f in LAYER_FIELDS {
            assert_eq!(g[f], w[f], "{f}");
        }
    }
    // --strict stops at the first broken buffer
    let out = bin()
        .args([
            "replay",
            raw.to_str().unwrap(),
            "--fast",
            "--strict",
            "--headless",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("frame_000002.raw"));
}

#[test]
fn raw_yuyv_recordings_in_page_rounded_buffers_decode() {
    let tmp = tempfile::tempdir().unwrap();
    let (w, h) = (64usize, 48usize);
    let yuyv: Vec<u8> = (0..w * h * 2).map(|i| (i * 13 % 220 + 16) as u8).collect();
    let mut page = yuyv.clone();
    page.resize(yuyv.len().div_ceil(4096) * 4096, 0xAB);
    let dir = tmp.path().join("yuyv");
    let json = CameraJson {
        format: "YUYV".into(),
        width: w,
        height: h,
        fps: 30.0,
        stride: 0,
        device: String::new(),
        name: String::new(),
    };
    let mut rec = RawRecorder::create(&dir, &json).unwrap();
    rec.write(&yuyv).unwrap();
    rec.write(&page).unwrap();
    rec.write(&yuyv[..yuyv.len() - 1]).unwrap(); // shorter than one frame
    let (code, got, summary, err) = replay_json(&dir);
    assert_eq!(code, 0, "{err}");
    assert_eq!(got.len(), 2);
    assert_eq!(summary["skipped"], 1);
    assert!(err.contains("short YUYV buffer"), "{err}");
    for f in LAYER_FIELDS {
        assert_eq!(got[0][f], got[1][f], "{f}");
    }
}

// ---- the binary with a scripted camera (LAYERCAM_FAKE_CAMERA) ----

fn script(dir: &Path, devices: Value) -> PathBuf {
    let p = dir.join("camera-script.json");
    std::fs::write(
        &p,
        serde_json::to_vec(&serde_json::json!({ "devices": devices })).unwrap(),
    )
    .unwrap();
    p
}

fn scripted_cam(steps: Value) -> Value {
    serde_json::json!([{
        "index": 0, "name": "Scripted Cam", "bus": "usb-1",
        "modes": [{"format": "MJPG", "width": 640, "height": 480, "fps": [30]},
                  {"format": "YUYV", "width": 640, "height": 480, "fps": [10]}],
        "script": steps
    }])
}

fn with_script(p: &Path) -> Command {
    let mut c = bin();
    c.env("LAYERCAM_FAKE_CAMERA", p);
    c
}

#[test]
fn live_json_from_a_camera_delivering_padded_mjpeg() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("demo/demo_00.jpg"), tmp.path().join("f.jpg")).unwrap();
    let s = script(
        tmp.path(),
        scripted_cam(serde_json::json!([{"frames": 1000, "jpeg": "f.jpg"}])),
    );
    let out = with_script(&s)
        .args(["live", "--headless", "--json", "--max-frames", "20"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let lines = json_lines(&out.stdout);
    let summary = &lines.last().unwrap()["summary"];
    assert_eq!(summary["frames_in"], 20, "{summary}");
    assert_eq!(summary["skipped"], 0, "{summary}");
    // the chosen mode is said
    assert!(
        err.contains("'Scripted Cam'") && err.contains("MJPG 640x480@30"),
        "{err}"
    );
    // a camera's layers are stable by default
    assert_eq!(lines[0]["stability"], "reset", "{}", lines[0]);
    assert!(lines[1]["stability"].is_string(), "{}", lines[1]);
    // cameras lists it, with the mode it would use
    let out = with_script(&s).arg("cameras").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("camera 0: Scripted Cam") && text.contains("default mode: MJPG 640x480@30"),
        "{text}"
    );
}

#[test]
fn exit_on_camera_loss_exits_1_and_quitting_a_stall_exits_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("demo/demo_00.jpg"), tmp.path().join("f.jpg")).unwrap();
    let s = script(
        tmp.path(),
        scripted_cam(serde_json::json!([{"frames": 3, "jpeg": "f.jpg"}, {"stall": "forever"}])),
    );
    let t = Instant::now();
    let out = with_script(&s)
        .args(["live", "--headless", "--exit-on-camera-loss"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("lost") && err.contains("no frame for 1.5 s"),
        "{err}"
    );
    assert!(t.elapsed() < Duration::from_secs(6), "{:?}", t.elapsed());
    // without it the camera is retried; SIGTERM during the stall ends within a second
    let child = with_script(&s)
        .args(["live", "--headless"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(3000));
    let t = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(!err.contains("did not stop"), "{err}");
}

#[test]
fn with_no_usable_camera_the_plain_run_plays_the_demo() {
    let tmp = tempfile::tempdir().unwrap();
    let s = script(tmp.path(), serde_json::json!([]));
    let out = with_script(&s).arg("cameras").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("No camera found"));
    let out = with_script(&s)
        .args(["--headless", "--max-frames", "2"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("demo") && err.contains("2 frames in, 2 out"),
        "{err}"
    );
}

#[test]
fn record_raw_then_replay_gives_the_live_frames() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, n) in ["demo_04.jpg", "demo_05.jpg"].iter().enumerate() {
        std::fs::copy(
            fixture(&format!("demo/{n}")),
            tmp.path().join(format!("f{i}.jpg")),
        )
        .unwrap();
    }
    let s = script(
        tmp.path(),
        scripted_cam(serde_json::json!([
            {"frames": 1, "jpeg": "f0.jpg"},
            {"frames": 1, "jpeg": "f1.jpg"},
            {"frames": 1, "jpeg": "f0.jpg"}
        ])),
    );
    let rec = tmp.path().join("rec");
    let out = with_script(&s)
        .args([
            "record",
            "--raw",
            "--out",
            rec.to_str().unwrap(),
            "--frames",
            "3",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("recorded 3 raw buffers"), "{err}");
    let cam: Value =
        serde_json::from_slice(&std::fs::read(rec.join("camera.json")).unwrap()).unwrap();
    assert_eq!(cam["format"], "MJPG");
    assert_eq!(
        (cam["width"].as_u64(), cam["height"].as_u64()),
        (Some(640), Some(480))
    );
    assert_eq!(cam["fps"], 30.0);
    // each buffer exactly as delivered: the JPEG and the driver's zero padding
    let b0 = std::fs::read(rec.join("frame_000000.raw")).unwrap();
    assert_eq!(b0.len(), 640 * 480 * 2);
    assert_eq!(&b0[..jpeg("demo_04.jpg").len()], &jpeg("demo_04.jpg")[..]);
    let (code, frames, summary, err) = replay_json(&rec);
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary["skipped"], 0);
    assert_eq!(frames.len(), 3);
    assert_eq!(frames[0]["minima"], frames[2]["minima"]);
    assert_ne!(frames[0]["sigma"], frames[1]["sigma"]);
}
