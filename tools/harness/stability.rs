//! How still the layers hold on video, per-frame (seed-exact) against stable mode
//! (docs/stable.md, README "Stable layers").
//!
//!     cargo run --release --example stability -- ../shared/data/sequences [--factor F] [--zoom Z]
//!
//! For every sequence folder (`frame_NNNNN.png`, `mask_NNNNN.png`, `meta.json` with
//! `scene_cut_frame`), both modes with text features on:
//!
//! * **count changes**: transitions between consecutive frames whose layer count differs,
//!   over all transitions but the one at the scene cut;
//! * **settle**: frames after the cut to the last count change among the next ten (0: the
//!   count held from the cut on);
//! * **bounds held**: transitions (cut excluded) whose bounds are all unchanged; and the
//!   median move of the bounds where they moved (largest change of a bound, same count);
//! * **text F1**: the text-feature mask against the exact text mask over all frames.
//!
//! Prints a markdown table.

use std::path::{Path, PathBuf};

use common::{score, Counts};
use layercam::{read_image, Params, Pipeline};

mod common;

struct Run {
    count_changes: usize,
    transitions: usize,
    held: usize,
    moves: Vec<u16>,
    settle: usize,
    f1: Counts,
}

fn run(dir: &Path, stable: bool, base: Params) -> Run {
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("meta.json")).expect("meta.json"))
            .expect("JSON");
    let cut = meta["scene_cut_frame"].as_u64().unwrap_or(u64::MAX) as usize;
    let mut frames: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("folder")
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("frame_"))
        })
        .collect();
    frames.sort();
    let mut p = Pipeline::new(Params {
        features: true,
        stable,
        ..base
    })
    .expect("pipeline");
    let mut r = Run {
        count_changes: 0,
        transitions: 0,
        held: 0,
        moves: Vec::new(),
        settle: 0,
        f1: Counts::default(),
    };
    let mut prev: Option<Vec<u16>> = None;
    for (i, f) in frames.iter().enumerate() {
        let frame = read_image(f, i as u64).expect("frame");
        let mask = f.with_file_name(
            f.file_name()
                .unwrap()
                .to_string_lossy()
                .replace("frame_", "mask_"),
        );
        let truth = image::open(&mask).expect("mask").to_luma8().into_raw();
        p.process(frame.view()).expect("layers");
        r.f1.add(score(frame.width, frame.height, base.zoom, &truth, |j| {
            p.features().mask()[j] != 0
        }));
        let bounds = p.layers().bounds.clone();
        if let Some(old) = prev.take() {
            let changed_count = old.len() != bounds.len();
            if i == cut {
                // the cut itself is not counted
            } else {
                r.transitions += 1;
                if changed_count {
                    r.count_changes += 1;
                    if i > cut && i <= cut + 10 {
                        r.settle = r.settle.max(i - cut);
                    }
                } else if old == bounds {
                    r.held += 1;
                } else {
                    let m = old.iter().zip(&bounds).map(|(a, b)| a.abs_diff(*b)).max();
                    r.moves.push(m.unwrap_or(0));
                }
            }
        }
        prev = Some(bounds);
    }
    r
}

fn median(v: &mut [u16]) -> String {
    if v.is_empty() {
        return "–".into();
    }
    v.sort_unstable();
    v[v.len() / 2].to_string()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let root = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data/sequences"));
    // optional: --factor F, --zoom Z
    let mut base = Params::default();
    while let Some(a) = args.next() {
        let v = args.next().expect("a value after the option");
        match a.as_str() {
            "--factor" => base.factor = v.parse().expect("a number"),
            "--zoom" => base.zoom = v.parse().expect("a number"),
            other => panic!("unknown option {other} (--factor F, --zoom Z)"),
        }
    }
    let mut seqs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("sequences folder")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.join("meta.json").exists())
        .collect();
    seqs.sort();
    println!("| sequence | mode | count changes | settle after cut | bounds held | median move | text F1 |");
    println!("|---|---|---|---|---|---|---|");
    for s in &seqs {
        for stable in [false, true] {
            let mut r = run(s, stable, base);
            println!(
                "| {} | {} | {}/{} ({:.1} %) | {} frames | {}/{} ({:.0} %) | {} | {:.3} |",
                s.file_name().unwrap().to_string_lossy(),
                if stable { "stable" } else { "per-frame" },
                r.count_changes,
                r.transitions,
                100.0 * r.count_changes as f64 / r.transitions.max(1) as f64,
                r.settle,
                r.held,
                r.transitions,
                100.0 * r.held as f64 / r.transitions.max(1) as f64,
                median(&mut r.moves),
                r.f1.f1(),
            );
        }
    }
}
