//! # layercam
//!
//! Reads text from camera frames of colourful posters and screens. Each frame is split into
//! gray-level *layers* so that text of any colour ends up alone in one layer; the
//! stroke-like components are kept, grouped into text lines, and (feature `ocr`) read
//! with Tesseract.
//!
//! The layering is the method of the OCR series *OCR技术浅探* (feature extraction by kernel
//! density clustering of gray levels), reproduced seed-exactly: the same layers and text
//! mask as the published Python code.
//!
//! Where to start:
//!
//! * [`Pipeline`] with [`Params`]: one frame ([`RgbView`]) in, [`Layers`] out; the text
//!   mask ([`Pipeline::features`]) and the text lines ([`Pipeline::lines`]) when asked for.
//!   It owns its buffers: keep one and call [`Pipeline::process`] frame after frame.
//! * [`read_image`]: a PNG or JPEG file as a [`Frame`].
//! * [`source`]: frame sources (image folders, y4m, raw camera recordings, webcams) behind
//!   [`source::FrameSource`]; [`runtime::Runtime`] runs one on a capture thread and a
//!   pipeline on a worker thread, as the program does.
//! * `ocr` (feature `ocr`): [`ocr::LineReader`] reads a line, [`ocr::LiveReader`] reads a
//!   stream's lines on a thread of its own.
//! * [`Error`]: every fallible call returns it; the library never prints.
//!
//! The stage kernels (`pipeline::{luma, zoom, levels, density, extrema, components}`) are
//! public for the benchmarks and tests, and hidden from these docs: they are not part of
//! the stable API.
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

#[doc(hidden)]
pub mod canvas;
#[doc(hidden)]
pub mod decode;
pub mod error;
pub use pipeline::features;
pub mod frame;
#[cfg(feature = "ocr")]
pub mod ocr;
pub mod output;
pub mod pipeline;
#[doc(hidden)]
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
