//! How well text lines match the texts of the shared stills (README, "Text lines").
//!
//!     cargo run --release --example lines_quality -- ../shared/data/stills [--lines seed]
//!
//! For every `poster_NN.png` with its `poster_NN.json` (each text's `bbox_xywh`): the
//! lines of the pipeline (text features on) are matched one to one to the texts' boxes,
//! greedily by IoU (the best pair first), a match needing IoU ≥ 0.5; precision = matches /
//! lines, recall = matches / texts, F their harmonic mean. Prints a markdown table, a row
//! per still and the total.

use std::path::PathBuf;

use layercam::pipeline::lines::LinesMode;
use layercam::{read_image, Params, Pipeline};

type Rect = [f64; 4];

fn iou(a: &Rect, b: &Rect) -> f64 {
    let ix = (a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0]);
    let iy = (a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1]);
    if ix <= 0.0 || iy <= 0.0 {
        return 0.0;
    }
    let inter = ix * iy;
    inter / (a[2] * a[3] + b[2] * b[3] - inter)
}

/// Matches found one to one, best IoU first, each at least 0.5.
fn matches(found: &[Rect], truth: &[Rect]) -> usize {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, f) in found.iter().enumerate() {
        for (j, t) in truth.iter().enumerate() {
            let v = iou(f, t);
            if v >= 0.5 {
                pairs.push((v, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut used_f, mut used_t) = (vec![false; found.len()], vec![false; truth.len()]);
    let mut n = 0;
    for (_, i, j) in pairs {
        if !used_f[i] && !used_t[j] {
            used_f[i] = true;
            used_t[j] = true;
            n += 1;
        }
    }
    n
}

fn f1(m: usize, found: usize, truth: usize) -> (f64, f64, f64) {
    let p = m as f64 / found.max(1) as f64;
    let r = m as f64 / truth.max(1) as f64;
    let f = if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    };
    (p, r, f)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data/stills"));
    let mut mode = LinesMode::Seed;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--lines" => mode = args.next().expect("a mode").parse().expect("a lines mode"),
            other => panic!("unknown option {other} (--lines MODE)"),
        }
    }
    let mut stills: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("stills folder")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    stills.sort();
    let mut p = Pipeline::new(Params {
        features: true,
        lines: mode,
        ..Params::default()
    })
    .expect("pipeline");
    println!("| still | lines | texts | matched | precision | recall | F |");
    println!("|---|---|---|---|---|---|---|");
    let (mut tm, mut tf, mut tt) = (0, 0, 0);
    for meta in &stills {
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(meta).expect("json")).expect("JSON");
        let image = dir.join(m["image"].as_str().expect("image"));
        let truth: Vec<Rect> = m["texts"]
            .as_array()
            .expect("texts")
            .iter()
            .map(|t| {
                let b = &t["bbox_xywh"];
                [0, 1, 2, 3].map(|k| b[k].as_f64().expect("number"))
            })
            .collect();
        let frame = read_image(&image, 0).expect("image");
        p.process(frame.view()).expect("pipeline");
        let found: Vec<Rect> = p
            .lines()
            .iter()
            .map(|l| [l.x, l.y, l.w, l.h].map(f64::from))
            .collect();
        let n = matches(&found, &truth);
        let (pr, rc, f) = f1(n, found.len(), truth.len());
        println!(
            "| {} | {} | {} | {n} | {pr:.2} | {rc:.2} | {f:.2} |",
            image.file_name().unwrap().to_string_lossy(),
            found.len(),
            truth.len()
        );
        tm += n;
        tf += found.len();
        tt += truth.len();
    }
    let (pr, rc, f) = f1(tm, tf, tt);
    println!("| **all** | {tf} | {tt} | {tm} | {pr:.2} | {rc:.2} | **{f:.2}** |");
}
