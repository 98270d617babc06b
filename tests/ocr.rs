//! Reading the text (the `ocr` feature): `analyze --ocr` on a poster, the page's own lines
//! outside layercam's, a missing language named with its package, and the engine reused
//! across lines.
#![cfg(feature = "ocr")]

mod common;

use std::process::Command;

use common::fixture;
use serde_json::Value;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_layercam"));
    c.env_remove("DISPLAY").env_remove("LAYERCAM_FAKE_CAMERA");
    c
}

#[test]
fn analyze_ocr_reads_the_posters_lines() {
    let out = bin()
        .args([
            "analyze",
            fixture("poster_00.png").to_str().unwrap(),
            "--ocr",
            "--json",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let rec: Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines = rec["lines"].as_array().expect("--ocr turns lines on");
    let texts: Vec<&str> = lines.iter().filter_map(|l| l["text"].as_str()).collect();
    for want in ["WEEKEND SPECIAL", "品牌联名款", "抢先购", "Get Yours Today"] {
        assert!(texts.contains(&want), "{want} not in {texts:?}");
    }
    for l in lines.iter().filter(|l| l.get("text").is_some()) {
        let c = l["confidence"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&c), "{l}");
    }
    // "Get Yours Today" shares its background's layer: the recogniser's own line finds it
    let page = lines
        .iter()
        .find(|l| l["text"] == "Get Yours Today")
        .unwrap();
    assert_eq!(page["source"], "page", "{page}");
    assert!(lines
        .iter()
        .any(|l| l.get("source").is_none() && l.get("text").is_some()));
    // reading order holds with the page's lines added
    let key = |l: &Value| (l["y"].as_u64().unwrap(), l["x"].as_u64().unwrap());
    assert!(lines.windows(2).all(|p| key(&p[0]) <= key(&p[1])));

    // without --json the summary shows the text
    let out = bin()
        .args([
            "analyze",
            fixture("poster_00.png").to_str().unwrap(),
            "--ocr",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"WEEKEND SPECIAL\""), "{text}");
}

#[test]
fn a_missing_language_names_its_package() {
    let out = bin()
        .args([
            "analyze",
            fixture("poster_00.png").to_str().unwrap(),
            "--ocr",
            "--ocr-lang",
            "eng+klingon_tlh",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("klingon_tlh (package tesseract-ocr-klingon-tlh)"),
        "{err}"
    );
    assert!(!err.contains("eng (package"), "{err}");
    assert!(out.stdout.is_empty(), "nothing processed");
}

#[test]
fn one_engine_reads_line_after_line_and_refuses_what_it_cannot_read() {
    use layercam::ocr::{read_lines, LineReader};
    use layercam::pipeline::lines::{LinesMode, TextLine};
    use layercam::{read_image, Params, Pipeline};
    let frame = read_image(&fixture("poster_02.png"), 0).unwrap();
    let mut p = Pipeline::new(Params {
        features: true,
        lines: LinesMode::Text,
        ..Params::default()
    })
    .unwrap();
    p.process(frame.view()).unwrap();
    let mut reader = LineReader::new("chi_sim+eng").unwrap();
    let mut lines = p.lines().to_vec();
    // an empty box at the right edge leaves a crop too small to read: counted, not an error
    lines.push(TextLine {
        x: frame.width as u32,
        y: 10,
        w: 0,
        h: 0,
        layer: 0,
    });
    let mut scratch = Vec::new();
    let (readings, refused) = read_lines(
        &mut reader,
        &frame.rgb,
        frame.width,
        frame.height,
        &lines,
        &mut scratch,
    );
    assert_eq!(readings.len(), lines.len());
    assert!(readings.last().unwrap().is_none());
    assert!(refused >= 1);
    let texts: Vec<&str> = readings.iter().flatten().map(|r| r.text.as_str()).collect();
    assert!(texts.contains(&"HOT PICKS"), "{texts:?}");
    assert!(texts.contains(&"Fresh Stock"), "{texts:?}");
}

#[test]
fn a_stream_reads_its_lines_on_the_side_and_says_from_which_frame() {
    // one poster replayed for 3 s at 20 frames/s: every frame is processed (the reading
    // thread never holds the pipeline up) and the lines get their text from earlier frames
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("poster_02.png"), dir.path().join("a.png")).unwrap();
    let out = bin()
        .args([
            "replay",
            dir.path().to_str().unwrap(),
            "--loop",
            "--fps",
            "20",
            "--max-frames",
            "60",
            "--headless",
            "--json",
            "--ocr",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let recs: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let frames: Vec<&Value> = recs.iter().filter(|r| r.get("frame").is_some()).collect();
    assert_eq!(frames.len(), 60);
    let last = frames.last().unwrap();
    let texts: Vec<&str> = last["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["text"].as_str())
        .collect();
    assert!(texts.contains(&"HOT PICKS"), "{texts:?}");
    for l in last["lines"].as_array().unwrap() {
        if l.get("text").is_some() {
            let from = l["text_frame"].as_u64().unwrap();
            assert!(from < 59, "read from an earlier frame: {l}");
        }
    }
    // a line is read once while its crop stays the same: far fewer readings than sightings
    let summary = &recs.last().unwrap()["summary"];
    let readings = summary["ocr"]["readings"].as_u64().unwrap();
    let lines = last["lines"].as_array().unwrap().len() as u64;
    assert!(readings <= 2 * lines, "{summary}");
    assert!(
        summary["ocr"]["lines_read"].as_u64().unwrap() >= 4,
        "{summary}"
    );
}

#[test]
fn the_live_reader_forgets_lines_that_left_the_view() {
    // a line that moves by more than its width every frame is a new line each time: the
    // tracks stay bounded however long the stream (what keeps a looped replay's memory flat)
    use layercam::ocr::{LiveReader, TRACK_TTL};
    use layercam::pipeline::lines::TextLine;
    let (w, h) = (640usize, 120usize);
    let rgb = vec![200u8; w * h * 3];
    let mut reader = LiveReader::start("eng").unwrap();
    let mut most = 0;
    for frame in 0..(4 * TRACK_TTL) {
        let line = TextLine {
            x: (frame as u32 * 40) % 560,
            y: (frame as u32 * 7) % 90,
            w: 30,
            h: 20,
            layer: 0,
        };
        let known = reader.observe(frame, &rgb, w, h, &[line]);
        assert_eq!(known.len(), 1);
        most = most.max(reader.tracks());
    }
    assert!(most <= TRACK_TTL as usize + 1, "{most} tracks");
}
