//! One 1280x720 frame through a one-thread pipeline, three times (for instruction counts:
//! `valgrind --tool=callgrind target/release/examples/oneframe [--features] [--poster]`).
use layercam::{Params, Pipeline, RgbView};
fn main() {
    let (w, h) = (1280usize, 720usize);
    let poster = std::env::args().any(|a| a == "--poster");
    let synthetic: Vec<u8> = (0..w * h * 3)
        .map(|i| (((i / 3) % w * 255 / w) ^ ((i / 3 / w) * 7 % 64) ^ (i % 3 * 40)) as u8)
        .collect();
    // --poster: fixtures/poster_02.png resized, as the benches use
    let rgb = if poster {
        let img = image::open(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/poster_02.png"
        ))
        .unwrap()
        .to_rgb8();
        image::imageops::resize(
            &img,
            w as u32,
            h as u32,
            image::imageops::FilterType::Triangle,
        )
        .into_raw()
    } else {
        synthetic
    };
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
