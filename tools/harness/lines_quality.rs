//! How well text lines match the texts of posters (README, "Text lines").
//!
//!     cargo run --release --example lines_quality -- DIR [--lines text|seed]
//!
//! `DIR` holds stills (`poster_NN.png` with `poster_NN.json`, each text's `bbox_xywh`, and
//! optionally `poster_NN_mask.png`) or a sequence (`frame_NNNNN.png` with
//! `mask_NNNNN.png`, processed in order through one pipeline).
//!
//! * **Boxes** (stills): the lines (default grouping unless `--lines seed`) are matched one
//!   to one to the texts' boxes, greedily by IoU (the best pair first), a match needing
//!   IoU ≥ 0.5; precision = matches / lines, recall = matches / texts, F their harmonic
//!   mean.
//! * **Text-mask pixels** (wherever a mask is given): recall = text pixels inside some line
//!   box / text pixels; precision = text pixels inside the boxes / pixels inside the boxes
//!   (a box is mostly background even around perfect text, so this one stays low: what
//!   matters is that it does not fall when boxes take in texture).
//!
//! Prints markdown tables: a row per still (or one for the sequence) and the total.

mod common;

use std::path::{Path, PathBuf};

use common::{matches, prf, text_boxes, Rect};
use layercam::pipeline::lines::{LinesMode, TextLine};
use layercam::{read_image, Params, Pipeline};

/// Text pixels, text pixels inside the boxes, pixels inside the boxes.
#[derive(Default, Clone, Copy)]
struct Pixels {
    text: u64,
    text_in: u64,
    boxed: u64,
}

impl Pixels {
    fn of(mask_path: &Path, lines: &[TextLine]) -> Pixels {
        let mask = image::open(mask_path).expect("mask").to_luma8();
        let (w, h) = (mask.width() as usize, mask.height() as usize);
        let mut inside = vec![false; w * h];
        for l in lines {
            for y in l.y as usize..((l.y + l.h) as usize).min(h) {
                inside[y * w + l.x as usize..y * w + ((l.x + l.w) as usize).min(w)].fill(true);
            }
        }
        let mut p = Pixels::default();
        for (v, &b) in mask.as_raw().iter().zip(&inside) {
            let t = *v >= 128;
            p.text += t as u64;
            p.text_in += (t && b) as u64;
            p.boxed += b as u64;
        }
        p
    }
    fn add(&mut self, o: Pixels) {
        self.text += o.text;
        self.text_in += o.text_in;
        self.boxed += o.boxed;
    }
    fn row(&self) -> String {
        let r = self.text_in as f64 / self.text.max(1) as f64;
        let p = self.text_in as f64 / self.boxed.max(1) as f64;
        format!("{p:.2} | {r:.2}")
    }
}

fn found(p: &Pipeline) -> Vec<Rect> {
    p.lines()
        .iter()
        .map(|l| [l.x, l.y, l.w, l.h].map(f64::from))
        .collect()
}

fn stills(dir: &Path, p: &mut Pipeline, metas: &[PathBuf]) {
    println!("| still | lines | texts | matched | precision | recall | F | text px precision | text px recall |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let (mut tm, mut tf, mut tt) = (0, 0, 0);
    let mut all = Pixels::default();
    let mut masks = 0;
    for meta in metas {
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(meta).expect("json")).expect("JSON");
        let image = dir.join(m["image"].as_str().expect("image"));
        let truth = text_boxes(&m);
        let frame = read_image(&image, 0).expect("image");
        p.process(frame.view()).expect("pipeline");
        let boxes = found(p);
        let n = matches(&boxes, &truth);
        let (pr, rc, f) = prf(n, boxes.len(), truth.len());
        let mask = m["mask"]
            .as_str()
            .map(|s| dir.join(s))
            .filter(|m| m.is_file());
        let px = mask.map(|m| Pixels::of(&m, p.lines()));
        if let Some(px) = px {
            all.add(px);
            masks += 1;
        }
        println!(
            "| {} | {} | {} | {n} | {pr:.2} | {rc:.2} | {f:.2} | {} |",
            image.file_name().unwrap().to_string_lossy(),
            boxes.len(),
            truth.len(),
            px.map_or("– | –".to_string(), |x| x.row())
        );
        tm += n;
        tf += boxes.len();
        tt += truth.len();
    }
    let (pr, rc, f) = prf(tm, tf, tt);
    println!(
        "| **all** | {tf} | {tt} | {tm} | {pr:.2} | {rc:.2} | **{f:.2}** | {} |",
        if masks > 0 {
            all.row()
        } else {
            "– | –".to_string()
        }
    );
}

fn sequence(dir: &Path, p: &mut Pipeline) {
    let mut frames: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("sequence folder")
        .map(|e| e.unwrap().path())
        .filter(|f| {
            f.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("frame_"))
        })
        .collect();
    frames.sort();
    let mut all = Pixels::default();
    let mut lines = 0;
    for f in &frames {
        let name = f.file_name().unwrap().to_string_lossy();
        let mask = dir.join(name.replace("frame_", "mask_"));
        let frame = read_image(f, 0).expect("frame");
        p.process(frame.view()).expect("pipeline");
        lines += p.lines().len();
        all.add(Pixels::of(&mask, p.lines()));
    }
    println!("| sequence | frames | lines per frame | text px precision | text px recall |");
    println!("|---|---|---|---|---|");
    println!(
        "| {} | {} | {:.1} | {} |",
        dir.file_name().unwrap().to_string_lossy(),
        frames.len(),
        lines as f64 / frames.len().max(1) as f64,
        all.row()
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data/stills"));
    let mut mode = LinesMode::Text;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--lines" => mode = args.next().expect("a mode").parse().expect("a lines mode"),
            other => panic!("unknown option {other} (--lines MODE)"),
        }
    }
    let mut p = Pipeline::new(Params {
        features: true,
        lines: mode,
        ..Params::default()
    })
    .expect("pipeline");
    let metas = common::poster_metas(&dir);
    if metas.is_empty() {
        sequence(&dir, &mut p);
    } else {
        stills(&dir, &mut p, &metas);
    }
}
