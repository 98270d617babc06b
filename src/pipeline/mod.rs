//! The layering pipeline: one RGB frame in, gray-level layers out.
//!
//! ```text
//! RGB8 ─▶ luma (601, f32) ─▶ ×2 cubic B-spline zoom ─▶ power, normalise, histogram
//!      ─▶ σ, h, density ─▶ extrema, bounds, peaks ─▶ label map
//! ```
//!
//! A [`Pipeline`] is long-lived: it owns every scratch buffer and the bandwidth cache, and
//! resizes buffers only when the frame size changes, so the per-frame path does not allocate
//! in steady state.

#[doc(hidden)]
pub mod components;
#[doc(hidden)]
pub mod density;
#[doc(hidden)]
pub mod extrema;
pub mod features;
pub mod layers;
#[doc(hidden)]
pub mod levels;
pub mod lines;
#[doc(hidden)]
pub mod luma;
pub mod stable;
pub mod textlines;
#[doc(hidden)]
pub mod zoom;

use std::time::Instant;

use crate::error::{Error, Result};
use crate::frame::RgbView;
use crate::simd::{CpuExtensions, Isa};

pub use crate::simd::{align_slack, cache_aligned, CACHE_LINE};
pub use extrema::Convention;
pub use layers::{LayerInfo, Layers};

/// Default pixel limit of a source frame (a 8K frame is 33 Mpx; upscaled ×2 it needs about
/// 1.5 GB of scratch, so the default stops well before that).
pub const DEFAULT_MAX_PIXELS: usize = 16_000_000;

/// [`Error::TooLarge`] when a `width` × `height` frame has more than `limit` pixels: the
/// pipeline's own check, also made by sources that can refuse a stream before reading it.
pub fn check_pixels(width: usize, height: usize, limit: usize) -> Result<()> {
    let pixels = width.saturating_mul(height);
    if pixels > limit {
        return Err(Error::TooLarge {
            width,
            height,
            pixels,
            limit,
        });
    }
    Ok(())
}

/// Parameters of the method, with the seed's defaults.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Params {
    /// Bandwidth factor: `h = factor · σ` (seed: 0.2).
    pub factor: f64,
    /// Integer upscale factor (seed: 2; 1 = no upscale).
    pub zoom: usize,
    /// Power transform exponent (seed: 2).
    pub power: u32,
    /// How extrema are reported (seed: `Seed`).
    pub convention: Convention,
    /// Relative σ drift within which the bandwidth is reused (0 = recompute every frame).
    pub bandwidth_tolerance: f64,
    /// Largest source frame accepted, in pixels.
    pub max_pixels: usize,
    /// Run the text-feature stage (feature extraction (2)) after layering.
    pub features: bool,
    /// Threads of the pipeline's pool (0 = one per core).
    pub threads: usize,
    /// Stable layers on video ([`stable`]): layers from the recent frames of the scene, not
    /// from each frame alone (off: seed-exact per frame).
    pub stable: bool,
    /// Text lines after the text features ([`lines`]; the features run when it is on).
    pub lines: lines::LinesMode,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            factor: 0.2,
            zoom: 2,
            power: 2,
            convention: Convention::Seed,
            bandwidth_tolerance: 0.0,
            max_pixels: DEFAULT_MAX_PIXELS,
            features: false,
            threads: 0,
            stable: false,
            lines: lines::LinesMode::Off,
        }
    }
}

/// Valid range of the bandwidth factor.
pub const FACTOR_RANGE: (f64, f64) = (1e-3, 10.0);
/// Valid range of the zoom.
pub const ZOOM_RANGE: (usize, usize) = (1, 4);
/// Valid range of the power.
pub const POWER_RANGE: (u32, u32) = (1, 4);

impl Params {
    /// Checks every parameter, naming the first one out of range.
    pub fn validate(&self) -> Result<()> {
        let bad = |name, value: String, expected| {
            Err(Error::InvalidParam {
                name,
                value,
                expected,
            })
        };
        if !(self.factor.is_finite()
            && self.factor >= FACTOR_RANGE.0
            && self.factor <= FACTOR_RANGE.1)
        {
            return bad(
                "factor",
                self.factor.to_string(),
                "a number from 0.001 to 10",
            );
        }
        if !(ZOOM_RANGE.0..=ZOOM_RANGE.1).contains(&self.zoom) {
            return bad("zoom", self.zoom.to_string(), "an integer from 1 to 4");
        }
        if !(POWER_RANGE.0..=POWER_RANGE.1).contains(&self.power) {
            return bad("power", self.power.to_string(), "an integer from 1 to 4");
        }
        if !(self.bandwidth_tolerance.is_finite()
            && (0.0..=1.0).contains(&self.bandwidth_tolerance))
        {
            return bad(
                "bandwidth-tolerance",
                self.bandwidth_tolerance.to_string(),
                "a number from 0 to 1",
            );
        }
        if self.max_pixels == 0 {
            return bad("max-pixels", "0".into(), "a positive number of pixels");
        }
        Ok(())
    }
}

/// Wall-clock time of each stage for the last frame, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct StageTimings {
    /// Luma.
    pub luma: f64,
    /// Cubic B-spline zoom (prefilter and interpolation).
    pub zoom: f64,
    /// Power, normalisation and histogram.
    pub levels: f64,
    /// σ, bandwidth and density.
    pub density: f64,
    /// Extrema, bounds and the label map.
    pub labels: f64,
    /// Text features (0 when the stage is off).
    pub features: f64,
    /// Text lines (0 when the stage is off).
    pub lines: f64,
    /// Whole pipeline.
    pub total: f64,
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// The pipeline's thread pool, joined when dropped: rayon only signals its threads to
/// end, so their exits are counted and awaited (for at most a second).
#[derive(Debug)]
struct Pool {
    pool: std::mem::ManuallyDrop<std::sync::Arc<rayon::ThreadPool>>,
    alive: std::sync::Arc<(std::sync::Mutex<usize>, std::sync::Condvar)>,
}

impl Pool {
    fn new(threads: usize) -> Result<Self> {
        let alive =
            std::sync::Arc::new((std::sync::Mutex::new(threads), std::sync::Condvar::new()));
        let on_exit = alive.clone();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("layercam-pipeline-{i}"))
            .exit_handler(move |_| {
                let (count, cv) = &*on_exit;
                if let Ok(mut n) = count.lock() {
                    *n = n.saturating_sub(1);
                }
                cv.notify_all();
            })
            .build()
            .map_err(|e| Error::InvalidParam {
                name: "threads",
                value: format!("{threads} ({e})"),
                expected: "a number of threads the system can start",
            })?;
        Ok(Self {
            pool: std::mem::ManuallyDrop::new(std::sync::Arc::new(pool)),
            alive,
        })
    }

    fn get(&self) -> std::sync::Arc<rayon::ThreadPool> {
        std::sync::Arc::clone(&self.pool)
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // SAFETY: taken once, here; the field is not used after.
        let pool = unsafe { std::mem::ManuallyDrop::take(&mut self.pool) };
        let inside = pool.current_thread_index().is_some();
        drop(pool);
        if inside {
            return; // a pool thread cannot wait for itself
        }
        let (count, cv) = &*self.alive;
        let deadline = Instant::now() + std::time::Duration::from_secs(1);
        let Ok(mut n) = count.lock() else { return };
        while *n > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            match cv.wait_timeout(n, left) {
                Ok((g, _)) => n = g,
                Err(_) => return,
            }
        }
    }
}

/// The long-lived layering pipeline.
#[derive(Debug)]
pub struct Pipeline {
    params: Params,
    pool: Pool,
    luma: Vec<f64>,
    zoomed: Vec<f32>,
    zoom: zoom::Zoom,
    bandwidth: density::BandwidthCache,
    layers: Layers,
    features: features::TextFeatures,
    stable: stable::StableLayers,
    lines: lines::SeedLines,
    grouping: textlines::TextLines,
    text_lines: Vec<lines::TextLine>,
    timings: StageTimings,
    isa: Isa,
}

impl Pipeline {
    /// A pipeline with validated parameters and its own pool of `params.threads` threads
    /// (0: one per core).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParam`] for a parameter out of its range; [`Error::Thread`] when the
    /// pool cannot start.
    ///
    /// # Examples
    ///
    /// ```
    /// use layercam::{Params, Pipeline};
    ///
    /// let pipeline = Pipeline::new(Params { features: true, ..Params::default() })?;
    /// assert!(pipeline.params().features);
    /// assert!(Pipeline::new(Params { zoom: 9, ..Params::default() }).is_err());
    /// # Ok::<(), layercam::Error>(())
    /// ```
    pub fn new(params: Params) -> Result<Self> {
        params.validate()?;
        let threads = match params.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        Ok(Self {
            params,
            pool: Pool::new(threads)?,
            luma: Vec::new(),
            zoomed: Vec::new(),
            zoom: zoom::Zoom::default(),
            bandwidth: density::BandwidthCache::default(),
            layers: Layers::default(),
            features: features::TextFeatures::default(),
            stable: stable::StableLayers::default(),
            lines: lines::SeedLines::default(),
            grouping: textlines::TextLines::default(),
            text_lines: Vec::new(),
            timings: StageTimings::default(),
            isa: Isa::detect(),
        })
    }

    /// Runs the stages' kernels in the forms of `ext` from now on (by default the widest
    /// set this CPU has). Every set gives the same results; this is for comparing them.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] when this CPU lacks `ext`.
    ///
    /// # Examples
    ///
    /// ```
    /// use layercam::{CpuExtensions, Params, Pipeline};
    ///
    /// let mut pipeline = Pipeline::new(Params::default())?;
    /// pipeline.set_cpu_extensions(CpuExtensions::None)?;
    /// assert_eq!(pipeline.cpu_extensions(), CpuExtensions::None);
    /// # Ok::<(), layercam::Error>(())
    /// ```
    pub fn set_cpu_extensions(&mut self, ext: CpuExtensions) -> Result<()> {
        self.isa = Isa::new(ext).ok_or(Error::Unsupported(format!(
            "this CPU lacks the {ext} instructions"
        )))?;
        Ok(())
    }

    /// The instruction set the stages' kernels run with.
    pub fn cpu_extensions(&self) -> CpuExtensions {
        self.isa.extensions()
    }

    /// Runs `f` on one of the pipeline's pool threads. Every [`process`](Self::process)
    /// call inside it then hands work to the pool without a round trip through the pool's
    /// injector (which allocates now and then): the streaming worker runs its whole loop
    /// this way.
    pub fn in_pool<R: Send>(&mut self, f: impl FnOnce(&mut Self) -> R + Send) -> R {
        let pool = self.pool.get();
        pool.install(|| f(self))
    }

    /// The parameters in force.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Changes the parameters (validated); the bandwidth cache is kept only if the factor is
    /// unchanged (the cache checks the factor itself). The thread count stays as built.
    pub fn set_params(&mut self, params: Params) -> Result<()> {
        params.validate()?;
        if params.stable && !self.params.stable {
            // switched on: the first frame starts a scene of its own
            self.stable.reset();
        }
        self.params = Params {
            threads: self.params.threads,
            ..params
        };
        Ok(())
    }

    /// Forgets the cached bandwidth (the next frame computes its own).
    pub fn reset_bandwidth(&mut self) {
        self.bandwidth.clear();
        self.stable.reset();
    }

    /// Result of the last processed frame.
    pub fn layers(&self) -> &Layers {
        &self.layers
    }

    /// Text features of the last processed frame (meaningful when `params.features`).
    pub fn features(&self) -> &features::TextFeatures {
        &self.features
    }

    /// Text lines of the last frame, in raster order of the boxes (empty unless
    /// [`Params::lines`] is on): boxes in source pixels with the layer of their text.
    pub fn lines(&self) -> &[lines::TextLine] {
        &self.text_lines
    }

    /// Exchanges the last frame's layers with `spare`, without copying: `spare` receives
    /// the result, and the pipeline keeps `spare`'s old buffers for the next frame, which
    /// resizes and overwrites every field (so a recycled result of any size will do). Until
    /// then [`layers`](Self::layers) returns the old contents of `spare`. This is how the
    /// streaming worker hands a frame on: a 1080p frame's label map and levels are 16.6
    /// MB, a copy of which would cost milliseconds a frame.
    pub fn swap_layers(&mut self, spare: &mut Layers) {
        std::mem::swap(&mut self.layers, spare);
    }

    /// Exchanges the last frame's text-feature mask with `spare`, without copying (see
    /// [`swap_layers`](Self::swap_layers) and [`features::TextFeatures::swap_mask`]).
    pub fn swap_text_mask(&mut self, spare: &mut Vec<u8>) {
        self.features.swap_mask(spare);
    }

    /// Stage timings of the last processed frame.
    pub fn timings(&self) -> &StageTimings {
        &self.timings
    }

    /// Layers one frame. The result stays valid until the next call; the text mask and
    /// lines of the frame are then in [`features`](Self::features) and
    /// [`lines`](Self::lines).
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] for a frame over `params.max_pixels`; [`Error::OutOfMemory`]
    /// when the frame's buffers cannot be allocated. A failed frame leaves the pipeline
    /// usable.
    ///
    /// # Examples
    ///
    /// ```
    /// use layercam::{Params, Pipeline, RgbView};
    ///
    /// let mut pipeline = Pipeline::new(Params::default())?;
    /// // a frame of two flat halves: two gray levels, two layers
    /// let (w, h) = (8, 4);
    /// let rgb: Vec<u8> = (0..w * h).flat_map(|i| if i % w < 4 { [20; 3] } else { [220; 3] }).collect();
    /// let layers = pipeline.process(RgbView::new(w, h, &rgb)?)?;
    /// assert_eq!((layers.upscaled_width, layers.upscaled_height), (2 * w, 2 * h));
    /// assert!(layers.len() >= 2);
    /// # Ok::<(), layercam::Error>(())
    /// ```
    pub fn process(&mut self, frame: RgbView<'_>) -> Result<&Layers> {
        let RgbView {
            width,
            height,
            data,
        } = RgbView::new(frame.width, frame.height, frame.data)?;
        check_pixels(width, height, self.params.max_pixels)?;
        let (uw, uh) = zoom::Zoom::output_size(width, height, self.params.zoom);
        self.reserve_for(width, height, uw * uh)?;
        let pool = self.pool.get();
        pool.install(|| self.process_in_pool(data, width, height, uw, uh))?;
        Ok(&self.layers)
    }

    /// Grows the frame-sized buffers for a frame of `width × height` (`upscaled` pixels
    /// after the zoom) with fallible reservations: a frame too large for the memory there
    /// is becomes [`Error::OutOfMemory`] for that frame instead of an abort. Nothing
    /// happens when the buffers are large enough already (every frame of a stream but the
    /// first).
    fn reserve_for(&mut self, width: usize, height: usize, upscaled: usize) -> Result<()> {
        fn grow<T>(v: &mut Vec<T>, len: usize, width: usize, height: usize) -> Result<()> {
            if v.capacity() >= len {
                return Ok(());
            }
            v.try_reserve_exact(len - v.len())
                .map_err(|_| Error::OutOfMemory {
                    width,
                    height,
                    bytes: len.saturating_mul(std::mem::size_of::<T>()),
                })
        }
        let pixels = width * height;
        grow(
            &mut self.luma,
            pixels + crate::simd::align_slack::<f64>(),
            width,
            height,
        )?;
        grow(
            &mut self.zoomed,
            upscaled + crate::simd::align_slack::<f32>(),
            width,
            height,
        )?;
        grow(&mut self.layers.levels, upscaled, width, height)?;
        grow(&mut self.layers.labels, upscaled, width, height)
    }

    fn process_in_pool(
        &mut self,
        data: &[u8],
        width: usize,
        height: usize,
        uw: usize,
        uh: usize,
    ) -> Result<()> {
        use rayon::prelude::*;
        let pixels = width * height;
        let n = uw * uh;
        let isa = self.isa;
        let z = self.params.zoom;
        let power = self.params.power;
        let t0 = Instant::now();

        // both planes start on a cache line (see `crate::simd::cache_aligned`)
        self.luma
            .resize(pixels + crate::simd::align_slack::<f64>(), 0.0);
        let luma = crate::simd::cache_aligned(&mut self.luma, pixels);
        luma.par_chunks_mut(width)
            .zip(data.par_chunks(width * 3))
            .with_min_len(16)
            .for_each(|(y, rgb)| luma::luma_rgb8(isa, rgb, y));
        let t1 = Instant::now();

        // zoom, with the power transform and min/max fused into its last pass
        self.zoomed
            .resize(n + crate::simd::align_slack::<f32>(), 0.0);
        let zoomed = crate::simd::cache_aligned(&mut self.zoomed, n);
        let (lo, hi) = if z == 1 {
            zoomed
                .par_chunks_mut(width)
                .zip(luma.par_chunks(width))
                .with_min_len(16)
                .map(|(o, y)| {
                    for (o, &v) in o.iter_mut().zip(y) {
                        *o = v as f32;
                    }
                    levels::apply_power(o, power);
                    levels::min_max(isa, o)
                })
                .reduce(
                    || (f32::INFINITY, f32::NEG_INFINITY),
                    |a, b| (a.0.min(b.0), a.1.max(b.1)),
                )
        } else {
            self.zoom
                .run_with(isa, luma, width, height, z, zoomed, power)
        };
        let t2 = Instant::now();

        let l = &mut self.layers;
        l.width = width;
        l.height = height;
        l.upscaled_width = uw;
        l.upscaled_height = uh;
        l.levels.resize(n, 0);
        levels::quantise_histogram(isa, zoomed, lo, hi, &mut l.levels, &mut l.histogram);
        let t3 = Instant::now();

        if self.params.stable {
            let (sigma, h, state) = self.stable.step(
                &l.histogram,
                self.params.factor,
                self.params.convention,
                &mut l.density,
                &mut l.minima,
            );
            l.sigma = sigma;
            l.bandwidth = h;
            l.bandwidth_reused = false;
            l.stability = Some(state);
            let t4 = Instant::now();
            l.maxima.clear();
            extrema::bounds_and_peaks(&l.density, &l.minima, &[], &mut l.bounds, &mut l.peaks);
            l.maxima.extend_from_slice(&l.peaks);
            return self.finish_frame(n, [t0, t1, t2, t3, t4]);
        }
        l.stability = None;
        l.sigma = density::sigma_from_histogram(&l.histogram);
        let (h, reused) = self.bandwidth.bandwidth(
            l.sigma,
            self.params.factor,
            self.params.bandwidth_tolerance,
            (uw, uh),
        );
        l.bandwidth = h;
        l.bandwidth_reused = reused;
        density::density(&l.histogram, self.bandwidth.weights(), &mut l.density);
        let t4 = Instant::now();

        extrema::find_extrema(
            &l.density,
            self.params.convention,
            &mut l.minima,
            &mut l.maxima,
        );
        extrema::bounds_and_peaks(
            &l.density,
            &l.minima,
            &l.maxima,
            &mut l.bounds,
            &mut l.peaks,
        );
        self.finish_frame(n, [t0, t1, t2, t3, t4])
    }

    /// Labels, counts and features from the bounds; the stage timings.
    fn finish_frame(&mut self, n: usize, [t0, t1, t2, t3, t4]: [Instant; 5]) -> Result<()> {
        let l = &mut self.layers;
        levels::layer_lut(&l.bounds, &mut l.lut);
        layers::layer_counts(&l.histogram, &l.bounds, &mut l.counts);
        l.labels.resize(n, 0);
        levels::map_levels(self.isa, &l.levels, &l.lut, &mut l.labels);
        let t5 = Instant::now();
        if self.params.features || self.params.lines != lines::LinesMode::Off {
            self.features.run(&self.layers, self.isa);
        }
        let t6 = Instant::now();
        self.text_lines.clear();
        if self.params.lines == lines::LinesMode::Text {
            let (w, h) = self.features.size();
            self.grouping.run(
                self.features.layer_components(),
                self.features.layer_eroded(),
                w,
                h,
                self.params.zoom,
                &mut self.text_lines,
            );
        } else if self.params.lines == lines::LinesMode::Seed {
            let (w, h) = self.features.size();
            self.lines.run(self.features.mask(), w, h);
            let labels = &self.layers.labels;
            let mask = self.features.mask();
            for b in self.lines.lines() {
                // the layer most of the line's feature pixels are in
                let mut count = [0u32; 256];
                for r in b.y..b.y + b.h {
                    let row = r as usize * w;
                    for i in row + b.x as usize..row + (b.x + b.w) as usize {
                        if mask[i] != 0 {
                            count[labels[i] as usize] += 1;
                        }
                    }
                }
                let layer = (0..256).rev().max_by_key(|&k| count[k]).unwrap_or(0) as u8;
                let s = b.to_source(self.params.zoom);
                self.text_lines.push(lines::TextLine {
                    x: s.x,
                    y: s.y,
                    w: s.w,
                    h: s.h,
                    layer,
                });
            }
        }
        let t7 = Instant::now();

        self.timings = StageTimings {
            luma: (t1 - t0).as_secs_f64() * 1e3,
            zoom: (t2 - t1).as_secs_f64() * 1e3,
            levels: (t3 - t2).as_secs_f64() * 1e3,
            density: (t4 - t3).as_secs_f64() * 1e3,
            labels: (t5 - t4).as_secs_f64() * 1e3,
            features: (t6 - t5).as_secs_f64() * 1e3,
            lines: (t7 - t6).as_secs_f64() * 1e3,
            total: ms_since(t0),
        };
        Ok(())
    }
}
