//! The real window under a virtual X display (scripts/test runs the tests in `xvfb-run`):
//! keys pressed with xdotool, screenshots taken with ImageMagick's `import`, pixels checked.
//! Without a display these tests say so and skip, unless LAYERCAM_REQUIRE_DISPLAY=1 (CI).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::fixture;

fn display_or_skip() -> bool {
    if std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty()) {
        return true;
    }
    let msg =
        "\n*** no DISPLAY: window tests NOT run (scripts/test runs them under xvfb-run) ***\n";
    if std::env::var("LAYERCAM_REQUIRE_DISPLAY").is_ok_and(|v| v == "1") {
        panic!("{msg}");
    }
    eprintln!("{msg}");
    false
}

struct Viewer {
    child: Child,
    wid: String,
}

fn xdotool(args: &[&str]) -> String {
    let out = Command::new("xdotool")
        .args(args)
        .output()
        .expect("xdotool installed");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Viewer {
    // the child is waited for in Drop (and in quit_with)
    fn start(extra: &[&str]) -> Viewer {
        let mut args = vec![
            "replay",
            fixture("demo").to_str().unwrap().to_string().leak(),
            "--loop",
            "--window",
        ];
        args.extend_from_slice(extra);
        Self::start_with(&args, &[])
    }

    fn start_with(args: &[&str], env: &[(&str, &std::path::Path)]) -> Viewer {
        Self::launch(args, env, Stdio::null())
    }

    /// A viewer started with `args`, its JSON going to `out`.
    fn start_json(args: &[&str], out: &tempfile::NamedTempFile) -> Viewer {
        Self::launch(args, &[], out.reopen().unwrap().into())
    }

    /// Starts the program with `args` and `env`, stdout to `stdout`, and waits for its
    /// window and a few frames.
    #[allow(clippy::zombie_processes)]
    fn launch(args: &[&str], env: &[(&str, &std::path::Path)], stdout: Stdio) -> Viewer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_layercam"))
            .args(args)
            .envs(env.iter().copied())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let t = Instant::now();
        loop {
            let wid = xdotool(&["search", "--name", "^layercam"]);
            if let Some(w) = wid.lines().next().filter(|w| !w.is_empty()) {
                let v = Viewer {
                    child,
                    wid: w.to_string(),
                };
                std::thread::sleep(Duration::from_millis(700)); // a few frames drawn
                return v;
            }
            if t.elapsed() > Duration::from_secs(15) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no window appeared");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn key(&self, k: &str) {
        let _ = xdotool(&["windowfocus", "--sync", &self.wid]);
        xdotool(&["keydown", k]);
        std::thread::sleep(Duration::from_millis(200));
        xdotool(&["keyup", k]);
        std::thread::sleep(Duration::from_millis(400));
    }

    fn title(&self) -> String {
        xdotool(&["getwindowname", &self.wid])
    }

    fn screenshot(&self) -> image::RgbImage {
        let out = Command::new("import")
            .args(["-window", &self.wid, "png:-"])
            .output()
            .expect("ImageMagick import installed");
        assert!(out.status.success(), "import failed");
        image::load_from_memory(&out.stdout).unwrap().to_rgb8()
    }

    fn quit_with(&mut self, k: &str) -> (i32, String, Duration) {
        let t = Instant::now();
        self.key(k);
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut err = String::new();
                use std::io::Read;
                self.child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                return (status.code().unwrap_or(-1), err, t.elapsed());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("viewer did not quit on {k}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        // a failed assertion must not leave a viewer running
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn distinct_colors(img: &image::RgbImage) -> usize {
    let mut set = std::collections::HashSet::new();
    for p in img.pixels().step_by(7) {
        set.insert(p.0);
    }
    set.len()
}

fn count_color(img: &image::RgbImage, c: [u8; 3]) -> usize {
    img.pixels().filter(|p| p.0 == c).count()
}

/// The window tests share one X display: run them one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn window_shows_frames_and_quits_on_q() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !display_or_skip() {
        return;
    }
    let v = Viewer::start(&[]);
    let shot = v.screenshot();
    assert!(shot.width() >= 640 && shot.height() >= 480);
    assert!(distinct_colors(&shot) > 10, "screenshot is not blank");
    assert!(v.title().contains("layer"), "title: {}", v.title());
    let (code, err, took) = {
        let mut v = v;
        v.quit_with("q")
    };
    assert_eq!(code, 0, "{err}");
    assert!(took < Duration::from_secs(2), "quit in {took:?}");
    assert!(err.contains("frames in"), "summary printed: {err}");
}

#[test]
fn arrows_change_the_layer_and_tab_cycles_views() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !display_or_skip() {
        return;
    }
    let v = Viewer::start(&["--fps", "2"]);
    let before = v.title();
    let shot_before = v.screenshot();
    v.key("Right");
    let after = v.title();
    assert_ne!(before, after, "→ chose another layer");
    let layer_of = |t: &str| {
        t.split("layer ")
            .nth(1)
            .and_then(|s| s.split('/').next())
            .map(str::to_string)
    };
    assert_ne!(layer_of(&before), layer_of(&after));
    let shot_after = v.screenshot();
    let differ = shot_before
        .pixels()
        .zip(shot_after.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert!(
        differ > 1000,
        "the picture changed with the layer ({differ} pixels)"
    );
    // Tab ×3: layer → overlay → labels → mosaic; the mosaic's grid background shows
    v.key("Tab");
    v.key("Tab");
    v.key("Tab");
    let mosaic = v.screenshot();
    assert!(
        count_color(&mosaic, [40, 40, 48]) > 500,
        "mosaic grid drawn"
    );
    assert!(
        count_color(&mosaic, [255, 200, 0]) > 100,
        "chosen tile framed"
    );
    let (code, err, _) = {
        let mut v = v;
        v.quit_with("Escape")
    };
    assert_eq!(code, 0, "{err}");
}

#[test]
fn density_strip_toggles_and_snapshot_writes_files() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !display_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec");
    let v = Viewer::start(&[
        "--snapshot-dir",
        dir.path().to_str().unwrap(),
        "--record-dir",
        rec.to_str().unwrap(),
        "--features",
    ]);
    let with_strip = v.screenshot();
    // the highlighted band of the chosen layer in the strip
    assert!(
        count_color(&with_strip, [150, 110, 20]) > 200,
        "density strip drawn"
    );
    v.key("d");
    let without = v.screenshot();
    assert!(
        count_color(&without, [150, 110, 20]) < 20,
        "strip hidden after d"
    );
    v.key("s");
    // r starts recording source frames, r again stops
    v.key("r");
    std::thread::sleep(Duration::from_millis(800));
    v.key("r");
    let (code, err, _) = {
        let mut v = v;
        v.quit_with("q")
    };
    assert_eq!(code, 0, "{err}");
    let files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for suffix in [
        ".source.png",
        ".labels.png",
        ".density.png",
        ".json",
        ".text.png",
    ] {
        assert!(
            files.iter().any(|f| f.ends_with(suffix)),
            "{suffix} in {files:?}"
        );
    }
    assert!(files.iter().any(|f| f.contains(".layer")), "{files:?}");
    assert!(files.iter().any(|f| f == "rec"));
    assert!(err.contains("snapshot:"), "says where: {err}");
    let recorded = std::fs::read_dir(&rec).unwrap().count();
    assert!(recorded >= 3, "{recorded} frames recorded");
    let (w, h, _) = common::gray_png(&rec.join("frame_00000.png"));
    assert_eq!((w, h), (640, 480), "source frames at source size");
    assert!(err.contains("recording stopped"), "{err}");
}

#[test]
fn quitting_while_the_camera_stalls_exits_0_at_once() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !display_or_skip() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("demo/demo_00.jpg"), tmp.path().join("f.jpg")).unwrap();
    let script = tmp.path().join("camera.json");
    std::fs::write(
        &script,
        r#"{"devices": [{"index": 0, "name": "Scripted Cam", "bus": "usb-1",
            "modes": [{"format": "MJPG", "width": 640, "height": 480, "fps": [30]}],
            "script": [{"frames": 10, "jpeg": "f.jpg"}, {"stall": "forever"}]}]}"#,
    )
    .unwrap();
    let mut v = Viewer::start_with(
        &["live", "--window"],
        &[("LAYERCAM_FAKE_CAMERA", script.as_path())],
    );
    // the camera stalls after 10 frames; the watchdog counts it lost 1.5 s later
    std::thread::sleep(Duration::from_millis(2500));
    let (code, err, took) = v.quit_with("q");
    assert_eq!(code, 0, "{err}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
    assert!(!err.contains("did not stop"), "{err}");
}

#[test]
fn failed_writes_stop_the_recording_not_the_viewer() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !display_or_skip() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // snapshots into a path that is a file: the failure is said on stderr too
    let not_a_dir = tmp.path().join("file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    let rec = tmp.path().join("rec");
    let mut v = Viewer::start(&[
        "--snapshot-dir",
        not_a_dir.to_str().unwrap(),
        "--record-dir",
        rec.to_str().unwrap(),
    ]);
    v.key("s");
    v.key("r");
    std::thread::sleep(Duration::from_millis(300));
    // the recording folder goes away under the recorder (as a full or lost disk would
    // fail its writes): recording stops, the viewer goes on
    std::fs::rename(&rec, tmp.path().join("rec-gone")).unwrap();
    std::fs::write(&rec, b"in the way").unwrap();
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        v.child.try_wait().unwrap().is_none(),
        "the viewer is still running"
    );
    let (code, err, _) = v.quit_with("q");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("snapshot failed"), "{err}");
    assert!(err.contains("recording stopped after"), "{err}");
}

#[test]
fn t_toggles_stable_layers() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !display_or_skip() {
        return;
    }
    let out = tempfile::NamedTempFile::new().unwrap();
    let demo = fixture("demo");
    let mut v = Viewer::start_json(
        &[
            "replay",
            demo.to_str().unwrap(),
            "--loop",
            "--window",
            "--json",
        ],
        &out,
    );
    v.key("t");
    std::thread::sleep(Duration::from_millis(700));
    let (code, err, _) = v.quit_with("q");
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(out.path()).unwrap();
    let frames: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v.get("frame").is_some())
        .collect();
    // per-frame (seed-exact) first, stable after t
    assert!(frames[0].get("stability").is_none(), "{}", frames[0]);
    assert!(
        frames.last().unwrap()["stability"].is_string(),
        "{}",
        frames.last().unwrap()
    );
}

#[test]
fn l_toggles_text_lines_and_their_boxes() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !display_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("poster_00.png"), dir.path().join("poster_00.png")).unwrap();
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut v = Viewer::start_json(
        &[
            "replay",
            dir.path().to_str().unwrap(),
            "--loop",
            "--window",
            "--json",
            "--fps",
            "10",
        ],
        &out,
    );
    let boxes = |v: &Viewer| count_color(&v.screenshot(), [255, 0, 255]);
    assert_eq!(boxes(&v), 0, "no boxes before l");
    v.key("l");
    std::thread::sleep(Duration::from_millis(900));
    let on = boxes(&v);
    assert!(on > 200, "boxes drawn after l: {on} pixels");
    v.key("l");
    std::thread::sleep(Duration::from_millis(900));
    assert_eq!(boxes(&v), 0, "boxes gone after a second l");
    let (code, err, _) = v.quit_with("q");
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(out.path()).unwrap();
    let frames: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v.get("frame").is_some())
        .collect();
    assert!(frames[0].get("lines").is_none(), "{}", frames[0]);
    let with_lines: Vec<&serde_json::Value> =
        frames.iter().filter(|f| f.get("lines").is_some()).collect();
    assert!(!with_lines.is_empty(), "frames with lines after l");
    assert!(with_lines[0]["lines"].as_array().unwrap().len() >= 3);
}

/// A viewer replaying poster_00 in a loop with JSON to `out`, with `env`.
#[cfg(feature = "ocr")]
fn poster_viewer(
    dir: &tempfile::TempDir,
    out: &tempfile::NamedTempFile,
    env: &[(&str, &std::path::Path)],
) -> Viewer {
    std::fs::copy(fixture("poster_00.png"), dir.path().join("poster_00.png")).unwrap();
    let args = [
        "replay",
        dir.path().to_str().unwrap(),
        "--loop",
        "--window",
        "--json",
        "--fps",
        "10",
    ];
    Viewer::launch(&args, env, out.reopen().unwrap().into())
}

/// Frame records of a JSON Lines file.
#[cfg(feature = "ocr")]
fn frame_records(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v.get("frame").is_some())
        .collect()
}

/// Pixels of the lines' text: yellow (`render::LINE_TEXT`) blended over its dark
/// backdrop, which nothing else in the layer view is.
#[cfg(feature = "ocr")]
fn text_pixels(img: &image::RgbImage) -> usize {
    img.pixels()
        .filter(|p| p.0[0] >= 160 && p.0[1] >= 160 && p.0[2] <= 60 && p.0[0].abs_diff(p.0[1]) < 16)
        .count()
}

#[test]
#[cfg(feature = "ocr")]
fn o_reads_the_lines_and_draws_their_text() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !display_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut v = poster_viewer(&dir, &out, &[]);
    let text_px = |v: &Viewer| text_pixels(&v.screenshot());
    let boxes = |v: &Viewer| count_color(&v.screenshot(), [255, 0, 255]);
    assert_eq!(text_px(&v), 0, "no text before o");
    assert_eq!(boxes(&v), 0, "no boxes before o");
    v.key("o");
    // the engine loads, then reads the lines one by one
    let t = Instant::now();
    let mut drawn = 0;
    while t.elapsed() < Duration::from_secs(15) && drawn < 300 {
        std::thread::sleep(Duration::from_millis(300));
        drawn = text_px(&v);
    }
    assert!(drawn >= 300, "text drawn after o: {drawn} pixels");
    assert!(boxes(&v) > 200, "o turns the lines on");
    v.key("o");
    std::thread::sleep(Duration::from_millis(900));
    assert_eq!(text_px(&v), 0, "text gone after a second o");
    assert!(boxes(&v) > 200, "the lines stay on");
    let (code, err, _) = v.quit_with("q");
    assert_eq!(code, 0, "{err}");
    let frames = frame_records(out.path());
    let read: Vec<&serde_json::Value> = frames
        .iter()
        .flat_map(|f| f["lines"].as_array().into_iter().flatten())
        .filter(|l| l.get("text").is_some())
        .collect();
    assert!(!read.is_empty(), "JSON lines carry the text read");
    let all: String = read.iter().filter_map(|l| l["text"].as_str()).collect();
    assert!(all.contains("WEEKEND"), "{all}");
}

#[test]
#[cfg(feature = "ocr")]
fn without_a_cjk_font_o_says_so_and_draws_boxes_only() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !display_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("fonts.conf");
    std::fs::write(
        &conf,
        "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n<fontconfig></fontconfig>\n",
    )
    .unwrap();
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut v = poster_viewer(&dir, &out, &[("FONTCONFIG_FILE", conf.as_path())]);
    v.key("o");
    std::thread::sleep(Duration::from_millis(3000));
    assert!(count_color(&v.screenshot(), [255, 0, 255]) > 200, "boxes");
    assert_eq!(text_pixels(&v.screenshot()), 0, "no text");
    let (code, err, _) = v.quit_with("q");
    assert_eq!(code, 0, "{err}");
    let notices: Vec<&str> = err.lines().filter(|l| l.starts_with("notice: ")).collect();
    assert_eq!(notices.len(), 1, "{err}");
    assert!(notices[0].contains("fonts-noto-cjk"), "{err}");
}
