//! Quality of the text features against exact text masks (README, "Text features").
//!
//!     cargo run --release --example quality -- ../shared/data
//!
//! For every still (`stills/poster_NN.png` + `_mask.png`) and every frame of the sequences
//! (`sequences/seq_KK_*/frame_NNNNN.png` + `mask_NNNNN.png`): precision, recall and F1 of
//! the text-feature mask, compared at the source resolution (a source pixel is a feature
//! when at least 2 of its 4 upscaled pixels are), next to the best single layer's F1 (the
//! layer that alone would match the text best — what layering without stage (2) gives at
//! most). Prints a markdown table.

use std::path::{Path, PathBuf};

use common::{score, Counts};
use layercam::{read_image, Params, Pipeline};

mod common;

fn evaluate(p: &mut Pipeline, image: &Path, mask: &Path) -> (Counts, Counts) {
    let frame = read_image(image, 0).expect("frame");
    let truth = image::open(mask).expect("mask").to_luma8().into_raw();
    let (w, h) = (frame.width, frame.height);
    p.process(frame.view()).expect("layers");
    let l = p.layers();
    let feats = score(w, h, 2, &truth, |i| p.features().mask()[i] != 0);
    let best = (0..l.len())
        .map(|k| score(w, h, 2, &truth, |i| l.labels[i] as usize == k))
        .max_by(|a, b| a.f1().total_cmp(&b.f1()))
        .unwrap_or_default();
    (feats, best)
}

fn main() {
    let data = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "../shared/data".into()),
    );
    let mut p = Pipeline::new(Params {
        features: true,
        ..Params::default()
    })
    .expect("pipeline");
    println!("| input | text features P / R / F1 | best single layer F1 |");
    println!("|---|---|---|");
    let mut still_f = Counts::default();
    let mut still_b = Counts::default();
    for k in 0..4 {
        let img = data.join(format!("stills/poster_{k:02}.png"));
        let mask = data.join(format!("stills/poster_{k:02}_mask.png"));
        let (f, b) = evaluate(&mut p, &img, &mask);
        println!(
            "| stills/poster_{k:02} | {:.3} / {:.3} / **{:.3}** | {:.3} |",
            f.precision(),
            f.recall(),
            f.f1(),
            b.f1()
        );
        still_f.add(f);
        still_b.add(b);
    }
    for seq in ["seq_00_640x480", "seq_01_640x480"] {
        let dir = data.join("sequences").join(seq);
        let (mut fs, mut bs, mut n) = (Counts::default(), Counts::default(), 0);
        for i in 0.. {
            let img = dir.join(format!("frame_{i:05}.png"));
            if !img.exists() {
                break;
            }
            let (f, b) = evaluate(&mut p, &img, &dir.join(format!("mask_{i:05}.png")));
            fs.add(f);
            bs.add(b);
            n += 1;
        }
        println!(
            "| {seq} ({n} frames, pooled) | {:.3} / {:.3} / **{:.3}** | {:.3} |",
            fs.precision(),
            fs.recall(),
            fs.f1(),
            bs.f1()
        );
    }
    println!(
        "| all stills, pooled | {:.3} / {:.3} / **{:.3}** | {:.3} |",
        still_f.precision(),
        still_f.recall(),
        still_f.f1(),
        still_b.f1()
    );
}
