//! One 1280x720 frame through a one-thread pipeline, three times (for instruction counts:
//! `valgrind --tool=callgrind target/release/examples/oneframe [--features] [--poster]
//! [--stable] [--lines [seed]]`).
mod common;

use layercam::{Params, Pipeline, RgbView};
fn main() {
    let (w, h) = (1280usize, 720usize);
    let poster = std::env::args().any(|a| a == "--poster");
    // --poster: the benches' frame
    let rgb = if poster {
        common::poster_frame(w, h)
    } else {
        common::synthetic_frame(w, h)
    };
    let features = std::env::args().any(|a| a == "--features");
    let stable = std::env::args().any(|a| a == "--stable");
    // --lines: the default grouping; --lines seed: the seed's localisation
    let args: Vec<String> = std::env::args().collect();
    let lines = match args.iter().position(|a| a == "--lines") {
        Some(i) if args.get(i + 1).is_some_and(|m| m == "seed") => {
            layercam::pipeline::lines::LinesMode::Seed
        }
        Some(_) => layercam::pipeline::lines::LinesMode::Text,
        None => layercam::pipeline::lines::LinesMode::Off,
    };
    let mut p = Pipeline::new(Params {
        threads: 1,
        features,
        stable,
        lines,
        ..Params::default()
    })
    .unwrap();
    for _ in 0..3 {
        p.process(RgbView::new(w, h, &rgb).unwrap()).unwrap();
    }
    println!("{:?}", p.layers().peaks);
}
