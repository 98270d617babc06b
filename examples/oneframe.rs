//! One 1280x720 frame through a one-thread pipeline, three times (for instruction counts:
//! `valgrind --tool=callgrind target/release/examples/oneframe [--features]`).
use layercam::{Params, Pipeline, RgbView};
fn main() {
    let (w, h) = (1280usize, 720usize);
    let rgb: Vec<u8> = (0..w * h * 3)
        .map(|i| (((i / 3) % w * 255 / w) ^ ((i / 3 / w) * 7 % 64) ^ (i % 3 * 40)) as u8)
        .collect();
    let features = std::env::args().any(|a| a == "--features");
    let mut p = Pipeline::new(Params {
        threads: 1,
        features,
        ..Params::default()
    })
    .unwrap();
    for _ in 0..3 {
        p.process(RgbView::new(w, h, &rgb).unwrap()).unwrap();
    }
    println!("{:?}", p.layers().peaks);
}
