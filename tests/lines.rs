//! Text lines through the program: the default grouping's JSON and its quality on posters
//! with known texts, `--out`'s boxed image, `--crops` for files and streams.

mod common;
#[path = "../tools/harness/common/mod.rs"]
mod eval;

use std::path::Path;
use std::process::Command;

use common::fixture;
use eval::{matches, prf, text_boxes, Rect};
use layercam::pipeline::lines::LinesMode;
use layercam::{read_image, Params, Pipeline};
use serde_json::Value;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_layercam"));
    c.env_remove("DISPLAY").env_remove("LAYERCAM_FAKE_CAMERA");
    c
}

fn run(args: &[&str]) -> (String, String) {
    let out = bin().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), err)
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn poster() -> String {
    fixture("poster_00.png").to_str().unwrap().to_string()
}

/// Matches, lines found and texts over the posters of `dir` (`poster_NN.json` + image).
fn score(dir: &Path, names: &[&str]) -> (usize, usize, usize) {
    let mut p = Pipeline::new(Params {
        features: true,
        lines: LinesMode::Text,
        ..Params::default()
    })
    .unwrap();
    let (mut m, mut f, mut t) = (0, 0, 0);
    for name in names {
        let meta: Value =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap())
                .unwrap();
        let frame = read_image(&dir.join(format!("{name}.png")), 0).unwrap();
        p.process(frame.view()).unwrap();
        let found: Vec<Rect> = p
            .lines()
            .iter()
            .map(|l| [l.x, l.y, l.w, l.h].map(f64::from))
            .collect();
        let truth = text_boxes(&meta);
        m += matches(&found, &truth);
        f += found.len();
        t += truth.len();
    }
    (m, f, t)
}

#[test]
fn default_lines_read_like_text_on_posters_seen_and_unseen() {
    // two of the shared stills, and posters made by tools/make-posters.py (seed 7) that no
    // rule was written against; the floors sit under the measured F (0.80 and 0.90)
    let (m, f, t) = score(&fixture(""), &["poster_00", "poster_02"]);
    let (_, _, stills) = prf(m, f, t);
    assert!(
        stills >= 0.7,
        "stills: {m} of {t} texts matched by {f} lines, F {stills:.2}"
    );
    let names = ["poster_00", "poster_01", "poster_02", "poster_03"];
    let (m, f, t) = score(&fixture("unseen"), &names);
    let (_, recall, unseen) = prf(m, f, t);
    assert!(
        unseen >= 0.8,
        "unseen: {m} of {t} matched by {f} lines, F {unseen:.2}"
    );
    assert!(recall >= 0.9, "unseen recall {recall:.2}");
}

#[test]
fn bare_lines_flag_is_the_default_grouping_in_reading_order() {
    let (bare, _) = run(&["analyze", "--lines", &poster(), "--json"]);
    let (named, _) = run(&["analyze", &poster(), "--json", "--lines", "text"]);
    let (seed, _) = run(&["analyze", &poster(), "--json", "--lines", "seed"]);
    let bare = &json_lines(&bare)[0];
    assert_eq!(bare, &json_lines(&named)[0]);
    assert_ne!(bare["lines"], json_lines(&seed)[0]["lines"]);
    let lines = bare["lines"].as_array().unwrap();
    assert!(lines.len() >= 5, "{lines:?}");
    let k = bare["layers"].as_array().unwrap().len() as u64;
    let key = |l: &Value| (l["y"].as_u64().unwrap(), l["x"].as_u64().unwrap());
    for pair in lines.windows(2) {
        assert!(key(&pair[0]) <= key(&pair[1]), "reading order: {pair:?}");
    }
    for l in lines {
        assert!(
            l["x"].as_u64().unwrap() + l["w"].as_u64().unwrap() <= 640,
            "{l}"
        );
        assert!(
            l["y"].as_u64().unwrap() + l["h"].as_u64().unwrap() <= 480,
            "{l}"
        );
        assert!(l["layer"].as_u64().unwrap() < k, "{l}");
    }
    // the readable summary lists them too
    let (text, _) = run(&["analyze", &poster(), "--lines"]);
    assert!(
        text.contains(&format!("text lines: {}", lines.len())),
        "{text}"
    );
}

#[test]
fn out_gains_the_boxed_image_and_crops_come_in_pairs() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, crops) = (tmp.path().join("out"), tmp.path().join("crops"));
    // --crops alone turns the default lines on
    let (stdout, _) = run(&[
        "analyze",
        &poster(),
        "--json",
        "--out",
        out.to_str().unwrap(),
        "--crops",
        crops.to_str().unwrap(),
    ]);
    let rec = &json_lines(&stdout)[0];
    let lines = rec["lines"].as_array().expect("lines on with --crops");
    let boxed = image::open(out.join("poster_00.lines.png"))
        .unwrap()
        .to_rgb8();
    assert_eq!(boxed.dimensions(), (640, 480));
    let magenta = boxed.pixels().filter(|p| p.0 == [255, 0, 255]).count();
    assert!(magenta > 100, "{magenta} box pixels");
    let source = read_image(&fixture("poster_00.png"), 0).unwrap();
    for (n, l) in lines.iter().enumerate() {
        let crop = image::open(crops.join(format!("poster_00.line{n:02}.png")))
            .unwrap()
            .to_rgb8();
        let mask = image::open(crops.join(format!("poster_00.line{n:02}.mask.png")))
            .unwrap()
            .to_luma8();
        let (w, h) = (
            l["w"].as_u64().unwrap() as u32,
            l["h"].as_u64().unwrap() as u32,
        );
        // the crop holds the box and a margin of a tenth of its height (at least 2 px)
        assert!(
            crop.width() >= w && crop.width() <= w + 2 * (h / 10).max(2),
            "{l}"
        );
        assert!(
            crop.height() >= h && crop.height() <= h + 2 * (h / 10).max(2),
            "{l}"
        );
        // the mask is the label map's region: twice the size, black text on white
        assert_eq!(mask.dimensions(), (2 * crop.width(), 2 * crop.height()));
        assert!(mask.pixels().all(|p| p.0[0] == 0 || p.0[0] == 255));
        let black = mask.pixels().filter(|p| p.0[0] == 0).count() as f64;
        let share = black / (mask.width() * mask.height()) as f64;
        assert!(share > 0.02 && share < 0.8, "{l}: {share:.2} black");
        // the crop is the source at the box (less the margin)
        let m = (h / 10).max(2);
        let (x0, y0) = (
            (l["x"].as_u64().unwrap() as u32).saturating_sub(m),
            (l["y"].as_u64().unwrap() as u32).saturating_sub(m),
        );
        let i = ((y0 as usize * 640) + x0 as usize) * 3;
        assert_eq!(crop.get_pixel(0, 0).0, source.rgb[i..i + 3]);
    }
    assert!(!crops
        .join(format!("poster_00.line{:02}.png", lines.len()))
        .exists());
}

#[test]
fn streams_name_their_crops_by_frame() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::copy(fixture("poster_00.png"), input.join("a.png")).unwrap();
    std::fs::copy(fixture("poster_02.png"), input.join("b.png")).unwrap();
    let (out, crops) = (tmp.path().join("out"), tmp.path().join("crops"));
    let (stdout, _) = run(&[
        "replay",
        input.to_str().unwrap(),
        "--fast",
        "--headless",
        "--json",
        "--lines",
        "--out",
        out.to_str().unwrap(),
        "--crops",
        crops.to_str().unwrap(),
    ]);
    let frames: Vec<Value> = json_lines(&stdout)
        .into_iter()
        .filter(|v| v.get("frame").is_some())
        .collect();
    assert_eq!(frames.len(), 2);
    for f in &frames {
        let n = f["frame"].as_u64().unwrap();
        let lines = f["lines"].as_array().unwrap();
        assert!(!lines.is_empty());
        assert!(out.join(format!("frame_{n:06}.lines.png")).is_file());
        for k in 0..lines.len() {
            assert!(crops.join(format!("frame_{n:06}.line{k:02}.png")).is_file());
            assert!(crops
                .join(format!("frame_{n:06}.line{k:02}.mask.png"))
                .is_file());
        }
    }
}
