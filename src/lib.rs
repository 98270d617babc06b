//! # layercam
//!
//! Splits camera frames into gray-level *layers* so that text of any colour ends up alone in
//! one layer: the first stage of an OCR system for colourful posters and screens.
//!
//! The method is the one of the OCR series *OCR技术浅探* (feature extraction by kernel density
//! clustering of gray levels), reproduced seed-exactly: same layers as the published Python
//! code. See [`pipeline`] for the stages and [`Pipeline`] for the entry point.
//!
//! ```
//! use layercam::{Params, Pipeline, RgbView};
//! let (w, h) = (4, 3);
//! let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 20 % 256) as u8).collect();
//! let mut pipeline = Pipeline::new(Params::default()).unwrap();
//! let layers = pipeline.process(RgbView::new(w, h, &rgb).unwrap()).unwrap();
//! assert_eq!(layers.labels.len(), 2 * w * 2 * h);
//! assert_eq!(layers.counts.iter().sum::<u64>(), (4 * w * h) as u64);
//! ```
#![warn(missing_docs)]

pub mod canvas;
pub mod decode;
pub mod error;
pub use pipeline::features;
pub mod frame;
#[cfg(feature = "ocr")]
pub mod ocr;
pub mod output;
pub mod pipeline;
pub mod plot;
pub mod runtime;
pub mod simd;
pub mod sink;
pub mod source;
pub mod view;

pub use error::{Error, Result};
pub use frame::{read_image, read_image_limited, Frame, RgbView};
pub use pipeline::features::{FeatureCounts, TextFeatures};
pub use pipeline::{Convention, LayerInfo, Layers, Params, Pipeline, StageTimings};
pub use simd::{CpuExtensions, Isa};
