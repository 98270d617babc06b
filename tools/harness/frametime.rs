//! Minimum and median whole-pipeline time over 40 frames at 640x480, 1280x720, 1920x1080
//! (a quick A/B check on a noisy machine; criterion's `cargo bench` is the reference).
//! `--features` adds the text-feature stage; `--poster` uses the benches' frame
//! (fixtures/poster_02.png resized) instead of a synthetic pattern; `--threads N` sets the
//! pipeline's pool size; `--image PATH` times that image alone (the Python bindings' bench
//! gives both sides the same frame this way).
mod common;

use layercam::{Params, Pipeline, RgbView};
fn main() {
    let features = std::env::args().any(|a| a == "--features");
    let poster = std::env::args().any(|a| a == "--poster");
    // --threads N: the pipeline's pool size (default: all cores)
    let args: Vec<String> = std::env::args().collect();
    let threads = args
        .iter()
        .position(|a| a == "--threads")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let image = args
        .iter()
        .position(|a| a == "--image")
        .and_then(|i| args.get(i + 1))
        .map(|p| {
            layercam::read_image(std::path::Path::new(p), 0).expect("--image: a readable image")
        });
    let sizes = match &image {
        Some(f) => vec![(f.width, f.height)],
        None => vec![(640usize, 480usize), (1280, 720), (1920, 1080)],
    };
    for (w, h) in sizes {
        let rgb = if let Some(f) = &image {
            f.rgb.clone()
        } else if poster {
            common::poster_frame(w, h)
        } else {
            common::synthetic_frame(w, h)
        };
        let mut p = Pipeline::new(Params {
            features,
            threads,
            ..Params::default()
        })
        .unwrap();
        let mut t = Vec::new();
        let mut stages: Vec<[f64; 6]> = Vec::new();
        for _ in 0..40 {
            let s = std::time::Instant::now();
            p.process(RgbView::new(w, h, &rgb).unwrap()).unwrap();
            t.push(s.elapsed().as_secs_f64() * 1e3);
            let st = p.timings();
            stages.push([
                st.luma,
                st.zoom,
                st.levels,
                st.density,
                st.labels,
                st.features,
            ]);
        }
        t.sort_by(f64::total_cmp);
        let med = |k: usize| {
            let mut v: Vec<f64> = stages.iter().map(|s| s[k]).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        println!(
            "{w}x{h}: min {:.2} ms, median {:.2} ms (median stages: luma {:.2}, zoom {:.2}, levels {:.2}, density {:.2}, labels {:.2}, features {:.2})",
            t[0],
            t[t.len() / 2],
            med(0),
            med(1),
            med(2),
            med(3),
            med(4),
            med(5)
        );
    }
}
