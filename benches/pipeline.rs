//! Criterion benchmarks: the whole pipeline (RGB frame in → label map and layer statistics
//! out, seed-exact) at 640×480, 1280×720 and 1920×1080, each stage on its own, the text
//! features, and the capture thread's work per frame (`capture/…`: a y4m frame's 4:2:0 →
//! RGB8 conversion, a camera's MJPEG frame decoded). Frames come from `fixtures/poster_02.png` (a still of ../shared/data) resized
//! to each size.
//!
//!     cargo bench --bench pipeline
//!     cargo bench --bench pipeline -- 'whole/1280x720'
// criterion_group! makes an undocumented public function
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use layercam::pipeline::{density, extrema, levels, luma, zoom};

// stage benches run on rayon's global pool (one thread per core), as the pipeline's own
use layercam::{Params, Pipeline, RgbView};

const SIZES: [(usize, usize); 3] = [(640, 480), (1280, 720), (1920, 1080)];

#[path = "../tools/harness/common/mod.rs"]
mod common;

fn whole(c: &mut Criterion) {
    let mut g = c.benchmark_group("whole");
    g.sample_size(30);
    for (w, h) in SIZES {
        let rgb = common::poster_frame(w, h);
        let mut p = Pipeline::new(Params::default()).unwrap();
        g.throughput(Throughput::Elements((w * h) as u64));
        g.bench_function(BenchmarkId::from_parameter(format!("{w}x{h}")), |b| {
            b.iter(|| {
                let l = p.process(RgbView::new(w, h, &rgb).unwrap()).unwrap();
                std::hint::black_box(l.counts.len())
            })
        });
    }
    g.finish();
}

/// Per-frame (seed-exact) and stable mode on the same 1280×720 frame, side by side in one
/// group, for the cost of stable mode.
fn stable(c: &mut Criterion) {
    let mut g = c.benchmark_group("stable");
    g.sample_size(30);
    let (w, h) = (1280, 720);
    let rgb = common::poster_frame(w, h);
    for stable in [false, true] {
        let mut p = Pipeline::new(Params {
            stable,
            ..Params::default()
        })
        .unwrap();
        let id = if stable { "stable" } else { "per-frame" };
        g.bench_function(BenchmarkId::new(id, format!("{w}x{h}")), |b| {
            b.iter(|| {
                let l = p.process(RgbView::new(w, h, &rgb).unwrap()).unwrap();
                std::hint::black_box(l.counts.len())
            })
        });
    }
    g.finish();
}

/// Layers and features, then text lines on top, on the same 1280×720 frame: the cost of the
/// lines stage (`lines/1280x720`: the default grouping; `lines/features+seed/…`: the seed's
/// localisation; `lines/features/…`: neither).
fn lines(c: &mut Criterion) {
    use layercam::pipeline::lines::LinesMode;
    let mut g = c.benchmark_group("lines");
    g.sample_size(20);
    let (w, h) = (1280, 720);
    let rgb = common::poster_frame(w, h);
    for (id, lines) in [
        ("features", LinesMode::Off),
        ("features+seed", LinesMode::Seed),
        ("", LinesMode::Text),
    ] {
        let mut p = Pipeline::new(Params {
            features: true,
            lines,
            ..Params::default()
        })
        .unwrap();
        let name = if id.is_empty() {
            format!("{w}x{h}")
        } else {
            format!("{id}/{w}x{h}")
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                p.process(RgbView::new(w, h, &rgb).unwrap()).unwrap();
                std::hint::black_box(p.lines().len())
            })
        });
    }
    g.finish();
}

fn with_features(c: &mut Criterion) {
    let mut g = c.benchmark_group("layers+features");
    g.sample_size(20);
    for (w, h) in SIZES {
        let rgb = common::poster_frame(w, h);
        let mut p = Pipeline::new(Params {
            features: true,
            ..Params::default()
        })
        .unwrap();
        g.bench_function(BenchmarkId::from_parameter(format!("{w}x{h}")), |b| {
            b.iter(|| {
                p.process(RgbView::new(w, h, &rgb).unwrap()).unwrap();
                std::hint::black_box(p.features().counts().pixels)
            })
        });
    }
    g.finish();
}

fn stages(c: &mut Criterion) {
    use layercam::pipeline::{align_slack, cache_aligned};
    use rayon::prelude::*;
    let mut g = c.benchmark_group("stage");
    g.sample_size(20);
    // the kernels' widest forms, as the pipeline runs them
    let isa = layercam::Isa::detect();
    for (w, h) in SIZES {
        let rgb = common::poster_frame(w, h);
        let id = format!("{w}x{h}");
        // buffers as the pipeline keeps them: starting on a cache line, and the luma
        // split over the rows like the pipeline's
        let mut y_buf = vec![0.0f64; w * h + align_slack::<f64>()];
        let y = cache_aligned(&mut y_buf, w * h);
        g.bench_function(BenchmarkId::new("luma", &id), |b| {
            b.iter(|| {
                y.par_chunks_mut(w)
                    .zip(rgb.par_chunks(w * 3))
                    .with_min_len(16)
                    .for_each(|(y, rgb)| luma::luma_rgb8(isa, rgb, y))
            })
        });
        let y: &[f64] = y;
        let mut coeff_buf = vec![0.0f64; w * h + align_slack::<f64>()];
        let coeff = cache_aligned(&mut coeff_buf, w * h);
        let mut out_buf = vec![0f32; 4 * w * h + align_slack::<f32>()];
        let out = cache_aligned(&mut out_buf, 4 * w * h);
        let mut z = zoom::Zoom::new();
        // the zoom consumes its input plane: it is copied back (on both cores) before each
        // run, outside the timing; power 2 and min/max fused, as in the pipeline
        let mut range = (0.0, 0.0);
        g.bench_function(BenchmarkId::new("zoom", &id), |b| {
            b.iter_custom(|iters| {
                let mut spent = std::time::Duration::ZERO;
                for _ in 0..iters {
                    coeff
                        .par_chunks_mut(w)
                        .zip(y.par_chunks(w))
                        .with_min_len(16)
                        .for_each(|(c, y)| c.copy_from_slice(y));
                    let t = std::time::Instant::now();
                    range = z.run_with(isa, coeff, w, h, 2, out, 2);
                    spent += t.elapsed();
                }
                spent
            })
        });
        // the pipeline squares and takes min/max inside the zoom's last pass; this stage is
        // the second pass: normalise to levels and count them
        let squared: &[f32] = out;
        let (lo, hi) = range;
        let mut lv = vec![0u8; 4 * w * h];
        let mut hist = [0u64; 256];
        g.bench_function(BenchmarkId::new("normalise+histogram", &id), |b| {
            b.iter(|| levels::quantise_histogram(isa, squared, lo, hi, &mut lv, &mut hist))
        });
        let mut wts = [0.0; 256];
        let mut d = [0.0; 256];
        g.bench_function(BenchmarkId::new("density", &id), |b| {
            b.iter(|| {
                let s = density::sigma_from_histogram(&hist);
                density::gaussian_weights(0.2 * s, &mut wts);
                density::density(&hist, &wts, &mut d);
            })
        });
        let (mut mi, mut ma, mut bo, mut pe) = (vec![], vec![], vec![], vec![]);
        let mut lut = [0u8; 256];
        let mut labels = vec![0u8; 4 * w * h];
        g.bench_function(BenchmarkId::new("labelling", &id), |b| {
            b.iter(|| {
                extrema::find_extrema(&d, extrema::Convention::Seed, &mut mi, &mut ma);
                extrema::bounds_and_peaks(&d, &mi, &ma, &mut bo, &mut pe);
                levels::layer_lut(&bo, &mut lut);
                levels::map_levels(isa, &lv, &lut, &mut labels);
            })
        });
    }
    g.finish();
}

/// The capture thread's work a frame, on one thread, into a recycled buffer as the sources
/// do: a y4m replay's 4:2:0 frame converted to RGB8, and a live MJPEG camera's frame (the
/// benchmark frame as a quality-85 JPEG) decoded by libjpeg-turbo.
fn capture(c: &mut Criterion) {
    use layercam::source::y4m::{yuv_to_rgb, Header};
    let mut g = c.benchmark_group("capture");
    for (w, h) in SIZES {
        let id = format!("{w}x{h}");
        g.throughput(Throughput::Elements((w * h) as u64));
        let header = Header::parse(&format!("YUV4MPEG2 W{w} H{h} C420jpeg")).unwrap();
        let planes: Vec<u8> = (0..header.frame_bytes())
            .map(|i| (i * 7919 % 256) as u8)
            .collect();
        let mut rgb = Vec::new();
        g.bench_function(BenchmarkId::new("yuv420_to_rgb", &id), |b| {
            b.iter(|| {
                yuv_to_rgb(&header, &planes, &mut rgb);
                std::hint::black_box(rgb[0])
            })
        });
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
            .encode(
                &common::poster_frame(w, h),
                w as u32,
                h as u32,
                image::ExtendedColorType::Rgb8,
            )
            .unwrap();
        g.bench_function(BenchmarkId::new("mjpeg_to_rgb", &id), |b| {
            b.iter(|| {
                let size = layercam::decode::decode_jpeg_into(&jpeg, &mut rgb).unwrap();
                std::hint::black_box(size)
            })
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    whole,
    with_features,
    stable,
    lines,
    stages,
    capture
);
criterion_main!(benches);
