//! What an adversarial user tries, through the real binary: decompression bombs under an
//! address-space cap, loops over inputs that never decode, reads that would block for ever,
//! outputs that would overwrite inputs, JSON held back in a buffer, over-long y4m lines,
//! runs that process nothing, control bytes in names, pausing a paced replay, and SIGTERM.

mod common;

use std::io::{BufRead, BufReader, Write};

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_layercam"));
    c.env_remove("DISPLAY").env_remove("LAYERCAM_FAKE_CAMERA");
    c
}

/// Runs the binary with its address space capped at `kb` KiB.
fn capped(kb: u64, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {kb} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_layercam"))
        .args(args)
        .env_remove("DISPLAY")
        .output()
        .expect("runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Waits for `child` at most `limit`; kills it and fails when it is still running.
fn wait_within(mut child: Child, limit: Duration, what: &str) -> Output {
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{what}: still running after {limit:?}; stderr: {}",
                text(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Runs the binary with `args` (stderr kept); fails when it is still running after 5 s.
fn run_within_5s(args: &[&str], what: &str) -> Output {
    let child = bin().args(args).stderr(Stdio::piped()).spawn().unwrap();
    wait_within(child, Duration::from_secs(5), what)
}

fn signal(child: &Child, sig: &str) {
    Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap();
}

#[test]
fn decompression_bombs_are_refused_from_their_headers() {
    let png = fixture("hostile/gray_10000x10000.png");
    let cmyk = fixture("hostile/cmyk_claims_12000x12000.jpg");
    let good = fixture("page.png");
    // 100 MB of gray decoding into 300 MB of RGB, and a 297-byte CMYK JPEG claiming 144
    // megapixels: refused at once under a 400 MB cap, and the next file is still done
    let t = Instant::now();
    let out = capped(
        400_000,
        &[
            "analyze",
            png.to_str().unwrap(),
            cmyk.to_str().unwrap(),
            good.to_str().unwrap(),
        ],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.matches("more than the limit").count(), 2, "{err}");
    assert!(err.contains("2 of 3 images failed"), "{err}");
    assert!(
        text(&out.stdout).contains("page.png"),
        "the good image is analysed"
    );
    // in a replay folder: skipped and counted, the good file played
    let tmp = tempfile::tempdir().unwrap();
    for p in [&png, &cmyk, &good] {
        std::fs::copy(p, tmp.path().join(p.file_name().unwrap())).unwrap();
    }
    let out = capped(
        400_000,
        &[
            "replay",
            tmp.path().to_str().unwrap(),
            "--fast",
            "--headless",
        ],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("1 frames in, 1 out, 0 dropped, 2 skipped"),
        "{err}"
    );
    // a limit the pipeline cannot hold is refused on the command line
    let out = bin()
        .args(["analyze", "x.png", "--max-pixels", "400000000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("1 to 100000000"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_loop_over_inputs_that_never_decode_ends_with_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("broken/frame_001.jpg"), tmp.path().join("a.jpg")).unwrap();
    std::fs::write(tmp.path().join("b.png"), b"not a png").unwrap();
    std::fs::write(tmp.path().join("meta.json"), b"{}").unwrap();
    let out = run_within_5s(
        &[
            "replay",
            tmp.path().to_str().unwrap(),
            "--loop",
            "--fast",
            "--headless",
        ],
        "looping over broken files",
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("a whole pass gave no frame, nothing to loop"),
        "{err}"
    );
    // each bad file is named once, not once a pass
    assert_eq!(err.matches("warning: skipped").count(), 3, "{err}");
    // a header-only y4m
    let y4m = tmp.path().join("empty.y4m");
    std::fs::write(&y4m, b"YUV4MPEG2 W8 H8 F30:1 C420jpeg\n").unwrap();
    let out = run_within_5s(
        &["replay", y4m.to_str().unwrap(), "--loop", "--headless"],
        "looping over an empty y4m",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("nothing to loop"));
}

#[test]
fn a_fifo_is_skipped_in_a_folder_and_refused_as_an_image() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("demo/demo_00.jpg"), tmp.path().join("a.jpg")).unwrap();
    let fifo = tmp.path().join("b.png");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let out = run_within_5s(
        &[
            "replay",
            tmp.path().to_str().unwrap(),
            "--fast",
            "--headless",
        ],
        "a folder with a FIFO",
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("b.png: not a regular file"), "{err}");
    assert!(err.contains("1 frames in, 1 out"), "{err}");
    let out = run_within_5s(
        &["replay", fifo.to_str().unwrap(), "--headless"],
        "a FIFO as the image",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not a regular file"));
}

/// A y4m stream of `n` frames of 16×16.
fn y4m(n: usize, frame_line: &str) -> Vec<u8> {
    let mut d = b"YUV4MPEG2 W16 H16 F30:1 C420jpeg\n".to_vec();
    for i in 0..n {
        d.extend_from_slice(frame_line.as_bytes());
        d.push(b'\n');
        d.extend((0..16 * 16).map(|p| ((p * 7 + i * 40) % 220 + 16) as u8));
        d.extend(std::iter::repeat_n(128u8, 2 * 8 * 8));
    }
    d
}

#[test]
fn a_silent_stdin_does_not_hold_up_a_signal_or_a_reader_that_left() {
    // stdin open, one frame sent, then nothing: SIGTERM ends the run at once with 130
    let mut child = bin()
        .args(["replay", "-", "--headless", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&y4m(1, "FRAME")).unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    lines.read_line(&mut first).unwrap();
    assert!(first.contains("\"frame\":0"), "{first}");
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    signal(&child, "TERM");
    let out = wait_within(child, Duration::from_secs(2), "SIGTERM with a silent stdin");
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(!err.contains("did not stop"), "{err}");
    drop(stdin);

    // `| head -1`: the reader takes one line and leaves; the run ends with 0 at once
    let mut child = bin()
        .args(["replay", "-", "--headless", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&y4m(1, "FRAME")).unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    lines.read_line(&mut first).unwrap();
    let t = Instant::now();
    drop(lines);
    let out = wait_within(child, Duration::from_secs(3), "a reader that went away");
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    drop(stdin);
}

#[test]
fn outputs_never_overwrite_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::copy(fixture("page.png"), d.join("x.png")).unwrap();
    std::fs::copy(fixture("poster_00.png"), d.join("x.labels.png")).unwrap();
    let before = std::fs::read(d.join("x.labels.png")).unwrap();
    let out = bin()
        .args(["analyze", "--json"])
        .arg(d.join("x.png"))
        .arg(d.join("x.labels.png"))
        .arg("--out")
        .arg(d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read(d.join("x.labels.png")).unwrap(),
        before,
        "input kept"
    );
    assert!(d.join("x-2.labels.png").exists() && d.join("x-2.density.png").exists());
    // the second input was analysed as it was: the poster
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let poster = bin()
        .args([
            "analyze",
            "--json",
            fixture("poster_00.png").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let poster: Value = serde_json::from_slice(&poster.stdout).unwrap();
    assert_eq!(lines[1]["bounds"], poster["bounds"]);
    // without --json the renaming is said
    let out = bin()
        .arg("analyze")
        .arg(d.join("x.png"))
        .arg(d.join("x.labels.png"))
        .arg("--out")
        .arg(d)
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains("as x-2.* (x.* would overwrite an input)"),
        "{}",
        text(&out.stdout)
    );
    // a replay into the folder it plays from is refused
    let out = bin()
        .args([
            "replay",
            d.to_str().unwrap(),
            "--headless",
            "--out",
            d.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("the folder being replayed"));
}

/// A paced replay of the demo at `fps` with JSON on a pipe.
fn paced_demo(fps: &str) -> (Child, BufReader<std::process::ChildStdout>) {
    let mut child = bin()
        .args([
            "replay",
            fixture("demo").to_str().unwrap(),
            "--fps",
            fps,
            "--loop",
        ])
        .args(["--headless", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap());
    (child, lines)
}

/// The times, from now, at which the next `n` lines arrive.
fn line_times(lines: &mut impl BufRead, n: usize) -> Vec<Duration> {
    let t = Instant::now();
    let mut l = String::new();
    (0..n)
        .map(|_| {
            l.clear();
            lines.read_line(&mut l).unwrap();
            assert!(l.starts_with("{\"frame\""), "{l}");
            t.elapsed()
        })
        .collect()
}

#[test]
fn json_lines_arrive_as_frames_are_made() {
    // 2 frames a second into a pipe: the first line comes with the first frame, not when
    // a buffer fills
    let (mut child, mut lines) = paced_demo("2");
    let times = line_times(&mut lines, 3);
    let _ = child.kill();
    let _ = child.wait();
    assert!(times[0] < Duration::from_millis(1500), "{times:?}");
    assert!(
        times[2] - times[1] > Duration::from_millis(300),
        "one at a time: {times:?}"
    );
}

fn replay_y4m(data: &[u8]) -> (i32, Vec<Value>, String) {
    let mut child = bin()
        .args([
            "replay",
            "-",
            "--fast",
            "--headless",
            "--json",
            "--bandwidth-tolerance",
            "0",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(data);
    drop(stdin);
    let out = wait_within(child, Duration::from_secs(10), "y4m on stdin");
    let lines = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (out.status.code().unwrap_or(-1), lines, text(&out.stderr))
}

#[test]
fn long_y4m_lines_are_read_whole_or_refused() {
    // a FRAME line with 5000 bytes of parameters: the frame is the same as without them
    let plain = replay_y4m(&y4m(2, "FRAME"));
    let long = replay_y4m(&y4m(2, &format!("FRAME X{}", "a".repeat(5000))));
    assert_eq!((plain.0, long.0), (0, 0), "{}", long.2);
    assert_eq!(long.1.len(), 3);
    for k in 0..2 {
        assert_eq!(long.1[k]["bounds"], plain.1[k]["bounds"]);
        assert_eq!(long.1[k]["sigma"], plain.1[k]["sigma"]);
    }
    // a header line with long parameters
    let mut d = y4m(1, "FRAME");
    let x = format!(" X{}", "b".repeat(6000));
    d.splice(32..32, x.bytes());
    let (code, lines, err) = replay_y4m(&d);
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines.len(), 2);
    // past the limit: a clear error, and no frame made of the line's bytes
    let mut d = y4m(1, "FRAME");
    d.extend_from_slice(&y4m(1, &format!("FRAME X{}", "c".repeat(70_000)))[33..]);
    let (code, lines, err) = replay_y4m(&d);
    assert_eq!(code, 1);
    assert!(err.contains("frame 1: line too long"), "{err}");
    assert_eq!(lines.len(), 2, "frame 0 and the summary only");
}

#[test]
fn a_run_that_processes_nothing_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.png");
    std::fs::write(&bad, b"\x89PNG\r\n\x1a\nbroken").unwrap();
    for (args, why) in [
        (vec!["replay", bad.to_str().unwrap()], "every input"),
        (
            vec![
                "replay",
                fixture("broken").join("frame_001.jpg").to_str().unwrap(),
            ],
            "every input",
        ),
    ] {
        let out = bin()
            .args(&args)
            .args(["--headless", "--fast"])
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("no frame was processed") && err.contains(why),
            "{err}"
        );
    }
    // a folder of bad files
    std::fs::write(tmp.path().join("c.jpg"), b"\xff\xd8\xff\xe0").unwrap();
    let out = bin()
        .args([
            "replay",
            tmp.path().to_str().unwrap(),
            "--headless",
            "--fast",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    // a y4m header cut before its newline
    let (code, _, err) = replay_y4m(b"YUV4MPEG2 W16 H16 F30:1");
    assert_eq!(code, 1);
    assert!(err.contains("ends inside its header"), "{err}");
}

#[test]
fn control_bytes_in_names_are_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let name = tmp.path().join("evil\x1b[2J\x07.png");
    std::fs::write(&name, b"not an image").unwrap();
    let out = bin().arg("analyze").arg(&name).output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err:?}");
    assert!(err.contains("evil\\u{1b}[2J\\u{7}.png"), "{err}");
    let out = bin()
        .args(["replay", tmp.path().to_str().unwrap(), "--headless"])
        .output()
        .unwrap();
    assert!(
        !text(&out.stderr).contains('\x1b'),
        "{:?}",
        text(&out.stderr)
    );
}

#[test]
fn a_paused_replay_resumes_its_pace_without_a_burst() {
    let (mut child, mut lines) = paced_demo("10");
    line_times(&mut lines, 3);
    signal(&child, "STOP");
    std::thread::sleep(Duration::from_millis(2000));
    signal(&child, "CONT");
    let times = line_times(&mut lines, 6);
    let _ = child.kill();
    let _ = child.wait();
    // at 10 frames/s the six lines after resuming take about half a second, not a burst
    // of the twenty frames missed (a frame or two may have been on its way)
    assert!(
        times[5] - times[2] > Duration::from_millis(200),
        "{times:?}"
    );
}

#[test]
fn y4m_frame_rates_outside_the_range_are_clamped_and_said() {
    let mut d = y4m(2, "FRAME");
    let h = b"YUV4MPEG2 W16 H16 F30:1 C420jpeg\n".len();
    d.splice(
        0..h,
        b"YUV4MPEG2 W16 H16 F99999:1 C420jpeg\n".iter().copied(),
    );
    let mut child = bin()
        .args(["replay", "-", "--headless"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&d).unwrap();
    let out = wait_within(child, Duration::from_secs(5), "a y4m at 99999 fps");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("frame rate 99999 is outside 0.1 to 1000 frames/s: paced at 1000"),
        "{err}"
    );
}

#[test]
fn sigterm_ends_analyze_with_the_interrupted_code() {
    let img = fixture("poster_02.png");
    let many: Vec<&str> = std::iter::repeat_n(img.to_str().unwrap(), 200).collect();
    let child = bin()
        .arg("analyze")
        .args(&many)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, "TERM");
    let out = wait_within(child, Duration::from_secs(3), "analyze after SIGTERM");
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
}
