//! Typed errors of the library.

use std::path::PathBuf;

/// Everything that can go wrong inside the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A frame with no pixels (width or height 0).
    #[error("frame is empty ({width}x{height}): nothing to layer")]
    EmptyFrame {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
    },
    /// The pixel buffer does not match the stated size.
    #[error("frame buffer holds {actual} bytes, {width}x{height} RGB needs {expected}")]
    BufferSize {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
        /// Bytes needed.
        expected: usize,
        /// Bytes given.
        actual: usize,
    },
    /// A frame larger than the configured pixel limit.
    #[error("frame {width}x{height} has {pixels} pixels, more than the limit of {limit} (raise --max-pixels)")]
    TooLarge {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
        /// width × height.
        pixels: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A parameter outside its valid range.
    #[error("invalid parameter {name} = {value}: {expected}")]
    InvalidParam {
        /// Parameter name as the CLI spells it.
        name: &'static str,
        /// The rejected value, printed.
        value: String,
        /// The valid range, in words.
        expected: &'static str,
    },
    /// An image file that could not be read or decoded.
    #[error("cannot read image {path}: {source}")]
    Image {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        #[source]
        source: image::ImageError,
    },
    /// Any other I/O failure, with the path it concerns.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A malformed or unsupported YUV4MPEG2 stream.
    #[error("y4m: {0}")]
    Y4m(String),
    /// A failure of the camera backend.
    #[error("camera: {0}")]
    Camera(String),
    /// A stream thread that could not start, stop or finish.
    #[error("{0}")]
    Thread(String),
    /// The window could not be opened or updated.
    #[error("window: {0}")]
    Window(String),
    /// A record could not be serialised.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Result alias of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
