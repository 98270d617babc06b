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

pub mod components;
pub mod density;
pub mod extrema;
pub mod features;
pub mod layers;
pub mod levels;
pub mod luma;
pub mod zoom;

use std::time::Instant;

use crate::error::{Error, Result};
use crate::frame::RgbView;

pub use extrema::Convention;
pub use layers::{LayerInfo, Layers};

/// Default pixel limit of a source frame (a 8K frame is 33 Mpx; upscaled ×2 it needs about
/// 1.5 GB of scratch, so the default stops well before that).
pub const DEFAULT_MAX_PIXELS: usize = 16_000_000;

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
    /// Whole pipeline.
    pub total: f64,
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// The long-lived layering pipeline.
#[derive(Debug, Default)]
pub struct Pipeline {
    params: Params,
    luma: Vec<f64>,
    zoomed: Vec<f32>,
    zoom: zoom::Zoom,
    bandwidth: density::BandwidthCache,
    layers: Layers,
    features: features::TextFeatures,
    timings: StageTimings,
}

impl Pipeline {
    /// A pipeline with validated parameters.
    pub fn new(params: Params) -> Result<Self> {
        params.validate()?;
        Ok(Self {
            params,
            ..Self::default()
        })
    }

    /// The parameters in force.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Changes the parameters (validated); the bandwidth cache is kept only if the factor is
    /// unchanged (the cache checks the factor itself).
    pub fn set_params(&mut self, params: Params) -> Result<()> {
        params.validate()?;
        self.params = params;
        Ok(())
    }

    /// Forgets the cached bandwidth (the next frame computes its own).
    pub fn reset_bandwidth(&mut self) {
        self.bandwidth.clear();
    }

    /// Result of the last processed frame.
    pub fn layers(&self) -> &Layers {
        &self.layers
    }

    /// Text features of the last processed frame (meaningful when `params.features`).
    pub fn features(&self) -> &features::TextFeatures {
        &self.features
    }

    /// Stage timings of the last processed frame.
    pub fn timings(&self) -> &StageTimings {
        &self.timings
    }

    /// Layers one frame. The result stays valid until the next call.
    pub fn process(&mut self, frame: RgbView<'_>) -> Result<&Layers> {
        let RgbView {
            width,
            height,
            data,
        } = RgbView::new(frame.width, frame.height, frame.data)?;
        let pixels = width * height;
        if pixels > self.params.max_pixels {
            return Err(Error::TooLarge {
                width,
                height,
                pixels,
                limit: self.params.max_pixels,
            });
        }
        let z = self.params.zoom;
        let (uw, uh) = zoom::Zoom::output_size(width, height, z);
        let n = uw * uh;
        let t0 = Instant::now();

        self.luma.resize(pixels, 0.0);
        luma::luma_rgb8(data, &mut self.luma);
        let t1 = Instant::now();

        self.zoomed.resize(n, 0.0);
        if z == 1 {
            for (o, &v) in self.zoomed.iter_mut().zip(&self.luma) {
                *o = v as f32;
            }
        } else {
            self.zoom
                .run(&mut self.luma, width, height, z, &mut self.zoomed);
        }
        let t2 = Instant::now();

        let l = &mut self.layers;
        l.width = width;
        l.height = height;
        l.upscaled_width = uw;
        l.upscaled_height = uh;
        levels::apply_power(&mut self.zoomed, self.params.power);
        let (lo, hi) = levels::min_max(&self.zoomed);
        l.levels.resize(n, 0);
        levels::quantise(&self.zoomed, lo, hi, &mut l.levels);
        levels::histogram(&l.levels, &mut l.histogram);
        let t3 = Instant::now();

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
        layers::layer_lut(&l.bounds, &mut l.lut);
        layers::layer_counts(&l.histogram, &l.bounds, &mut l.counts);
        l.labels.resize(n, 0);
        layers::label_map(&l.levels, &l.lut, &mut l.labels);
        let t5 = Instant::now();
        if self.params.features {
            self.features.run(&self.layers);
        }
        let t6 = Instant::now();

        self.timings = StageTimings {
            luma: (t1 - t0).as_secs_f64() * 1e3,
            zoom: (t2 - t1).as_secs_f64() * 1e3,
            levels: (t3 - t2).as_secs_f64() * 1e3,
            density: (t4 - t3).as_secs_f64() * 1e3,
            labels: (t5 - t4).as_secs_f64() * 1e3,
            features: (t6 - t5).as_secs_f64() * 1e3,
            total: ms_since(t0),
        };
        Ok(&self.layers)
    }
}
